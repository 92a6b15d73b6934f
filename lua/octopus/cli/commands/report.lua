-- octopus.cli.commands.report: `octopus report -o FILE` — fetches the last N months of
-- readings (and, when the money layer is there, the current bill and a comparison) and
-- writes one self-contained HTML file (octopus.cli.report). Prints the totals it wrote.
local usage = require "octopus.cli.commands.usage"
local money = require "octopus.cli.commands.money"
local report = require "octopus.cli.report"
local readings = require "octopus.graphql.readings"
local time = require "octopus.pipeline.time"

local M = {}

function M.report(args, ctx)
  local client = ctx.client("any")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local zone = client.zone
  local today = time.day_start(os.time(), zone)
  local month_start = time.month_window(today, zone)
  local from_t = time.add_months(month_start, -(args.months - 1), zone)
  local from, to = time.format(from_t, zone):sub(1, 10), time.format(today + 86400, zone):sub(1, 10)
  local rows, err = usage.fetch(ctx, client, number, from, to)
  if not rows then return nil, err end
  local days = readings.by_day(rows, zone)
  local months = readings.by_month(rows, zone)
  local total = usage.totals(days)
  local total_text = ("total %s kWh, %s yen over %d days"):format(require("octopus.cli.format").kwh(total.kwh),
    require("octopus.cli.format").yen(total.yen), #days)
  local bill, compare
  if type(client.bill) == "function" then
    local b = client:bill(number, { period = "current" })
    if b then bill = money.render_bill(b) end
  end
  if type(client.compare) == "function" then
    local bar = ctx.progress("compare")
    local c = client:compare(number, { months = args.months, progress = bar:callback() })
    bar:done()
    if c then compare = money.render_compare(c) end
  end
  local html = report.html { title = "Electricity use: " .. number, account = number, from = from, to = to,
    days = days, months = months, total = total, total_text = total_text, bill = bill, compare = compare,
    version = ctx.version }
  local f, ferr = io.open(args.output, "w")
  if not f then error({ cli_usage = "cannot write " .. args.output .. ": " .. tostring(ferr) }, 0) end
  f:write(html)
  f:close()
  return {
    after = { total_text, "wrote " .. args.output },
    json = { account = number, from = from, to = to, output = args.output,
             total = { kwh = total.kwh, yen = total.yen, days = #days } },
  }
end

return M
