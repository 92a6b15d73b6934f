-- examples/money_common.lua: the client the money examples share, from the environment
-- the `octopus sandbox` command prints (or your real credentials):
--   OCTOPUS_API_KEY (or OCTOPUS_EMAIL + OCTOPUS_PASSWORD), OCTOPUS_URL, OCTOPUS_GRAPHQL_URL,
--   OCTOPUS_CA_FILE; OCTOPUS_ACCOUNT picks the account (default: your first).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath
local octopus = require "octopus"

local M = { octopus = octopus }

function M.client()
  local env = os.getenv
  local client = octopus.new {
    api_key = env "OCTOPUS_API_KEY", email = env "OCTOPUS_EMAIL", password = env "OCTOPUS_PASSWORD",
    rest_url = env "OCTOPUS_URL", graphql_url = env "OCTOPUS_GRAPHQL_URL", ca_file = env "OCTOPUS_CA_FILE",
  }
  local account = env "OCTOPUS_ACCOUNT"
  if not account then
    local me = assert(client:viewer())
    account = me.accounts[1].number
  end
  return client, account
end

function M.yen(n) -- 12345 -> "12,345"
  local s = ("%d"):format(n)
  local neg = s:sub(1, 1) == "-"
  if neg then s = s:sub(2) end
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (neg and "-" or "") .. s
end

-- the lines of a bill.price result, one per line
function M.print_lines(res)
  for _, l in ipairs(res.lines) do
    print(("  %-34s %12s %-8s x %10s = %12s yen"):format(l.label, l.quantity_text, l.unit,
      l.unit_price_text, l.yen_text))
  end
end

return M
