-- spec/chaos_helper.lua: starts tools/chaos_proxy.lua as a child and drives its control port.
--
--   local chaos = require "chaos_helper"
--   local proxy = chaos.start("127.0.0.1", srv_port, { ttl = 900 })
--   proxy.port                    -- where clients connect instead of the server
--   proxy:fault { kind = "reset_after", bytes = 100, times = 1 }
--   proxy:random { p = 0.2, seed = 7 }   proxy:clear()   proxy:stats()   proxy:stop()
--
-- Used by spec/chaos_spec.lua and tools/soak.lua (any Lua with LuaSocket and cjson);
-- the proxy itself always runs under lua5.4 and dies after its --ttl.
local socket = require "socket"
local cjson = require "cjson"

local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function alive(pid)
  local stat = read_file(("/proc/%d/stat"):format(pid))
  return stat ~= nil and not stat:match("^%d+ %b() Z")
end

local Proxy = {}
Proxy.__index = Proxy

-- One control request: status, decoded body.
function Proxy:control(method, path, body)
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect("127.0.0.1", self.control_port))
  local text = body ~= nil and cjson.encode(body) or ""
  assert(c:send(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n%s")
    :format(method, path, #text, text)))
  local line = c:receive("*l") or ""
  local length = 0
  while true do
    local h = c:receive("*l")
    if not h or h == "" then break end
    length = tonumber(h:match("^Content%-Length:%s*(%d+)")) or length
  end
  local reply = length > 0 and c:receive(length) or ""
  c:close()
  local ok, decoded = pcall(cjson.decode, reply or "")
  return tonumber(line:match("^HTTP/1%.1 (%d+)")), ok and decoded or reply
end

function Proxy:fault(spec)
  local status = self:control("POST", "/faults", spec)
  assert(status == 201, "chaos proxy did not queue the fault")
end
function Proxy:random(spec) assert(self:control("POST", "/random", spec) == 200) end
function Proxy:clear() self:control("DELETE", "/faults") self:random { p = 0 } end
function Proxy:stats() local _, body = self:control("GET", "/stats") return body end

function Proxy:stop()
  if self.stopped then return end
  self.stopped = true
  pcall(self.control, self, "POST", "/shutdown")
  local deadline = socket.gettime() + 5
  while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.02) end
  if alive(self.pid) then os.execute("kill " .. self.pid) end
  os.execute("rm -rf " .. quote(self.dir))
end

-- Starts the proxy in front of host:port; raises when it does not come up within 10 s.
function M.start(host, port, opts)
  opts = opts or {}
  local p = assert(io.popen("mktemp -d /tmp/octopus-chaos.XXXXXXXX"))
  local dir = p:read("*l")
  p:close()
  os.execute(("lua5.4 tools/chaos_proxy.lua --upstream %s --ttl %d --seed %d > %s 2> %s < /dev/null & echo $! > %s")
    :format(quote(host .. ":" .. port), opts.ttl or 900, opts.seed or 1, quote(dir .. "/out"),
            quote(dir .. "/err"), quote(dir .. "/pid")))
  local pid = tonumber(read_file(dir .. "/pid"))
  local deadline = socket.gettime() + 10
  local line
  while socket.gettime() < deadline do
    line = (read_file(dir .. "/out") or ""):match("^([^\n]*)\n")
    if line or not alive(pid) then break end
    socket.sleep(0.02)
  end
  if not line then
    local err = read_file(dir .. "/err") or ""
    if alive(pid) then os.execute("kill " .. pid) end
    os.execute("rm -rf " .. quote(dir))
    error("chaos proxy did not start:\n" .. err, 2)
  end
  local info = cjson.decode(line)
  return setmetatable({ port = math.floor(info.port), control_port = math.floor(info.control),
                        pid = pid, dir = dir }, Proxy)
end

return M
