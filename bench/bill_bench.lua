-- bench/bill_bench.lua -- the bill engine's speed: one year of half hours (17,520 rows,
-- reading day 15, a fuel-cost adjustment per month, a levy change in May, a price change
-- in October) priced on one stepped tariff, and the same year on ten tariffs, both as
-- ten bill.price calls and as one bill.compare (the rows checked and summed once).
-- Runs under lua5.4 and luajit from the repository root: `lua5.4 bench/bill_bench.lua`,
-- `luajit bench/bill_bench.lua` (or `make bench-bill`). Prints the median of REPS runs:
-- ms per year and rows/s. BENCH_SANDBOX=1 adds a 12-month comparison against the sandbox
-- (fetching vs pricing). A benchmark measures; it asserts nothing.
local out = jit and "build/luajit" or ("build/" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = out .. "/?.so;" .. package.cpath

local bill = require "octopus.money.bill"
local time = require "octopus.pipeline.time"

local ROWS = tonumber(os.getenv("BENCH_ROWS")) or 17520
local REPS = tonumber(os.getenv("BENCH_REPS")) or 15
local T = function(s) return time.parse(s, "Asia/Tokyo") end

local function make_tariff(i)
  local f = 1 + i / 100
  local function p(x) return string.format("%.2f", x * f) end
  local fca, lev = {}, {}
  for m = 0, 14 do
    local y, mo = 2026 + math.floor(m / 12), m % 12 + 1
    fca[#fca + 1] = { price_text = string.format("%.2f", -2 + (m * 37 % 40) / 10),
      valid_from = T(string.format("%04d-%02d-01", y, mo)),
      valid_to = T(string.format("%04d-%02d-01", mo == 12 and y + 1 or y, mo == 12 and 1 or mo + 1)) }
  end
  lev[1] = { price_text = "3.98", valid_from = T("2025-05-01"), valid_to = T("2026-05-01") }
  lev[2] = { price_text = "4.18", valid_from = T("2026-05-01"), valid_to = T("2027-05-01") }
  local steps = {}
  for _, s in ipairs { { 0, 120, 29.80 }, { 120, 300, 36.40 }, { 300, nil, 40.49 } } do
    steps[#steps + 1] = { from = s[1], to = s[2], price_text = p(s[3]), valid_to = T("2026-10-01") }
    steps[#steps + 1] = { from = s[1], to = s[2], price_text = p(s[3] * 1.03), valid_from = T("2026-10-01") }
  end
  return { kind = "stepped", code = "BENCH_" .. i, steps = steps,
    standing = { { kind = "day", per = "A", price_text = p(1.04) } },
    fuel_cost_adjustments = fca, levies = lev }
end

local rows = {}
local start = T("2026-01-15")
for i = 1, ROWS do
  local hh = (i - 1) % 48
  rows[i] = { start_at = start + (i - 1) * 1800, end_at = start + i * 1800,
    value = (hh >= 14 and hh < 46) and (((i * 37) % 400 + 100) / 1000) or 0.1, spin = "0300000000000000000001" }
end
local opts = { reading_day = 15, capacity = 30, now = T("2027-06-01"),
  from = rows[1].start_at, to = rows[#rows].end_at }
local tariffs = {}
for i = 1, 10 do tariffs[i] = make_tariff(i) end

local clock = os.clock
local function median(f)
  f() -- warm up (and JIT)
  local t = {}
  for r = 1, REPS do
    local c0 = clock()
    f()
    t[r] = clock() - c0
  end
  table.sort(t)
  return t[math.ceil(REPS / 2)]
end

local one = assert(bill.price(rows, tariffs[1], opts))
local lua = jit and jit.version or _VERSION
print(("%s: %d rows, %d billing periods, year total %d yen (%s kWh)"):format(lua, ROWS, #one.periods,
  one.total, one.kwh_text))

local t_one = median(function() assert(bill.price(rows, tariffs[1], opts)) end)
print(("  one tariff         %7.2f ms/year  %10.0f rows/s"):format(t_one * 1000, ROWS / t_one))
local t10 = median(function() for i = 1, 10 do assert(bill.price(rows, tariffs[i], opts)) end end)
print(("  ten x bill.price   %7.2f ms       %10.0f rows/s  (%.2f ms/year/tariff)"):format(t10 * 1000,
  10 * ROWS / t10, t10 * 100))
local tc = median(function() bill.compare(rows, tariffs, opts) end)
print(("  bill.compare (10)  %7.2f ms       %10.0f rows/s  (%.2f ms/year/tariff)"):format(tc * 1000,
  10 * ROWS / tc, tc * 100))

-- BENCH_SANDBOX=1: the split for a 12-month comparison against the sandbox (TLS on
-- loopback): fetching the year of readings and the area's products vs pricing them.
if os.getenv("BENCH_SANDBOX") == "1" then
  local tariff = require "octopus.money.tariff"
  local products = require "octopus.rest.products"
  local period = require "octopus.money.period"
  local sb = require("octopus.sandbox.spawn").start { tls = true, ttl = 300 }
  local ok, err = pcall(function()
    local c = require("octopus").new { api_key = sb.credentials.api_key, rest_url = sb.rest_url,
      graphql_url = sb.graphql_url, ca_file = sb.ca_file }
    local acct = sb.credentials.accounts[1]
    local now = os.time()
    local to = period.bounds(now)
    local from = time.add_months(to, -12)
    local gettime = require("socket").gettime
    local t0 = gettime()
    local a = assert(c:account(acct))
    local sp = a.properties[1].electricitySupplyPoints[1]
    local yr = assert(c:readings(acct, { from = from, to = to }):all())
    local plans, cur = {}, tariff.from_agreement(sp.agreements[1]).tariff
    for item in c.products:list() do
      local d = assert(c.products:get(item.code))
      local tr = products.tariff_for(d, sp.spin:sub(1, 2))
      if tr then
        plans[#plans + 1] = tariff.with(assert(tariff.from_rest(d, tr)), { levies = cur.levies })
      end
    end
    local fetch = gettime() - t0
    local t1 = gettime()
    local cmp = bill.compare(yr, plans, { from = from, to = to, missing_adjustments = "zero", current = cur.code })
    local price = gettime() - t1
    print(("  sandbox compare: %d rows, %d products: fetch %.0f ms, price %.1f ms (%.1f%% pricing)"):format(
      #yr, #cmp.entries, fetch * 1000, price * 1000, 100 * price / (fetch + price)))
    -- client:compare (octopus.money.client): everything it fetches (account, statements and
    -- their charges for past fuel-cost adjustments, METI credits, tariffSummary, a year of
    -- readings in concurrent windows) vs its one bill.compare call, timed by wrapping it
    local inner, priced = bill.compare, 0
    bill.compare = function(...)
      local s0 = gettime()
      local r, e = inner(...)
      priced = priced + (gettime() - s0)
      return r, e
    end
    local t2 = gettime()
    local cc = assert(c:compare(acct, { months = 12 }))
    local total = gettime() - t2
    bill.compare = inner
    print(("  client:compare 12 months: %d rows, %d products: %.0f ms = fetch %.0f ms + price %.1f ms " ..
      "(%.1f%% pricing)"):format(cc.current.result.readings, #cc.entries, total * 1000, (total - priced) * 1000,
      priced * 1000, 100 * priced / total))
  end)
  sb:stop()
  if not ok then error(err, 0) end
end
