-- octopus.pipeline.client: the Client object at the bottom of the stack: its
-- settings, transport, clock and private state, and the request methods. The
-- domains (REST modules, GraphQL methods, async) are put onto it by the facade
-- (octopus/init.lua), never from here.
--
--   client.new(opts [, class]) -> client   (opts already checked against OPTIONS
--       by options.check; class: a method table whose __index reaches M.Client)
--   client:request(req) -> data | nil, err        (octopus.pipeline.request)
--   client:send(req) -> { data, status, headers, info } | nil, err
--   client:iso(v) -> ISO 8601 in the client's zone ; client:close() ; tostring(client)
--
-- Invariants: credentials and tokens live in octopus.pipeline.private, never on the
-- client; tostring(client) shows the redacted REST URL only. Given only one of
-- rest_url / graphql_url, the other is derived on the same host (never production).
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local time = require "octopus.pipeline.time"
local url = require "octopus.pipeline.url"
local clock_mod = require "octopus.pipeline.clock"
local private = require "octopus.pipeline.private"
local request = require "octopus.pipeline.request"
local transport = require "octopus.pipeline.transport"
local usage = require "octopus.pipeline.usage"
local options = require "octopus.pipeline.options"

local type, pairs, ipairs, tostring, setmetatable, pcall = type, pairs, ipairs, tostring, setmetatable, pcall
local floor = math.floor

local M = {}

-- The pipeline's options (the facade adds the other layers')
M.OPTIONS = {
  api_key = "string", rest_url = "string", graphql_url = "string", timezone = "string",
  timeout = "number", connect_timeout = "number", retries = "number", max_retry_time = "number",
  ca_file = "string", user_agent = "string", log = "function", backoff = "table", clock = "table",
  email = "string", password = "string", organization_secret_key = "string",
  pre_signed_key = "string", refresh_token = "string",
}
-- scrubbed from every error; kept privately (the GraphQL layer reads them from there)
M.CREDENTIALS = { "api_key", "email", "password", "organization_secret_key", "pre_signed_key", "refresh_token" }
local SECRET = { api_key = true, password = true, organization_secret_key = true, pre_signed_key = true,
                 refresh_token = true }

M.DEFAULTS = {
  rest_url = "https://api.oejp-kraken.energy/v1/",
  graphql_url = "https://api.oejp-kraken.energy/v1/graphql/",
  timezone = "Asia/Tokyo", timeout = 30, connect_timeout = 10, retries = 3,
  max_retry_time = 60, backoff_base = 0.5, backoff_cap = 30,
}
local DEFAULTS = M.DEFAULTS

---A client: settings, transport and clock (credentials live in octopus.pipeline.private,
---never here). The facade adds the domains' methods (see lua/octopus/init.lua) and the
---REST modules below.
---@class octopus.Client
---@field rest_url string            with a trailing slash
---@field graphql_url string
---@field timezone string            the zone's name ("Asia/Tokyo")
---@field zone octopus.Zone          the zone every time is read and written in
---@field timeout number
---@field connect_timeout number
---@field retries integer
---@field max_retry_time number
---@field clock octopus.Clock
---@field transport octopus.Transport
---@field products octopus.Products
---@field tariffs octopus.Tariffs
---@field industry octopus.Industry
---@field quotes octopus.Quotes
---@field accounts octopus.Accounts
---@field electricity octopus.Electricity
---@field gas octopus.Gas
local Client = { __name = "octopus.Client" }
Client.__index = Client
M.Client = Client

-- rest_url and graphql_url: each defaults to the other's host when only one is given
local function endpoints(opts)
  local rest, gql = opts.rest_url, opts.graphql_url
  if rest then rest = url.ensure_slash(rest) end
  if rest and not gql then
    gql = rest .. "graphql/"
  elseif gql and not rest then
    local u = url.parse(gql)
    rest = gql:match("^(.*/)graphql/?$") or (u.scheme .. "://" .. u.host .. ":" .. u.port .. "/v1/")
  end
  return rest or DEFAULTS.rest_url, gql or DEFAULTS.graphql_url
end

local function check(opts)
  options.positive(opts, { "timeout", "connect_timeout" }, "octopus.new")
  if opts.max_retry_time and not (opts.max_retry_time >= 0) then
    usage.raise("octopus.new: option 'max_retry_time' must not be negative")
  end
  if opts.retries and (not (opts.retries >= 0) or opts.retries ~= floor(opts.retries)) then
    usage.raise("octopus.new: option 'retries' must be a non-negative integer")
  end
  for k, v in pairs(opts.backoff or {}) do
    if k ~= "base" and k ~= "cap" then usage.raise("octopus.new: unknown option 'backoff." .. tostring(k) .. "'") end
    if type(v) ~= "number" or not (v >= 0) then
      usage.raise("octopus.new: option 'backoff." .. k .. "' must be a non-negative number")
    end
  end
  for _, k in ipairs { "rest_url", "graphql_url" } do
    if opts[k] then
      local ok, why = url.check_base(opts[k])
      if not ok then usage.raise("octopus.new: option '" .. k .. "' " .. why) end
    end
  end
  if opts.user_agent and opts.user_agent:find("[%z\r\n]") then
    usage.raise("octopus.new: option 'user_agent' must not contain CR, LF or NUL")
  end
  if opts.clock then clock_mod.check(opts.clock, "octopus.new: option 'clock'") end
