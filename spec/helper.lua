-- spec/helper.lua: start/stop loopback servers for specs; small shell and socket helpers.
--
-- Runs under Lua 5.4 and LuaJIT (the spec process); the server itself is ALWAYS
-- `lua5.4 bin/octopus-sandbox --json --ttl 900`, started from the repo root (the cwd
-- busted runs in). Usage, one server per spec file:
--
--   local helper = require "helper"
--   describe("...", function()
--     local srv
--     lazy_setup(function() srv = helper.start_server{ app = "echo" } end)
--     lazy_teardown(function() srv:stop() end)   -- runs even when a test fails
--     it("...", function() ... srv.http .. "/echo" ... end)
--   end)
--
-- start_server{ app = "sandbox"|"echo"|module, tls = true, wrong_host = false, args = {...} }
--   -> { http, https, wrong_host, ca_file, credentials, pid, rest_url, graphql_url,
--        rest_url_http, graphql_url_http, stop(), admin(method, path, body) }
-- A server that never stops on its own dies after --ttl 900 s.
local socket = require "socket"
local cjson = require "cjson"

local helper = {}

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
helper.quote = quote

-- Runs a shell command: output (stdout+stderr), exit status (a number, on 5.1 too).
function helper.run(cmd)
  local p = assert(io.popen("(" .. cmd .. ") 2>&1; echo \"__rc=$?\"", "r"))
  local out = p:read("*a")
  p:close()
  local text, rc = out:match("^(.-)__rc=(%d+)%s*$")
  return text or out, tonumber(rc)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
helper.read_file = read_file

-- true while a process exists and is not a zombie.
function helper.alive(pid)
  if not tonumber(pid) then return false end
  local stat = read_file(("/proc/%d/stat"):format(pid))
  return stat ~= nil and not stat:match("^%d+ %b() Z")
end

function helper.core()
  return require "octopus.core"
end

-- "http://127.0.0.1:1234/x" -> "127.0.0.1", 1234
function helper.host_port(url)
  local host, port = url:match("^%a+://([^:/]+):(%d+)")
  return host, tonumber(port)
end

-- A connected LuaSocket TCP client (blocking, timeout seconds, default 5).
function helper.connect(url, timeout)
  local host, port = helper.host_port(url)
  local c = assert(socket.tcp())
  c:settimeout(timeout or 5)
  assert(c:connect(host, port))
  c:setoption("tcp-nodelay", true)
  return c
end

