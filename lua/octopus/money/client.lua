-- octopus.money.client: the money methods of the Client (installed by the facade):
-- fetch what a bill needs over the pipeline, then price it with octopus.money.bill.
--
--   client:bill(account [, { period = "current" (default: the period holding now, billed up
--       to now: the bill so far) | "previous" | { from, to },
--       supply_point = spin, product = code, rows = rows, fuel_cost_adjustments = rates,
--       missing_adjustments = "error" | "zero" }]) -> result (bill.price's) | nil, err
--   client:projected_bill(account [, { supply_point, product, basis_days = 7, rows, period = "current" }])
--       -> projection (bill.project's) | nil, err
--   client:compare(account [, { products = { code... } | nil (every product the supply
--       point's area offers), months = 12, supply_point, rows }]) -> comparison (bill.compare's)
--   client:bills(account [, { transactions = true }]) -> { statement... } newest first
--       (octopus.money.statement: amounts as numbers; .transactions when asked) | nil, err
--   opts.progress(done, total): the readings' windows as they arrive (client:readings's)
--
-- What is fetched: the account with every agreement, its supply point's reading day and
-- contracted capacity (graphql/billing.graphql); other products from tariffSummary for
-- the supply point's area (the first two digits of the SPIN); the half hours through
-- client:readings (windows fetched concurrently), or opts.rows (e.g. the history store's
-- s:rows(spin):all-style arrays: { start_at, value | value_text, spin }).
--
-- Past fuel-cost adjustments and levies (a product carries only the current ones): read
-- from the account's own statements, whose charges list one line per calendar month of
-- use for the fuel-cost adjustment (supplyType *FUEL_COST_ADJUSTMENT*) and one per fiscal
-- year for the levy (*RENEWABLE_ENERGY_LEVY*): rate = grossAmount / numberOfUnits rounded
-- to 0.01 yen (both are published with two decimals), valid for that whole calendar month
-- (fuel-cost adjustment) or fiscal year May-April (levy). The METI subsidy comes from the
-- metiCredits query. opts.fuel_cost_adjustments (tariff rates { price | price_text,
-- valid_from, valid_to }) adds rates the caller knows. Assumed and reported: these are the
-- area's, the same on every product (a what-if product is priced with them too).
-- Missing data returns nil, err: UNKNOWN_PRODUCT (no such product in the area),
-- NO_SUPPLY_POINT, and the engine's NO_PRICE, GAPS ...; usage errors raise at the caller.
local usage = require "octopus.pipeline.usage"
local errors = require "octopus.pipeline.errors"
local time = require "octopus.pipeline.time"
local tariff = require "octopus.money.tariff"
local bill = require "octopus.money.bill"
local statement = require "octopus.money.statement"
local period = require "octopus.money.period"
local core = require "octopus.core"

local type, pairs, ipairs, tostring, tonumber, pcall, error = type, pairs, ipairs, tostring, tonumber, pcall, error
local floor, fmt = math.floor, string.format
local null = core.json.null

---A bill (octopus.money.bill.price's result): the lines explain the total.
---@class octopus.BillResult
---@field total integer              yen: charges + levy (each rounded down)
---@field kwh number
---@field kwh_text string
---@field from number                epoch s: the range billed
---@field to number
---@field lines table[]              { kind, label, quantity(_text), unit, unit_price(_text), yen, yen_text }
---@field periods table[]            one per billing period: charges, levy, total, consumption_tax, lines, gaps
---@field period? table              { from, to, from_date, to_date, days, complete } when one period is billed
---@field product string
---@field products string[]
---@field missing integer            half hours without a reading (reported, not priced)
---@field pending integer
---@field assumptions string[]
---@field method table
---@field supply table               { spin, reading_day, capacity = { value, value_text, unit } }
---@field account string

---The current period so far and projected to its end (octopus.money.bill.project's).
---@class octopus.Projection
---@field total integer              yen, projected
---@field so_far octopus.BillResult
---@field projected octopus.BillResult
---@field period table               { from, to, from_date, to_date, days }
---@field method table               { name, description, basis_days, daily_average_kwh, remaining_days, ... }

---Products priced on the same half hours, cheapest first (octopus.money.bill.compare's).
---@class octopus.Comparison
---@field entries table[]            { code, display_name, total, kwh, difference, current, result | err }
---@field current? table             today's product's entry
---@field cheapest? table
---@field from number
---@field to number
---@field months integer

---A statement with its amounts as numbers (octopus.money.statement).
---@class octopus.Statement
---@field id string
---@field status string              "OPEN" | "CLOSED"
---@field consumption_start_date string
---@field consumption_end_date string
---@field consumption_from number    epoch s
---@field consumption_to number
---@field opening_balance integer
---@field closing_balance integer
---@field total_charges { net: integer, tax: integer, gross: integer }
---@field total_credits { net: integer, tax: integer, gross: integer }
---@field payment_due_date string
---@field transactions? table[]

local M = {}
local DAY = 86400

errors.define("UNKNOWN_PRODUCT", "money", "no such product in the supply point's area", false)
errors.define("NO_SUPPLY_POINT", "money", "the account has no such electricity supply point", false)

local function fail(code, message)
  return errors.new { code = code, kind = "money", retryable = false, message = message }
end

local function absent(v) return v == nil or v == null end

local OPTS = {
  bill = { period = true, supply_point = true, product = true, rows = true, fuel_cost_adjustments = true,
    missing_adjustments = true, progress = true },
  projected_bill = { period = true, supply_point = true, product = true, basis_days = true, rows = true,
    fuel_cost_adjustments = true, missing_adjustments = true, progress = true },
  compare = { products = true, months = true, supply_point = true, rows = true, fuel_cost_adjustments = true,
    missing_adjustments = true, progress = true },
  bills = { transactions = true },
}

local function check(name, account, opts)
  local where = "client:" .. name
  if type(account) ~= "string" or account == "" then
    usage.raise(where .. ": 'account' must be an account number (\"A-1234ABCD\")")
  end
  if opts == nil then return {} end
  if type(opts) ~= "table" then usage.raise(where .. ": 'opts' must be a table (got " .. type(opts) .. ")") end
  for k in pairs(opts) do
    if not OPTS[name][k] then usage.raise(where .. ": unknown option 'opts." .. tostring(k) .. "'") end
  end
  if opts.supply_point ~= nil and type(opts.supply_point) ~= "string" then
    usage.raise(where .. ": opts.supply_point must be a SPIN string")
  end
  if opts.product ~= nil and (type(opts.product) ~= "string" or opts.product == "") then
    usage.raise(where .. ": opts.product must be a product code string")
  end
  if opts.rows ~= nil and type(opts.rows) ~= "table" then
    usage.raise(where .. ": opts.rows must be an array of reading rows")
  end
  if opts.progress ~= nil and type(opts.progress) ~= "function" then
    usage.raise(where .. ": opts.progress must be a function(done, total) (the readings' windows)")
  end
  if opts.fuel_cost_adjustments ~= nil and type(opts.fuel_cost_adjustments) ~= "table" then
    usage.raise(where .. ": opts.fuel_cost_adjustments must be an array of rates")
  end
  return opts
end

-- a bill.* call: an error it raises (bad rows, options) is the caller's: re-raised there
local function engine(name, fn, ...)
  local ok, a, b = pcall(fn, ...)
  if not ok then
    if type(a) == "string" then
      usage.raise("client:" .. name .. ": " .. (a:gsub("^[^:]*:%d+: ", "")))
    end
    error(a, 0)
  end
  return a, b
end

---------------------------------------------------------------------------
-- the account, its supply point and its own plan

local function supply_point_of(client, name, account, spin)
  local data, err = client:graphql("billing", { accountNumber = account })
  if not data then return nil, err end
  local acct = data.account
  if absent(acct) then return nil, fail("NO_SUPPLY_POINT", "account " .. account .. " was not found") end
  local all = {}
  for _, prop in ipairs(absent(acct.properties) and {} or acct.properties) do
    for _, sp in ipairs(absent(prop.electricitySupplyPoints) and {} or prop.electricitySupplyPoints) do
      all[#all + 1] = sp
    end
  end
  if spin then
    for _, sp in ipairs(all) do if sp.spin == spin then return sp end end
    return nil, fail("NO_SUPPLY_POINT", "account " .. account .. " has no electricity supply point " .. spin)
  end
  if #all == 0 then return nil, fail("NO_SUPPLY_POINT", "account " .. account .. " has no electricity supply point") end
  if #all > 1 then
    usage.raise("client:" .. name .. ": account " .. account .. " has " .. #all ..
      " electricity supply points: pass opts.supply_point")
  end
  return all[1]
end

-- the supply point's agreements -> plan (agreements), today's agreement | nil, err
local function own_plan(sp, zone, now)
  local plan, today = {}, nil
  for _, a in ipairs(absent(sp.agreements) and {} or sp.agreements) do
    if not absent(a.product) then
      local ag, err = tariff.from_agreement(a, { zone = zone })
      if not ag then return nil, err end
      plan[#plan + 1] = ag
      if ag.valid_from <= now and (ag.valid_to == nil or now < ag.valid_to) then today = ag end
    end
  end
  table.sort(plan, function(x, y) return (x.valid_from or 0) < (y.valid_from or 0) end)
  return plan, today or plan[#plan]
end

---------------------------------------------------------------------------
-- rates the products do not carry: past fuel-cost adjustments and levies, METI

local function rounded_rate(gross, units)
  local g, u = tonumber(gross), tonumber(units)
  if not g or not u or u == 0 then return nil end
  local x = g / u
  local c = floor(x * 100 + 0.5)
  return fmt("%.2f", c / 100)
end

local function ymd(t, zone)
  local d = time.date(t, zone)
  return fmt("%04d-%02d-%02d", d.year, d.month, d.day)
end

local function month_bounds(t, zone)
  local d = time.date(t, zone)
  local y, m = d.year, d.month
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return time.parse(fmt("%04d-%02d-01", y, m), zone), time.parse(fmt("%04d-%02d-01", ny, nm), zone)
end

local function fiscal_bounds(t, zone)
  local d = time.date(t, zone)
  local y = d.month < 5 and d.year - 1 or d.year
  return time.parse(fmt("%04d-05-01", y), zone), time.parse(fmt("%04d-05-01", y + 1), zone)
end

-- history(client, account, from, to, zone) -> { fuel_cost_adjustments, levies, discounts }, notes
local function history(client, account, from, to, zone)
  local out = { fuel_cost_adjustments = {}, levies = {}, discounts = {} }
  local notes = {}
  local nodes, err = client:connection("statements", { accountNumber = account }, "account.bills"):all()
  if not nodes then return nil, err end
  local want = {}
  for _, n in ipairs(nodes) do
    local s = statement.from_graphql(n, { zone = zone })
    if s and s.consumption_from and s.consumption_to and s.consumption_to > from - 62 * DAY and
       s.consumption_from < to then
      want[#want + 1] = s
    end
  end
  local results, errs = client:map(want, function(s)
    return client:graphql("charges", { accountNumber = account, billingDocumentIdentifier = s.id })
  end)
  for i = 1, #want do
    if errs and errs[i] then return nil, errs[i] end
  end
  local seen = {}
  for i = 1, #want do
    local d = results[i]
    for _, ch in ipairs(type(d) == "table" and not absent(d.charges) and d.charges or {}) do
      for _, li in ipairs(absent(ch.lineItems) and {} or ch.lineItems) do
        local st = not absent(li.supplyType) and li.supplyType or ""
        local kind = (st:find("FUEL_COST_ADJUSTMENT", 1, true) and "fuel_cost_adjustments") or
          (st:find("RENEWABLE_ENERGY_LEVY", 1, true) and "levies") or nil
        local price = kind and rounded_rate(li.grossAmount, li.numberOfUnits)
        local ok, at = pcall(time.parse, li.periodStartAt, zone)
        if price and ok then
          local vf, vt
          if kind == "levies" then vf, vt = fiscal_bounds(at, zone) else vf, vt = month_bounds(at, zone) end
          local key = kind .. vf
          if not seen[key] then
            seen[key] = true
            out[kind][#out[kind] + 1] = { price = tonumber(price), price_text = price, valid_from = vf, valid_to = vt,
              name = kind == "levies" and "renewable-energy levy" or nil }
          end
        end
      end
    end
  end
  local credits
  credits, err = client:graphql("meti_credits", { activeFrom = ymd(from, zone), activeTo = ymd(to - 1, zone) })
  if credits and not absent(credits.metiCredits) then
    local d = tariff.meti_discounts(credits.metiCredits, { zone = zone })
    if d then out.discounts = d end
  elseif not credits then
    return nil, err
  end
  if #out.fuel_cost_adjustments > 0 or #out.levies > 0 then
    notes[#notes + 1] = "past fuel-cost adjustments and levies were read from the account's statements " ..
      "(line amount / kWh, to 0.01 yen) and taken as the area's, the same on every product"
  end
  return out, notes
end

-- adds hist's rates to t where t has none for that time
local function enrich(t, hist, notes)
  local extra = { assumptions = {} }
  for _, k in ipairs { "fuel_cost_adjustments", "levies", "discounts" } do
    extra[k] = {}
    for _, r in ipairs(hist[k] or {}) do
      local clash = false
      for _, list in ipairs { t[k], extra[k] } do
        for _, x in ipairs(list) do
          if (x.valid_to == nil or r.valid_from == nil or r.valid_from < x.valid_to) and
             (r.valid_to == nil or x.valid_from == nil or x.valid_from < r.valid_to) then clash = true end
        end
      end
      if not clash then extra[k][#extra[k] + 1] = r end
    end
  end
  for _, s in ipairs(notes or {}) do extra.assumptions[#extra.assumptions + 1] = s end
  local out = tariff.with(t, extra)
  if t.source == "tariff_summary" and #out.fuel_cost_adjustments > 0 then
    local keep = {}
    for _, s in ipairs(out.assumptions) do
      if not s:find("carries no fuel-cost adjustment", 1, true) then keep[#keep + 1] = s end
    end
    out.assumptions = keep
  end
  return out
end

local function enrich_plan(plan, hist, notes)
  local out = {}
  for i, ag in ipairs(plan) do
    out[i] = { id = ag.id, valid_from = ag.valid_from, valid_to = ag.valid_to, tariff = enrich(ag.tariff, hist, notes) }
  end
  return out
end

-- the area's products from tariffSummary -> { code -> tariff }, order | nil, err
local function area_products(client, area, code, zone)
  local list, err = client:tariff_summary(area, code)
  if not list then return nil, err end
  local out, order = {}, {}
  for _, s in ipairs(list) do
    local t, e = tariff.from_summary(s, { zone = zone })
    if not t then return nil, e end
    out[t.code] = t
    order[#order + 1] = t.code
  end
  return out, order
end

-- the shared part of the three methods: supply point, plan, history, rows
local function gather(client, name, account, opts, range)
  local zone, now = client.zone, client.clock.wall()
  local sp, err = supply_point_of(client, name, account, opts.supply_point)
  if not sp then return nil, err end
  local supply = tariff.supply_point(sp)
  local area = sp.spin:sub(1, 2)
  local plan, today = own_plan(sp, zone, now)
  if not plan then return nil, today end
  local from, to = range(supply.reading_day, zone, now)
  local g = { zone = zone, now = now, sp = sp, supply = supply, area = area, plan = plan, today = today,
    from = from, to = to }
  local hist, notes = history(client, account, from, to, zone)
  if not hist then return nil, notes end
  if opts.fuel_cost_adjustments then
    for _, r in ipairs(opts.fuel_cost_adjustments) do
      table.insert(hist.fuel_cost_adjustments, 1, r)
    end
  end
  g.hist, g.notes = hist, notes
  -- the area's own current rates apply to what-if products too
  if today then
    for _, k in ipairs { "fuel_cost_adjustments", "levies" } do
      for _, r in ipairs(today.tariff[k]) do table.insert(hist[k], 1, r) end
    end
  end
  if opts.rows then
    g.rows = opts.rows
  else
    local stop = to < now and to or now
    local rows
    rows, err = client:readings(account, { from = from, to = stop, supply_point = sp.spin,
      progress = opts.progress }):all()
    if not rows then return nil, err end
    g.rows = rows
  end
  return g
end

local function what_if(client, g, code)
  local products, err = area_products(client, g.area, code, g.zone)
  if not products then return nil, err end
  local t = products[code]
  if not t then
    return nil, fail("UNKNOWN_PRODUCT", "product " .. code .. " is not offered in grid area " .. g.area ..
      " (tariffSummary has no such code)")
  end
  return enrich(t, g.hist, g.notes)
end

local function period_range(name, p)
  return function(rd, zone, now)
    local from, to
    if p == nil or p == "current" then
      from, to = period.bounds(now, rd, zone)
    elseif p == "previous" then
      local cur = period.bounds(now, rd, zone)
      from, to = period.bounds(cur - 1, rd, zone)
    elseif type(p) == "table" and p.from ~= nil and p.to ~= nil then
      local ok1, a = pcall(time.parse, p.from, zone)
      local ok2, b = pcall(time.parse, p.to, zone)
      if not ok1 or not ok2 then usage.raise("client:" .. name .. ": opts.period.from/to: " ..
        tostring(ok1 and b or a)) end
      from, to = a, b
    else
      usage.raise("client:" .. name .. ": opts.period must be \"current\", \"previous\" or { from =, to = } (got " ..
        tostring(p) .. ")")
    end
    if from >= to then usage.raise("client:" .. name .. ": opts.period.from must be before opts.period.to") end
    if from >= now then
      usage.raise("client:" .. name .. ": the period starts in the future (" .. time.format(from, zone) ..
        "; now " .. time.format(now, zone) .. ")")
    end
    return from, to
  end
end

---------------------------------------------------------------------------
-- the methods

-- client:bill(account [, opts]) -> result | nil, err
---The bill for a billing period, line by line, on the account's product(s) or another.
---@param client octopus.Client
---@param account string
---@param opts? table period, supply_point, product, rows, fuel_cost_adjustments, missing_adjustments, progress
---@return octopus.BillResult|nil bill
---@return octopus.Error|nil err UNKNOWN_PRODUCT, NO_SUPPLY_POINT, NO_PRICE, NO_CAPACITY, GAPS, ...
function M.bill(client, account, opts)
  opts = check("bill", account, opts)
  local g, err = gather(client, "bill", account, opts, period_range("bill", opts.period))
  if not g then return nil, err end
  local plan = enrich_plan(g.plan, g.hist, g.notes)
  if opts.product then
    plan, err = what_if(client, g, opts.product)
    if not plan then return nil, err end
  end
  -- the current period is billed up to now (the bill so far: standing charges for the
  -- days started), as projected_bill's so_far
  local to = g.to
  if (opts.period == nil or opts.period == "current") and g.now < to then to = g.now end
  local res
  res, err = engine("bill", bill.price, g.rows, plan, { from = g.from, to = to, supply = g.supply, zone = g.zone,
    now = g.now, missing_adjustments = opts.missing_adjustments })
  if not res then return nil, err end
  res.supply, res.account = g.supply, account
  return res
end

-- client:projected_bill(account [, opts]) -> projection | nil, err
---The current billing period so far and projected to its end.
---@param client octopus.Client
---@param account string
---@param opts? table supply_point, product, basis_days (7), rows, progress
---@return octopus.Projection|nil projection
---@return octopus.Error|nil err NO_DATA, NO_PRICE, ...
function M.projected_bill(client, account, opts)
  opts = check("projected_bill", account, opts)
  if opts.period ~= nil and opts.period ~= "current" then
    usage.raise("client:projected_bill: the period is the current one (opts.period may only be \"current\")")
  end
  local bd = opts.basis_days or 7
  if type(bd) ~= "number" or bd ~= floor(bd) or bd < 1 or bd > 62 then
    usage.raise("client:projected_bill: opts.basis_days must be a whole number of days from 1 to 62")
  end
  local g, err = gather(client, "projected_bill", account, opts, function(rd, zone, now)
    local from, to = period.bounds(now, rd, zone)
    local basis = now - bd * DAY
    return basis < from and basis or from, to
  end)
  if not g then return nil, err end
  local plan = enrich_plan(g.plan, g.hist, g.notes)
  if opts.product then
    plan, err = what_if(client, g, opts.product)
    if not plan then return nil, err end
  end
  local res
  res, err = engine("projected_bill", bill.project, g.rows, plan, { supply = g.supply, zone = g.zone, now = g.now,
    basis_days = bd, missing_adjustments = opts.missing_adjustments })
  if not res then return nil, err end
  res.supply, res.account = g.supply, account
  return res
end

-- client:compare(account [, opts]) -> comparison | nil, err
---Your half hours of the last `months` billing periods priced on each product, sorted.
---@param client octopus.Client
---@param account string
---@param opts? table products (nil: the area's all), months (12), supply_point, rows, progress
---@return octopus.Comparison|nil comparison
---@return octopus.Error|nil err
function M.compare(client, account, opts)
  opts = check("compare", account, opts)
  local months = opts.months or 12
  if type(months) ~= "number" or months ~= floor(months) or months < 1 or months > 36 then
    usage.raise("client:compare: opts.months must be a whole number of billing periods from 1 to 36")
  end
  if opts.products ~= nil and (type(opts.products) ~= "table" or #opts.products == 0) then
    usage.raise("client:compare: opts.products must be a non-empty array of product codes (or nil: every product)")
  end
  for i, c in ipairs(opts.products or {}) do
    if type(c) ~= "string" or c == "" then usage.raise("client:compare: opts.products[" .. i .. "] must be a code") end
  end
  local g, err = gather(client, "compare", account, opts, function(rd, zone, now)
    local to = period.bounds(now, rd, zone)
    local from = to
    for _ = 1, months do from = period.bounds(from - 1, rd, zone) end
    return from, to
  end)
  if not g then return nil, err end
  local products, order = area_products(client, g.area, nil, g.zone)
  if not products then return nil, order end
  local today = g.today and g.today.tariff
  local plans, unknown = {}, {}
  local codes = opts.products or order
  local listed = {}
  for _, code in ipairs(codes) do
    listed[code] = true
    local t = products[code]
    if today and code == today.code then t = today end
    if not t and opts.products then
      local one = area_products(client, g.area, code, g.zone)
      t = one and one[code]
    end
    if t then plans[#plans + 1] = { plan = enrich(t, g.hist, g.notes), code = code }
    else unknown[#unknown + 1] = code end
  end
  if today and not listed[today.code] then
    plans[#plans + 1] = { plan = enrich(today, g.hist, g.notes), code = today.code }
  end
  if #plans == 0 then
    return nil, fail("UNKNOWN_PRODUCT", "none of the products is offered in grid area " .. g.area)
  end
  local res
  res, err = engine("compare", bill.compare, g.rows, plans, { from = g.from, to = g.to, supply = g.supply,
    zone = g.zone, now = g.now, current = today and today.code or nil, missing_adjustments = opts.missing_adjustments })
  if not res then return nil, err end
  for _, code in ipairs(unknown) do
    res.entries[#res.entries + 1] = { code = code, err = fail("UNKNOWN_PRODUCT", "product " .. code ..
      " is not offered in grid area " .. g.area) }
  end
  res.supply, res.account, res.months = g.supply, account, months
  return res
end

-- client:bills(account) -> statements (newest first) | nil, err
---The account's statements with their amounts as numbers.
---@param client octopus.Client
---@param account string
---@param opts? table transactions = true adds each statement's transactions
---@return octopus.Statement[]|nil statements
---@return octopus.Error|nil err
function M.bills(client, account, opts)
  opts = check("bills", account, opts)
  local nodes, err = client:connection("statements", { accountNumber = account,
    transactions = opts.transactions == true }, "account.bills"):all()
  if not nodes then return nil, err end
  local out = {}
  for i, n in ipairs(nodes) do
    local s
    s, err = statement.from_graphql(n, { zone = client.zone })
    if not s then return nil, err end
    out[i] = s
  end
  return out
end

M.methods = { bill = M.bill, projected_bill = M.projected_bill, compare = M.compare, bills = M.bills }

return M
