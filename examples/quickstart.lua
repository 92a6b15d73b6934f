-- examples/quickstart.lua: the smallest useful script. Logs in with credentials
-- from the environment, then prints who you are and last week's daily usage.
--
--   OCTOPUS_EMAIL=... OCTOPUS_PASSWORD=... lua5.4 examples/quickstart.lua
--   (OCTOPUS_URL=http://127.0.0.1:PORT/v1/ points it at the sandbox: `make sandbox`)
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath
local octopus = require "octopus"

local base = os.getenv "OCTOPUS_URL"
local client = octopus.new {
  email = os.getenv "OCTOPUS_EMAIL", password = os.getenv "OCTOPUS_PASSWORD",
  rest_url = base, graphql_url = base and (base .. "graphql/"),
}

local me = assert(client:viewer())
print(("%s %s"):format(me.givenName, me.familyName))

local today = octopus.time.today()
local week = client:readings(me.accounts[1].number, { from = today - 7 * 86400, to = today })
for _, day in ipairs(assert(week:by_day())) do
  print(("%s  %6.2f kWh  %7.0f yen"):format(day.key, day.value, day.cost_estimate))
end
