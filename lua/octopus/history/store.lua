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
-- The reads are octopus.history.query's (installed on Store below), the statement helpers
-- octopus.history.statements', the file format octopus.history.schema's.
-- octopus.sqlite (libsqlite3) is loaded by the first open, not here: the facade requires
-- this module, and a script that only talks HTTP must not load libsqlite3
local sqlite
local require = require
local time = require "octopus.pipeline.time"
local schema = require "octopus.history.schema"
local errors = require "octopus.pipeline.errors"
local usage = require "octopus.pipeline.usage"
local statements = require "octopus.history.statements"

local type, pairs, ipairs, tostring, error, pcall, setmetatable =
  type, pairs, ipairs, tostring, error, pcall, setmetatable
local getenv, os_time = os.getenv, os.time
local is_error = errors.is
local raise = usage.raise
local protect, prepare, first, iterate, check_spin = statements.protect, statements.prepare, statements.first,
  statements.iterate, statements.check_spin
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

local HALF = 1800
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

for name, f in pairs(require "octopus.history.query") do Store[name] = f end   -- the reads

-- queries: a SQLite failure (CORRUPT, IO, BUSY past the timeout...) -> nil, err
for _, name in ipairs { "schema_version", "supply_point", "supply_points", "count", "extent", "revisions",
                        "oldest_open", "coverage", "uncovered", "gaps", "by_day", "by_month" } do
  Store[name] = protect(Store[name])
end

M.Store = Store
return M
