-- octopus.pipeline.classify: an HTTP response read as the API's answer. A 2xx body
-- is decoded (JSON, or raw when asked); anything else becomes an error object with a
-- stable code: DRF field errors -> VALIDATION (err.fields), 401 -> AUTH, a JSON 403
-- -> FORBIDDEN, the CDN's HTML 403 -> BLOCKED, 404 -> NOT_FOUND, 429 -> RATE_LIMITED
-- (retry_after from Retry-After), 502/503/504 retryable, else HTTP_<status>. A
-- GraphQL body on a 4xx/5xx keeps its `errors` and `data` (the GraphQL layer reads them).
--
--   classify.response(status, headers, body, ctx) -> data | nil, err
--     ctx: { method, url (redacted), expect = "json" | "raw", now (Unix s) | clock }
--     (`now` is read only for a Retry-After date: given a clock, classify asks it then)
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"

local json = core.json
local type, pairs, ipairs, tostring, next = type, pairs, ipairs, tostring, next
local concat, sort, find = table.concat, table.sort, string.find

local M = {}

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

local function now(ctx)
  if ctx.now == nil and ctx.clock then return ctx.clock.wall() end
  return ctx.now
end

-- classify(status, headers, body, ctx) -> data | nil, err (ctx: method, url, expect, now | clock)
---classify.response: an HTTP response read as the API's answer.
---@param status integer
---@param headers? table<string, string> lower-cased names
---@param body? string
---@param ctx { method?: string, url?: string, expect?: "json"|"raw", now?: number }
---@return any|nil data decoded JSON (true for an empty body; the text when expect = "raw")
---@return octopus.Error|nil err VALIDATION, AUTH, FORBIDDEN, BLOCKED, NOT_FOUND, RATE_LIMITED, HTTP_<status>, DECODE
local function classify(status, headers, body, ctx)
  body = body or ""
  if status >= 200 and status < 300 then
    if ctx.expect == "raw" then return body end
    if not find(body, "%S") then return true end
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
    e.retry_after = errors.retry_after(headers and headers["retry-after"], now(ctx))
    e.message = (detail or "rate limited (HTTP 429)") ..
                (e.retry_after and ("; retry after " .. tostring(e.retry_after) .. " s") or "")
  else
    e.code = "HTTP_" .. tostring(status)
    e.retryable = status == 502 or status == 503 or status == 504
    if e.retryable then e.retry_after = errors.retry_after(headers and headers["retry-after"], now(ctx)) end
    e.message = detail or ((status >= 500 and "server error" or "unexpected status") .. " (HTTP " .. status .. ")")
  end
  return nil, errors.new(e)
end
M.response = classify

return M
