-- octopus.errors -- the one error model: objects, redaction, Retry-After.
--
-- Every operational failure is an error object sharing core.error_mt with the
-- C core's errors, so `tostring(err)` reads "CODE: message" for both and the
-- methods below (err:is_retryable()) work on both.
--
-- Stable codes (kind):
--   network    CONNECT, DNS, TIMEOUT, TLS, TOO_LARGE, BAD_URL, NETWORK, ABORTED
--   usage      CALLBACK, BAD_URL (a URL the client refuses), UNSUPPORTED, CANCELLED
--   decode     JSON_SYNTAX, JSON_UTF8, JSON_DEPTH, DECODE
--   auth       AUTH, AUTH_INVALID, FORBIDDEN, JWT_MALFORMED
--   http       BLOCKED, NOT_FOUND, VALIDATION, BAD_REQUEST, HTTP_<status>
--   rate_limit RATE_LIMITED
--   io         FILE (a token file: core.write_private, octopus.token_file)
--   graphql    GRAPHQL, GRAPHQL_VALIDATION, QUERY_TOO_COMPLEX, INVALID_POSTCODE, UNAVAILABLE,
--              NOT_FOUND, and Kraken's unmapped codes passed through (KT-CT-1201, ...);
--              the errorCode table is in octopus.graphql
-- Retryable by default: CONNECT, TIMEOUT, NETWORK, RATE_LIMITED, HTTP_502/503/504,
-- KT-CT-1199; never DNS, TLS, BAD_URL, TOO_LARGE. An explicit `retryable` wins.
--
-- Invariants: messages and URLs pass through redact/redact_url before they are
-- stored by the client; this module never logs. Pure Lua, 5.1/LuaJIT and 5.4.

local days_from_civil = require("octopus.pipeline.time").days_from_civil
local core = require "octopus.core"

local type, pairs, tostring, tonumber, error, setmetatable, getmetatable =
  type, pairs, tostring, tonumber, error, setmetatable, getmetatable
local find, sub, lower, gsub, char = string.find, string.sub, string.lower, string.gsub, string.char
local concat = table.concat
local floor, ceil = math.floor, math.ceil
local os_time = os.time
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

local M = {}
local error_mt = core.error_mt
M.mt = error_mt

M.KINDS = { network = true, http = true, graphql = true, auth = true,
            rate_limit = true, decode = true, usage = true, io = true }

local RETRYABLE = { CONNECT = true, TIMEOUT = true, NETWORK = true, RATE_LIMITED = true,
                    HTTP_502 = true, HTTP_503 = true, HTTP_504 = true, ["KT-CT-1199"] = true }

local DEFAULT_MESSAGE = {
  CONNECT = "could not connect", DNS = "could not resolve the host", TIMEOUT = "the request timed out",
  TLS = "TLS handshake or certificate verification failed", TOO_LARGE = "the response is too large",
  BAD_URL = "the URL is malformed", NETWORK = "network failure", ABORTED = "the transfer was aborted",
  CALLBACK = "a callback raised", DECODE = "the response could not be decoded",
  JSON_SYNTAX = "invalid JSON", JSON_UTF8 = "invalid UTF-8 in JSON", JSON_DEPTH = "JSON nested too deeply",
  AUTH = "authentication failed", AUTH_INVALID = "the credentials are invalid",
  FORBIDDEN = "forbidden", BLOCKED = "the API's edge refused the request", NOT_FOUND = "not found",
  VALIDATION = "the request failed validation", BAD_REQUEST = "bad request",
  RATE_LIMITED = "rate limited", GRAPHQL = "the GraphQL request failed",
  UNSUPPORTED = "not supported", CANCELLED = "cancelled",
  FILE = "file error", QUERY_TOO_COMPLEX = "the query is too complex", INVALID_POSTCODE = "the postcode is not valid",
  GRAPHQL_VALIDATION = "the GraphQL document failed validation", UNAVAILABLE = "the service is unavailable",
}

local function default_message(e)
  local m = DEFAULT_MESSAGE[e.code]
  if m then return m end
  if e.status then return "HTTP " .. tostring(e.status) end
  return (gsub(lower(e.code), "_", " "))
end

-- err:is_retryable() -> bool (works on C errors too)
local methods = error_mt.__index
if type(methods) ~= "table" then
  methods = {}
  error_mt.__index = methods
end
function methods.is_retryable(e)
  if e.retryable ~= nil then return e.retryable == true end
  return RETRYABLE[e.code] == true
end

-- errors.is(v) -> true when v is an error object (Lua- or C-made)
function M.is(v)
  return type(v) == "table" and getmetatable(v) == error_mt
end

-- errors.new{ code=, kind=, message=, status=, retry_after=, retryable=, method=,
--             url=, fields=, errors=, data=, attempts=, ... } -> error object.
-- code and kind are required (raises otherwise); other keys are copied as given.
function M.new(t)
  if type(t) ~= "table" then
    error("octopus.errors.new: expected a table (got " .. type(t) .. ")", 2)
  end
  if type(t.code) ~= "string" or t.code == "" then
    error("octopus.errors.new: 'code' must be a non-empty string (got " .. type(t.code) .. ")", 2)
  end
  if not M.KINDS[t.kind] then
    error("octopus.errors.new: 'kind' must be one of network, http, graphql, auth, rate_limit, " ..
          "decode, usage (got " .. tostring(t.kind) .. ")", 2)
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
  if e.retryable == nil then e.retryable = RETRYABLE[e.code] == true end
  return setmetatable(e, error_mt)
end

-- errors.from_core(core_err [, { method=, url= }]) -> error object adopting a C error
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
  e.retryable = RETRYABLE[e.code] == true
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
