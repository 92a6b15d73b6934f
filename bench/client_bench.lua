-- bench/client_bench.lua -- sequential small GETs against nginx on loopback:
-- the octopus client pipeline vs the practical limit (plain C, one reused
-- libcurl handle), the raw core session, LuaSocket's http.request and a curl
-- process per request (what many Neovim plugins do).
--
--   make bench-client                       (builds, pins, runs lua5.4 and luajit)
--   taskset -c 1 lua5.4 bench/client_bench.lua   (from the repository root)
--
-- Env: BENCH_N (keep-alive peers, default 2000), BENCH_SOCKET_N (LuaSocket,
-- default N/4: it opens a connection per request; BENCH_SOCKET_TLS_N for
-- HTTPS, default 100: a full handshake per request), BENCH_CURL_N (curl
-- processes, default 200), BENCH_RUNS (default 5; the median is reported),
-- BENCH_C_LIMIT (path of the C binary, default build/bench/c_limit).
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

-- Each peer: name, count [, count_tls], and run(base, ca_file, n) -> seconds for n GETs
-- (after one untimed warm-up request, so every peer starts with a connection).
local peers = {}

peers[#peers + 1] = { name = "C limit (libcurl, 1 handle)", count = N, run = function(base, ca, n)
  local line = command(sh_quote(C_LIMIT) .. " " .. sh_quote(base .. "products/") .. " " .. n ..
                       (ca and (" " .. sh_quote(ca)) or ""))
  local elapsed = tonumber(line:match("elapsed=([%d%.]+)"))
  check(elapsed, "c_limit failed: " .. line)
  return elapsed
end }

peers[#peers + 1] = { name = "octopus client:request", count = N, run = function(base, ca, n)
  local client = octopus.new { rest_url = base, ca_file = ca, retries = 0 }
  local req = { method = "GET", path = { "products" }, auth = "none" }
  local data, err = client:request(req)
  check(data and data.count, "client warm-up: " .. tostring(err))
  local t0 = now()
  for _ = 1, n do
    local d, err2 = client:request(req)
    check(d and d.count, "client: " .. tostring(err2))
  end
  local t = now() - t0
  if client.close then client:close() end
  return t
end }

peers[#peers + 1] = { name = "core session (no JSON)", count = N, run = function(base, ca, n)
  local s = core.session { ca_file = ca }
  local req = { method = "GET", url = base .. "products/" }
  check(s:request(req) == 200, "core warm-up")
  local t0 = now()
  for _ = 1, n do
    local status = s:request(req)
    check(status == 200, "core session: " .. tostring(status))
  end
  local t = now() - t0
  s:close()
  return t
end }

peers[#peers + 1] = { name = "LuaSocket http.request+json", count = SOCKET_N, count_tls = SOCKET_TLS_N, run = function(base, ca, n)
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
  local t0 = now()
  for _ = 1, n do get() end
  return now() - t0
end }

peers[#peers + 1] = { name = "curl process/request+json", count = CURL_N, run = function(base, ca, n)
  local cmd = "curl -sf " .. (ca and ("--cacert " .. sh_quote(ca) .. " ") or "") .. sh_quote(base .. "products/")
  local function get() check(decode(command(cmd)).count, "curl") end
  get()
  local t0 = now()
  for _ = 1, n do get() end
  return now() - t0
end }

-- Runs are interleaved (round r of every peer, then round r + 1), so a noisy
-- neighbour slows all peers alike; each cell is the median req/s of RUNS rounds.
local function main(ports)
  local bases = { http = "http://127.0.0.1:" .. ports.http .. "/v1/",
                  https = "https://127.0.0.1:" .. ports.https .. "/v1/" }
  local rates = {}
  for i = 1, #peers do rates[i] = { http = {}, https = {} } end
  for r = 1, RUNS do
    for i, peer in ipairs(peers) do
      for _, proto in ipairs { "http", "https" } do
        local ca = proto == "https" and ports.ca or nil
        local n = ca and peer.count_tls or peer.count
        local t = peer.run(bases[proto], ca, n)
        if t then rates[i][proto][r] = n / t end
      end
    end
    io.stderr:write(".")
  end
  io.stderr:write("\n")
  local results = {}
  for i = 1, #peers do
    results[i] = {
      http = #rates[i].http > 0 and median(rates[i].http) or nil,
      https = #rates[i].https > 0 and median(rates[i].https) or nil,
    }
  end
  local lua = jit and jit.version or _VERSION
  print(("client benchmark (%s): sequential GETs of a %d-byte JSON document, nginx on loopback," ..
         " median of %d runs"):format(lua, ports.size, RUNS))
  print(("%-30s %11s %10s %8s %10s %8s"):format("peer", "n", "HTTP r/s", "vs C", "HTTPS r/s", "vs C"))
  local c = results[1]
  local function cell(v, limit)
    if not v then return "-", "-" end
    return ("%.0f"):format(v), ("%.2f"):format(v / limit)
  end
  for i, peer in ipairs(peers) do
    local h, hr = cell(results[i].http, c.http)
    local s, sr = cell(results[i].https, c.https)
    local n = peer.count_tls and (peer.count .. "/" .. peer.count_tls) or tostring(peer.count)
    print(("%-30s %11s %10s %8s %10s %8s"):format(peer.name, n, h, hr, s, sr))
  end
  local cl = results[2]
  for _, proto in ipairs { "http", "https" } do
    local ratio = c[proto] / cl[proto]
    local ahead = cl[proto] > (results[4][proto] or 0) and cl[proto] > results[5][proto]
    print(("%s: C limit is %.2fx the client (goal <= 1.5: %s); client ahead of LuaSocket and curl: %s")
      :format(proto:upper(), ratio, ratio <= 1.5 and "met" or "MISSED", ahead and "yes" or "NO"))
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
