-- octopus.money.tariff_graphql: GraphQL values -> the tariff value (internal; the public
-- functions are octopus.money.tariff's). A Product union member (Decimal strings, the
-- null sentinel, ISO datetimes with offsets), an agreement's add-on rates, and one
-- TariffSummary tier. Raises R.bad on a value that does not read; the caller protects.
local yen = require "octopus.money.yen"
local R = require "octopus.money.tariff_read"

local absent, bad, decimal, list, rate = R.absent, R.bad, R.decimal, R.list, R.rate
local finish, new = R.finish, R.new
local ipairs = ipairs
local tostring = tostring
local TYPENAMES, unit, capacity_label = R.TYPENAMES, R.unit, R.capacity_label
local standing_charge = R.standing_charge

local M = {}

-- M.product(member, zone) -> tariff: a member of the Product union (with __typename)
function M.product(p, zone)
  local kind = TYPENAMES[p.__typename]
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
    local kind2, per = unit(sut)
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

-- an agreement's addonRates: per-kWh add-ons become discounts (or surcharges), others standing
function M.addons(t, list_, zone)
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
        c.kind, c.per = unit(r.unit_type)
        t.standing[#t.standing + 1] = c
      end
    end
  end
end

-- M.summary(summary, opts, zone) -> tariff: one tier (opts.pattern, else the first) of a TariffSummary
function M.summary(s, opts, zone)
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
      c.kind, c.per = unit(c.unit_type)
      if c.capacity then c.per = nil end -- a price for that capacity, not per unit of it
      t.standing[#t.standing + 1] = c
    end
  end
  t.assumptions[#t.assumptions + 1] = "tariffSummary carries no fuel-cost adjustment or levy"
  return finish(t)
end

return M
