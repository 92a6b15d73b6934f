-- bench/store_bench.lua: the history store's speed (make bench-store).
--   1. insert a year of half hours (17,520 rows) in one transaction (store:put_rows)
--   2. read the year back (store:rows)       3. by-day totals for the year
--   4. export a decade to CSV (175,200 rows) with the Lua heap's high-water mark, next to
--      one year's (flat memory: the two peaks match)
--   5. a second sync of an up-to-date account against the sandbox over TLS, counting the
--      GraphQL requests the sandbox saw (/_sandbox/stats)
-- Goals (issue 12): insert < 50 ms, read < 20 ms on 5.4, decade < 1 s in flat memory,
-- re-sync <= 2 GraphQL requests. Each timing is the median of 5 runs (CPU time).
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (os.getenv("OCTOPUS_CPATH") or ((jit and "build/luajit" or "build/" .. _VERSION:match("%d+%.%d+"))
  .. "/?.so")) .. ";" .. package.cpath

local store = require "octopus.history.store"
local export = require "octopus.history.export"
local sync = require "octopus.history.sync"
local octopus = require "octopus"
local helper = require "helper"
local socket = require "socket"

local clock = os.clock
local dir = helper.run("mktemp -d /tmp/octopus-bench.XXXXXXXX"):gsub("%s+$", "")
local SPIN = "0300111122223333444455"
local T0 = 1767193200  -- 2026-01-01T00:00:00+09:00

local function year_rows(start, n)
  local rows = {}
  for i = 0, n - 1 do
    local v = (100 + (i * 37) % 900) / 1000
    local vt, ct = ("%.3f"):format(v), ("%.2f"):format(v * 31)
    rows[i + 1] = { start_at = start + i * 1800, end_at = start + i * 1800 + 1800, value = tonumber(vt),
      value_text = vt,
      cost_estimate = tonumber(ct), cost_estimate_text = ct, version = "MONTHLY", band = "B1", step = 1 }
  end
  return rows
end

local function median(xs)
  table.sort(xs)
  return xs[math.floor((#xs + 1) / 2)]
end

local function ms(x) return ("%.1f ms"):format(x * 1000) end

local label = (jit and jit.version or _VERSION)
print(("store bench (%s, SQLite %s)"):format(label, require("octopus.sqlite").sqlite_version))

local rows = year_rows(T0, 17520)
local ins, rd, bd = {}, {}, {}
for run = 1, 5 do
  local s = assert(store.open(("%s/year%d.sqlite"):format(dir, run)))
  collectgarbage()
  local c = clock()
  local r = assert(s:put_rows(SPIN, rows))
  ins[run] = clock() - c
  assert(r.added == 17520)
  collectgarbage()
  c = clock()
  local n = 0
  for _ in s:rows(SPIN) do n = n + 1 end
  rd[run] = clock() - c
  assert(n == 17520)
  c = clock()
  local days = s:by_day(SPIN)
  bd[run] = clock() - c
  assert(#days == 365)
  s:close()
end
print(("  insert a year (17,520 rows, one transaction)  %s  (goal < 50 ms)"):format(ms(median(ins))))
print(("  read a year back                              %s  (goal < 20 ms)"):format(ms(median(rd))))
print(("  by-day totals for a year                      %s"):format(ms(median(bd))))

-- a decade, written a year per transaction
local s = assert(store.open(dir .. "/decade.sqlite"))
for y = 0, 9 do assert(s:put_rows(SPIN, year_rows(T0 + y * 17520 * 1800, 17520))) end
rows = nil  -- luacheck: ignore
local null = assert(io.open("/dev/null", "w"))
-- timed: CPU time of export.csv to /dev/null
local function timed(to)
  collectgarbage()
  local c = clock()
  local n = assert(export.csv(s, SPIN, null, { to = to }))
  return n, clock() - c
end
-- memory: the live Lua heap (after a full collection every 16 chunks) above the
-- level before the export; garbage awaiting collection is not memory in use
local function live_peak(to)
  collectgarbage()
  collectgarbage()
  local base, peak, k = collectgarbage("count"), 0, 0
  assert(export.csv(s, SPIN, function(chunk)
    k = k + 1
    if k % 16 == 0 then
      collectgarbage()
      local m = collectgarbage("count") - base
      if m > peak then peak = m end
    end
    return null:write(chunk)
  end, { to = to }))
  return peak
end
local year_to = T0 + 17520 * 1800
local n1, t1 = timed(year_to)
local ex, n10 = {}, 0
for run = 1, 5 do n10, ex[run] = timed(nil) end
print(("  export a year to CSV (%d rows)             %s, live heap +%.0f KB"):format(n1, ms(t1), live_peak(year_to)))
print(("  export a decade to CSV (%d rows)          %s, live heap +%.0f KB  (goal < 1 s, flat)")
  :format(n10, ms(median(ex)), live_peak(nil)))
-- the fast path: only the fields a bill needs
local rf = {}
for run = 1, 5 do
  collectgarbage()
  local c = clock()
  for _ in s:rows(SPIN, { to = year_to, fields = { "start_at", "value", "cost_estimate", "version" } }) do end
  rf[run] = clock() - c
end
print(("  read a year back, 4 fields                    %s"):format(ms(median(rf))))
null:close()
s:close()

-- re-sync an up-to-date account against the sandbox (TLS)
local srv = helper.start_server { app = "sandbox", tls = true }
local ok, err = pcall(function()
  local creds = srv.credentials
  local c = octopus.new { api_key = creds.api_key, ca_file = srv.ca_file, rest_url = srv.https .. "/v1/",
    graphql_url = srv.https .. "/v1/graphql/" }
  local st = assert(store.open(dir .. "/sync.sqlite"))
  local w = socket.gettime()
  local first = assert(sync.sync(c, st, creds.accounts[1]))
  local backfill = socket.gettime() - w
  srv:admin("POST", "/_sandbox/reset")
  w = socket.gettime()
  local again = assert(sync.sync(c, st, creds.accounts[1]))
  local resync = socket.gettime() - w
  local _, stats = srv:admin("GET", "/_sandbox/stats")
  local gql = 0
  for _, v in pairs(stats.operations or {}) do gql = gql + v end
  print(("  first sync (backfill %d rows, %d windows, %d requests)  %s wall"):format(first.added, first.windows,
    first.requests, ms(backfill)))
  print(("  second sync, up to date: %d GraphQL requests (sandbox stats), %d unchanged, %s wall  (goal <= 2)")
    :format(gql, again.unchanged, ms(resync)))
  st:close()
end)
srv:stop()
os.execute("rm -rf " .. helper.quote(dir))
if not ok then error(err, 0) end
