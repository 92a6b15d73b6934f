-- octopus.cli.commands.usage: `octopus usage` — half-hourly readings over a period,
-- as half hours, days, weeks or months; on a terminal with bars beside the days, an
-- optional half-hour x day heat map, and a sparkline in the summary line. Fetching shows
-- a progress bar (readings come in 7-day windows). M.fetch is shared with `report`.
local format = require "octopus.cli.format"
local chart = require "octopus.cli.chart"
local readings = require "octopus.graphql.readings"
local time = require "octopus.pipeline.time"

local floor = math.floor
local array = function(t) return require("octopus.core").json.array(t) end

local M = {}

local function round(x, d) local s = 10 ^ d return floor(x * s + 0.5) / s end

-- rows, number | nil, err: the readings of [from, to) with a progress bar
function M.fetch(ctx, client, number, from, to, supply_point)
  local bar = ctx.progress("readings")
  local it = client:readings(number, { from = from, to = to, supply_point = supply_point,
    progress = bar:callback() })
  local rows, err = it:all()
  bar:done()
  return rows, err
end

-- day buckets -> ISO-week buckets (weeks start on Monday, in the client's zone)
function M.by_week(days, zone)
  local out, by = {}, {}
  for _, d in ipairs(days) do
    local wd = time.date(d.from, zone).wday
    local start = d.from - (wd - 1) * 86400
    local key = time.format(start, zone):sub(1, 10)
    local w = by[key]
    if not w then
      w = { key = key, from = time.day_start(start, zone), value = 0, cost_estimate = 0, count = 0 }
      w.to = w.from + 7 * 86400
      by[key] = w
      out[#out + 1] = w
    end
    w.value = w.value + d.value
    w.cost_estimate = w.cost_estimate + d.cost_estimate
    w.count = w.count + d.count
  end
  for _, w in ipairs(out) do w.value, w.cost_estimate = round(w.value, 3), round(w.cost_estimate, 2) end
  return out
end

function M.totals(buckets)
  local kwh, yen, n = 0, 0, 0
  for _, b in ipairs(buckets) do kwh, yen, n = kwh + b.value, yen + b.cost_estimate, n + b.count end
  return { kwh = round(kwh, 3), yen = round(yen, 2), count = n }
end

-- the heat map grid of half-hourly rows: one row per day
function M.heat_grid(rows, zone)
  local grid, by = {}, {}
  for _, r in ipairs(rows) do
    local d = time.date(r.start_at, zone)
    local key = ("%02d-%02d"):format(d.month, d.day)
    local g = by[key]
    if not g then g = { label = key, cells = {} } by[key] = g grid[#grid + 1] = g end
    g.cells[d.hour * 2 + (d.min >= 30 and 1 or 0) + 1] = r.value
  end
  return grid
end

-- at most `cols` values: consecutive values averaged in equal groups (a year of days
-- fits one terminal line)
function M.squeeze(values, cols)
  if #values <= cols then return values end
  local out, per = {}, #values / cols
  for i = 1, cols do
    local a, b = floor((i - 1) * per) + 1, floor(i * per)
    local sum = 0
    for j = a, b do sum = sum + values[j] end
    out[i] = sum / (b - a + 1)
  end
  return out
end

local function summary(ctx, days, total, what)
  local values = {}
  for i, d in ipairs(days) do values[i] = d.value end
  values = M.squeeze(values, 60)
  local spark = chart.sparkline(values, { ascii = ctx.ascii })
  local missing = 0
  for _, d in ipairs(days) do missing = missing + (48 - d.count) end
  local s = ("total %s kWh, %s yen over %d %s  %s"):format(format.kwh(total.kwh), format.yen(total.yen),
    #days, what, spark)
  if missing > 0 then s = s .. ("  (%d half hours missing)"):format(missing) end
  return s
end

function M.usage(args, ctx)
  local client = ctx.client("any")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local rows, err = M.fetch(ctx, client, number, args.from, args.to, args.supply_point)
  if not rows then return nil, err end
  local zone = client.zone
  local days = readings.by_day(rows, zone)
  local total = M.totals(days)
  local by = args.by
  local head = { ("%s  %s .. %s (JST, end exclusive)"):format(number, args.from, args.to) }
  local doc = { account = number, from = args.from, to = args.to, by = by,
                total = { kwh = total.kwh, yen = total.yen, halfhours = total.count } }
  local bucket_cols = {
    { key = "kwh", title = "kWh", align = "right", fmt = format.kwh },
    { key = "yen", title = "Yen", align = "right", fmt = format.yen },
  }
  if by == "halfhour" then
    local out = {}
    for i, r in ipairs(rows) do
      out[i] = { start = r.start_iso, ["end"] = r.end_iso, kwh = r.value, kwh_text = r.value_text,
        yen = r.cost_estimate, yen_text = r.cost_estimate_text, version = r.version }
    end
    doc.halfhours = array(out)
    local after = {}
    if args.heatmap then
      for _, l in ipairs(chart.heatmap(M.heat_grid(rows, zone), { ascii = ctx.ascii })) do after[#after + 1] = l end
    end
    after[#after + 1] = summary(ctx, days, total, "days")
    return {
      before = head,
      columns = not args.heatmap and { { key = "start", title = "Start" }, bucket_cols[1], bucket_cols[2],
        { key = "version", title = "Version" } } or nil,
      csv_columns = { { key = "start" }, { key = "end" }, { key = "kwh", raw = function(_, r) return r.kwh_text end },
        { key = "yen", raw = function(_, r) return r.yen_text end }, { key = "version" } },
      rows = out, json = doc, after = after,
    }
  end
  local buckets = days
  if by == "week" then buckets = M.by_week(days, zone)
  elseif by == "month" then buckets = readings.by_month(rows, zone) end
  local out, top = {}, 0
  for i, b in ipairs(buckets) do
    out[i] = { key = b.key, kwh = b.value, yen = b.cost_estimate, halfhours = b.count }
    if b.value > top then top = b.value end
  end
  doc[by == "day" and "days" or by == "week" and "weeks" or "months"] = array(out)
  local title = by == "day" and "Day" or by == "week" and "Week of" or "Month"
  local columns = { { key = "key", title = title }, bucket_cols[1], bucket_cols[2] }
  if by == "day" then
    columns[#columns + 1] = { key = "halfhours", title = "Half hours", align = "right",
      fmt = function(v) return v < 48 and tostring(v) .. "!" or tostring(v) end }
  end
  columns[#columns + 1] = { key = "kwh", title = "", fmt = function(v)
    return chart.bar(v, top, 30, ctx.ascii) end }
  local after = {}
  if args.heatmap then
    for _, l in ipairs(chart.heatmap(M.heat_grid(rows, zone), { ascii = ctx.ascii })) do after[#after + 1] = l end
  end
  after[#after + 1] = summary(ctx, days, total, "days")
  return {
    before = head, columns = columns,
    csv_columns = { { key = "key", csv_title = by == "month" and "month" or by == "week" and "week" or "day" },
      { key = "kwh" }, { key = "yen" }, { key = "halfhours" } },
    rows = out, json = doc, after = after,
  }
end

return M
