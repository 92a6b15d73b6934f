-- octopus.pipeline.request: the one request pipeline every call takes (REST and
-- GraphQL alike): build URL -> authenticate -> send (client.transport) -> classify
-- -> retry with backoff -> return.
--
--   request.send(client, req) -> response | nil, err
--     response = { data, status, headers, info }   (data = true for an empty 2xx body)
--   req = { method = "GET", path = {segments...} | url = absolute (same origin as
--           rest_url or graphql_url), query = {k = v}, body = table (JSON) | string,
--           headers = {}, auth = "basic" (default) | "none" | function(client, req) ->
--           headers | nil, err (called before every attempt), idempotent = bool
--           (default GET/HEAD/PUT/DELETE/OPTIONS), expect = "json" | "raw", timeout = s }
--
-- Invariants:
--  * err is an octopus error with code, kind, message, status, retry_after, retryable,
--    method, url (redacted) and attempts; its message and url are scrubbed of the
--    client's secrets. Usage errors raise at the caller's line.
--  * Only client.transport does I/O; only client.clock tells the time.
--  * Retried: idempotent requests on CONNECT/TIMEOUT/NETWORK, 429, 502/503/504; a
--    non-idempotent one only on a network error with sent == false (it provably
--    never reached the server). Never: DNS, TLS, TOO_LARGE, BAD_URL, BLOCKED (an
--    HTML 403 from the CDN: retrying a block makes it worse), DECODE, other 4xx.
--    Bounded by `retries` and `max_retry_time`; full-jitter backoff from a private
--    PRNG (octopus.pipeline.random), Retry-After honoured.
--  * A non-idempotent request goes out on a fresh connection (fresh_connect), so
--    libcurl never silently re-sends it after a reused connection died.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local url = require "octopus.pipeline.url"
local private = require "octopus.pipeline.private"
local classify = require "octopus.pipeline.classify"
local random = require "octopus.pipeline.random"
local usage = require "octopus.pipeline.usage"

local json = core.json
local type, pairs = type, pairs
local min = math.min

local M = {}

local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

-- build_url -> absolute URL | nil, err (a foreign `url`)
local function build_url(client, req, method)
  local target
  if req.path ~= nil then
    if type(req.path) ~= "table" then usage.raise("client:request: 'path' must be a table of segments") end
    target = url.join(client.rest_url, req.path)
  elseif req.url ~= nil then
    if type(req.url) ~= "string" then usage.raise("client:request: 'url' must be a string") end
    local origin = url.origin(req.url)
    if not origin or not private.of(client).origins[origin] then
      return nil, errors.new {
        code = "BAD_URL", kind = "usage", retryable = false, method = method,
        url = errors.redact_url(req.url),
        message = "refusing a URL outside the client's API origin",
      }
    end
    target = req.url
  else
    usage.raise("client:request: needs 'path' or 'url'")
  end
  if req.query ~= nil then
    if type(req.query) ~= "table" then usage.raise("client:request: 'query' must be a table") end
    target = url.with_query(target, req.query)
  end
  return target
end

-- headers: defaults, then the caller's, then authentication -> table | nil, err
-- The common case (no caller headers, auth "basic" or "none") reuses one table per
-- client, content type and Authorization value: nothing downstream writes to it (the
-- core reads it), and a new Basic value (client:login) builds a new one.
local function build_headers(client, req, content_type)
  local auth = req.auth or "basic"
  local p
  if req.headers == nil and (auth == "basic" or auth == "none") then
    p = private.of(client)
    local basic = auth == "basic" and p.basic or false
    local cache = p.header_cache
    if not cache then cache = {}; p.header_cache = cache end
    local key = content_type or ""
    local hit = cache[key]
    if hit and hit.basic == basic then return hit.h end
    local h = { Accept = "application/json" }
    if content_type then h["Content-Type"] = content_type end
    if basic then h.Authorization = basic end
    cache[key] = { basic = basic, h = h }
    return h
  end
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
    for k, v in pairs(req.headers) do set(k, v) end
  end
  if auth == "basic" then
    local basic = private.of(client).basic
    if basic then set("Authorization", basic) end
  elseif type(auth) == "function" then
    local extra, err = auth(client, req)
    if extra == nil and err ~= nil then return nil, err end
    for k, v in pairs(extra or {}) do set(k, v) end
  end
  return h
end

local RETRY_NETWORK = { CONNECT = true, TIMEOUT = true, NETWORK = true }
local RETRY_STATUS = { RATE_LIMITED = true, HTTP_502 = true, HTTP_503 = true, HTTP_504 = true }

-- should_retry(err, idempotent) -> bool: is this failure worth another attempt?
local function should_retry(e, idempotent)
  if e.kind == "network" then
    return RETRY_NETWORK[e.code] == true and (idempotent or e.sent == false)
  end
  return idempotent and RETRY_STATUS[e.code] == true
