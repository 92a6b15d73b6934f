-- octopus.time -- ISO 8601 with offsets, fixed-offset zones, day/month windows.
--
-- Invariants:
--   * Pure arithmetic on epoch seconds (Howard Hinnant's days_from_civil /
--     civil_from_days); never os.date/os.time with local time, so every answer
--     is independent of the machine's TZ.
--   * Zones are fixed offsets only: Asia/Tokyo (+09:00, no DST), UTC, Etc/UTC,
--     GMT, Z, "+HH:MM" / "-HH:MM" (also "+HHMM", "+HH"). Anything else raises.
--   * format() always writes an offset ("+00:00" for UTC, never "Z"), so the
--     library never sends a naive datetime.
--   * parse() reads a naive datetime ("2026-11-01T00:00:00") and a date-only
--     string ("2026-11-01" = that day's start) in the given zone (default
--     Asia/Tokyo). Epochs are integers when whole; fractional seconds stay
--     floats. Leap second :60 is accepted and rolls into the next minute.
--   * Malformed input raises "octopus.time: malformed datetime '<text>'".
-- Runs on Lua 5.1/LuaJIT and 5.4 (no //, no bitwise operators).

local usage = require "octopus.pipeline.usage"

local floor, huge, type, tostring, tonumber, setmetatable, getmetatable =
  math.floor, math.huge, type, tostring, tonumber, setmetatable, getmetatable
local format, os_time = string.format, os.time
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

---A fixed-offset zone (time.zone).
---@class octopus.Zone
---@field name string    "Asia/Tokyo", "UTC", "+05:30"
---@field offset integer seconds east of UTC

---A zone argument: a zone, its name, "+HH:MM", or nil (Asia/Tokyo).
---@alias octopus.ZoneSpec octopus.Zone|string|nil

---A time: epoch seconds, ISO 8601 text (naive = in the zone; a date alone = that day's
---start), or a date table { year, month, day [, hour, min, sec] } in the zone.
---@alias octopus.TimeValue number|string|octopus.DateFields

---@class octopus.DateFields
---@field year integer
---@field month integer
---@field day integer
---@field hour? integer
---@field min? integer
---@field sec? number

---What time.date returns.
---@class octopus.Date: octopus.DateFields
---@field hour integer
---@field min integer
---@field sec number
---@field wday integer 1 = Monday
---@field yday integer

---@class octopus.time
local M = {}

local DAY = 86400
local DEFAULT_ZONE = "Asia/Tokyo"

-- Hinnant: days since 1970-01-01 for a proleptic Gregorian y-m-d.
---@param y integer
---@param m integer
---@param d integer
---@return integer days since 1970-01-01 (proleptic Gregorian)
local function days_from_civil(y, m, d)
  y = (m <= 2) and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Hinnant: y, m, d for days since 1970-01-01.
---@param z integer days since 1970-01-01
---@return integer y
---@return integer m
---@return integer d
local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end
M.days_from_civil, M.civil_from_days = days_from_civil, civil_from_days

---@param y integer
---@return boolean
local function is_leap(y)
  return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
end

local MDAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
---@param y integer
---@param m integer
---@return integer days 28..31
local function days_in_month(y, m)
  if m == 2 and is_leap(y) then return 29 end
  return MDAYS[m]
end
M.is_leap, M.days_in_month = is_leap, days_in_month

-- A whole float becomes an integer on 5.4 (math.floor returns one); LuaJIT has
-- only doubles, so this is the identity there.
local function normalize(x)
  if x == floor(x) then return floor(x) end
  return x
end

------------------------------------------------------------------------------
-- Zones

local zone_mt = { __tostring = function(z) return "octopus.time.zone(" .. z.name .. ")" end }
local zones = {}

local function make_zone(name, offset)
  local z = zones[name]
  if not z then
    z = setmetatable({ name = name, offset = offset }, zone_mt)
    zones[name] = z
  end
  return z
end

local function offset_name(offset)
  local sign = offset < 0 and "-" or "+"
  local a = offset < 0 and -offset or offset
  return format("%s%02d:%02d", sign, floor(a / 3600), floor((a % 3600) / 60))
end

-- "+HH:MM" | "+HHMM" | "+HH" -> seconds, or nil when not an offset.
local function parse_offset(s)
  local sign, hh, mm = s:match("^([%+%-])(%d%d):?(%d%d)$")
  if not sign then
    sign, hh = s:match("^([%+%-])(%d%d)$")
    mm = "00"
  end
  if not sign then return nil end
  hh, mm = tonumber(hh), tonumber(mm)
  if hh > 18 or mm > 59 or (hh == 18 and mm > 0) then return nil end
  local off = hh * 3600 + mm * 60
  return sign == "-" and -off or off
end

local NAMED = { ["Asia/Tokyo"] = 9 * 3600, UTC = 0, ["Etc/UTC"] = 0, GMT = 0, Z = 0 }

-- time.zone(spec) -> { name, offset }. spec: zone table, name, "+HH:MM", nil (Asia/Tokyo).
---Raises (usage) on an unknown zone: fixed offsets only.
---@param spec? octopus.ZoneSpec
---@return octopus.Zone zone
function M.zone(spec)
  if spec == nil then spec = DEFAULT_ZONE end
  if type(spec) == "table" and getmetatable(spec) == zone_mt then return spec end
  if type(spec) ~= "string" then
    usage.raise("octopus.time: zone must be a string (got " .. type(spec) .. ")")
  end
  local off = NAMED[spec]
  if off then
    return make_zone(spec, off)
  end
  off = parse_offset(spec)
  if off then return make_zone(offset_name(off), off) end
  usage.raise("octopus.time: unknown zone '" .. spec .. "' (fixed offsets only: Asia/Tokyo, UTC, +HH:MM)")
end

local function zone_of(z)
  if type(z) == "table" and getmetatable(z) == zone_mt then return z end
  return M.zone(z)
end

-- the offset as format() writes it
local function suffix(z)
  return offset_name(z.offset)
end

------------------------------------------------------------------------------
-- Parsing

local function malformed(text)
  usage.raise("octopus.time: malformed datetime '" .. tostring(text) .. "'")
end

-- epoch for local fields read in a zone offset; nil when a field is out of range.
local function from_fields(y, mo, d, h, mi, s, offset)
  if mo < 1 or mo > 12 or d < 1 or d > days_in_month(y, mo) then return nil end
  if h < 0 or h > 23 or mi < 0 or mi > 59 or s < 0 or s >= 61 then return nil end
  return days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + s - offset
end

local function parse_string(s, z)
  local y, mo, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if y then
    local t = from_fields(tonumber(y), tonumber(mo), tonumber(d), 0, 0, 0, z.offset)
    if not t then malformed(s) end
    return t
  end
  local h, mi, rest
  y, mo, d, h, mi, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d)(.*)$")
  if not y then malformed(s) end
  local sec, frac = 0, nil
  local ss, after = rest:match("^:(%d%d)(.*)$")
  if ss then
    sec, rest = tonumber(ss), after
    local f, after2 = rest:match("^[%.,](%d+)(.*)$")
    if f then frac, rest = f, after2 end
  end
  local offset
  if rest == "" then
    offset = z.offset
  elseif rest == "Z" or rest == "z" then
    offset = 0
  else
    offset = parse_offset(rest)
    if not offset then malformed(s) end
  end
  local t = from_fields(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), sec, offset)
  if not t then malformed(s) end
  if frac then t = normalize(t + tonumber("0." .. frac)) end
  return t
