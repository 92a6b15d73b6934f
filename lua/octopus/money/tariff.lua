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
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"
local yen = require "octopus.money.yen"
local R = require "octopus.money.tariff_read"
local from_graphql = require "octopus.money.tariff_graphql"
local from_rest = require "octopus.money.tariff_rest"

local type, pairs, ipairs, tostring, tonumber, error = type, pairs, ipairs, tostring, tonumber, error
local absent, bad, decimal, epoch, list, protect = R.absent, R.bad, R.decimal, R.epoch, R.list, R.protect
local finish, sort_validity = R.finish, R.sort_validity

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

M.TYPENAMES, M.TYPENAME_OF, M.UNIT_TYPES = R.TYPENAMES, R.TYPENAME_OF, R.UNIT_TYPES

-- M.unit(unit_type) -> kind, per (kind nil when the unit type is not understood)
---@param u string a standing charge's unitType
---@return "day"|"month"|nil kind nil when not understood
---@return "A"|"kVA"|"kW"|nil per
function M.unit(u) return R.unit(u) end

local function check_product(p, name, level)
  if type(p) ~= "table" then
    error(name .. ": 'product' must be a GraphQL Product table (got " .. type(p) .. ")", level + 1)
  end
  if not R.TYPENAMES[p.__typename] then
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
  local v, err = protect(from_graphql.product, product, zone)
  return v, err
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
    local t = from_graphql.product(a.product, zone)
    from_graphql.addons(t, list(a.addonRates), zone)
    finish(t)
    return { id = not absent(a.id) and a.id or nil, tariff = t,
      valid_from = epoch(a.validFrom, zone, "agreement.validFrom"),
      valid_to = epoch(a.validTo, zone, "agreement.validTo") }
  end)
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
  return protect(from_rest.tariff, detail, tr, opts, time.zone(opts.zone))
end

-- "30A" -> 30, "A"; "6kVA" -> 6, "kVA"
---@param label any "30A", "6kVA"
---@return number|nil value
---@return string|nil unit "A", "kVA", "kW"
function M.capacity_label(label) return R.capacity_label(label) end

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
  return protect(from_graphql.summary, s, opts, time.zone(opts.zone))
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
