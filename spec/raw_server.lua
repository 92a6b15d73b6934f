-- spec/raw_server.lua: a loopback server that answers with canned, deliberately broken
-- HTTP bytes (what no well-behaved engine can be made to send), for the C core's
-- classification specs (spec/protocol_spec.lua).
--
--   lua5.4 spec/raw_server.lua [ttl_seconds]
--     prints "PORT <n>" once listening on 127.0.0.1, then serves one connection at a
--     time: reads the request head (and a Content-Length body), writes the reply named by
--     the path's first segment (/long_line/v1/products/ is long_line, so a client's
--     rest_url can point at one), closes. Exits after ttl_seconds (default 120) or on
--     GET /quit. GET /hits/<name> -> 200, body = how many requests <name> received.
--
-- Routes (first path segment -> reply):
--   /http09          a body with no status line (an HTTP/0.9 reply)
--   /bad_status      "HTTP/1.1 2x0 OK" (a status code that is not three digits)
--   /garbage_status  "HELLO/1.1 200 OK"
--   /long_line       one header line of 200 KB
--   /many_headers    300 KB of header lines of 1 KB each
--   /huge_headers    1.5 MiB of header lines of 1 KB each
--   /continue_flood  20 000 "HTTP/1.1 100 Continue" responses, then a 200
--   /two_lengths     Content-Length: 5 and Content-Length: 6
--   /same_lengths    Content-Length: 5 twice (allowed: RFC 9110 8.6)
--   /bad_gzip        Content-Encoding: gzip on a body that is not
--   /bad_length      Content-Length: abc
--   /negative_length Content-Length: -5
--   /bad_chunk       a chunk size of 20 hex digits
--   /no_colon        a header line without a colon
--   /ok              a plain 200 with a body
local socket = require "socket"

local ttl = tonumber(arg and arg[1]) or 120
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
io.stdout:write("PORT ", port, "\n")
io.stdout:flush()

local function header_lines(total, prefix)
  local parts, line = {}, prefix .. ": " .. ("h"):rep(1000) .. "\r\n"
  for i = 1, math.floor(total / #line) + 1 do parts[i] = line:gsub("^(%a+)", "%1" .. i) end
  return table.concat(parts)
end

local BODY = "hello"
local routes = {
  http09 = function() return "hello from 1991\n" end,
  bad_status = function() return "HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\n" .. BODY end,
  garbage_status = function() return "HELLO/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" .. BODY end,
  long_line = function()
    return "HTTP/1.1 200 OK\r\nX-Long: " .. ("l"):rep(200 * 1024) .. "\r\nContent-Length: 5\r\n\r\n" .. BODY
  end,
  many_headers = function()
    return "HTTP/1.1 200 OK\r\n" .. header_lines(300 * 1024, "X-Many") .. "Content-Length: 5\r\n\r\n" .. BODY
  end,
  huge_headers = function()
    return "HTTP/1.1 200 OK\r\n" .. header_lines(1536 * 1024, "X-Huge") .. "Content-Length: 5\r\n\r\n" .. BODY
  end,
  continue_flood = function()
    return ("HTTP/1.1 100 Continue\r\n\r\n"):rep(20000) .. "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" .. BODY
  end,
  two_lengths = function()
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n" .. BODY .. "!"
  end,
  same_lengths = function()
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n" .. BODY
  end,
  ok = function() return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" .. BODY end,
  bad_gzip = function()
    return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip!!!!"
  end,
  bad_length = function() return "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n" .. BODY end,
  negative_length = function() return "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n" .. BODY end,
  bad_chunk = function()
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc"
  end,
  no_colon = function() return "HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 5\r\n\r\n" .. BODY end,
}

-- Reads one request head (+ body); returns the path, or nil when the client went away.
local function read_request(c)
  local line = c:receive("*l")
  if not line then return nil end
  local path = line:match("^%u+ (/[^ ?]*)")
  local length = 0
  for _ = 1, 200 do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local n = h:lower():match("^content%-length:%s*(%d+)")
    if n then length = tonumber(n) end
  end
  if length > 0 and length < 1e7 then c:receive(length) end
  return path
end

local hits = {}
local deadline = socket.gettime() + ttl
server:settimeout(0.2)
while socket.gettime() < deadline do
  local c = server:accept()
  if c then
    c:settimeout(5)
    local path = read_request(c)
    local name = path and path:match("^/([^/]+)")
    if name == "quit" then c:close() break end
    local reply = routes[name]
    if name == "hits" then
      local n = tostring(hits[path:match("^/hits/([^/]+)")] or 0)
      c:send("HTTP/1.1 200 OK\r\nContent-Length: " .. #n .. "\r\n\r\n" .. n)
    else
      if name then hits[name] = (hits[name] or 0) + 1 end
      c:send(reply and reply() or "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    end
    c:shutdown("send")
    -- drain briefly so the client reads everything before the close (no RST)
    c:settimeout(0.2)
    c:receive("*a")
    c:close()
  end
end
server:close()
