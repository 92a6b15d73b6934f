-- octopus.nvim.config: the plugin's options (require("octopus.nvim").setup{...}) and
-- where its credentials come from. Pure Lua: no editor API, so the health check and
-- the commands share it.
--
--   local cfg = config.new(opts)        -- validated copy; raises naming a bad option
--   config.credentials(cfg) -> creds, source | nil, why
--   config.client_options(cfg, creds) -> options for octopus.new
--
-- Invariants: credentials never live in the config table (setup refuses api_key,
-- email, password and the other secrets, naming the option); they are read when a
-- client is made, from cfg.credentials() or OCTOPUS_API_KEY / OCTOPUS_EMAIL +
-- OCTOPUS_PASSWORD, and go only to octopus.new; `source` describes where they came
-- from without their values.
local usage = require "octopus.pipeline.usage"

local type, pairs, ipairs, tostring, pcall = type, pairs, ipairs, tostring, pcall

local M = {}

-- option -> accepted Lua types
local OPTIONS = {
  rest_url = { string = true }, graphql_url = { string = true }, ca_file = { string = true },
  account = { string = true }, timezone = { string = true },
  token_file = { string = true, boolean = true },      -- path; false: keep no token state
  credentials = { ["function"] = true },               -- () -> { email =, password = } | { api_key = }
  usage_days = { number = true },                      -- :Octopus usage without a count
  timeout = { number = true }, connect_timeout = { number = true }, retries = { number = true },
  health_check_url = { string = true, boolean = true }, -- true: check rest_url; a URL: that one
  border = { string = true, table = true },            -- the float's border (nvim_open_win)
}

local SECRETS = { api_key = true, email = true, password = true, refresh_token = true,
  organization_secret_key = true, pre_signed_key = true, token_state = true }

M.CREDENTIAL_KEYS = { "api_key", "email", "password", "organization_secret_key", "pre_signed_key",
  "refresh_token" }

M.DEFAULTS = { usage_days = 7, border = "rounded", health_check_url = false }

function M.new(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then usage.raise("octopus.nvim.setup: expected a table of options") end
  local cfg = {}
  for k, v in pairs(opts) do
    if SECRETS[k] then
      usage.raise(("octopus.nvim.setup: '%s' is a credential and is never kept in the config: set " ..
        "OCTOPUS_API_KEY or OCTOPUS_EMAIL/OCTOPUS_PASSWORD, or give credentials = function() ... end"):format(k))
    end
    local types = OPTIONS[k]
    if not types then usage.raise("octopus.nvim.setup: unknown option '" .. tostring(k) .. "'") end
    if not types[type(v)] then
      usage.raise(("octopus.nvim.setup: option '%s' has the wrong type (%s)"):format(k, type(v)))
    end
    cfg[k] = v
  end
  if cfg.token_file == true then cfg.token_file = nil end
  local days = cfg.usage_days
  if days ~= nil and (days < 1 or days > 366 or days % 1 ~= 0) then
    usage.raise("octopus.nvim.setup: option 'usage_days' must be a whole number of days (1-366)")
  end
  for k, v in pairs(M.DEFAULTS) do if cfg[k] == nil then cfg[k] = v end end
  return cfg
end

local function nonempty(s) return type(s) == "string" and s ~= "" and s or nil end

-- -> creds, source | nil, why
function M.credentials(cfg, getenv)
  getenv = getenv or os.getenv
  if cfg.credentials then
    local ok, got = pcall(cfg.credentials)
    if not ok then return nil, "the credentials function raised an error" end
    if type(got) ~= "table" then return nil, "the credentials function returned no table" end
    local creds, n = {}, 0
    for _, k in ipairs(M.CREDENTIAL_KEYS) do
      if nonempty(got[k]) then creds[k], n = got[k], n + 1 end
    end
    if n == 0 then return nil, "the credentials function returned no credential" end
    if creds.email and not creds.password and not creds.api_key then
      return nil, "the credentials function returned an email without a password"
    end
    return creds, "the credentials function"
  end
  local key, email, password = nonempty(getenv("OCTOPUS_API_KEY")), nonempty(getenv("OCTOPUS_EMAIL")),
    nonempty(getenv("OCTOPUS_PASSWORD"))
  if key then return { api_key = key }, "the environment (OCTOPUS_API_KEY)" end
  if email and password then
    return { email = email, password = password }, "the environment (OCTOPUS_EMAIL, OCTOPUS_PASSWORD)"
  end
  if email then return nil, "OCTOPUS_EMAIL is set but OCTOPUS_PASSWORD is not" end
  return nil, "no credentials: set OCTOPUS_API_KEY or OCTOPUS_EMAIL and OCTOPUS_PASSWORD, " ..
    "or setup{ credentials = function() return { ... } end }"
end

-- the token file path for cfg: nil when disabled (token_file = false) or HOME is unset
function M.token_file(cfg)
  if cfg.token_file == false then return nil end
  if type(cfg.token_file) == "string" then
    local home = os.getenv("HOME")
    if cfg.token_file:sub(1, 2) == "~/" and home then return home .. cfg.token_file:sub(2) end
    return cfg.token_file
  end
  local ok, token_file = pcall(require, "octopus.graphql.token_file")
  if ok then return token_file.default_path() end
  -- the same rule when the core is not built yet (token_file needs it), so that
  -- :checkhealth can still look at the file
  local base = os.getenv("XDG_STATE_HOME")
  if not base or base == "" then
    local home = os.getenv("HOME")
    if not home or home == "" then return nil end
    base = home .. "/.local/state"
  end
  return base .. "/octopus/token.json"
end

-- the REST and GraphQL URLs: graphql_url defaults to rest_url .. "graphql/" when only
-- rest_url is given (both nil: the client's production defaults)
function M.urls(cfg)
  local rest, gql = cfg.rest_url, cfg.graphql_url
  -- (not rest:gsub("/?$", "/"): on 5.1/LuaJIT that also matches the empty end -> "//")
  if rest and not gql then gql = (rest:sub(-1) == "/" and rest or rest .. "/") .. "graphql/" end
  return rest, gql
end

function M.client_options(cfg, creds)
  local o = {}
  o.rest_url, o.graphql_url = M.urls(cfg)
  for _, k in ipairs { "ca_file", "timezone", "timeout", "connect_timeout", "retries" } do o[k] = cfg[k] end
  for k, v in pairs(creds or {}) do o[k] = v end
  o.token_file = M.token_file(cfg)
  return o
end

return M
