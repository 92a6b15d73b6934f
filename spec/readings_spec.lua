-- spec/readings_spec.lua: octopus.readings — the pure helpers (windows, parse, clip,
-- dedup, day/month aggregation in the client's zone) and client:readings against the
-- sandbox, compared row for row with the sandbox's own dataset (octopus.sandbox.data,
-- same seed), across the API's 1488-row cap.
local helper = require "helper"
local octopus = require "octopus"
local readings = require "octopus.graphql.readings"
local time = require "octopus.pipeline.time"
local cjson = require "cjson"

local JST = time.zone("Asia/Tokyo")

local function row(start_iso, value, cost, version)
  local s = time.parse(start_iso)
  return { startAt = time.format(s, "UTC"), endAt = time.format(s + 1800, "UTC"), value = value,
           costEstimate = cost, version = version or "MONTHLY", consumptionRateBand = "B1", consumptionStep = 1 }
end

describe("octopus.readings helpers", function()
  it("splits a range into windows of 7 days, the last one clipped", function()
    local from, to = time.parse("2026-10-01"), time.parse("2026-11-01")
    local w = readings.windows(from, to)
    assert.equal(5, #w)
    assert.equal(from, w[1].from)
    assert.equal(from + 7 * 86400, w[1].to)
    assert.equal(w[1].to, w[2].from)
    assert.equal(to, w[5].to)
    assert.equal(3 * 86400, w[5].to - w[5].from)
  end)

  it("parses numbers and times, keeping the Decimal strings", function()
    local r = readings.parse(row("2026-10-01T00:00:00+09:00", "0.105", "3.51", "MONTHLY"), JST, "0360")
    assert.equal(time.parse("2026-09-30T15:00:00Z"), r.start_at)
    assert.equal(r.start_at + 1800, r.end_at)
    assert.equal("2026-10-01T00:00:00+09:00", r.start_iso)
    assert.equal("2026-10-01T00:30:00+09:00", r.end_iso)
    assert.equal(0.105, r.value)
    assert.equal("0.105", r.value_text)
    assert.equal(3.51, r.cost_estimate)
    assert.equal("3.51", r.cost_estimate_text)
    assert.equal("MONTHLY", r.version)
    assert.equal("B1", r.band)
    assert.equal(1, r.step)
    assert.equal("0360", r.spin)
  end)

  it("refuses a row without a numeric value or a readable time", function()
    assert.has_error(function() readings.parse(row("2026-10-01T00:00:00+09:00", "n/a", "1"), JST) end,
      "reading has no numeric value (n/a)")
    assert.has_error(function() readings.parse({ startAt = "yesterday", value = "1" }, JST) end,
      "octopus.time: malformed datetime 'yesterday'")
  end)

  it("clips to [from, to) by start time", function()
    local rows = {}
    for i = 0, 5 do rows[#rows + 1] = readings.parse(row(time.format(time.parse("2026-10-01") + i * 1800), "1.000", "1.00"), JST) end
    local out = readings.clip(rows, rows[2].start_at, rows[5].start_at)
    assert.equal(3, #out)
    assert.equal(rows[2], out[1])
    assert.equal(rows[4], out[3])
  end)

  it("de-duplicates by interval keeping the newest version, in time order", function()
    local a = readings.parse(row("2026-10-01T01:00:00+09:00", "1.000", "1.00", "DAILY"), JST)
    local b = readings.parse(row("2026-10-01T01:00:00+09:00", "2.000", "2.00", "MONTHLY"), JST)
    local c = readings.parse(row("2026-10-01T00:30:00+09:00", "3.000", "3.00", "UPDATED"), JST)
    local d = readings.parse(row("2026-10-01T00:30:00+09:00", "4.000", "4.00", "MONTHLY"), JST)
    local e = readings.parse(row("2026-10-01T01:00:00+09:00", "5.000", "5.00", "MONTHLY"), JST)
    local out = readings.dedup { b, a, d, c }
    assert.equal(2, #out)
    assert.equal(c, out[1])                      -- UPDATED beats MONTHLY
    assert.equal(b, out[2])                      -- MONTHLY beats DAILY, whatever the order
    assert.equal(e, readings.dedup { b, e }[1])  -- same version: the later row
  end)

  it("aggregates into days and months of the client's zone", function()
    local rows = {}
    -- 2026-10-31 23:00 JST .. 2026-11-01 01:00 JST: two JST days, two JST months
    for i = 0, 3 do
      rows[#rows + 1] = readings.parse(row(time.format(time.parse("2026-10-31T23:00:00") + i * 1800),
        "0.100", "3.33"), JST)
    end
    local days = readings.by_day(rows, JST)
    assert.equal(2, #days)
    assert.equal("2026-10-31", days[1].key)
    assert.equal(time.parse("2026-10-31"), days[1].from)
    assert.equal(time.parse("2026-11-01"), days[1].to)
    assert.equal(2, days[1].count)
    assert.equal(0.2, days[1].value)
    assert.equal(6.66, days[1].cost_estimate)
    local months = readings.by_month(rows, JST)
    assert.same({ "2026-10", "2026-11" }, { months[1].key, months[2].key })
    assert.equal(time.parse("2026-12-01"), months[2].to)
    local utc_days = readings.by_day(rows, "UTC")    -- all four are 2026-10-31 in UTC
    assert.equal(1, #utc_days)
    assert.equal("2026-10-31", utc_days[1].key)
    assert.equal(0.4, utc_days[1].value)
  end)

  it("cuts a window at the whole day nearest its middle, or at a half hour", function()
    local d = time.parse("2026-10-01")
    assert.equal(time.parse("2026-10-16"), readings.split(d, time.parse("2026-11-01"), JST))
    assert.equal(time.parse("2026-10-02"), readings.split(d, time.parse("2026-10-03T06:00:00"), JST))
    assert.equal(time.parse("2026-10-02T00:00:00+00:00"), readings.split(time.parse("2026-10-01T00:00:00Z"),
      time.parse("2026-10-03T00:00:00Z"), "UTC"))
    assert.equal(time.parse("2026-10-01T12:00:00"), readings.split(d, time.parse("2026-10-02"), JST))
    assert.equal(d + 1800, readings.split(d, d + 3600, JST))
    assert.equal(d + 1800, readings.split(d + 600, d + 2400, JST))  -- unaligned: the boundary inside
    assert.is_nil(readings.split(d, d + 1800, JST))
    assert.is_nil(readings.split(d + 600, d + 1200, JST))
  end)

  it("rounds sums to the Decimals' precision", function()
    local rows = {}
    for i = 0, 9 do rows[#rows + 1] = readings.parse(row(time.format(time.parse("2026-10-01") + i * 1800), "0.1", "0.10"), JST) end
    assert.equal(1, readings.by_day(rows, JST)[1].value)
    assert.equal(1, readings.by_day(rows, JST)[1].cost_estimate)
  end)
end)

describe("client:readings", function()
  local srv, creds, c, ds, spin
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false }
    creds = srv.credentials
    c = octopus.new { api_key = creds.api_key, rest_url = srv.http .. "/v1/", graphql_url = srv.http .. "/v1/graphql/" }
    ds = require("octopus.sandbox.data").new { seed = 1 }
    spin = ds.accounts[creds.accounts[1]].properties[1].supply_points[1].spin
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  local VERSION = { MONTHLY = "MONTHLY", LATEST = "DAILY" }

  local function same_rows(expected, got)
    assert.equal(#expected, #got)
    for i, e in ipairs(expected) do
      local g = got[i]
      assert.equal(e.start_at, g.start_at)
      assert.equal(e.end_at, g.end_at)
      assert.equal(e.value, g.value_text)
      assert.equal(tonumber(e.value), g.value)
      assert.equal(e.cost_estimate, g.cost_estimate_text)
      assert.equal(VERSION[e.version], g.version)
      assert.equal(e.band, g.band)
    end
  end

  it("gives a month equal to the sandbox's own data, row for row", function()
    local progress = {}
    local rows = assert(c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-11-01",
      progress = function(done, total) progress[#progress + 1] = done .. "/" .. total end }):all())
    assert.equal(31 * 48, #rows)
    same_rows(ds:readings(spin, time.parse("2026-10-01"), time.parse("2026-11-01")), rows)
    assert.equal("2026-10-01T00:00:00+09:00", rows[1].start_iso)
    assert.equal("2026-11-01T00:00:00+09:00", rows[#rows].end_iso)
    assert.same({ "1/5", "2/5", "3/5", "4/5", "5/5" }, progress)
    assert.equal(5, srv:count("operations", "HalfHourlyReadings"))
  end)

  it("fetches windows several at a time and still yields them in order, blocking and in a task", function()
    local from, to = time.parse("2026-06-01"), time.parse("2026-09-28")   -- 17 windows of 7 days
    local expected = ds:readings(spin, from, to)
    srv:fault({ match = { operation = "HalfHourlyReadings" }, times = 1000, action = { delay = 0.05 } })
    local progress = {}
    local cc = octopus.new { api_key = creds.api_key, rest_url = srv.http .. "/v1/" }
    local rows = assert(cc:readings(creds.accounts[1], { from = from, to = to, concurrency = 8,
      progress = function(done) progress[#progress + 1] = done end }):all())
    same_rows(expected, rows)
    for i = 1, #progress do assert.equal(i, progress[i]) end           -- in window order
    assert.equal(17, srv:count("operations", "HalfHourlyReadings"))
    local t = cc:spawn(function()
      return assert(cc:readings(creds.accounts[1], { from = from, to = to }):all())
    end)
    same_rows(expected, assert(t:wait()))
    local one = assert(cc:readings(creds.accounts[1], { from = from, to = "2026-07-01", concurrency = 1 }):all())
    same_rows(ds:readings(spin, from, time.parse("2026-07-01")), one)
    cc:close()
  end)

  it("never loses rows past the API's 1488-row cap", function()
    local from, to = "2026-09-15", "2026-10-25"                 -- 40 days = 1920 half hours
    local direct = assert(c:graphql("readings", { accountNumber = creds.accounts[1],
      fromDatetime = c:iso(from), toDatetime = c:iso(to) }))
    local capped = direct.account.properties[1].electricitySupplyPoints[1].halfHourlyReadings
    assert.equal(1488, #capped)                                 -- the API drops the rest silently
    local rows = {}
    for r in c:readings(creds.accounts[1], { from = from, to = to, supply_point = spin }) do rows[#rows + 1] = r end
    assert.equal(40 * 48, #rows)
    same_rows(ds:readings(spin, time.parse(from), time.parse(to)), rows)
    for i = 2, #rows do assert.equal(rows[i - 1].end_at, rows[i].start_at) end   -- no gap, no duplicate
  end)

  it("splits a window that comes back with 1488 rows, a whole month in one window", function()
    local progress = {}
    local rows = assert(c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-11-01", window_days = 31,
      progress = function(done, total) progress[#progress + 1] = done .. "/" .. total end }):all())
    assert.equal(31 * 48, #rows)
    same_rows(ds:readings(spin, time.parse("2026-10-01"), time.parse("2026-11-01")), rows)
    for i = 2, #rows do assert.equal(rows[i - 1].end_at, rows[i].start_at) end
    assert.same({ "1/2", "2/2" }, progress)                     -- the 31 days, then its two halves
    assert.equal(3, srv:count("operations", "HalfHourlyReadings"))
  end)

  -- a 200 answer to the next readings query holding n rows, all at the given start
  local function capped_reply(n, start_iso)
    local raw = {}
    for i = 1, n do
      raw[i] = { startAt = start_iso, endAt = start_iso, value = "0.100", costEstimate = "1.00", version = "MONTHLY",
                 consumptionRateBand = "B1", consumptionStep = 1 }
    end
    local body = cjson.encode { data = { account = { properties = { { electricitySupplyPoints = {
      { spin = spin, halfHourlyReadings = raw } } } } } } }
    srv:fault({ match = { operation = "HalfHourlyReadings" },
      times = 1, action = { status = 200, body = body } })
  end

  it("splits a day-long window at a half hour when it comes back capped", function()
    capped_reply(1488, "2026-10-01T00:00:00+09:00")
    local rows = assert(c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-10-02" }):all())
    same_rows(ds:readings(spin, time.parse("2026-10-01"), time.parse("2026-10-02")), rows)
    assert.equal(2, srv:count("operations", "HalfHourlyReadings"))         -- the faulted answer is not counted
  end)

  it("answers DECODE when one half hour comes back with 1488 rows", function()
    capped_reply(1488, "2026-10-01T00:00:00+09:00")
    local rows, err = c:readings(creds.accounts[1], { from = "2026-10-01T00:00:00", to = "2026-10-01T00:30:00" }):all()
    assert.is_nil(rows)
    assert.equal("DECODE", err.code)
    assert.equal("decode", err.kind)
    assert.equal("a window of one half hour (2026-10-01T00:00:00+09:00) returned 1488 rows, the API's cap is 1488",
      err.message)
  end)

  it("clips to a range that does not fall on window or half-hour bounds", function()
    local rows = assert(c:readings(creds.accounts[1], { from = "2026-10-03T10:10:00+09:00",
      to = "2026-10-11T09:00:00+09:00", window_days = 3 }):all())
    assert.equal("2026-10-03T10:30:00+09:00", rows[1].start_iso)
    assert.equal("2026-10-11T08:30:00+09:00", rows[#rows].start_iso)
    same_rows(ds:readings(spin, time.parse("2026-10-03T10:30:00+09:00"), time.parse("2026-10-11T09:00:00+09:00")), rows)
  end)

  it("reads dates as whole days in the client's zone", function()
    local utc = octopus.new { api_key = creds.api_key, graphql_url = srv.http .. "/v1/graphql/", timezone = "UTC" }
    local rows = assert(utc:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-10-02" }):all())
    assert.equal(48, #rows)
    assert.equal("2026-10-01T00:00:00+00:00", rows[1].start_iso)
    assert.equal(time.parse("2026-10-01T00:00:00Z"), rows[1].start_at)
  end)

  it("aggregates a month of rows into days that match the sandbox's sums", function()
    local rows = assert(c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-10-04" }):all())
    local days = readings.by_day(rows, c.zone)
    assert.equal(3, #days)
    local expected = 0
    for _, r in ipairs(ds:readings(spin, time.parse("2026-10-02"), time.parse("2026-10-03"))) do
      expected = expected + tonumber(r.value)
    end
    assert.equal("2026-10-02", days[2].key)
    assert.equal(48, days[2].count)
    assert.equal(math.floor(expected * 1000 + 0.5) / 1000, days[2].value)
    local months = assert(c:readings(creds.accounts[1], { from = "2026-09-30", to = "2026-10-02" }):by_month())
    assert.same({ "2026-09", "2026-10" }, { months[1].key, months[2].key })
    assert.same({ 48, 48 }, { months[1].count, months[2].count })
    local by_day = assert(c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-10-04" }):by_day())
    assert.same(days, by_day)
  end)

  it("answers FORBIDDEN for another user's account, and raises it in a for loop", function()
    local other = ds.users[2].accounts[1]
    local it = c:readings(other, { from = "2026-10-01", to = "2026-10-02" })
    local r, err = it:next()
    assert.is_nil(r)
    assert.equal("FORBIDDEN", err.code)
    assert.equal("KT-CT-4177", err.graphql_code)
    local ok, raised = pcall(function() for _ in c:readings(other, { from = "2026-10-01", to = "2026-10-02" }) do end end)
    assert.is_false(ok)
    assert.equal("FORBIDDEN", raised.code)
  end)

  it("answers NOT_FOUND for a supply point that is not on the account", function()
    local _, err = c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-10-02",
      supply_point = "0000000000000000000000" }):all()
    assert.equal("NOT_FOUND", err.code)
    assert.equal("supply point 0000000000000000000000 is not on account " .. creds.accounts[1], err.message)
  end)

  it("raises naming the option when the account has several supply points", function()
    local it = c:readings("A-12345678", { from = "2026-10-01", to = "2026-10-02" })
    assert.has_error(function() it:_choose { { spin = "111" }, { spin = "222" } } end,
      "client:readings: account A-12345678 has 2 supply points (111, 222): choose one with the" ..
      " 'supply_point' option")
  end)

  it("rejects bad options by raising", function()
    assert.has_error(function() c:readings(creds.accounts[1], { from = "2026-10-02", to = "2026-10-01" }) end,
      "client:readings: 'from' must be before 'to'")
    for _, bad in ipairs { 32, 0, 1.5, -7 } do
      assert.has_error(function() c:readings(creds.accounts[1], { from = "2026-10-01", to = "2026-12-01", window_days = bad }) end,
        "client:readings: option 'window_days' must be a whole number of days from 1 to 31")
    end
    assert.has_error(function() c:readings(creds.accounts[1], { from = "2026-10-01" }) end,
      "client:readings: options 'from' and 'to' are required")
    assert.has_error(function() c:readings(creds.accounts[1], { from = "2026-10-01", to = "x", spin = "1" }) end,
      "client:readings: unknown option 'spin'")
    assert.has_error(function() c:readings(creds.accounts[1], { from = "nope", to = "2026-10-01" }) end,
      "client:readings: option 'from': octopus.time: malformed datetime 'nope'")
  end)
end)
