-- octopus.history.store: a local SQLite ledger of half-hourly readings, so history
-- survives the API forgetting or reissuing it and can be queried offline.
--
--   local store = require "octopus.history.store"
--   local s = assert(store.open([path], { zone = "Asia/Tokyo", read_only = false, busy_timeout = 5000 }))
--     path default: $XDG_DATA_HOME/octopus/readings.sqlite (~/.local/share/octopus/...)
--   s:put_supply_point{ spin =, account =, area =, supply_start = } -> true | nil, err
--   s:supply_point(spin) -> { spin, account, area, supply_start, updated_at } | nil
--   s:supply_points() -> array of the above
--   s:put_rows(spin, rows [, { covered = { from, to }, fetched_at = epoch }])
--     -> { added, revised, unchanged } | nil, err            (one transaction)
--   s:rows(spin [, { from, to, fields = { "start_at", "value", ... } }]) -> iterator of rows,
--     oldest first (constant memory); `fields` reads only those (faster: each costs)
--   s:count(spin [, { from, to }]) -> n ;  s:extent(spin) -> first start_at, last start_at | nil
--   s:by_day(spin [, { from, to, zone }]) / s:by_month(...) -> buckets as octopus.readings.by_day
--   s:gaps(spin [, { from, to }]) -> array of { from, to, count } (missing half hours)
--   s:revisions(spin, start_at) -> array of replaced versions, oldest first
--   s:coverage(spin) -> array of { from, to }: ranges a sync fetched in full
--   s:uncovered(spin, from, to) -> array of { from, to } inside [from, to) not yet fetched
--   s:oldest_open(spin) -> start_at of the oldest row whose version is not final | nil
--   s:schema_version() -> n ; s:close()
-- row = { spin, start_at, end_at (epoch s), value, value_text (kWh), cost_estimate,
--         cost_estimate_text (yen), version, band, step, fetched_at }: the shape of
--         client:readings rows without start_iso/end_iso (time.format them if needed);
--         absent fields were NULL (the API gave none). fetched_at: when the stored value
--         arrived (an unchanged re-fetch leaves it). The rows iterator raises the error
--         object if SQLite fails mid-way; the other queries return nil, err.
-- A store opened read_only (or a file this process cannot write) answers queries; its
-- writes return READONLY and change nothing.
--
-- Invariants:
--  * The file is 0600 and new directories 0700 (octopus.sqlite's private mode: a file
--    others can read is made private); WAL journal, synchronous=NORMAL; every write is
--    one BEGIN IMMEDIATE transaction (so two processes queue on the busy timeout instead
--    of deadlocking), retried up to 5 times on BUSY. A process killed mid-write leaves
--    the last committed state.
--  * Schema: PRAGMA user_version = the number of migrations applied; open() applies the
--    missing ones in one transaction (MIGRATIONS[1] is the v1 schema). A file from a
--    newer version, or an old one that is read-only, is refused with SCHEMA / READONLY.
--  * A row that differs from the stored one (value, cost, version, band or step) replaces
--    it unless its version ranks lower (DAILY < MONTHLY < UPDATED: a stale answer never
--    undoes a final one; it counts as unchanged); the replaced values go to revisions.
--  * Errors: nil, err with err.kind "storage": the octopus.sqlite codes (BUSY, READONLY,
--    DISK_FULL, CONSTRAINT, CANTOPEN, CORRUPT, IO, SQLITE) and SCHEMA. Usage errors raise.
-- octopus.sqlite (libsqlite3) is loaded by the first open, not here: the facade requires
-- this module, and a script that only talks HTTP must not load libsqlite3
local sqlite
local require = require
local time = require "octopus.pipeline.time"
local schema = require "octopus.history.schema"
local errors = require "octopus.pipeline.errors"
local usage = require "octopus.pipeline.usage"

local type, pairs, ipairs, tostring, error, pcall, setmetatable, select =
  type, pairs, ipairs, tostring, error, pcall, setmetatable, select
