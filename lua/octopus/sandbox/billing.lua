-- octopus.sandbox.billing: the sandbox's own bills, from its own readings and prices.
--
-- Written independently of octopus.money (the client's engine) so the two can be checked
-- against each other: integer arithmetic in Wh and sen (1/100 yen; every price has two
-- decimals), one billing period at a time, the rules of a Japanese low-voltage bill:
--  * billing periods from the supply point's reading day (00:00 JST) to the next month's;
--  * usage rounded to whole kWh half up; steps (0-120-300) over the period's kWh;
--  * the standing charge by its unit: per day x days, per A per day x A x days, per A per
--    month x A;
--  * the fuel-cost adjustment and the METI subsidy per calendar month of use, the levy per
--    fiscal year of use, each part's kWh rounded half up on its own;
--  * charges = standing + energy + fuel-cost adjustment - subsidy, cut to whole yen; the levy
--    cut to whole yen on its own; total = the two; tax included = total x 10/110 cut.
-- Statements exist for every closed period since readings and the first agreement began
-- in which one product was in force throughout (a period with a product change is not
-- billed here). Lines are the statement's charges (the schema's LineItemType).
--
--   billing.periods(ds, sp, now) -> { { from, to } ... } oldest first (closed periods)
--   billing.bill(ds, sp, from, to) -> bill | nil (mixed products, or no product)
--   bill = { from, to, product, kwh, wh, charges, levy, total, tax, lines = { line } }
--   line = { kind, supply_type, from, to, units (text), gross (text, yen), net (text) }
local data = require "octopus.sandbox.data"
local prices = require "octopus.sandbox.prices"

local floor, fmt = math.floor, string.format

local M = {}
local HH, DAY = 1800, 86400

local function sen(text)        -- "29.80" -> 2980, "-1.23" -> -123
  local neg, i, f = text:match("^(%-?)(%d+)%.(%d%d)$")
  local v = tonumber(i) * 100 + tonumber(f)
  return neg == "-" and -v or v
end

local function yen_text(s)      -- sen -> "12.34"
  local neg = s < 0
  if neg then s = -s end
  return (neg and "-" or "") .. fmt("%d.%02d", floor(s / 100), s % 100)
end

local function trunc100(s)      -- sen -> whole yen toward zero
  if s < 0 then return -floor(-s / 100) end
  return floor(s / 100)
end

local function kwh_of(wh) return floor((wh + 500) / 1000) end

-- the reading-day boundary of (y, m): day d, or the month's last day
local function boundary(y, m, d)
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  local last = data.days_from_civil(ny, nm, 1) - data.days_from_civil(y, m, 1)
  return data.epoch(y, m, d > last and last or d)
end

-- the billing period holding t
local function period_of(t, d)
  local y, m = data.fields(t)
  if t < boundary(y, m, d) then
    m = m - 1
    if m == 0 then y, m = y - 1, 12 end
  end
  local from = boundary(y, m, d)
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return from, boundary(ny, nm, d)
end
M.period_of = period_of

function M.periods(ds, sp, now)
  local start
  for _, ag in ipairs(sp.agreements) do
    local t = data.parse_iso(ag.valid_from)
    if not start or t < start then start = t end
  end
  local out = {}
  if not start then return out end
  if ds.data_from > start then start = ds.data_from end
  local d = sp.reading_day or 1
  local from, to = period_of(start, d)
  if from < start then from, to = to, select(2, period_of(to, d)) end
  local guard = 0
  while to <= now and guard < 1200 do
    out[#out + 1] = { from = from, to = to }
    from, to = to, select(2, period_of(to, d))
    guard = guard + 1
  end
  return out
end

local function month_key(t) local y, m = data.fields(t); return fmt("%04d-%02d", y, m) end

function M.bill(ds, sp, from, to)
  local product
  for t = from, to - HH, DAY / 2 do       -- the product must be the same throughout
    local ag = ds:agreement_at(sp, t)
    local p = ag and ds.products[ag.product_code]
    if not p or (product and p ~= product) then return nil end
    product = p
  end
  local last = ds:agreement_at(sp, to - HH)
  if not last or ds.products[last.product_code] ~= product then return nil end
  local area = sp.grid_area
  local a = product.by_area[area]
  local wh = 0
  local months, years = {}, {}         -- ordered parts: { key, from, to, wh }
  local t = from
  while t < to do
    local w = floor(ds:value_at(sp.spin, t) * 1000 + 0.5)
    wh = wh + w
    local mk = month_key(t)
    local mp = months[#months]
    if not mp or mp.key ~= mk then mp = { key = mk, from = t, wh = 0 }; months[#months + 1] = mp end
    mp.wh, mp.to = mp.wh + w, t + HH
    local y, m = data.fields(t)
    local fy = prices.levy_year(y, m)
    local yp = years[#years]
    if not yp or yp.key ~= fy then yp = { key = fy, from = t, wh = 0 }; years[#years + 1] = yp end
    yp.wh, yp.to = yp.wh + w, t + HH
    t = t + HH
  end
  local kwh = kwh_of(wh)
  local lines, main, levy = {}, 0, 0
  local function line(kind, supply, lf, lt, units, amount)
    lines[#lines + 1] = { kind = kind, supply_type = "JPN_ELECTRICITY_" .. supply, from = lf, to = lt,
      units = units, gross = yen_text(amount), net = yen_text(floor(amount * 10 / 11 + 0.5)) }
  end
  -- standing charge
  local days = floor((to - from) / DAY)
  local sp_sen = sen(a.standing_price)
  local n                               -- days, ampere-days or amperes
  if a.standing_unit_type == "DAYS_ON_SUPPLY" then n = days
  elseif a.standing_unit_type == "AMPERE_DAYS" then n = days * sp.amperes
  else n = sp.amperes end
  local amount, units = sp_sen * n, tostring(n)
  main = main + amount
  line("standing", "STANDING_CHARGE_" .. area, from, to, units, amount)
  -- energy: each kWh at the step it falls in
  for _, b in ipairs(a.bands) do
    local hi = b.step_end and (kwh < b.step_end and kwh or b.step_end) or kwh
    local q = hi - b.step_start
    if q > 0 then
      amount = q * sen(b.price_inc_tax)
      main = main + amount
      line("energy", b.band, from, to, tostring(q), amount)
    end
  end
  -- per month of use: fuel-cost adjustment, METI subsidy
  for _, mp in ipairs(months) do
    local q = kwh_of(mp.wh)
    local f = ds.fca[area][mp.key]
    if q > 0 and f then
      amount = q * sen(f)
      main = main + amount
      line("fuel_cost_adjustment", "FUEL_COST_ADJUSTMENT_" .. area, mp.from, mp.to, tostring(q), amount)
    end
    local meti = prices.METI[mp.key]
    if q > 0 and meti then
      amount = -q * sen(meti)
      main = main + amount
      line("discount", "METI_SUBSIDY", mp.from, mp.to, tostring(q), amount)
    end
  end
  -- per fiscal year of use: the levy
  for _, yp in ipairs(years) do
    local q = kwh_of(yp.wh)
    if q > 0 then
      amount = q * sen(prices.LEVY[yp.key])
      levy = levy + amount
      line("levy", "RENEWABLE_ENERGY_LEVY", yp.from, yp.to, tostring(q), amount)
    end
  end
  local charges, levy_yen = trunc100(main), floor(levy / 100)
  local total = charges + levy_yen
  return { from = from, to = to, product = product.code, kwh = kwh, wh = wh, charges = charges, levy = levy_yen,
    total = total, tax = total > 0 and floor(total * 10 / 110) or 0, lines = lines }
end

return M
