-- octopus.sandbox.rest_common: what every sandbox REST route module shares: DRF
-- pagination with absolute next/previous links, ISO 8601 query times, Basic auth with an
-- API key, the "Not found." text. Used by octopus.sandbox.rest and .rest_tariffs, so
-- neither needs the other (no require cycle).
--
--   rest_common.NOT_FOUND                                  "Not found."
--   rest_common.paginate(req, state, n, fetch(i, j) -> items [, max_size]) -> res
--   rest_common.paginate_list(req, state, list [, max_size]) -> res
--   rest_common.query_time(req, name) -> epoch | nil (absent) | false, 400 res
--   rest_common.authenticate(state, req) -> user | nil, 401 res
local data = require "octopus.sandbox.data"
local json_reply = require "octopus.sandbox.json_reply"

local json, reply, detail = json_reply.json, json_reply.reply, json_reply.detail
local fmt = string.format

local M = {}

local NOT_FOUND = "Not found."
M.NOT_FOUND = NOT_FOUND

---------------------------------------------------------------------------
-- DRF pagination

-- The page's absolute URL with page=n replacing any page parameter in the query.
local function page_url(req, state, n)
  local host = req.headers.host
  local base = host and ((req.tls and "https://" or "http://") .. host)
    or (state.opts.urls and (req.tls and state.opts.urls.https or state.opts.urls.http)) or ""
  local parts = {}
  for kv in (req.raw_query or ""):gmatch("[^&]+") do
    if not kv:match("^page=") and kv ~= "page" then parts[#parts + 1] = kv end
  end
  if n > 1 then parts[#parts + 1] = "page=" .. n end
  local q = table.concat(parts, "&")
  return base .. req.path .. (q ~= "" and ("?" .. q) or "")
end

-- Slices a list of n items into the requested page. fetch(i, j) -> array of items i..j.
-- Returns a 200 res or a 404 "Invalid page.".
function M.paginate(req, state, n, fetch, max_size)
  local size = math.tointeger(tonumber(req.query.page_size or ""))
  if not size or size < 1 then size = 100 end
  if size > (max_size or 100) then size = max_size or 100 end
  local pages = math.max(1, -(-n // size))
  local p = req.query.page
  local page
  if p == nil or p == "" then page = 1
  elseif p == "last" then page = pages
  else page = tonumber(p) and p:match("^%d+$") and math.tointeger(tonumber(p)) end
  if not page or page < 1 or page > pages then return detail(404, "Invalid page.") end
  local first = (page - 1) * size + 1
  local last = math.min(n, page * size)
  local results = json.array(first <= last and fetch(first, last) or {})
  return reply(200, {
    count = n,
    next = page < pages and page_url(req, state, page + 1) or json.null,
    previous = page > 1 and page_url(req, state, page - 1) or json.null,
    results = results,
  })
end

-- Paginates an in-memory array.
function M.paginate_list(req, state, list, max_size)
  return M.paginate(req, state, #list, function(i, j)
    local out = {}
    for k = i, j do out[#out + 1] = list[k] end
    return out
  end, max_size)
end

---------------------------------------------------------------------------
-- query helpers

-- A datetime query parameter -> epoch, nil when absent, or false + 400 res when invalid.
function M.query_time(req, name)
  local v = req.query[name]
  if v == nil or v == "" then return nil end
  local t = data.parse_time(v)
  if not t then return false, detail(400, fmt("Invalid datetime for %s: %q. Use ISO 8601, "
    .. "e.g. 2026-11-01T00:00:00+09:00.", name, v)) end
  return t
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- standard base64 (padding optional) -> string, or nil when malformed
local function base64_decode(s)
  s = s:gsub("=+$", "")
  if s:find("[^%w%+/]") or #s % 4 == 1 then return nil end
  local out, bits, nbits = {}, 0, 0
  for i = 1, #s do
    bits = bits * 64 + (B64:find(s:sub(i, i), 1, true) - 1)
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      local byte = bits // (1 << nbits)
      out[#out + 1] = string.char(byte)
      bits = bits - byte * (1 << nbits)
    end
  end
  return table.concat(out)
end

-- Basic auth: the user, or nil + 401 res.
function M.authenticate(state, req)
  local h = req.headers.authorization
  local hdr = { ["WWW-Authenticate"] = 'Basic realm="api"' }
  if not h or h == "" then
    return nil, detail(401, "Authentication credentials were not provided.", hdr)
  end
  local b64 = h:match("^[Bb]asic%s+(%S+)%s*$")
  local decoded = b64 and base64_decode(b64)
  local key = decoded and decoded:match("^([^:]*)")
  local user = key and key ~= "" and state.ds:user_by_key(key)
  if not user then return nil, detail(401, "Invalid API key.", hdr) end
  return user
end

return M