-- Reads one HTTP response from a connected socket: status, headers (lower-case), body.
-- Handles Content-Length, chunked and close-delimited bodies.
function helper.read_response(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  local headers = {}
  while true do
    local h = assert(c:receive("*l"))
    if h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.*)$")
    k = k:lower()
    headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
  end
  local body
  if headers["transfer-encoding"] then
    local parts = {}
    while true do
      local size = tonumber(assert(c:receive("*l")):match("^(%x+)"), 16)
      if size == 0 then assert(c:receive("*l")) break end
      parts[#parts + 1] = assert(c:receive(size))
      assert(c:receive("*l"))
    end
    body = table.concat(parts)
  elseif headers["content-length"] then
    local n = tonumber(headers["content-length"])
    body = n > 0 and assert(c:receive(n)) or ""
  else
    local data, _, partial = c:receive("*a")
    body = data or partial
  end
  return status, headers, body
end

-- One request over a fresh connection: status, headers, body.
function helper.request(url, method, body, headers)
  local c = helper.connect(url)
  local host, port = helper.host_port(url)
  local path = url:match("^%a+://[^/]+(/.*)$") or "/"
  local lines = { ("%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"):format(
    method or "GET", path, host, port) }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v .. "\r\n" end
  if body then lines[#lines + 1] = "Content-Length: " .. #body .. "\r\n" end
  lines[#lines + 1] = "\r\n" .. (body or "")
  assert(c:send(table.concat(lines)))
  local s, h, b = helper.read_response(c)
  c:close()
  return s, h, b
end

-- A port nothing listens on: bind an ephemeral one, then close it.
function helper.closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

-- helper.raises(text, f, ...): f(...) raises an error whose message contains text
-- (plain, not a pattern) AND is positioned at the caller's line: when f is a closure
-- written in a spec, the "file:line:" prefix must name that spec file, within f's
-- lines; when f is a library function (or a C function) called directly, it must
-- name the line below that calls it. So a usage error that points into the library
-- (a wrong error level, a tail call) fails the spec.
local LIB = "/lua/octopus/"
local function is_library(info)
  return info.what == "C" or (info.source:sub(1, 1) == "@" and info.source:find(LIB, 1, true) ~= nil)
    or info.source:find("^@lua/octopus/") ~= nil
end
function helper.raises(text, f, ...)
  local info = debug.getinfo(f, "S")
  local args = { n = select("#", ...), ... }
  local call_line = debug.getinfo(1, "l").currentline + 2
  local ok, msg = pcall(function()
    local r = { f((table.unpack or unpack)(args, 1, args.n)) }   -- not a tail call: this frame stays
    return r
  end)
  assert(ok == false, "expected an error containing: " .. text)
  msg = tostring(msg)
  assert(msg:find(text, 1, true), ("error %q does not contain %q"):format(msg, text))
  local file, line = msg:match("^([^:]+):(%d+): ")
  assert(file, ("error %q carries no file:line position"):format(msg))
  line = tonumber(line)
  if is_library(info) then
    local here = debug.getinfo(1, "S").short_src
    assert(file == here and line == call_line,
      ("error %q should point at %s:%d (the caller), not at %s:%d"):format(msg, here, call_line, file, line))
  else
    assert(file == info.short_src and line >= info.linedefined and line <= info.lastlinedefined,
      ("error %q should point at the caller, %s:%d-%d"):format(msg, info.short_src, info.linedefined,
        info.lastlinedefined))
  end
end

local Server = {}
Server.__index = Server

-- Control routes over plain HTTP: status, decoded JSON body (or the raw text).
function Server:admin(method, path, body_table)
  local body = body_table ~= nil and cjson.encode(body_table) or nil
  local status, _, text = helper.request(self.http .. path, method, body,
    body and { ["Content-Type"] = "application/json" } or nil)
  local ok, decoded = pcall(cjson.decode, text or "")
  return status, ok and decoded or text
end

-- Installs a fault (POST /_sandbox/faults); raises unless the sandbox took it.
function Server:fault(spec)
  local status, body = self:admin("POST", "/_sandbox/faults", spec)
  if status ~= 201 then error(("fault not installed (HTTP %s): %s"):format(tostring(status),
    type(body) == "table" and cjson.encode(body) or tostring(body)), 2) end
end

-- A counter of GET /_sandbox/stats: section "operations" (GraphQL operation names)
-- or "requests" ("METHOD /path/"); 0 when never seen.
function Server:count(section, name)
  local _, body = self:admin("GET", "/_sandbox/stats")
  return (type(body) == "table" and body[section] and body[section][name]) or 0
end

-- Moves the sandbox's clock ahead by seconds (POST /_sandbox/clock); with a fake client
-- clock (octopus.clock.fake) advanced by as much, token expiry needs no sleeping.
function Server:advance(seconds)
  local status, body = self:admin("POST", "/_sandbox/clock", { advance = seconds })
  if status ~= 200 then error("clock not advanced (HTTP " .. tostring(status) .. ")", 2) end
  return body.now
end

-- helper.advance_to(srv, client, to): the client's fake clock and the sandbox's both move
-- to Unix time `to` (nothing happens when the client is already there)
-- The sandbox's clock is then held at `to` (POST /_sandbox/clock {"at": to}), so the two
-- cannot drift apart however slowly a loaded machine runs the spec.
function helper.advance_to(srv, client, to)
  local d = to - client.clock.wall()
  if d > 0 then client.clock:advance(d) end
  local status = srv:admin("POST", "/_sandbox/clock", { at = client.clock.wall() })
  if status ~= 200 then error("clock not set (HTTP " .. tostring(status) .. ")", 2) end
end

-- Stops the server: POST /_sandbox/shutdown, wait up to 5 s, then SIGTERM. Idempotent.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  pcall(function()
    local c = helper.connect(self.http, 2)
    c:send("POST /_sandbox/shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
    c:receive("*l")
    c:close()
  end)
  local deadline = socket.gettime() + 5
  while helper.alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.02) end
  if helper.alive(self.pid) then os.execute(("kill %d"):format(self.pid)) end
  if self.dir then os.execute("rm -rf " .. quote(self.dir)) end
end

function Server:stderr()
  return read_file(self.dir .. "/err") or ""
end

-- Starts `lua5.4 bin/octopus-sandbox --json` in the background; raises with its stderr
-- when no JSON line appears within 10 s.
function helper.start_server(opts)
  opts = opts or {}
  local dir = helper.run("mktemp -d /tmp/octopus-spec.XXXXXXXX"):gsub("%s+$", "")
  local argv = { "lua5.4", "bin/octopus-sandbox", "--json", "--ttl", tostring(opts.ttl or 900),
                 "--app", opts.app or "sandbox" }
  if opts.tls == false then argv[#argv + 1] = "--no-tls" end
  if opts.wrong_host then argv[#argv + 1] = "--wrong-host-tls" end
  for _, a in ipairs(opts.args or {}) do argv[#argv + 1] = a end
  for i, a in ipairs(argv) do argv[i] = quote(a) end
  os.execute(("%s > %s 2> %s < /dev/null & echo $! > %s"):format(table.concat(argv, " "),
    quote(dir .. "/out"), quote(dir .. "/err"), quote(dir .. "/pid")))
  local pid = tonumber(read_file(dir .. "/pid"))
  local deadline = socket.gettime() + 10
  local line
  while socket.gettime() < deadline do
    local out = read_file(dir .. "/out") or ""
    line = out:match("^([^\n]*)\n")
    if line or not helper.alive(pid) then break end
    socket.sleep(0.02)
  end
  local errtext = read_file(dir .. "/err") or ""
  if not line then
    if helper.alive(pid) then os.execute("kill " .. pid) end
    os.execute("rm -rf " .. quote(dir))
    error("sandbox server did not start (app " .. tostring(opts.app) .. "):\n"
      .. errtext, 2)
  end
  local info = cjson.decode(line)
  info.pid = math.floor(info.pid)     -- cjson decodes numbers as floats on 5.4
  local srv = setmetatable(info, Server)
  srv.dir = dir
  return srv
end

return helper
