-- octopus.time: ISO 8601 with offsets, fixed zones, JST windows; TZ-independent.
local time = require "octopus.pipeline.time"

local function iso(t, z) return time.format(t, z or "Asia/Tokyo") end

-- the whole message, positioned at the caller's line (helper.raises checks the position)
local helper = require "helper"
local function raises(fn, msg)
  helper.raises(msg, fn)
  local _, err = pcall(fn)
  assert.are.equal(msg, (err:gsub("^[^:]+:%d+: ", "")))
end

describe("octopus.pipeline.time", function()
  describe("zones", function()
    it("knows Asia/Tokyo as a fixed +09:00 offset", function()
      local z = time.zone("Asia/Tokyo")
      assert.are.equal("Asia/Tokyo", z.name)
      assert.are.equal(9 * 3600, z.offset)
    end)

    it("knows UTC, Etc/UTC and explicit offsets", function()
      assert.are.equal(0, time.zone("UTC").offset)
      assert.are.equal(0, time.zone("Etc/UTC").offset)
      assert.are.equal(-(5 * 3600 + 30 * 60), time.zone("-05:30").offset)
      assert.are.equal("+05:45", time.zone("+0545").name)
    end)

    it("defaults to Asia/Tokyo and passes a zone object through", function()
      local z = time.zone()
      assert.are.equal("Asia/Tokyo", z.name)
      assert.are.equal(z, time.zone(z))
    end)

    it("refuses a zone with daylight saving rules, naming it", function()
      raises(function() time.zone("Europe/London") end,
        "octopus.time: unknown zone 'Europe/London' (fixed offsets only: Asia/Tokyo, UTC, +HH:MM)")
    end)

    it("refuses an offset beyond 18 hours and a non-string zone", function()
      raises(function() time.zone("+19:00") end,
        "octopus.time: unknown zone '+19:00' (fixed offsets only: Asia/Tokyo, UTC, +HH:MM)")
      raises(function() time.zone(9) end, "octopus.time: zone must be a string (got number)")
    end)
  end)

  describe("parse", function()
    it("reads an ISO string with an offset or Z to the same instant", function()
      local a = time.parse("2026-11-25T21:00:00+09:00")
      assert.are.equal(a, time.parse("2026-11-25T12:00:00Z"))
      assert.are.equal(a, time.parse("2026-11-25T12:00:00+00:00", "UTC"))
      assert.are.equal(a, time.parse("2026-11-25T21:00:00+0900"))
      assert.are.equal(a, time.parse("2026-11-25 12:00:00z"))
      assert.are.equal(1795608000, a)
    end)

    it("keeps fractional seconds and returns whole epochs as integers", function()
      assert.are.equal(1795608000.123, time.parse("2026-11-25T21:00:00.123+09:00"))
      if math.type then assert.are.equal("integer", math.type(time.parse("2026-11-25T21:00:00+09:00"))) end
    end)

    it("reads a date-only string as the start of that day in the zone", function()
      assert.are.equal(time.parse("2026-10-31T15:00:00Z"), time.parse("2026-11-01"))
      assert.are.equal(time.parse("2026-11-01T00:00:00Z"), time.parse("2026-11-01", "UTC"))
    end)

    it("reads a naive datetime in the given zone", function()
      assert.are.equal(time.parse("2026-11-01T00:00:00+09:00"), time.parse("2026-11-01T00:00:00"))
      assert.are.equal(time.parse("2026-11-01T00:00:00-05:00"), time.parse("2026-11-01T00:00", "-05:00"))
    end)

    it("passes epoch numbers through and reads date tables in the zone", function()
      assert.are.equal(12345, time.parse(12345))
      assert.are.equal(time.parse("2026-02-03T04:05:06+09:00"),
        time.parse({ year = 2026, month = 2, day = 3, hour = 4, min = 5, sec = 6 }))
      assert.are.equal(time.parse("2026-02-03"), time.parse({ year = 2026, month = 2, day = 3 }))
    end)

    it("accepts 29 February only in leap years", function()
      assert.are.equal(time.parse("2024-03-01") - 86400, time.parse("2024-02-29"))
      assert.are.equal(time.parse("2000-03-01") - 86400, time.parse("2000-02-29"))
      raises(function() time.parse("2026-02-29") end, "octopus.time: malformed datetime '2026-02-29'")
      raises(function() time.parse("1900-02-29") end, "octopus.time: malformed datetime '1900-02-29'")
    end)

    it("rejects out-of-range fields with the offending text", function()
      for _, s in ipairs { "2026-13-01", "2026-00-10", "2026-04-31", "2026-11-01T24:00:00+09:00",
                           "2026-11-01T10:60:00Z", "2026-11-01T10:00:61Z", "2026-11-01T10:00:00+25:00" } do
        raises(function() time.parse(s) end, "octopus.time: malformed datetime '" .. s .. "'")
      end
    end)

    it("rejects text that is not ISO 8601", function()
      for _, s in ipairs { "", "yesterday", "2026-1-01", "2026-11-01T10", "2026-11-01T10:00:00 JST",
                           "2026-11-01T10:00:00+09:00 " } do
        raises(function() time.parse(s) end, "octopus.time: malformed datetime '" .. s .. "'")
      end
    end)

    it("rejects bad date tables, NaN and other types", function()
      raises(function() time.parse({ year = 2026, month = 2, day = 30 }) end,
        "octopus.time: date table field 'day' is invalid (30)")
      raises(function() time.parse({ month = 2, day = 1 }) end,
        "octopus.time: date table field 'year' is invalid (nil)")
      raises(function() time.parse({ year = 2026, month = 1, day = 1, sec = -1 }) end,
        "octopus.time: date table field 'sec' is invalid (-1)")
      raises(function() time.parse(0 / 0) end, "octopus.time: epoch must be a finite number")
      raises(function() time.parse(true) end, "octopus.time: cannot read a datetime from a boolean")
    end)
  end)

  describe("format", function()
    it("writes the zone's offset, +00:00 for UTC", function()
      assert.are.equal("2026-11-25T21:00:00+09:00", iso(1795608000))
      assert.are.equal("2026-11-25T12:00:00+00:00", iso(1795608000, "UTC"))
      assert.are.equal("2026-11-25T06:30:00-05:30", iso(1795608000, "-05:30"))
      assert.are.equal("1970-01-01T00:00:00+00:00", iso(0, "UTC"))
    end)

    it("keeps fractional seconds to the millisecond", function()
      assert.are.equal("2026-11-25T21:00:00.123+09:00", iso(1795608000.123))
      assert.are.equal("1969-12-31T23:59:58.500+00:00", iso(-1.5, "UTC"))
    end)

    it("round-trips whatever parse accepts", function()
      assert.are.equal("2026-11-01T00:00:00+09:00", iso("2026-11-01"))
      assert.are.equal("2026-11-25T21:00:00+09:00", iso("2026-11-25T12:00:00Z"))
    end)

    it("refuses a year ISO 8601 cannot hold", function()
      raises(function() time.format(-62167219201, "UTC") end,
        "octopus.time: year -1 cannot be written in ISO 8601")
    end)
  end)

  describe("date", function()
    it("gives calendar fields in the zone with Monday as weekday 1", function()
      local d = time.date("2024-02-29T12:34:56+09:00")
      assert.are.same({ year = 2024, month = 2, day = 29, hour = 12, min = 34, sec = 56,
                        wday = 4, yday = 60 }, d)
      assert.are.equal(1, time.date("2026-11-30T00:00:00+09:00").wday)
      assert.are.equal(7, time.date("2026-11-29T23:59:59+09:00").wday)
      assert.are.equal(366, time.date("2024-12-31").yday)
    end)
  end)

  describe("windows", function()
    it("starts a JST day at 15:00Z the day before", function()
      local from, to = time.day_window("2026-11-25T12:00:00Z")
      assert.are.equal(time.parse("2026-11-24T15:00:00Z"), from)
      assert.are.equal(time.parse("2026-11-25T15:00:00Z"), to)
      assert.are.equal(time.parse("2026-11-25T15:00:00Z"), time.day_start("2026-11-25T15:00:00Z"))
    end)

    it("gives month windows across the year end", function()
      local from, to = time.month_window("2026-12-31T23:59:59+09:00")
      assert.are.equal("2026-12-01T00:00:00+09:00", iso(from))
      assert.are.equal("2027-01-01T00:00:00+09:00", iso(to))
      from, to = time.month_window("2026-12-31T15:00:00Z")   -- already January in Tokyo
      assert.are.equal("2027-01-01T00:00:00+09:00", iso(from))
      assert.are.equal("2027-02-01T00:00:00+09:00", iso(to))
    end)

    it("adds months, clamping the day to the target month", function()
      assert.are.equal("2024-02-29T10:00:00+09:00", iso(time.add_months("2024-01-31T10:00:00+09:00", 1)))
      assert.are.equal("2025-02-28T10:00:00+09:00", iso(time.add_months("2025-01-31T10:00:00+09:00", 1)))
      assert.are.equal("2025-11-30T10:00:00+09:00", iso(time.add_months("2026-01-31T10:00:00+09:00", -2)))
      assert.are.equal("2027-12-15T00:00:00+09:00", iso(time.add_months("2026-12-15", 12)))
      raises(function() time.add_months(0, 1.5) end,
        "octopus.time: add_months count must be an integer (got 1.5)")
    end)

    it("splits a range into fixed windows, the last one clipped", function()
      local got = {}
      for a, b in time.windows("2026-11-01", "2026-11-17", 7 * 86400) do got[#got + 1] = iso(a) .. "/" .. iso(b) end
      assert.are.same({
        "2026-11-01T00:00:00+09:00/2026-11-08T00:00:00+09:00",
        "2026-11-08T00:00:00+09:00/2026-11-15T00:00:00+09:00",
        "2026-11-15T00:00:00+09:00/2026-11-17T00:00:00+09:00",
      }, got)
      for _ in time.windows(10, 10, 5) do error("an empty range has no windows") end
      raises(function() time.windows(0, 10, 0) end,
        "octopus.time: windows step must be a positive number of seconds (got 0)")
    end)

    it("walks the zone days overlapping a range, across a leap day", function()
      local got = {}
      for a, b in time.days("2024-02-28T12:00:00+09:00", "2024-03-01T00:00:01+09:00") do
        got[#got + 1] = iso(a)
        assert.are.equal(86400, b - a)
      end
      assert.are.same({ "2024-02-28T00:00:00+09:00", "2024-02-29T00:00:00+09:00",
                        "2024-03-01T00:00:00+09:00" }, got)
    end)

    it("computes today, yesterday and this month in the zone from a given now", function()
      local now = time.parse("2026-12-01T00:30:00+09:00")   -- still 30 November in UTC
      local a, b = time.today("Asia/Tokyo", now)
      assert.are.equal("2026-12-01T00:00:00+09:00", iso(a))
      assert.are.equal("2026-12-02T00:00:00+09:00", iso(b))
      a, b = time.yesterday("Asia/Tokyo", now)
      assert.are.equal("2026-11-30T00:00:00+09:00", iso(a))
      assert.are.equal("2026-12-01T00:00:00+09:00", iso(b))
      a, b = time.this_month("Asia/Tokyo", now)
      assert.are.equal("2026-12-01T00:00:00+09:00", iso(a))
      assert.are.equal("2027-01-01T00:00:00+09:00", iso(b))
      a = time.this_month("UTC", now)
      assert.are.equal("2026-11-01T00:00:00+00:00", iso(a, "UTC"))
    end)

    it("uses the current instant when now is omitted", function()
      local a, b = time.today("Asia/Tokyo")
      assert.is_true(a <= os.time() and os.time() < b + 1)
    end)
  end)

  describe("independence from the machine's TZ", function()
    -- The same script under two TZ settings must print the same lines.
    local script = [[
      package.path = "lua/?.lua;" .. package.path
      local t = require "octopus.pipeline.time"
      print(t.parse("2026-11-01"), t.parse("2026-11-01T00:00:00"), t.format(1795608000))
      print(t.today("Asia/Tokyo", 1795608000))
      print(t.this_month("Asia/Tokyo", 1795608000))
      print(t.format(t.add_months("2026-03-08T02:30:00", 1, "UTC"), "UTC"))
      local d = t.date(1795608000) print(d.year, d.month, d.day, d.hour, d.wday)
      print(t.today("Asia/Tokyo") ~= nil)
    ]]
    local lua = jit and "luajit" or "lua5.4"
    local function run(tz)
      local f = assert(io.popen("TZ=" .. tz .. " " .. lua .. " -e '" .. script .. "' 2>&1"))
      local out = f:read("*a")
      f:close()
      return out
    end

    it("gives the same answers under TZ=UTC and TZ=America/Chicago", function()
      local utc, chicago = run("UTC"), run("America/Chicago")
      assert.truthy(utc:find("1793458800", 1, true))
      assert.are.equal(utc, chicago)
      assert.are.equal(utc, run("Asia/Kolkata"))
    end)
  end)
end)
