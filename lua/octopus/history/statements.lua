-- octopus.history.statements: the store's statement helpers (internal), shared by
-- octopus.history.store (open, writes) and octopus.history.query (reads).
--   check(v, err) -> v, or raises the error object;  protect(f) -> f returning nil, err
--   prepare(store, name, sql) -> a cached statement;  first(store, name, sql, ...) -> first row | nil
--   iterate(store, sql, ...) -> rows of a fresh statement;  check_spin(spin, fname) raises a usage error
--   ROW_COLS: the readings columns as row fields
local errors = require "octopus.pipeline.errors"
local usage = require "octopus.pipeline.usage"

local type, error, pcall, select = type, error, pcall, select
local unpack = table.unpack or unpack -- luacheck: ignore
local is_error = errors.is
local raise = usage.raise
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

local M = {}

local ROW_COLS = "spin, start_at, end_at, value, value_text, cost AS cost_estimate, " ..
  "cost_text AS cost_estimate_text, version, band, step, fetched_at"

-- Internal helpers raise SQLite's error objects (error(err, 0)); the Store's public
-- methods are wrapped in protect(), which turns them back into nil, err, so only
-- usage errors raise.
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

local function check_spin(spin, fname)
  if type(spin) ~= "string" or spin == "" then
    raise("store:" .. fname .. ": 'spin' must be a supply point number (a string)")
  end
end

M.ROW_COLS = ROW_COLS
M.check, M.protect, M.prepare, M.first, M.iterate, M.check_spin = check, protect, prepare, first, iterate, check_spin

return M
