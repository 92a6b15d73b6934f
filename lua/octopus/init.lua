-- octopus: a Lua client for the Octopus Energy Japan (Kraken) API.
--
--   local octopus = require "octopus"
--   local client = octopus.new{ api_key = os.getenv "OCTOPUS_API_KEY" }
--
-- Invariant: this module only wires pieces together (no state of its own).
local core = require "octopus.core"
local client = require "octopus.pipeline.client"

return {
  new = client.new,
  json = core.json,
  null = core.json.null,
  time = require "octopus.pipeline.time",
  errors = require "octopus.pipeline.errors",
  readings = require "octopus.graphql.readings",   -- pure helpers: by_day, by_month, windows, ...
  version = core.version,
}
