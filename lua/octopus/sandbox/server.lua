-- octopus.sandbox.server: a select-driven HTTP/1.1 server on LuaSocket (+ LuaSec for TLS).
--
-- Lua 5.4 only (handlers run under pcall, which is yieldable there).
-- Invariants:
--   * listeners bind 127.0.0.1 only; every socket is non-blocking (timeout 0);
--   * one coroutine per connection handles its requests in order (keep-alive,
--     pipelining); it waits only by yielding (read/write/sleep/ready) with a
--     deadline, so a slow or vanished client, or server.sleep() in a handler,
--     never holds up another connection;
--   * limits: request line + headers 16 KB -> 431, body 10 MB -> 413 (a chunk size
--     over the limit is refused before any of it is read), malformed request -> 400
--     (also: a Host that is not a host[:port], two Hosts, Content-Length together with
--     Transfer-Encoding); all three close the connection;
--   * slow or idle clients cannot lock others out: a new connection must deliver its
--     request head (and TLS handshake) within header_timeout of being accepted; at
--     max_per_addr connections from one address, or max_conns in all, the oldest
--     connection still waiting for a request head is closed to make room (the new one
--     is refused only when every connection is busy in a request);
--   * over TLS, once LuaSec reports an error other than a retry or "closed" (even one
--     that came with a request's last bytes) the connection is never read or written
--     again, only closed: LuaSec 1.2 would spin in C on the failed session (Conn:fail);
--   * POST /_sandbox/shutdown from loopback stops the engine, whatever the app.
-- See docs/INTERNALS.md "The loopback server" for the req/res contract.
local socket = require "socket"

local M = {}
local gettime = socket.gettime
local WAIT = {}    -- marker yielded by engine waits (anything else is treated as "ready")
local CLOSED = {}  -- raised by a streaming write() when the client has gone

local REASONS = { [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted",
  [204] = "No Content", [206] = "Partial Content", [301] = "Moved Permanently", [302] = "Found",
  [304] = "Not Modified", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict", [410] = "Gone",
  [411] = "Length Required", [413] = "Payload Too Large", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout" }
M.reasons = REASONS
local JSON = { ["Content-Type"] = "application/json" }

local function wait(kind, sock, deadline) return coroutine.yield(WAIT, kind, sock, deadline) end

-- Non-blocking delay inside a handler; a plain sleep outside the engine.
function M.sleep(seconds)
  local _, main = coroutine.running()
  if main then socket.sleep(seconds) return end
  wait("sleep", nil, gettime() + (tonumber(seconds) or 0))
end

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.unescape = unescape

local function parse_query(raw)
  local q = {}
  for pair in raw:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    q[unescape(k)] = unescape(v)
  end
  return q
end
M.parse_query = parse_query

-- gzip through the gzip command; cached per distinct body (bounded).
local gz_cache, gz_count = {}, 0
local function gzip(s)
  if gz_cache[s] then return gz_cache[s] end
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "wb"))
  f:write(s) f:close()
  local p = assert(io.popen("gzip -c -n < '" .. tmp .. "'", "r"))
  local out = p:read("a")
  p:close() os.remove(tmp)
  if gz_count > 64 then gz_cache, gz_count = {}, 0 end
  gz_cache[s], gz_count = out, gz_count + 1
  return out
end

local Conn = {}  -- one client connection: sock, buf (unread bytes), srv, tls, remote, broken
Conn.__index = Conn

local RETRY = { timeout = true, wantread = true, wantwrite = true }

-- Over TLS, an error other than a retry or "closed" (close_notify) leaves the SSL object
-- in OpenSSL's error state, and touching it again can hang the whole engine: SSL_write
-- and SSL_read then return -1 with SSL_ERROR_SYSCALL and errno 0, which LuaSec 1.2 (its
-- errno-0 workaround covers OpenSSL 1.1.1 only, upstream fixed it for 3.0 in 1.3.2) takes
-- for success with 0 bytes, and its send/receive loop spins in C for ever. Such an error
-- can also arrive with the last bytes of a request (receive's partial result: "unexpected
-- eof while reading" after a client closed without close_notify), so it is remembered and
-- the connection is never read or written again. Plain TCP keeps serving a half-closed
-- client: a send to a vanished peer fails there with EPIPE.
function Conn:fail(err)
  err = err or "closed"
  if self.tls and not RETRY[err] and err ~= "closed" then self.broken = err end
  return nil, err
end

-- One receive of up to max bytes: a non-empty string, or nil, "timeout"|"closed"|err.
function Conn:recv(max, deadline)
  while true do
    if self.broken then return nil, self.broken end
    local data, err, partial = self.sock:receive(max)
    local got = data or partial
    if got and #got > 0 then
      if err and not RETRY[err] then self:fail(err) end  -- the bytes count; the error holds next
      return got
    end
    if not RETRY[err] then return self:fail(err) end
    if wait(err == "wantwrite" and "write" or "read", self.sock, deadline) == "timeout" then
      return nil, "timeout"
    end
  end
end

function Conn:fill(deadline)
  local got, err = self:recv(65536, deadline)
  if not got then return nil, err end
  self.buf = self.buf .. got
  return true
end

-- Exactly n bytes (buffered first); parts are joined once, so large bodies stay linear.
function Conn:read_n(n, deadline)
  local buf = self.buf
  if #buf >= n then
    self.buf = buf:sub(n + 1)
    return buf:sub(1, n)
  end
  local parts, have = { buf }, #buf
  self.buf = ""
  while have < n do
    local got, err = self:recv(n - have, deadline)
    if not got then return nil, err end
    parts[#parts + 1], have = got, have + #got
  end
  return table.concat(parts)
end

function Conn:read_line(deadline, max)
  while true do
    local e = self.buf:find("\n", 1, true)
    if e then
      local line = self.buf:sub(1, e - 1):gsub("\r$", "")
      self.buf = self.buf:sub(e + 1)
      return line
    end
    if #self.buf > max then return nil, 400 end
    local ok, err = self:fill(deadline)
    if not ok then return nil, err end
  end
end

-- Sends all of data (in the pieces the socket takes, waiting between them): true, or
-- nil, "timeout"|"closed"|err. Never writes on a TLS connection that has failed.
function Conn:send(data, deadline)
  local i = 1
  while i <= #data do
    if self.broken then return nil, self.broken end
    local last, err, lasti = self.sock:send(data, i)
    if last then return true end
    if not RETRY[err] then return self:fail(err) end
    i = (lasti or i - 1) + 1
    local kind = err == "wantread" and "read" or "write"
    if wait(kind, self.sock, deadline) == "timeout" then return nil, "timeout" end
  end
  return true
end

-- Reads the request line and headers: req, or nil, status (number) | reason (string).
function Conn:read_head()
  local srv = self.srv
  local deadline, started
  if self.served == 0 then            -- a new connection: the whole head by the deadline
    deadline, started = self.head_deadline, true
  else                                -- keep-alive: idle until the first byte
    started = self.buf ~= ""
    deadline = gettime() + (started and srv.header_timeout or srv.idle_timeout)
  end
  while true do
    self.buf = self.buf:gsub("^\r?\n", "")  -- stray CRLFs before a request are allowed
    local s, e = self.buf:find("\r?\n\r?\n")
    if s then
      if s > srv.max_head then return nil, 431 end
      local head = self.buf:sub(1, s - 1)
      self.buf = self.buf:sub(e + 1)
      return self:parse_head(head)
    end
    if #self.buf > srv.max_head then return nil, 431 end
    local ok, err = self:fill(deadline)
    if not ok then return nil, err end
    if not started then
      started, deadline = true, gettime() + srv.header_timeout
    end
  end
end

function Conn:parse_head(head)
  local first, rest = head:match("^([^\r\n]*)\r?\n?(.*)$")
  local method, target, major, minor = first:match("^([%w!#$%%&'*+.^_`|~-]+) (%S+) HTTP/(%d)%.(%d)$")
  if not method or major ~= "1" then return nil, 400 end
  local req = { method = method, target = target, version = major .. "." .. minor,
                headers = {}, tls = self.tls, remote = self.remote }
  for line in rest:gmatch("[^\r\n]+") do
    local name, value = line:match("^([^:%s]+):[ \t]*(.-)[ \t]*$")
    if not name then return nil, 400 end
    name = name:lower()
    local old = req.headers[name]
    if old and name == "host" then return nil, 400 end
    req.headers[name] = old and (old .. ", " .. value) or value
  end
  -- Host is a reg-name or [IP-literal], then an optional port (RFC 3986), nothing else:
  -- apps build absolute links from it.
  local host = req.headers.host
  if host and not (host:match("^[%w%-%._~!$&'()*+,;=%%]*:?%d*$")
                   or host:match("^%[[%x:%.]+%]:?%d*$")) then
    return nil, 400
  end
  local path = target:match("^https?://[^/]*(/.*)$") or target
  local p, q = path:match("^([^?]*)%?(.*)$")
  req.path, req.raw_query = p or path, q or ""
  req.query = parse_query(req.raw_query)
  req.path_segments = {}
  for seg in req.path:gmatch("[^/]+") do req.path_segments[#req.path_segments + 1] = seg end
  local conn = (req.headers.connection or ""):lower()
  if req.version == "1.0" then req.keep_alive = conn:find("keep%-alive") ~= nil
  else req.keep_alive = not conn:find("close") end
  return req
end

-- Reads the body per Content-Length or chunked: true, or nil, status | reason.
function Conn:read_body(req)
  local srv, h = self.srv, req.headers
  local deadline = gettime() + srv.io_timeout
  local te = h["transfer-encoding"]
  local continue = req.version == "1.1" and (h.expect or ""):lower() == "100-continue"
  if te then
    if h["content-length"] then return nil, 400 end   -- request smuggling: refuse, as servers do
    if not te:lower():find("chunked", 1, true) then return nil, 501 end
    if continue then self:send("HTTP/1.1 100 Continue\r\n\r\n", deadline) end
    local parts, total = {}, 0
    while true do
      local line, err = self:read_line(deadline, 4096)
      if not line then return nil, err end
      local hex = line:match("^%s*(%x+)[ \t]*;?")
      if not hex then return nil, 400 end
      hex = hex:gsub("^0+(%x)", "%1")
      if #hex > 8 then return nil, 413 end           -- beyond any max_body: refuse now
      local size = tonumber(hex, 16)
      if size == 0 then
        repeat
          line, err = self:read_line(deadline, srv.max_head)
          if not line then return nil, err end
        until line == ""
        break
      end
      total = total + size
      if total > srv.max_body then return nil, 413 end  -- before reading the chunk
      local chunk, cerr = self:read_n(size, deadline)
      if not chunk then return nil, cerr end
      parts[#parts + 1] = chunk
      line, err = self:read_line(deadline, 2)
      if line ~= "" then return nil, line and 400 or err end
    end
    req.body = table.concat(parts)
    return true
  end
  local cl = h["content-length"]
  if not cl then req.body = "" return true end
  if not cl:match("^%d+$") then return nil, 400 end
  local n = tonumber(cl)
  if n > srv.max_body then return nil, 413 end
  if n > 0 and continue then self:send("HTTP/1.1 100 Continue\r\n\r\n", deadline) end
  local body, err = self:read_n(n, deadline)
  if not body then return nil, err end
  req.body = body
  return true
end

-- Appends the app's header lines (array values repeat a header); returns its Content-Length.
local function header_lines(out, headers)
  local declared
  for name, value in pairs(headers) do
    local lname = name:lower()
    if lname == "content-length" then declared = tonumber(value)
    elseif lname ~= "transfer-encoding" and lname ~= "connection" then
      for _, v in ipairs(type(value) == "table" and value or { value }) do
        out[#out + 1] = name .. ": " .. tostring(v):gsub("[\r\n]", " ") .. "\r\n"
      end
    end
  end
  return declared
end

-- Sends res for req; returns true when the connection may be kept alive.
function Conn:respond(req, res)
  local deadline = function() return gettime() + self.srv.io_timeout end
  if res.drop == "before_body" then return false end
  local status = math.tointeger(tonumber(res.status) or 200) or 500
  local headers = res.headers or {}
  local keep = req.keep_alive and not res.close and not self.srv.stopping
  local no_body = req.method == "HEAD" or status < 200 or status == 204 or status == 304
  local v11 = req.version == "1.1"
  local body = res.body
  local mode  -- "length" | "chunked" | "close" (close-delimited)
  local out = { ("HTTP/1.1 %d %s\r\n"):format(status, REASONS[status] or "Unknown"),
                "Date: ", os.date("!%a, %d %b %Y %H:%M:%S GMT"), "\r\n",
                "Server: octopus-sandbox\r\n" }
  local declared = header_lines(out, headers)
  if type(body) == "function" then
    if declared then mode = "length"
    elseif res.chunked and v11 then mode = "chunked"
    else mode, keep = "close", false end
  else
    body = body == nil and "" or tostring(body)
    if res.gzip then
      body = gzip(body)
      out[#out + 1] = "Content-Encoding: gzip\r\n"
    end
    mode, declared = (res.chunked and v11 and not no_body) and "chunked" or "length", #body
  end
  if mode == "chunked" then
    out[#out + 1] = "Transfer-Encoding: chunked\r\n"
  elseif mode == "length" and status ~= 204 and status ~= 304 and status >= 200 then
    out[#out + 1] = "Content-Length: " .. declared .. "\r\n"
  end
  if not keep then out[#out + 1] = "Connection: close\r\n"
  elseif not v11 then out[#out + 1] = "Connection: keep-alive\r\n" end
  out[#out + 1] = "\r\n"
  local head = table.concat(out)
  if no_body then return self:send(head, deadline()) and keep end
  if type(body) == "string" then
    if res.drop == "mid_body" then
      self:send(head .. body:sub(1, #body // 2), deadline())
      return false
    end
    if mode == "length" then return self:send(head .. body, deadline()) and keep end
    -- chunked string body: two chunks (when possible) so clients really reassemble
    local data, half = { head }, #body // 2
    for _, piece in ipairs{ body:sub(1, half), body:sub(half + 1) } do
      if #piece > 0 then data[#data + 1] = ("%x\r\n%s\r\n"):format(#piece, piece) end
    end
    data[#data + 1] = "0\r\n\r\n"
    return self:send(table.concat(data), deadline()) and keep
  end
  -- streaming body: write(chunk) sends and lets other connections run
  if not self:send(head, deadline()) then return false end
  local sent = 0
  local function write(chunk)
    chunk = tostring(chunk)
    if #chunk == 0 then return true end
    local data = mode == "chunked" and (("%x\r\n"):format(#chunk) .. chunk .. "\r\n") or chunk
    if not self:send(data, deadline()) then error(CLOSED) end
    sent = sent + #chunk
    if res.drop == "mid_body" then error(CLOSED) end
    wait("ready")
    return true
  end
  local ok, err = pcall(body, write)
  if not ok then
    if err ~= CLOSED then self.srv:log("streaming body failed: " .. tostring(err)) end
    return false
  end
  if mode == "chunked" then return self:send("0\r\n\r\n", deadline()) and keep end
  return keep and mode == "length" and sent == declared
end

function Conn:simple(status)
  local body = ("%d %s\n"):format(status, REASONS[status] or "Error")
  self:respond({ method = "GET", version = "1.1", keep_alive = false },
    { status = status, headers = { ["Content-Type"] = "text/plain" }, body = body })
end

local function loopback(ip) return ip == nil or ip:match("^127%.") ~= nil or ip == "::1" end

function Conn:serve()
  local srv = self.srv
  while not srv.stopping do
    self.waiting_head, self.since = true, gettime()
    local req, why = self:read_head()
    self.waiting_head = false
    local ok = req ~= nil
    if ok then ok, why = self:read_body(req) end
    if not ok then
      if type(why) == "number" then self:simple(why) end
      return
    end
    srv.requests = srv.requests + 1
    local shutdown = req.method == "POST" and req.path == "/_sandbox/shutdown" and loopback(req.remote)
    local hok, res = true, { status = 200, headers = JSON, body = '{"ok":true}' }
    if not shutdown then hok, res = pcall(srv.handler, req) end
    if not hok or type(res) ~= "table" then
      srv:log(("handler failed for %s %s: %s"):format(req.method, req.path, tostring(res)))
      res = { status = 500, headers = JSON, body = '{"detail":"internal sandbox error"}' }
    end
    local keep = self:respond(req, res)
    self.served = self.served + 1
    if shutdown then srv:stop() end
    if not keep then return end
  end
end

function Conn:run(ctx)
  if ctx then
    local ssl = require "ssl"
    local s, err = ssl.wrap(self.sock, ctx)
    if not s then self.srv:log("tls wrap failed: " .. tostring(err)) return end
    self.sock = s
    s:settimeout(0)
    local deadline = self.head_deadline
    while true do
      local ok, herr = s:dohandshake()
      if ok then break end
      -- anything else: handshake refused (e.g. the client rejected our certificate)
      if herr ~= "wantread" and herr ~= "wantwrite" and herr ~= "timeout" then return end
      if wait(herr == "wantwrite" and "write" or "read", s, deadline) == "timeout" then return end
    end
  end
  self:serve()
end

local Server = {}  -- the engine: listeners, connection coroutines and what each waits for
Server.__index = Server

-- opts: handler (required), host ("127.0.0.1"), idle_timeout (30), header_timeout (10),
-- io_timeout (30), max_head (16384), max_body (10 MiB), max_conns (900), max_per_addr
-- (256), log (function|nil)
function M.new(opts)
  assert(type(opts) == "table" and type(opts.handler) == "function", "server.new: handler required")
  return setmetatable({
    handler = opts.handler, host = opts.host or "127.0.0.1",
    idle_timeout = opts.idle_timeout or 30, header_timeout = opts.header_timeout or 10,
    io_timeout = opts.io_timeout or 30, max_head = opts.max_head or 16384,
    max_body = opts.max_body or 10 * 1024 * 1024, max_conns = opts.max_conns or 900,
    max_per_addr = opts.max_per_addr or 256,
    logger = opts.log, listeners = {}, conns = {}, waits = {}, nconns = 0, requests = 0,
    per_addr = {},
  }, Server)
end

function Server:log(msg) if self.logger then self.logger(msg) end end

-- Binds a listener; tls = { key = path, certificate = path } for HTTPS. Returns the port.
function Server:listen(opts)
  opts = opts or {}
  assert(self.host == "127.0.0.1" or self.host == "localhost", "sandbox binds loopback only")
  local sock = assert(socket.tcp())
  sock:setoption("reuseaddr", true)
  assert(sock:bind(self.host, opts.port or 0))
  assert(sock:listen(512))
  sock:settimeout(0)
  local ctx
  if opts.tls then
    local ssl = require "ssl"
    ctx = assert(ssl.newcontext{ mode = "server", protocol = "any", key = opts.tls.key,
      certificate = opts.tls.certificate, options = { "all", "no_sslv3" }, alpn = { "http/1.1" } })
  end
  local _, port = sock:getsockname()
  self.listeners[#self.listeners + 1] = { sock = sock, ctx = ctx, port = tonumber(port) }
  return tonumber(port)
end

-- Forgets a connection and closes its socket (its coroutine is dead or closed).
function Server:drop(co)
  local conn = self.conns[co]
  self.waits[co] = nil
  if not conn then return end
  conn.sock:close()
  self.conns[co], self.nconns = nil, self.nconns - 1
  local n = (self.per_addr[conn.remote] or 1) - 1
  self.per_addr[conn.remote] = n > 0 and n or nil
end

-- Makes room for a new connection: closes the oldest one still waiting for a request
-- head (from `ip` only, when given). false when every candidate is busy in a request.
function Server:evict(ip)
  local oldest, at
  for co, conn in pairs(self.conns) do
    if conn.waiting_head and (ip == nil or conn.remote == ip)
       and (not at or conn.since < at) then
      oldest, at = co, conn.since
    end
  end
  if not oldest then return false end
  coroutine.close(oldest)
  self:drop(oldest)
  return true
end

function Server:resume(co, arg)
  self.waits[co] = nil
  local ok, mark, kind, sock, deadline = coroutine.resume(co, arg)
  if not ok then self:log("connection failed: " .. tostring(mark)) end
  if coroutine.status(co) == "dead" then
    self:drop(co)
  elseif mark == WAIT then
    self.waits[co] = { kind = kind, sock = sock, deadline = deadline }
  else
    self.waits[co] = { kind = "ready" }  -- a stray yield from app code: resume next round
  end
end

function Server:accept(l)
  for _ = 1, 64 do
    local sock = l.sock:accept()
    if not sock then return end
    local ip = sock:getpeername() or "?"
    local room = ((self.per_addr[ip] or 0) < self.max_per_addr or self:evict(ip))
      and (self.nconns < self.max_conns or self:evict())
    if not room then
      sock:close()
    else
      sock:settimeout(0)
      sock:setoption("tcp-nodelay", true)
      local now = gettime()
      local conn = setmetatable({ srv = self, sock = sock, buf = "", tls = l.ctx ~= nil,
        remote = ip, served = 0, since = now, waiting_head = true,
        head_deadline = now + self.header_timeout }, Conn)
      local co = coroutine.create(function() conn:run(l.ctx) end)
      self.conns[co], self.nconns = conn, self.nconns + 1
      self.per_addr[ip] = (self.per_addr[ip] or 0) + 1
      self:resume(co)
    end
  end
end

-- One select round: waits at most max_wait seconds (less when a sleeper is due).
function Server:step(max_wait)
  local now, timeout = gettime(), max_wait or 1
  local recvt, sendt = {}, {}
  for _, l in ipairs(self.listeners) do recvt[#recvt + 1] = l.sock end
  for _, w in pairs(self.waits) do
    if w.kind == "ready" then timeout = 0 end
    if w.deadline then timeout = math.min(timeout, math.max(0, w.deadline - now)) end
    if w.kind == "read" then recvt[#recvt + 1] = w.sock
    elseif w.kind == "write" then sendt[#sendt + 1] = w.sock end
  end
  local r, s = socket.select(recvt, sendt, timeout)
  r, s = r or {}, s or {}
  for _, l in ipairs(self.listeners) do if r[l.sock] then self:accept(l) end end
  now = gettime()
  local due = {}
  for co, w in pairs(self.waits) do
    if w.kind == "ready" or (w.kind == "read" and r[w.sock]) or (w.kind == "write" and s[w.sock]) then
      due[#due + 1] = { co, "ok" }
    elseif w.deadline and now >= w.deadline then
      due[#due + 1] = { co, w.kind == "sleep" and "ok" or "timeout" }
    end
  end
  for _, d in ipairs(due) do
    if self.waits[d[1]] then self:resume(d[1], d[2]) end
  end
end

-- Serves until stop(), POST /_sandbox/shutdown, or ttl seconds; then closes everything.
function Server:run(opts)
  local stop_at = opts and opts.ttl and gettime() + opts.ttl or math.huge
  self.running = true
  while self.running and not self.stopping and gettime() < stop_at do
    self:step(math.min(1, math.max(0, stop_at - gettime())))
  end
  if gettime() >= stop_at then self:log("ttl reached, shutting down") end
  self:close()
end

function Server:stop() self.stopping = true end

function Server:close()
  self.running = false
  for _, l in ipairs(self.listeners) do l.sock:close() end
  for _, conn in pairs(self.conns) do conn.sock:close() end
  self.listeners, self.conns, self.waits, self.nconns, self.per_addr = {}, {}, {}, 0, {}
end

return M
