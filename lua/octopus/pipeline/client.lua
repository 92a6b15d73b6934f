-- octopus.client: the Client object and the one request pipeline every call takes
-- (REST and GraphQL alike): build URL -> authenticate -> send (transport) ->
-- decode JSON -> classify errors -> retry with backoff -> return.
--
-- Invariants:
--  * client:request returns `data, response` or `nil, err`; err is an
--    octopus.errors object with code, kind, message, status, retry_after,
--    retryable, method, url (redacted) and attempts. Usage errors raise.
--  * Only `client.transport` does I/O (send, sleep, now); the async layer swaps it.
--  * Secrets (api_key, passwords, keys, tokens, the Basic header) live in a
--    private weak table, never on the client object, and are scrubbed from
--    every error message; URLs in errors and logs are redacted.
--  * Retried: idempotent requests on CONNECT/TIMEOUT/NETWORK, 429, 502/503/504;
--    a non-idempotent one (POST) only on CONNECT/TIMEOUT/NETWORK with sent == false
--    (provably never reached the server; a POST's 429/5xx is returned, not retried).
--    Never retried: DNS, TLS, TOO_LARGE, BAD_URL, other 4xx, BLOCKED (an HTML
--    403 from the CDN: retryable=true for the caller, but hammering a block
--    makes it worse), DECODE. Bounded by `retries` and `max_retry_time`.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local time = require "octopus.pipeline.time"
local url = require "octopus.pipeline.url"

local json = core.json
local type, pairs, ipairs, tostring, error, next = type, pairs, ipairs, tostring, error, next
local setmetatable, pcall, require = setmetatable, pcall, require
local min, floor, random = math.min, math.floor, math.random
local concat, sort = table.concat, table.sort

local M = {}

local Client = { __name = "octopus.Client" }
Client.__index = Client

-- client -> { api_key, email, password, organization_secret_key, pre_signed_key,
--             refresh_token, on_token, token_state, basic, secrets, log, backoff, ... }
local private = setmetatable({}, { __mode = "k" })

local OPTIONS = {
  api_key = "string", rest_url = "string", graphql_url = "string", timezone = "string",
  timeout = "number", connect_timeout = "number", retries = "number", max_retry_time = "number",
  ca_file = "string", user_agent = "string", log = "function", backoff = "table",
  email = "string", password = "string", organization_secret_key = "string",
  pre_signed_key = "string", refresh_token = "string", on_token = "function", token_state = "table",
  token_file = "string",
}
local SECRET_OPTIONS = { "api_key", "password", "organization_secret_key", "pre_signed_key", "refresh_token" }

M.DEFAULTS = {
  rest_url = "https://api.oejp-kraken.energy/v1/",
  graphql_url = "https://api.oejp-kraken.energy/v1/graphql/",
  timezone = "Asia/Tokyo", timeout = 30, connect_timeout = 10, retries = 3,
  max_retry_time = 60, backoff_base = 0.5, backoff_cap = 30,
}
local DEFAULTS = M.DEFAULTS

local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

---------------------------------------------------------------------------
-- The blocking transport: one core.session per client (keep-alive), created
-- on first use. The async layer replaces client.transport with an object that
-- has the same three methods but yields inside a coroutine.
---------------------------------------------------------------------------
local has_socket, socket = pcall(require, "socket")
local Blocking = {}
Blocking.__index = Blocking

function M.blocking_transport(session_opts)
  return setmetatable({ session_opts = session_opts }, Blocking)
end

-- send{ method, url, headers, body, timeout } -> status, headers, body, info | nil, err
function Blocking:send(req)
  if not self.session then self.session = core.session(self.session_opts) end
  return self.session:request(req)
end

function Blocking:sleep(seconds)
  if seconds <= 0 then return end
  if has_socket then return socket.sleep(seconds) end
  os.execute(("sleep %.3f"):format(seconds))
end

function Blocking:now()
  if has_socket then return socket.gettime() end
  return os.time()
end

function Blocking:close()
  if self.session then self.session:close(); self.session = nil end
end

---------------------------------------------------------------------------
-- Construction
---------------------------------------------------------------------------
local function check_options(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("octopus.new: options must be a table", 3) end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then error("octopus.new: unknown option '" .. tostring(k) .. "'", 3) end
    if type(v) ~= want then
      error("octopus.new: option '" .. k .. "' must be a " .. want, 3)
    end
  end
  for _, k in ipairs { "timeout", "connect_timeout" } do
    if opts[k] and opts[k] <= 0 then error("octopus.new: option '" .. k .. "' must be positive", 3) end
  end
  if opts.max_retry_time and opts.max_retry_time < 0 then
    error("octopus.new: option 'max_retry_time' must not be negative", 3)
  end
  if opts.retries and (opts.retries < 0 or opts.retries ~= floor(opts.retries)) then
    error("octopus.new: option 'retries' must be a non-negative integer", 3)
  end
  if opts.backoff then
    for k, v in pairs(opts.backoff) do
      if k ~= "base" and k ~= "cap" then error("octopus.new: unknown option 'backoff." .. tostring(k) .. "'", 3) end
      if type(v) ~= "number" or v < 0 then error("octopus.new: option 'backoff." .. k .. "' must be a non-negative number", 3) end
    end
  end
  for _, k in ipairs { "rest_url", "graphql_url" } do
    if opts[k] then
      local ok, why = url.check_base(opts[k])
      if not ok then error("octopus.new: option '" .. k .. "' " .. why, 3) end
    end
  end
  return opts
end

-- token_file = path: restore the token state from it (unless token_state is given,
-- or it was saved for another endpoint or credential) and save every new one to it,
-- privately (octopus.graphql.token_file). A file that others
-- can read is not used; the reason goes to the log as { event = "token_file", error = err }.
local function use_token_file(self, p, path, opts)
  local token_file = require "octopus.graphql.token_file"
  local store, credential = token_file.new(path), token_file.credential_id(opts)
  if not p.token_state then
    local state, err = store:load(self.graphql_url, credential)
    p.token_state = state
    if err and p.log then p.log { event = "token_file", error = err } end
  end
  local user_hook = p.on_token
  p.on_token = function(state)
    local ok, err = store:save(state, self.graphql_url, credential)
    if not ok and p.log then p.log { event = "token_file", error = err } end
    if user_hook then user_hook(state) end
  end
end

function M.new(opts)
  opts = check_options(opts)
  local zone_name = opts.timezone or DEFAULTS.timezone
  local ok, zone = pcall(time.zone, zone_name)
  if not ok then error("octopus.new: option 'timezone' is not a known zone: " .. tostring(zone_name), 2) end
  local backoff = opts.backoff or {}
  local self = setmetatable({
    rest_url = url.ensure_slash(opts.rest_url or DEFAULTS.rest_url),
    graphql_url = opts.graphql_url or DEFAULTS.graphql_url,
    timezone = zone_name,
    zone = zone,
    timeout = opts.timeout or DEFAULTS.timeout,
    connect_timeout = opts.connect_timeout or DEFAULTS.connect_timeout,
    retries = opts.retries or DEFAULTS.retries,
    max_retry_time = opts.max_retry_time or DEFAULTS.max_retry_time,
  }, Client)
  local p = {
    log = opts.log, token_state = opts.token_state, on_token = opts.on_token,
    email = opts.email, backoff_base = backoff.base or DEFAULTS.backoff_base,
    backoff_cap = backoff.cap or DEFAULTS.backoff_cap, secrets = {},
    origins = { [url.origin(self.rest_url)] = true, [url.origin(self.graphql_url)] = true },
  }
  for _, k in ipairs(SECRET_OPTIONS) do
    p[k] = opts[k]
    if opts[k] and opts[k] ~= "" then p.secrets[#p.secrets + 1] = opts[k] end
  end
  if opts.api_key then
    p.basic = core.basic_auth(opts.api_key)
    p.secrets[#p.secrets + 1] = p.basic:match("^Basic (.+)$")
  end
  if opts.token_file then use_token_file(self, p, opts.token_file, opts) end
  private[self] = p
  self.transport = M.blocking_transport {
    ca_file = opts.ca_file, user_agent = opts.user_agent,
    timeout = self.timeout, connect_timeout = self.connect_timeout,
  }
  for _, name in ipairs { "products", "tariffs", "industry", "quotes", "accounts" } do
    self[name] = require("octopus.rest." .. name).new(self)
  end
  local meters = require "octopus.rest.meters"
  self.electricity, self.gas = meters.electricity(self), meters.gas(self)
  return self
end

-- The private state of a client (credentials, token_state, on_token, log,
-- secrets): for octopus.auth and octopus.async only, never for users.
function M.private(client) return private[client] end

-- add_secret(client, s): a new secret (e.g. a fresh token) to scrub from errors.
function M.add_secret(client, s)
  local p = private[client]
  if p and type(s) == "string" and #s >= 4 then p.secrets[#p.secrets + 1] = s end
end

function Client:__tostring()
  return "octopus.Client (" .. errors.redact_url(self.rest_url) .. ")"
end

function Client:close() if self.transport.close then self.transport:close() end end
Client.__close = Client.close

-- GraphQL methods live in octopus.graphql (and octopus.auth, octopus.readings); loaded
-- on first call so REST-only users never load them:
--   client:graphql(document, variables, opts) client:login([credentials]) client:viewer()
--   client:account(number) client:readings(account, opts) client:postal_areas(postcode)
--   client:tariff_summary(grid, product) client:rate_limit() client:token_state()
--   client:connection(document, variables, path [, opts])
for _, name in ipairs { "graphql", "login", "viewer", "account", "readings", "postal_areas",
                        "tariff_summary", "rate_limit", "token_state", "connection" } do
  Client[name] = function(self, ...) return require("octopus.graphql")[name](self, ...) end
end

-- Non-blocking use lives in octopus.async, loaded on first call:
--   client:spawn(fn, ...) -> task   client:poll([timeout_ms]) -> live tasks
--   client:map(items, fn [, { concurrency = 8 }]) -> results, errs
for _, name in ipairs { "spawn", "poll", "map" } do
  Client[name] = function(self, ...) return require("octopus.async")[name](self, ...) end
end

-- client:iso(v) -> ISO 8601 with the client's zone offset; v is anything time.parse takes.
function Client:iso(v)
  return time.format(time.parse(v, self.zone), self.zone)
end

---------------------------------------------------------------------------
-- Pipeline steps
---------------------------------------------------------------------------

-- build_url -> absolute URL | nil, err (a foreign `url`); raises on usage errors.
local function build_url(self, req)
  local target
  if req.path ~= nil then
    if type(req.path) ~= "table" then error("client:request: 'path' must be a table of segments", 3) end
    target = url.join(self.rest_url, req.path)
  elseif req.url ~= nil then
    if type(req.url) ~= "string" then error("client:request: 'url' must be a string", 3) end
    local origin = url.origin(req.url)
    if not origin or not private[self].origins[origin] then
      return nil, errors.new {
        code = "BAD_URL", kind = "usage", retryable = false, method = req.method or "GET",
        url = errors.redact_url(req.url),
        message = "refusing a URL outside the client's API origin",
      }
    end
    target = req.url
  else
    error("client:request: needs 'path' or 'url'", 3)
  end
  if req.query ~= nil then
    if type(req.query) ~= "table" then error("client:request: 'query' must be a table", 3) end
    target = url.with_query(target, req.query)
  end
  return target
end

-- headers: defaults, then the caller's, then authentication. -> table | nil, err
local function build_headers(self, req, content_type)
  local h, names = {}, {}
  local function set(k, v)
    local lk = k:lower()
    if names[lk] then h[names[lk]] = nil end
    names[lk] = k
    h[k] = v
  end
  set("Accept", "application/json")
  if content_type then set("Content-Type", content_type) end
  if req.headers then
    if type(req.headers) ~= "table" then error("client:request: 'headers' must be a table", 3) end
    for k, v in pairs(req.headers) do set(k, v) end
  end
  local auth = req.auth or "basic"
  if auth == "basic" then
    local basic = private[self].basic
    if basic then set("Authorization", basic) end
  elseif type(auth) == "function" then
    local extra, err = auth(self, req)
    if extra == nil and err ~= nil then return nil, err end
    for k, v in pairs(extra or {}) do set(k, v) end
  elseif auth ~= "none" then
    error("client:request: 'auth' must be \"basic\", \"none\" or a function", 3)
  end
  return h
end

-- field errors {"a": ["m1"], "b": {"c": ["m2"]}} -> { a = {"m1"}, ["b.c"] = {"m2"} }
local function flatten_fields(doc, prefix, out)
  for k, v in pairs(doc) do
    local name = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if type(v) == "string" then
      out[name] = { v }
    elseif type(v) == "table" and v[1] ~= nil then
      local msgs = {}
      for _, m in ipairs(v) do msgs[#msgs + 1] = type(m) == "string" and m or json.encode(m) end
      out[name] = msgs
    elseif type(v) == "table" then
      flatten_fields(v, name, out)
    end
  end
  return out
end

local function summarise(fields)
  local names = {}
  for k in pairs(fields) do names[#names + 1] = k end
  sort(names)
  local parts = {}
  for _, k in ipairs(names) do parts[#parts + 1] = k .. ": " .. concat(fields[k], " ") end
  return concat(parts, "; ")
end

local function is_json(headers, body)
  local ct = headers and headers["content-type"] or ""
  return ct:find("json", 1, true) or (ct == "" and body:match("^%s*[{%[]"))
end

-- classify(status, headers, body, ctx) -> data | nil, err (ctx: method, url, expect, now)
local function classify(status, headers, body, ctx)
  body = body or ""
  if status >= 200 and status < 300 then
    if ctx.expect == "raw" then return body end
    if body:match("^%s*$") then return true end
    local v, derr = json.decode(body)
    if derr ~= nil then
      return nil, errors.new {
        code = "DECODE", kind = "decode", status = status, retryable = false,
        method = ctx.method, url = ctx.url,
        message = "HTTP " .. status .. " response is not valid JSON (" .. tostring(derr.message) .. ")",
      }
    end
    return v
  end
  local doc
  if body ~= "" and is_json(headers, body) then
    local v = json.decode(body)
    if type(v) == "table" then doc = v end
  end
  local detail = doc and type(doc.detail) == "string" and doc.detail or nil
  local e = { status = status, method = ctx.method, url = ctx.url, retryable = false, kind = "http" }
  if doc and type(doc.errors) == "table" then
    e.errors = doc.errors
    e.data = doc.data
    local first = doc.errors[1]
    detail = detail or (type(first) == "table" and type(first.message) == "string" and first.message) or nil
  end
  if status == 400 then
    if doc and type(doc[1]) == "string" then
      e.code, e.message = "BAD_REQUEST", summarise { ["non_field_errors"] = flatten_fields({ doc }, nil, {})["1"] }
    elseif doc and doc.detail == nil and doc.errors == nil and next(doc) ~= nil then
      e.code, e.fields = "VALIDATION", flatten_fields(doc, nil, {})
      e.message = summarise(e.fields)
    else
      e.code, e.message = "BAD_REQUEST", detail or "bad request (HTTP 400)"
    end
  elseif status == 401 then
    e.code, e.kind = "AUTH", "auth"
    e.message = detail or "the API rejected the credentials (HTTP 401)"
  elseif status == 403 and doc then
    e.code, e.kind = "FORBIDDEN", "auth"
    e.message = detail or "forbidden (HTTP 403)"
  elseif status == 403 then
    e.code, e.retryable = "BLOCKED", true
    e.message = "the API's edge refused the request (HTML 403): the client or network is" ..
                " blocked, not the key; wait before retrying"
  elseif status == 404 then
    e.code, e.message = "NOT_FOUND", detail or "not found (HTTP 404)"
  elseif status == 429 then
    e.code, e.kind, e.retryable = "RATE_LIMITED", "rate_limit", true
    e.retry_after = errors.retry_after(headers and headers["retry-after"], ctx.now)
    e.message = (detail or "rate limited (HTTP 429)") ..
                (e.retry_after and ("; retry after " .. tostring(e.retry_after) .. " s") or "")
  else
    e.code = "HTTP_" .. tostring(status)
    e.retryable = status == 502 or status == 503 or status == 504
    if e.retryable then e.retry_after = errors.retry_after(headers and headers["retry-after"], ctx.now) end
    e.message = detail or ((status >= 500 and "server error" or "unexpected status") .. " (HTTP " .. status .. ")")
  end
  return nil, errors.new(e)
end
M.classify = classify

-- should_retry(err, idempotent) -> bool: is this failure worth another attempt?
local RETRY_NETWORK = { CONNECT = true, TIMEOUT = true, NETWORK = true }
local function should_retry(e, idempotent)
  if e.kind == "network" then
    return RETRY_NETWORK[e.code] == true and (idempotent or e.sent == false)
  end
  if not idempotent then return false end
  return e.code == "RATE_LIMITED" or e.code == "HTTP_502" or e.code == "HTTP_503" or e.code == "HTTP_504"
end

-- retry_delay -> seconds to wait, or nil to stop.
local function retry_delay(self, e, attempt, idempotent, started)
  if attempt > self.retries or not should_retry(e, idempotent) then return nil end
  local p = private[self]
  local remaining = self.max_retry_time - (self.transport:now() - started)
  if remaining <= 0 then return nil end
  if e.retry_after then
    if e.retry_after > remaining then return nil end
    return e.retry_after
  end
  local ceiling = min(p.backoff_cap, p.backoff_base * 2 ^ (attempt - 1))
  return min(random() * ceiling, remaining)
end

local function scrub(self, e)
  local p = private[self]
  if type(e.message) == "string" then e.message = errors.redact(e.message, p.secrets) end
  if type(e.url) == "string" then e.url = errors.redact(e.url, p.secrets) end
  return e
end

---------------------------------------------------------------------------
-- client:request{ method, path | url, query, body, headers, auth, idempotent,
--                 expect = "json"|"raw", timeout } -> data, response | nil, err
---------------------------------------------------------------------------
function Client:request(req)
  if type(req) ~= "table" then error("client:request: expected a table", 2) end
  local method = req.method or "GET"
  if type(method) ~= "string" or not method:match("^%u+$") then
    error("client:request: 'method' must be an upper-case string", 2)
  end
  local expect = req.expect or "json"
  if expect ~= "json" and expect ~= "raw" then error("client:request: 'expect' must be \"json\" or \"raw\"", 2) end
  local target, uerr = build_url(self, req)
  if not target then uerr.attempts = 0; return nil, scrub(self, uerr) end
  local shown = errors.redact(errors.redact_url(target), private[self].secrets)
  local body, content_type = req.body, nil
  if type(body) == "table" then
    body, content_type = json.encode(body), "application/json"
  elseif body ~= nil and type(body) ~= "string" then
    error("client:request: 'body' must be a table or a string", 2)
  end
  local idempotent = req.idempotent
  if idempotent == nil then idempotent = IDEMPOTENT[method] or false end
  local transport, log = self.transport, private[self].log
  local started = transport:now()
  local attempt = 0
  while true do
    attempt = attempt + 1
    local headers, herr = build_headers(self, req, content_type)
    if not headers then herr.attempts = attempt; return nil, scrub(self, herr) end
    local t0 = transport:now()
    local status, rh, rbody, info = transport:send {
      method = method, url = target, headers = headers, body = body, timeout = req.timeout,
    }
    local data, e, response
    if status then
      response = { status = status, headers = rh, info = info }
      data, e = classify(status, rh, rbody, { method = method, url = shown, expect = expect, now = os.time() })
    else
      e = errors.from_core(rh, { method = method, url = shown })
    end
    if log then
      log { method = method, url = shown, status = status, time = transport:now() - t0,
            attempt = attempt, code = e and e.code or nil }
    end
    if not e then return data, response end
    e.attempts = attempt
    local delay = retry_delay(self, e, attempt, idempotent, started)
    if not delay then return nil, scrub(self, e) end
    transport:sleep(delay)
  end
end

return M
