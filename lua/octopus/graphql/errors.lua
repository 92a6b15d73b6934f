-- octopus.graphql.errors: a GraphQL `errors` array read as one error object, by
-- Kraken's rules. The table below is the only copy of the errorCode mapping.
--
-- Error codes (err.code, stable). Classified by extensions.errorCode first, then by
-- extensions.errorType, then by HTTP status (a 4xx/5xx whose body carries GraphQL
-- `errors` is a GraphQL error; an HTML or empty body stays the pipeline's transport error):
--
--   errorCode                         err.code            kind        notes
--   KT-CT-1111, KT-CT-4177            FORBIDDEN           auth        not yours / not allowed
--   KT-CT-1112, 1120, 1124, 1143      AUTH                auth        after one refresh + retry
--   KT-CT-1134, KT-CT-1135            AUTH                auth        refresh token expired/invalid
--   KT-CT-1138, KT-CT-1139            AUTH_INVALID        auth        bad credentials; sticky, never retried
--   KT-CT-1113                        UNSUPPORTED         usage       disabled field
--   KT-CT-1188, KT-CT-1189            QUERY_TOO_COMPLEX   graphql     shrink the query
--   KT-CT-1199                        RATE_LIMITED        rate_limit  retry_after from the extensions
--                                                                     (retryAfter, else ttl - now), else 60
--   KT-JP-4601                        INVALID_POSTCODE    graphql
--   any other code (e.g. KT-CT-1201)  the code itself     graphql
--   no code, errorType AUTHORIZATION  FORBIDDEN           auth
--   no code, errorType VALIDATION     GRAPHQL_VALIDATION  graphql
--   no code, errorType NOT_FOUND      NOT_FOUND           graphql
--   no code, SERVICE_AVAILABILITY     UNAVAILABLE         graphql     retryable
--   anything else                     GRAPHQL             graphql
-- Every GraphQL error also carries err.errors (every entry, a copy with the client's secrets
-- scrubbed from every string in it, at any depth), err.data (scrubbed likewise)
-- (partial data, nil when null) and err.graphql_code (the first errorCode, or nil).
--
--
--   errors.error(client, errs, data, status) -> error object
--   errors.decode_error(client, message) -> DECODE (a response without the asked-for shape)
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local private = require "octopus.pipeline.private"

local null = core.json.null
local type, ipairs = type, ipairs
local floor, max = math.floor, math.max

local M = {}

M.DEFAULT_RETRY_AFTER = 60

local CODES = {
  ["KT-CT-1111"] = { "FORBIDDEN", "auth" }, ["KT-CT-4177"] = { "FORBIDDEN", "auth" },
  ["KT-CT-1112"] = { "AUTH", "auth" }, ["KT-CT-1120"] = { "AUTH", "auth" },
  ["KT-CT-1124"] = { "AUTH", "auth" }, ["KT-CT-1143"] = { "AUTH", "auth" },
  ["KT-CT-1134"] = { "AUTH", "auth" }, ["KT-CT-1135"] = { "AUTH", "auth" },
  ["KT-CT-1138"] = { "AUTH_INVALID", "auth" }, ["KT-CT-1139"] = { "AUTH_INVALID", "auth" },
  ["KT-CT-1113"] = { "UNSUPPORTED", "usage" },
  ["KT-CT-1188"] = { "QUERY_TOO_COMPLEX", "graphql" }, ["KT-CT-1189"] = { "QUERY_TOO_COMPLEX", "graphql" },
  ["KT-CT-1199"] = { "RATE_LIMITED", "rate_limit" },
  ["KT-JP-4601"] = { "INVALID_POSTCODE", "graphql" },
}
M.CODES = CODES
local TYPES = {
  AUTHORIZATION = { "FORBIDDEN", "auth" }, VALIDATION = { "GRAPHQL_VALIDATION", "graphql" },
  NOT_FOUND = { "NOT_FOUND", "graphql" }, SERVICE_AVAILABILITY = { "UNAVAILABLE", "graphql" },
}
-- codes after which the call refreshes the token once and is retried once
M.EXPIRED = { ["KT-CT-1112"] = true, ["KT-CT-1120"] = true, ["KT-CT-1124"] = true, ["KT-CT-1143"] = true }

local function extensions(e)
  return type(e) == "table" and type(e.extensions) == "table" and e.extensions or {}
end

local function str(v) return type(v) == "string" and v or nil end

-- M.error(client, errs, data, status) -> error object for a GraphQL `errors` array
-- (err.errors is a scrubbed copy of errs)
function M.error(client, errs, data, status)
  local secrets = private.of(client).secrets
  local first, code = errs[1], nil
  for _, e in ipairs(errs) do
    local c = str(extensions(e).errorCode)
    if c then first, code = e, c; break end
  end
  local ext = extensions(first)
  local map = code and CODES[code] or (not code and TYPES[str(ext.errorType) or ""]) or nil
  local e = { errors = errs, graphql_code = code, status = status, method = "POST",
              url = errors.redact_url(client.graphql_url), retryable = false,
              data = (data ~= nil and data ~= null) and data or nil }
  if map then e.code, e.kind = map[1], map[2] elseif code then e.code, e.kind = code, "graphql"
  else e.code, e.kind = "GRAPHQL", "graphql" end
  local msg = str(type(first) == "table" and first.message) or "GraphQL error"
  local desc = str(ext.errorDescription)
  if desc and desc ~= msg then msg = msg .. ": " .. desc end
  if code then msg = msg .. " (" .. code .. ")" end
  if #errs > 1 then msg = msg .. " (and " .. (#errs - 1) .. " more error" .. (#errs > 2 and "s" or "") .. ")" end
  if e.code == "RATE_LIMITED" then
    local ra = errors.retry_after(ext.retryAfter)
    if not ra and type(ext.ttl) == "number" and ext.ttl == ext.ttl then
      ra = max(0, floor(ext.ttl - client.clock.wall()))   -- ttl: a Unix time
    end
    e.retry_after, e.retryable = ra or M.DEFAULT_RETRY_AFTER, true
    msg = msg .. "; retry after " .. e.retry_after .. " s"
  elseif e.code == "UNAVAILABLE" then
    e.retryable = true
  end
  e.message = msg
  return errors.scrub(errors.new(e), secrets)   -- copies: the decoded answer stays as it was
end

-- M.decode_error(client, message) -> a DECODE error for a GraphQL response that does not
-- have the shape asked for (also used by octopus.auth and octopus.readings)
function M.decode_error(client, message)
  return errors.new { code = "DECODE", kind = "decode", method = "POST", retryable = false,
    url = errors.redact_url(client.graphql_url), message = message }
end

return M
