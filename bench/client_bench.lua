-- bench/client_bench.lua -- sequential small GETs against nginx on loopback:
-- the octopus client pipeline vs the practical limit (plain C, one reused
-- libcurl handle), the raw core session, LuaSocket's http.request, a curl
-- process per request (what many Neovim plugins do), and the Python peers a
-- user would pick instead (requests, aiohttp: bench/py_peers.py, Debian's
-- python3-requests and python3-aiohttp), all in the same run.
--
-- Every peer reports CPU time per request (the client process's user+sys over
-- the timed loop: os.clock() in this process, cpu= printed by c_limit and
-- py_peers.py, /proc/self/stat's children times for curl processes) next to
-- requests per second: on a shared machine CPU per request is the steadier figure.
--
--   make bench-client                       (builds, pins, runs lua5.4 and luajit)
--   taskset -c 1 lua5.4 bench/client_bench.lua   (from the repository root)
--
-- Env: BENCH_N (keep-alive peers, default 2000), BENCH_SOCKET_N (LuaSocket,
-- default N/4: it opens a connection per request; BENCH_SOCKET_TLS_N for
-- HTTPS, default 100: a full handshake per request), BENCH_CURL_N (curl
-- processes, default 200), BENCH_RUNS (default 5; the median is reported),
-- BENCH_C_LIMIT (path of the C binary, default build/bench/c_limit), BENCH_PY_N
-- (Python peers, default N/2), BENCH_PYTHON (default /usr/bin/python3), BENCH_PEERS
-- (comma-separated peer numbers to run, default all; 1, the C limit, always runs).
-- Starts its own nginx (bench/nginx.sh) and stops it on the way out.
-- Every loop is bounded by its count; a benchmark measures, it asserts only
-- that each response was a 200.
local out = jit and "build/luajit" or ("build/" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = out .. "/?.so;" .. package.cpath

local socket = require "socket"
local core = require "octopus.core"
local octopus = require "octopus"

local N = tonumber(os.getenv("BENCH_N")) or 2000
local SOCKET_N = tonumber(os.getenv("BENCH_SOCKET_N")) or math.floor(N / 4)
local SOCKET_TLS_N = tonumber(os.getenv("BENCH_SOCKET_TLS_N")) or 100
local CURL_N = tonumber(os.getenv("BENCH_CURL_N")) or 200
local RUNS = tonumber(os.getenv("BENCH_RUNS")) or 5
local C_LIMIT = os.getenv("BENCH_C_LIMIT") or "build/bench/c_limit"
local PY_N = tonumber(os.getenv("BENCH_PY_N")) or math.floor(N / 2)
local PYTHON = os.getenv("BENCH_PYTHON") or "/usr/bin/python3"
local now = socket.gettime
local decode = core.json.decode   -- LuaSocket and curl peers decode too: same result as the client

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function command(cmd)
  local f = assert(io.popen(cmd, "r"))
  local text = f:read("*a")
  f:close()
  return text
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  if n % 2 == 1 then return xs[(n + 1) / 2] end
  return (xs[n / 2] + xs[n / 2 + 1]) / 2
end

local function check(ok, what)
  if not ok then error("bench: " .. what, 2) end
end

-- CPU seconds of this process and of its reaped children (/proc/self/stat utime, stime,
-- cutime, cstime; clock ticks of 1/100 s)
local function proc_cpu()
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("*l")
  f:close()
  local fields = {}
  for x in stat:match("^%d+ %b() (.*)$"):gmatch("%S+") do fields[#fields + 1] = x end
  -- after pid and comm: state is field 1, utime 12, stime 13, cutime 14, cstime 15
  return (tonumber(fields[12]) + tonumber(fields[13]) + tonumber(fields[14]) + tonumber(fields[15])) / 100
end

-- Each peer: name, count [, count_tls], and run(base, ca_file, n) -> seconds, cpu seconds
-- for n GETs (after one untimed warm-up request, so every peer starts with a connection).
local peers = {}

-- a child that prints "elapsed=<s> cpu=<s>"
local function child(cmd, what)
  local line = command(cmd)
  local elapsed, cpu = tonumber(line:match("elapsed=([%d%.]+)")), tonumber(line:match("cpu=([%d%.]+)"))
  check(elapsed and cpu, what .. " failed: " .. line)
  return elapsed, cpu
end

peers[#peers + 1] = { name = "C limit (libcurl, 1 handle)", count = N, run = function(base, ca, n)
  return child(sh_quote(C_LIMIT) .. " " .. sh_quote(base .. "products/") .. " " .. n ..
               (ca and (" " .. sh_quote(ca)) or ""), "c_limit")
end }

peers[#peers + 1] = { name = "octopus client:request", count = N, run = function(base, ca, n)
  local client = octopus.new { rest_url = base, ca_file = ca, retries = 0 }
  local req = { method = "GET", path = { "products" }, auth = "none" }
  local data, err = client:request(req)
  check(data and data.count, "client warm-up: " .. tostring(err))
  local t0, c0 = now(), os.clock()
  for _ = 1, n do
    local d, err2 = client:request(req)
    check(d and d.count, "client: " .. tostring(err2))
  end
  local t, c = now() - t0, os.clock() - c0
  if client.close then client:close() end
  return t, c
end }

peers[#peers + 1] = { name = "octopus, 1 task at a time", count = N, run = function(base, ca, n)
  local client = octopus.new { rest_url = base, ca_file = ca, retries = 0 }
  local req = { method = "GET", path = { "products" }, auth = "none" }
  local function one() return client:request(req) end
  check(client:spawn(one):wait(), "task warm-up")
  local t0, c0 = now(), os.clock()
  for _ = 1, n do
    local d, err2 = client:spawn(one):wait()
    check(d and d.count, "task: " .. tostring(err2))
  end
  local t, c = now() - t0, os.clock() - c0
  client:close()
  return t, c
end }

peers[#peers + 1] = { name = "core session (no JSON)", count = N, run = function(base, ca, n)
  local s = core.session { ca_file = ca }
  local req = { method = "GET", url = base .. "products/" }
  check(s:request(req) == 200, "core warm-up")
  local t0, c0 = now(), os.clock()
  for _ = 1, n do
    local status = s:request(req)
    check(status == 200, "core session: " .. tostring(status))
  end
  local t, c = now() - t0, os.clock() - c0
  s:close()
  return t, c
end }

peers[#peers + 1] = { name = "LuaSocket http.request+json", count = SOCKET_N, count_tls = SOCKET_TLS_N,
                      run = function(base, ca, n)
  local ltn12 = require "ltn12"
  local http
  if ca then
    local ok, https = pcall(require, "ssl.https")
    if not ok then return nil end
    http = https
  else
    http = require "socket.http"
  end
  local url = base .. "products/"
  local function get()
    local sink = {}
    local _, code = http.request { url = url, sink = ltn12.sink.table(sink),
                                   cafile = ca, verify = ca and "peer" or nil }
    check(code == 200 and decode(table.concat(sink)).count, "luasocket: " .. tostring(code))
  end
  get()
  local t0, c0 = now(), os.clock()
  for _ = 1, n do get() end
  return now() - t0, os.clock() - c0
end }

peers[#peers + 1] = { name = "curl process/request+json", count = CURL_N, run = function(base, ca, n)
  local cmd = "curl -sf " .. (ca and ("--cacert " .. sh_quote(ca) .. " ") or "") ..
              sh_quote(base .. "products/")
  local function get() check(decode(command(cmd)).count, "curl") end
  get()
  local t0, c0 = now(), proc_cpu()
  for _ = 1, n do get() end
  return now() - t0, proc_cpu() - c0
end }

for _, lib in ipairs { "requests", "aiohttp" } do
  peers[#peers + 1] = { name = "Python " .. lib, count = PY_N, py = lib, run = function(base, ca, n)
    return child(sh_quote(PYTHON) .. " bench/py_peers.py " .. lib .. " " .. sh_quote(base .. "products/") ..
                 " " .. n .. (ca and (" " .. sh_quote(ca)) or "") .. " 2>&1", "python " .. lib)
  end }
end

-- Runs are interleaved (round r of every peer, then round r + 1), so a noisy
-- neighbour slows all peers alike; each cell is the median of RUNS rounds.
local function main(ports)
  local bases = { http = "http://127.0.0.1:" .. ports.http .. "/v1/",
                  https = "https://127.0.0.1:" .. ports.https .. "/v1/" }
  local rates, cpus = {}, {}
  local py_ok = os.execute(sh_quote(PYTHON) .. " -c 'import requests, aiohttp' 2>/dev/null")
  py_ok = py_ok == true or py_ok == 0
  local only
  if os.getenv("BENCH_PEERS") then
    only = { [1] = true }
    for k in os.getenv("BENCH_PEERS"):gmatch("%d+") do only[tonumber(k)] = true end
  end
  for i = 1, #peers do rates[i], cpus[i] = { http = {}, https = {} }, { http = {}, https = {} } end
  for r = 1, RUNS do
    for i, peer in ipairs(peers) do
      if (not peer.py or py_ok) and (not only or only[i]) then
        for _, proto in ipairs { "http", "https" } do
          local ca = proto == "https" and ports.ca or nil
          local n = ca and peer.count_tls or peer.count
          local t, c = peer.run(bases[proto], ca, n)
          if t then rates[i][proto][r], cpus[i][proto][r] = n / t, c / n * 1e6 end
        end
      end
    end
    io.stderr:write(".")
  end
  io.stderr:write("\n")
  local results = {}
  for i = 1, #peers do
    results[i] = {}
    for _, proto in ipairs { "http", "https" } do
      if #rates[i][proto] > 0 then
        results[i][proto] = median(rates[i][proto])
        results[i][proto .. "_cpu"] = median(cpus[i][proto])
      end
    end
  end
  local lua = jit and jit.version or _VERSION
  print(("client benchmark (%s): sequential GETs of a %d-byte JSON document, nginx on loopback," ..
         " median of %d runs; CPU = the client process's user+sys per request"):format(lua, ports.size, RUNS))
  print(("%-28s %10s %9s %8s %7s %9s %8s %7s"):format("peer", "n", "HTTP r/s", "CPU us", "xC CPU",
    "HTTPS r/s", "CPU us", "xC CPU"))
  local c = results[1]
  for i, peer in ipairs(peers) do
    local row = { peer.name, peer.count_tls and (peer.count .. "/" .. peer.count_tls) or tostring(peer.count) }
    for _, proto in ipairs { "http", "https" } do
      local v, cpu = results[i][proto], results[i][proto .. "_cpu"]
      row[#row + 1] = v and ("%.0f"):format(v) or "-"
      row[#row + 1] = cpu and ("%.1f"):format(cpu) or "-"
      row[#row + 1] = cpu and ("%.2f"):format(cpu / c[proto .. "_cpu"]) or "-"
    end
    print(("%-28s %10s %9s %8s %7s %9s %8s %7s"):format((table.unpack or unpack)(row)))
  end
  local cl = results[2]
  local aio
  for i, peer in ipairs(peers) do if peer.py == "aiohttp" then aio = results[i] end end
  for _, proto in ipairs { "http", "https" } do
    if not cl[proto .. "_cpu"] then break end
    local ratio = cl[proto .. "_cpu"] / c[proto .. "_cpu"]
    local line = ("%s: client CPU/request is %.2fx the C limit's (goal <= 1.3: %s)"):format(proto:upper(),
      ratio, ratio <= 1.3 and "met" or "MISSED")
    if aio and aio[proto .. "_cpu"] then
      local a = aio[proto .. "_cpu"] / cl[proto .. "_cpu"]
      line = line .. ("; aiohttp uses %.2fx the client's CPU/request (goal >= 3: %s)"):format(a,
        a >= 3 and "met" or "MISSED")
    end
    print(line)
  end
end

-- nginx lifecycle: start, run, always stop
local line = command("sh bench/nginx.sh start")
local dir, http_port, https_port, ca = line:match("^(%S+) (%d+) (%d+) (%S+)")
check(dir, "nginx did not start: " .. line)
local probe = core.session {}
local _, _, body = probe:request { url = "http://127.0.0.1:" .. http_port .. "/v1/products/" }
probe:close()
local ok, err = pcall(main, { http = http_port, https = https_port, ca = ca, size = body and #body or 0 })
os.execute("sh bench/nginx.sh stop " .. sh_quote(dir))
if not ok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
