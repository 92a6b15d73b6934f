-- spec/money_statement_spec.lua: octopus.money.statement reads a bill node (StatementType
-- fields through an inline fragment, JSON decoded by the core) into numbers, and sets the
-- engine's bill for the same consumption dates beside it.
local core = require "octopus.core"
local statement = require "octopus.money.statement"
local bill = require "octopus.money.bill"
local time = require "octopus.pipeline.time"

local T = function(s) return time.parse(s, "Asia/Tokyo") end

local NODE = core.json.decode [[{"__typename": "StatementType", "id": "301", "billType": "STATEMENT",
  "fromDate": "2026-11-01", "toDate": "2026-11-30", "issuedDate": "2026-12-03", "paymentDueDate": "2026-12-27",
  "consumptionStartDate": "2026-11-01", "consumptionEndDate": "2026-11-30", "status": "CLOSED", "isFinal": false,
  "openingBalance": 0, "closingBalance": -902,
  "totalCharges": {"netTotal": 820, "taxTotal": 82, "grossTotal": 902},
  "totalCredits": {"netTotal": 0, "taxTotal": 0, "grossTotal": 0},
  "transactions": {"edges": [{"node": {"__typename": "Charge", "id": "9", "postedDate": "2026-12-03",
    "title": "Electricity", "amount": 902, "isReversed": false, "amounts": {"net": 820, "tax": 82, "gross": 902}}}]}}]]

describe("octopus.money.statement", function()
  it("reads a statement's amounts and dates as numbers", function()
    local s = assert(statement.from_graphql(NODE))
    assert.same({ net = 820, tax = 82, gross = 902 }, s.total_charges)
    assert.equal(-902, s.closing_balance); assert.equal("CLOSED", s.status); assert.is_false(s.is_final)
    assert.equal(T("2026-11-01"), s.consumption_from); assert.equal(T("2026-12-01"), s.consumption_to)
    assert.equal("Charge", s.transactions[1].kind); assert.equal(902, s.transactions[1].gross)
  end)

  it("prices the statement's consumption dates and says how far apart they are", function()
    local s = assert(statement.from_graphql(NODE))
    local rows = {}
    for i = 1, 30 * 48 do rows[i] = { start_at = T("2026-11-01") + (i - 1) * 1800, value = 0 } end
    local t = { kind = "single_step", steps = { { price_text = "30.00" } },
      standing = { { kind = "day", price_text = "30.07" } },
      fuel_cost_adjustments = { { price_text = "0" } }, levies = { { price_text = "4.18" } } }
    local res = assert(bill.price(rows, t, { period = statement.period(s), now = T("2027-01-01") }))
    -- 30 days x 30.07 = 902.1 -> 902: the statement's 902 to the yen
    assert.equal(0, statement.difference(s, res))
  end)

  it("returns DECODE for amounts that are not whole yen and raises for a non-table", function()
    local bad = core.json.decode [[{"id": "7", "totalCharges": {"grossTotal": "902"}}]]
    local s, err = statement.from_graphql(bad)
    assert.is_nil(s); assert.equal("DECODE", err.code)
    assert.equal("statement 7: totalCharges.grossTotal is not a whole number of yen (902)", err.message)
    local ok, msg = pcall(statement.from_graphql, "x")
    assert.is_false(ok); assert.matches("'node' must be a bill node table", msg)
  end)
end)