end

local function field(t, k, default, lo, hi)
  local x = t[k]
  if x == nil then x = default end
  if type(x) ~= "number" or x ~= floor(x) or x < lo or x > hi then
    usage.raise("octopus.time: date table field '" .. k .. "' is invalid (" .. tostring(x) .. ")")
  end
  return x
end

local function parse_table(t, z)
  local y = field(t, "year", nil, -99999, 99999)
  local mo = field(t, "month", nil, 1, 12)
  local d = field(t, "day", nil, 1, days_in_month(y, mo))
  local h = field(t, "hour", 0, 0, 23)
  local mi = field(t, "min", 0, 0, 59)
  local sx = t.sec == nil and 0 or t.sec
  if type(sx) ~= "number" or sx < 0 or sx >= 61 then
    usage.raise("octopus.time: date table field 'sec' is invalid (" .. tostring(sx) .. ")")
  end
  return normalize(days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + sx - z.offset)
end

-- time.parse(value [, zone]) -> epoch seconds
---Raises "octopus.time: malformed datetime '<text>'" on bad input.
---@param value octopus.TimeValue
---@param zone? octopus.ZoneSpec how naive text and date tables are read (default Asia/Tokyo)
---@return number epoch seconds (an integer when whole)
function M.parse(value, zone)
  local z = zone_of(zone)
  local tv = type(value)
  if tv == "number" then
    if value ~= value or value == huge or value == -huge then
      usage.raise("octopus.time: epoch must be a finite number")
    end
    return value
  elseif tv == "string" then
    return parse_string(value, z)
  elseif tv == "table" then
    return parse_table(value, z)
  end
  usage.raise("octopus.time: cannot read a datetime from a " .. tv)
