-- examples/bill.lua: "what did I pay / what am I paying?" The bill for a billing period,
-- line by line (standing charge, each step, fuel-cost adjustment, subsidy, levy), the way
-- a Japanese bill rounds it, with the assumptions it made.
--
-- Usage: lua5.4 examples/bill.lua [current|previous|YYYY-MM-DD YYYY-MM-DD] [PRODUCT_CODE]
--   (environment: see examples/money_common.lua; against the sandbox: `make sandbox`
--    and paste the export line it prints)
--   A PRODUCT_CODE prices the same half hours on another product (what-if).
package.path = "examples/?.lua;" .. package.path
local common = require "money_common"

local client, account = common.client()
local period = arg[1] or "current"
local product = arg[2]
if arg[1] and arg[1]:match("^%d%d%d%d%-%d%d%-%d%d$") then
  period, product = { from = arg[1], to = arg[2] }, arg[3]
end
local res, err = client:bill(account, { period = period, product = product })
if not res then
  io.stderr:write("bill: ", tostring(err), "\n")
  os.exit(1)
end
print(("%s %s, %s .. %s (%d days%s), product %s"):format(account, res.spin or "", res.period.from_date,
  res.period.to_date, res.period.days, res.period.complete and "" or ", so far", table.concat(res.products, "+")))
common.print_lines(res)
local p = res.periods[1]
print(("  %s kWh; charges %s yen + levy %s yen = total %s yen (consumption tax included: %s yen)"):format(
  res.kwh_text, common.yen(p.charges), common.yen(p.levy), common.yen(res.total), common.yen(p.consumption_tax)))
for _, a in ipairs(res.assumptions) do print("  assumed: " .. a) end