local unpack = table.unpack or unpack -- luacheck: ignore
local floor, max = math.floor, math.max
local getenv, os_time = os.getenv, os.time
local fmt, concat = string.format, table.concat
local is_error = errors.is
local raise = usage.raise
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

---A stored half hour: client:readings' row without start_iso/end_iso (absent fields were NULL).
---@class octopus.history.Row
---@field spin string
---@field start_at integer
---@field end_at integer
---@field value number                 kWh
---@field value_text string
---@field cost_estimate? number        yen
---@field cost_estimate_text? string
---@field version? string
---@field band? string
---@field step? integer
---@field fetched_at? integer

---@class octopus.history.SupplyPoint
---@field spin string
---@field account? string
---@field area? string
---@field supply_start? integer
---@field updated_at? integer

---@class octopus.history.store
---@field VERSION_RANK table<string, integer>
---@field FINAL table<string, boolean>
---@field MIGRATIONS string[]
local M = {}

local HALF, DAY = 1800, 86400
M.VERSION_RANK = { DAILY = 1, LATEST = 1, MONTHLY = 2, UPDATED = 3 }
M.FINAL = { MONTHLY = true, UPDATED = true }

M.MIGRATIONS = schema.MIGRATIONS   -- the file format: octopus.history.schema

-- the storage codes (octopus.sqlite builds all but SCHEMA; kind storage)
errors.define("BUSY", "storage", "the database is locked by another connection", true)
errors.define("READONLY", "storage", "the database is read-only", false)
errors.define("DISK_FULL", "storage", "the disk or database is full", false)
errors.define("CONSTRAINT", "storage", "a database constraint failed", false)
errors.define("CANTOPEN", "storage", "the database file cannot be opened", false)
errors.define("CORRUPT", "storage", "the file is not a valid database", false)
errors.define("IO", "storage", "a disk I/O error", false)
errors.define("SQLITE", "storage", "SQLite failed", false)
errors.define("SCHEMA", "storage", "the database schema is not one this version knows", false)

---@param code octopus.ErrorCode
---@param message string
---@return octopus.Error err kind storage
local function storage_error(code, message)
  return errors.new { code = code, kind = "storage", message = message }
end
M.error = storage_error

-- default path: $XDG_DATA_HOME/octopus/readings.sqlite, else ~/.local/share/octopus/
---@return string|nil path $XDG_DATA_HOME/octopus/readings.sqlite (~/.local/share/...); nil without HOME
function M.default_path()
  local base = getenv("XDG_DATA_HOME")
  if not base or base == "" or base:sub(1, 1) ~= "/" then
    local home = getenv("HOME")
    if not home or home == "" then return nil end
    base = home .. "/.local/share"
  end
  return base .. "/octopus/readings.sqlite"
end

---An open store (store.open, client:history).
---@class octopus.history.Store
---@field path string
---@field zone octopus.Zone
---@field read_only boolean
local Store = { __name = "octopus.history.Store" }
Store.__index = Store

local ROW_COLS = "spin, start_at, end_at, value, value_text, cost AS cost_estimate, " ..
  "cost_text AS cost_estimate_text, version, band, step, fetched_at"
-- row field -> its SQL (store:rows{ fields = {...} } reads only those: each field costs)
local FIELD_SQL = { spin = "spin", start_at = "start_at", end_at = "end_at", value = "value",
  value_text = "value_text", cost_estimate = "cost AS cost_estimate",
  cost_estimate_text = "cost_text AS cost_estimate_text",
  version = "version", band = "band", step = "step", fetched_at = "fetched_at" }