end
local parse = M.parse

------------------------------------------------------------------------------
-- Formatting and calendar fields

-- time.format(value [, zone]) -> "YYYY-MM-DDTHH:MM:SS[.mmm]+HH:MM"
---@param value octopus.TimeValue
---@param zone? octopus.ZoneSpec
---@return string iso "YYYY-MM-DDTHH:MM:SS[.mmm]+HH:MM" (always an offset, never Z)
function M.format(value, zone)
  local z = zone_of(zone)
  local t = parse(value, z)
  local ms = 0
  if t ~= floor(t) then
    local total = floor(t * 1000 + 0.5)
    t = floor(total / 1000)
    ms = total - t * 1000
  end
  local lt = t + z.offset
  local days = floor(lt / DAY)
  local secs = lt - days * DAY
  local y, mo, d = civil_from_days(days)
  if y < 0 or y > 9999 then usage.raise("octopus.time: year " .. y .. " cannot be written in ISO 8601") end
  local out = format("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d,
    floor(secs / 3600), floor((secs % 3600) / 60), secs % 60)
  if ms > 0 then out = out .. format(".%03d", ms) end
  return out .. suffix(z)
end

-- time.date(value [, zone]) -> { year, month, day, hour, min, sec, wday (1 = Monday), yday }
---@param value octopus.TimeValue
---@param zone? octopus.ZoneSpec
---@return octopus.Date date the calendar fields in the zone
function M.date(value, zone)
  local z = zone_of(zone)
  local lt = parse(value, z) + z.offset
  local days = floor(lt / DAY)
  local secs = normalize(lt - days * DAY)
  local y, mo, d = civil_from_days(days)
  return {
    year = y, month = mo, day = d,
    hour = floor(secs / 3600), min = floor((secs % 3600) / 60), sec = normalize(secs % 60),
    wday = (days + 3) % 7 + 1,            -- 1970-01-01 was a Thursday (4)
    yday = days - days_from_civil(y, 1, 1) + 1,
  }
end

------------------------------------------------------------------------------
-- Windows

-- time.day_start(value [, zone]) -> epoch of 00:00 that day in the zone
---@param value octopus.TimeValue
---@param zone? octopus.ZoneSpec
---@return number epoch of 00:00 that day in the zone
function M.day_start(value, zone)
  local z = zone_of(zone)
  local lt = parse(value, z) + z.offset
  return floor(lt / DAY) * DAY - z.offset
end
local day_start = M.day_start

-- time.day_window(value [, zone]) -> from, to (the whole day holding value)
---@param value octopus.TimeValue
---@param zone? octopus.ZoneSpec
---@return number from
---@return number to the whole day holding value, [from, to)
function M.day_window(value, zone)
  local from = day_start(value, zone)
  return from, from + DAY
end

