-- octopus.cli: the `octopus` command. main(argv) -> exit status.
--
-- The command line is defined once in octopus.cli.parser (lua-argparse); each
-- subcommand is function(args, ctx) -> result | nil, err in octopus.cli.commands.*,
-- and octopus.cli.format writes the result as a table, JSON, CSV or NDJSON.
-- Output discipline: results on stdout, diagnostics and progress on stderr; no secret is
-- ever printed. Exit status: 0 ok, 1 the API refused, 2 usage/configuration,
-- 3 network/TLS/timeout, 130 interrupted (see octopus.cli.parser.EXIT_STATUS).
local format = require "octopus.cli.format"
local config = require "octopus.cli.config"

local M = {}

-- the library's version (the core's, which the facade reports as octopus.version)
M.VERSION = require("octopus.core").version

local COMMANDS = {
  products = "catalog", tariff = "catalog", quote = "catalog", ["rate-limit"] = "catalog",
  viewer = "account", account = "account", login = "account", logout = "account",
  usage = "usage", readings = "usage",
  bill = "money", bills = "money", compare = "money",
  sync = "history", history = "history", export = "history",
  report = "report",
}

-- each subcommand's module, loaded on first use (literal names, so spec/layers_spec.lua
-- sees every arrow)
local MODULES = {
  catalog = function() return require "octopus.cli.commands.catalog" end,
  account = function() return require "octopus.cli.commands.account" end,
  usage = function() return require "octopus.cli.commands.usage" end,
  money = function() return require "octopus.cli.commands.money" end,
  history = function() return require "octopus.cli.commands.history" end,
  report = function() return require "octopus.cli.commands.report" end,
}

local function say(msg) io.stderr:write("octopus: ", msg, "\n") end

local function interrupted(msg) return tostring(msg):find("interrupted!", 1, true) ~= nil end

local LOOPBACK = { ["127.0.0.1"] = true, localhost = true, ["[::1]"] = true }

-- exit status for an operational error
function M.status_of(err)
  local code, kind = err.code, err.kind
  if code == "CANCELLED" or interrupted(err.message) then return 130 end
  if kind == "network" then return 3 end
  if code == "UNAVAILABLE" or (type(code) == "string" and code:match("^HTTP_5%d%d$")) then return 3 end
  if kind == "usage" then return 2 end
  return 1
end

-- one line a person can act on, plus a hint when there is an obvious next step
local function explain(err, settings)
  say(tostring(err))
  local url = settings and (settings.rest_url or settings.graphql_url) or ""
  local host = url:match("^%a+://([^/:]+)") or url:match("^%a+://(%[[^%]]+%])")
  if err.code == "TLS" and host and LOOPBACK[host] then
    say("hint: a local server (the sandbox) uses its own CA: pass --ca-file FILE "
      .. "(the sandbox prints its CA file), set OCTOPUS_CA_FILE, or ca_file in " .. config.path())
  elseif err.code == "CONNECT" and host and LOOPBACK[host] then
    say("hint: nothing listens at " .. url .. "; is the sandbox running (octopus sandbox)?")
  elseif err.code == "AUTH_INVALID" then
    say("hint: check OCTOPUS_API_KEY, or OCTOPUS_EMAIL and OCTOPUS_PASSWORD")
  elseif err.code == "RATE_LIMITED" and err.retry_after then
    say(("hint: the points budget is spent; try again in %d s"):format(math.ceil(err.retry_after)))
  end
end

local function sandbox(argv)
  local ok, cli = pcall(require, "octopus.sandbox.cli")
  if not ok or type(cli) ~= "table" or type(cli.main) ~= "function" then
    if ok or tostring(cli):find("module 'octopus.sandbox.cli' not found", 1, true) then
      say("sandbox: install the octopus-sandbox rock")
    else
      say("sandbox: " .. tostring(cli))
    end
    return 2
  end
  local rest = {}
  for i = 2, #argv do rest[#rest + 1] = argv[i] end
  local ran, status = pcall(cli.main, rest, "octopus sandbox")
  if not ran then
    if interrupted(status) then say("interrupted") return 130 end
    say("sandbox: " .. tostring(status))
    return 2
  end
  return tonumber(status) or 0
end

local function mode_of(args)
  if args.json then return "json" elseif args.csv then return "csv" elseif args.ndjson then return "ndjson" end
  return "table"
end

-- the context a command runs with: a lazily built client (closed by main), account
-- resolution and progress bars
local function context(args)
  local ctx = { mode = mode_of(args), ascii = not format.utf8_locale(), version = M.VERSION }
  ctx.clients = {}
  function ctx.client(need)
    local key = need or "public"
    if not ctx.clients[key] then
      local client, settings = config.client(args, need)
      ctx.clients[key], ctx.clients[#ctx.clients + 1] = client, client
      ctx.settings = ctx.settings or settings
    end
    return ctx.clients[key]
  end
  function ctx.has_credentials()
    local s = config.settings(args)
    return s.api_key ~= nil or (s.email ~= nil and s.password ~= nil)
  end
  function ctx.account(client, given)
    return config.account(client, ctx.settings or config.settings(args), given)
  end
  function ctx.progress(label)
    return require("octopus.cli.progress").new(label, { enabled = format.is_tty(2), ascii = ctx.ascii })
  end
  return ctx
end

local function run(argv)
  if argv[1] == "sandbox" then return sandbox(argv) end
  local parser = require("octopus.cli.parser").new()
  local parse_error
  parser.error = function(p, msg)
    parse_error = { parser = p, msg = msg }
    error("octopus: usage", 0)
  end
  local ok, args = pcall(parser.parse, parser, argv)
  if not ok then
    if parse_error then
      io.stderr:write(parse_error.parser:get_usage(), "\n\n")
      say(parse_error.msg)
      return 2
    end
    error(args, 0)
  end
  if args.version then io.stdout:write("octopus ", M.VERSION, "\n") return 0 end
  if not args.command then
    io.stderr:write(parser:get_help(), "\n")
    return 2
  end
  local cmd = args.command
  local module = MODULES[COMMANDS[cmd]]()
  local ctx = context(args)
  local ran, result, err = pcall(module[cmd] or module.usage, args, ctx)
  for _, c in ipairs(ctx.clients) do c:close() end
  if not ran then error(result, 0) end
  if result == nil then
    -- Ctrl-C that a library pcall caught and wrapped (e.g. as a DECODE of the row being
    -- read when the signal came): the same one line as an uncaught one
    if type(err) == "table" and interrupted(err.message) then
      io.stderr:write("\r\27[K")
      say("interrupted")
      return 130
    end
    explain(err, ctx.settings)
    return M.status_of(err)
  end
  if not result.streamed then format.emit(result, ctx.mode) end
  return 0
end

function M.main(argv)
  argv = argv or {}
  local ok, status = pcall(run, argv)
  if ok then return status end
  if type(status) == "table" and status.cli_usage then
    say(status.cli_usage)
    return 2
  end
  if interrupted(status) then
    io.stderr:write("\r\27[K")
    say("interrupted")
    return 130
  end
  -- a usage error raised by the library: its message without the Lua source position
  say((tostring(status):gsub("^[^\n]-%.lua:%d+: ", "")))
  return 2
end

return M
