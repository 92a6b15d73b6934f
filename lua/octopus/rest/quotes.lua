-- octopus.rest.quotes: POST /v1/quotes/.
-- Invariant: never retried after it may have reached the server (POST);
-- field errors come back as VALIDATION with err.fields.
local usage = require "octopus.pipeline.usage"

local setmetatable, type = setmetatable, type

local Quotes = { __name = "octopus.Quotes" }
Quotes.__index = Quotes

function Quotes.new(client) return setmetatable({ client = client }, Quotes) end

-- quotes:create(body) -> quote { code, gsp, products } | nil, err
function Quotes:create(body)
  if type(body) ~= "table" then usage.raise("quotes:create: body must be a table") end
  return self.client:request { method = "POST", path = { "quotes" }, body = body }
end

return Quotes
