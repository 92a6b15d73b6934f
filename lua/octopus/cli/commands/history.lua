-- octopus.cli.commands.history: the local history — sync (client:sync, else
-- octopus.history.sync over a store), history and export (octopus.history.store and
-- .export, offline: no credentials, no network). Without the history layer installed
-- these fail cleanly (exit 2, "not available in this version").
--
-- The store is keyed by supply point (SPIN): history and export take --supply-point,
-- else the only supply point the store knows (for ACCOUNT when given).
local format = require "octopus.cli.format"
local money = require "octopus.cli.commands.money"

local M = {}
local pick = money.pick

local function layer(name)
  local ok, mod = pcall(require, "octopus.history." .. name)
  if not ok or type(mod) ~= "table" then
    error({ cli_usage = "the local history (octopus.history." .. name
      .. ") is not available in this version of octopus" }, 0)
  end
  return mod
end

local function open_store(args, read_only)
  local store = layer("store")
  if read_only then
    local path = args.db or store.default_path()
    local f = path and io.open(path, "r")
    if not f then
      error({ cli_usage = "no local history at " .. tostring(path) .. ": run `octopus sync` first" }, 0)
    end
    f:close()
  end
  return store.open(args.db, read_only and { read_only = true } or nil)
end

-- the SPIN to read: --supply-point, else the store's only one (for the account)
local function pick_spin(db, args)
  if args.supply_point then return args.supply_point end
  local found = {}
  for _, sp in ipairs(db:supply_points()) do
    if not args.account or sp.account == args.account then found[#found + 1] = sp end
  end
  if #found == 1 then return found[1].spin end
  if #found == 0 then
    error({ cli_usage = "the history at " .. tostring(db.path) .. " holds no supply point"
      .. (args.account and (" of " .. args.account) or "") .. ": run `octopus sync` first" }, 0)
  end
  local spins = {}
  for i, sp in ipairs(found) do spins[i] = sp.spin .. " (" .. tostring(sp.account) .. ")" end
  error({ cli_usage = "the history holds several supply points: name one with --supply-point: "
    .. table.concat(spins, ", ") }, 0)
end

function M.render_sync(report)
  local row = { spin = pick(report, "spin"), added = pick(report, "added"), revised = pick(report, "revised"),
    unchanged = pick(report, "unchanged"), windows = pick(report, "windows", "windows_fetched"),
    requests = pick(report, "requests") }
  return {
    columns = { { key = "spin", title = "Supply point" },
      { key = "added", title = "Added", align = "right" }, { key = "revised", title = "Revised", align = "right" },
      { key = "unchanged", title = "Unchanged", align = "right" },
      { key = "windows", title = "Windows", align = "right" } },
    rows = { row }, json = report,
  }
end

function M.sync(args, ctx)
  local client = ctx.client("any")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local bar = ctx.progress("sync")
  local opts = { from = args.from, supply_point = args.supply_point, progress = bar:callback() }
  local report, err
  if type(client.sync) == "function" then
    if args.db then opts.path = args.db end
    report, err = client:sync(number, opts)
  else
    local sync = layer("sync")
    local db, oerr = open_store(args)
    if not db then bar:done() return nil, oerr end
    local ok, r, e = pcall(sync.sync, client, db, number, opts)
    db:close()
    if not ok then bar:done() error(r, 0) end
    report, err = r, e
  end
  bar:done()
  if not report then return nil, err end
  return M.render_sync(report)
end

function M.history(args)
  local db, err = open_store(args, true)
  if not db then return nil, err end
  local ok, buckets, qerr = pcall(function()
    local spin = pick_spin(db, args)
    local fn = args.by == "month" and db.by_month or db.by_day
    return fn(db, spin, { from = args.from, to = args.to })
  end)
  db:close()
  if not ok then error(buckets, 0) end
  if not buckets then return nil, qerr end
  local rows = {}
  for i, b in ipairs(buckets) do
    rows[i] = { key = b.key, kwh = b.value, yen = b.cost_estimate, halfhours = b.count }
  end
  local total = require("octopus.cli.commands.usage").totals(buckets)
  return {
    columns = { { key = "key", title = args.by == "month" and "Month" or "Day" },
      { key = "kwh", title = "kWh", align = "right", fmt = format.kwh },
      { key = "yen", title = "Yen", align = "right", fmt = format.yen },
      { key = "halfhours", title = "Half hours", align = "right" } },
    csv_columns = { { key = "key", csv_title = args.by }, { key = "kwh" }, { key = "yen" }, { key = "halfhours" } },
    rows = rows, show_empty = true,
    after = { ("total %s kWh, %s yen"):format(format.kwh(total.kwh), format.yen(total.yen)) },
    json = { by = args.by, total = { kwh = total.kwh, yen = total.yen, halfhours = total.count },
             [args.by == "month" and "months" or "days"] = require("octopus.core").json.array(rows) },
  }
end

-- streams to stdout in constant memory through octopus.history.export
function M.export(args)
  local export = layer("export")
  local db, err = open_store(args, true)
  if not db then return nil, err end
  local ok, n, xerr = pcall(function()
    local spin = pick_spin(db, args)
    local write = args.ndjson and export.ndjson or export.csv
    return write(db, spin, io.stdout, { from = args.from, to = args.to })
  end)
  db:close()
  if not ok then error(n, 0) end
  if not n then return nil, xerr end
  io.stdout:flush()
  return { streamed = true }
end

return M
