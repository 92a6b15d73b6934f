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
local money = require "octopus.money.client"
local bill = require "octopus.money.bill"
local history = require "octopus.history"
local rest = {
  products = require "octopus.rest.products", tariffs = require "octopus.rest.tariffs",
  industry = require "octopus.rest.industry", quotes = require "octopus.rest.quotes",
  accounts = require "octopus.rest.accounts", meters = require "octopus.rest.meters",
}

local pairs, setmetatable = pairs, setmetatable

---The C core's JSON codec (octopus.core.json).
---@class octopus.json
---@field decode fun(s: string, opts?: { max_depth?: integer }): any, octopus.Error? JSON_SYNTAX, JSON_DEPTH, JSON_UTF8
---@field encode fun(v: any, opts?: { sort_keys?: boolean, max_depth?: integer }): string raises on NaN, cycles, ...
---@field array fun(t: table): table   marks t as a JSON array (also when empty)
---@field object fun(t: table): table  marks t as a JSON object
---@field array_mt table
---@field object_mt table
---@field null lightuserdata

---@class octopus
---@field json octopus.json  the JSON codec (octopus.core.json: decode, encode, array, object, null)
---@field null lightuserdata JSON null in decoded values (== cjson.null): test with v == octopus.null
---@field time octopus.time
---@field errors octopus.errors
---@field clock octopus.clock
---@field readings octopus.readings
---@field history table      octopus.history (store, sync, export)
---@field bill octopus.money.bill the pure bill engine: price, project, compare
---@field version string     "0.1.0"
---@field Client octopus.Client the Client class (pipeline methods + the domains')
local M = {
  json = core.json,
  null = core.json.null,   -- JSON null in decoded values (== cjson.null): test with v == octopus.null
  time = time,
  errors = errors,
  clock = clock,           -- octopus.clock.fake() for specs that drive time
  readings = readings,     -- pure helpers: by_day, by_month, windows, ...
  bill = bill,             -- the pure bill engine: price, project, compare (octopus.money.bill)
  version = core.version,
}

-- the Client class: the pipeline's methods, then each layer's
---The Client class: octopus.pipeline.client's methods plus the ones each domain
---exports in `methods` (octopus.graphql, octopus.async, octopus.history, octopus.money.client),
---installed here.
---@class octopus.Client
---@field graphql fun(self: octopus.Client, document: string, variables?: table, opts?: table): table?, octopus.Error?
---@field viewer fun(self: octopus.Client): octopus.Viewer?, octopus.Error?
---@field account fun(self: octopus.Client, number: string): octopus.Account?, octopus.Error?
---@field postal_areas fun(self: octopus.Client, postcode: string): octopus.PostalArea[]?, octopus.Error?
---@field tariff_summary fun(self: octopus.Client, grid: string, product?: string): table[]?, octopus.Error?
---@field rate_limit fun(self: octopus.Client): octopus.RateLimit?, octopus.Error?
---@field connection fun(self: octopus.Client, doc: string, vars?: table, path: string|table, opts?): octopus.Connection
---@field login fun(self: octopus.Client, credentials?: octopus.Credentials): true?, octopus.Error?
---@field token_state fun(self: octopus.Client): octopus.TokenState|nil
---@field readings fun(self: octopus.Client, account: string, opts: octopus.ReadingsOptions): octopus.Readings
---@field spawn fun(self: octopus.Client, fn: fun(...): ..., ...: any): octopus.Task
---@field poll fun(self: octopus.Client, timeout_ms?: number): integer
---@field map fun(self: octopus.Client, items: any[], fn: fun(item: any, i: integer): any, opts?: table): any[], table?
---@field bill fun(self: octopus.Client, account: string, opts?: table): octopus.BillResult?, octopus.Error?
---@field projected_bill fun(self: octopus.Client, account: string, opts?: table): octopus.Projection?, octopus.Error?
---@field compare fun(self: octopus.Client, account: string, opts?: table): octopus.Comparison?, octopus.Error?
---@field bills fun(self: octopus.Client, account: string, opts?: table): octopus.Statement[]?, octopus.Error?
---@field history fun(self: octopus.Client, opts?: table): octopus.Store?, octopus.Error?
---@field sync fun(self: octopus.Client, account: string, opts?: table): octopus.SyncReport?, octopus.Error?, table?
local Client = { __name = "octopus.Client" }
for k, v in pairs(pipeline.Client) do Client[k] = v end
for _, methods in pairs { graphql.methods, async.methods, history.methods, money.methods } do
  for k, v in pairs(methods) do Client[k] = v end
end
Client.__index = Client
M.Client = Client

---The options of octopus.new (pipeline.OPTIONS + graphql.OPTIONS; anything else raises).
---@class octopus.Options
---@field api_key? string            REST Basic auth; also a GraphQL login (APIKey)
---@field email? string              GraphQL login with password
---@field password? string
---@field organization_secret_key? string
---@field pre_signed_key? string
---@field refresh_token? string      seeds the token state (no primary credential needed)
---@field rest_url? string           default https://api.oejp-kraken.energy/v1/ (given alone, graphql_url is derived)
---@field graphql_url? string        default https://api.oejp-kraken.energy/v1/graphql/
---@field timezone? string           "Asia/Tokyo" (default), "UTC", "+HH:MM" (fixed offsets only)
---@field timeout? number            seconds per attempt, default 30 (> 0)
---@field connect_timeout? number    seconds, default 10 (> 0)
---@field retries? integer           retries after the first attempt, default 3
---@field max_retry_time? number     seconds all retries may take, default 60
---@field backoff? { base?: number, cap?: number } full-jitter backoff, default { base = 0.5, cap = 30 }
---@field ca_file? string            PEM bundle to verify TLS with
---@field user_agent? string         default "octopus/<version>"
---@field log? fun(event: table)     one table per attempt (method, url redacted, status, time, ...)
---@field clock? octopus.Clock       default octopus.clock.system(); octopus.clock.fake() in specs
---@field on_token? fun(state: octopus.TokenState) called with a copy after every login and refresh
---@field token_state? octopus.TokenState restores a saved token state
---@field token_file? string         keep the token state in this file (0600 in a 0700 directory)
local SPECS = { pipeline.OPTIONS, graphql.OPTIONS }

---Makes a client: checks every layer's options (an unknown or mistyped one raises,
---naming it, at your line), builds the Client and puts the REST modules on it. No I/O.
---@param opts? octopus.Options
---@return octopus.Client client
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
