-- octopus.sandbox.apps.echo: test routes for the C core specs (`octopus-sandbox --app echo`),
-- served by octopus.sandbox.server. Shape of every app: { new = function(opts) -> handler,
-- info }. Runs in the server (Lua 5.4).
--
--   ANY  /echo            200 JSON {method, path, query, raw_query, headers, body, tls}
--   GET  /status/{n}      status n, JSON {"status": n} (no body for 204/304)
--   GET  /delay/{s}       waits s seconds (server.sleep, non-blocking), then JSON {"delay": s}
--   GET  /bytes/{n}       n bytes ("x"...) with Content-Length (streamed when large)
--   GET  /stream/{n}      n bytes, chunked, no Content-Length
--   GET  /gzip            JSON {"gzipped": bool}; gzip-encoded when Accept-Encoding has gzip
--   GET  /drop/before     closes the connection without a response
--   GET  /drop/mid        headers with full Content-Length, half the body, then close
--   GET  /headers         repeated headers: two Set-Cookie, two X-Multi
--   GET  /big-declared    Content-Length: 104857600, sends 1 KB, then closes
--   GET  /json/{n}        JSON array of n small objects (decoder-sized payloads)
--   GET  /error           the handler raises: the engine answers 500 JSON
--   anything else         404 JSON {"detail": "Not found."}
local server = require "octopus.sandbox.server"

local M = {}

-- JSON that passes every byte of a string through (only '"', '\\' and control characters
-- are escaped), so /echo reflects a binary body exactly; octopus.core.json rightly refuses
-- invalid UTF-8, which is why this app does not use it. Empty tables are objects.
local function encode(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
      return ("\\u%04x"):format(c:byte())
    end) .. '"'
  elseif t == "number" then
    return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local out = {}
    if #v > 0 then
      for i = 1, #v do out[i] = encode(v[i]) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do out[i] = encode(k) .. ":" .. encode(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return "null"
end

local JSON = { ["Content-Type"] = "application/json" }

local function json(status, t, extra)
  local headers = { ["Content-Type"] = "application/json" }
  for k, v in pairs(extra or {}) do headers[k] = v end
  return { status = status, headers = headers, body = encode(t) }
end

-- Streams n bytes of "x" in 64 KB writes.
local function stream_x(n)
  local block = string.rep("x", 65536)
  return function(write)
    local left = n
    while left > 0 do
      local k = math.min(left, #block)
      write(k == #block and block or block:sub(1, k))
      left = left - k
    end
  end
end

local routes = {}

routes.echo = function(req)
  return json(200, { method = req.method, path = req.path, query = req.query,
                     raw_query = req.raw_query, headers = req.headers, body = req.body,
                     tls = req.tls })
end

routes.status = function(_, arg)
  local n = math.tointeger(tonumber(arg)) or 400
  if n == 204 or n == 304 then return { status = n } end
  return json(n, { status = n })
end

routes.delay = function(_, arg)
  local s = tonumber(arg) or 0
  server.sleep(s)
  return json(200, { delay = s })
end

routes.bytes = function(_, arg)
  local n = math.tointeger(tonumber(arg)) or 0
  local headers = { ["Content-Type"] = "application/octet-stream" }
  if n <= 1024 * 1024 then return { status = 200, headers = headers, body = string.rep("x", n) } end
  headers["Content-Length"] = tostring(n)
  return { status = 200, headers = headers, body = stream_x(n) }
end

routes.stream = function(_, arg)
  local n = math.tointeger(tonumber(arg)) or 0
  return { status = 200, chunked = true, headers = { ["Content-Type"] = "application/octet-stream" },
           body = stream_x(n) }
end

routes.gzip = function(req)
  local accept = (req.headers["accept-encoding"] or ""):lower()
  local gz = accept:find("gzip", 1, true) ~= nil
  local res = json(200, { gzipped = gz, filler = string.rep("octopus ", 64) })
  res.gzip = gz
  return res
end

routes.drop = function(_, arg)
  if arg == "before" then return { status = 200, drop = "before_body" } end
  return { status = 200, drop = "mid_body", headers = JSON,
           body = encode({ truncated = string.rep("y", 4096) }) }
end

routes.headers = function()
  return { status = 200, headers = { ["Content-Type"] = "text/plain",
           ["Set-Cookie"] = { "a=1; Path=/", "b=2; Path=/" }, ["X-Multi"] = { "one", "two" } },
           body = "headers\n" }
end

routes["big-declared"] = function()
  return { status = 200, headers = { ["Content-Type"] = "application/octet-stream",
           ["Content-Length"] = tostring(100 * 1024 * 1024) },
           body = function(write) write(string.rep("z", 1024)) end }
end

routes.json = function(_, arg)
  local n = math.tointeger(tonumber(arg)) or 10
  local parts = {}
  for i = 1, n do
    parts[i] = ('{"id":%d,"name":"item %d","value":"%d.50","ok":true,"none":null}'):format(i, i, i)
  end
  return { status = 200, headers = { ["Content-Type"] = "application/json" },
           body = "[" .. table.concat(parts, ",") .. "]" }
end

routes.error = function()
  error("echo app: deliberate failure")
end

function M.new()
  local function handler(req)
    local name, arg = req.path:match("^/([^/]+)/?([^/]*)$")
    local route = name and routes[name]
    if not route then return json(404, { detail = "Not found." }) end
    return route(req, arg ~= "" and arg or nil)
  end
  return handler, { credentials = {} }
end

return M