-- run fn(self) inside BEGIN IMMEDIATE .. COMMIT; fn returns a result or nil, err (then
-- ROLLBACK); a raise rolls back and re-raises. BUSY (after the busy timeout) is retried.
---@param fn fun(self: octopus.history.Store): any, octopus.Error?
---@return any|nil result
---@return octopus.Error|nil err READONLY, BUSY, ...
function Store:transaction(fn)
  if self.read_only then return nil, storage_error("READONLY", "the store " .. self.path .. " is read-only") end
  local db, err = self.db, nil
  for _ = 1, 5 do
    local ok
    ok, err = db:exec("BEGIN IMMEDIATE")
    if ok then
      local pok, res, ferr = pcall(fn, self)
      if not pok then
        db:exec("ROLLBACK")
        if is_error(res) then return nil, res end
        error(res, 0)
      end
      if res == nil then
        db:exec("ROLLBACK")
        return nil, ferr
      end
      ok, err = db:exec("COMMIT")
      if ok then return res end
      if db:in_transaction() then db:exec("ROLLBACK") end
    end
    if err.code ~= "BUSY" then return nil, err end
  end
  return nil, err
end

-- Internal helpers raise SQLite's error objects (error(err, 0)); the public methods
-- below turn them back into nil, err with protect(), so only usage errors raise.
local function check(v, err)
  if v == nil then error(err, 0) end
  return v
end

local function pack(...) return { n = select("#", ...), ... } end

local function protect(f)
  return function(...)
    local res = pack(pcall(f, ...))
    if res[1] then return unpack(res, 2, res.n) end
    if is_error(res[2]) then return nil, res[2] end
    error(res[2], 0)
  end
end

local function prepare(self, name, sql)
  local st = self.stmts[name]
  if st then return st end
  st = check(self.db:prepare(sql))
  self.stmts[name] = st
  return st
end

-- first row of a cached statement (nil when none; raises the error object)
local function first(self, name, sql, ...)
  local st = prepare(self, name, sql)
  check(st:bind(...))
  local row, err = st:step()
  st:reset()
  if err then error(err, 0) end
  return row
end

