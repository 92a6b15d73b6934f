-- octopus.history.query: what a store answers offline (internal: these are methods of
-- octopus.history.Store, which octopus.history.store installs on its class): rows,
-- count, extent, revisions, oldest_open, coverage, uncovered, gaps, by_day, by_month.
-- Each reads only; see octopus.history.store for the row shape and the errors.
local time = require "octopus.pipeline.time"
local usage = require "octopus.pipeline.usage"
local statements = require "octopus.history.statements"

local type, ipairs, tostring, pcall = type, ipairs, tostring, pcall
local floor, max = math.floor, math.max
local fmt, concat = string.format, table.concat
local raise = usage.raise
local first, iterate, check_spin = statements.first, statements.iterate, statements.check_spin
local ROW_COLS = statements.ROW_COLS
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

local HALF, DAY = 1800, 86400

---@class octopus.history.Store
local Store = {}

-- row field -> its SQL (store:rows{ fields = {...} } reads only those: each field costs)
local FIELD_SQL = { spin = "spin", start_at = "start_at", end_at = "end_at", value = "value",
  value_text = "value_text", cost_estimate = "cost AS cost_estimate",
  cost_estimate_text = "cost_text AS cost_estimate_text",
  version = "version", band = "band", step = "step", fetched_at = "fetched_at" }

-- an error message without its "file:line: " position
local function bare(msg) return (tostring(msg):gsub("^[^:]*:%d+: ", "")) end

-- from/to options -> epochs (defaults: everything)
local function range(self, opts, fname)
  opts = opts or {}
  if type(opts) ~= "table" then raise("store:" .. fname .. ": options must be a table { from =, to = }") end
  local zone = opts.zone and time.zone(opts.zone) or self.zone
  local function read(k, default)
    local v = opts[k]
    if v == nil then return default end
    local ok, t = pcall(time.parse, v, zone)
    if not ok then raise("store:" .. fname .. ": option '" .. k .. "': " .. bare(t)) end
    return t
  end
  return read("from", -2 ^ 52), read("to", 2 ^ 52), zone
end

---@param spin string
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue, zone?: string, fields?: string[] }
---@return fun(): octopus.history.Row? rows oldest first (raises the error object on a failure)
function Store:rows(spin, opts)
  check_spin(spin, "rows")
  local from, to = range(self, opts, "rows")
  local cols = ROW_COLS
  if opts and opts.fields ~= nil then
    if type(opts.fields) ~= "table" or #opts.fields == 0 then
      raise("store:rows: option 'fields' must be a non-empty array of row field names")
    end
    local sql = {}
    for i, f in ipairs(opts.fields) do
      sql[i] = FIELD_SQL[f] or raise("store:rows: unknown field '" .. tostring(f) .. "'")
    end
    cols = concat(sql, ", ")
  end
  return iterate(self, "SELECT " .. cols .. " FROM readings WHERE spin = ? AND start_at >= ? AND start_at < ? " ..
    "ORDER BY start_at", spin, from, to)
end

---@param spin string
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue }
---@return integer n
function Store:count(spin, opts)
  check_spin(spin, "count")
  local from, to = range(self, opts, "count")
  return first(self, "count", "SELECT count(*) AS n FROM readings WHERE spin = ? AND start_at >= ? AND start_at < ?",
    spin, from, to).n
end

---@param spin string
---@return integer|nil first start_at
---@return integer|nil last start_at
function Store:extent(spin)
  local r = first(self, "extent", "SELECT min(start_at) AS a, max(start_at) AS b FROM readings WHERE spin = ?", spin)
  if r and r.a then return r.a, r.b end
  return nil
end

