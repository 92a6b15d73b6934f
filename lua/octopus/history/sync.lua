-- octopus.history.sync: bring a store up to date with the API, fetching only what is
-- missing or can still change, so a year is not 53 GraphQL calls every time.
--
--   sync.sync(client, store, account [, { supply_point, from, window_days = 30,
--             concurrency = 4, reread_days = 14, progress = function(done, total) }])
--     -> report | nil, err, partial_report
--   report = { spin, from, to, reread_from, added, revised, unchanged, windows, requests }
--
-- What is fetched (client zone, epochs; `to` = the last whole half hour of the client's clock):
--  * the backfill: [from, reread_from) minus what earlier syncs fetched in full
--    (store:coverage). `from` is opts.from, else the supply start the store knows, else
--    the earliest validFrom of the supply point's active agreements (one Account query,
--    first run only); without any of these the sync raises asking for 'from'.
--  * the re-read window [reread_from, to), fetched every time: what can still change.
--    reread_from is the earliest of the start of the open billing period (the current
--    calendar month of the client's zone), `reread_days` (14) days ago, and the oldest
--    stored row whose version is not final (DAILY) if that is within the last 62 days
--    (REREAD_MAX_DAYS). Reissued rows (MONTHLY/UPDATED replacing DAILY) are revisions.
--  Ranges are cut into windows of window_days (30 days = 1440 rows, under the API's
--  1488-row cap, so no window needs splitting); an up-to-date account re-syncs in one
--  or two HalfHourlyReadings requests (two only when the month is over 30 days old),
--  plus the Account query on the very first run when the supply point is unknown.
--
-- Invariants: each window is written in its own transaction together with its coverage
-- as soon as it arrives, so a sync killed at any point loses at most the windows in
-- flight and the next sync fetches exactly those again. Windows run concurrently through
-- client:map (at most `concurrency` at once, within the client's own limit and retry/
-- rate-limit handling). Uses only the client's public API (client:account, client:readings,
-- client:map, client.zone).
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"
local async_pcall = require("octopus.async").pcall
local raise = require("octopus.pipeline.usage").raise

local type, ipairs, pairs, tostring, error, pcall = type, ipairs, pairs, tostring, error, pcall
local floor, min = math.floor, math.min
local os_time = os.time
local concat = table.concat
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

---client:sync's options.
---@class octopus.SyncOptions
---@field supply_point? string
---@field from? octopus.TimeValue
---@field window_days? integer
---@field concurrency? integer
---@field reread_days? number
---@field progress? fun(done: integer, total: integer)

---What a sync did.
---@class octopus.SyncReport
---@field spin string
---@field from integer
---@field to integer
---@field reread_from integer
---@field added integer
---@field revised integer
---@field unchanged integer
---@field windows integer
---@field requests integer

---@class octopus.history.sync
---@field WINDOW_DAYS integer
---@field CONCURRENCY integer
---@field REREAD_DAYS integer
---@field REREAD_MAX_DAYS integer
local M = {}

M.WINDOW_DAYS = 30
M.CONCURRENCY = 4
M.REREAD_DAYS = 14
M.REREAD_MAX_DAYS = 62

local HALF, DAY = 1800, 86400

local OPTS = { supply_point = "string", from = true, window_days = "number", concurrency = "number",
               reread_days = "number", progress = "function" }

local function usage(msg) raise("sync: " .. msg) end
local function bare(msg) return (tostring(msg):gsub("^[^:]*:%d+: ", "")) end

-- a store query's result, or its error object raised (M.sync turns it into nil, err)
local function q(v, err)
  if v == nil and err ~= nil then error(err, 0) end
  return v
end

