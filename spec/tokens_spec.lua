-- spec/tokens_spec.lua: the Kraken token lifecycle (octopus.graphql.auth) against the sandbox,
-- with token lifetimes shortened to seconds (--access-ttl 4 --refresh-ttl 7).
--
-- Token mutations are counted by the sandbox (GET /_sandbox/stats, operation
-- "ObtainKrakenToken"). Time is a fake clock on the client (octopus.clock.fake) moved
-- together with the sandbox's (POST /_sandbox/clock): nothing sleeps.
local helper = require "helper"
local octopus = require "octopus"
local auth = require "octopus.graphql.auth"

local ACCESS_TTL, REFRESH_TTL = 4, 7


-- (own_app: a spec's own app, which has no control routes)
local function client_for(srv, opts, own_app)
  local o = { rest_url = srv.http .. "/v1/", graphql_url = srv.http .. "/v1/graphql/", retries = 0,
              clock = octopus.clock.fake() }
  for k, v in pairs(opts or {}) do o[k] = v end
  local c = octopus.new(o)
  -- the sandbox's clock held at the client's from the start
  if not own_app then helper.advance_to(srv, c, c.clock.wall()) end
  return c
end

describe("Kraken tokens", function()
  local srv, creds
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false,
      args = { "--access-ttl", tostring(ACCESS_TTL), "--refresh-ttl", tostring(REFRESH_TTL) } }
    creds = srv.credentials
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  it("keeps a session working across several access tokens and a refresh token", function()
    local c = client_for(srv, { api_key = creds.api_key })
    local function tokens() return srv:count("operations", "ObtainKrakenToken") end
    assert.equal(creds.email, assert(c:viewer()).email)        -- lazy login
    assert.equal(1, tokens())
    assert(c:viewer())                                          -- still fresh: no mutation
    assert.equal(1, tokens())
    local first = c:token_state()
    assert.equal(first.exp - ACCESS_TTL + REFRESH_TTL, first.refresh_expires_at)
    -- two refreshes: each stale token costs exactly one mutation, same refresh token
    for n = 2, 3 do
      local st = c:token_state()
      helper.advance_to(srv, c, st.exp - ACCESS_TTL / 2)
      assert(c:viewer())
      assert.equal(n, tokens())
      assert.equal(first.refresh_token, c:token_state().refresh_token)
      assert.is_not.equal(st.token, c:token_state().token)
    end
    -- the refresh token's own expiry has passed: one new login, a new refresh token
    helper.advance_to(srv, c, first.refresh_expires_at)
    local st = c:token_state()
    helper.advance_to(srv, c, st.exp - ACCESS_TTL / 2)
    assert(c:viewer())
    assert.equal(4, tokens())
    assert.is_not.equal(first.refresh_token, c:token_state().refresh_token)
    assert.equal(2, auth.state(c).logins)
    assert.equal(2, auth.state(c).refreshes)
    assert.equal(5, srv:count("operations", "Viewer"))
  end)

  it("keeps its list of secrets bounded however many tokens it renews", function()
    local private = require "octopus.pipeline.private"
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:viewer())
    local base = #private.of(c).secrets
    local seen = {}
    for _ = 1, 12 do
      local st = c:token_state()
      seen[#seen + 1] = st.token
      helper.advance_to(srv, c, st.exp - ACCESS_TTL / 2)
      assert(c:viewer())
    end
    assert.is_true(#private.of(c).secrets <= base + 2, "secrets grew to " .. #private.of(c).secrets)
    -- the current and the previous token are still scrubbed
    local e = require("octopus.pipeline.errors").scrub({ message = seen[#seen] .. " " .. c:token_state().token },
      private.of(c).secrets)
    assert.equal("[REDACTED] [REDACTED]", e.message)
  end)

  it("keeps its list bounded when the server rejects tokens the client still thinks fresh", function()
    -- only the sandbox's clock moves: each access token (and each second refresh token)
    -- is turned down as expired, the client drops it and renews
    local private = require "octopus.pipeline.private"
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:viewer())
    local base = #private.of(c).secrets
    for _ = 1, 12 do
      srv:advance(ACCESS_TTL + 1)
      assert(c:viewer())
    end
    assert.is_true(auth.state(c).logins >= 3, "the refresh token expired on the server too")
    assert.is_true(#private.of(c).secrets <= base + 2, "secrets grew to " .. #private.of(c).secrets)
  end)

  it("logs in explicitly with client:login() and reports the state to on_token", function()
    local seen = {}
    local c = client_for(srv, { email = creds.email, password = creds.password,
      on_token = function(state) seen[#seen + 1] = state end })
    assert.is_true(c:login())
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
    assert.equal(1, #seen)
    assert.equal("string", type(seen[1].token))
    assert.equal("number", type(seen[1].exp))
    assert.equal("string", type(seen[1].refresh_token))
    assert.equal("number", type(seen[1].refresh_expires_at))
    assert(c:viewer())
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("restores a persisted token state without logging in", function()
    local c1 = client_for(srv, { api_key = creds.api_key })
    assert(c1:login())
    local c2 = client_for(srv, { api_key = creds.api_key, token_state = c1:token_state() })
    assert(c2:viewer())
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("works from a user-supplied refresh token alone", function()
    local c1 = client_for(srv, { api_key = creds.api_key })
    assert(c1:login())
    local c2 = client_for(srv, { refresh_token = c1:token_state().refresh_token })
    assert.is_true(c2:login())                                  -- a refresh, not a login
    assert.equal(creds.email, assert(c2:viewer()).email)
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))
    assert.equal(1, auth.state(c2).refreshes)
    assert.equal(0, auth.state(c2).logins)
  end)

  it("logs in with an organisation secret key and with a pre-signed key", function()
    local org = client_for(srv, { organization_secret_key = creds.organization_secret_key })
    assert.is_true(org:login())
    local psk = client_for(srv, { pre_signed_key = creds.pre_signed_key })
    assert.is_table(assert(psk:viewer()).accounts)
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("refreshes once and retries once after KT-CT-1124", function()
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:login())
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { expire_token = true } })
    assert(c:viewer())
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))
    assert.equal(2, srv:count("operations", "Viewer"))
    assert.equal(1, auth.state(c).refreshes)
  end)

  it("drops the current token only when it is the one the server rejected", function()
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:login())
    local st = c:token_state()
    assert.is_false(auth.invalidate(c, "an-older-token"))
    assert.equal(st.token, c:token_state().token)
    assert.is_true(auth.invalidate(c, st.token))
    assert.is_nil(c:token_state().token)
    assert.equal(st.refresh_token, c:token_state().refresh_token)
  end)

  it("fails with AUTH when the token is still rejected after one refresh", function()
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:login())
    srv:fault({ match = { operation = "Viewer" }, times = 2, action = { expire_token = true } })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("AUTH", err.code)
    assert.equal("auth", err.kind)
    assert.equal("KT-CT-1124", err.graphql_code)
    assert.equal("AUTH: Signature of the JWT has expired.: Token has expired. (KT-CT-1124)", tostring(err))
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))
    assert.equal(2, srv:count("operations", "Viewer"))
  end)

  it("logs in again with the primary credential when the refresh token is invalid", function()
    local c = client_for(srv, { api_key = creds.api_key, refresh_token = "not-a-refresh-token" })
    assert(c:viewer())
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))           -- refresh (1135), then login
    assert.equal(1, auth.state(c).logins)
    assert.is_not.equal("not-a-refresh-token", c:token_state().refresh_token)
  end)

  it("fails with AUTH when the refresh token is invalid and nothing else is known", function()
    local c = client_for(srv, { refresh_token = "not-a-refresh-token" })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("AUTH", err.code)
    assert.equal("the refresh token has expired or is invalid and there is no credential to log in" ..
      " again (give api_key, email and password, organization_secret_key or pre_signed_key)", err.message)
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("tries a wrong password once, then fails fast with AUTH_INVALID", function()
    local c = client_for(srv, { email = creds.email, password = "wrong-password-123" })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("AUTH_INVALID", err.code)
    assert.equal("auth", err.kind)
    assert.equal("KT-CT-1138", err.graphql_code)
    assert.equal("Please make sure the email address and password are correct. (KT-CT-1138)", err.message)
    assert.is_false(err.retryable)
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
    for _ = 1, 3 do                                             -- sticky: no more logins
      local v2, err2 = c:viewer()
      assert.is_nil(v2)
      assert.equal("AUTH_INVALID", err2.code)
      local ok, err3 = c:login()
      assert.is_nil(ok)
      assert.equal("AUTH_INVALID", err3.code)
    end
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
    assert.equal(0, srv:count("operations", "Viewer"))
    assert.is_true(c:login { email = creds.email, password = creds.password })   -- new credentials
    assert(c:viewer())
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("fails with AUTH_INVALID for a wrong API key (KT-CT-1139)", function()
    local c = client_for(srv, { api_key = "sk_test_wrong_key_000" })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("AUTH_INVALID", err.code)
    assert.equal("KT-CT-1139", err.graphql_code)
    assert.equal("Please make sure the API key is correct. (KT-CT-1139)", err.message)
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("does not retry the token mutation on a 503 (it is not idempotent)", function()
    local c = client_for(srv, { api_key = creds.api_key, retries = 3, backoff = { base = 0.01, cap = 0.01 } })
    srv:fault({ match = { operation = "ObtainKrakenToken" }, times = 1, action = { status = 503 } })
    local ok, err = c:login()
    assert.is_nil(ok)
    assert.equal("HTTP_503", err.code)
    assert.equal(1, err.attempts)
    assert.equal(1, srv:count("requests", "POST /v1/graphql/"))
    assert.is_true(c:login())                                   -- not sticky
  end)

  it("asks without a token when it has no credentials, and says what to give", function()
    local c = client_for(srv)
    assert.equal("千代田区", assert(c:postal_areas("100-0001"))[1].city)
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("AUTH", err.code)
    assert.equal("KT-CT-1112", err.graphql_code)
    assert.equal("'Authorization' header not provided. (KT-CT-1112); give the client api_key, email" ..
      " and password, organization_secret_key, pre_signed_key or refresh_token", err.message)
    assert.equal(0, srv:count("operations", "ObtainKrakenToken"))
  end)

  -- The single-flight contract (docs/INTERNALS.md) seen from a transport that has
  -- wait/notify, as the async one does: the real blocking transport underneath.
  local function flight_transport(c, hooks)
    local real = c.transport
    c.transport = setmetatable(hooks, { __index = real })
  end

  it("notifies the transport when a login finishes, with its error if it failed", function()
    local notified = {}
    local c = client_for(srv, { api_key = creds.api_key })
    flight_transport(c, { notify = function(inflight) notified[#notified + 1] = inflight end })
    assert(c:viewer())
    assert.equal(1, #notified)
    assert.is_true(notified[1].done)
    assert.is_nil(notified[1].err)
    assert.is_nil(auth.state(c).inflight)
    local bad = client_for(srv, { api_key = "sk_test_wrong_key_000" })
    flight_transport(bad, { notify = function(inflight) notified[#notified + 1] = inflight end })
    assert.is_nil(bad:viewer())
    assert.equal(2, #notified)
    assert.equal("AUTH_INVALID", notified[2].err.code)
  end)

  it("waits for a refresh already in flight instead of starting its own", function()
    local c = client_for(srv, { api_key = creds.api_key })
    local waited = 0
    local other = { done = false }
    flight_transport(c, { wait = function(inflight)
      assert.equal(other, inflight)
      waited = waited + 1
      assert(c:login())               -- the other task's login completes meanwhile
      inflight.done = true
    end })
    auth.state(c).inflight = other
    assert(c:viewer())
    assert.equal(1, waited)
    assert.equal(1, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("keeps secrets out of tostring(client) and out of error messages", function()
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:login())
    local st = c:token_state()
    local secret_body = '{"data": null, "errors": [{"message": "bad token ' .. st.token .. ' key ' ..
      creds.api_key .. '", "extensions": {"errorCode": "KT-CT-1111"}}]}'
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { status = 200, body = secret_body } })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("FORBIDDEN", err.code)
    assert.equal("bad token [REDACTED] key [REDACTED] (KT-CT-1111)", err.message)
    local shown = tostring(c)
    for _, s in ipairs { st.token, st.refresh_token, creds.api_key } do
      assert.is_nil(shown:find(s, 1, true))
      assert.is_nil(tostring(err):find(s, 1, true))
    end
  end)
end)

describe("a late token rejection", function()
  -- Its own sandbox (--access-ttl 30): the refreshed token must differ from the rejected
  -- one, and the sandbox signs the same claims in the same second to the same token.
  local srv, creds
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false, args = { "--access-ttl", "30" } }
    creds = srv.credentials
  end)
  lazy_teardown(function() srv:stop() end)

  it("keeps the token another task has just refreshed", function()
    -- two tasks send with the same token T1 and both get KT-CT-1124, one of them late
    -- (delay): the first rejection refreshes to T2; the late one must not throw T2 away
    local c = client_for(srv, { api_key = creds.api_key })
    assert(c:login())
    local t1 = c:token_state().token
    local iat = auth.state(c).iat
    helper.advance_to(srv, c, iat + 1)           -- so T2 ~= T1
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { delay = 0.5, expire_token = true } })
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { expire_token = true } })
    local a = c:spawn(function() return c:viewer() end)
    local b = c:spawn(function() return c:viewer() end)
    assert.equal(creds.email, assert(a:wait()).email)
    assert.equal(creds.email, assert(b:wait()).email)
    assert.equal(2, srv:count("operations", "ObtainKrakenToken"))           -- 1 login + 1 refresh
    assert.equal(1, auth.state(c).logins)
    assert.equal(1, auth.state(c).refreshes)
    assert.is_not.equal(t1, c:token_state().token)
    c:close()
  end)
end)

describe("the token mutation", function()
  -- A loopback app (written to a temp file, run by the sandbox launcher) that records the
  -- Authorization header of every GraphQL request and answers the token mutation.
  local APP = [[
local cjson = require "cjson"
local M = {}
function M.new()
  local seen = {}
  return function(req)
    local body = cjson.decode(req.body ~= "" and req.body or "{}")
    local op = body.operationName or "?"
    seen[#seen + 1] = { op = op, authorization = req.headers.authorization or "(none)" }
    local data
    if op == "ObtainKrakenToken" then
      data = { obtainKrakenToken = { token = "tok-abc-123", payload = {}, refreshToken = "ref-xyz-789",
        refreshExpiresIn = os.time() + 600 } }
    else
      data = { seen = seen }
    end
    return { status = 200, headers = { ["Content-Type"] = "application/json" },
             body = cjson.encode { data = data } }
  end, { credentials = {} }
end
return M
]]
  local srv, dir
  lazy_setup(function()
    dir = helper.run("mktemp -d /tmp/octopus-tokapp.XXXXXXXX"):gsub("%s+$", "")
    local f = assert(io.open(dir .. "/app.lua", "wb"))
    f:write(APP)
    f:close()
    srv = helper.start_server { app = dir .. "/app.lua", tls = false }
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    os.execute("rm -rf " .. helper.quote(dir))
  end)

  it("never carries an Authorization header; later queries carry the token", function()
    local c = client_for(srv, { api_key = "sk_test_recorded_key" }, true)
    local data = assert(c:graphql("query Seen { seen }"))
    assert.equal(2, #data.seen)
    assert.equal("ObtainKrakenToken", data.seen[1].op)
    assert.equal("(none)", data.seen[1].authorization)
    assert.equal("Seen", data.seen[2].op)
    assert.equal("tok-abc-123", data.seen[2].authorization)
  end)
end)