end

---The transport seam (docs/INTERNALS.md): the blocking one, or octopus.async's.
---@class octopus.Transport
---@field send fun(self: octopus.Transport, req: table): integer?, table, string?, octopus.ResponseInfo?
---@field sleep fun(self: octopus.Transport, seconds: number)
---@field close? fun(self: octopus.Transport)
---@field block? fun(url: string, seconds: number, err: octopus.Error)
---@field wait? fun(inflight: table)
---@field notify? fun(inflight: table)

---Builds a client from options already checked against M.OPTIONS (octopus.new does that).
---@param opts? octopus.Options
---@param class? table a method table whose __index reaches M.Client (the facade's Client)
---@return octopus.Client client
function M.new(opts, class)
  opts = opts or {}
  check(opts)
  local zone_name = opts.timezone or DEFAULTS.timezone
  local ok, zone = pcall(time.zone, zone_name)
  if not ok then usage.raise("octopus.new: option 'timezone' is not a known zone: " .. tostring(zone_name)) end
  local rest_url, graphql_url = endpoints(opts)
  local backoff = opts.backoff or {}
  local self = setmetatable({
    rest_url = rest_url, graphql_url = graphql_url, timezone = zone_name, zone = zone,
    timeout = opts.timeout or DEFAULTS.timeout,
    connect_timeout = opts.connect_timeout or DEFAULTS.connect_timeout,
    retries = opts.retries or DEFAULTS.retries,
    max_retry_time = opts.max_retry_time or DEFAULTS.max_retry_time,
    clock = opts.clock or clock_mod.system(),
  }, class or Client)
  local p = private.init(self, {
    log = opts.log, backoff_base = backoff.base or DEFAULTS.backoff_base,
    backoff_cap = backoff.cap or DEFAULTS.backoff_cap,
    origins = { [url.origin(rest_url)] = true, [url.origin(graphql_url)] = true },
  })
  for _, k in ipairs(M.CREDENTIALS) do
    p[k] = opts[k]
    if SECRET[k] then private.add_secret(self, opts[k]) end
  end
  if opts.api_key then
    p.basic = core.basic_auth(opts.api_key)
    private.add_secret(self, p.basic:match("^Basic (.+)$"))
  end
  self.transport = transport.new({
    ca_file = opts.ca_file, user_agent = opts.user_agent,
    timeout = self.timeout, connect_timeout = self.connect_timeout,
  }, self.clock)
  return self
end

---@return string
function Client:__tostring()
  return "octopus.Client (" .. errors.redact_url(self.rest_url) .. ")"
end

---Closes the transport (and the async scheduler, cancelling its tasks). Also __close.
function Client:close() if self.transport.close then self.transport:close() end end
Client.__close = Client.close

---One request through the pipeline (auth, retries, errors).
---@class octopus.Request
---@field method? string             "GET" (default), "POST", ...
---@field path? (string|number)[]    segments under rest_url, each percent-encoded
---@field url? string                an absolute URL on rest_url's or graphql_url's origin
---@field query? table<string, string|number|boolean>
---@field body? table|string         a table is sent as JSON
---@field headers? table<string, string>
---@field auth? "basic"|"none"|fun(client: octopus.Client, req: octopus.Request): table?, octopus.Error?
---@field idempotent? boolean        default true for GET/HEAD/PUT/DELETE/OPTIONS (decides retries)
---@field expect? "json"|"raw"
---@field timeout? number

---What client:send returns.
---@class octopus.Response
---@field data any                   decoded JSON (true for an empty 2xx body; the text when expect = "raw")
---@field status integer
---@field headers table<string, string> lower-cased names
---@field info octopus.ResponseInfo

---@class octopus.ResponseInfo
---@field http_version string
---@field reused boolean
---@field total_time number
---@field connect_time number
---@field tls_time number
---@field start_time number
---@field size integer

---Sends req through the pipeline -> the decoded body.
---Errors: network (CONNECT, DNS, TIMEOUT, TLS, TOO_LARGE, BAD_URL, NETWORK, PROTOCOL), http
---(BLOCKED, NOT_FOUND, VALIDATION, BAD_REQUEST, HTTP_<status>), AUTH/FORBIDDEN, RATE_LIMITED, DECODE.
---@param req octopus.Request
---@return any|nil data
---@return octopus.Error|nil err
function Client:request(req) return request.data(self, req) end
---Like client:request, with the status, headers and timing.
---@param req octopus.Request
---@return octopus.Response|nil response
---@return octopus.Error|nil err
function Client:send(req) return request.send(self, req) end

-- client:iso(v) -> ISO 8601 with the client's zone offset; v is anything time.parse takes
---@param v octopus.TimeValue anything octopus.time.parse reads
---@return string iso ISO 8601 with the client's zone offset
function Client:iso(v)
  return time.format(time.parse(v, self.zone), self.zone)
end

return M