-- iterator over a fresh statement, finalized at the end or an error (and by a 5.4
-- for-loop's break: db:rows also returns it as the to-be-closed value)
local function iterate(self, sql, ...)
  return self.db:rows(sql, ...)
end

local function migrate(self)
  local db = self.db
  local row = first(self, "uv", "PRAGMA user_version")
  local v = row and row.user_version or 0
  if v > #M.MIGRATIONS then
    return nil, storage_error("SCHEMA", ("%s has schema version %d; this octopus knows up to %d (upgrade octopus)")
      :format(self.path, v, #M.MIGRATIONS))
  end
  if v == #M.MIGRATIONS then return true end
  if self.read_only then
    return nil, storage_error("READONLY", ("%s has schema version %d and is read-only: cannot migrate it to %d")
      :format(self.path, v, #M.MIGRATIONS))
  end
  return self:transaction(function()
    local cur = first(self, "uv", "PRAGMA user_version")
    local at = cur and cur.user_version or 0     -- another process may have migrated meanwhile
    for i = at + 1, #M.MIGRATIONS do
      local ok, err = db:exec(M.MIGRATIONS[i])
      if not ok then return nil, err end
      ok, err = db:exec("PRAGMA user_version = " .. i)
      if not ok then return nil, err end
    end
    return true
  end)
end

---@param path? string default M.default_path()
---@param opts? { zone?: octopus.ZoneSpec, read_only?: boolean, busy_timeout?: integer }
---@return octopus.history.Store|nil store
---@return octopus.Error|nil err CANTOPEN, READONLY, SCHEMA, CORRUPT, ...
function M.open(path, opts)
  opts = opts or {}
  if type(opts) ~= "table" then raise("store.open: 'opts' must be a table") end
  for k in pairs(opts) do
    if k ~= "zone" and k ~= "read_only" and k ~= "busy_timeout" then
      raise("store.open: unknown option '" .. tostring(k) .. "'")
    end
  end
  if path == nil then
    path = M.default_path()
    if not path then raise("store.open: no 'path' and neither XDG_DATA_HOME nor HOME is set") end
  elseif type(path) ~= "string" or path == "" then
    raise("store.open: 'path' must be a file name")
  end
  local zone = time.zone(opts.zone)
  sqlite = sqlite or require "octopus.sqlite"
  local db, err = sqlite.open(path, { mode = opts.read_only and "ro" or "rwc", private = true,
    busy_timeout = opts.busy_timeout or 5000 })
  if not db then return nil, err end
  local self = setmetatable({ db = db, path = path, zone = zone, stmts = {},
    read_only = opts.read_only == true or db:readonly() }, Store)
  local ok
  if not self.read_only then
    ok, err = db:exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
    if not ok then self:close(); return nil, err end
  end
  ok, err = protect(migrate)(self)
  if not ok then self:close(); return nil, err end
  return self
end

---Idempotent; also __close and __gc.
function Store:close()
  if not self.db then return end
  for _, st in pairs(self.stmts) do st:close() end
  self.stmts = {}
  self.db:close()
  self.db = nil
end
Store.__close = Store.close
Store.__gc = Store.close

---@return string
function Store:__tostring()
  return "octopus.history.Store (" .. (self.db and self.path or "closed") .. ")"
end

---@return integer version PRAGMA user_version (the migrations applied)
function Store:schema_version()
  return first(self, "uv", "PRAGMA user_version").user_version
end

local function check_spin(spin, fname)
  if type(spin) ~= "string" or spin == "" then
    raise("store:" .. fname .. ": 'spin' must be a supply point number (a string)")
  end
end

---------------------------------------------------------------------------
-- supply points

---@param sp { spin: string, account?: string, area?: string, supply_start?: integer }
---@return true|nil ok
---@return octopus.Error|nil err
function Store:put_supply_point(sp)
  if type(sp) ~= "table" then raise("store:put_supply_point: expected a table { spin, account, area }") end
  check_spin(sp.spin, "put_supply_point")
  return self:transaction(function()
    local st = prepare(self, "sp_put", [[INSERT INTO supply_points (spin, account, area, supply_start, updated_at)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (spin) DO UPDATE SET account = coalesce(excluded.account, account),
      area = coalesce(excluded.area, area), supply_start = coalesce(excluded.supply_start, supply_start),
      updated_at = excluded.updated_at]])
    return st:run(sp.spin, sp.account, sp.area, sp.supply_start, os_time())
  end)
end

---@param spin string
---@return octopus.history.SupplyPoint|nil supply_point
function Store:supply_point(spin)
  return (first(self, "sp_get", "SELECT * FROM supply_points WHERE spin = ?", spin))
end

---@return octopus.history.SupplyPoint[] supply_points
function Store:supply_points()
  local out = {}
  for r in iterate(self, "SELECT * FROM supply_points ORDER BY spin") do out[#out + 1] = r end
  return out
end

---------------------------------------------------------------------------
-- writing rows

local function same(old, r)
  return old.value_text == r.value_text and old.cost_text == r.cost_estimate_text and
    old.version == r.version and old.band == r.band and old.step == r.step
end

-- merge [from, to) into the spin's coverage (inside a transaction)
local function add_coverage(self, spin, from, to)
  local lo, hi = from, to
  local st = prepare(self, "cov_find",
    "SELECT from_at, to_at FROM coverage WHERE spin = ? AND to_at >= ? AND from_at <= ?")
  local found = {}
  for r in st:rows(spin, from, to) do found[#found + 1] = r end
  for _, r in ipairs(found) do
    if r.from_at < lo then lo = r.from_at end
    if r.to_at > hi then hi = r.to_at end
  end
  local del = prepare(self, "cov_del", "DELETE FROM coverage WHERE spin = ? AND to_at >= ? AND from_at <= ?")
  local ok, err = del:run(spin, from, to)
  if not ok then return nil, err end
  return prepare(self, "cov_ins", "INSERT INTO coverage (spin, from_at, to_at) VALUES (?, ?, ?)"):run(spin, lo, hi)
end

---@param spin string
---@param rows octopus.Reading[]|table[] reading rows (client:readings shape)
---@param opts? { covered?: integer[], fetched_at?: integer }
---@return { added: integer, revised: integer, unchanged: integer }|nil counts
---@return octopus.Error|nil err
function Store:put_rows(spin, rows, opts)
  check_spin(spin, "put_rows")
  if type(rows) ~= "table" then raise("store:put_rows: 'rows' must be an array of readings") end
  opts = opts or {}
  local covered = opts.covered
  if covered ~= nil and (type(covered) ~= "table" or type(covered[1]) ~= "number" or type(covered[2]) ~= "number") then
    raise("store:put_rows: option 'covered' must be { from, to } (epoch seconds)")
  end
  for i, r in ipairs(rows) do
    if type(r) ~= "table" or type(r.start_at) ~= "number" or type(r.value) ~= "number" then
      raise("store:put_rows: row " .. i .. " needs numeric start_at and value")
    end
  end
  local fetched_at = opts.fetched_at or os_time()
  return self:transaction(function()
    local ins = prepare(self, "ins", [[INSERT INTO readings (spin, start_at, end_at, value, value_text, cost,
      cost_text, version, band, step, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (spin, start_at) DO NOTHING]])
    local get = prepare(self, "get", "SELECT * FROM readings WHERE spin = ? AND start_at = ?")
    local rev = prepare(self, "rev", [[INSERT INTO revisions (spin, start_at, end_at, value, value_text, cost,
      cost_text, version, band, step, fetched_at, replaced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]])
    local upd = prepare(self, "upd", [[UPDATE readings SET end_at = ?, value = ?, value_text = ?, cost = ?,
      cost_text = ?, version = ?, band = ?, step = ?, fetched_at = ? WHERE spin = ? AND start_at = ?]])
    local added, revised, unchanged = 0, 0, 0
    local run = ins.run   -- the loop below is the insert's Lua cost: no per-row method lookup or helper call
    for _, r in ipairs(rows) do
      local s, v, vt, ct = r.start_at, r.value, r.value_text, r.cost_estimate_text
      local e = r.end_at or s + HALF
      if type(vt) ~= "string" then vt = tostring(v) end   -- value is a number (checked above)
      local cost = ct ~= nil and r.cost_estimate or nil
      local ok, err = run(ins, spin, s, e, v, vt, cost, ct, r.version, r.band, r.step, fetched_at)
      if not ok then return nil, err end
      if ok == 1 then
        added = added + 1
      else
        ok, err = get:bind(spin, s)
        if not ok then return nil, err end
        local old
        old, err = get:step()
        get:reset()
        if not old then return nil, err or storage_error("SQLITE", "row vanished during put_rows") end
        local nr = { value_text = vt, cost_estimate_text = r.cost_estimate_text, version = r.version,
                     band = r.band, step = r.step }
        if same(old, nr) or (M.VERSION_RANK[r.version] or 0) < (M.VERSION_RANK[old.version] or 0) then
          unchanged = unchanged + 1
        else
          ok, err = rev:run(spin, s, old.end_at, old.value, old.value_text, old.cost, old.cost_text, old.version,
            old.band, old.step, old.fetched_at, fetched_at)
          if not ok then return nil, err end
          ok, err = upd:run(e, r.value, vt, cost, r.cost_estimate_text, r.version, r.band, r.step, fetched_at, spin, s)
          if not ok then return nil, err end
          revised = revised + 1
        end
      end
    end
    if covered then
      local ok, err = add_coverage(self, spin, covered[1], covered[2])
      if not ok then return nil, err end
    end
    return { added = added, revised = revised, unchanged = unchanged }
  end)
end

---------------------------------------------------------------------------
-- reading

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

-- queries: a SQLite failure (CORRUPT, IO, BUSY past the timeout...) -> nil, err
for _, name in ipairs { "schema_version", "supply_point", "supply_points", "count", "extent", "revisions",
                        "oldest_open", "coverage", "uncovered", "gaps", "by_day", "by_month" } do
  Store[name] = protect(Store[name])
end

M.Store = Store
return M
