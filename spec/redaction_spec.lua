-- spec/redaction_spec.lua: secrets (API key, its Basic header, passwords, tokens)
-- never appear in tostring(err), err.url, err.message, the log, or tostring(client),
-- across successes and failures.
local helper = require "helper"
local octopus = require "octopus"
local socket = require "socket"

describe("redaction", function()
  local srv, log, secrets

  local function leaks(s)
    s = tostring(s)
    for _, secret in ipairs(secrets) do
      if s:find(secret, 1, true) then return secret end
    end
    return nil
  end

  local function assert_clean(err)
    assert.is_nil(leaks(tostring(err)), "secret in tostring(err)")
    assert.is_nil(leaks(err.url), "secret in err.url")
    assert.is_nil(leaks(err.message), "secret in err.message")
  end

  local function new_client(api_key, extra)
    local opts = { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file, api_key = api_key,
                   password = "hunter2-password", email = "demo@example.jp", refresh_token = "rt-secret-refresh",
                   retries = 1, backoff = { base = 0.01, cap = 0.02 },
                   log = function(e) log[#log + 1] = e end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return octopus.new(opts)
  end

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox" }
    local key = srv.credentials.api_key
    secrets = { key, require("octopus.core").basic_auth(key):match("^Basic (.+)$"),
                "sk_wrong_secret_key", "hunter2-password", "rt-secret-refresh", "tok-in-query" }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)
  before_each(function()
    log = {}
    srv:admin("POST", "/_sandbox/reset")
  end)

  after_each(function()
    for _, e in ipairs(log) do
      for k, v in pairs(e) do assert.is_nil(leaks(v), "secret in log field " .. k) end
    end
  end)

  it("keeps the client's tostring free of secrets", function()
    local c = new_client(srv.credentials.api_key)
    assert.equal("octopus.Client (" .. srv.https .. "/v1/)", tostring(c))
  end)

  it("logs successes without secrets", function()
    local c = new_client(srv.credentials.api_key)
    assert(c.accounts:get(srv.credentials.accounts[1]))
    assert.equal(1, #log)
    assert.equal(200, log[1].status)
    assert.equal("GET", log[1].method)
    assert.equal(1, log[1].attempt)
    assert.is_number(log[1].time)
  end)

  it("keeps a rejected key out of the AUTH error", function()
    local c = new_client("sk_wrong_secret_key")
    local _, err = c.accounts:get(srv.credentials.accounts[1])
    assert.equal("AUTH", err.code)
    assert.equal("Invalid API key.", err.message)
    assert_clean(err)
  end)

  it("masks secret-looking query values in err.url and the log", function()
    local c = new_client(srv.credentials.api_key)
    local _, err = c:request { path = { "nothing-here" }, query = { token = "tok-in-query" } }
    assert.equal("NOT_FOUND", err.code)
    assert.equal("Not found.", err.message)
    assert.matches("REDACTED", err.url)
    assert_clean(err)
  end)

  it("scrubs secrets a server echoes back in an error detail", function()
    local c = new_client(srv.credentials.api_key)
    srv:fault({ match = { route = "GET /v1/products/" },
      action = { status = 400, headers = { ["Content-Type"] = "application/json" },
                 body = '{"detail": "bad password hunter2-password"}' } })
    local _, err = c:request { path = { "products" } }
    assert.equal("BAD_REQUEST", err.code)
    assert.equal("bad password [REDACTED]", err.message)
    assert_clean(err)
  end)

  -- every string reachable from err, at any depth (keys too), as JSON would show them
  local function deep_leak(v, depth)
    depth = depth or 0
    if type(v) == "string" then return leaks(v) end
    if type(v) ~= "table" or depth > 20 then return nil end
    for k, x in pairs(v) do
      local l = deep_leak(k, depth + 1) or deep_leak(x, depth + 1)
      if l then return l end
    end
    return nil
  end

  it("scrubs echoed secrets from every string of a REST error: fields, errors, data", function()
    local c = new_client(srv.credentials.api_key)
    local key = srv.credentials.api_key
    local cjson = require "cjson"
    srv:fault({ match = { route = "POST /v1/quotes/" }, action = { status = 400,
      headers = { ["Content-Type"] = "application/json" },
      body = cjson.encode { postcode = { "no such postcode for key " .. key },
                            electricity = { annual = { "hunter2-password is not a number" } } } } })
    local _, err = c.quotes:create { postcode = "100-0001" }
    assert.equal("VALIDATION", err.code)
    assert.is_nil(deep_leak(err), "a secret survived in the error")
    assert.equal("no such postcode for key [REDACTED]", err.fields.postcode[1])
    srv:fault({ match = { route = "GET /v1/products/" }, action = { status = 500,
      headers = { ["Content-Type"] = "application/json" },
      body = cjson.encode { errors = { { message = "k=" .. key, extensions = { deep = { deeper = { key } } } } },
                            data = { echoed = { [key] = "rt-secret-refresh" } } } } })
    local _, err2 = c:request { path = { "products" } }
    assert.is_nil(deep_leak(err2), "a secret survived in err.errors / err.data")
    assert.equal("k=[REDACTED]", err2.errors[1].message)
  end)

  it("scrubs echoed secrets from nested GraphQL extensions and partial data", function()
    local c = new_client(srv.credentials.api_key)
    local key = srv.credentials.api_key
    local cjson = require "cjson"
    srv:fault({ match = { route = "POST /v1/graphql/" }, action = { status = 200,
      headers = { ["Content-Type"] = "application/json" },
      body = cjson.encode { data = { viewer = { note = "your key is " .. key } },
        errors = { { message = "denied", extensions = { errorCode = "KT-CT-4177",
          detail = { input = { APIKey = key, list = { "hunter2-password" } } } } } } } } })
    local _, err = c:graphql("query { viewer { email } }", nil, { auth = false })
    assert.equal("FORBIDDEN", err.code)
    assert.is_nil(deep_leak(err), "a secret survived in the GraphQL error")
    assert.equal("your key is [REDACTED]", err.data.viewer.note)
  end)

  it("keeps network failures free of secrets", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    local c = new_client(srv.credentials.api_key, { rest_url = "https://127.0.0.1:" .. port .. "/v1/" })
    local _, err = c.accounts:get(srv.credentials.accounts[1])
    assert.equal("CONNECT", err.code)
    assert_clean(err)
    assert.equal(2, #log)
  end)

  it("keeps timeouts and server errors free of secrets", function()
    local c = new_client(srv.credentials.api_key, { timeout = 0.3 })
    srv:fault({ match = { route = "GET /v1/products/" }, times = 2,
                                            action = { delay = 1 } })
    local _, err = c:request { path = { "products" } }
    assert.equal("TIMEOUT", err.code)
    assert_clean(err)
    srv:fault({ match = { route = "GET /v1/products/" }, times = 2,
                                            action = { status = 503 } })
    _, err = c:request { path = { "products" } }
    assert.equal("HTTP_503", err.code)
    assert.equal("Service temporarily unavailable.", err.message)
    assert_clean(err)
  end)
end)
