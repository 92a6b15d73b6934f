-- spec/money_yen_spec.lua: octopus.money.yen (exact fixed-point units) and
-- octopus.money.period (billing periods from the reading day, in the zone).
local yen = require "octopus.money.yen"
local period = require "octopus.money.period"
local time = require "octopus.pipeline.time"

describe("octopus.money.yen", function()
  it("reads Decimal text digit by digit, exactly", function()
    assert.same({ 298000, true }, { yen.units("29.80", yen.PRICE) })
    assert.same({ -15000, true }, { yen.units("-1.50", yen.PRICE) })
    assert.same({ 5000, true }, { yen.units(".5", yen.PRICE) })
    assert.same({ 3000000, true }, { yen.units("+300", yen.KWH) })
    -- more decimals than the scale: rounded half-even, reported
    assert.same({ 311750, true }, { yen.units("31.175", yen.PRICE) })
    assert.same({ 1234, false }, { yen.units("0.12345", yen.KWH) })
    assert.same({ 1236, false }, { yen.units("0.12355", yen.KWH) })
    assert.same({ 1235, false }, { yen.units("0.123451", yen.KWH) })
    assert.is_nil((yen.units("1e3", yen.KWH)))
    assert.is_nil((yen.units("", yen.KWH)))
    assert.is_nil((yen.units({}, yen.KWH)))
  end)

  it("reads numbers onto the nearest unit and says when they were not on one", function()
    assert.same({ 1000, true }, { yen.units(0.1, yen.KWH) })
    assert.same({ 3000, true }, { yen.units(0.1 + 0.2, yen.KWH) })
    assert.same({ 1, false }, { yen.units(0.00012, yen.KWH) })
  end)

  it("divides exactly with the bill's roundings", function()
    assert.equal(12562, yen.div(1256275000000, yen.AMOUNT, "trunc"))
    assert.equal(-12562, yen.div(-1256275000000, yen.AMOUNT, "trunc"))
    assert.equal(-12563, yen.div(-1256275000000, yen.AMOUNT, "floor"))
    assert.same({ 2, 3, 2, 3, -3 }, { yen.div(5, 2, "floor"), yen.div(5, 2, "half_up"), yen.div(5, 2, "half_even"),
      yen.div(7, 2, "half_even") - 1, yen.div(-5, 2, "half_up") })
    -- near 2^53 the float quotient is corrected: (2^53 - 1) / 3 = 3002399751580330.33..
    assert.equal(3002399751580330, yen.div(9007199254740991, 3))
  end)

  it("refuses products beyond 2^53 rather than lose a yen", function()
    local ok, e = pcall(yen.mul, 2 ^ 40, 2 ^ 14, "a test line")
    assert.is_false(ok); assert.equal("OVERFLOW", e.code)
    assert.matches("a test line is beyond the exact range", tostring(e))
    assert.equal(2 ^ 52, yen.mul(2 ^ 40, 2 ^ 12))
  end)

  it("writes units as trimmed Decimal text", function()
    assert.equal("935.25", yen.text(93525000000, yen.AMOUNT))
    assert.equal("300", yen.text(3000000, yen.KWH))
    assert.equal("-1.5", yen.text(-15000, yen.PRICE))
    assert.equal("0.0001", yen.text(1, yen.KWH))
    assert.equal("29.8", yen.number_text(29.8)); assert.equal("0.3", yen.number_text(0.1 + 0.2))
    assert.equal("-2.50", yen.negate_text("2.50")); assert.equal("2.50", yen.negate_text("-2.50"))
    assert.equal("0", yen.negate_text("0"))
  end)
end)

describe("octopus.money.period", function()
  local T = function(s) return time.parse(s, "Asia/Tokyo") end

  it("uses calendar months in JST without a reading day", function()
    local p = period.of(T("2026-11-30T23:59:00"))
    assert.same({ "2026-11-01", "2026-11-30", 30 }, { p.from_date, p.to_date, p.days })
    -- 2026-11-30T15:00Z is already December in Tokyo
    assert.equal("2026-12-01", period.of(time.parse("2026-11-30T15:00:00Z")).from_date)
    assert.equal("2026-11-01", period.of(time.parse("2026-11-30T15:00:00Z"), nil, "UTC").from_date)
  end)

  it("runs from the reading day to the day before the next one", function()
    local p = period.of(T("2026-11-14T12:00:00"), 15)
    assert.same({ "2026-10-15", "2026-11-14", 31 }, { p.from_date, p.to_date, p.days })
    p = period.of(T("2026-11-15"), 15)
    assert.same({ "2026-11-15", "2026-12-14", 30 }, { p.from_date, p.to_date, p.days })
    -- a reading day past the month's end falls on its last day: Feb 2027 has 28
    p = period.of(T("2027-02-28"), 31)
    assert.same({ "2027-02-28", "2027-03-30", 31 }, { p.from_date, p.to_date, p.days })
    p = period.of(T("2027-02-27"), 31)
    assert.same({ "2027-01-31", "2027-02-27", 28 }, { p.from_date, p.to_date, p.days })
  end)

  it("lists the periods overlapping a range, and the current and previous ones", function()
    local l = period.list(T("2026-10-20"), T("2027-01-05"), 15)
    assert.equal(3, #l)
    assert.same({ "2026-10-15", "2026-11-15", "2026-12-15", "2027-01-14" },
      { l[1].from_date, l[2].from_date, l[3].from_date, l[3].to_date })
    for i = 2, #l do assert.equal(l[i - 1].to, l[i].from) end
    assert.equal("2026-11-15", period.previous(T("2026-12-20"), 15).from_date)
    assert.equal("2026-12-15", period.current(T("2026-12-20"), 15).from_date)
  end)

  it("raises for a reading day that is not a day of the month", function()
    local ok, msg = pcall(period.list, 0, 1, 0)
    assert.is_false(ok); assert.matches("period%.list: reading_day must be a day of the month from 1 to 31", msg)
  end)
end)
