-- spec/money_sandbox_spec.lua: the money layer on real answers: the sandbox over TLS
-- gives the account's agreement (GraphQL), the product's tariff (REST) and a month of
-- half-hourly readings; octopus.money.tariff reads both APIs into one value and
-- octopus.money.bill prices the readings on each to the same yen. The readings' kWh are
-- checked against the sandbox's own dataset (same seed), so nothing is priced unseen.
local helper = require "helper"
local octopus = require "octopus"
local tariff = require "octopus.money.tariff"
local bill = require "octopus.money.bill"
local period = require "octopus.money.period"
local products = require "octopus.rest.products"
local yen = require "octopus.money.yen"
local time = require "octopus.pipeline.time"

describe("octopus.money against the sandbox (TLS)", function()
  local srv, c, ds, acct, sp, ag
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    c = octopus.new { api_key = srv.credentials.api_key, rest_url = srv.https .. "/v1/",
      graphql_url = srv.https .. "/v1/graphql/", ca_file = srv.ca_file }
    ds = require("octopus.sandbox.data").new { seed = 1 }
    acct = srv.credentials.accounts[1]
    local a = assert(c:account(acct))
    sp = a.properties[1].electricitySupplyPoints[1]
    ag = sp.agreements[1]
  end)
  lazy_teardown(function() srv:stop() end)

  -- the product's fuel-cost adjustments per month, from the sandbox's dataset (the
  -- GraphQL product carries only the current month's)
  local function fca_history()
    local out = {}
    for key, price in pairs(ds.fca[sp.spin:sub(1, 2)]) do -- the area's (the same on every product)
      local y, m = key:match("^(%d+)%-(%d+)$")
      y, m = tonumber(y), tonumber(m)
      local from = ("%04d-%02d-01"):format(y, m)
      local to = m == 12 and ("%04d-01-01"):format(y + 1) or ("%04d-%02d-01"):format(y, m + 1)
      out[#out + 1] = { price_text = price, valid_from = time.parse(from, "Asia/Tokyo"), valid_to = time.parse(to, "Asia/Tokyo") }
    end
    return out
  end

  it("reads the account's agreement into a tariff equal to the sandbox's prices", function()
    local a = assert(tariff.from_agreement(ag))
    local t = a.tariff
    local want = ds.products[t.code].by_area[sp.spin:sub(1, 2)]
    assert.equal("ElectricitySteppedProduct", t.typename); assert.equal(#want.bands, #t.steps)
    for i, b in ipairs(want.bands) do
      assert.equal(b.price_inc_tax, t.steps[i].price_text)
      assert.equal(b.step_start, t.steps[i].from); assert.equal(b.step_end, t.steps[i].to)
    end
    assert.is_nil(t.steps[#t.steps].to) -- stepEnd null sentinel -> nil
    assert.equal(want.standing_price, t.standing[1].price_text)
    assert.equal(1, #t.fuel_cost_adjustments); assert.equal(1, #t.levies)
    assert.equal(time.parse(ag.validFrom, "Asia/Tokyo"), a.valid_from)
  end)

  it("prices last month's real readings on the GraphQL and the REST tariff to the same yen", function()
    local p = period.previous(os.time())
    local rows = assert(c:readings(acct, { from = p.from, to = p.to }):all())
    assert.equal(p.days * 48, #rows)
    -- the month's kWh, summed exactly from the dataset's Decimal text
    local units = 0
    for _, r in ipairs(ds:readings(sp.spin, p.from, p.to)) do units = units + assert(yen.units(r.value, yen.KWH)) end
    local a = assert(tariff.from_agreement(ag))
    local g = tariff.with(a.tariff, { fuel_cost_adjustments = fca_history(a.tariff.code) })
    local detail = assert(c.products:get(a.tariff.code))
    local r = assert(tariff.from_rest(detail, assert(products.tariff_for(detail, sp.spin:sub(1, 2)))))
    r = tariff.with(r, { fuel_cost_adjustments = g.fuel_cost_adjustments, levies = g.levies })
    local bg = assert(bill.price(rows, { tariff = g, valid_from = a.valid_from }, { from = p.from, to = p.to }))
    local br = assert(bill.price(rows, r, { from = p.from, to = p.to }))
    assert.equal(yen.text(units, yen.KWH), bg.kwh_text); assert.equal(0, bg.missing)
    assert.is_true(bg.periods[1].complete); assert.equal(rows[1].spin, bg.spin)
    assert.equal(bg.total, br.total)
    -- the lines explain the total: charges and levy are their lines rounded down
    local charges, levy = 0, 0
    for _, l in ipairs(bg.periods[1].lines) do
      local u = assert(yen.units(l.yen_text, yen.AMOUNT))
      if l.kind == "levy" then levy = levy + u else charges = charges + u end
    end
    assert.equal(yen.div(charges, yen.AMOUNT, "trunc"), bg.periods[1].charges)
    assert.equal(yen.div(levy, yen.AMOUNT, "trunc"), bg.periods[1].levy)
    assert.equal(bg.periods[1].charges + bg.periods[1].levy, bg.total)
  end)

  it("compares the area's products on the same readings, today's marked", function()
    local p = period.previous(os.time())
    local rows = assert(c:readings(acct, { from = p.from, to = p.to }):all())
    local a = assert(tariff.from_agreement(ag))
    local plans = {}
    for item in c.products:list() do
      local detail = assert(c.products:get(item.code, { tariffs_active_at = p.from }))
      local tr = products.tariff_for(detail, sp.spin:sub(1, 2))
      if tr then
        local t = assert(tariff.from_rest(detail, tr))
        plans[#plans + 1] = tariff.with(t, { fuel_cost_adjustments = fca_history(item.code), levies = a.tariff.levies })
      end
    end
    assert.is_true(#plans >= 2)
    local cmp = bill.compare(rows, plans, { from = p.from, to = p.to, current = a.tariff.code })
    assert.equal(#plans, #cmp.entries)
    assert.equal(a.tariff.code, cmp.current.code); assert.equal(0, cmp.current.difference)
    for i = 2, #cmp.entries do assert.is_true(cmp.entries[i - 1].total <= cmp.entries[i].total) end
    for _, e in ipairs(cmp.entries) do assert.equal(e.total - cmp.current.total, e.difference) end
  end)
end)
