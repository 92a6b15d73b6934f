-- bench/readings_memory.lua -- what client:readings costs in memory and time against the
-- sandbox (a benchmark: it measures, it asserts only that the rows came back).
--
--   make bench-readings            (lua5.4 and luajit)
--   lua5.4 bench/readings_memory.lua   (from the repository root)
--
-- 1. Bytes per reading row held by client:readings(...):all() over a year
--    (collectgarbage("count") after a full collection, before and after).
-- 2. Ten years iterated with `for r in it` (no all()): the sandbox's clock is moved
--    nine years ahead so it has ten years of half hours; the Lua heap is sampled every
--    10,000 rows and its least-squares slope reported (flat: the iterator holds a
--    bounded number of windows, never the range).
-- 3. A year (53 windows) with 100 ms injected per HalfHourlyReadings request (sandbox
--    fault {"delay": 0.1}) at concurrency 1, 8 and 16: wall time; and the sandbox's own
--    CPU per 7-day window (its /proc/<pid>/stat utime+stime over an undelayed year).
-- Env: BENCH_YEARS (default 10).
local out = jit and "build/luajit" or ("build/" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = out .. "/?.so;" .. package.cpath

local helper = require "helper"
local octopus = require "octopus"
local socket = require "socket"

local YEARS = tonumber(os.getenv("BENCH_YEARS")) or 10
local now = socket.gettime

local function heap_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

local function proc_cpu(pid)
  local f = assert(io.open("/proc/" .. pid .. "/stat"))
  local stat = f:read("*l")
  f:close()
  local fields = {}
  for x in stat:match("^%d+ %b() (.*)$"):gmatch("%S+") do fields[#fields + 1] = x end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

local function slope(xs, ys)
  local n, sx, sy, sxx, sxy = #xs, 0, 0, 0, 0
  for i = 1, n do sx, sy, sxx, sxy = sx + xs[i], sy + ys[i], sxx + xs[i] ^ 2, sxy + xs[i] * ys[i] end
  local d = n * sxx - sx * sx
  return d ~= 0 and (n * sxy - sx * sy) / d or 0
end

local function main(srv)
  local creds = srv.credentials
  local account = creds.accounts[1]
  local function client()
    return octopus.new { rest_url = srv.http .. "/v1/", api_key = creds.api_key, retries = 0 }
  end
  local lua = jit and jit.version or _VERSION
  print(("readings benchmark (%s) against the sandbox on loopback (HTTP)"):format(lua))

  -- 1. a year held by all()
  local c = client()
  assert(c:readings(account, { from = "2026-10-01", to = "2026-10-02" }):all())   -- log in, warm up
  local before = heap_kb()
  local rows = assert(c:readings(account, { from = "2025-11-01", to = "2026-11-01" }):all())
  local after = heap_kb()
  print(("  a year held by :all(): %d rows, %.0f KB, %.0f bytes per row")
    :format(#rows, after - before, (after - before) * 1024 / #rows))
  rows = nil   -- luacheck: ignore 311 (dropped before the next measurement)

  -- 3a. the sandbox's own time per window (no delay), concurrency 1
  local cpu0, t0 = proc_cpu(srv.pid), now()
  local ops0 = srv:count("operations", "HalfHourlyReadings")
  do
    local year = assert(c:readings(account, { from = "2025-11-01", to = "2026-11-01", concurrency = 1 }):all())
    local windows = srv:count("operations", "HalfHourlyReadings") - ops0
    local sandbox_ms = (proc_cpu(srv.pid) - cpu0) * 1000 / windows
    print(("  a year, no delay, concurrency 1: %d windows, %d rows in %.2f s; sandbox CPU %.1f ms per window")
      :format(windows, #year, now() - t0, sandbox_ms))
  end

  -- 3b. a year with 100 ms per window
  srv:fault { match = { operation = "HalfHourlyReadings" }, times = 100000, action = { delay = 0.1 } }
  for _, k in ipairs { 1, 8, 16 } do
    local t = now()
    local n = #assert(c:readings(account, { from = "2025-11-01", to = "2026-11-01", concurrency = k }):all())
    print(("  a year with 100 ms per window, concurrency %2d: %.2f s (%d rows)"):format(k, now() - t, n))
  end
  srv:admin("DELETE", "/_sandbox/faults")
  c:close()

  -- 2. ten years iterated
  srv:advance((YEARS - 1) * 365.25 * 86400)
  local c2 = client()
  local from, to = "2025-11-01", ("%d-11-01"):format(2025 + YEARS)
  local xs, ys = {}, {}
  local n = 0
  local start_kb = heap_kb()
  local peak = start_kb
  local t = now()
  for r in c2:readings(account, { from = from, to = to }) do
    n = n + 1
    if r.value == nil then error("a row without a value") end
    if n % 10000 == 0 then
      local kb = heap_kb()
      xs[#xs + 1], ys[#ys + 1] = n, kb
      if kb > peak then peak = kb end
    end
  end
  local end_kb = heap_kb()
  print(("  %d years iterated without :all(): %d rows in %.1f s; Lua heap %.0f KB at start, peak %.0f, end %.0f;" ..
    " slope %.3f bytes per row over %d samples"):format(YEARS, n, now() - t, start_kb, peak, end_kb,
    slope(xs, ys) * 1024, #xs))
  c2:close()
end

local srv = helper.start_server { app = "sandbox", tls = false, ttl = 1800 }
local ok, err = pcall(main, srv)
srv:stop()
if not ok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