---@param spin string
---@param start_at integer
---@return octopus.history.Row[] replaced oldest first (each with replaced_at)
function Store:revisions(spin, start_at)
  check_spin(spin, "revisions")
  local out = {}
  for r in iterate(self, "SELECT " .. ROW_COLS .. ", replaced_at FROM revisions WHERE spin = ? AND start_at = ? " ..
    "ORDER BY replaced_at, rowid", spin, start_at) do out[#out + 1] = r end
  return out
end

---@param spin string
---@return integer|nil start_at of the oldest row whose version is not final
function Store:oldest_open(spin)
  local r = first(self, "open", "SELECT min(start_at) AS t FROM readings WHERE spin = ? AND " ..
    "(version IS NULL OR version NOT IN ('MONTHLY', 'UPDATED'))", spin)
  return r and r.t
end

---@param spin string
---@return { from: integer, to: integer }[] ranges a sync fetched in full
function Store:coverage(spin)
  local out = {}
  for r in iterate(self, "SELECT from_at, to_at FROM coverage WHERE spin = ? ORDER BY from_at", spin) do
    out[#out + 1] = { from = r.from_at, to = r.to_at }
  end
  return out
end

---@param spin string
---@param from integer
---@param to integer
---@return { from: integer, to: integer }[] ranges inside [from, to) not yet fetched
function Store:uncovered(spin, from, to)
  local out, cur = {}, from
  for _, c in ipairs(self:coverage(spin)) do
    if c.to > cur and c.from < to then
      if c.from > cur then out[#out + 1] = { from = cur, to = c.from } end
      if c.to > cur then cur = c.to end
    end
  end
  if cur < to then out[#out + 1] = { from = cur, to = to } end
  return out
end

-- gaps: walk the start_at column once; constant memory in the number of rows
---@param spin string
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue }
---@return { from: integer, to: integer, count: integer }[] gaps the missing half hours
function Store:gaps(spin, opts)
  check_spin(spin, "gaps")
  local from, to = range(self, opts, "gaps")
  if not (opts and opts.from) or not (opts and opts.to) then
    local a, b = self:extent(spin)
    if not a then return {} end
    if not (opts and opts.from) then from = a end
    if not (opts and opts.to) then to = b + HALF end
  end
  from = -floor(-from / HALF) * HALF        -- the first half-hour boundary at or after from
  local out, expect = {}, from
  local function gap(a, b)
    if b > a then out[#out + 1] = { from = a, to = b, count = floor((b - a) / HALF) } end
  end
  for r in iterate(self, "SELECT start_at FROM readings WHERE spin = ? AND start_at >= ? AND start_at < ? " ..
    "ORDER BY start_at", spin, from, to) do
    local s = r.start_at
    if s > expect then gap(expect, floor(s / HALF) * HALF) end
    local nxt = floor(s / HALF) * HALF + HALF
    if nxt > expect then expect = nxt end
  end
  gap(expect, floor(to / HALF) * HALF)
  return out
end

local function decimals_round(x, d)
  local sc = 10 ^ d
  return floor(x * sc + 0.5) / sc
end

-- per-day sums in SQL (the zone is a fixed offset), then rounded to the Decimals' precision
local function days(self, spin, opts, fname)
  check_spin(spin, fname)
  local from, to, zone = range(self, opts, fname)
  local off = zone.offset
  local sql = [[SELECT (start_at + ?1) / 86400 AS day, sum(value) AS v, sum(coalesce(cost, 0)) AS c,
      count(*) AS n,
      max(CASE WHEN instr(value_text, '.') > 0 THEN length(value_text) - instr(value_text, '.') ELSE 0 END) AS vd,
      max(CASE WHEN instr(cost_text, '.') > 0 THEN length(cost_text) - instr(cost_text, '.') ELSE 0 END) AS cd
    FROM readings WHERE spin = ?2 AND start_at >= ?3 AND start_at < ?4 GROUP BY day ORDER BY day]]
  return iterate(self, sql, off, spin, from, to), zone
end

---@param spin string
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue, zone?: string }
---@return octopus.ReadingsBucket[] days as octopus.readings.by_day
function Store:by_day(spin, opts)
  local out = {}
  local it, zone = days(self, spin, opts, "by_day")
  for r in it do
    local from = r.day * DAY - zone.offset
    local d = time.date(from, zone)
    out[#out + 1] = { key = fmt("%04d-%02d-%02d", d.year, d.month, d.day), from = from, to = from + DAY,
      value = decimals_round(r.v, r.vd or 0), cost_estimate = decimals_round(r.c, r.cd or 0), count = r.n }
  end
  return out
end

---@param spin string
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue, zone?: string }
---@return octopus.ReadingsBucket[] months
function Store:by_month(spin, opts)
  local out, cur = {}, nil
  local it, zone = days(self, spin, opts, "by_month")
  for r in it do
    local day_from = r.day * DAY - zone.offset
    local mfrom, mto = time.month_window(day_from, zone)
    if not cur or cur.from ~= mfrom then
      if cur then out[#out + 1] = cur end
      local d = time.date(mfrom, zone)
      cur = { key = fmt("%04d-%02d", d.year, d.month), from = mfrom, to = mto, value = 0, cost_estimate = 0,
              count = 0, vd = 0, cd = 0 }
    end
    cur.value, cur.cost_estimate, cur.count = cur.value + r.v, cur.cost_estimate + r.c, cur.count + r.n
    cur.vd, cur.cd = max(cur.vd, r.vd or 0), max(cur.cd, r.cd or 0)
  end
  if cur then out[#out + 1] = cur end
  for _, b in ipairs(out) do
    b.value, b.cost_estimate = decimals_round(b.value, b.vd), decimals_round(b.cost_estimate, b.cd)
    b.vd, b.cd = nil, nil
  end
  return out
end

return Store
