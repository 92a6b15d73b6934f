-- octopus: a Lua client for the Octopus Energy Japan (Kraken) API. The facade: it
-- only wires the layers together (no state of its own).
--
--   local octopus = require "octopus"
--   local client = octopus.new{ api_key = os.getenv "OCTOPUS_API_KEY" }
--
-- octopus.new checks the options of every layer, builds the pipeline's Client with
-- the domains' methods (GraphQL, async) on its class, and puts the REST modules on
-- it (client.products, .tariffs, .industry, .quotes, .accounts, .electricity, .gas).
local core = require "octopus.core"
local pipeline = require "octopus.pipeline.client"
local options = require "octopus.pipeline.options"
local errors = require "octopus.pipeline.errors"
local time = require "octopus.pipeline.time"
local clock = require "octopus.pipeline.clock"
local async = require "octopus.async"
local graphql = require "octopus.graphql"
local readings = require "octopus.graphql.readings"
local rest = {
  products = require "octopus.rest.products", tariffs = require "octopus.rest.tariffs",
  industry = require "octopus.rest.industry", quotes = require "octopus.rest.quotes",
  accounts = require "octopus.rest.accounts", meters = require "octopus.rest.meters",
}

local pairs, setmetatable = pairs, setmetatable

local M = {
  json = core.json,
  null = core.json.null,   -- JSON null in decoded values (== cjson.null): test with v == octopus.null
  time = time,
  errors = errors,
  clock = clock,           -- octopus.clock.fake() for specs that drive time
  readings = readings,     -- pure helpers: by_day, by_month, windows, ...
  version = core.version,
}

-- the Client class: the pipeline's methods, then each layer's
local Client = { __name = "octopus.Client" }
for k, v in pairs(pipeline.Client) do Client[k] = v end
for _, methods in pairs { graphql.methods, async.methods } do
  for k, v in pairs(methods) do Client[k] = v end
end
Client.__index = Client
M.Client = Client

local SPECS = { pipeline.OPTIONS, graphql.OPTIONS }

function M.new(opts)
  opts = options.check(opts, SPECS, "octopus.new")
  local client = pipeline.new(opts, Client)
  graphql.configure(client, opts)
  for _, name in pairs { "products", "tariffs", "industry", "quotes", "accounts" } do
    client[name] = rest[name].new(client)
  end
  client.electricity, client.gas = rest.meters.electricity(client), rest.meters.gas(client)
  return client
end

return setmetatable(M, { __name = "octopus" })
