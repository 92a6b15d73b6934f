-- octopus.graphql.auth: the Kraken token lifecycle for GraphQL (REST uses the pipeline's Basic auth).
--
-- Credentials (client options, kept in octopus.client's private table): the PRIMARY
-- credential is, in this order of preference, api_key (APIKey), email + password,
-- organization_secret_key, pre_signed_key; refresh_token and token_state only seed
-- the state. Login is lazy (first GraphQL call that needs a token) or explicit
-- (client:login()).
--
-- Token state (SECRET: whoever holds it can act as the user; persist it mode 0600):
--   { token =, exp = (Unix s), refresh_token =, refresh_expires_at = (Unix s, from
--     refreshExpiresIn, which is a timestamp, not a duration) }
-- on_token(state) is called (with a copy) after every login and refresh; the
-- token_state option restores one (fields that do not read are ignored).
--
-- Rules:
--  * A token is used until `exp - margin`, margin = min(5 min, half its lifetime)
--    (so a 2-second sandbox token is not refreshed on every call); then it is
--    refreshed with the refresh token, or, once refresh_expires_at has passed (or
--    the refresh fails with KT-CT-1134/1135), a new login uses the primary credential.
--  * KT-CT-1138/1139 (bad credentials) -> AUTH_INVALID, sticky: later calls fail at
--    once without contacting the server until client:login(new_credentials).
--  * So a session costs token mutations as follows: 1 login; then 1 refresh per access
--    token that goes stale while the refresh token lives; 1 login when the refresh token
--    has expired (or is rejected: 1 refresh attempt + 1 login). Calls with a fresh
--    token cost none. client:login() logs in with the primary credential (or refreshes
--    when a refresh token is all it has).
--  * Per GraphQL call (a `budget`): at most one refresh and at most LOGIN_ATTEMPTS
--    logins, the second after a short backoff; never a loop.
--  * A rejected token (M.invalidate) is dropped only if it is still the current one:
--    a late rejection of an older token never discards a freshly renewed one.
--  * The token mutation is sent with auth = "none": never an Authorization header.
--  * Single flight (docs/INTERNALS.md "Token single-flight"): while a login/refresh
--    runs, state.inflight = { done = false }; other callers wait on it through
--    client.transport.wait(inflight) when the transport has one (async), and
--    client.transport.notify(inflight) is called when it ends.
--  * New tokens are registered as client secrets, so no error message shows them;
--    nothing here logs.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local private_mod = require "octopus.pipeline.private"
local usage = require "octopus.pipeline.usage"
local random = require "octopus.pipeline.random"
local documents = require "octopus.graphql.documents"
local gerrors = require "octopus.graphql.errors"
local wire = require "octopus.graphql.wire"

local type, pairs, tostring, error, pcall = type, pairs, tostring, error, pcall
local floor, min = math.floor, math.min

local M = {}

M.MARGIN = 300           -- seconds before exp to refresh (capped at half the lifetime)
M.LOGIN_ATTEMPTS = 2     -- per call
M.LOGIN_BACKOFF = 0.5    -- seconds (base; full jitter) before a second login in one call

local states = setmetatable({}, { __mode = "k" })

local private = private_mod.of

local function claims_of(token)
  local ok, claims = pcall(core.jwt_claims, token)
  if ok and type(claims) == "table" then return claims end
  return nil
end

local function num(v) return type(v) == "number" and v or nil end

-- fills a (in place) from a token_state-shaped table; bad fields are ignored
local function restore(a, ts)
  if type(ts.token) == "string" and ts.token ~= "" then
    local claims = claims_of(ts.token) or {}
    a.token = ts.token
    a.exp = num(ts.exp) or num(claims.exp)
    a.iat = num(claims.iat)
  end
  if type(ts.refresh_token) == "string" and ts.refresh_token ~= "" then
    a.refresh_token = ts.refresh_token
    a.refresh_expires_at = num(ts.refresh_expires_at)
  end
end

-- M.state(client) -> the client's auth state (created on first use)
function M.state(client)
  local a = states[client]
  if a then return a end
  local p = private(client)
  if not p then usage.raise("octopus.graphql.auth: not an octopus client") end
  a = { logins = 0, refreshes = 0 }
  if type(p.token_state) == "table" then restore(a, p.token_state) end
  if not a.refresh_token and type(p.refresh_token) == "string" and p.refresh_token ~= "" then
    a.refresh_token = p.refresh_token
  end
  if a.token then private_mod.add_secret(client, a.token) end
  if a.refresh_token then private_mod.add_secret(client, a.refresh_token) end
  states[client] = a
  return a
end

-- the primary credential as the mutation's input, or nil
local function primary(p)
  if p.graphql_credential then return p.graphql_credential end   -- from client:login(credentials)
  if p.api_key and p.api_key ~= "" then return { APIKey = p.api_key } end
  if p.email and p.password then return { email = p.email, password = p.password } end
  if p.organization_secret_key then return { organizationSecretKey = p.organization_secret_key } end
  if p.pre_signed_key then return { preSignedKey = p.pre_signed_key } end
  return nil
end

-- M.has_credentials(client) -> bool: can the client authenticate GraphQL at all?
function M.has_credentials(client)
  local a = M.state(client)
  return primary(private(client)) ~= nil or a.refresh_token ~= nil or a.token ~= nil
end

-- M.budget() -> a per-call budget of logins and refreshes
function M.budget() return { logins = 0, refreshes = 0 } end

-- M.token_state(client) -> copy of { token, exp, refresh_token, refresh_expires_at } | nil
function M.token_state(client)
  local a = M.state(client)
  if not a.token and not a.refresh_token then return nil end
  return { token = a.token, exp = a.exp, refresh_token = a.refresh_token,
           refresh_expires_at = a.refresh_expires_at }
end

local function margin(a)
  if not a.iat or not a.exp then return M.MARGIN end
  return min(M.MARGIN, floor((a.exp - a.iat) / 2))
end

local function fresh(a, now)
  if not a.token then return false end
  if not a.exp then return true end        -- unknown expiry: the server will say (1124)
  return now < a.exp - margin(a)
end

local function auth_error(code, message, extra)
  local t = { code = code, kind = "auth", retryable = false, message = message }
  for k, v in pairs(extra or {}) do t[k] = v end
  return errors.new(t)
end

local function copy_error(e)
  local t = {}
  for k, v in pairs(e) do t[k] = v end
  t.attempts = 0
  return errors.new(t)
end

-- one obtainKrakenToken call -> token table | nil, err
local function obtain(client, input)
  local res, perr = wire.post(client, documents.documents.obtain_token, { input = input },
    { auth = "none", idempotent = false, operation_name = "ObtainKrakenToken" })
  local data, err = wire.response(client, res, perr)
  if not data then return nil, err end
  local t = type(data.obtainKrakenToken) == "table" and data.obtainKrakenToken or nil
  if not t or type(t.token) ~= "string" or t.token == "" then
    return nil, gerrors.decode_error(client, "obtainKrakenToken returned no token")
  end
  return t
end

-- retire(client, a, current, previous): a[current] (a secret still scrubbed) becomes
-- a[previous], and the one before it is forgotten, so the secret list stays bounded
-- however many tokens a client renews. A token that is retired when it is dropped (the
-- server rejected it, or the refresh token expired) is not retired again on renewal.
local function retire(client, a, current, previous)
  private_mod.remove_secret(client, a[previous])
  a[previous] = a[current]
end

-- stores a fresh token response in a
local function accept(client, a, t)
  local claims = claims_of(t.token) or {}
  local payload = type(t.payload) == "table" and t.payload or {}
  local now = client.clock.wall()
  -- scrub the current and the previous tokens (a late answer may still echo that one);
  -- older ones are forgotten, so the secret list does not grow with every renewal
  if a.token ~= nil then retire(client, a, "token", "older_token") end
  a.token = t.token
  a.exp = num(payload.exp) or num(claims.exp)
  a.iat = num(payload.iat) or num(claims.iat) or now
  private_mod.add_secret(client, a.token)
  if type(t.refreshToken) == "string" and t.refreshToken ~= "" then
    if t.refreshToken ~= a.refresh_token then
      if a.refresh_token ~= nil then retire(client, a, "refresh_token", "older_refresh") end
      private_mod.add_secret(client, t.refreshToken)
    end
    a.refresh_token = t.refreshToken
    a.refresh_expires_at = num(t.refreshExpiresIn)
  end
  a.changed = true
  return a.token
end

local function login(client, a, budget, after_refresh)
  if a.invalid then return nil, copy_error(a.invalid) end
  local input = primary(private(client))
  if not input then
    if after_refresh then
      return nil, auth_error("AUTH", "the refresh token has expired or is invalid and there is no" ..
        " credential to log in again (give api_key, email and password, organization_secret_key" ..
        " or pre_signed_key)")
    end
    return nil, auth_error("AUTH", "no GraphQL credential: give api_key, email and password," ..
      " organization_secret_key, pre_signed_key or refresh_token")
  end
  if budget.logins >= M.LOGIN_ATTEMPTS then
    return nil, auth_error("AUTH", "gave up after " .. budget.logins .. " login attempts in one call")
  end
  if budget.logins > 0 then client.transport:sleep(M.LOGIN_BACKOFF * (0.5 + random.random() / 2)) end
  budget.logins = budget.logins + 1
  a.logins = a.logins + 1
  local t, err = obtain(client, input)
  if not t then
    if err.code == "AUTH_INVALID" then a.invalid = err end
    return nil, err
  end
  return accept(client, a, t)
end

local function refresh(client, a, budget)
  budget.refreshes = budget.refreshes + 1
  a.refreshes = a.refreshes + 1
  local t, err = obtain(client, { refreshToken = a.refresh_token })
  if t then return accept(client, a, t) end
  if err.graphql_code == "KT-CT-1134" or err.graphql_code == "KT-CT-1135" then
    retire(client, a, "refresh_token", "older_refresh")
    a.refresh_token, a.refresh_expires_at = nil, nil
    return login(client, a, budget, true)
  end
  return nil, err
end

-- renew under the single-flight flag; on_token runs after the flag is cleared
local function renew(client, a, budget, force_login)
  local inflight = { done = false }
  a.inflight = inflight
  a.changed = false
  -- the transport's pcall lets a task yield through it on PUC Lua 5.1 (octopus.async)
  local ok, token, err = (client.transport.pcall or pcall)(function()
    local now = client.clock.wall()
    if (not force_login or not primary(private(client))) and a.refresh_token and budget.refreshes < 1
       and (not a.refresh_expires_at or now < a.refresh_expires_at) then
      return refresh(client, a, budget)
    end
    return login(client, a, budget, a.refresh_token ~= nil)
  end)
  local raised
  if not ok then
    raised, token = token, nil
    err = errors.new { code = "AUTH", kind = "auth", message = "token renewal raised: " .. tostring(raised) }
  end
  -- raised (e.g. its task was cancelled): waiters renew themselves instead of failing
  inflight.done, inflight.err, inflight.raised = true, token == nil and err or nil, not ok
  if a.inflight == inflight then a.inflight = nil end
  local tr = client.transport
  if type(tr.notify) == "function" then tr.notify(inflight) end
  if not ok then error(raised, 0) end
  if a.changed then
    a.changed = false
    local on_token = private(client).on_token
    if on_token then on_token(M.token_state(client)) end
  end
  return token, err
end

-- M.token(client [, budget]) -> token | false (no credentials: send none) | nil, err
function M.token(client, budget)
  local a = M.state(client)
  budget = budget or M.budget()
  for _ = 1, 8 do
    if a.invalid then return nil, copy_error(a.invalid) end
    if fresh(a, client.clock.wall()) then return a.token end
    if not M.has_credentials(client) then return false end
    local inflight = a.inflight
    local tr = client.transport
    if inflight and type(tr.wait) == "function" then
      tr.wait(inflight)
      if inflight.err and not inflight.raised then return nil, inflight.err end
    else
      return renew(client, a, budget)
    end
  end
  return renew(client, a, budget)
end

-- M.invalidate(client, token_sent) -> bool: the server rejected token_sent (the
-- token the failed request carried; 1112/1120/1124/1143). Drops it, so the next M.token
-- refreshes (or logs in), only while it is still the current token: a late rejection
-- of an older token must not throw away one another task has just renewed.
function M.invalidate(client, token_sent)
  local a = M.state(client)
  if a.token == nil or a.token ~= token_sent then return false end
  retire(client, a, "token", "older_token")
  a.token, a.exp, a.iat = nil, nil, nil
  return true
end

local CREDENTIALS = { api_key = true, email = true, password = true, organization_secret_key = true,
                      pre_signed_key = true }

-- M.login(client [, credentials]) -> true | nil, err: log in now with the primary credential.
-- credentials (optional) replaces the primary credential for GraphQL (REST keeps api_key):
-- { api_key = } | { email =, password = }
-- | { organization_secret_key = } | { pre_signed_key = }; it clears a sticky AUTH_INVALID.
function M.login(client, credentials)
  local a = M.state(client)
  if credentials ~= nil then
    if type(credentials) ~= "table" then usage.raise("client:login: credentials must be a table") end
    for k, v in pairs(credentials) do
      if not CREDENTIALS[k] then usage.raise("client:login: unknown credential '" .. tostring(k) .. "'") end
      if type(v) ~= "string" or v == "" then
        usage.raise("client:login: credential '" .. k .. "' must be a non-empty string")
      end
    end
    local input
    if credentials.api_key then input = { APIKey = credentials.api_key }
    elseif credentials.email and credentials.password then
      input = { email = credentials.email, password = credentials.password }
    elseif credentials.organization_secret_key then
      input = { organizationSecretKey = credentials.organization_secret_key }
    elseif credentials.pre_signed_key then input = { preSignedKey = credentials.pre_signed_key }
    else usage.raise("client:login: credentials need api_key, email and password," ..
               " organization_secret_key or pre_signed_key") end
    for k, v in pairs(credentials) do
      if k ~= "email" then private_mod.add_secret(client, v) end
    end
    private(client).graphql_credential = input
    a.invalid = nil
  end
  if a.invalid then return nil, copy_error(a.invalid) end
  local token, err = renew(client, a, M.budget(), true)
  if not token then return nil, err end
  return true
end

return M
