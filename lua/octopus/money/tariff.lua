-- octopus.money.tariff: products and prices as one Lua value, whichever API they came from.
--
-- GraphQL gives a product as a union member (Decimal strings, `stepEnd` null
-- sentinel, ISO datetimes with offsets); REST gives a tariff with numbers. Both
-- become the value below, which octopus.money.bill prices. Pure: no I/O.
--
-- tariff = {
--   kind     = "stepped" | "single_step" | "fit" | "gas_tiered",
--   typename = "ElectricitySteppedProduct" | "ElectricitySingleStepProduct" |
--              "ElectricityFitProduct" | "GasTieredProduct"   (the Product union member)
--   source   = "graphql" | "rest" | "tariff_summary" | "literal"
--   code, display_name, tariff_code (REST), grid_operator_code, params, tags
--   fuel     = "electricity" | "gas";  unit = "kWh" | "m3"
--   steps    = { step, ... }   consumption rates, sorted by valid_from then from
--     step = { band, from, to (nil = open end), price, price_text, price_exc, price_exc_text,
--              valid_from, valid_to, unit_type, time_of_use }
--       from/to: kWh (m3 for gas: the tier's range); electricity steps are progressive
--       (each kWh at the step it falls in), gas tiers are whole-volume (all m3 at the tier
--       the period's total falls in, from < total <= to).
--   standing = { charge, ... }
--     charge = { band, kind = "day" | "month" | nil (unit type not understood),
--                per = nil | "A" | "kVA" | "kW" (times the contracted capacity), per_size (the
--                block the price is for: 10 for "per 10 A"; default 1),
--                price, price_text, price_exc, price_exc_text, unit_type (as the API wrote it),
--                threshold, threshold_text (kWh this minimum charge covers, or nil),
--                capacity, capacity_unit (applies only to that contracted capacity, e.g. 30 "A"),
--                label, tier_from, tier_to (gas: the tier it belongs to), valid_from, valid_to }
--   fuel_cost_adjustments = { rate, ... }   yen per kWh (can be negative)
--   levies    = { rate, ... }               the renewable-energy levy, yen per kWh
--   discounts = { rate, ... }               yen per kWh taken off the bill (positive = a credit),
--                                           rate.name says which (e.g. "METI")
--   credits   = { rate, ... }               FIT generation credit, yen per kWh
--     rate = { price, price_text, price_exc, price_exc_text, valid_from, valid_to, band, name }
--   assumptions = { "text", ... }           what reading the data assumed
-- }
-- Every price is yen including consumption tax (pricePerUnitIncTax / value_inc_vat);
-- price is the Lua number, price_text the API's Decimal text (REST numbers written
-- as text by octopus.money.yen.number_text). Open ends (null sentinel or absent) are nil.
-- valid_from/valid_to are epoch seconds, [from, to); a date-only text is read in opts.zone.
--
-- agreement = { id, valid_from, valid_to, tariff }   (an account's agreement on a product)
-- supply    = { spin, reading_day, capacity = { value, value_text, unit = "A"|"kVA"|"kW" },
--               grid_operator_code }
local core = require "octopus.core"
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"
local yen = require "octopus.money.yen"

local null = core.json.null
local type, pairs, ipairs, tostring, tonumber, error, pcall, setmetatable, getmetatable =
  type, pairs, ipairs, tostring, tonumber, error, pcall, setmetatable, getmetatable
local sort = table.sort

---A price valid in [valid_from, valid_to): yen per kWh including tax (price_exc without).
---@class octopus.Rate
---@field price number
---@field price_text string
---@field price_exc? number
---@field price_exc_text? string
---@field valid_from? number
---@field valid_to? number
---@field band? string
---@field name? string                     which discount ("METI")

---A consumption step (electricity: progressive; gas: a whole-volume tier).
---@class octopus.TariffStep: octopus.Rate
---@field from number                      kWh (m3)
---@field to? number                       nil: open end
---@field unit_type? string
---@field time_of_use? string

---@class octopus.StandingCharge: octopus.Rate
---@field kind? "day"|"month"               nil: the unit type is not understood
---@field per? "A"|"kVA"|"kW"               times the contracted capacity
---@field per_size? number                 the block the price is for (10: per 10 A)
---@field unit_type? string
---@field threshold? number                kWh a minimum charge covers
---@field threshold_text? string
---@field capacity? number                 applies only to that contracted capacity
---@field capacity_unit? string
---@field label? string
---@field tier_from? number
---@field tier_to? number

---A product and its prices as one value, whichever API they came from.
---@class octopus.Tariff
---@field kind "stepped"|"single_step"|"fit"|"gas_tiered"
---@field typename string                  the Product union member
---@field source "graphql"|"rest"|"tariff_summary"|"literal"
---@field code string
---@field display_name? string
---@field tariff_code? string              REST
---@field grid_operator_code? string
---@field fuel "electricity"|"gas"
---@field unit "kWh"|"m3"
---@field steps octopus.TariffStep[]
---@field standing octopus.StandingCharge[]
---@field fuel_cost_adjustments octopus.Rate[]
---@field levies octopus.Rate[]
---@field discounts octopus.Rate[]
---@field credits octopus.Rate[]
---@field assumptions string[]

---An account's agreement on a product.
---@class octopus.Agreement
---@field id? string
---@field valid_from? number
---@field valid_to? number
---@field tariff octopus.Tariff

---A supply point as the bill needs it.
---@class octopus.Supply
---@field spin? string
---@field reading_day? integer
---@field capacity? { value: number, value_text: string, unit: "A"|"kVA"|"kW" }
---@field grid_operator_code? string

---@class octopus.money.tariff
---@field TYPENAMES table<string, string>
---@field TYPENAME_OF table<string, string>
---@field UNIT_TYPES table<string, string[]>
local M = {}

M.TYPENAMES = {
  ElectricitySteppedProduct = "stepped", ElectricitySingleStepProduct = "single_step",
  ElectricityFitProduct = "fit", GasTieredProduct = "gas_tiered",
}
local TYPENAME_OF = {}
for k, v in pairs(M.TYPENAMES) do TYPENAME_OF[v] = k end
M.TYPENAME_OF = TYPENAME_OF

-- Standing-charge unit types -> kind, per. UnitType enum names first, then names
-- seen in other Kraken instances; anything else falls back to the words in it.
M.UNIT_TYPES = {
  DAYS_ON_SUPPLY = { "day" }, MONTHS_ON_SUPPLY = { "month" },
  AMPERE_MONTHS = { "month", "A" }, AMPERE_DAYS = { "day", "A" },
  KVA_CAPACITY_DAYS = { "day", "kVA" }, KVA_CAPACITY_MONTHS = { "month", "kVA" },
  KVA_DEMAND_DAYS = { "day", "kVA" }, KVA_DEMAND_MONTHS = { "month", "kVA" },
  KW_DEMAND_DAYS = { "day", "kW" }, KW_CAPACITY_MONTHS = { "month", "kW" },
}

-- M.unit(unit_type) -> kind, per (kind nil when the unit type is not understood)
---@param u string a standing charge's unitType
---@return "day"|"month"|nil kind nil when not understood
---@return "A"|"kVA"|"kW"|nil per
function M.unit(u)
  if u == nil then return "day", nil end
  local known = M.UNIT_TYPES[u]
  if known then return known[1], known[2] end
  local up = tostring(u):upper()
  local kind = (up:find("MONTH") and "month") or ((up:find("DAY") or up:find("DAILY")) and "day") or nil
  local per = (up:find("AMP") and "A") or (up:find("KVA") and "kVA") or (up:find("KW") and not up:find("KWH")
    and "kW") or nil
  return kind, per
end

local function absent(v) return v == nil or v == null end

-- conversion failures inside a public function: raised as a tagged table, caught below
local bad_mt = {}
local function bad(msg) error(setmetatable({ message = msg }, bad_mt), 0) end

local function decimal(v, where)
  if absent(v) then return nil, nil end
  if type(v) == "number" then return v, yen.number_text(v) end
  if type(v) == "string" then
    local n = tonumber(v)
    if n and yen.units(v, 1) then return n, v end
  end
  bad(where .. " is not a Decimal (" .. tostring(v) .. ")")
end

local function epoch(v, zone, where)
  if absent(v) then return nil end
  local ok, t = pcall(time.parse, v, zone)
  if not ok then bad(where .. ": " .. tostring(t)) end
  return t
end

local function list(v)
  if absent(v) then return {} end
  if type(v) ~= "table" then bad("expected a list, got a " .. type(v)) end
  return v
end

-- the price fields of a rate object -> rate
local function rate(r, zone, where, inc, exc)
  if type(r) ~= "table" then bad(where .. " is not an object") end
  local out = { band = not absent(r.band) and r.band or nil,
                unit_type = not absent(r.unitType) and r.unitType or nil }
  out.price, out.price_text = decimal(r[inc or "pricePerUnitIncTax"], where .. "." .. (inc or "pricePerUnitIncTax"))
  out.price_exc, out.price_exc_text = decimal(r[exc or "pricePerUnit"], where .. "." .. (exc or "pricePerUnit"))
  if out.price == nil then bad(where .. " has no " .. (inc or "pricePerUnitIncTax")) end
  out.valid_from = epoch(r.validFrom, zone, where .. ".validFrom")
  out.valid_to = epoch(r.validTo, zone, where .. ".validTo")
  return out
end

-- stable: by valid_from (open first), then step start, then the order the API gave
local function sort_validity(entries)
  local pos = {}
  for i, x in ipairs(entries) do pos[x] = i end
  sort(entries, function(a, b)
    local af, bf = a.valid_from or -1 / 0, b.valid_from or -1 / 0
    if af ~= bf then return af < bf end
    local as, bs = a.from or 0, b.from or 0
    if as ~= bs then return as < bs end
    return pos[a] < pos[b]
  end)
end

local function finish(t)
  sort_validity(t.steps)
  sort_validity(t.standing)
  sort_validity(t.fuel_cost_adjustments)
  sort_validity(t.levies)
  sort_validity(t.discounts)
  sort_validity(t.credits)
  return t
end

local function new(kind, source)
  return { kind = kind, typename = TYPENAME_OF[kind], source = source,
    fuel = kind == "gas_tiered" and "gas" or "electricity", unit = kind == "gas_tiered" and "m3" or "kWh",
    steps = {}, standing = {}, fuel_cost_adjustments = {}, levies = {}, discounts = {}, credits = {},
    assumptions = {} }
end

-- protected call of a converter: value | nil, DECODE error
local function protect(fn, ...)
  local ok, v = pcall(fn, ...)
  if ok then return v end
  if type(v) == "table" and getmetatable(v) == bad_mt then
    return nil, errors.new { code = "DECODE", kind = "decode", retryable = false, message = v.message }
  end
  error(v, 0)
end

local function standing_charge(t, s, zone, where, product_unit_type)
  local c = rate(s, zone, where)
  local u = c.unit_type or product_unit_type
  c.kind, c.per = M.unit(u)
  if u == nil then
    t.assumptions[#t.assumptions + 1] = where .. " has no unitType: read as yen per day"
  end
  c.unit_type = u
  c.threshold, c.threshold_text = decimal(s.threshold, where .. ".threshold")
  if not absent(s.tierStart) then c.tier_from = s.tierStart end
  if not absent(s.tierEnd) then c.tier_to = s.tierEnd end
  return c
end

local function from_graphql(p, zone)
  local kind = M.TYPENAMES[p.__typename]
  local t = new(kind, "graphql")
  t.code = not absent(p.code) and p.code or nil
  t.display_name = not absent(p.displayName) and p.displayName or nil
  t.params = not absent(p.params) and p.params or nil
  t.tags = not absent(p.tags) and p.tags or nil
  if kind == "fit" then
    for i, r in ipairs(list(p.generationCredits)) do
      t.credits[i] = rate(r, zone, "generationCredits[" .. i .. "]")
    end
    return finish(t)
  end
  for i, r in ipairs(list(p.consumptionCharges)) do
    local where = "consumptionCharges[" .. i .. "]"
    local s = rate(r, zone, where)
    s.time_of_use = not absent(r.timeOfUse) and r.timeOfUse or nil
    if kind == "gas_tiered" then
      s.from = not absent(r.tierStart) and r.tierStart or 0
      s.to = not absent(r.tierEnd) and r.tierEnd or nil
    elseif kind == "stepped" then
      s.from = not absent(r.stepStart) and r.stepStart or nil
      s.to = not absent(r.stepEnd) and r.stepEnd or nil
      if s.from == nil then
        s.from = 0
        t.assumptions[#t.assumptions + 1] = where .. " has no stepStart: read as 0 kWh"
      end
    else
      s.from, s.to = 0, nil
    end
    t.steps[i] = s
  end
  local sut = not absent(p.standingChargeUnitType) and p.standingChargeUnitType or nil
  for i, s in ipairs(list(p.standingCharges)) do
    t.standing[#t.standing + 1] = standing_charge(t, s, zone, "standingCharges[" .. i .. "]", sut)
  end
  if #t.standing == 0 and not absent(p.standingChargePricePerDay) then
    local c = {}
    c.price, c.price_text = decimal(p.standingChargePricePerDay, "standingChargePricePerDay")
    local kind2, per = M.unit(sut)
    c.kind, c.per, c.unit_type = kind2 or "day", per, sut
    t.standing[1] = c
  end
  if not absent(p.fuelCostAdjustment) then
    t.fuel_cost_adjustments[1] = rate(p.fuelCostAdjustment, zone, "fuelCostAdjustment")
  end
  if not absent(p.renewableEnergyLevy) then
    t.levies[1] = rate(p.renewableEnergyLevy, zone, "renewableEnergyLevy")
  end
  return finish(t)
end

local function check_product(p, name, level)
  if type(p) ~= "table" then
    error(name .. ": 'product' must be a GraphQL Product table (got " .. type(p) .. ")", level + 1)
  end
  if not M.TYPENAMES[p.__typename] then
    error(name .. ": 'product' must name its union member in __typename (ElectricitySteppedProduct, " ..
      "ElectricitySingleStepProduct, ElectricityFitProduct or GasTieredProduct; got " .. tostring(p.__typename) .. ")",
      level + 1)
  end
end

-- M.from_graphql(product [, { zone = }]) -> tariff | nil, DECODE error
-- product: a member of the GraphQL Product union, selected with __typename.
---@param product table a member of the GraphQL Product union (with __typename)
---@param opts? { zone?: octopus.ZoneSpec }
---@return octopus.Tariff|nil tariff
---@return octopus.Error|nil err DECODE
function M.from_graphql(product, opts)
  check_product(product, "tariff.from_graphql", 2)
  local zone = time.zone(opts and opts.zone)
  local v, err = protect(from_graphql, product, zone)
  return v, err
end

local function addons(t, list_, zone)
  for i, a in ipairs(list_) do
    local pr = type(a) == "table" and not absent(a.productRate) and a.productRate
    if pr then
      local where = "addonRates[" .. i .. "].productRate"
      local r = rate(pr, zone, where, "pricePerUnit", "pricePerUnit")
      local addon = not absent(a.addon) and a.addon or {}
      r.name = not absent(addon.title) and addon.title or r.band
      if r.unit_type == nil or r.unit_type == "KWH_CONSUMPTION" then
        -- an add-on priced per kWh: a negative price is a discount, a positive one a surcharge
        r.price, r.price_text = -r.price, yen.negate_text(r.price_text)
        t.discounts[#t.discounts + 1] = r
      else
        local c = r
        c.kind, c.per = M.unit(r.unit_type)
        t.standing[#t.standing + 1] = c
      end
    end
  end
end

-- M.from_agreement(agreement [, { zone = }]) -> agreement value | nil, DECODE error
-- agreement: the GraphQL Agreement (validFrom, validTo, product, optionally addonRates)
---@param a table the GraphQL Agreement (validFrom, validTo, product, addonRates)
---@param opts? { zone?: octopus.ZoneSpec }
---@return octopus.Agreement|nil agreement
---@return octopus.Error|nil err DECODE
function M.from_agreement(a, opts)
  if type(a) ~= "table" then error("tariff.from_agreement: 'agreement' must be a table (got " .. type(a) .. ")", 2) end
  if absent(a.product) then
    return nil, errors.new { code = "DECODE", kind = "decode", retryable = false,
      message = "agreement " .. tostring(not absent(a.id) and a.id or "") .. " has no product" }
  end
  check_product(a.product, "tariff.from_agreement", 2)
  local zone = time.zone(opts and opts.zone)
  return protect(function()
    local t = from_graphql(a.product, zone)
    addons(t, list(a.addonRates), zone)
    finish(t)
    return { id = not absent(a.id) and a.id or nil, tariff = t,
      valid_from = epoch(a.validFrom, zone, "agreement.validFrom"),
      valid_to = epoch(a.validTo, zone, "agreement.validTo") }
  end)
end

-- REST charge rows -> rates
local function rest_rows(rows, zone, where)
  local out = {}
  for i, r in ipairs(list(rows)) do
    local w = where .. "[" .. i .. "]"
    if type(r) ~= "table" then bad(w .. " is not an object") end
    local x = rate({ validFrom = r.valid_from, validTo = r.valid_to, band = r.band,
      price_inc = r.value_inc_vat, price_exc = r.value_exc_vat }, zone, w, "price_inc", "price_exc")
    if not absent(r.step_start) then x.from = r.step_start end
    if not absent(r.step_end) then x.to = r.step_end end
    out[i] = x
  end
  return out
end

local function from_rest(detail, tr, opts, zone)
  local stepped = not absent(tr.unit_rate_steps) and #tr.unit_rate_steps > 1
  local t = new(stepped and "stepped" or "single_step", "rest")
  detail = type(detail) == "table" and detail or {}
  t.code = not absent(detail.code) and detail.code or nil
  t.display_name = not absent(detail.display_name) and detail.display_name or nil
  t.tariff_code = not absent(tr.code) and tr.code or nil
  t.available_from = epoch(detail.available_from, zone, "product.available_from")
  t.available_to = epoch(detail.available_to, zone, "product.available_to")
  if opts.unit_rates then
    t.steps = rest_rows(opts.unit_rates, zone, "unit_rates")
    local is_stepped = false
    for _, s in ipairs(t.steps) do
      if s.from == nil then s.from = 0 end
      if s.to ~= nil or s.from > 0 then is_stepped = true end
    end
    t.kind = is_stepped and "stepped" or "single_step"
    t.typename = TYPENAME_OF[t.kind]
  elseif stepped then
    for i, s in ipairs(tr.unit_rate_steps) do
      local w = "unit_rate_steps[" .. i .. "]"
      local x = { band = not absent(s.band) and s.band or nil }
      x.price, x.price_text = decimal(s.value_inc_vat, w .. ".value_inc_vat")
      x.price_exc, x.price_exc_text = decimal(s.value_exc_vat, w .. ".value_exc_vat")
      if x.price == nil then bad(w .. " has no value_inc_vat") end
      x.from = not absent(s.step_start) and s.step_start or 0
      x.to = not absent(s.step_end) and s.step_end or nil
      t.steps[i] = x
    end
  else
    local x = { from = 0 }
    x.price, x.price_text = decimal(tr.standard_unit_rate_inc_vat, "tariff.standard_unit_rate_inc_vat")
    x.price_exc, x.price_exc_text = decimal(tr.standard_unit_rate_exc_vat, "tariff.standard_unit_rate_exc_vat")
    if x.price then t.steps[1] = x end
  end
  if opts.standing_charges then
    t.standing = rest_rows(opts.standing_charges, zone, "standing_charges")
    for _, c in ipairs(t.standing) do c.kind = "day" end
  else
    local c = { kind = "day" }
    c.price, c.price_text = decimal(tr.standing_charge_inc_vat, "tariff.standing_charge_inc_vat")
    c.price_exc, c.price_exc_text = decimal(tr.standing_charge_exc_vat, "tariff.standing_charge_exc_vat")
    if c.price then t.standing[1] = c end
  end
  if not opts.unit_rates or not opts.standing_charges then
    t.assumptions[#t.assumptions + 1] = "REST tariff without its charge history: its current prices are taken " ..
      "as valid for every period"
  end
  t.assumptions[#t.assumptions + 1] = "REST standing charges are read as yen per day"
  return finish(t)
end

-- M.from_rest(detail, tariff [, { unit_rates =, standing_charges =, zone = }]) -> tariff | nil, DECODE error
-- detail: the product detail (products:get), or nil; tariff: one of its tariffs
-- (products.tariff_for). unit_rates / standing_charges: the charge rows
-- (tariffs:unit_rates(...):all(), tariffs:standing_charges(...):all()) for validity periods.
-- REST carries no fuel-cost adjustment or levy: add them with M.with.
---REST carries no fuel-cost adjustment or levy: add them with M.with.
---@param detail? octopus.ProductDetail products:get's answer
---@param tr octopus.RestTariff one of its tariffs (products.tariff_for)
---@param opts? { unit_rates?: octopus.Charge[], standing_charges?: octopus.Charge[], zone?: octopus.ZoneSpec }
---@return octopus.Tariff|nil tariff
---@return octopus.Error|nil err DECODE
function M.from_rest(detail, tr, opts)
  if detail ~= nil and type(detail) ~= "table" then
    error("tariff.from_rest: 'detail' must be a product detail table or nil (got " .. type(detail) .. ")", 2)
  end
  if type(tr) ~= "table" then
    error("tariff.from_rest: 'tariff' must be a REST tariff table (got " .. type(tr) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error("tariff.from_rest: 'opts' must be a table", 2) end
  opts = opts or {}
  return protect(from_rest, detail, tr, opts, time.zone(opts.zone))
end

-- "30A" -> 30, "A"; "6kVA" -> 6, "kVA"
---@param label any "30A", "6kVA"
---@return number|nil value
---@return string|nil unit "A", "kVA", "kW"
local function capacity_label(label)
  if type(label) ~= "string" then return nil end
  local n, u = label:match("^%s*(%d+%.?%d*)%s*([kK]?[VvWwAa]?[Aa]?)%s*$")
  if not n or u == "" then return nil end
  local units = { a = "A", kva = "kVA", kw = "kW" }
  u = units[u:lower()]
  return u and tonumber(n) or nil, u
end
M.capacity_label = capacity_label

local function from_summary(s, opts, zone)
  local tiers = list(s.tiers)
  local tier
  if opts.pattern ~= nil then
    for _, x in ipairs(tiers) do if x.contractCapacityPattern == opts.pattern then tier = x end end
    if not tier then bad("tariffSummary " .. tostring(s.code) .. " has no tier " .. tostring(opts.pattern)) end
  else
    tier = tiers[1]
  end
  if not tier then bad("tariffSummary " .. tostring(s.code) .. " has no tiers") end
  local rates = list(tier.consumptionRates)
  local t = new(#rates > 1 and "stepped" or "single_step", "tariff_summary")
  t.code = not absent(s.code) and s.code or nil
  t.display_name = not absent(s.displayName) and s.displayName or nil
  t.grid_operator_code = not absent(s.gridOperatorCode) and s.gridOperatorCode or nil
  t.params = not absent(s.productParams) and s.productParams or nil
  t.capacity_pattern = not absent(tier.contractCapacityPattern) and tier.contractCapacityPattern or nil
  if #tiers > 1 and opts.pattern == nil then
    t.assumptions[#t.assumptions + 1] = "tariffSummary " .. tostring(t.code) .. " has " .. #tiers ..
      " tiers: the first (" .. tostring(t.capacity_pattern) .. ") was used"
  end
  for i, r in ipairs(rates) do
    local x = rate(r, zone, "consumptionRates[" .. i .. "]")
    x.from = not absent(r.stepStart) and r.stepStart or 0
    x.to = not absent(r.stepEnd) and r.stepEnd or nil
    t.steps[i] = x
  end
  local sr = not absent(tier.standingRates) and tier.standingRates or {}
  for _, group in ipairs { "amperage", "kva" } do
    for i, r in ipairs(list(sr[group])) do
      local where = "standingRates." .. group .. "[" .. i .. "]"
      local c = rate(r, zone, where)
      c.label = not absent(r.label) and r.label or nil
      c.capacity, c.capacity_unit = capacity_label(c.label)
      c.kind, c.per = M.unit(c.unit_type)
      if c.capacity then c.per = nil end -- a price for that capacity, not per unit of it
      t.standing[#t.standing + 1] = c
    end
  end
  t.assumptions[#t.assumptions + 1] = "tariffSummary carries no fuel-cost adjustment or levy"
  return finish(t)
end

-- M.from_summary(summary [, { pattern = "NON_TIERED" | ..., zone = }]) -> tariff | nil, DECODE error
-- summary: one TariffSummary (tariffSummary query); standing rates labelled "30A" or
-- "6kVA" apply to that contracted capacity only.
---@param s table one TariffSummary (client:tariff_summary)
---@param opts? { pattern?: string, zone?: octopus.ZoneSpec }
---@return octopus.Tariff|nil tariff
---@return octopus.Error|nil err DECODE
function M.from_summary(s, opts)
  if type(s) ~= "table" then
    error("tariff.from_summary: 'summary' must be a TariffSummary table (got " .. type(s) .. ")", 2)
  end
  opts = opts or {}
  return protect(from_summary, s, opts, time.zone(opts.zone))
end

-- M.meti_discounts(credits [, { zone = }]) -> array of discount rates | nil, DECODE error
-- credits: the metiCredits query's list ({ creditType, startDate, endDate, unitPrice });
-- endDate is the last day (inclusive) in the zone.
---@param credits table[] the metiCredits list ({ creditType, startDate, endDate, unitPrice })
---@param opts? { zone?: octopus.ZoneSpec }
---@return octopus.Rate[]|nil discounts
---@return octopus.Error|nil err DECODE
function M.meti_discounts(credits, opts)
  if type(credits) ~= "table" then
    error("tariff.meti_discounts: 'credits' must be a list (got " .. type(credits) .. ")", 2)
  end
  local zone = time.zone(opts and opts.zone)
  return protect(function()
    local out = {}
    for i, c in ipairs(credits) do
      local where = "metiCredits[" .. i .. "]"
      if absent(c.creditType) or c.creditType == "ELECTRICITY" then
        local r = { name = "METI" }
        r.price, r.price_text = decimal(c.unitPrice, where .. ".unitPrice")
        if r.price == nil then bad(where .. " has no unitPrice") end
        r.valid_from = epoch(c.startDate, zone, where .. ".startDate")
        local last = epoch(c.endDate, zone, where .. ".endDate")
        r.valid_to = last and time.day_start(last, zone) + 86400 or nil
        out[#out + 1] = r
      end
    end
    sort_validity(out)
    return out
  end)
end

local LISTS = { steps = true, standing = true, fuel_cost_adjustments = true, levies = true,
                discounts = true, credits = true, assumptions = true }

-- M.with(tariff, extra) -> a new tariff: extra's lists appended (steps, standing,
-- fuel_cost_adjustments, levies, discounts, credits, assumptions), other fields replaced
---@param t octopus.Tariff
---@param extra table lists to append (steps, standing, levies, ...), other fields to replace
---@return octopus.Tariff tariff a new one
function M.with(t, extra)
  if type(t) ~= "table" then error("tariff.with: 'tariff' must be a table (got " .. type(t) .. ")", 2) end
  if type(extra) ~= "table" then error("tariff.with: 'extra' must be a table (got " .. type(extra) .. ")", 2) end
  local out = {}
  for k, v in pairs(t) do
    if LISTS[k] then
      local c = {}
      for i, x in ipairs(v) do c[i] = x end
      out[k] = c
    else
      out[k] = v
    end
  end
  for k, v in pairs(extra) do
    if LISTS[k] then
      if type(v) ~= "table" then error("tariff.with: extra." .. k .. " must be a list", 2) end
      out[k] = out[k] or {}
      for _, x in ipairs(v) do out[k][#out[k] + 1] = x end
    else
      out[k] = v
    end
  end
  for k in pairs(LISTS) do if k ~= "assumptions" then out[k] = out[k] or {} end end
  return finish(out)
end

-- M.supply_point(sp) -> supply value from a GraphQL ElectricitySupplyPoint
-- (spin, readingDateDayOfMonth, contractedCapacity { value unit }, gridOperatorCode if selected)
---@param sp table a GraphQL ElectricitySupplyPoint (spin, readingDateDayOfMonth, contractedCapacity)
---@return octopus.Supply supply
function M.supply_point(sp)
  if type(sp) ~= "table" then
    error("tariff.supply_point: 'supply_point' must be a table (got " .. type(sp) .. ")", 2)
  end
  local out = { spin = not absent(sp.spin) and sp.spin or nil,
    reading_day = not absent(sp.readingDateDayOfMonth) and sp.readingDateDayOfMonth or nil,
    grid_operator_code = not absent(sp.gridOperatorCode) and sp.gridOperatorCode or nil }
  local cc = sp.contractedCapacity
  if not absent(cc) and type(cc) == "table" and not absent(cc.value) then
    local units = { A = "A", KVA = "kVA", KW = "kW", KVA_LESS_THAN = "kVA" }
    local v = cc.value
    out.capacity = { value = tonumber(v), value_text = type(v) == "string" and v or yen.number_text(v),
                     unit = units[cc.unit] or cc.unit }
  end
  return out
end

return M
