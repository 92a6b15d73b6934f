-- octopus.rest.quotes: POST /v1/quotes/.
-- Invariant: never retried after it may have reached the server (POST);
-- field errors come back as VALIDATION with err.fields.
local usage = require "octopus.pipeline.usage"

local setmetatable, type = setmetatable, type

---@class octopus.Quote
---@field code string
---@field gsp string
---@field products table[]

---client.quotes: POST /v1/quotes/.
---@class octopus.Quotes
---@field client octopus.Client
local Quotes = { __name = "octopus.Quotes" }
Quotes.__index = Quotes

---@param client octopus.Client
---@return octopus.Quotes quotes
function Quotes.new(client) return setmetatable({ client = client }, Quotes) end

-- quotes:create(body) -> quote { code, gsp, products } | nil, err
---A POST: retried only when it provably never reached the server.
---@param body table the quote request (JSON)
---@return octopus.Quote|nil quote
---@return octopus.Error|nil err VALIDATION (err.fields: the API's errors by field), ...
function Quotes:create(body)
  if type(body) ~= "table" then usage.raise("quotes:create: body must be a table") end
  return self.client:request { method = "POST", path = { "quotes" }, body = body }
end

return Quotes
