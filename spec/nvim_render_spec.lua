-- nvim_render_spec: the plugin's renderers (octopus.nvim.render, pure Lua, every Lua
-- version): the usage bar chart, yen grouping, the bill and comparison shapes of
-- octopus.money.bill, the sync report, and alignment of Japanese labels.
local render = require "octopus.nvim.render"

describe("octopus.nvim.render", function()
  it("groups and rounds yen", function()
    assert.are.equal("1,234,568", render.yen(1234567.5))
    assert.are.equal("-1,000", render.yen(-1000))
    assert.are.equal("999", render.yen(999.4))
    assert.are.equal("0", render.yen(0))
    assert.are.equal("-", render.yen(nil))
  end)

  it("draws one bar per day, the largest day full width, with kWh, yen and a total", function()
    local days = { { key = "2026-11-01", value = 5, cost_estimate = 150.4 },
                   { key = "2026-11-02", value = 10, cost_estimate = 300.2 },
                   { key = "2026-11-03", value = 0, cost_estimate = 0 } }
    local lines = render.usage("A-1", days, { range = "2026-11-01 .. 2026-11-03" })
    assert.are.equal("Usage A-1, 2026-11-01 .. 2026-11-03 (3 days)", lines[1])
    assert.are.equal(5, #lines)
    local bars = {}
    for i = 2, 4 do
      local key, bar, kwh, yen = lines[i]:match("^(%S+) (%S*) +([%d.]+) kWh +([%d,]+) yen$")
      assert(key, lines[i])
      bars[i - 1] = select(2, bar:gsub(render.BAR, ""))
      assert.are.equal(days[i - 1].key, key)
      assert.are.equal(days[i - 1].value, tonumber(kwh))
      assert.are.equal(render.yen(days[i - 1].cost_estimate), yen)
    end
    assert.are.same({ 15, 30, 0 }, bars)
    assert.matches("^total +15%.000 kWh +451 yen$", lines[5])
    assert.are.same({ "Usage A-1 (0 days)", "no readings in this period" }, render.usage("A-1", {}))
  end)

  it("shows the balance", function()
    assert.are.same({ "Account A-1 (ACTIVE)", "Balance: -12,000 yen", "Billing name: 山田 花子" },
      render.balance { number = "A-1", status = "ACTIVE", balance = -12000, billingName = "山田 花子" })
  end)

  it("lists a bill's periods line by line with their totals", function()
    local lines = render.bill { total = 5000, assumptions = { "2 half hours missing" }, periods = { {
      from_date = "2026-11-01", to_date = "2026-11-30", days = 30, kwh = 250, total = 5000,
      lines = { { kind = "standing", label = "基本料金", yen = 900 }, { kind = "energy", label = "Energy", yen = 4100 } } } } }
    assert.are.same({
      "Bill 2026-11-01 .. 2026-11-30 (30 days, 250 kWh)",
      "基本料金         900 yen",
      "Energy         4,100 yen",
      "------------------------",
      "total          5,000 yen",
      "note: 2 half hours missing",
    }, lines)
  end)

  it("lists a comparison cheapest first with the difference to the current product", function()
    local lines = render.compare { entries = {
      { code = "A_1", display_name = "Green", total = 4000, difference = -1000 },
      { code = "B_2", display_name = "Now", total = 5000, difference = 0, current = true },
      { code = "C_3", err = "NO_PRICE: no unit rate" } } }
    assert.are.equal("Comparison", lines[1])
    assert.matches("^Green %(A_1%) %-1,000 +4,000 yen$", lines[2])
    assert.matches("^Now %(B_2%) %* +5,000 yen$", lines[3])
    assert.are.equal("C_3: NO_PRICE: no unit rate", lines[4])
  end)

  it("summarises a sync report", function()
    local lines = render.sync { added = 48, revised = 2, unchanged = 0, windows = 1, spin = "0300" }
    assert.are.equal("Sync: added 48, revised 2, unchanged 0, windows 1", lines[1])
    assert.is_truthy(table.concat(lines, "\n"):find("  spin: 0300", 1, true))
  end)

  it("dumps a shape it does not know instead of failing", function()
    assert.are.same({ "Bill", "a: 1", "b:", "  c: x" }, render.bill { a = 1, b = { c = "x" } })
  end)
end)
