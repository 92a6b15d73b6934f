-- octopus.history: the history domain's entry: its modules and the client methods the
-- facade installs on the Client class (as it does graphql.methods, async.methods).
--
--   history.store / history.sync / history.export    the modules
--   client:history([{ path =, read_only = }]) -> Store | nil, err
--     the store at path (default $XDG_DATA_HOME/octopus/readings.sqlite) in the client's zone
--   client:sync(account [, { store = Store | path =, supply_point, from, window_days,
--               concurrency, reread_days, progress }]) -> report | nil, err, partial_report
--     octopus.history.sync.sync on `store` (left open), or on the store at `path` (opened
--     and closed here)
local store = require "octopus.history.store"
local sync = require "octopus.history.sync"
local export = require "octopus.history.export"
local usage = require "octopus.pipeline.usage"

local type, pairs = type, pairs
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

---@class octopus.history
---@field store octopus.history.store
---@field sync octopus.history.sync
---@field export octopus.history.export
---@field methods table<string, function> history, sync: installed on the Client
local M = { store = store, sync = sync, export = export }

---client:history(opts).
---@param client octopus.Client
---@param opts? { path?: string, read_only?: boolean }
---@return octopus.history.Store|nil store
---@return octopus.Error|nil err
local function history(client, opts)
  opts = opts or {}
  if type(opts) ~= "table" then usage.raise("client:history: options must be a table { path =, read_only = }") end
  for k in pairs(opts) do
    if k ~= "path" and k ~= "read_only" then usage.raise("client:history: unknown option '" .. k .. "'") end
  end
  return store.open(opts.path, { zone = client.zone, read_only = opts.read_only })
end

---client:sync(account, opts): opts also store (left open) or path.
---@param client octopus.Client
---@param account string
---@param opts? octopus.SyncOptions|{ store?: octopus.history.Store, path?: string }
---@return octopus.SyncReport|nil report
---@return octopus.Error|nil err
---@return octopus.SyncReport|nil partial_report
local function client_sync(client, account, opts)
  opts = opts or {}
  if type(opts) ~= "table" then usage.raise("client:sync: options must be a table") end
  local s, own = opts.store, false
  local rest = {}
  for k, v in pairs(opts) do if k ~= "store" and k ~= "path" then rest[k] = v end end
  if s == nil then
    local err
    s, err = store.open(opts.path, { zone = client.zone })
    if not s then return nil, err end
    own = true
  elseif type(s) ~= "table" or not s.put_rows then
    usage.raise("client:sync: option 'store' must be an octopus.history store")
  end
  local report, err, partial = sync.sync(client, s, account, rest)
  if own then s:close() end
  return report, err, partial
end

M.methods = { history = history, sync = client_sync }   -- installed on the Client by the facade

return M
