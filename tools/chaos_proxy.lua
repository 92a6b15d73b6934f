-- tools/chaos_proxy.lua -- a byte-level chaos proxy on loopback (Lua 5.4 + LuaSocket).
--
--   lua5.4 tools/chaos_proxy.lua --upstream 127.0.0.1:PORT [--ttl 600] [--seed N]
--   -> prints one JSON line: {"port": P, "control": C, "pid": PID}, then serves.
--
-- Sits between a client and a server (HTTP or TLS: it never looks inside the bytes)
-- and breaks exchanges on purpose, so libcurl-level failures are exercised, not only
-- the sandbox's application faults. An "exchange" starts when the client sends bytes
-- after the server last answered (one HTTP/1.1 request/response on a keep-alive
-- connection; with TLS the handshake flights count as exchanges too). Each new
-- exchange takes the oldest queued fault (or, in random mode, one drawn by chance):
--
--   {"kind": "reset_after", "bytes": N}   forward N response bytes, then RST the client
--   {"kind": "reset_up", "bytes": N}      forward N request bytes, then RST both sides
--   {"kind": "close_after_request"}       the request reaches the server; the client
--                                         sees the connection closed, no response byte
--   {"kind": "stall", "bytes": N, "seconds": S}   N response bytes, then nothing for S s
--   {"kind": "split", "size": K, "gap": G}        the response in K-byte writes, G s apart
--   {"kind": "delay_first", "seconds": S}         the first response byte S s late
--   each with "times": n (default 1).
--
-- Control port (plain HTTP/1.1, Connection: close, loopback only):
--   POST /faults  (one fault or an array)  -> 201 {"queued": n}
--   DELETE /faults                          -> 200 {"deleted": n}
--   POST /random {"p": 0.2, "seed": 1, "kinds": [...], "max_seconds": 0.3}  ({"p": 0} stops)
--   GET /stats -> {"connections", "exchanges", "open", "faults": {kind: n}}
--   POST /shutdown
--
-- Invariants: binds 127.0.0.1 only; exits after --ttl seconds (default 600) whatever
-- happens; at most MAX_CONN client connections at once (more are closed at accept);
-- every buffer is bounded by what the peers send (no fault makes it grow unbounded,
-- a stalled response holds at most what the server sent for that exchange).
local socket = require "socket"
local cjson = require "cjson"

local MAX_CONN = 512
local CHUNK = 65536

local args = {}
do
  local i = 1
  while arg[i] do
    local k = arg[i]:match("^%-%-(.+)$")
    if not k then error("chaos_proxy: unexpected argument " .. arg[i]) end
    args[k] = arg[i + 1]
    i = i + 2
  end
end
local up_host, up_port = (args.upstream or ""):match("^([%d%.]+):(%d+)$")
if not up_host then
  io.stderr:write("usage: lua5.4 tools/chaos_proxy.lua --upstream 127.0.0.1:PORT [--ttl S] [--seed N]\n")
  os.exit(2)
end
up_port = tonumber(up_port)
local ttl = tonumber(args.ttl) or 600
local deadline = socket.gettime() + ttl

local listener = assert(socket.bind("127.0.0.1", tonumber(args.port) or 0))
local control = assert(socket.bind("127.0.0.1", 0))
listener:settimeout(0)
control:settimeout(0)

local queue = {}                 -- queued faults, oldest first
local random_mode = nil          -- { p, kinds, max_seconds }
local rng_state = tonumber(args.seed) or 1
local stats = { connections = 0, exchanges = 0, refused = 0, faults = {} }
local pairs_open = {}            -- sock -> pair (both sides map to the same pair)
local pair_list = {}             -- pair -> true

local function rand()             -- a small LCG: the same seed, the same faults
  rng_state = (rng_state * 1103515245 + 12345) % 2147483648
  return rng_state / 2147483648
end

local RANDOM_KINDS = { "reset_after", "reset_up", "close_after_request", "stall", "split", "delay_first" }

