-- spec/money_tariff_spec.lua: octopus.money.tariff turns every Product union member, an
-- agreement, a REST tariff and a tariffSummary into the one documented value; the JSON
-- is decoded by the core (so stepEnd really is the null sentinel), then priced.
local core = require "octopus.core"
local tariff = require "octopus.money.tariff"
local bill = require "octopus.money.bill"
local time = require "octopus.pipeline.time"

local json = core.json
local T = function(s) return time.parse(s, "Asia/Tokyo") end

local STEPPED = json.decode [[{
  "__typename": "ElectricitySteppedProduct", "code": "JPN_KK_OCTOPUS_MAY_26", "displayName": "Green Octopus",
  "standingChargeUnitType": null, "standingChargePricePerDay": "31.17", "standingCharges": [],
  "consumptionCharges": [
    {"band": "CONSUMPTION_STEPPED_03_02", "pricePerUnitIncTax": "36.40", "pricePerUnit": "33.09",
     "stepStart": 120, "stepEnd": 300, "validFrom": "2026-05-01T00:00:00+09:00", "validTo": null},
    {"band": "CONSUMPTION_STEPPED_03_01", "pricePerUnitIncTax": "29.80", "stepStart": 0, "stepEnd": 120,
     "validFrom": "2026-04-30T15:00:00+00:00", "validTo": null},
    {"band": "CONSUMPTION_STEPPED_03_03", "pricePerUnitIncTax": "40.49", "stepStart": 300, "stepEnd": null,
     "validFrom": "2026-05-01T00:00:00+09:00", "validTo": null}],
  "fuelCostAdjustment": {"pricePerUnitIncTax": "-1.78", "validFrom": "2026-11-01T00:00:00+09:00",
                         "validTo": "2026-12-01T00:00:00+09:00"},
  "renewableEnergyLevy": {"pricePerUnitIncTax": "4.18", "validFrom": "2026-05-01T00:00:00+09:00",
                          "validTo": "2027-05-01T00:00:00+09:00"}
}]]

