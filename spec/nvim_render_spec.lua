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

  it("shows exact yen grouped with two decimals at least", function()
    assert.are.equal("6,479.20", render.yen_exact(nil, "6479.2"))
    assert.are.equal("-852.28", render.yen_exact(nil, "-852.28"))
    assert.are.equal("1,234.56789", render.yen_exact(nil, "1234.56789"))
    assert.are.equal("61.50", render.yen_exact(61.5))
    assert.are.equal("-", render.yen_exact(nil))
  end)

  -- octopus.money.bill.price's shape (one period; client:bill adds .account)
  local function a_bill(complete)
    local lines = {
      { kind = "standing", label = "基本料金", quantity_text = "30", unit = "day", unit_price_text = "30.75",
        yen = 922.5, yen_text = "922.5" },
      { kind = "energy", label = "step 1 (0-120 kWh)", quantity_text = "120", unit = "kWh",
        unit_price_text = "29.80", yen = 3576, yen_text = "3576" },
      { kind = "fuel_cost_adjustment", label = "fuel-cost adjustment", quantity_text = "120", unit = "kWh",
        unit_price_text = "-2.86", yen = -343.2, yen_text = "-343.2" },
      { kind = "levy", label = "renewable-energy levy", quantity_text = "120", unit = "kWh",
        unit_price_text = "4.18", yen = 501.6, yen_text = "501.6" } }
    return { account = "A-1", total = 4656, missing = 2, assumptions = { "2 half hours missing" }, lines = lines,
      periods = { { from_date = "2026-11-01", to_date = "2026-11-30", days = 30, kwh = 120.2, kwh_text = "120.2",
        complete = complete, charges = 4155, levy = 501, total = 4656, consumption_tax = 423, lines = lines } } }
  end

  it("lists a bill's lines (quantity x unit price, exact yen), its rounded sums and total", function()
    assert.are.same({
      "Bill A-1 2026-11-01 .. 2026-11-30 (30 days): 120.2 kWh",
      "基本料金                 30 day x 30.75    922.50 yen",
      "step 1 (0-120 kWh)      120 kWh x 29.80  3,576.00 yen",
      "fuel-cost adjustment    120 kWh x -2.86   -343.20 yen",
      "renewable-energy levy    120 kWh x 4.18    501.60 yen",
      "-----------------------------------------------------",
      "charges (rounded down)                      4,155 yen",
      "levy (rounded down)                           501 yen",
      "total                                       4,656 yen",
      "(consumption tax included: 423 yen)",
      "note: 2 half hours without a reading (not priced)",
      "note: 2 half hours missing",
    }, render.bill(a_bill(true)))
    assert.are.equal("Bill A-1 2026-11-01 .. 2026-11-30 (30 days, so far): 120.2 kWh",
      render.bill(a_bill(false), { current = true })[1])
    assert.are.equal("Bill A-1 2026-11-01 .. 2026-11-30 (30 days, partly billed): 120.2 kWh",
      render.bill(a_bill(false))[1])
  end)

  it("lists several periods one after the other and their sum; wraps long notes", function()
    local b = a_bill(true)
    b.periods[2] = b.periods[1]
    b.total, b.missing = 9312, 0
    b.assumptions = { ("word "):rep(30) }
    local lines = render.bill(b)
    assert.are.equal(lines[1], lines[12])
    assert.are.equal("", lines[11])
    assert.are.equal("", lines[22])
    assert.are.equal("all 2 periods: 9,312 yen", lines[23])
    assert.are.equal(3, #lines - 23)   -- 156 columns in 78
    for i = 24, #lines do assert.is_true(render.width(lines[i]) <= render.NOTE_WIDTH, lines[i]) end
    assert.matches("^  word", lines[25])
  end)

  it("lists a comparison cheapest first with the difference to the current product", function()
    local lines = render.compare({ months = 12, entries = {
      { code = "A_1", display_name = "グリーン", total = 4000, kwh = 120.5, difference = -1000 },
      { code = "B_2", display_name = "Now", total = 5000, kwh = 120.5, difference = 0, current = true },
      { code = "D_4", display_name = "Dear", total = 6500, kwh = 120.5, difference = 1500 },
      { code = "C_3", display_name = "Broken", err = "NO_PRICE: no unit rate" } } },
      { account = "A-1", range = "2025-12-01 .. 2026-11-30" })
    assert.are.same({
      "Compare A-1: 12 months, 2025-12-01 .. 2026-11-30, 120.500 kWh",
      "  グリーン (A_1)  4,000 yen  -1,000 yen",
      "* Now (B_2)       5,000 yen     current",
      "  Dear (D_4)      6,500 yen  +1,500 yen",
      "  Broken (C_3): NO_PRICE: no unit rate",
      "* your product now; +/- yen: the difference to it over the same half hours",
    }, lines)
  end)

  it("summarises a sync report in two lines", function()
    assert.are.same({
      "Sync A-1: 48 added, 2 revised, 0 unchanged (1 windows, 2 requests)",
      "supply point 0300, 2026-11-01 .. 2026-11-02, store /x/readings.sqlite",
    }, render.sync({ added = 48, revised = 2, unchanged = 0, windows = 1, requests = 2, spin = "0300" },
      { account = "A-1", range = "2026-11-01 .. 2026-11-02", path = "/x/readings.sqlite" }))
  end)

  it("dumps a shape it does not know instead of failing", function()
    assert.are.same({ "Bill", "a: 1", "b:", "  c: x" }, render.bill { a = 1, b = { c = "x" } })
  end)
end)
