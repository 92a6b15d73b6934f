-- examples/projected.lua: "what will I pay this month?" The current billing period so far
-- and projected to its end: the last 7 days' average per half hour x the half hours left,
-- priced with the period's actual usage through the same steps (so a projection past
-- 300 kWh is priced on the third step).
--
-- Usage: lua5.4 examples/projected.lua [BASIS_DAYS]
--   (environment: see examples/money_common.lua)
package.path = "examples/?.lua;" .. package.path
local common = require "money_common"

local client, account = common.client()
local p, err = client:projected_bill(account, { basis_days = tonumber(arg[1] or "7") })
if not p then
  io.stderr:write("projected: ", tostring(err), "\n")
  os.exit(1)
end
print(("%s billing period %s .. %s (%d days)"):format(account, p.period.from_date, p.period.to_date, p.period.days))
print(("  so far:    %8s kWh  %10s yen"):format(p.so_far.kwh_text, common.yen(p.so_far.total)))
print(("  projected: %8s kWh  %10s yen"):format(p.projected.kwh_text, common.yen(p.total)))
print(("  method: %s"):format(p.method.description))