end

-- retry_delay -> seconds to wait, or nil to stop
local function retry_delay(client, e, attempt, idempotent, started)
  if attempt > client.retries or not should_retry(e, idempotent) then return nil end
  local p = private.of(client)
  local remaining = client.max_retry_time - (client.clock.mono() - started)
  if remaining <= 0 then return nil end
  if e.retry_after then
    if e.retry_after > remaining then return nil end
    return e.retry_after
  end
  local ceiling = min(p.backoff_cap, p.backoff_base * 2 ^ (attempt - 1))
  return min(random.random() * ceiling, remaining)
end

---@param client octopus.Client
---@param e octopus.Error
---@return octopus.Error e scrubbed of the client's secrets
local function scrub(client, e)
  return errors.scrub(e, private.of(client).secrets)
end
M.scrub = scrub

-- methods already seen to be upper-case words (bounded: the standard ones)
local METHOD_OK = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true,
                    OPTIONS = true }

local function check(req)
  if type(req) ~= "table" then usage.raise("client:request: expected a table") end
  local method = req.method or "GET"
  if not METHOD_OK[method] and (type(method) ~= "string" or not method:match("^%u+$")) then
    usage.raise("client:request: 'method' must be an upper-case string")
  end
  local expect = req.expect or "json"
  if expect ~= "json" and expect ~= "raw" then usage.raise("client:request: 'expect' must be \"json\" or \"raw\"") end
  if req.headers ~= nil and type(req.headers) ~= "table" then
    usage.raise("client:request: 'headers' must be a table")
  end
  local auth = req.auth
  if auth ~= nil and auth ~= "basic" and auth ~= "none" and type(auth) ~= "function" then
    usage.raise("client:request: 'auth' must be \"basic\", \"none\" or a function")
  end
  if req.body ~= nil and type(req.body) ~= "table" and type(req.body) ~= "string" then
    usage.raise("client:request: 'body' must be a table or a string")
  end
  if req.timeout ~= nil and (type(req.timeout) ~= "number" or not (req.timeout > 0)) then
    usage.raise("client:request: 'timeout' must be a positive number")
  end
  return method, expect
end

-- run(client, req) -> data, status, headers, info | nil, err: the pipeline; send wraps
-- the four in a response table, data returns data alone (no table per request).
local function run(client, req)
  local method, expect = check(req)
  local target, uerr = build_url(client, req, method)
  if not target then uerr.attempts = 0; return nil, scrub(client, uerr) end
  local p = private.of(client)
  local log = p.log
  local shown = log and errors.redact(errors.redact_url(target), p.secrets)   -- only when logged
  local body, content_type = req.body, nil
  if type(body) == "table" then body, content_type = json.encode(body), "application/json" end
  local idempotent = req.idempotent
  if idempotent == nil then idempotent = IDEMPOTENT[method] or false end
  local transport, clock = client.transport, client.clock
  local started = clock.mono()
  local send_req = { method = method, url = target, body = body, timeout = req.timeout }
  if not idempotent then send_req.fresh_connect = true end   -- never re-sent by libcurl
  local ctx   -- classify's, built once per call (on the first response)
  local attempt = 0
  while true do
    attempt = attempt + 1
    local headers, herr = build_headers(client, req, content_type)
    if not headers then herr.attempts = attempt; return nil, scrub(client, herr) end
    send_req.headers = headers
    local t0 = log and clock.mono()
    local status, rh, rbody, info = transport:send(send_req)
    local data, e
    if status then
      ctx = ctx or { method = method, expect = expect, clock = clock }
      data, e = classify.response(status, rh, rbody, ctx)
    else
      e = errors.from_core(rh, { method = method })
    end
    if log then
      log { method = method, url = shown, status = status, time = clock.mono() - t0,
            attempt = attempt, code = e and e.code or nil }
    end
    if not e then return data, status, rh, info end
    e.attempts = attempt
    e.url = shown or errors.redact(errors.redact_url(target), p.secrets)
    local delay = retry_delay(client, e, attempt, idempotent, started)
    if not delay then return nil, scrub(client, e) end
    transport:sleep(delay)
  end
end

---client:send(req): the pipeline (URL, auth, send, classify, retries).
---@param client octopus.Client
---@param req octopus.Request
---@return octopus.Response|nil response
---@return octopus.Error|nil err
function M.send(client, req)
  local data, status, headers, info = run(client, req)
  if data == nil then return nil, status end
  return { data = data, status = status, headers = headers, info = info }
end

-- request.data(client, req) -> data | nil, err
---client:request(req): as send, the decoded body only.
---@param client octopus.Client
---@param req octopus.Request
---@return any|nil data
---@return octopus.Error|nil err
function M.data(client, req)
  local data, err = run(client, req)   -- err: the status when data is there
  if data == nil then return nil, err end
  return data
end

return M
