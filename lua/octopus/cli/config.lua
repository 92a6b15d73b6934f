-- octopus.cli.config: where the command's settings come from, and the client built
-- from them. Precedence: command-line flag, then environment, then the config file
-- ($XDG_CONFIG_HOME/octopus/config, else ~/.config/octopus/config, or OCTOPUS_CONFIG).
--
-- The config file holds `key = value` lines (# comments): rest_url, graphql_url,
-- ca_file, account, timezone. It never holds secrets: a key that looks like one
-- (password, api_key, token, secret, ...) is refused with an error naming the
-- environment variable to use instead. Credentials come from the environment only:
-- OCTOPUS_API_KEY, or OCTOPUS_EMAIL and OCTOPUS_PASSWORD; URL and CA file also from
-- OCTOPUS_URL, OCTOPUS_GRAPHQL_URL and OCTOPUS_CA_FILE.
local M = {}

M.KEYS = { rest_url = true, graphql_url = true, ca_file = true, account = true, timezone = true }
local SECRET = { "password", "api_key", "apikey", "key", "token", "secret", "refresh", "email" }

-- a usage error (exit status 2) with a message meant for a person
local function usage(msg) error({ cli_usage = msg }, 0) end
M.usage = usage

local function getenv(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end
M.getenv = getenv

function M.path()
  local explicit = getenv("OCTOPUS_CONFIG")
  if explicit then return explicit end
  local base = getenv("XDG_CONFIG_HOME") or ((getenv("HOME") or ".") .. "/.config")
  return base .. "/octopus/config"
end

-- reads the config file -> table (empty when there is none); bad lines are usage errors
function M.read(path)
  path = path or M.path()
  local f = io.open(path, "r")
  if not f then return {}, path end
  local conf, n = {}, 0
  for line in f:lines() do
    n = n + 1
    local body = line:gsub("^%s+", ""):gsub("%s+$", "")
    if body ~= "" and not body:match("^#") then
      local k, v = body:match("^([%w_%-]+)%s*=%s*(.-)$")
      if not k then f:close() usage(("%s:%d: expected `key = value`"):format(path, n)) end
      k = k:lower():gsub("%-", "_")
      v = v:gsub('^"(.*)"$', "%1")
      if not M.KEYS[k] then
        for _, s in ipairs(SECRET) do
          if k:find(s, 1, true) then
            f:close()
            usage(("%s:%d: `%s` looks like a secret, and secrets never go in the config file: "
              .. "set OCTOPUS_API_KEY, or OCTOPUS_EMAIL and OCTOPUS_PASSWORD, in the environment")
              :format(path, n, k))
          end
        end
        f:close()
        usage(("%s:%d: unknown key `%s` (known: account, ca_file, graphql_url, rest_url, timezone)")
          :format(path, n, k))
      end
      conf[k] = v
    end
  end
  f:close()
  return conf, path
end

-- settings from flags (args from argparse), environment and config -> table
function M.settings(args)
  local conf = M.read()
  local s = {}
  s.rest_url = args.url or getenv("OCTOPUS_URL") or conf.rest_url
  s.graphql_url = args.graphql_url or getenv("OCTOPUS_GRAPHQL_URL") or conf.graphql_url
  if s.rest_url and not s.graphql_url then
    s.graphql_url = s.rest_url:gsub("/?$", "/") .. "graphql/"
  end
  s.ca_file = args.ca_file or getenv("OCTOPUS_CA_FILE") or conf.ca_file
  s.timezone = conf.timezone
  s.account = conf.account
  s.api_key = getenv("OCTOPUS_API_KEY")
  s.email = getenv("OCTOPUS_EMAIL")
  s.password = getenv("OCTOPUS_PASSWORD")
  return s
end

-- raises a usage error unless the environment holds credentials; need = "any" | "api_key"
function M.check_credentials(s, need)
  if need == "api_key" then
    if not s.api_key then
      usage("this command uses the REST API, which needs an API key: set OCTOPUS_API_KEY")
    end
    return
  end
  if s.api_key then return end
  if s.email and not s.password then usage("OCTOPUS_EMAIL is set but OCTOPUS_PASSWORD is not") end
  if s.password and not s.email then usage("OCTOPUS_PASSWORD is set but OCTOPUS_EMAIL is not") end
  if not s.email then
    usage("no credentials: set OCTOPUS_API_KEY, or OCTOPUS_EMAIL and OCTOPUS_PASSWORD, "
      .. "in the environment (never on the command line)")
  end
end

-- the client; need = nil (public endpoints), "any" or "api_key"
function M.client(args, need)
  local s = M.settings(args)
  if need then M.check_credentials(s, need) end
  local o = { rest_url = s.rest_url, graphql_url = s.graphql_url, ca_file = s.ca_file,
              timezone = s.timezone }
  if need then o.api_key, o.email, o.password = s.api_key, s.email, s.password end
  if need and not args.no_token_file then
    o.token_file = args.token_file or require("octopus.graphql.token_file").default_path()
  end
  o.log = function(e)
    if e.event == "token_file" then io.stderr:write("octopus: ", tostring(e.error), "\n") end
  end
  local client = require("octopus").new(o)
  return client, s
end

-- the account number: the argument, else the configured default, else the only one
-- the credentials see (one viewer request); a usage error when that is ambiguous
function M.account(client, s, given)
  if given then return given end
  if s.account then return s.account end
  local me, err = client:viewer()
  if not me then return nil, err end
  local list = me.accounts or {}
  if #list == 1 then return list[1].number end
  local numbers = {}
  for i, a in ipairs(list) do numbers[i] = a.number end
  if #numbers == 0 then usage("these credentials see no account") end
  usage("these credentials see " .. #numbers .. " accounts (" .. table.concat(numbers, ", ")
    .. "): name one, or set `account = ...` in " .. M.path())
end

return M
