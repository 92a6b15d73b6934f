-- bench/async_bench.lua -- what the async layer buys and what it costs.
--
--  1. Latency: 100 GETs to the echo app's /delay/0.05 (50 ms server latency, loopback):
--     sequential blocking client:request vs client:map with concurrency 100.
--     Goals: concurrent <= 3x one request's latency; >= 30x faster than sequential.
--  2. Overhead: sequential GETs to nginx (zero latency): blocking client:request vs
--     the same calls inside one task driven by client:poll. Goal: async <= 1.3x.
--
--   make bench-async                    (builds, runs lua5.4 and luajit)
--   lua5.4 bench/async_bench.lua        (from the repository root)
-- Env: BENCH_N (overhead requests, default 2000), BENCH_RUNS (default 5, median).
-- Starts its own echo server (spec/helper.lua) and nginx (bench/nginx.sh) and stops
-- them on the way out. Loops are bounded by their counts; it measures, and asserts
-- only that every response was a 200.
local out = jit and "build/luajit" or ("build/" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = out .. "/?.so;" .. package.cpath

local socket = require "socket"
local octopus = require "octopus"
local async = require "octopus.async"
local helper = require "helper"

local N = tonumber(os.getenv("BENCH_N")) or 2000
local RUNS = tonumber(os.getenv("BENCH_RUNS")) or 5
local CONC = 100
local now = socket.gettime

local function median(xs)
  table.sort(xs)
  local n = #xs
  if n % 2 == 1 then return xs[(n + 1) / 2] end
  return (xs[n / 2] + xs[n / 2 + 1]) / 2
end

local function check(ok, what) if not ok then error("bench: " .. tostring(what), 2) end end

local function latency(echo)
  local c = octopus.new{ rest_url = echo.http .. "/", retries = 0 }
  async.attach(c, { concurrency = CONC })
  local url = echo.http .. "/delay/0.05"
  local function get() return c:request{ url = url } end
  check(get())                                   -- warm-up (a connection)
  local singles = {}
  for i = 1, RUNS do
    local t0 = now(); check(get()); singles[i] = now() - t0
  end
  local single = median(singles)
  local t0 = now()
  for _ = 1, CONC do check(get()) end
  local seq = now() - t0
  local items = {}
  for i = 1, CONC do items[i] = i end
  local conc_runs = {}
  for r = 1, RUNS do
    t0 = now()
    local res, errs = c:map(items, function() return get() end, { concurrency = CONC })
    conc_runs[r] = now() - t0
    check(errs == nil and #res == CONC, errs and select(2, next(errs)))
  end
  local conc = median(conc_runs)
  c:close()
  print(("latency 50 ms, %d GETs (%s):"):format(CONC, _VERSION .. (jit and " / LuaJIT" or "")))
  print(("  one request          %8.1f ms"):format(single * 1000))
  print(("  sequential blocking  %8.1f ms"):format(seq * 1000))
  print(("  map, concurrency %d %8.1f ms   = %.2fx one request (goal <= 3), %.1fx faster than sequential (goal >= 30)")
    :format(CONC, conc * 1000, conc / single, seq / conc))
end

local function overhead(base)
  local c = octopus.new{ rest_url = base, retries = 0 }
  local function get() return c:request{ path = { "products" }, auth = "none" } end
  check(get())
  local blocking, tasked = {}, {}
  for r = 1, RUNS do
    local t0 = now()
    for _ = 1, N do check(get()) end
    blocking[r] = now() - t0
    t0 = now()
    local task = c:spawn(function()
      for _ = 1, N do check(get()) end
      return true
    end)
    for _ = 1, N * 100 do
      if task:done() then break end
      c:poll(10)
    end
    check(task:wait())
    tasked[r] = now() - t0
  end
  c:close()
  local b, a = median(blocking) / N, median(tasked) / N
  print(("per-request overhead, %d sequential GETs to nginx (zero latency):"):format(N))
  print(("  blocking client:request   %7.1f us"):format(b * 1e6))
  print(("  inside a task + poll      %7.1f us   = %.2fx (goal <= 1.3)"):format(a * 1e6, a / b))
end

local echo = helper.start_server{ app = "echo", tls = false }
local ok, err = pcall(latency, echo)
echo:stop()
if not ok then error(err, 0) end

local line = assert(io.popen("sh bench/nginx.sh start")):read("*l")
local dir, port = (line or ""):match("^(%S+) (%d+)")
check(dir, "nginx did not start")
ok, err = pcall(overhead, "http://127.0.0.1:" .. port .. "/v1/")
os.execute("sh bench/nginx.sh stop '" .. dir .. "'")
if not ok then error(err, 0) end
