-- octopus.pipeline.errors -- the one error model: objects, redaction, Retry-After.
--
-- Every operational failure is an error object sharing core.error_mt with the
-- C core's errors, so `tostring(err)` reads "CODE: message" for both and the
-- methods below (err:is_retryable()) work on both.
--
-- Stable codes: M.CODES below, the one table (code -> kinds, default message,
-- retryable); an explicit `retryable` wins.
--
-- Invariants: messages and URLs pass through redact/redact_url before they are
-- stored by the client; this module never logs. Pure Lua, 5.1/LuaJIT and 5.4.

local days_from_civil = require("octopus.pipeline.time").days_from_civil
local core = require "octopus.core"

local type, pairs, tostring, tonumber, error, setmetatable, getmetatable =
  type, pairs, tostring, tonumber, error, setmetatable, getmetatable
local find, sub, lower, gsub, char = string.find, string.sub, string.lower, string.gsub, string.char
local concat = table.concat
local ceil = math.ceil
local os_time = os.time
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

---@class octopus.errors
---@field mt table                      core.error_mt, the metatable of every error
---@field KINDS table<string, boolean>
---@field CODES table<string, { [1]: string, [2]: string, [3]: boolean }> code -> { kinds, default message, retryable }
local M = {}
local error_mt = core.error_mt
M.mt = error_mt

M.KINDS = { network = true, http = true, graphql = true, auth = true, rate_limit = true,
            decode = true, usage = true, io = true, storage = true, money = true }