-- the supply points of an Account answer -> array of { spin, supply_start }
local function supply_points(acct)
  local out = {}
  if type(acct) ~= "table" or type(acct.properties) ~= "table" then return out end
  for _, prop in ipairs(acct.properties) do
    local sps = type(prop) == "table" and prop.electricitySupplyPoints
    for _, sp in ipairs(type(sps) == "table" and sps or {}) do
      if type(sp) == "table" and type(sp.spin) == "string" then
        local start
        for _, a in ipairs(type(sp.agreements) == "table" and sp.agreements or {}) do
          if type(a) == "table" and type(a.validFrom) == "string" then
            local ok, t = pcall(time.parse, a.validFrom)
            if ok and (not start or t < start) then start = t end
          end
        end
        out[#out + 1] = { spin = sp.spin, supply_start = start }
      end
    end
  end
  return out
end

-- spin and the stored supply point row | nil, err; may ask the API (report.requests)
local function resolve(client, store, account, opts, report)
  local spin = opts.supply_point
  local known
  if spin then
    known = q(store:supply_point(spin))
  else
    local mine = {}
    for _, sp in ipairs(q(store:supply_points())) do if sp.account == account then mine[#mine + 1] = sp end end
    if #mine == 1 then known, spin = mine[1], mine[1].spin end
  end
  if known and (opts.from or known.supply_start) then return spin, known end
  if spin and opts.from then
    local ok, err = store:put_supply_point { spin = spin, account = account, area = spin:match("^%d%d") }
    if not ok then return nil, err end
    return spin, q(store:supply_point(spin))
  end
  local acct, err = client:account(account)
  report.requests = report.requests + 1
  if not acct then return nil, err end
  local sps = supply_points(acct)
  local chosen
  for _, sp in ipairs(sps) do
    if sp.spin == spin or (not spin and #sps == 1) then chosen = sp end
  end
  if not chosen then
    if spin or #sps == 0 then
      return nil, errors.new { code = "NOT_FOUND", kind = "graphql", retryable = false,
        message = spin and ("supply point " .. spin .. " is not on account " .. account)
          or ("account " .. account .. " has no electricity supply point") }
    end
    local spins = {}
    for i, sp in ipairs(sps) do spins[i] = sp.spin end
    raise("sync: account " .. account .. " has " .. #sps .. " supply points (" .. concat(spins, ", ") ..
      "): choose one with the 'supply_point' option")
  end
  local ok, perr = store:put_supply_point { spin = chosen.spin, account = account,
    area = chosen.spin:match("^%d%d"), supply_start = chosen.supply_start }
  if not ok then return nil, perr end
  return chosen.spin, q(store:supply_point(chosen.spin))
end

-- [a, b) cut into windows of `step` seconds, appended to out
local function cut(out, a, b, step)
  while a < b do
    local e = min(a + step, b)
    out[#out + 1] = { from = a, to = e }
    a = e
  end
end

-- M.plan(store, spin, from, to, now, zone, opts) -> windows, reread_from (pure but for the store reads)
---@param store octopus.history.Store
---@param spin string
---@param from integer
---@param to integer
---@param now integer
---@param zone octopus.ZoneSpec
---@param opts octopus.SyncOptions
---@return { from: integer, to: integer }[] windows
---@return integer reread_from
function M.plan(store, spin, from, to, now, zone, opts)
  local step = (opts.window_days or M.WINDOW_DAYS) * DAY
  local month_from = time.month_window(now, zone)
  local reread = min(month_from, time.day_start(now - (opts.reread_days or M.REREAD_DAYS) * DAY, zone))
  local open = q(store:oldest_open(spin))
  if open and open >= now - M.REREAD_MAX_DAYS * DAY and open < reread then reread = floor(open / HALF) * HALF end
  if reread < from then reread = from end
  if reread > to then reread = to end
  local windows = {}
  for _, gap in ipairs(q(store:uncovered(spin, from, reread))) do cut(windows, gap.from, gap.to, step) end
  -- a backfill gap ending at reread_from joins the re-read range (one fewer window)
  local last = windows[#windows]
  local rfrom = reread
  if last and last.to == reread and last.to - last.from < step then
    rfrom = last.from
    windows[#windows] = nil
  end
  cut(windows, rfrom, to, step)
  return windows, reread
end

local run

---@param client octopus.Client
---@param store octopus.history.Store
---@param account string
---@param opts? octopus.SyncOptions
---@return octopus.SyncReport|nil report
---@return octopus.Error|nil err
---@return octopus.SyncReport|nil partial_report what was written before the failure
function M.sync(client, store, account, opts)
  local report = { added = 0, revised = 0, unchanged = 0, windows = 0, requests = 0 }
  -- async.pcall: sync may run inside a task, whose client calls yield (PUC 5.1 too)
  local res = { async_pcall(run, client, store, account, opts, report) }
  if res[1] then return res[2], res[3], res[4] end
  if errors.is(res[2]) then return nil, res[2], report end
  error(res[2], 0)
end

function run(client, store, account, opts, report)
  if type(client) ~= "table" then usage("'client' must be an octopus client") end
  if type(store) ~= "table" or not store.put_rows then usage("'store' must be an octopus.history store") end
  if type(account) ~= "string" or account == "" then usage("'account' must be an account number (\"A-1234ABCD\")") end
  opts = opts or {}
  if type(opts) ~= "table" then usage("options must be a table") end
  for k, v in pairs(opts) do
    local want = OPTS[k]
    if not want then usage("unknown option '" .. tostring(k) .. "'") end
    if want ~= true and type(v) ~= want then usage("option '" .. k .. "' must be a " .. want) end
  end
  local wd = opts.window_days
  if wd and (wd ~= floor(wd) or wd < 1 or wd > 30) then
    usage("option 'window_days' must be a whole number from 1 to 30")
  end
  local conc = opts.concurrency or M.CONCURRENCY
  if conc ~= floor(conc) or conc < 1 then usage("option 'concurrency' must be a whole number >= 1") end
  local zone = client.zone
  local from
  if opts.from ~= nil then
    local ok, t = pcall(time.parse, opts.from, zone)
    if not ok then usage("option 'from': " .. bare(t)) end
    from = t
  end
  local now = floor(client.clock and client.clock.wall() or os_time())   -- the client's clock (specs fake it)
  local to = floor(now / HALF) * HALF
  local spin, sp = resolve(client, store, account, opts, report)
  if not spin then return nil, sp, report end
  report.spin = spin
  if not from then
    from = sp.supply_start
    local cov = q(store:coverage(spin))[1]
    if cov and (not from or cov.from < from) then from = cov.from end
    if not from then usage("option 'from' is required: account " .. account .. " gives no supply start") end
  end
  from = floor(from / HALF) * HALF
  if from >= to then usage("option 'from' must be in the past") end
  local windows, reread = M.plan(store, spin, from, to, now, zone, opts)
  report.from, report.to, report.reread_from, report.windows = from, to, reread, #windows
  local done, first_err = 0, nil
  local function fetch(w)
    local it = client:readings(account, { from = w.from, to = w.to, supply_point = spin,
      window_days = opts.window_days or M.WINDOW_DAYS })
    local rows, err = it:all()
    report.requests = report.requests + (it.windows_done or 0) + (rows and 0 or 1)
    if not rows then return nil, err end
    local counts, serr = store:put_rows(spin, rows, { covered = { w.from, w.to }, fetched_at = now })
    if not counts then return nil, serr end
    report.added = report.added + counts.added
    report.revised = report.revised + counts.revised
    report.unchanged = report.unchanged + counts.unchanged
    done = done + 1
    if opts.progress then opts.progress(done, #windows) end
    return true
  end
  if conc == 1 or #windows <= 1 then
    for _, w in ipairs(windows) do
      local ok, err = fetch(w)
      if not ok then first_err = err; break end
    end
  else
    local _, errs = client:map(windows, fetch, { concurrency = conc })
    for i = 1, #windows do
      if errs and errs[i] then first_err = errs[i]; break end
    end
  end
  if first_err then
    if not errors.is(first_err) then error(first_err, 0) end   -- a raise inside a window's task
    return nil, first_err, report
  end
  return report
end

return M
