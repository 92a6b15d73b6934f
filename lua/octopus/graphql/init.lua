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

---client:graphql's options.
---@class octopus.GraphQLOptions
---@field operation_name? string
---@field timeout? number
---@field idempotent? boolean  default: queries true, mutations false (decides retries)
---@field auth? boolean        false: send no token

---@class octopus.Viewer
---@field givenName string
---@field familyName string
---@field email string
---@field accounts { number: string }[]

---The Account object as account.graphql selects it (decoded JSON: camelCase keys,
---Decimals as strings, null as octopus.null).
---@class octopus.Account
---@field number string
---@field status string
---@field balance integer      whole yen
---@field billingName string
---@field properties table[]   { id, address, postcode, electricitySupplyPoints = { { spin, status, agreements } } }

---@class octopus.PostalArea
---@field postcode string
---@field prefecture string
---@field city string
---@field area string

---@class octopus.RateLimit
---@field limit integer
---@field remainingPoints integer
---@field usedPoints integer
---@field ttl integer
---@field isBlocked boolean

---A credential for client:login (one of them).
---@class octopus.Credentials
---@field api_key? string
---@field email? string
---@field password? string
---@field organization_secret_key? string
---@field pre_signed_key? string

---The token state (SECRET: whoever holds it can act as the user).
---@class octopus.TokenState
---@field token string
---@field exp number                 Unix seconds
---@field refresh_token? string
---@field refresh_expires_at? number Unix seconds

---@class octopus.graphql
---@field OPTIONS table<string, string> the client options this layer reads (on_token, token_state, token_file)
---@field methods table<string, function> installed on the Client by the facade
---@field documents table<string, string> the shipped operations' text by name
---@field operation fun(name: string): string the text of a shipped operation
local M = {}

M.OPTIONS = { on_token = "function", token_state = "table", token_file = "string" }
M.documents = documents.documents
M.operation = documents.operation

---client:graphql(document, variables, opts) (octopus.graphql.call): GraphQL text or a shipped
---operation's name. Errors: the GraphQL codes (FORBIDDEN, AUTH, AUTH_INVALID, UNSUPPORTED,
---QUERY_TOO_COMPLEX, RATE_LIMITED, INVALID_POSTCODE, GRAPHQL_VALIDATION, NOT_FOUND,
---UNAVAILABLE, GRAPHQL, Kraken's own KT-... codes) with err.errors, err.data, err.graphql_code;
---and the pipeline's.
---@type fun(client: octopus.Client, doc: string, vars?: table, opts?: octopus.GraphQLOptions): table?, octopus.Error?
M.graphql = call.graphql

-- M.configure(client, opts): this layer's options on a new client (octopus.new)
---This layer's options on a new client (octopus.new calls it).
---@param client octopus.Client
---@param opts octopus.Options
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
---@param client octopus.Client
---@return octopus.Viewer|nil viewer
---@return octopus.Error|nil err
function M.viewer(client)
  local data, err = M.graphql(client, "viewer")
  if not data then return nil, err end
  return pick(data, "viewer")
end

-- client:account(number) -> Account table (see account.graphql) | nil, err
---@param client octopus.Client
---@param number string the account number ("A-1234ABCD")
---@return octopus.Account|nil account
---@return octopus.Error|nil err NOT_FOUND, FORBIDDEN (KT-CT-4177), ...
function M.account(client, number)
  check_string(number, "account", "account")
  local data, err = M.graphql(client, "account", { accountNumber = number })
  if not data then return nil, err end
  return pick(data, "account")
end

-- client:postal_areas(postcode) -> array of { postcode, prefecture, city, area } | nil, err
---@param client octopus.Client
---@param postcode string "100-0001"
---@return octopus.PostalArea[]|nil areas
---@return octopus.Error|nil err INVALID_POSTCODE, ...
function M.postal_areas(client, postcode)
  check_string(postcode, "postcode", "postal_areas")
  local data, err = M.graphql(client, "postal_areas", { postcode = postcode })
  if not data then return nil, err end
  return pick(data, "postalAreas")
end

-- client:tariff_summary(grid_operator_code [, product_code]) -> array | nil, err
---@param client octopus.Client
---@param grid string the grid operator code ("03")
---@param product? string a product code
---@return table[]|nil tariffs the tariffSummary list (tiers of consumption and standing rates)
---@return octopus.Error|nil err
function M.tariff_summary(client, grid, product)
  check_string(grid, "grid_operator_code", "tariff_summary")
  if product ~= nil then check_string(product, "product_code", "tariff_summary") end
  local data, err = M.graphql(client, "tariff_summary", { gridOperatorCode = grid, productCode = product })
  if not data then return nil, err end
  return pick(data, "tariffSummary")
end

-- client:rate_limit() -> { limit, remainingPoints, usedPoints, ttl, isBlocked } | nil, err
---@param client octopus.Client
---@return octopus.RateLimit|nil limit
---@return octopus.Error|nil err
function M.rate_limit(client)
  local data, err = M.graphql(client, "rate_limit")
  if not data then return nil, err end
  return pick(data, "rateLimitInfo", "pointsAllowanceRateLimit")
end

-- client:connection(document, variables, path [, { page_size = 100 }]) -> Relay iterator
--   path: "account.bills" or { "account", "bills" } (where the connection sits in data)
---A lazy iterator over a Relay connection (first/after; first is at most 100).
---@param client octopus.Client
---@param document string GraphQL text or a shipped operation's name
---@param variables? table
---@param path string|string[] where the connection sits in data: "account.bills"
---@param opts? { page_size?: integer } 1..100, default 100
---@return octopus.Connection nodes
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
---Logs in now (login is otherwise lazy); credentials replace the primary one for GraphQL
---and clear a sticky AUTH_INVALID.
---@param client octopus.Client
---@param credentials? octopus.Credentials
---@return true|nil ok
---@return octopus.Error|nil err AUTH_INVALID, AUTH, ...
function M.login(client, credentials) return auth.login(client, credentials) end

-- client:token_state() -> { token, exp, refresh_token, refresh_expires_at } | nil (SECRET)
---@param client octopus.Client
---@return octopus.TokenState|nil state a copy (SECRET), nil before any login
function M.token_state(client) return auth.token_state(client) end

-- client:readings(account, opts) -> readings iterator (see octopus.readings)
---Half-hourly readings without silent truncation (octopus.graphql.readings).
---@param client octopus.Client
---@param account string the account number
---@param opts octopus.ReadingsOptions
---@return octopus.Readings readings
function M.readings(client, account, opts) return readings.fetch(client, account, opts) end


-- the Client methods
M.methods = {}
for _, name in ipairs { "graphql", "viewer", "account", "postal_areas", "tariff_summary", "rate_limit",
                        "connection", "login", "token_state", "readings" } do
  M.methods[name] = M[name]
end

return M
