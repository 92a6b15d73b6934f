-- octopus.money.period: billing periods from the meter-reading day.
--
-- A Japanese supply point is read on a day of the month (the schema's
-- ElectricitySupplyPoint.readingDateDayOfMonth); the usage of the reading day
-- itself belongs to the next period ("前回検針日から今回検針日の前日まで"). So a
-- billing period is [reading day of month M 00:00, reading day of month M+1 00:00)
-- in the client's zone. Without a reading day, periods are calendar months.
-- A reading day past a month's end (29, 30, 31) falls on that month's last day.
--
--   period = { from, to (epoch s, to exclusive), days, from_date = "YYYY-MM-DD",
--              to_date = "YYYY-MM-DD" (the last day, inclusive, as statements'
--              consumptionEndDate), reading_day (nil for calendar months) }
--
-- Pure; zones through octopus.pipeline.time (fixed offsets, JST default).
local time = require "octopus.pipeline.time"

local floor, type, tostring, error = math.floor, type, tostring, error
local format = string.format

---A billing period: [reading day 00:00, next month's reading day 00:00) in the zone.
---@class octopus.Period
---@field from number
---@field to number                        exclusive
---@field days integer
---@field from_date string                 "YYYY-MM-DD"
---@field to_date string                   the last day, inclusive
---@field reading_day? integer             nil for calendar months

---@class octopus.money.period
local M = {}
local DAY = 86400

-- M.check_day(day, what, level) -> day (raises naming `what` unless nil or 1..31)
---Raises, naming `what`, unless day is nil or a whole number 1..31.
---@param day any
---@param what string
---@param level? integer the error level (1: the caller)
---@return integer|nil day
function M.check_day(day, what, level)
  if day == nil then return nil end
  if type(day) ~= "number" or day ~= floor(day) or day < 1 or day > 31 then
    error(what .. " must be a day of the month from 1 to 31 (got " .. tostring(day) .. ")", (level or 1) + 1)
  end
  return day
end

local function start_in(y, m, day, z)
  local last = time.days_in_month(y, m)
  if day > last then day = last end
  return time.days_from_civil(y, m, day) * DAY - z.offset
end

local function ymd(t, z)
  local d = time.date(t, z)
  return format("%04d-%02d-%02d", d.year, d.month, d.day)
end

local function make(from, to, day, z)
  return { from = from, to = to, days = floor((to - from) / DAY), from_date = ymd(from, z),
           to_date = ymd(to - DAY, z), reading_day = day }
end

-- M.bounds(t [, reading_day [, zone]]) -> from, to of the period holding epoch t
---@param t number epoch
---@param day? integer the reading day (nil: calendar months)
---@param zone? octopus.ZoneSpec
---@return number from
---@return number to the period holding t
function M.bounds(t, day, zone)
  M.check_day(day, "period.bounds: reading_day", 2)
  local z = time.zone(zone)
  local d = time.date(t, z)
  local rd = day or 1
  local y, m = d.year, d.month
  local s = start_in(y, m, rd, z)
  if t < s then
    m = m - 1
    if m < 1 then y, m = y - 1, 12 end
    s = start_in(y, m, rd, z)
  end
  local ny, nm = y, m + 1
  if nm > 12 then ny, nm = y + 1, 1 end
  return s, start_in(ny, nm, rd, z)
end

-- M.of(t [, reading_day [, zone]]) -> the period holding t
---@param t number
---@param day? integer
---@param zone? octopus.ZoneSpec
---@return octopus.Period period the period holding t
function M.of(t, day, zone)
  local z = time.zone(zone)
  local from, to = M.bounds(t, day, z)
  return make(from, to, day, z)
end

-- M.list(from, to [, reading_day [, zone]]) -> array of the periods overlapping [from, to)
---@param from number
---@param to number
---@param day? integer
---@param zone? octopus.ZoneSpec
---@return octopus.Period[] periods those overlapping [from, to)
function M.list(from, to, day, zone)
  M.check_day(day, "period.list: reading_day", 2)
  local z = time.zone(zone)
  local out = {}
  local t = from
  while t < to do
    local a, b = M.bounds(t, day, z)
    out[#out + 1] = make(a, b, day, z)
    t = b
  end
  return out
end

-- M.current(now [, reading_day [, zone]]) / M.previous(...) -> period
---@param now number
---@param day? integer
---@param zone? octopus.ZoneSpec
---@return octopus.Period period the one holding now
function M.current(now, day, zone) return M.of(now, day, zone) end
---@param now number
---@param day? integer
---@param zone? octopus.ZoneSpec
---@return octopus.Period period the one before the current
function M.previous(now, day, zone)
  local from = M.bounds(now, day, zone)
  return M.of(from - 1, day, zone)
end

return M