-- The stable error codes: the one table (spec/error_codes_spec.lua checks every code the
-- Lua modules and the C core build against it; the README's table is drawn from it).
-- code = { kinds (space-separated: the kinds it comes with), default message, retryable }
-- Beside these: HTTP_<status> (kind http) and Kraken's unmapped GraphQL codes passed
-- through as they are (KT-CT-1201, ...: kind graphql).
M.CODES = {
  CONNECT = { "network", "could not connect", true },
  DNS = { "network", "could not resolve the host", false },
  TIMEOUT = { "network", "the request timed out", true },
  TLS = { "network", "TLS handshake or certificate verification failed", false },
  TOO_LARGE = { "network", "the response is too large", false },
  BAD_URL = { "network usage", "the URL is malformed", false },
  NETWORK = { "network", "network failure", true },
  PROTOCOL = { "network", "the server's reply broke the HTTP protocol", false },
  ABORTED = { "network", "the transfer was aborted", false },
  CALLBACK = { "usage", "a callback raised", false },
  UNSUPPORTED = { "usage", "not supported", false },
  CANCELLED = { "usage", "cancelled", false },
  TASK_ERROR = { "usage", "the task raised", false },
  DECODE = { "decode", "the response could not be decoded", false },
  JSON_SYNTAX = { "decode", "invalid JSON", false },
  JSON_UTF8 = { "decode", "invalid UTF-8 in JSON", false },
  JSON_DEPTH = { "decode", "JSON nested too deeply", false },
  BASE64 = { "decode", "invalid base64", false },
  AUTH = { "auth", "authentication failed", false },
  AUTH_INVALID = { "auth", "the credentials are invalid", false },
  FORBIDDEN = { "auth", "forbidden", false },
  JWT_MALFORMED = { "auth", "malformed JWT", false },
  BLOCKED = { "http", "the API's edge refused the request", true },
  NOT_FOUND = { "http graphql usage", "not found", false },
  VALIDATION = { "http", "the request failed validation", false },
  BAD_REQUEST = { "http", "bad request", false },
  RATE_LIMITED = { "rate_limit", "rate limited", true },
  GRAPHQL = { "graphql", "the GraphQL request failed", false },
  GRAPHQL_VALIDATION = { "graphql", "the GraphQL document failed validation", false },
  QUERY_TOO_COMPLEX = { "graphql", "the query is too complex", false },
  INVALID_POSTCODE = { "graphql", "the postcode is not valid", false },
  UNAVAILABLE = { "graphql", "the service is unavailable", true },
  FILE = { "io", "file error", false },
  RANDOM = { "io", "no random bytes", false },
}
---The stable error codes: every key of M.CODES, the ones octopus.money.engine, octopus.money.client
---and octopus.history.store add with M.define at require time (spec/annotations_spec.lua
---fails when this list and errors.CODES differ). Beside these, err.code may be
---HTTP_<status> (kind http) or one of Kraken's codes passed through (KT-CT-1201, kind graphql).
---@alias octopus.ErrorCode
---| "CONNECT" # network: could not connect
---| "DNS" # network: could not resolve the host
---| "TIMEOUT" # network: the request timed out
---| "TLS" # network: TLS handshake or certificate verification failed
---| "TOO_LARGE" # network: the response is too large
---| "BAD_URL" # network usage: the URL is malformed
---| "NETWORK" # network: network failure
---| "PROTOCOL" # network: the server's reply broke the HTTP protocol
---| "ABORTED" # network: the transfer was aborted
---| "CALLBACK" # usage: a callback raised
---| "UNSUPPORTED" # usage: not supported
---| "CANCELLED" # usage: cancelled
---| "TASK_ERROR" # usage: the task raised
---| "DECODE" # decode: the response could not be decoded
---| "JSON_SYNTAX" # decode: invalid JSON
---| "JSON_UTF8" # decode: invalid UTF-8 in JSON
---| "JSON_DEPTH" # decode: JSON nested too deeply
---| "BASE64" # decode: invalid base64
---| "AUTH" # auth: authentication failed
---| "AUTH_INVALID" # auth: the credentials are invalid
---| "FORBIDDEN" # auth: forbidden
---| "JWT_MALFORMED" # auth: malformed JWT
---| "BLOCKED" # http: the API's edge refused the request
---| "NOT_FOUND" # http graphql usage: not found
---| "VALIDATION" # http: the request failed validation
---| "BAD_REQUEST" # http: bad request
---| "RATE_LIMITED" # rate_limit: rate limited
---| "GRAPHQL" # graphql: the GraphQL request failed
---| "GRAPHQL_VALIDATION" # graphql: the GraphQL document failed validation
---| "QUERY_TOO_COMPLEX" # graphql: the query is too complex
---| "INVALID_POSTCODE" # graphql: the postcode is not valid
---| "UNAVAILABLE" # graphql: the service is unavailable
---| "FILE" # io: file error
---| "RANDOM" # io: no random bytes
---| "NO_PRICE" # money: no price for part of the period
---| "NO_CAPACITY" # money: a per-capacity charge without the contracted capacity
---| "UNSUPPORTED_UNIT" # money: a standing-charge unit type the bill engine cannot price
---| "GAPS" # money: half hours without a reading
---| "NO_DATA" # money: no readings to project from
---| "OVERFLOW" # money: beyond the exact range of this Lua
---| "UNKNOWN_PRODUCT" # money: no such product in the supply point's area
---| "NO_SUPPLY_POINT" # money: the account has no such electricity supply point
---| "BUSY" # storage: the database is locked by another connection
---| "READONLY" # storage: the database is read-only
---| "DISK_FULL" # storage: the disk or database is full
---| "CONSTRAINT" # storage: a database constraint failed
---| "CANTOPEN" # storage: the database file cannot be opened
---| "CORRUPT" # storage: the file is not a valid database
---| "IO" # storage: a disk I/O error
---| "SQLITE" # storage: SQLite failed
---| "SCHEMA" # storage: the database schema is not one this version knows

---@alias octopus.ErrorKind "network"|"http"|"graphql"|"auth"|"rate_limit"|"decode"|"usage"|"io"|"storage"|"money"

---Every operational failure (Lua- or C-made; tostring(err) is "CODE: message").
---@class octopus.Error
---@field code octopus.ErrorCode|string stable (or HTTP_<status>, KT-...)
---@field kind octopus.ErrorKind
---@field message string         scrubbed of the client's secrets
---@field retryable? boolean
---@field status? integer         the HTTP status
---@field retry_after? number     seconds (RATE_LIMITED, 429, 503)
---@field sent? boolean           false: the request provably never reached the server
---@field method? string
---@field url? string             redacted
---@field attempts? integer
---@field fields? table           VALIDATION: the API's errors by field
---@field errors? table[]         GraphQL: every entry of the response's errors
---@field data? table             GraphQL: partial data
---@field graphql_code? string    GraphQL: the first extensions.errorCode
---@field offset? integer         JSON_*: the byte offset
---@field is_retryable fun(self: octopus.Error): boolean

local CODES = M.CODES

-- errors.known(code [, kind]) -> bool: a stable code (with that kind)
---@param code any
---@param kind? octopus.ErrorKind
---@return boolean known a stable code (with that kind), HTTP_<status> or KT-...
function M.known(code, kind)
  if type(code) ~= "string" then return false end
  local c = CODES[code]
  if c then return kind == nil or find(" " .. c[1] .. " ", " " .. kind .. " ", 1, true) ~= nil end
  if find(code, "^HTTP_%d%d%d$") then return kind == nil or kind == "http" end
  if find(code, "^KT%-%u+%-%d+$") then return kind == nil or kind == "graphql" or kind == "rate_limit" end
  return false
end

-- errors.define(code, kinds, message, retryable): a layer adds its own stable codes
-- (the SQLite store, the bill engine) to the one table, once, at require time
---A layer adds its own stable codes, once, at require time (raises when the code
---exists with other kinds).
---@param code string
---@param kinds string space-separated kinds ("storage")
---@param message string the default message
---@param retryable? boolean
function M.define(code, kinds, message, retryable)
  if CODES[code] and CODES[code][1] ~= kinds then
    error("octopus.errors.define: code " .. code .. " is already defined with kinds " .. CODES[code][1], 2)
  end
  CODES[code] = { kinds, message, retryable == true }
end

local function default_message(e)
  local c = CODES[e.code]
  if c then return c[2] end
  if e.status then return "HTTP " .. tostring(e.status) end
  return (gsub(lower(e.code), "_", " "))
end

local function default_retryable(code)
  local c = CODES[code]
  if c then return c[3] end
  return code == "HTTP_502" or code == "HTTP_503" or code == "HTTP_504" or code == "KT-CT-1199"
end

-- err:is_retryable() -> bool (works on C errors too)
local methods = error_mt.__index
if type(methods) ~= "table" then
  methods = {}
  error_mt.__index = methods
end
---err:is_retryable() (C errors too): an explicit retryable wins, else the code's default.
---@param e octopus.Error
---@return boolean
function methods.is_retryable(e)
  if e.retryable ~= nil then return e.retryable == true end
  return default_retryable(e.code)
end

-- errors.is(v) -> true when v is an error object (Lua- or C-made)
---@param v any
---@return boolean is v is an error object (Lua- or C-made)
function M.is(v)
  return type(v) == "table" and getmetatable(v) == error_mt
end

-- errors.new{ code=, kind=, message=, status=, retry_after=, retryable=, method=,
--             url=, fields=, errors=, data=, attempts=, ... } -> error object.
-- code and kind are required (raises otherwise); other keys are copied as given.
---@class octopus.ErrorFields: table
---@field code octopus.ErrorCode|string
---@field kind octopus.ErrorKind
---@field message? string
---@field status? integer
---@field retryable? boolean

---Builds an error; code and kind are required (raises otherwise), other keys are copied.
---@param t octopus.ErrorFields
---@return octopus.Error err
function M.new(t)
  if type(t) ~= "table" then
    error("octopus.errors.new: expected a table (got " .. type(t) .. ")", 2)
  end
  if type(t.code) ~= "string" or t.code == "" then
    error("octopus.errors.new: 'code' must be a non-empty string (got " .. type(t.code) .. ")", 2)
  end
  if not M.KINDS[t.kind] then
    error("octopus.errors.new: 'kind' must be one of network, http, graphql, auth, rate_limit, " ..
          "decode, usage, io, storage, money (got " .. tostring(t.kind) .. ")", 2)
  end
  if t.message ~= nil and type(t.message) ~= "string" then
    error("octopus.errors.new: 'message' must be a string (got " .. type(t.message) .. ")", 2)
  end
  if t.status ~= nil and type(t.status) ~= "number" then
    error("octopus.errors.new: 'status' must be a number (got " .. type(t.status) .. ")", 2)
  end
  local e = {}
  for k, v in pairs(t) do e[k] = v end
  if e.message == nil then e.message = default_message(e) end
  if e.retryable == nil then e.retryable = default_retryable(e.code) end
  return setmetatable(e, error_mt)
end

-- errors.from_core(core_err [, { method=, url= }]) -> error object adopting a C error
---@param ce table a C core error
---@param ctx? { method?: string, url?: string }
---@return octopus.Error err
function M.from_core(ce, ctx)
  if type(ce) ~= "table" or type(ce.code) ~= "string" then
    error("octopus.errors.from_core: expected a core error (got " .. type(ce) .. ")", 2)
  end
  local e = {}
  for k, v in pairs(ce) do e[k] = v end
  if not M.KINDS[e.kind] then e.kind = "network" end
  if type(e.message) ~= "string" then e.message = default_message(e) end
  if ctx then
    if ctx.method ~= nil then e.method = ctx.method end
    if ctx.url ~= nil then e.url = M.redact_url(ctx.url) end
  end
  e.retryable = default_retryable(e.code)
  return setmetatable(e, error_mt)
end

------------------------------------------------------------------------------
-- Redaction

local SECRET_WORDS = { "key", "token", "password", "secret", "signature", "refresh" }

local function secret_name(k)
  k = lower((gsub(k, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end)))
  for i = 1, #SECRET_WORDS do
    if find(k, SECRET_WORDS[i], 1, true) then return true end
  end
  return false
end

-- errors.redact_url(url) -> url without userinfo, secret-looking query values
-- replaced by REDACTED (api_key, apikey, token, password, secret, signature,
-- refresh, ... case-insensitive). Non-strings come back unchanged.
---@param url any
---@return any url without userinfo, secret-looking query values as REDACTED (non-strings as given)
function M.redact_url(url)
  if type(url) ~= "string" then return url end
  local frag = ""
  local hash = find(url, "#", 1, true)
  if hash then url, frag = sub(url, 1, hash - 1), sub(url, hash) end
  local scheme, authority, rest = url:match("^(%a[%w+.%-]*://)([^/?]*)(.*)$")
  if scheme then
    local at = authority:match("^.*()@")
    if at then authority = sub(authority, at + 1) end
    url = scheme .. authority .. rest
  end
  local q = find(url, "?", 1, true)
  if not q then return url .. frag end
  local base, query = sub(url, 1, q), sub(url, q + 1)
  local parts = {}
  for pair in (query .. "&"):gmatch("([^&]*)&") do
    local k, eq = pair:match("^([^=]*)(=?)")
    if eq == "=" and secret_name(k) then pair = k .. "=REDACTED" end
    parts[#parts + 1] = pair
  end
  return base .. concat(parts, "&") .. frag
end

-- errors.redact(s, secrets) -> s with every occurrence of each secret (plain
-- text, not a pattern) replaced by "[REDACTED]". Empty secrets are ignored.
---@param s any
---@param secrets string[]
---@return any s every secret replaced by [REDACTED] (non-strings as given)
function M.redact(s, secrets)
  if type(s) ~= "string" or type(secrets) ~= "table" then return s end
  for _, secret in pairs(secrets) do
    if type(secret) == "string" and secret ~= "" then
      local out, init = {}, 1
      while true do
        local i, j = find(s, secret, init, true)
        if not i then break end
        out[#out + 1] = sub(s, init, i - 1)
        out[#out + 1] = "[REDACTED]"
        init = j + 1
      end
      if init > 1 then
        out[#out + 1] = sub(s, init)
        s = concat(out)
      end
    end
  end
  return s
end

-- errors.scrub(e, secrets) -> e with every string reachable from it redacted: the
-- message and url, and inside copies of its tables (errors, data, fields, extensions at
-- any depth; keys too). The tables a server's answer decoded into are not modified (the
-- caller may still hold them); metatables (JSON array/object markers) are kept.
---@param e octopus.Error
---@param secrets string[]
---@return octopus.Error e every string reachable from it redacted (tables copied)
function M.scrub(e, secrets)
  if type(secrets) ~= "table" or secrets[1] == nil then return e end
  local seen = {}
  local function copy(v, depth)
    local t = type(v)
    if t == "string" then return M.redact(v, secrets) end
    if t ~= "table" or depth > 64 then return v end
    if seen[v] then return seen[v] end
    local c = setmetatable({}, getmetatable(v))
    seen[v] = c
    for k, x in pairs(v) do c[copy(k, depth + 1)] = copy(x, depth + 1) end
    return c
  end
  for k, v in pairs(e) do e[k] = copy(v, 1) end
  return e
end

------------------------------------------------------------------------------
-- HTTP dates and Retry-After

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6,
                 jul = 7, aug = 8, sep = 9, oct = 10, nov = 11, dec = 12 }
local WDAYS = { mon = true, tue = true, wed = true, thu = true, fri = true, sat = true, sun = true,
                monday = true, tuesday = true, wednesday = true, thursday = true, friday = true,
                saturday = true, sunday = true }



local MDAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

local function epoch(wd, d, mon, y, hh, mi, ss)
  if not wd or not WDAYS[lower(wd)] then return nil end
  local m = MONTHS[lower(mon)]
  d, y, hh, mi, ss = tonumber(d), tonumber(y), tonumber(hh), tonumber(mi), tonumber(ss)
  if not m or d < 1 or d > MDAYS[m] or hh > 23 or mi > 59 or ss > 60 then return nil end
  if m == 2 and d == 29 and not ((y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0) then return nil end
  return days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss
end

-- errors.http_date(s) -> epoch seconds | nil. RFC 7231 IMF-fixdate
-- ("Sun, 06 Nov 1994 08:49:37 GMT") and the obsolete RFC 850
-- ("Sunday, 06-Nov-94 08:49:37 GMT", yy < 70 -> 20yy) and asctime
-- ("Sun Nov  6 08:49:37 1994") forms.
---@param s any an HTTP date (IMF-fixdate, RFC 850 or asctime)
---@return integer|nil epoch
function M.http_date(s)
  if type(s) ~= "string" then return nil end
  local wd, d, mon, y, hh, mi, ss =
    s:match("^%s*(%a%a%a), (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT%s*$")
  if wd then return epoch(wd, d, mon, y, hh, mi, ss) end
  wd, d, mon, y, hh, mi, ss =
    s:match("^%s*(%a+), (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT%s*$")
  if wd then
    y = tonumber(y)
    return epoch(wd, d, mon, y < 70 and 2000 + y or 1900 + y, hh, mi, ss)
  end
  wd, mon, d, hh, mi, ss, y =
    s:match("^%s*(%a%a%a) (%a%a%a) ([ %d]%d) (%d%d):(%d%d):(%d%d) (%d%d%d%d)%s*$")
  if wd then return epoch(wd, (gsub(d, " ", "")), mon, y, hh, mi, ss) end
  return nil
end

-- errors.retry_after(value [, now]) -> whole seconds to wait (>= 0) | nil.
-- value: delay-seconds ("120") or an HTTP date; now: epoch seconds (default os.time()).
---@param v any delay-seconds ("120", 120) or an HTTP date
---@param now? number epoch seconds (default os.time())
---@return integer|nil seconds whole seconds to wait (>= 0)
function M.retry_after(v, now)
  if type(v) == "number" then
    if v ~= v or v < 0 or v == 1 / 0 then return nil end
    return ceil(v)
  end
  if type(v) ~= "string" then return nil end
  local n = v:match("^%s*(%d+)%s*$")
  if n then return tonumber(n) end
  local at = M.http_date(v)
  if not at then return nil end
  local wait = ceil(at - (now or os_time()))
  if wait < 0 then return 0 end
  return wait
end

return M