local function month_start(y, mo, z)
  return days_from_civil(y, mo, 1) * DAY - z.offset
end

-- time.month_window(value [, zone]) -> from, to (the whole month holding value)
---@param value octopus.TimeValue
---@param zone? octopus.ZoneSpec
---@return number from
---@return number to the whole month holding value, [from, to)
function M.month_window(value, zone)
  local z = zone_of(zone)
  local dt = M.date(value, z)
  local ny, nm = dt.year, dt.month + 1
  if nm > 12 then ny, nm = ny + 1, 1 end
  return month_start(dt.year, dt.month, z), month_start(ny, nm, z)
end

-- time.add_months(value, n [, zone]) -> epoch n calendar months later, same
-- time of day, day clamped to the target month's length (Jan 31 + 1 = Feb 28/29).
---@param value octopus.TimeValue
---@param n integer months (negative: earlier)
---@param zone? octopus.ZoneSpec
---@return number epoch same time of day, the day clamped to the target month (Jan 31 + 1 = Feb 28/29)
function M.add_months(value, n, zone)
  if type(n) ~= "number" or n ~= floor(n) then
    usage.raise("octopus.time: add_months count must be an integer (got " .. tostring(n) .. ")")
  end
  local z = zone_of(zone)
  local t = parse(value, z)
  local dt = M.date(t, z)
  local idx = dt.year * 12 + (dt.month - 1) + n
  local y = floor(idx / 12)
  local mo = idx - y * 12 + 1
  local d = dt.day
  local last = days_in_month(y, mo)
  if d > last then d = last end
  local tod = (t + z.offset) - floor((t + z.offset) / DAY) * DAY
  return normalize(days_from_civil(y, mo, d) * DAY + tod - z.offset)
end

-- time.windows(from, to, step [, zone]) -> iterator of win_from, win_to,
-- consecutive windows of `step` seconds covering [from, to), the last clipped.
---@param from octopus.TimeValue
---@param to octopus.TimeValue
---@param step number seconds (> 0)
---@param zone? octopus.ZoneSpec
---@return fun(): number?, number? windows consecutive win_from, win_to covering [from, to), the last clipped
function M.windows(from, to, step, zone)
  if type(step) ~= "number" or step ~= step or step <= 0 or step == huge then
    usage.raise("octopus.time: windows step must be a positive number of seconds (got " .. tostring(step) .. ")")
  end
  local z = zone_of(zone)
  local cur, stop = parse(from, z), parse(to, z)
  return function()
    if cur >= stop then return nil end
    local a = cur
    local b = cur + step
    if b > stop then b = stop end
    cur = b
    return a, b
  end
end

-- time.days(from, to [, zone]) -> iterator of day_start, next_day_start for
-- every zone day that overlaps [from, to).
---@param from octopus.TimeValue
---@param to octopus.TimeValue
---@param zone? octopus.ZoneSpec
---@return fun(): number?, number? days day_start, next_day_start for every zone day overlapping [from, to)
function M.days(from, to, zone)
  local z = zone_of(zone)
  local cur, stop = day_start(from, z), parse(to, z)
  return function()
    if cur >= stop then return nil end
    local a = cur
    cur = cur + DAY
    return a, cur
  end
end

local function now_or(now)
  if now == nil then return os_time() end   -- os.time() with no argument is UTC epoch
  return now
end

-- time.today / yesterday / this_month (zone, now) -> from, to in the zone
---@param zone? octopus.ZoneSpec
---@param now? number epoch (default os.time())
---@return number from
---@return number to
function M.today(zone, now)
  return M.day_window(now_or(now), zone)
end

---@param zone? octopus.ZoneSpec
---@param now? number epoch (default os.time())
---@return number from
---@return number to
function M.yesterday(zone, now)
  local from = day_start(now_or(now), zone)
  return from - DAY, from
end

---@param zone? octopus.ZoneSpec
---@param now? number epoch (default os.time())
---@return number from
---@return number to
function M.this_month(zone, now)
  return M.month_window(now_or(now), zone)
end

return M
