-- octopus.money.bill: price half-hourly readings the way a Japanese electricity bill does.
--
-- Pure (no I/O, no network): rows from the API, the store or a table literal; a
-- tariff from octopus.money.tariff (GraphQL, REST, tariffSummary or a literal).
--
--   bill.price(rows, plan [, opts])          -> result | nil, err
--   bill.project(rows, plan [, opts])        -> projection | nil, err
--   bill.compare(rows, plans [, opts])       -> comparison (a failed product is an entry with .err)
--
-- rows: array of { start_at, end_at (epoch s, a half hour), value (kWh number) or
--   value_text (Decimal), spin } sorted by start_at, one per half hour (octopus.graphql.readings
--   rows as they come). plan: a tariff, an agreement { tariff, valid_from, valid_to }, or an
--   array of agreements (a product change; they must not overlap).
-- opts: from, to (the range to bill; anything octopus.time.parse reads, a date is the start
--   of that day in the zone; default: the billing periods the rows fall in) | period =
--   "current" | "previous" | { from, to }; reading_day (readingDateDayOfMonth; nil = calendar
--   months); zone ("Asia/Tokyo"); now (epoch, default os.time()); capacity (amperes, or
--   { value | value_text, unit = "A" | "kVA" | "kW" }); supply (octopus.money.tariff.supply_point:
--   defaults for reading_day, capacity, supply_point); supply_point (the SPIN the rows must
--   carry); rates_at ("usage" | "reading"); split ("prorate" | "continuous");
--   kwh_rounding ("whole" | "none"); missing_adjustments ("error" | "zero");
--   gaps ("report" | "error"); tax_rate (percent, 10).
--
-- How a bill is computed (sources: 東京電力エナジーパートナー 特定小売供給約款 / 電気供給約款,
-- 総則「単位および端数処理」and 別表「日割計算」, and the retailers' published 電気料金の
-- 計算方法 pages; where a rule is ours it says "assumed"):
--  * Billing periods run from the reading day 00:00 to the next month's reading day 00:00
--    in the zone (octopus.money.period); calendar months without a reading day.
--  * Usage per period is rounded to whole kWh, half up (約款: 使用電力量の単位は1kWh,
--    小数点以下第1位で四捨五入). kwh_rounding = "none" keeps the exact sum. Each line's kWh is
--    rounded on its own, so when a rate changes inside a period the parts can differ from
--    the rounded whole by a kWh (assumed).
--  * Steps (0-120-300 ...) count over the billing period and restart each period; each kWh
--    is priced at the step it falls in. A gas tariff's tiers are whole-volume: the tier the
--    period's total falls in prices all of it (from < total <= to).
--  * A price or product change inside a period splits it. split = "prorate" (default, the
--    約款's 日割計算): each part's step bounds are scaled by its share of the period's days
--    (rounded to 0.0001 kWh, or whole kWh with kwh_rounding "whole"; assumed) and priced on
--    that part's usage. split = "continuous": usage counts on from the earlier part.
--  * Standing charges by unit: per day x every started day billed; per month x the billed
--    share of the period's days (pro rata: 日割); per A / kVA / kW x the contracted capacity
--    (per block of per_size: 311.75 yen per 10 A x 3 for 30 A); labelled rates ("30A") only
--    for that capacity; a time without an agreement is off supply (no charge, no gaps);
--    a charge with a threshold is a minimum
--    charge (最低料金) covering the first `threshold` kWh, priced by its unit like the others,
--    and the steps then price only the usage above it.
--  * Fuel-cost adjustment and levy per kWh: rates_at = "usage" (default) prices each half
--    hour at the rate valid at its start (Octopus Japan's data gives each adjustment a
--    one-month validity); "reading" prices the whole period at the rate valid at its
--    reading date (the regulated "M月検針分" rule). Discounts (METI subsidy, add-ons) per
--    kWh by usage time. A missing adjustment or levy is NO_PRICE unless
--    missing_adjustments = "zero" (reported in assumptions).
--  * Prices include consumption tax (pricePerUnitIncTax); consumption_tax is the tax the
--    total contains, total x rate / (100 + rate) rounded down (reported, not added).
--  * Yen: line amounts are exact (1e-8 yen); standing + energy + fuel-cost adjustment -
--    discounts is rounded down to whole yen (約款: 合計金額の1円未満の端数は切り捨て); the levy
--    is rounded down to whole yen on its own (再エネ賦課金: 1円未満切り捨て); total = the two.
--    Rounding down is toward zero (切り捨て) for negative sums too. A FIT credit is
--    rounded down on its own and subtracted.
--  * Where the sources are silent (assumed): the bill is the sum over the half hours the
--    rows carry (a smart meter's 30-minute values), not a meter-reading difference.
--  * Missing half hours are counted (missing, gaps) and reported in assumptions, never
--    priced as zero silently; gaps = "error" makes them GAPS. Half hours after now are
--    pending, not missing.
--
-- result = { from, to, total (yen), kwh, kwh_text, readings, missing, pending, spin,
--   periods = { period_result }, lines = { line } (every period's, in order),
--   product (the first code), products = { code }, period = { from, to, from_date, to_date,
--   days, complete } (only when one period is billed), assumptions = { text },
--   method = { kwh_rounding, rates_at, split, tax_rate, missing_adjustments, reading_day,
--   zone, rounding } }
-- period_result = { from, to, from_date, to_date (last day, inclusive), days, billed_from,
--   billed_to, complete, kwh, kwh_text, kwh_billed, readings, expected, missing, pending,
--   gaps = { { from, to } }, products = { code }, lines = { line }, charges (yen: standing +
--   energy + fuel-cost adjustment - discounts, rounded down), levy (yen), credit (FIT),
--   total (yen), consumption_tax (yen, included), assumptions = { text } }
-- line = { kind = "standing" | "minimum" | "energy" | "fuel_cost_adjustment" | "discount" |
--   "levy" | "credit", label, band, code, from, to, quantity, quantity_text, unit ("kWh",
--   "day", "A·day", "month" ...), unit_price, unit_price_text, capacity, yen, yen_text }
--   (quantity x unit_price = yen, exactly; discounts carry negative unit prices and yen)
--
-- Errors: usage errors raise naming the argument (rows[i], plan..., opts.x). Missing data:
-- nil, err with err.code NO_PRICE (no unit rate, standing charge, fuel-cost adjustment or
-- levy for part of the period), NO_CAPACITY (a per-capacity charge without opts.capacity),
-- UNSUPPORTED_UNIT (a standing-charge unit type the engine cannot price), GAPS (gaps =
-- "error"), NO_DATA (project: no readings to average), OVERFLOW (beyond 2^53 units);
-- err.kind "money"; err.period names the billing period.
local time = require "octopus.pipeline.time"
local yen = require "octopus.money.yen"
local period = require "octopus.money.period"
local compile = require "octopus.money.compile"
local engine = require "octopus.money.engine"

local type, pairs, ipairs, tostring, error, pcall, getmetatable, os_time =
  type, pairs, ipairs, tostring, error, pcall, getmetatable, os.time
local floor, sort = math.floor, table.sort

---A tariff (octopus.money.tariff), an agreement { tariff, valid_from, valid_to }, or an
---array of agreements (a product change; they must not overlap).
---@alias octopus.Plan octopus.Tariff|octopus.Agreement|octopus.Agreement[]

---bill.price's options (the header says what each does).
---@class octopus.BillOptions
---@field from? octopus.TimeValue          the range to bill (default: the periods the rows fall in)
---@field to? octopus.TimeValue
---@field period? "current"|"previous"|{ from: octopus.TimeValue, to: octopus.TimeValue }
---@field reading_day? integer             readingDateDayOfMonth (nil: calendar months)
---@field zone? octopus.ZoneSpec           default Asia/Tokyo
---@field now? number                      epoch, default os.time()
---@field capacity? number|{ value?: number, value_text?: string, unit?: "A"|"kVA"|"kW" } contracted capacity
---@field supply? octopus.Supply           defaults for reading_day, capacity, supply_point
---@field supply_point? string             the SPIN the rows must carry
---@field rates_at? "usage"|"reading"
---@field split? "prorate"|"continuous"
---@field kwh_rounding? "whole"|"none"
---@field missing_adjustments? "error"|"zero"
---@field gaps? "report"|"error"
---@field tax_rate? integer                percent, default 10
---@field basis_days? integer              bill.project: the recent days averaged (7)
---@field current? string|integer          bill.compare: today's product (code or index)

---One line of a bill: quantity x unit_price = yen, exactly.
---@class octopus.BillLine
---@field kind "standing"|"minimum"|"energy"|"fuel_cost_adjustment"|"discount"|"levy"|"credit"
---@field label string
---@field band? string
---@field code? string
---@field from number
---@field to number
---@field quantity number
---@field quantity_text string
---@field unit string                      "kWh", "day", "A·day", "month", ...
---@field unit_price number
---@field unit_price_text string
---@field capacity? number
---@field yen number
---@field yen_text string

---One billing period of a result.
---@class octopus.BillPeriod
---@field from number
---@field to number
---@field from_date string
---@field to_date string                   the last day, inclusive
---@field days integer
---@field complete boolean
---@field kwh number
---@field kwh_text string
---@field kwh_billed number
---@field readings integer
---@field expected integer
---@field missing integer
---@field pending integer
---@field gaps { from: number, to: number }[]
---@field products string[]
---@field lines octopus.BillLine[]
---@field charges integer                  yen: standing + energy + fuel-cost adjustment - discounts
---@field levy integer                     yen
---@field credit? integer                  FIT
---@field total integer                    yen
---@field consumption_tax integer          yen, included
---@field assumptions string[]

---@class octopus.ComparisonEntry
---@field code string
---@field display_name? string
---@field label? string
---@field total? integer
---@field kwh? number
---@field difference? integer              total - current.total
---@field current? boolean
---@field result? octopus.BillResult
---@field err? octopus.Error

---The pure bill engine (no I/O): price, project, compare.
---@class octopus.money.bill
local M = {}
local HH, DAY = 1800, 86400

local OPTS = { from = true, to = true, period = true, reading_day = true, zone = true, now = true,
  capacity = true, supply = true, supply_point = true, rates_at = true, split = true, kwh_rounding = true,
  missing_adjustments = true, gaps = true, tax_rate = true, basis_days = true, current = true }
local CHOICES = { rates_at = { usage = true, reading = true }, split = { prorate = true, continuous = true },
  kwh_rounding = { whole = true, none = true }, missing_adjustments = { error = true, zero = true },
  gaps = { report = true, error = true } }
local DEFAULTS = { rates_at = "usage", split = "prorate", kwh_rounding = "whole", missing_adjustments = "error",
  gaps = "report" }

local function when(v, zone, what)
  local ok, t = pcall(time.parse, v, zone)
  if not ok then return nil, what .. ": " .. tostring(t) end
  return t
end

-- opts -> normalised options | nil, message (usage)
local function options(opts, name, rows)
  if type(rows) ~= "table" then
    return nil, name .. ": 'rows' must be an array of reading rows (got " .. type(rows) .. ")"
  end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then return nil, name .. ": 'opts' must be a table (got " .. type(opts) .. ")" end
  for k in pairs(opts) do
    if not OPTS[k] then return nil, name .. ": unknown option 'opts." .. tostring(k) .. "'" end
  end
  local o = {}
  for k, d in pairs(DEFAULTS) do
    local v = opts[k]
    if v == nil then v = d end
    if not CHOICES[k][v] then
      local c = {}
      for x in pairs(CHOICES[k]) do c[#c + 1] = '"' .. x .. '"' end
      sort(c)
      return nil, name .. ": opts." .. k .. " must be " .. table.concat(c, " or ") .. " (got " .. tostring(v) .. ")"
    end
    o[k] = v
  end
  local ok, z = pcall(time.zone, opts.zone)
  if not ok then return nil, name .. ": opts.zone: " .. tostring(z) end
  o.zone = z
  local supply = opts.supply
  if supply ~= nil and type(supply) ~= "table" then return nil, name .. ": opts.supply must be a supply table" end
  supply = supply or {}
  local rd = opts.reading_day
  if rd == nil then rd = supply.reading_day end
  if rd ~= nil and (type(rd) ~= "number" or rd ~= floor(rd) or rd < 1 or rd > 31) then
    return nil, name .. ": opts.reading_day must be a day of the month from 1 to 31 (got " .. tostring(rd) .. ")"
  end
  o.reading_day = rd
  o.spin = opts.supply_point or supply.spin
  if opts.now ~= nil and type(opts.now) ~= "number" then return nil, name .. ": opts.now must be epoch seconds" end
  o.now = opts.now or os_time()
  local tr = opts.tax_rate
  if tr == nil then tr = 10 end
  if type(tr) ~= "number" or tr < 0 or tr ~= floor(tr) then
    return nil, name .. ": opts.tax_rate must be a whole percentage (got " .. tostring(tr) .. ")"
  end
  o.tax_rate = tr
  local cap = opts.capacity
  if cap == nil then cap = supply.capacity end
  if cap ~= nil then
    local v, unit = cap, "A"
    if type(cap) == "table" then v, unit = cap.value_text or cap.value, cap.unit or "A" end
    local u = (type(v) == "number" or type(v) == "string") and yen.units(v, 10)
    if not u or u <= 0 or (unit ~= "A" and unit ~= "kVA" and unit ~= "kW") then
      return nil, name .. ": opts.capacity must be amperes or { value =, unit = \"A\" | \"kVA\" | \"kW\" } (got " ..
        tostring(type(cap) == "table" and tostring(v) .. " " .. tostring(unit) or cap) .. ")"
    end
    o.capacity, o.capacity_unit = u, unit
  end
  local from, to = opts.from, opts.to
  local msg
  if opts.period ~= nil then
    if from ~= nil or to ~= nil then return nil, name .. ": give opts.period or opts.from/opts.to, not both" end
    local p = opts.period
    if p == "current" then
      from, to = period.bounds(o.now, rd, z)
    elseif p == "previous" then
      local cur = period.bounds(o.now, rd, z)
      from, to = period.bounds(cur - 1, rd, z)
    elseif type(p) == "table" and p.from ~= nil and p.to ~= nil then
      from, to = p.from, p.to
    else
      return nil, name .. ": opts.period must be \"current\", \"previous\" or { from =, to = } (got "
        .. tostring(p) .. ")"
    end
  end
  if from ~= nil then from, msg = when(from, z, name .. ": opts.from"); if not from then return nil, msg end end
  if to ~= nil then to, msg = when(to, z, name .. ": opts.to"); if not to then return nil, msg end end
  if (from == nil or to == nil) and type(rows) == "table" then
    local first, last = rows[1], rows[#rows]
    if type(first) == "table" and type(first.start_at) == "number" and type(last) == "table" and
       type(last.start_at) == "number" then
      if from == nil then from = period.bounds(first.start_at, rd, z) end
      if to == nil then local _, b = period.bounds(last.start_at, rd, z); to = b end
    end
  end
  if from == nil or to == nil then
    return nil, name .. ": opts.from and opts.to (or opts.period) are needed when there are no rows to bill"
  end
  if from >= to then return nil, name .. ": opts.from must be before opts.to" end
  if from >= o.now then
    return nil, name .. ": the period starts in the future (opts.from = " .. time.format(from, z) .. ", now = " ..
      time.format(o.now, z) .. ")"
  end
  o.from, o.to = from, to
  o.basis_days = opts.basis_days
  o.current = opts.current
  return o
end

local function method(o)
  return { kwh_rounding = o.kwh_rounding, rates_at = o.rates_at, split = o.split, tax_rate = o.tax_rate,
    missing_adjustments = o.missing_adjustments, reading_day = o.reading_day, zone = o.zone.name,
    rounding = "charges (standing + energy + fuel-cost adjustment - discounts) rounded down to whole yen; " ..
      "the levy rounded down on its own; total = charges + levy" }
end

-- prep + compiled plan -> result | nil, err (OVERFLOW caught here)
local function run(prep, cp, o)
  local ok, res, err = pcall(engine.run, prep, cp, o)
  if not ok then
    if type(res) == "table" and getmetatable(res) == yen.overflow_mt then
      return nil, engine.fail("OVERFLOW", res.message)
    end
    error(res, 0)
  end
  if not res then return nil, err end
  res.method = method(o)
  if o.gaps == "error" and res.missing > 0 then
    return nil, engine.fail("GAPS", res.missing .. " half hours have no reading between " ..
      time.format(o.from, o.zone) .. " and " .. time.format(o.to, o.zone), { missing = res.missing })
  end
  return res
end

-- bill.price(rows, plan [, opts]) -> result | nil, err   (see the header)
---Prices half-hourly rows like a Japanese electricity bill (the header has the rules).
---Errors (kind money): NO_PRICE, NO_CAPACITY, UNSUPPORTED_UNIT, GAPS, OVERFLOW.
---@param rows octopus.Reading[]|table[] { start_at, end_at, value | value_text, spin }, sorted
---@param plan octopus.Plan
---@param opts? octopus.BillOptions
---@return octopus.BillResult|nil result
---@return octopus.Error|nil err
function M.price(rows, plan, opts)
  local o, msg = options(opts, "bill.price", rows)
  if not o then error(msg, 2) end
  local cp
  cp, msg = compile.plan(plan, o.zone)
  if not cp then error("bill.price: " .. msg, 2) end
  local prep
  local perr
  prep, msg, perr = engine.prepare(rows, o.from, o.to, o.now, o.spin)
  if perr then return nil, perr end
  if not prep then error("bill.price: " .. msg, 2) end
  local res, err = run(prep, cp, o)
  return res, err
end

-- rows_with_projection(rows, o) -> combined rows, method | nil, err
local function projection_rows(rows, P, o, basis_days)
  local k = 0
  for i = #rows, 1, -1 do
    if rows[i].start_at < o.now then k = i; break end
  end
  if k == 0 then
    return nil, engine.fail("NO_DATA", "no readings before " .. time.format(o.now, o.zone) .. " to project from")
  end
  local basis_to = rows[k].start_at + HH
  local basis_from = basis_to - basis_days * DAY
  local prep = assert(engine.prepare(rows, basis_from, basis_to, nil, nil))
  local units, count = prep.cum[prep.n], prep.n
  local rem_from = basis_to > P.from and basis_to or P.from
  local R = floor((P.to - rem_from) / HH)
  local total = R > 0 and yen.muldiv(units, R, count, "half_up", "the projection") or 0
  local q = R > 0 and yen.div(total, R) or 0
  local extra = total - q * R
  local out = {}
  for i = 1, k do
    local r = rows[i]
    if r.start_at >= P.from then out[#out + 1] = r end
  end
  local t = rem_from
  for i = 1, R do
    local u = q + (i <= extra and 1 or 0)
    out[#out + 1] = { start_at = t, end_at = t + HH, value = u / yen.KWH, projected = true }
    t = t + HH
  end
  return out, { name = "recent daily average", basis_from = basis_from, basis_to = basis_to, basis_days = basis_days,
    basis_readings = count, daily_average_kwh = units / count * 48 / yen.KWH,
    projected_from = rem_from, projected_kwh = total / yen.KWH, projected_text = yen.text(total, yen.KWH),
    remaining_days = R / 48,
    description = "the average kWh per half hour of the last " .. basis_days .. " days of readings (" .. count ..
      " half hours) x the " .. R .. " half hours left in the billing period, priced with the period's actual " ..
      "usage through the same steps, standing charges and adjustments" }
end

-- bill.project(rows, plan [, opts]) -> projection | nil, err
-- opts as bill.price plus basis_days (default 7: the recent days averaged); the period is
-- the billing period holding opts.now (default os.time()).
-- projection = { period = { from, to, from_date, to_date, days }, so_far = result (the period
--   up to now), projected = result (the whole period, the rest projected), total (yen, projected),
--   method = { name, basis_from, basis_to, basis_days, basis_readings, daily_average_kwh,
--   projected_from, projected_kwh, projected_text, remaining_days, description } }
---The billing period holding opts.now, projected to its end from the last basis_days.
---Errors: as price, and NO_DATA.
---@param rows octopus.Reading[]|table[]
---@param plan octopus.Plan
---@param opts? octopus.BillOptions
---@return octopus.Projection|nil projection
---@return octopus.Error|nil err
function M.project(rows, plan, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bill.project: 'opts' must be a table (got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  if opts.from ~= nil or opts.to ~= nil or opts.period ~= nil then
    error("bill.project: the period is the one holding opts.now: do not pass opts.from, opts.to or opts.period", 2)
  end
  local bd = opts.basis_days
  if bd == nil then bd = 7 end
  if type(bd) ~= "number" or bd ~= floor(bd) or bd < 1 or bd > 62 then
    error("bill.project: opts.basis_days must be a whole number of days from 1 to 62 (got " .. tostring(bd) .. ")", 2)
  end
  local so = {}
  for k, v in pairs(opts) do so[k] = v end
  so.period = "current"
  local o, msg = options(so, "bill.project", rows)
  if not o then error(msg, 2) end
  local cp
  cp, msg = compile.plan(plan, o.zone)
  if not cp then error("bill.project: " .. msg, 2) end
  local to_now = o.to
  o.to = o.now < o.to and o.now or o.to
  local prep
  local perr
  prep, msg, perr = engine.prepare(rows, o.from, o.to, o.now, o.spin)
  if perr then return nil, perr end
  if not prep then error("bill.project: " .. msg, 2) end
  local so_far, err = run(prep, cp, o)
  if not so_far then return nil, err end
  local P = period.of(o.now, o.reading_day, o.zone)
  local combined, m = projection_rows(rows, P, o, bd)
  if not combined then return nil, m end
  o.to = to_now
  local full = {}
  for k, v in pairs(o) do full[k] = v end
  full.now, full.gaps = P.to, "report"
  local prep2 = assert(engine.prepare(combined, P.from, P.to, P.to, o.spin))
  local projected
  projected, err = run(prep2, cp, full)
  if not projected then return nil, err end
  return { period = { from = P.from, to = P.to, from_date = P.from_date, to_date = P.to_date, days = P.days },
    so_far = so_far, projected = projected, total = projected.total, method = m }
end

-- bill.compare(rows, plans [, opts]) -> comparison
-- plans: array of tariffs, agreement lists, or { plan = tariff | agreements, code =, label = };
-- opts as bill.price plus current (the code or index of today's product).
-- comparison = { from, to, entries = { entry } (cheapest first; failures last),
--   current = entry | nil, cheapest = entry | nil }
-- entry = { code, display_name, label, total, kwh, difference (total - current.total),
--   current (bool), result | err }
---The same rows priced on each plan.
---@param rows octopus.Reading[]|table[]
---@param plans (octopus.Plan|{ plan: octopus.Plan, code?: string, label?: string })[]
---@param opts? octopus.BillOptions
---@return octopus.Comparison|nil comparison
---@return octopus.Error|nil err
function M.compare(rows, plans, opts)
  local o, msg = options(opts, "bill.compare", rows)
  if not o then error(msg, 2) end
  if type(plans) ~= "table" or #plans == 0 then
    error("bill.compare: 'plans' must be a non-empty array of tariffs or plans (got " .. type(plans) .. ")", 2)
  end
  local prep
  local perr
  prep, msg, perr = engine.prepare(rows, o.from, o.to, o.now, o.spin)
  if perr then return nil, perr end
  if not prep then error("bill.compare: " .. msg, 2) end
  local entries, current = {}, nil
  for i, p in ipairs(plans) do
    local plan, code, label = p, nil, nil
    if type(p) == "table" and p.plan ~= nil then plan, code, label = p.plan, p.code, p.label end
    local cp
    cp, msg = compile.plan(plan, o.zone)
    if not cp then error("bill.compare: plans[" .. i .. "]: " .. msg, 2) end
    local t1 = cp.agreements[#cp.agreements].tariff
    local e = { index = i, code = code or t1.code, display_name = t1.display_name, label = label }
    e.result, e.err = run(prep, cp, o)
    if e.result then e.total, e.kwh = e.result.total, e.result.kwh end
    if o.current ~= nil and (o.current == i or o.current == e.code) then e.current, current = true, e end
    entries[i] = e
  end
  if o.current ~= nil and not current then
    error("bill.compare: opts.current (" .. tostring(o.current) .. ") names none of the plans", 2)
  end
  sort(entries, function(a, b)
    if (a.total == nil) ~= (b.total == nil) then return a.total ~= nil end
    if a.total ~= b.total and a.total then return a.total < b.total end
    return a.index < b.index
  end)
  for _, e in ipairs(entries) do
    if current and current.total and e.total then e.difference = e.total - current.total end
    e.index = nil
  end
  return { from = o.from, to = o.to, entries = entries, current = current,
    cheapest = entries[1] and entries[1].total and entries[1] or nil }
end

return M
