-- octopus.url: the URL builder of the request pipeline (pure Lua, no I/O).
--
-- Invariants: every path segment is percent-encoded on its own, so a segment
-- can never add, remove or climb path levels ("../accounts" stays one segment,
-- "." and ".." are encoded too); built paths end with "/"; query keys are
-- emitted in sorted order (deterministic URLs); only https is accepted, plus
-- http for loopback hosts (127.0.0.0/8, localhost, [::1]).
local M = {}

local concat, sort, type, tostring, tonumber = table.concat, table.sort, type, tostring, tonumber
local format, floor = string.format, math.floor

-- RFC 3986 unreserved characters stay; everything else becomes %XX.
---@param s string
---@return string escaped RFC 3986 unreserved characters kept, everything else %XX
local function escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return format("%%%02X", c:byte()) end))
end
M.escape = escape

-- A scalar as query/path text: integral numbers without ".0", booleans spelled out.
local function text(v, what)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if v == floor(v) and v > -2^53 and v < 2^53 then return format("%d", v) end
    return tostring(v)
  end
  if t == "boolean" then return v and "true" or "false" end
  error(what .. " must be a string, number or boolean (got " .. t .. ")", 4)
end

-- encode_segment("../accounts") -> "..%2Faccounts"; "." / ".." -> "%2E" / "%2E%2E".
---One path segment, percent-encoded on its own ("." and ".." too); raises on an empty one.
---@param v string|number|boolean
---@param i? integer its position (in messages)
---@return string segment
function M.encode_segment(v, i)
  local s = text(v, "path segment " .. tostring(i or 1))
  if s == "" then error("path segment " .. tostring(i or 1) .. " is empty", 3) end
  if s:match("^%.+$") then return (s:gsub("%.", "%%2E")) end
  return escape(s)
end

-- join(base, {"products", code}) -> base .. "products/<code>/"  (base ends with "/").
-- A plain segment (unreserved characters only, not all dots) is used as it is.
local find = string.find
local function segment(v, i)
  if type(v) == "string" and v ~= "" and not find(v, "[^%w%-_~%.]") and find(v, "[^%.]") then return v end
  return M.encode_segment(v, i)
end
---@param base string ends with "/"
---@param segments (string|number|boolean)[]
---@return string url base .. "a/b/" (each segment encoded)
function M.join(base, segments)
  local n = #segments
  if n == 1 then return base .. segment(segments[1], 1) .. "/" end   -- the common case, without a table
  local out = {}
  for i = 1, n do out[i] = segment(segments[i], i) end
  if n == 0 then return base end
  return base .. concat(out, "/") .. "/"
end

-- query{ b = true, a = "x y", l = {1, 2} } -> "a=x%20y&b=true&l=1&l=2" (nil values skipped).
---@param q table<string, string|number|boolean|table> a table value repeats the key
---@return string query keys sorted, nil values skipped
function M.query(q)
  local keys = {}
  for k in pairs(q) do
    if type(k) ~= "string" then error("query keys must be strings", 3) end
    keys[#keys + 1] = k
  end
  sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = q[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do out[#out + 1] = escape(k) .. "=" .. escape(text(item, "query '" .. k .. "'")) end
    else
      out[#out + 1] = escape(k) .. "=" .. escape(text(v, "query '" .. k .. "'"))
    end
  end
  return concat(out, "&")
end

-- with_query(url, q): appends an encoded query, keeping one already present.
---@param url string
---@param q? table
---@return string url with the encoded query appended (keeping one already there)
function M.with_query(url, q)
  if not q or next(q) == nil then return url end
  local qs = M.query(q)
  if qs == "" then return url end
  return url .. (url:find("?", 1, true) and "&" or "?") .. qs
end

-- parse(url) -> { scheme, host, port, path } or nil, reason. Lower-cases scheme/host.
---@param url any
---@return { scheme: string, host: string, port: integer?, path: string, userinfo: string? }|nil parts
---@return string|nil why
function M.parse(url)
  if type(url) ~= "string" then return nil, "not a string" end
  local scheme, authority, rest = url:match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil, "not an absolute URL" end
  scheme = scheme:lower()
  local userinfo
  if authority:find("@", 1, true) then
    userinfo, authority = authority:match("^(.*)@(.*)$")
  end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^(%[[^%]]*%])(.*)$")
    if not host then return nil, "bad IPv6 host" end
  else
    host, port = authority:match("^([^:]*)(.*)$")
  end
  if port ~= "" then
    port = port:match("^:(%d+)$")
    if not port then return nil, "bad port" end
    port = tonumber(port)
  else
    port = (scheme == "https" and 443) or (scheme == "http" and 80) or nil
  end
  if host == "" then return nil, "no host" end
  return { scheme = scheme, host = host:lower(), port = port, path = rest, userinfo = userinfo }
end

-- origin(url) -> "https://host:443" (normalised, for same-origin checks) or nil.
---@param url string
---@return string|nil origin "https://host:443" (normalised)
function M.origin(url)
  local u = M.parse(url)
  if not u then return nil end
  return u.scheme .. "://" .. u.host .. ":" .. tostring(u.port)
end

---@param host string
---@return boolean loopback 127.0.0.0/8, localhost, [::1]
function M.is_loopback(host)
  if host == "localhost" or host == "[::1]" or host == "::1" then return true end
  local a, b, c = host:match("^127%.(%d+)%.(%d+)%.(%d+)$")
  return a ~= nil and tonumber(a) < 256 and tonumber(b) < 256 and tonumber(c) < 256
end

-- check_base(url) -> true or nil, reason: https, or http on a loopback host; no
-- query or fragment; no credentials in the URL.
---@param url string
---@return true|nil ok https, or http on a loopback host; no query, fragment or credentials
---@return string|nil why
function M.check_base(url)
  local u, why = M.parse(url)
  if not u then return nil, why end
  if u.userinfo then return nil, "must not carry credentials" end
  if u.scheme == "http" then
    if not M.is_loopback(u.host) then return nil, "must use https (http only for loopback hosts)" end
  elseif u.scheme ~= "https" then
    return nil, "must use https"
  end
  if u.path:find("[?#]") then return nil, "must not have a query or fragment" end
  return true
end

-- ensure_slash("https://h/v1") -> "https://h/v1/"
---@param url string
---@return string url ending with "/"
function M.ensure_slash(url)
  if url:sub(-1) == "/" then return url end
  return url .. "/"
end

return M
