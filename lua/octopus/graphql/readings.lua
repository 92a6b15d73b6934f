-- octopus.readings: half-hourly readings without silent truncation, plus helpers.
--
--   client:readings(account, { from =, to = [, supply_point = spin] [, window_days = 7]
--                              [, progress = function(done, total)] [, concurrency = 8] }) -> it
--     it:next() -> row | nil (end) | nil, err ; `for row in it` (raises the error object);
--     it:all() -> json.array of rows | nil, err ; it:pages() -> each window's rows (raises)
--     it.spin (known after the first window)
--     it:by_day() / it:by_month() -> buckets (see M.by_day) of the remaining rows | nil, err
--   row = { start_at, end_at (epoch s), start_iso, end_iso (ISO in the client's zone),
--           value (kWh), cost_estimate (yen) as Lua numbers, value_text,
--           cost_estimate_text (the API's Decimal strings), version, band, step, spin }
--
-- Invariants:
--  * [from, to) is split into windows of window_days (a whole number, default 7, at
--    most 31), fetched oldest first. The API returns at most 1488 rows (31 days of half
--    hours) and drops the rest silently, so a window that comes back with 1488 rows or
--    more is never used: it is split in two (M.split: at a whole day of the client's zone,
--    or a half hour for a window of a day or less) and the halves are fetched instead; a
--    window that cannot be split further and still returns >= 1488 rows is a DECODE
--    error. progress(done, total): total grows by one per split.
--  * Each window's rows are clipped to the window and to [from, to) (a row belongs
--    where its start_at is), de-duplicated by start_at keeping the newest version
--    (rank below; on a tie the later row), sorted by time.
--    Windows do not overlap, so every half hour comes out at most once overall.
--  * from/to: anything octopus.time.parse reads; a date without a time is the start
--    of that day in the client's zone (JST by default); `to` is exclusive.
--  * The supply point: opts.supply_point, else the account's only one; an account
--    with several raises naming the option. Decode failures -> DECODE errors.
--  * Windows are fetched up to `concurrency` at a time (default 8; 1 = one by one, no
--    tasks), in tasks of the client's scheduler (octopus.async: within its concurrency
--    limit and the KT-CT-1199 hold), from the blocking API too; rows still come out in
--    window order, and a prefetched window is held only until it is consumed.
--  * Helpers are pure: M.windows, M.split, M.parse, M.clip, M.dedup, M.by_day, M.by_month.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local time = require "octopus.pipeline.time"
local page = require "octopus.pipeline.page"
local usage = require "octopus.pipeline.usage"
local gerrors = require "octopus.graphql.errors"
local call = require "octopus.graphql.call"
local async = require "octopus.async"

local json = core.json
local null = json.null
local type, pairs, ipairs, tostring, tonumber, error, pcall, setmetatable =
  type, pairs, ipairs, tostring, tonumber, error, pcall, setmetatable
local floor = math.floor
local sort, concat = table.sort, table.concat

---One half hour (client:readings).
---@class octopus.Reading
---@field start_at number            epoch seconds
---@field end_at number
---@field start_iso string           ISO 8601 in the client's zone
---@field end_iso string
---@field value number               kWh
---@field value_text string          the API's Decimal text
---@field cost_estimate number       yen (0 when the API gave none)
---@field cost_estimate_text? string
---@field version? string            "DAILY" | "MONTHLY" | "UPDATED" | ...
---@field band? string
---@field step? integer
---@field spin? string               the supply point

---A day's or a month's sum (by_day, by_month).
---@class octopus.ReadingsBucket
---@field key string                 "YYYY-MM-DD" or "YYYY-MM"
---@field from number
---@field to number
---@field value number               kWh, rounded to the inputs' decimals
---@field cost_estimate number       yen
---@field count integer              half hours

---@class octopus.ReadingsWindow
---@field from number
---@field to number

---client:readings's options.
---@class octopus.ReadingsOptions
---@field from octopus.TimeValue     a date alone = that day's start in the client's zone
---@field to octopus.TimeValue       exclusive
---@field supply_point? string       the SPIN (required when the account has several)
---@field window_days? integer       1..31, default 7
---@field progress? fun(done: integer, total: integer) after each window (total grows by one per split)
---@field concurrency? integer       windows in flight at once, default 8 (1: one by one, no tasks)

---@class octopus.readings
---@field WINDOW_DAYS integer 7
---@field MAX_ROWS integer 1488 (the API's cap per response)
---@field MAX_WINDOW_DAYS integer 31
---@field CONCURRENCY integer 8
---@field VERSION_RANK table<string, integer>
local M = {}

M.WINDOW_DAYS = 7
M.MAX_ROWS = 1488
M.MAX_WINDOW_DAYS = 31              -- 31 * 48 = 1488
M.CONCURRENCY = 8                   -- windows in flight at once
M.VERSION_RANK = { DAILY = 1, LATEST = 1, MONTHLY = 2, UPDATED = 3 }

local DAY, HALF_HOUR = 86400, 1800

-- M.windows(from, to [, days]) -> array of { from, to } covering [from, to) (epochs)
---@param from number epoch
---@param to number epoch
---@param days? integer default WINDOW_DAYS
---@return octopus.ReadingsWindow[] windows covering [from, to)
function M.windows(from, to, days)
  days = days or M.WINDOW_DAYS
  local out = {}
  for a, b in time.windows(from, to, days * DAY) do out[#out + 1] = { from = a, to = b } end
  return out
end

local function decimals(s)
  local frac = s:match("%.(%d+)$")
  return frac and #frac or 0
end

local function decimal(v, what)
  if type(v) == "number" then return v, tostring(v) end
  local n = type(v) == "string" and tonumber(v)
  if not n then error("reading has no numeric " .. what .. " (" .. tostring(v) .. ")", 0) end
  return n, v
end

-- M.parse(row, zone [, spin]) -> parsed row (raises a message on a malformed row)
---One API row (startAt, endAt, value, costEstimate, ...) as an octopus.Reading; raises a
---message on a malformed row.
---@param r table
---@param zone octopus.ZoneSpec
---@param spin? string
---@return octopus.Reading row
function M.parse(r, zone, spin)
  if type(r) ~= "table" then usage.raise("reading is not an object", 0) end
  local s = time.parse(r.startAt, zone)
  local e = r.endAt ~= nil and r.endAt ~= null and time.parse(r.endAt, zone) or s + 1800
  local value, value_text = decimal(r.value, "value")
  local cost, cost_text = 0, nil
  if r.costEstimate ~= nil and r.costEstimate ~= null then cost, cost_text = decimal(r.costEstimate, "costEstimate") end
  return {
    start_at = s, end_at = e, start_iso = time.format(s, zone), end_iso = time.format(e, zone),
    value = value, value_text = value_text, cost_estimate = cost, cost_estimate_text = cost_text,
    version = type(r.version) == "string" and r.version or nil,
    band = type(r.consumptionRateBand) == "string" and r.consumptionRateBand or nil,
    step = type(r.consumptionStep) == "number" and r.consumptionStep or nil,
    spin = spin,
  }
end

-- M.clip(rows, from, to) -> new array of the rows with from <= start_at < to
---@param rows octopus.Reading[]
---@param from number
---@param to number
---@return octopus.Reading[] rows a new array of the rows with from <= start_at < to
function M.clip(rows, from, to)
  local out = {}
  for _, r in ipairs(rows) do
    if r.start_at >= from and r.start_at < to then out[#out + 1] = r end
  end
  return out
end

-- M.dedup(rows) -> new array: one row per start_at (newest version), in time order
---@param rows octopus.Reading[]
---@return octopus.Reading[] rows one per start_at (the newest version), in time order
function M.dedup(rows)
  local by, keys = {}, {}
  for _, r in ipairs(rows) do
    local cur = by[r.start_at]
    if not cur then
      keys[#keys + 1] = r.start_at
      by[r.start_at] = r
    elseif (M.VERSION_RANK[r.version] or 0) >= (M.VERSION_RANK[cur.version] or 0) then
      by[r.start_at] = r
    end
  end
  sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = by[k] end
  return out
end

-- aggregate rows into buckets keyed by key_of(start_at) -> key, from, to
local function aggregate(rows, key_of)
  local buckets, list = {}, {}
  for _, r in ipairs(rows) do
    local key, from, to = key_of(r.start_at)
    local b = buckets[key]
    if not b then
      b = { key = key, from = from, to = to, value = 0, cost_estimate = 0, count = 0, vd = 0, cd = 0 }
      buckets[key] = b
      list[#list + 1] = b
    end
    b.value = b.value + r.value
    b.cost_estimate = b.cost_estimate + (r.cost_estimate or 0)
    b.count = b.count + 1
    local vd, cd = decimals(r.value_text or ""), decimals(r.cost_estimate_text or "")
    if vd > b.vd then b.vd = vd end
    if cd > b.cd then b.cd = cd end
  end
  sort(list, function(x, y) return x.from < y.from end)
  for _, b in ipairs(list) do      -- sums of Decimals: round to the inputs' precision
    local sv, sc = 10 ^ b.vd, 10 ^ b.cd
    b.value = floor(b.value * sv + 0.5) / sv
    b.cost_estimate = floor(b.cost_estimate * sc + 0.5) / sc
    b.vd, b.cd = nil, nil
  end
  return list
end

-- M.by_day(rows [, zone]) -> array of { key = "YYYY-MM-DD", from, to, value, cost_estimate, count }
---@param rows octopus.Reading[]
---@param zone? octopus.ZoneSpec default Asia/Tokyo
---@return octopus.ReadingsBucket[] days
function M.by_day(rows, zone)
  return aggregate(rows, function(t)
    local from, to = time.day_window(t, zone)
    local d = time.date(from, zone)
    return ("%04d-%02d-%02d"):format(d.year, d.month, d.day), from, to
  end)
end

-- M.by_month(rows [, zone]) -> array of { key = "YYYY-MM", from, to, value, cost_estimate, count }
---@param rows octopus.Reading[]
---@param zone? octopus.ZoneSpec default Asia/Tokyo
---@return octopus.ReadingsBucket[] months
function M.by_month(rows, zone)
  return aggregate(rows, function(t)
    local from, to = time.month_window(t, zone)
    local d = time.date(from, zone)
    return ("%04d-%02d"):format(d.year, d.month), from, to
  end)
end

---------------------------------------------------------------------------
-- client:readings
---------------------------------------------------------------------------
---The iterator client:readings returns: `for row in it`, it:next(), it:all(), it:pages().
---@class octopus.Readings: octopus.Iterator
---@field account string
---@field spin? string               known after the first window
---@field from number
---@field to number
---@field windows_total integer
---@field windows_done integer
local Readings = { __name = "octopus.Readings" }
Readings.__index = Readings

local OPTS = { from = true, to = true, supply_point = "string", window_days = "number", progress = "function",
               concurrency = "number" }

---client:readings(account, opts). Errors (from next/all): DECODE (a malformed answer, or a
---half-hour window still at the cap), NOT_FOUND (no such supply point), the GraphQL and
---pipeline codes.
---@param client octopus.Client
---@param account string "A-1234ABCD"
---@param opts octopus.ReadingsOptions
---@return octopus.Readings rows
function M.fetch(client, account, opts)
  if type(account) ~= "string" or account == "" then
    usage.raise("client:readings: 'account' must be an account number (\"A-1234ABCD\")")
  end
  if type(opts) ~= "table" then usage.raise("client:readings: options { from =, to = } are required") end
  for k, v in pairs(opts) do
    local want = OPTS[k]
    if not want then usage.raise("client:readings: unknown option '" .. tostring(k) .. "'") end
    if want ~= true and type(v) ~= want then usage.raise("client:readings: option '" .. k .. "' must be a " .. want) end
  end
  if opts.from == nil or opts.to == nil then usage.raise("client:readings: options 'from' and 'to' are required") end
  local function bare(msg) return (tostring(msg):gsub("^[^:]*:%d+: ", "")) end
  local ok, from = pcall(time.parse, opts.from, client.zone)
  if not ok then usage.raise("client:readings: option 'from': " .. bare(from)) end
  local ok2, to = pcall(time.parse, opts.to, client.zone)
  if not ok2 then usage.raise("client:readings: option 'to': " .. bare(to)) end
  if not (from < to) then usage.raise("client:readings: 'from' must be before 'to'") end
  local days = opts.window_days or M.WINDOW_DAYS
  if days ~= floor(days) or days < 1 or days > M.MAX_WINDOW_DAYS then
    usage.raise("client:readings: option 'window_days' must be a whole number of days from 1 to " ..
      M.MAX_WINDOW_DAYS)
  end
  local width = opts.concurrency or M.CONCURRENCY
  if width ~= floor(width) or width < 1 then
    usage.raise("client:readings: option 'concurrency' must be a whole number >= 1")
  end
  local windows = M.windows(from, to, days)
  return setmetatable({ client = client, account = account, from = from, to = to,
    spin = opts.supply_point, progress = opts.progress, windows = windows, width = width, ahead = {},
    windows_total = #windows, windows_done = 0, items = nil, pos = 1, done = #windows == 0 }, Readings)
end

local function decode_error(self, msg)
  return gerrors.decode_error(self.client, msg)
end

-- the supply points in a readings response -> array of { spin, rows }
local function supply_points(data)
  local out = {}
  local acct = type(data) == "table" and data.account
  if type(acct) ~= "table" then return out end
  for _, prop in ipairs(type(acct.properties) == "table" and acct.properties or {}) do
    local sps = type(prop) == "table" and prop.electricitySupplyPoints
    for _, sp in ipairs(type(sps) == "table" and sps or {}) do
      if type(sp) == "table" and type(sp.spin) == "string" then out[#out + 1] = sp end
    end
  end
  return out
end

-- choose the supply point -> sp | nil, err (raises when ambiguous)
function Readings:_choose(sps)
  if self.spin then
    for _, sp in ipairs(sps) do if sp.spin == self.spin then return sp end end
    return nil, errors.new { code = "NOT_FOUND", kind = "graphql", retryable = false,
      message = "supply point " .. self.spin .. " is not on account " .. self.account }
  end
  if #sps == 1 then self.spin = sps[1].spin; return sps[1] end
  if #sps == 0 then
    return nil, errors.new { code = "NOT_FOUND", kind = "graphql", retryable = false,
      message = "account " .. self.account .. " has no electricity supply point" }
  end
  local spins = {}
  for i, sp in ipairs(sps) do spins[i] = sp.spin end
  error("client:readings: account " .. self.account .. " has " .. #sps .. " supply points (" ..
    concat(spins, ", ") .. "): choose one with the 'supply_point' option", 0)
end

-- M.split(from, to [, zone]) -> at | nil: where to cut a possibly truncated window in two:
-- the whole-day boundary of the zone nearest its middle when it is longer than a day,
-- else (or when no day boundary falls inside) the half-hour boundary nearest its middle;
-- nil when no half-hour boundary falls strictly inside (it cannot be split)
---Where to cut a possibly truncated window in two (a whole day of the zone nearest its
---middle when longer than a day, else the nearest half hour).
---@param from number
---@param to number
---@param zone? octopus.ZoneSpec
---@return number|nil at nil when no half-hour boundary falls strictly inside
function M.split(from, to, zone)
  local mid = from + (to - from) / 2
  -- a, b: the boundaries either side of mid; the nearer one strictly inside, else the other
  local function pick(a, b)
    if mid - a > b - mid then a, b = b, a end
    if a > from and a < to then return a end
    if b > from and b < to then return b end
    return nil
  end
  local at
  if to - from > DAY then at = pick(time.day_window(floor(mid), zone)) end
  if at then return at end
  local lo = floor(mid / HALF_HOUR) * HALF_HOUR
  return pick(lo, lo + HALF_HOUR)
end

-- the supply point's raw rows for window w | nil, err
function Readings:_query(w)
  local client = self.client
  local data, err = call.graphql(client, "readings", {
    accountNumber = self.account, fromDatetime = client:iso(w.from), toDatetime = client:iso(w.to) })
  if not data then return nil, err end
  if type(data.account) ~= "table" then return nil, decode_error(self, "no account in the readings response") end
  local sp, serr = self:_choose(supply_points(data))
  if not sp then return nil, serr end
  local raw = sp.halfHourlyReadings
  if type(raw) ~= "table" then return nil, decode_error(self, "no halfHourlyReadings for supply point " .. sp.spin) end
  return raw, sp
end

-- window w's raw rows and supply point: from its prefetch task when there is one. The
-- next `width` windows without one get theirs first, so they are in flight while this
-- one is awaited. A raise inside a task (an ambiguous supply point) is raised here.
function Readings:_window(w)
  if self.width == 1 then return self:_query(w) end
  local ahead, ws = self.ahead, self.windows
  for i = self.windows_done + 1, math.min(#ws, self.windows_done + self.width) do
    local x = ws[i]
    if not ahead[x] then
      ahead[x] = async.spawn(self.client, function() return async.pcall(self._query, self, x) end)
    end
  end
  local task = ahead[w]
  ahead[w] = nil
  local ok, raw, sp = task:wait()
  if ok == nil then return nil, raw end   -- the task itself failed (cancelled)
  if not ok then error(raw, 0) end
  return raw, sp
end

-- the next window's rows (clipped, de-duplicated, in time order) | nil, err. A window
-- that comes back with MAX_ROWS rows or more may have been cut short by the API: it is
-- replaced by its two halves (windows_total grows by one) and the first half is fetched.
function Readings:_fetch()
  local client = self.client
  local w, raw, sp
  while true do
    w = self.windows[self.windows_done + 1]
    raw, sp = self:_window(w)
    if not raw then return nil, sp end
    if #raw < M.MAX_ROWS then break end
    local at = M.split(w.from, w.to, client.zone)
    if not at then
      return nil, decode_error(self, "a window of one half hour (" .. client:iso(w.from) .. ") returned " ..
        #raw .. " rows, the API's cap is " .. M.MAX_ROWS)
    end
    self.windows[self.windows_done + 1] = { from = w.from, to = at }
    table.insert(self.windows, self.windows_done + 2, { from = at, to = w.to })
    self.windows_total = self.windows_total + 1
  end
  local rows = {}
  for i, r in ipairs(raw) do
    local ok, row = pcall(M.parse, r, client.zone, sp.spin)
    if not ok then return nil, decode_error(self, "malformed reading " .. i .. ": " .. tostring(row)) end
    rows[i] = row
  end
  local lo = w.from > self.from and w.from or self.from
  local hi = w.to < self.to and w.to or self.to
  self.windows_done = self.windows_done + 1
  self.done = self.windows_done >= self.windows_total
  if self.progress then self.progress(self.windows_done, self.windows_total) end
  return M.dedup(M.clip(rows, lo, hi))
end

page.iterator(Readings)

-- it:by_day() / it:by_month() -> the remaining rows aggregated in the client's zone | nil, err
---@return octopus.ReadingsBucket[]|nil days the remaining rows by day in the client's zone
---@return octopus.Error|nil err
function Readings:by_day()
  local rows, err = self:all()
  if not rows then return nil, err end
  return M.by_day(rows, self.client.zone)
end

---@return octopus.ReadingsBucket[]|nil months
---@return octopus.Error|nil err
function Readings:by_month()
  local rows, err = self:all()
  if not rows then return nil, err end
  return M.by_month(rows, self.client.zone)
end

---@return string
function Readings:__tostring() return "octopus.Readings (" .. self.account .. ")" end

return M
