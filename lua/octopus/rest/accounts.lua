-- octopus.rest.accounts: POST /v1/accounts/ and GET /v1/accounts/{number}/.
-- Invariant: create is a POST (retried only if it provably never left);
-- the account number is one percent-encoded path segment.
local usage = require "octopus.pipeline.usage"
local common = require "octopus.rest.common"

local Accounts = { __name = "octopus.Accounts" }
Accounts.__index = Accounts

function Accounts.new(client) return setmetatable({ client = client }, Accounts) end

-- accounts:create(body) -> { number = "A-..." } (or the 202 body) | nil, err
function Accounts:create(body)
  if type(body) ~= "table" then usage.raise("accounts:create: body must be a table") end
  return self.client:request { method = "POST", path = { "accounts" }, body = body }
end

-- accounts:get(number) -> account | nil, err
function Accounts:get(number)
  common.check_code(number, "account number", "accounts:get")
  return self.client:request { method = "GET", path = { "accounts", number } }
end

return Accounts