describe("octopus.money.tariff.from_graphql", function()
  it("reads a stepped product: Decimal text kept, stepEnd null as nil, validity as epochs", function()
    local t = assert(tariff.from_graphql(STEPPED))
    assert.equal("stepped", t.kind); assert.equal("ElectricitySteppedProduct", t.typename); assert.equal("graphql", t.source)
    assert.equal("JPN_KK_OCTOPUS_MAY_26", t.code); assert.equal("kWh", t.unit); assert.equal("electricity", t.fuel)
    -- sorted by validity then step start; both validFrom spellings are the same instant
    assert.equal(3, #t.steps)
    assert.same({ 0, 120, 300 }, { t.steps[1].from, t.steps[2].from, t.steps[3].from })
    assert.equal(120, t.steps[1].to); assert.is_nil(t.steps[3].to)
    assert.equal(29.8, t.steps[1].price); assert.equal("29.80", t.steps[1].price_text)
    assert.equal("33.09", t.steps[2].price_exc_text)
    assert.equal(T("2026-05-01"), t.steps[1].valid_from); assert.equal(T("2026-05-01"), t.steps[3].valid_from)
    assert.is_nil(t.steps[1].valid_to)
    -- no standingCharges list: the per-day price becomes one daily charge
    assert.equal(1, #t.standing); assert.equal("day", t.standing[1].kind); assert.equal("31.17", t.standing[1].price_text)
    assert.equal("-1.78", t.fuel_cost_adjustments[1].price_text)
    assert.equal(T("2026-12-01"), t.fuel_cost_adjustments[1].valid_to)
    assert.equal(4.18, t.levies[1].price)
  end)

  it("reads standing charges by unit type, with thresholds", function()
    local p = json.decode [[{"__typename": "ElectricitySingleStepProduct", "code": "S", "displayName": "S",
      "standingChargePricePerDay": "99.00",
      "standingCharges": [
        {"pricePerUnitIncTax": "1.04", "pricePerUnit": "0.95", "unitType": "AMPERE_DAYS", "threshold": null},
        {"pricePerUnitIncTax": "522.58", "pricePerUnit": "475.07", "unitType": "MONTHS_ON_SUPPLY", "threshold": "15"},
        {"pricePerUnitIncTax": "300", "pricePerUnit": "300", "unitType": "KVA_CAPACITY_MONTHS"},
        {"pricePerUnitIncTax": "5", "pricePerUnit": "5", "unitType": "FORTNIGHTLY_BUSHELS"}],
      "consumptionCharges": [{"pricePerUnitIncTax": "33.05", "pricePerUnit": "30.05"}],
      "fuelCostAdjustment": null, "renewableEnergyLevy": null}]]
    local t = assert(tariff.from_graphql(p))
    assert.equal("single_step", t.kind)
    assert.equal(1, #t.steps); assert.equal(0, t.steps[1].from); assert.is_nil(t.steps[1].to)
    -- standingChargePricePerDay is not added on top of the list
    assert.equal(4, #t.standing)
    assert.same({ "day", "A" }, { t.standing[1].kind, t.standing[1].per })
    assert.is_nil(t.standing[1].threshold)
    assert.same({ "month", nil }, { t.standing[2].kind, t.standing[2].per })
    assert.equal(15, t.standing[2].threshold); assert.equal("15", t.standing[2].threshold_text)
    assert.same({ "month", "kVA" }, { t.standing[3].kind, t.standing[3].per })
    assert.is_nil(t.standing[4].kind); assert.equal("FORTNIGHTLY_BUSHELS", t.standing[4].unit_type)
    assert.same({}, t.fuel_cost_adjustments); assert.same({}, t.levies)
    -- the engine refuses the unit it cannot price rather than guess
    local rows = { { start_at = T("2026-11-01"), value = 1 } }
    local r, err = bill.price(rows, t, { capacity = { value = 6, unit = "kVA" }, now = T("2027-01-01"),
      missing_adjustments = "zero", from = "2026-11-01", to = "2026-11-02" })
    assert.is_nil(r); assert.equal("UNSUPPORTED_UNIT", err.code)
  end)

  it("reads a FIT product as credits and a gas product as whole-volume tiers", function()
    local fit = assert(tariff.from_graphql(json.decode [[{"__typename": "ElectricityFitProduct", "code": "FIT",
      "displayName": "FIT", "generationCredits": [{"pricePerUnitIncTax": "16.00", "pricePerUnit": "16.00",
      "validFrom": "2026-04-01T00:00:00+09:00", "validTo": null}]}]]))
    assert.equal("fit", fit.kind); assert.equal("ElectricityFitProduct", fit.typename)
    assert.equal("16.00", fit.credits[1].price_text); assert.same({}, fit.steps)
    -- 10 kWh generated at 16.00 = 160 yen credited
    local rows = {}
    for i = 1, 40 do rows[i] = { start_at = T("2026-11-01") + (i - 1) * 1800, value = 0.25 } end
    local r = assert(bill.price(rows, fit, { now = T("2027-01-01"), from = "2026-11-01", to = "2026-12-01" }))
    assert.equal(160, r.periods[1].credit); assert.equal(-160, r.total)

    local gas = assert(tariff.from_graphql(json.decode [[{"__typename": "GasTieredProduct", "code": "GAS",
      "displayName": "Gas", "standingChargeUnitType": "MONTHS_ON_SUPPLY",
      "standingCharges": [{"pricePerUnitIncTax": "759.00", "pricePerUnit": "690.00", "tierStart": 0, "tierEnd": 20}],
      "consumptionCharges": [{"pricePerUnitIncTax": "145.31", "pricePerUnit": "132.10", "tierStart": 0, "tierEnd": 20},
                             {"pricePerUnitIncTax": "130.46", "pricePerUnit": "118.60", "tierStart": 20, "tierEnd": null}]}]]))
    assert.equal("gas_tiered", gas.kind); assert.equal("m3", gas.unit); assert.equal("gas", gas.fuel)
    assert.equal(20, gas.steps[2].from); assert.is_nil(gas.steps[2].to)
    assert.same({ "month", 0, 20 }, { gas.standing[1].kind, gas.standing[1].tier_from, gas.standing[1].tier_to })
  end)

  it("raises for a product without __typename and returns DECODE for a malformed Decimal", function()
    local ok, msg = pcall(tariff.from_graphql, { code = "X" })
    assert.is_false(ok); assert.matches("'product' must name its union member in __typename", msg)
    local t, err = tariff.from_graphql(json.decode [[{"__typename": "ElectricitySingleStepProduct",
      "consumptionCharges": [{"pricePerUnitIncTax": "twelve"}]}]])
    assert.is_nil(t); assert.equal("DECODE", err.code)
    assert.matches("consumptionCharges%[1%]%.pricePerUnitIncTax is not a Decimal", err.message)
  end)
end)

describe("octopus.money.tariff.from_agreement, meti_discounts, supply_point, with", function()
  it("reads an agreement with its validity and per-kWh add-ons", function()
    local a = assert(tariff.from_agreement(json.decode([[{"id": 7, "validFrom": "2026-05-01T00:00:00+09:00",
      "validTo": null, "addonRates": [{"addon": {"title": "EV discount", "band": "EV"},
        "productRate": {"unitType": "KWH_CONSUMPTION", "pricePerUnit": "-1.00",
          "validFrom": "2026-05-01T00:00:00+09:00", "validTo": null}}], "product": ]] ..
      json.encode(STEPPED) .. "}")))
    assert.equal(7, a.id); assert.equal(T("2026-05-01"), a.valid_from); assert.is_nil(a.valid_to)
    assert.equal("stepped", a.tariff.kind)
    local d = a.tariff.discounts[1]
    -- an add-on price of -1.00 per kWh is a credit of 1.00
    assert.equal("EV discount", d.name); assert.equal("1.00", d.price_text); assert.equal(1, d.price)
  end)

  it("returns DECODE for an agreement without a product", function()
    local a, err = tariff.from_agreement(json.decode [[{"id": 8, "validFrom": null, "product": null}]])
    assert.is_nil(a); assert.equal("DECODE", err.code); assert.equal("agreement 8 has no product", err.message)
  end)

  it("reads METI credits as discounts valid through their last day", function()
    local d = assert(tariff.meti_discounts(json.decode [=[[
      {"creditType": "ELECTRICITY", "startDate": "2026-01-01", "endDate": "2026-01-31", "unitPrice": "2.50"},
      {"creditType": "GAS", "startDate": "2026-01-01", "endDate": "2026-01-31", "unitPrice": "10.00"}]]=]))
    assert.equal(1, #d); assert.equal("METI", d[1].name); assert.equal("2.50", d[1].price_text)
    assert.equal(T("2026-01-01"), d[1].valid_from); assert.equal(T("2026-02-01"), d[1].valid_to)
  end)

  it("reads a supply point's reading day and contracted capacity", function()
    local s = tariff.supply_point(json.decode [[{"spin": "0300000000000000000001", "readingDateDayOfMonth": 15,
      "contractedCapacity": {"value": "30", "unit": "A"}}]])
    assert.equal(15, s.reading_day); assert.same({ value = 30, value_text = "30", unit = "A" }, s.capacity)
    local none = tariff.supply_point(json.decode [[{"spin": "x", "readingDateDayOfMonth": null, "contractedCapacity": null}]])
    assert.is_nil(none.reading_day); assert.is_nil(none.capacity)
  end)

  it("adds rates with `with` without touching the original", function()
    local t = assert(tariff.from_graphql(STEPPED))
    local t2 = tariff.with(t, { fuel_cost_adjustments = { { price_text = "2.00", valid_from = T("2026-10-01"),
      valid_to = T("2026-11-01") } } })
    assert.equal(1, #t.fuel_cost_adjustments); assert.equal(2, #t2.fuel_cost_adjustments)
    assert.equal("2.00", t2.fuel_cost_adjustments[1].price_text) -- sorted by validity
  end)
end)

describe("octopus.money.tariff from REST and tariffSummary", function()
  local detail = json.decode [[{"code": "JPN_KK_OCTOPUS_MAY_26", "display_name": "Green Octopus",
    "available_from": "2026-05-01T00:00:00+09:00", "available_to": null}]]
  local rest = json.decode [[{"code": "E-1R-JPN_KK_OCTOPUS_MAY_26-03", "standing_charge_inc_vat": 31.17,
    "standing_charge_exc_vat": 28.34, "standard_unit_rate_inc_vat": 29.8,
    "unit_rate_steps": [
      {"band": "CONSUMPTION_STEPPED_03_01", "step_start": 0, "step_end": 120, "value_inc_vat": 29.8, "value_exc_vat": 27.09},
      {"band": "CONSUMPTION_STEPPED_03_02", "step_start": 120, "step_end": 300, "value_inc_vat": 36.4, "value_exc_vat": 33.09},
      {"band": "CONSUMPTION_STEPPED_03_03", "step_start": 300, "step_end": null, "value_inc_vat": 40.49, "value_exc_vat": 36.81}]}]]

  it("gives the same shape as GraphQL and the same bill", function()
    local r = assert(tariff.from_rest(detail, rest))
    local g = assert(tariff.from_graphql(STEPPED))
    assert.equal("rest", r.source); assert.equal(g.kind, r.kind); assert.equal(g.typename, r.typename)
    assert.equal("E-1R-JPN_KK_OCTOPUS_MAY_26-03", r.tariff_code); assert.equal(T("2026-05-01"), r.available_from)
    for i = 1, 3 do
      assert.equal(g.steps[i].from, r.steps[i].from); assert.equal(g.steps[i].to, r.steps[i].to)
      assert.equal(g.steps[i].price, r.steps[i].price)
    end
    assert.equal("29.8", r.steps[1].price_text) -- a REST number written as Decimal text
    assert.equal("day", r.standing[1].kind); assert.equal(31.17, r.standing[1].price)
    -- REST has no adjustments: add the GraphQL ones, then both price November alike
    r = tariff.with(r, { fuel_cost_adjustments = g.fuel_cost_adjustments, levies = g.levies })
    local rows = {}
    for i = 1, 30 * 48 do rows[i] = { start_at = T("2026-11-01") + (i - 1) * 1800, value = 0.25 } end
    local opts = { now = T("2027-01-01") }
    local br, bg = assert(bill.price(rows, r, opts)), assert(bill.price(rows, g, opts))
    -- 30 x 31.17 = 935.1; 3576 + 6552 + 60 x 40.49 = 12557.4; 360 x -1.78 = -640.8 -> 12851.7 -> 12851
    -- levy 360 x 4.18 = 1504.8 -> 1504; total 14355
    assert.equal(14355, bg.total); assert.equal(bg.total, br.total)
    assert.truthy(table.concat(br.assumptions, "\n"):find("REST tariff without its charge history", 1, true))
  end)

  it("reads REST charge rows with their validity", function()
    local rows = json.decode [=[[
      {"value_inc_vat": 29.8, "value_exc_vat": 27.09, "valid_from": "2026-05-01T00:00:00+09:00", "valid_to": null,
       "band": "B1", "step_start": 0, "step_end": 120},
      {"value_inc_vat": 36.4, "value_exc_vat": 33.09, "valid_from": "2026-05-01T00:00:00+09:00", "valid_to": null,
       "band": "B2", "step_start": 120, "step_end": null}]]=]
    local sc = json.decode [=[[{"value_inc_vat": 31.17, "value_exc_vat": 28.34,
      "valid_from": "2026-05-01T00:00:00+09:00", "valid_to": "2026-12-01T00:00:00+09:00"}]]=]
    local t = assert(tariff.from_rest(detail, rest, { unit_rates = rows, standing_charges = sc }))
    assert.equal("stepped", t.kind); assert.equal(2, #t.steps); assert.is_nil(t.steps[2].to)
    assert.equal(T("2026-12-01"), t.standing[1].valid_to)
    local single = assert(tariff.from_rest(nil, { code = "E", standard_unit_rate_inc_vat = 33.05, standing_charge_inc_vat = 30 }))
    assert.equal("single_step", single.kind); assert.equal("33.05", single.steps[1].price_text)
  end)

  it("reads a tariffSummary: standing rates labelled with a capacity apply to that capacity", function()
    local s = json.decode [[{"code": "JPN_KK_SIMPLE_OCTOPUS_24", "displayName": "Simple Octopus", "gridOperatorCode": "03",
      "tiers": [{"contractCapacityPattern": "NON_TIERED",
        "consumptionRates": [{"band": "B", "pricePerUnitIncTax": "33.05", "stepStart": 0, "stepEnd": null}],
        "standingRates": {"amperage": [{"label": "30A", "unitType": "DAYS_ON_SUPPLY", "pricePerUnitIncTax": "31.18"},
                                       {"label": "40A", "unitType": "DAYS_ON_SUPPLY", "pricePerUnitIncTax": "41.57"}],
                          "kva": [{"label": "6kVA", "unitType": "DAYS_ON_SUPPLY", "pricePerUnitIncTax": "62.35"}]}}]}]]
    local t = assert(tariff.from_summary(s))
    assert.equal("single_step", t.kind); assert.equal("03", t.grid_operator_code); assert.equal(3, #t.standing)
    assert.same({ 30, "A", "day" }, { t.standing[1].capacity, t.standing[1].capacity_unit, t.standing[1].kind })
    assert.same({ 6, "kVA" }, { t.standing[3].capacity, t.standing[3].capacity_unit })
    local rows = {}
    for i = 1, 30 * 48 do rows[i] = { start_at = T("2026-11-01") + (i - 1) * 1800, value = 0 } end
    local b = assert(bill.price(rows, t, { now = T("2027-01-01"), capacity = 40 }))
    -- 30 days x 41.57 (the 40A rate) = 1247.1 -> 1247
    assert.equal(1247, b.total)
  end)
end)
