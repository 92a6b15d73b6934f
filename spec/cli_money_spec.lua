-- spec/cli_money_spec.lua: the bill, bills and compare renderers of the CLI fed with the
-- money layer's real results — readings and the product fetched from the sandbox over
-- TLS, priced by octopus.money.bill — so the tables follow the documented shapes.
-- Pending when the money layer is not installed.
local helper = require "helper"
local format = require "octopus.cli.format"
local width = require "octopus.cli.width"
local money_cli = require "octopus.cli.commands.money"

local have_money = pcall(require, "octopus.money.bill") and pcall(require, "octopus.money.tariff")

describe("the CLI's money renderers", function()
  local srv, client, account

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    account = srv.credentials.accounts[1]
    client = require("octopus").new { rest_url = srv.https .. "/v1/", graphql_url = srv.https .. "/v1/graphql/",
      ca_file = srv.ca_file,
      email = srv.credentials.email, password = srv.credentials.password }
  end)
  lazy_teardown(function()
    if client then client:close() end
    srv:stop()
  end)

  local function priced()
    local bill, tariff = require "octopus.money.bill", require "octopus.money.tariff"
    local a = assert(client:account(account))
    local ag = a.properties[1].electricitySupplyPoints[1].agreements[1]
    local plan = assert(tariff.from_agreement(ag))
    local rows = assert(client:readings(account, { from = "2026-10-01", to = "2026-11-01" }):all())
    return bill, plan, rows
  end

  it("renders a bill line by line with its total", function()
    if not have_money then pending("octopus.money is not installed") return end
    local bill, plan, rows = priced()
    local result = assert(bill.price(rows, plan, { period = { from = "2026-10-01", to = "2026-11-01" },
      missing_adjustments = "zero" }))
    local out = money_cli.render_bill(result)
    assert.are.equal(#result.lines, #out.rows)
    assert.is_true(#out.rows >= 2)
    local seen_energy = false
    for i, l in ipairs(result.lines) do
      assert.are.equal(l.yen, out.rows[i].yen)
      if l.kind == "energy" then seen_energy = true end
    end
    assert.is_true(seen_energy)
    assert.are.equal("total " .. format.yen(result.total) .. " yen", out.after[1])
    assert.matches("2026-10-01", out.before[1], 1, true)
    local lines = format.table_lines(out.columns, out.rows)
    local w = width.width(lines[1])
    for _, l in ipairs(lines) do assert.is_true(width.width(l) <= w + 40) end
    local csv = format.csv(out.csv_columns, out.rows)
    assert.matches("^kind,label,band,quantity,unit,unit_price,yen\r\n", csv)
  end)

  it("renders a comparison cheapest first, marking the user's own product", function()
    if not have_money then pending("octopus.money is not installed") return end
    local bill, plan, rows = priced()
    local tariff = require "octopus.money.tariff"
    local other = assert(client.products:get("JPN_KK_SIMPLE_OCTOPUS_24"))
    local other_plan = assert(tariff.from_rest(other, assert(client.products.tariff_for(other, "03"))))
    local cmp = bill.compare(rows, { plan, other_plan }, { period = { from = "2026-10-01", to = "2026-11-01" },
      missing_adjustments = "zero" })
    local out = money_cli.render_compare(cmp)
    assert.are.equal(#cmp.entries, #out.rows)
    for i = 2, #out.rows do
      if out.rows[i].yen and out.rows[i - 1].yen then assert.is_true(out.rows[i - 1].yen <= out.rows[i].yen) end
    end
    local text = table.concat(format.table_lines(out.columns, out.rows), "\n")
    for _, e in ipairs(cmp.entries) do
      assert.matches(e.code, text, 1, true)
      if e.current then assert.matches("(yours)", text, 1, true) end
    end
  end)
end)