local function random_fault()
  local kinds = random_mode.kinds or RANDOM_KINDS
  local kind = kinds[1 + math.floor(rand() * #kinds)]
  local max_s = random_mode.max_seconds or 0.3
  return { kind = kind, bytes = math.floor(rand() * 600), seconds = rand() * max_s,
           size = 1 + math.floor(rand() * 64), gap = rand() * 0.002 }
end

local function take_fault()
  local f = queue[1]
  if f then
    f.left = (f.left or f.times or 1) - 1
    if f.left <= 0 then table.remove(queue, 1) end
    return f
  end
  if random_mode and random_mode.p > 0 and rand() < random_mode.p then return random_fault() end
end

local function close_pair(p, reset)
  if p.closed then return end
  p.closed = true
  if reset then
    pcall(p.c.setoption, p.c, "linger", { on = true, timeout = 0 })
    if p.u then pcall(p.u.setoption, p.u, "linger", { on = true, timeout = 0 }) end
  end
  p.c:close()
  if p.u then p.u:close() end
  pairs_open[p.c] = nil
  if p.u then pairs_open[p.u] = nil end
  pair_list[p] = nil
end

local function count_fault(kind)
  stats.faults[kind] = (stats.faults[kind] or 0) + 1
end

local function accept_client()
  local c = listener:accept()
  if not c then return end
  local n = 0
  for _ in pairs(pair_list) do n = n + 1 end
  if n >= MAX_CONN then stats.refused = stats.refused + 1; c:close(); return end
  local u = socket.tcp()
  u:settimeout(2)
  local ok = u:connect(up_host, up_port)
  if not ok then u:close(); c:close(); return end
  c:settimeout(0); u:settimeout(0)
  c:setoption("tcp-nodelay", true); u:setoption("tcp-nodelay", true)
  local p = { c = c, u = u, up = {}, down = {}, state = "idle", hold_until = 0 }
  pairs_open[c], pairs_open[u] = p, p
  pair_list[p] = true
  stats.connections = stats.connections + 1
end

local function receive(s)
  local data, err, partial = s:receive(CHUNK)
  data = data or partial
  if data == "" then data = nil end
  return data, err
end

-- bytes from the client (a request, or part of one)
local function from_client(p)
  local data, err = receive(p.c)
  if data then
    if p.state ~= "req" then                    -- a new exchange
      p.state, p.fault, p.down_sent, p.up_sent = "req", take_fault(), 0, 0
      stats.exchanges = stats.exchanges + 1
      p.hold_until = 0
      if p.fault then count_fault(p.fault.kind) end
    end
    local f = p.fault
    if f and f.kind == "reset_up" then
      local room = (f.bytes or 0) - p.up_sent
      if room < #data then
        if room > 0 then p.up[#p.up + 1] = data:sub(1, room) end
        p.up_sent = p.up_sent + math.max(room, 0)
        p.reset_when_flushed = true
        return
      end
    end
    p.up_sent = p.up_sent + #data
    p.up[#p.up + 1] = data
  end
  if err == "closed" then p.client_gone = true end
end

-- bytes from the server (a response, or part of one)
local function from_server(p, now)
  local data, err = receive(p.u)
  if data then
    if p.state == "req" then
      p.state = "resp"
      local f = p.fault
      if f and f.kind == "close_after_request" then close_pair(p, false) return end
      if f and f.kind == "delay_first" then p.hold_until = now + (f.seconds or 0) end
    end
    p.down[#p.down + 1] = data
  end
  if err == "closed" then p.server_gone = true end
end

local function flush_up(p)
  if #p.up == 0 then return end
  local data = table.concat(p.up)
  local i, err, last = p.u:send(data)
  local sent = i or last or 0
  p.up = sent < #data and { data:sub(sent + 1) } or {}
  if err == "closed" then p.server_gone = true end
end

local function flush_down(p, now)
  if #p.down == 0 or now < p.hold_until then return end
  local data = table.concat(p.down)
  local f = p.fault
  local n = #data
  local after
  if f and p.state == "resp" then
    if f.kind == "reset_after" then
      n = math.max(0, math.min(n, (f.bytes or 0) - p.down_sent))
      if p.down_sent + n >= (f.bytes or 0) then after = "reset" end
    elseif f.kind == "stall" and not p.stalled then
      local room = (f.bytes or 0) - p.down_sent
      if room <= n then n, after = math.max(room, 0), "stall" end
    elseif f.kind == "split" then
      n = math.min(n, f.size or 1)
      after = "gap"
    end
  end
  local sent = 0
  if n > 0 then
    local i, err, last = p.c:send(data, 1, n)
    sent = i or last or 0
    if err == "closed" then p.client_gone = true end
  end
  p.down_sent = p.down_sent + sent
  p.down = sent < #data and { data:sub(sent + 1) } or {}
  if sent == n then
    if after == "reset" then close_pair(p, true)
    elseif after == "stall" then p.stalled = true; p.hold_until = now + (f.seconds or 0)
    elseif after == "gap" and #p.down > 0 then p.hold_until = now + (f.gap or 0) end
  end
end

---------------------------------------------------------------------------
-- the control port

local function reply(c, status, body)
  local text = cjson.encode(body)
  c:send(("HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(status, #text, text))
end

local running = true

local function handle_control()
  local c = control:accept()
  if not c then return end
  c:settimeout(2)
  local line = c:receive("*l")
  local method, path = (line or ""):match("^(%u+) (%S+)")
  local length = 0
  while true do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local v = h:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
    if v then length = tonumber(v) end
  end
  local body
  if length > 0 and length < 65536 then
    local text = c:receive(length)
    local ok, v = pcall(cjson.decode, text or "")
    body = ok and v or nil
  end
  if method == "POST" and path == "/faults" and type(body) == "table" then
    local list = body.kind and { body } or body
    for _, f in ipairs(list) do queue[#queue + 1] = f end
    reply(c, 201, { queued = #queue })
  elseif method == "DELETE" and path == "/faults" then
    local n = #queue
    queue = {}
    reply(c, 200, { deleted = n })
  elseif method == "POST" and path == "/random" and type(body) == "table" then
    random_mode = { p = tonumber(body.p) or 0, kinds = body.kinds, max_seconds = body.max_seconds }
    if body.seed then rng_state = tonumber(body.seed) end
    reply(c, 200, { p = random_mode.p })
  elseif method == "GET" and path == "/stats" then
    local open = 0
    for _ in pairs(pair_list) do open = open + 1 end
    local faults = {}
    for k, v in pairs(stats.faults) do faults[k] = v end
    reply(c, 200, { connections = stats.connections, exchanges = stats.exchanges,
                    refused = stats.refused, open = open, queued = #queue,
                    faults = next(faults) and faults or cjson.empty_array })
  elseif method == "POST" and path == "/shutdown" then
    reply(c, 200, { stopping = true })
    running = false
  else
    reply(c, 404, { detail = "not found" })
  end
  c:close()
end

---------------------------------------------------------------------------
-- the loop

local _, port = listener:getsockname()
local _, cport = control:getsockname()
io.write(cjson.encode { port = tonumber(port), control = tonumber(cport),
  pid = tonumber((io.open("/proc/self/stat"):read("*l") or ""):match("^(%d+)")) }, "\n")
io.flush()

while running and socket.gettime() < deadline do
  local now = socket.gettime()
  local readers, writers = { listener, control }, {}
  local wake = now + 0.05
  for p in pairs(pair_list) do
    readers[#readers + 1] = p.c
    if not p.server_gone then readers[#readers + 1] = p.u end
    if #p.up > 0 then writers[#writers + 1] = p.u end
    if #p.down > 0 then
      if now >= p.hold_until then writers[#writers + 1] = p.c
      elseif p.hold_until < wake then wake = p.hold_until end
    end
  end
  local r, w = socket.select(readers, writers, math.max(0, wake - now))
  now = socket.gettime()
  for _, s in ipairs(r) do
    if s == listener then accept_client()
    elseif s == control then handle_control()
    else
      local p = pairs_open[s]
      if p and not p.closed then
        if s == p.c then from_client(p) else from_server(p, now) end
      end
    end
  end
  for _, s in ipairs(w) do
    local p = pairs_open[s]
    if p and not p.closed then
      if s == p.u then flush_up(p) else flush_down(p, now) end
    end
  end
  for p in pairs(pair_list) do
    if not p.closed then
      if p.reset_when_flushed and #p.up == 0 then close_pair(p, true)
      elseif p.client_gone then close_pair(p, false)
      elseif p.server_gone and #p.down == 0 then close_pair(p, false)
      elseif #p.down > 0 and now >= p.hold_until then flush_down(p, now) end
    end
  end
end

for p in pairs(pair_list) do close_pair(p, false) end
listener:close()
control:close()
