-- tools/valgrind_multi.lua: the multi handle and the reply classification under
-- `make test-valgrind` (this process is the one checked; the echo server and
-- spec/raw_server.lua are separate, unchecked processes). Exits non-zero if a step fails.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (os.getenv("OCTOPUS_CPATH") or "build/5.4/?.so") .. ";" .. package.cpath

local helper = require "helper"
local socket = require "socket"
local core = require "octopus.core"

-- Starts spec/raw_server.lua: base URL, stop().
local function start_raw()
  local dir = helper.run("mktemp -d /tmp/octopus-raw.XXXXXXXX"):gsub("%s+$", "")
  os.execute(("lua5.4 spec/raw_server.lua 120 > %s 2>&1 < /dev/null &"):format(helper.quote(dir .. "/out")))
  local port
  local deadline = socket.gettime() + 10
  while not port and socket.gettime() < deadline do
    port = (helper.read_file(dir .. "/out") or ""):match("^PORT (%d+)\n")
    if not port then socket.sleep(0.02) end
  end
  assert(port, "raw server did not start")
  local base = "http://127.0.0.1:" .. port
  return base, function()
    pcall(function()
      local c = helper.connect(base, 2)
      c:send("GET /quit HTTP/1.1\r\nHost: x\r\n\r\n")
      c:close()
    end)
    os.execute("rm -rf " .. helper.quote(dir))
  end
end

-- Drives m until want completions arrived: completions by id.
local function drive(m, want)
  local got, n = {}, 0
  for _ = 1, 600 do
    if n >= want then break end
    for _, c in ipairs(m:poll(50)) do
      assert(not got[c.id], "completed twice")
      got[c.id], n = c, n + 1
    end
  end
  assert(n == want, "transfers still in flight")
  return got
end

local srv = helper.start_server { app = "echo", tls = true }
local raw, stop_raw = start_raw()
local ok, err = pcall(function()
  for _, base in ipairs { srv.http, srv.https } do
    local m = core.multi { ca_file = srv.ca_file, max_body = 4096, max_connections = 4 }
    local ids = {}
    for i = 1, 12 do
      ids[i] = m:add { url = base .. "/echo", method = "POST", body = ("x"):rep(i * 100),
        fresh_connect = i % 3 == 0, headers = { ["X-N"] = tostring(i) } }
    end
    local slow = m:add { url = base .. "/delay/5" }
    local big = m:add { url = base .. "/bytes/100000" }
    local late = m:add { url = base .. "/delay/2", timeout = 0.2 }
    m:perform()
    assert(m:cancel(slow))
    local got = drive(m, 14)
    for i = 1, 12 do assert(got[ids[i]].status == 200, "echo") end
    assert(got[big].err.code == "TOO_LARGE")
    assert(got[late].err.code == "TIMEOUT")
    -- progress callbacks that raise or abort; pooled transfers reused
    local a = m:add { url = base .. "/stream/50000", on_progress = function() error("stop") end }
    local b = m:add { url = base .. "/stream/50000", on_progress = function() return true end }
    got = drive(m, 2)
    assert(got[a].err.code == "CALLBACK" and got[b].err.code == "ABORTED")
    -- closed with transfers in flight
    for _ = 1, 3 do m:add { url = base .. "/delay/2", method = "PUT", body = "x" } end
    m:perform()
    m:close()
    m:close()
  end

  -- replies that break HTTP, blocking and in a multi
  local cases = { http09 = "PROTOCOL", bad_status = "PROTOCOL", two_lengths = "PROTOCOL",
    long_line = "TOO_LARGE", many_headers = "TOO_LARGE", continue_flood = "TOO_LARGE" }
  local s = core.session {}
  local m = core.multi {}
  local ids = {}
  for path, code in pairs(cases) do
    local st, e = s:request { url = raw .. "/" .. path }
    assert(st == nil and e.code == code and e.sent == true, path)
    ids[m:add { url = raw .. "/" .. path }] = code
  end
  local got = drive(m, 6)
  for id, code in pairs(ids) do assert(got[id].err.code == code) end
  assert(s:request { url = raw .. "/ok" } == 200)
  s:close()
  m:close()

  -- an event loop's path: socket_action and fds; a multi collected with transfers in flight
  m = core.multi {}
  local id = m:add { url = srv.http .. "/delay/0.1" }
  local done
  for _ = 1, 400 do
    local list = m:socket_action(nil)
    for _, f in ipairs(m:fds()) do
      for _, c in ipairs(m:socket_action(f.fd, f.events)) do list[#list + 1] = c end
    end
    if list[1] then done = list[1] break end
    socket.sleep(0.01)
  end
  assert(done and done.id == id and done.status == 200, "socket_action")
  for _ = 1, 3 do m:add { url = srv.http .. "/delay/2" } end
  m:perform()
  m = nil -- luacheck: ignore 311 (dropped for __gc)
  collectgarbage()
  collectgarbage()

  -- crypto
  assert(core.sha256(("a"):rep(1000)):match("^%x+$"))
  assert(#core.fingerprint("api_key:x") == 16)
  assert(#core.random_bytes(1000) == 1000)
end)
stop_raw()
srv:stop()
if not ok then
  io.stderr:write("valgrind_multi: ", tostring(err), "\n")
  os.exit(1)
end
print("valgrind_multi: ok")
