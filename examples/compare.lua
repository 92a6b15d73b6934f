-- examples/compare.lua: "would another tariff be cheaper?" Your own half hours of the last
-- 12 billing periods priced on every product your area offers (or the codes you name),
-- cheapest first, with the difference to the product you are on today.
--
-- Usage: lua5.4 examples/compare.lua [MONTHS] [PRODUCT_CODE ...]
--   (environment: see examples/money_common.lua)
package.path = "examples/?.lua;" .. package.path
local common = require "money_common"

local client, account = common.client()
local months = tonumber(arg[1] or "12")
local products = #arg > 1 and { (table.unpack or unpack)(arg, 2) } or nil
local cmp, err = client:compare(account, { months = months, products = products })
if not cmp then
  io.stderr:write("compare: ", tostring(err), "\n")
  os.exit(1)
end
print(("%s: %d billing periods from %s, %s kWh"):format(account, cmp.months,
  client:iso(cmp.from):sub(1, 10), cmp.current and cmp.current.result.kwh_text or "?"))
for _, e in ipairs(cmp.entries) do
  if e.total then
    print(("  %-26s %-26s %10s yen  %s%s"):format(e.code, e.display_name or "", common.yen(e.total),
      e.current and "(today's)" or ((e.difference > 0 and "+" or "") .. common.yen(e.difference)),
      e == cmp.cheapest and "  cheapest" or ""))
  else
    print(("  %-26s %s"):format(e.code, tostring(e.err)))
  end
end
