-- spec/bill_spec.lua: octopus.money.bill priced against hand-worked bills (the arithmetic
-- is written out beside each expectation), plus every bad-input case the engine promises
-- to refuse or report. Pure: no sandbox, no network.
local bill = require "octopus.money.bill"
local time = require "octopus.pipeline.time"

local T = function(s) return time.parse(s, "Asia/Tokyo") end
local HH = 1800

-- n half-hour rows from `from`, value(i) kWh for the i-th (1-based)
local function rows_from(from, n, value, spin)
  local out, s = {}, T(from)
  for i = 1, n do
    out[i] = { start_at = s, end_at = s + HH, value = value(i), spin = spin }
    s = s + HH
  end
  return out
end

-- rows covering [from, to) at a constant kWh per half hour
local function steady(from, to, per_hh, spin)
  return rows_from(from, (T(to) - T(from)) / HH, function() return per_hh end, spin)
end

local function concat(...)
  local out = {}
  for _, list in ipairs { ... } do for _, r in ipairs(list) do out[#out + 1] = r end end
  return out
end

local function lines_of(p, kind)
  local out = {}
  for _, l in ipairs(p.lines) do if l.kind == kind then out[#out + 1] = l end end
  return out
end

-- every line explains itself: quantity x unit price = yen, to the 1e-8 yen
local function check_lines(res)
  for _, p in ipairs(res.periods) do
    for _, l in ipairs(p.lines) do
      assert.is_true(math.abs(l.quantity * l.unit_price - l.yen) < 1e-6,
        l.label .. ": " .. l.quantity_text .. " x " .. l.unit_price_text .. " ~= " .. l.yen_text)
    end
  end
end

-- the caller's line is in the message: error(msg, 2) from the public function
local function raises_here(pattern, f)
  local ok, msg = pcall(f)
  assert.is_false(ok)
  assert.matches("bill_spec%.lua:%d+: .-" .. pattern, tostring(msg))
end

-- The regulated Tokyo-area shape (API.md's reference figures): 311.75 yen per 10 A per
-- month; 29.80 / 36.40 / 40.49 yen/kWh at 0-120-300 kWh.
local function tokyo(extra)
  local t = { kind = "stepped", code = "TOKYO_B", display_name = "Tokyo B",
    steps = { { band = "S1", from = 0, to = 120, price_text = "29.80" },
              { band = "S2", from = 120, to = 300, price_text = "36.40" },
              { band = "S3", from = 300, price_text = "40.49" } },
    standing = { { kind = "month", per = "A", per_size = 10, price_text = "311.75", unit_type = "AMPERE_MONTHS" } },
    fuel_cost_adjustments = {
      { price_text = "-1.50", valid_from = T("2026-10-01"), valid_to = T("2026-11-01") },
      { price_text = "-1.50", valid_from = T("2026-11-01"), valid_to = T("2026-12-01") },
      { price_text = "2.00", valid_from = T("2026-12-01"), valid_to = T("2027-01-01") } },
    levies = { { price_text = "3.98", valid_from = T("2025-05-01"), valid_to = T("2026-05-01") },
               { price_text = "4.18", valid_from = T("2026-05-01"), valid_to = T("2027-05-01") } } }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local NOW = T("2027-01-20")

describe("octopus.money.bill: hand-worked bills", function()
  it("prices a 30-day period of 350 kWh on three steps, per-ampere standing, FCA and levy", function()
    -- November 2026 (30 days), 30 A; 1400 half hours of 0.25 kWh + 40 of 0 = 350 kWh
    local rows = rows_from("2026-11-01", 1440, function(i) return i <= 1400 and 0.25 or 0 end)
    local res = assert(bill.price(rows, tokyo(), { capacity = 30, now = NOW }))
    assert.equal(1, #res.periods)
    local p = res.periods[1]
    assert.equal("2026-11-01", p.from_date); assert.equal("2026-11-30", p.to_date); assert.equal(30, p.days)
    assert.equal(350, p.kwh); assert.equal(0, p.missing); assert.is_true(p.complete)
    local st = lines_of(p, "standing")
    -- standing: 311.75 yen per 10 A per month x 3 (30 A) x 1 month = 935.25
    assert.equal(1, #st); assert.equal("935.25", st[1].yen_text); assert.equal("10A·month", st[1].unit)
    assert.equal(3, st[1].quantity); assert.equal("standing charge per 10 A", st[1].label)
    local e = lines_of(p, "energy")
    -- step 1: 120 kWh x 29.80 = 3576; step 2: 180 x 36.40 = 6552; step 3: 50 x 40.49 = 2024.5
    assert.equal(3, #e)
    assert.same({ "120", "180", "50" }, { e[1].quantity_text, e[2].quantity_text, e[3].quantity_text })
    assert.same({ "3576", "6552", "2024.5" }, { e[1].yen_text, e[2].yen_text, e[3].yen_text })
    assert.equal("S3", e[3].band)
    -- fuel-cost adjustment (November): 350 x -1.50 = -525
    local f = lines_of(p, "fuel_cost_adjustment")
    assert.equal(1, #f); assert.equal("-525", f[1].yen_text); assert.equal("-1.50", f[1].unit_price_text)
    -- levy (FY2026): 350 x 4.18 = 1463
    local l = lines_of(p, "levy")
    assert.equal("1463", l[1].yen_text)
    -- charges: 935.25 + 3576 + 6552 + 2024.5 - 525 = 12562.75 -> 12562 (rounded down)
    assert.equal(12562, p.charges); assert.equal(1463, p.levy)
    -- total: 12562 + 1463 = 14025; of which consumption tax: 14025 x 10 / 110 = 1275 (1275.0)
    assert.equal(14025, p.total); assert.equal(14025, res.total); assert.equal(1275, p.consumption_tax)
    -- one period billed: its lines, product and dates at the top as well
    assert.same(p.lines, res.lines)
    assert.equal("TOKYO_B", res.product); assert.equal("2026-11-30", res.period.to_date)
    assert.equal("whole", res.method.kwh_rounding)
    check_lines(res)
  end)

  it("rounds the levy down on its own, not with the charges", function()
    -- single step 30.00 yen/kWh, 900.55 yen/month standing, 123 kWh, FCA 0, levy 3.98
    local t = { kind = "single_step", code = "FLAT", steps = { { price_text = "30.00" } },
      standing = { { kind = "month", price_text = "900.55" } },
      fuel_cost_adjustments = { { price_text = "0" } }, levies = { { price_text = "3.98" } } }
    local rows = rows_from("2026-11-01", 1440, function(i) return i <= 492 and 0.25 or 0 end) -- 123 kWh
    local p = assert(bill.price(rows, t, { now = NOW })).periods[1]
    -- charges: 900.55 + 123 x 30.00 = 4590.55 -> 4590; levy: 123 x 3.98 = 489.54 -> 489
    -- total 4590 + 489 = 5079 (rounding the sum 5080.09 would give 5080)
    assert.equal(4590, p.charges); assert.equal(489, p.levy); assert.equal(5079, p.total)
    assert.equal("unit rate", lines_of(p, "energy")[1].label)
  end)

  it("charges a daily standing charge per started day and per ampere-day", function()
    -- December 2026 = 31 days; 29.10 yen/day flat, then 1.04 yen/A/day x 40 A
    local rows = steady("2026-12-01", "2027-01-01", 0)
    local flat = tokyo { standing = { { kind = "day", price_text = "29.10" } } }
    local p = assert(bill.price(rows, flat, { now = NOW })).periods[1]
    -- 31 days x 29.10 = 902.1; no usage, so no energy lines; total 902
    local st = lines_of(p, "standing")[1]
    assert.equal(31, st.quantity); assert.equal("day", st.unit); assert.equal("902.1", st.yen_text)
    assert.equal(0, #lines_of(p, "energy")); assert.equal(902, p.total)
    local amp = tokyo { standing = { { kind = "day", per = "A", price_text = "1.04" } } }
    p = assert(bill.price(rows, amp, { capacity = { value = "40", unit = "A" }, now = NOW })).periods[1]
    -- 31 days x 40 A = 1240 A·day x 1.04 = 1289.6 -> 1289
    st = lines_of(p, "standing")[1]
    assert.equal("1240", st.quantity_text); assert.equal("A·day", st.unit); assert.equal("1289.6", st.yen_text)
    assert.equal(1289, p.total)
  end)

  it("restarts the steps each billing period", function()
    -- October (31 days) and November (30 days), 200 kWh each
    local oct = rows_from("2026-10-01", 31 * 48, function(i) return i <= 800 and 0.25 or 0 end)
    local nov = rows_from("2026-11-01", 30 * 48, function(i) return i <= 800 and 0.25 or 0 end)
    local res = assert(bill.price(concat(oct, nov), tokyo(), { capacity = 30, now = NOW }))
    assert.equal(2, #res.periods)
    for _, p in ipairs(res.periods) do
      local e = lines_of(p, "energy")
      -- each period: 120 kWh at step 1 and 80 at step 2, none at step 3 (400 kWh in all)
      assert.equal(2, #e); assert.equal("120", e[1].quantity_text); assert.equal("80", e[2].quantity_text)
      -- 935.25 + 3576 + 80 x 36.40 (2912) - 200 x 1.50 (300) = 7123.25 -> 7123; levy 200 x 4.18 = 836
      assert.equal(7123, p.charges); assert.equal(836, p.levy); assert.equal(7959, p.total)
    end
    assert.equal(2 * 7959, res.total); assert.equal(400, res.kwh)
  end)

  it("uses a reading day that is not the 1st", function()
    -- reading day 15: the period is 2026-10-15 .. 2026-11-14 (31 days); 29.10 yen/day
    local rows = steady("2026-10-15", "2026-11-15", 0.25) -- 31 x 12 = 372 kWh
    local t = tokyo { standing = { { kind = "day", price_text = "29.10" } } }
    local res = assert(bill.price(rows, t, { reading_day = 15, now = NOW }))
    assert.equal(1, #res.periods)
    local p = res.periods[1]
    assert.equal("2026-10-15", p.from_date); assert.equal("2026-11-14", p.to_date); assert.equal(31, p.days)
    -- standing 31 x 29.10 = 902.1; energy 3576 + 6552 + 72 x 40.49 (2915.28) = 13043.28
    -- FCA by usage time: both months -1.50 -> 372 x -1.50 = -558 (two lines: 17 + 14 days)
    local f = lines_of(p, "fuel_cost_adjustment")
    assert.equal(2, #f)
    assert.equal("204", f[1].quantity_text); assert.equal("168", f[2].quantity_text) -- 17 x 12, 14 x 12
    -- charges 902.1 + 13043.28 - 558 = 13387.38 -> 13387; levy 372 x 4.18 = 1554.96 -> 1554
    assert.equal(13387, p.charges); assert.equal(1554, p.levy); assert.equal(14941, p.total)
  end)

  it("prices the adjustment of the reading month with rates_at = \"reading\"", function()
    -- the period read on 2026-12-15 (30 days, 360 kWh): the December adjustment (2.00) for all of it
    local rows = steady("2026-11-15", "2026-12-15", 0.25) -- 30 days = 360 kWh
    local t = tokyo { standing = { { kind = "day", price_text = "29.10" } } }
    local usage = assert(bill.price(rows, t, { reading_day = 15, now = NOW })).periods[1]
    local reading = assert(bill.price(rows, t, { reading_day = 15, now = NOW, rates_at = "reading" })).periods[1]
    -- by usage: 16 days of November at -1.50 (192 kWh) + 14 of December at 2.00 (168 kWh)
    --   = -288 + 336 = 48; at the reading: 360 x 2.00 = 720
    local fu, fr = lines_of(usage, "fuel_cost_adjustment"), lines_of(reading, "fuel_cost_adjustment")
    assert.equal(2, #fu); assert.equal("-288", fu[1].yen_text); assert.equal("336", fu[2].yen_text)
    assert.equal(1, #fr); assert.equal("720", fr[1].yen_text)
    assert.equal(720 - 48, reading.charges - usage.charges)
  end)

  it("splits a period at a price change, pro-rating the steps by days", function()
    -- November: old prices to the 16th, new prices (30.00 / 37.00 / 41.00) from it; 15 + 15 days
    local old = tokyo().steps
    local new = { { from = 0, to = 120, price_text = "30.00" }, { from = 120, to = 300, price_text = "37.00" },
                  { from = 300, price_text = "41.00" } }
    local steps = {}
    for _, s in ipairs(old) do
      steps[#steps + 1] = { from = s.from, to = s.to, price_text = s.price_text, valid_to = T("2026-11-16") }
    end
    for _, s in ipairs(new) do s.valid_from = T("2026-11-16"); steps[#steps + 1] = s end
    local t = tokyo { steps = steps, standing = { { kind = "day", price_text = "29.10" } } }
    -- first half (720 half hours): 400 x 0.25 = 100 kWh; second half: 500 x 0.5 = 250 kWh
    local rows = concat(rows_from("2026-11-01", 720, function(i) return i <= 400 and 0.25 or 0 end),
                        rows_from("2026-11-16", 720, function(i) return i <= 500 and 0.5 or 0 end))
    local p = assert(bill.price(rows, t, { now = NOW })).periods[1]
    assert.equal(350, p.kwh)
    local e = lines_of(p, "energy")
    -- bounds x 15/30: 0-60-150; part 1 (100 kWh): 60 x 29.80 = 1788, 40 x 36.40 = 1456
    -- part 2 (250 kWh): 60 x 30.00 = 1800, 90 x 37.00 = 3330, 100 x 41.00 = 4100
    assert.equal(5, #e)
    assert.same({ "60", "40", "60", "90", "100" },
      { e[1].quantity_text, e[2].quantity_text, e[3].quantity_text, e[4].quantity_text, e[5].quantity_text })
    assert.same({ "1788", "1456", "1800", "3330", "4100" },
      { e[1].yen_text, e[2].yen_text, e[3].yen_text, e[4].yen_text, e[5].yen_text })
    -- standing 15 x 29.10 twice = 873; FCA -525; charges 873 + 12474 - 525 = 12822
    assert.equal(12822, p.charges)
    assert.truthy(table.concat(p.assumptions, "\n"):find("pro-rated by days (15 of 30)", 1, true))
    -- split = "continuous": part 2 counts on from 100 kWh: 20 x 30 + 180 x 37 + 50 x 41
    local c = assert(bill.price(rows, t, { now = NOW, split = "continuous" })).periods[1]
    local ce = lines_of(c, "energy")
    assert.same({ "100", "20", "180", "50" },
      { ce[1].quantity_text, ce[2].quantity_text, ce[3].quantity_text, ce[4].quantity_text })
    -- 2980 + 600 + 6660 + 2050 = 12290; + 873 - 525 = 12638
    assert.equal(12638, c.charges)
  end)

  it("splits a period at a product change (two agreements)", function()
    local a = tokyo { code = "A", standing = { { kind = "day", price_text = "30.00" } } }
    local b = tokyo { code = "B", standing = { { kind = "day", price_text = "20.00" } },
      steps = { { from = 0, price_text = "35.00" } }, kind = "single_step" }
    local plan = { { tariff = a, valid_to = T("2026-11-11") }, { tariff = b, valid_from = T("2026-11-11") } }
    local rows = steady("2026-11-01", "2026-12-01", 0.25) -- 12 kWh a day: 120 + 240
    local p = assert(bill.price(rows, plan, { now = NOW })).periods[1]
    assert.same({ "A", "B" }, p.products)
    -- A, 10 days: bounds x 10/30 = 0-40-100; 120 kWh: 40 x 29.80 = 1192, 60 x 36.40 = 2184, 20 x 40.49 = 809.8
    -- B, 20 days: 240 x 35.00 = 8400; standing 10 x 30 + 20 x 20 = 700
    local e = lines_of(p, "energy")
    assert.same({ "1192", "2184", "809.8", "8400" }, { e[1].yen_text, e[2].yen_text, e[3].yen_text, e[4].yen_text })
    -- charges 700 + 12585.8 - 360 x 1.50 (540) = 12745.8 -> 12745; levy 360 x 4.18 = 1504.8 -> 1504
    assert.equal(12745, p.charges); assert.equal(1504, p.levy)
  end)

  it("bills a supply that starts inside the period for its days only", function()
    -- on supply from 2026-11-11: 20 of November's 30 days, 12 kWh a day = 240 kWh
    local plan = { tariff = tokyo { standing = { { kind = "day", price_text = "29.10" } } },
                   valid_from = T("2026-11-11") }
    local rows = steady("2026-11-11", "2026-12-01", 0.25)
    local res = assert(bill.price(rows, plan, { now = NOW, from = "2026-11-01", to = "2026-12-01" }))
    local p = res.periods[1]
    -- the ten days before are not missing; bounds x 20/30 = 0-80-200:
    -- 80 x 29.80 = 2384, 120 x 36.40 = 4368, 40 x 40.49 = 1619.6; standing 20 x 29.10 = 582
    assert.equal(0, p.missing); assert.same({}, p.gaps); assert.equal(20 * 48, p.expected)
    local e = lines_of(p, "energy")
    assert.same({ "2384", "4368", "1619.6" }, { e[1].yen_text, e[2].yen_text, e[3].yen_text })
    -- 582 + 8371.6 - 240 x 1.50 (360) = 8593.6 -> 8593
    assert.equal(8593, p.charges)
    -- a reading before the agreement has no price
    table.insert(rows, 1, { start_at = T("2026-11-10T23:30:00"), value = 0.1 })
    local r, err = bill.price(rows, plan, { now = NOW, from = "2026-11-01", to = "2026-12-01" })
    assert.is_nil(r); assert.equal("NO_PRICE", err.code)
    assert.truthy(err.message:find("fall outside every agreement", 1, true))
  end)

  it("prices a minimum charge (threshold) and the steps above it", function()
    -- Kansai-style: 522.58 yen a month covers the first 15 kWh; 15-120 at 20.21, 120-300 at 25.61
    local t = { kind = "stepped", code = "KANSAI_A",
      steps = { { from = 15, to = 120, price_text = "20.21" }, { from = 120, to = 300, price_text = "25.61" },
                { from = 300, price_text = "28.59" } },
      standing = { { kind = "month", price_text = "522.58", threshold = 15, unit_type = "MONTHS_ON_SUPPLY" } },
      fuel_cost_adjustments = { { price_text = "0.00" } }, levies = { { price_text = "4.18" } } }
    local rows = rows_from("2026-11-01", 1440, function(i) return i <= 400 and 0.25 or 0 end) -- 100 kWh
    local p = assert(bill.price(rows, t, { now = NOW })).periods[1]
    -- minimum 522.58 + (100 - 15) x 20.21 = 1717.85 -> 2240.43 -> 2240; levy 100 x 4.18 = 418
    local m = lines_of(p, "minimum")
    assert.equal(1, #m); assert.equal("522.58", m[1].yen_text)
    assert.equal("85", lines_of(p, "energy")[1].quantity_text)
    assert.equal(2240, p.charges); assert.equal(2658, p.total)
  end)

  it("takes a per-kWh discount off (METI subsidy) and rounds usage to whole kWh", function()
    local t = tokyo { discounts = { { name = "METI", price_text = "2.50", valid_from = T("2026-11-01"),
      valid_to = T("2026-12-01") } } }
    -- 100.5 kWh: 402 half hours of 0.25 = 100.5 -> 101 kWh (half up); 0.0 elsewhere
    local rows = rows_from("2026-11-01", 1440, function(i) return i <= 402 and 0.25 or 0 end)
    local p = assert(bill.price(rows, t, { capacity = 30, now = NOW })).periods[1]
    assert.equal(100.5, p.kwh); assert.equal(101, p.kwh_billed)
    -- 935.25 + 101 x 29.80 (3009.8) - 101 x 1.50 (151.5) - 101 x 2.50 (252.5) = 3541.05 -> 3541
    local d = lines_of(p, "discount")[1]
    assert.equal("METI", d.label); assert.equal("-252.5", d.yen_text); assert.equal("-2.50", d.unit_price_text)
    assert.equal(3541, p.charges)
    -- kwh_rounding = "none": 100.5 x (29.80 - 1.50 - 2.50) = 2592.9; + 935.25 = 3528.15 -> 3528
    local exact = assert(bill.price(rows, t, { capacity = 30, now = NOW, kwh_rounding = "none" })).periods[1]
    assert.equal(3528, exact.charges)
    check_lines({ periods = { p, exact } })
  end)

  it("prices gas on whole-volume tiers with the tier's standing charge", function()
    local t = { kind = "gas_tiered", code = "GAS", unit = "m3",
      steps = { { from = 0, to = 20, price_text = "145.31" }, { from = 20, to = 80, price_text = "130.46" } },
      standing = { { kind = "month", price_text = "759.00", tier_from = 0, tier_to = 20 },
                   { kind = "month", price_text = "1056.00", tier_from = 20, tier_to = 80 } },
      fuel_cost_adjustments = { { price_text = "0" } }, levies = { { price_text = "0" } } }
    local rows = rows_from("2026-11-01", 1440, function(i) return i <= 100 and 0.25 or 0 end) -- 25 m3
    local p = assert(bill.price(rows, t, { now = NOW })).periods[1]
    -- 25 m3 falls in 20-80: 1056 + 25 x 130.46 (3261.5) = 4317.5 -> 4317
    assert.equal("1056", lines_of(p, "standing")[1].yen_text)
    assert.equal("3261.5", lines_of(p, "energy")[1].yen_text); assert.equal("m3", lines_of(p, "energy")[1].unit)
    assert.equal(4317, p.total)
  end)

  it("picks the standing rate labelled with the contracted capacity", function()
    local t = tokyo { standing = { { kind = "day", price_text = "10.00", label = "20A", capacity = 20, capacity_unit = "A" },
                                   { kind = "day", price_text = "15.00", label = "30A", capacity = 30, capacity_unit = "A" } } }
    local rows = steady("2026-11-01", "2026-12-01", 0)
    local p = assert(bill.price(rows, t, { capacity = 30, now = NOW })).periods[1]
    assert.equal("30A", p.lines[1].label); assert.equal("450", p.lines[1].yen_text) -- 30 days x 15.00
    local r, err = bill.price(rows, t, { capacity = 40, now = NOW })
    assert.is_nil(r); assert.equal("NO_PRICE", err.code)
    r, err = bill.price(rows, t, { now = NOW })
    assert.is_nil(r); assert.equal("NO_CAPACITY", err.code)
  end)

  it("has no float drift over a year of half hours", function()
    -- 17,520 half hours of 0.1 kWh on one flat rate: 1752 kWh exactly (a float sum gives 1751.99999...)
    local t = { kind = "single_step", steps = { { price_text = "29.80" } }, standing = {},
      fuel_cost_adjustments = { { price_text = "0" } }, levies = { { price_text = "0" } } }
    local rows = rows_from("2026-01-01", 17520, function() return 0.1 end)
    local res = assert(bill.price(rows, t, { now = NOW, kwh_rounding = "none" }))
    assert.equal(12, #res.periods); assert.equal("1752", res.kwh_text)
    local yen_sum = 0
    for _, p in ipairs(res.periods) do yen_sum = yen_sum + p.total end
    -- each month: days x 4.8 kWh x 29.80 = days x 143.04; e.g. January 31 x 143.04 = 4434.24 -> 4434
    assert.equal(4434, res.periods[1].total)
    assert.equal(yen_sum, res.total)
  end)
end)

describe("octopus.money.bill: gaps, future and missing prices", function()
  it("counts missing half hours and never prices them silently", function()
    local rows = steady("2026-11-01", "2026-12-01", 0.25)
    table.remove(rows, 100); table.remove(rows, 100); table.remove(rows, 500)
    local res = assert(bill.price(rows, tokyo(), { capacity = 30, now = NOW }))
    local p = res.periods[1]
    assert.equal(3, p.missing); assert.equal(3, res.missing); assert.equal(1437, p.readings)
    assert.equal(2, #p.gaps); assert.equal(2 * HH, p.gaps[1].to - p.gaps[1].from)
    assert.truthy(table.concat(res.assumptions, "\n"):find("3 half hours have no reading", 1, true))
    local r, err = bill.price(rows, tokyo(), { capacity = 30, now = NOW, gaps = "error" })
    assert.is_nil(r); assert.equal("GAPS", err.code); assert.equal(3, err.missing)
  end)

  it("bills the current period so far: later half hours are pending, not missing", function()
    local now = T("2026-11-10T12:00:00")
    local rows = steady("2026-11-01", "2026-11-10T12:00:00", 0.25)
    local res = assert(bill.price(rows, tokyo(), { capacity = 30, now = now, period = "current" }))
    local p = res.periods[1]
    assert.equal(0, p.missing); assert.equal((30 * 48) - (9 * 48 + 24), p.pending); assert.is_false(p.complete)
  end)

  it("refuses a period in the future, naming the option", function()
    raises_here("bill%.price: the period starts in the future %(opts%.from = 2027%-02%-01", function()
      bill.price({}, tokyo(), { from = "2027-02-01", to = "2027-03-01", now = NOW })
    end)
  end)

  it("returns NO_PRICE when the tariff has no unit rate for part of the period", function()
    local t = tokyo()
    for _, s in ipairs(t.steps) do s.valid_to = T("2026-11-20") end
    local r, err = bill.price(steady("2026-11-01", "2026-12-01", 0.25), t, { capacity = 30, now = NOW })
    assert.is_nil(r); assert.equal("NO_PRICE", err.code); assert.equal("money", err.kind)
    assert.is_true(require("octopus.pipeline.errors").known("NO_PRICE", "money"))
    assert.equal("2026-11-01..2026-11-30", err.period)
    assert.truthy(err.message:find("no unit rate from 2026-11-20", 1, true))
  end)

  it("returns NO_PRICE for usage beyond the last step", function()
    local t = tokyo { steps = { { from = 0, to = 120, price_text = "29.80" } } }
    local r, err = bill.price(steady("2026-11-01", "2026-12-01", 0.25), t, { capacity = 30, now = NOW })
    assert.is_nil(r); assert.equal("NO_PRICE", err.code)
    assert.truthy(err.message:find("from 120 kWh", 1, true))
  end)

  it("returns NO_PRICE without the month's fuel-cost adjustment, or reports zero when told", function()
    local rows = steady("2027-01-01", "2027-01-11", 0.25)
    local r, err = bill.price(rows, tokyo(), { capacity = 30, now = NOW, from = "2027-01-01", to = "2027-01-11" })
    assert.is_nil(r); assert.equal("NO_PRICE", err.code)
    assert.truthy(err.message:find("no fuel-cost adjustment for 2027-01-01", 1, true))
    r = assert(bill.price(rows, tokyo(), { capacity = 30, now = NOW, from = "2027-01-01", to = "2027-01-11",
      missing_adjustments = "zero" }))
    assert.truthy(table.concat(r.assumptions, "\n"):find("no fuel-cost adjustment for 120 kWh", 1, true))
    assert.equal(0, #lines_of(r.periods[1], "fuel_cost_adjustment"))
  end)

  it("returns NO_CAPACITY for a per-ampere charge without a capacity", function()
    local r, err = bill.price(steady("2026-11-01", "2026-12-01", 0.25), tokyo(), { now = NOW })
    assert.is_nil(r); assert.equal("NO_CAPACITY", err.code)
  end)
end)

describe("octopus.money.bill: usage errors raise at the caller's line", function()
  local t = tokyo()
  it("rows from two supply points", function()
    local rows = concat(steady("2026-11-01", "2026-11-01T01:00:00", 0.25, "0300000000000000000001"),
                        steady("2026-11-01T01:00:00", "2026-11-01T02:00:00", 0.25, "0300000000000000000002"))
    raises_here("bill%.price: rows%[3%]%.spin is 0300000000000000000002 but rows%[1%]%.spin is", function()
      bill.price(rows, t, { capacity = 30, now = NOW })
    end)
    raises_here("rows%[1%]%.spin is 0300000000000000000001 but opts%.supply_point", function()
      bill.price(rows, t, { capacity = 30, now = NOW, supply_point = "0900000000000000000009" })
    end)
  end)

  it("unsorted rows and duplicated half hours", function()
    local rows = steady("2026-11-01", "2026-11-02", 0.25)
    rows[5], rows[6] = rows[6], rows[5]
    raises_here("bill%.price: rows%[6%] is earlier than rows%[5%]: rows must be sorted", function()
      bill.price(rows, t, { capacity = 30, now = NOW })
    end)
    rows = steady("2026-11-01", "2026-11-02", 0.25)
    table.insert(rows, 8, { start_at = rows[7].start_at, end_at = rows[7].end_at, value = 0.1 })
    raises_here("bill%.price: rows%[8%] duplicates the half hour of rows%[7%]", function()
      bill.price(rows, t, { capacity = 30, now = NOW })
    end)
  end)

  it("rows that are not half hours, values that are not kWh", function()
    raises_here("rows%[1%] is not a half hour", function()
      bill.price({ { start_at = T("2026-11-01"), end_at = T("2026-11-01") + 3600, value = 1 } }, t, { now = NOW })
    end)
    raises_here("rows%[1%]%.start_at must be epoch seconds on a half hour", function()
      bill.price({ { start_at = T("2026-11-01") + 60, value = 1 } }, t, { now = NOW })
    end)
    raises_here("rows%[1%]%.value must be a number of kWh", function()
      bill.price({ { start_at = T("2026-11-01"), value = "lots" } }, t, { now = NOW })
    end)
    raises_here("rows%[1%]%.value must be a finite number of kWh", function()
      bill.price({ { start_at = T("2026-11-01"), value = 0 / 0 } }, t, { now = NOW })
    end)
    raises_here("rows%[1%]%.value must not be negative", function()
      bill.price({ { start_at = T("2026-11-01"), value = -1 } }, t, { now = NOW })
    end)
    raises_here("bill%.price: 'rows' must be an array", function() bill.price(nil, t, { now = NOW }) end)
  end)

  it("options and plans", function()
    local rows = steady("2026-11-01", "2026-11-02", 0.25)
    raises_here("unknown option 'opts%.colour'", function() bill.price(rows, t, { colour = 1 }) end)
    raises_here("opts%.reading_day must be a day of the month from 1 to 31 %(got 32%)", function()
      bill.price(rows, t, { reading_day = 32 })
    end)
    raises_here("opts%.rates_at must be \"reading\" or \"usage\"", function() bill.price(rows, t, { rates_at = "x" }) end)
    raises_here("opts%.capacity must be amperes", function() bill.price(rows, t, { capacity = { value = 6, unit = "W" } }) end)
    raises_here("bill%.price: 'plan' must be a tariff", function() bill.price(rows, 42, { now = NOW }) end)
    raises_here("plan%.steps%[2%]%.price: not a Decimal", function()
      bill.price(rows, tokyo { steps = { { from = 0, to = 120, price_text = "1" }, { from = 120, price_text = "x" } } },
        { now = NOW })
    end)
    raises_here("plan%[2%] overlaps plan%[1%]", function()
      bill.price(rows, { { tariff = t, valid_to = T("2026-11-20") }, { tariff = t, valid_from = T("2026-11-10") } },
        { now = NOW })
    end)
    raises_here("opts%.from and opts%.to %(or opts%.period%) are needed", function() bill.price({}, t, { now = NOW }) end)
  end)
end)

describe("octopus.money.bill.project", function()
  it("projects the period from the recent daily average, through the same steps", function()
    -- November, now = the 21st 00:00; 12 kWh a day so far (20 days = 240 kWh)
    local now = T("2026-11-21")
    local rows = steady("2026-11-01", "2026-11-21", 0.25)
    local pr = assert(bill.project(rows, tokyo(), { capacity = 30, now = now }))
    -- so far: 240 kWh = 120 at step 1 + 120 at step 2; standing 20 of 30 days: 935.25 x 2/3 = 623.5
    local sf = pr.so_far.periods[1]
    assert.equal(240, sf.kwh); assert.equal(2, #lines_of(sf, "energy")); assert.equal("623.5", lines_of(sf, "standing")[1].yen_text)
    -- method: 7 days x 12 kWh = 84 kWh over 336 half hours; 10 days left (480 half hours) -> 120 kWh
    assert.equal(12, pr.method.daily_average_kwh); assert.equal(120, pr.method.projected_kwh)
    assert.equal(10, pr.method.remaining_days)
    -- projected: 360 kWh crosses 300: 60 kWh land on step 3 (60 x 40.49 = 2429.4)
    local p = pr.projected.periods[1]
    local e = lines_of(p, "energy")
    assert.equal(360, p.kwh); assert.equal(3, #e); assert.equal("60", e[3].quantity_text); assert.equal("2429.4", e[3].yen_text)
    -- 935.25 + 3576 + 6552 + 2429.4 - 360 x 1.50 (540) = 12952.65 -> 12952; levy 360 x 4.18 = 1504.8 -> 1504
    assert.equal(12952 + 1504, pr.total)
  end)

  it("returns NO_DATA without readings to average", function()
    local r, err = bill.project({}, tokyo(), { capacity = 30, now = T("2026-11-21") })
    assert.is_nil(r); assert.equal("NO_DATA", err.code)
  end)
end)

describe("octopus.money.bill.compare", function()
  it("prices the same rows on several tariffs, cheapest first, with the difference to today's", function()
    local rows = steady("2026-11-01", "2026-12-01", 0.25) -- 360 kWh
    local flat = tokyo { code = "FLAT", kind = "single_step", steps = { { price_text = "35.00" } },
      standing = { { kind = "day", price_text = "30.00" } } }
    local broken = tokyo { code = "BROKEN", levies = {} }
    local cmp = bill.compare(rows, { tokyo(), flat, broken }, { capacity = 30, now = NOW, current = "TOKYO_B" })
    -- TOKYO_B: 935.25 + 3576 + 6552 + 60 x 40.49 (2429.4) - 540 = 12952.65 -> 12952 + 1504 = 14456
    -- FLAT: 30 x 30.00 = 900 + 360 x 35.00 = 12600 - 540 = 12960 + 1504 = 14464
    assert.equal("TOKYO_B", cmp.entries[1].code); assert.equal(14456, cmp.entries[1].total)
    assert.equal("FLAT", cmp.entries[2].code); assert.equal(14464, cmp.entries[2].total); assert.equal(8, cmp.entries[2].difference)
    assert.equal("BROKEN", cmp.entries[3].code); assert.equal("NO_PRICE", cmp.entries[3].err.code)
    assert.is_true(cmp.current.current); assert.equal(0, cmp.current.difference); assert.equal(cmp.entries[1], cmp.cheapest)
    raises_here("opts%.current %(NOPE%) names none of the plans", function()
      bill.compare(rows, { tokyo() }, { capacity = 30, now = NOW, current = "NOPE" })
    end)
  end)
end)
