-- octopus.rest.accounts: POST /v1/accounts/ and GET /v1/accounts/{number}/.
-- Invariant: create is a POST (retried only if it provably never left);
-- the account number is one percent-encoded path segment.
local usage = require "octopus.pipeline.usage"
local common = require "octopus.rest.common"

---client.accounts: POST /v1/accounts/ and GET /v1/accounts/{number}/.
---@class octopus.Accounts
---@field client octopus.Client
local Accounts = { __name = "octopus.Accounts" }
Accounts.__index = Accounts

---@param client octopus.Client
---@return octopus.Accounts accounts
function Accounts.new(client) return setmetatable({ client = client }, Accounts) end

-- accounts:create(body) -> { number = "A-..." } (or the 202 body) | nil, err
---A POST: retried only when it provably never reached the server.
---@param body table the new account (JSON)
---@return table|nil created { number = "A-..." } (or the 202 body)
---@return octopus.Error|nil err VALIDATION, BAD_REQUEST, ...
function Accounts:create(body)
  if type(body) ~= "table" then usage.raise("accounts:create: body must be a table") end
  return self.client:request { method = "POST", path = { "accounts" }, body = body }
end

-- accounts:get(number) -> account | nil, err
---@param number string "A-1234ABCD"
---@return table|nil account properties, meter points, meters, agreements (the API's JSON)
---@return octopus.Error|nil err NOT_FOUND, AUTH, ...
function Accounts:get(number)
  common.check_code(number, "account number", "accounts:get")
  return self.client:request { method = "GET", path = { "accounts", number } }
end

return Accounts
