-- octopus.graphql: the GraphQL API as client methods. The facade (octopus/init.lua)
-- installs every function of M.methods on the Client:
--
--   client:graphql(document, variables, opts) -> data | nil, err   (octopus.graphql.call)
--   client:viewer() / :account(number) / :postal_areas(postcode) / :tariff_summary(grid [, product])
--   / :rate_limit() -> the operation's object | nil, err
--   client:connection(document, variables, path [, { page_size }]) -> Relay iterator (relay.lua)
--   client:login([credentials]) -> true | nil, err ; client:token_state() -> table | nil (auth.lua)
--   client:readings(account, opts) -> readings iterator (octopus.graphql.readings)
--
-- The layer's pieces: documents (shipped operations), errors (Kraken's error codes),
-- wire (one request and its answer), auth (the token lifecycle), call (a call with a
-- token), relay, readings, token_file. M.OPTIONS: the client options this layer reads.
local core = require "octopus.core"
local usage = require "octopus.pipeline.usage"
local documents = require "octopus.graphql.documents"
local call = require "octopus.graphql.call"
local auth = require "octopus.graphql.auth"
local relay = require "octopus.graphql.relay"
local readings = require "octopus.graphql.readings"
local token_file = require "octopus.graphql.token_file"
local private = require "octopus.pipeline.private"

local null = core.json.null
local type, ipairs = type, ipairs

local M = {}

M.OPTIONS = { on_token = "function", token_state = "table", token_file = "string" }
M.documents = documents.documents
M.operation = documents.operation

M.graphql = call.graphql

-- M.configure(client, opts): this layer's options on a new client (octopus.new)
function M.configure(client, opts)
  local p = private.of(client)
  p.token_state, p.on_token = opts.token_state, opts.on_token
  if opts.token_file then token_file.attach(client, opts.token_file, opts) end
end

local function pick(data, ...)
  local v = data
  for _, k in ipairs { ... } do
    if type(v) ~= "table" then return nil end
    v = v[k]
  end
  if v == null then return nil end
  return v
end

local function check_string(v, what, fn)
  if type(v) ~= "string" or v == "" then
    usage.raise("client:" .. fn .. ": '" .. what .. "' must be a non-empty string")
  end
end

-- client:viewer() -> { givenName, familyName, email, accounts = {{number}...} } | nil, err
function M.viewer(client)
  local data, err = M.graphql(client, "viewer")
  if not data then return nil, err end
  return pick(data, "viewer")
end

-- client:account(number) -> Account table (see account.graphql) | nil, err
function M.account(client, number)
  check_string(number, "account", "account")
  local data, err = M.graphql(client, "account", { accountNumber = number })
  if not data then return nil, err end
  return pick(data, "account")
end

-- client:postal_areas(postcode) -> array of { postcode, prefecture, city, area } | nil, err
function M.postal_areas(client, postcode)
  check_string(postcode, "postcode", "postal_areas")
  local data, err = M.graphql(client, "postal_areas", { postcode = postcode })
  if not data then return nil, err end
  return pick(data, "postalAreas")
end

-- client:tariff_summary(grid_operator_code [, product_code]) -> array | nil, err
function M.tariff_summary(client, grid, product)
  check_string(grid, "grid_operator_code", "tariff_summary")
  if product ~= nil then check_string(product, "product_code", "tariff_summary") end
  local data, err = M.graphql(client, "tariff_summary", { gridOperatorCode = grid, productCode = product })
  if not data then return nil, err end
  return pick(data, "tariffSummary")
end

-- client:rate_limit() -> { limit, remainingPoints, usedPoints, ttl, isBlocked } | nil, err
function M.rate_limit(client)
  local data, err = M.graphql(client, "rate_limit")
  if not data then return nil, err end
  return pick(data, "rateLimitInfo", "pointsAllowanceRateLimit")
end

-- client:connection(document, variables, path [, { page_size = 100 }]) -> Relay iterator
--   path: "account.bills" or { "account", "bills" } (where the connection sits in data)
function M.connection(client, document, variables, path, opts)
  local text = documents.resolve(document)
  if type(path) == "string" then
    local parts = {}
    for seg in path:gmatch("[^%.]+") do parts[#parts + 1] = seg end
    path = parts
  end
  if type(path) ~= "table" or path[1] == nil then
    usage.raise("client:connection: 'path' must name where the connection is (\"account.bills\")")
  end
  return relay.new(function(vars) return M.graphql(client, text, vars) end, variables or {}, path, opts)
end

-- client:login([credentials]) -> true | nil, err   (see octopus.auth)
function M.login(client, credentials) return auth.login(client, credentials) end

-- client:token_state() -> { token, exp, refresh_token, refresh_expires_at } | nil (SECRET)
function M.token_state(client) return auth.token_state(client) end

-- client:readings(account, opts) -> readings iterator (see octopus.readings)
function M.readings(client, account, opts) return readings.fetch(client, account, opts) end


-- the Client methods
M.methods = {}
for _, name in ipairs { "graphql", "viewer", "account", "postal_areas", "tariff_summary", "rate_limit",
                        "connection", "login", "token_state", "readings" } do
  M.methods[name] = M[name]
end

return M
