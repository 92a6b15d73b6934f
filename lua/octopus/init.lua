-- octopus: a Lua client for the Octopus Energy Japan (Kraken) API.
--
--   local octopus = require "octopus"
--   local client = octopus.new{ api_key = os.getenv "OCTOPUS_API_KEY" }
--
-- Invariant: this module only wires pieces together (no state of its own).
local core = require "octopus.core"
local client = require "octopus.client"

return {
  new = client.new,
  json = core.json,
  null = core.json.null,
  time = require "octopus.time",
  errors = require "octopus.errors",
  readings = require "octopus.readings",   -- pure helpers: by_day, by_month, windows, ...
  version = core.version,
}
