-- octopus.cli: the `octopus` command's subcommands. main(argv) -> exit status.
--
-- Each subcommand is a function(args) in `commands`, returning an exit status; add new
-- ones there and to USAGE. Output discipline: machine-readable output goes to stdout
-- (exactly one JSON line with --json), diagnostics to stderr; no secret (API key,
-- password, token) is ever printed except the sandbox's own demo credentials.
local M = {}

local USAGE = [[
usage: octopus <command> [options]

commands:
  sandbox   run the local Kraken-compatible server on 127.0.0.1
  login     log in (GraphQL) and keep the token state for the next commands
  logout    forget the kept token state
  viewer    who the credentials belong to, and their accounts
  account   NUMBER: status, balance, supply points and products
  readings  NUMBER --from DATE --to DATE [--by day|month] [--supply-point SPIN]:
            half-hourly readings (dates are whole days in JST; --to is exclusive)

API commands read credentials from the environment, never from the command line
(where other users could see them): OCTOPUS_API_KEY, or OCTOPUS_EMAIL and
OCTOPUS_PASSWORD. Common options: [--url REST_BASE_URL] [--graphql-url URL]
[--ca-file FILE] [--token-file FILE | --no-token-file] [--json]. The token state
is kept in $XDG_STATE_HOME/octopus/token.json (mode 600) unless told otherwise.

octopus sandbox [--app sandbox|echo|MODULE|FILE.lua] [--port N] [--tls-port N] [--no-tls]
                [--wrong-host-tls] [--ttl S] [--json] [--verbose]
                [--access-ttl S] [--refresh-ttl S] [--points N] [--any-other-flag V]
  Any flag not listed above is passed to the app as app_opts (dashes become
  underscores, numeric values become numbers, a flag without a value is true):
  --access-ttl 5  ->  app_opts.access_ttl = 5.
  --json prints exactly one JSON line once listening:
  {"http":..,"https":..,"wrong_host":..,"ca_file":..,"pid":..,"credentials":{..}}
  The server stops on POST /_sandbox/shutdown, SIGTERM, or after --ttl seconds.
]]

local function die(msg)
  io.stderr:write("octopus: ", msg, "\n")
  return 2
end

-- Splits argv into known options (per `known`: name -> "value"|"flag") and extras.
local function parse(argv, first, known)
  local opts, extra = {}, {}
  local i = first
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^%-%-([%w][%w%-]*)=(.*)$")
    name = name or a:match("^%-%-([%w][%w%-]*)$")
    if not name then return nil, "unexpected argument: " .. a end
    local kind = known[name]
    local value = inline
    if kind == "flag" then
      value = true
    elseif value == nil then
      local nxt = argv[i + 1]
      if nxt ~= nil and not nxt:match("^%-%-") then
        value, i = nxt, i + 1
      elseif kind == "value" then
        return nil, "option --" .. name .. " needs a value"
      else
        value = true
      end
    end
    if kind then opts[name] = value
    else extra[(name:gsub("%-", "_"))] = tonumber(value) or value end
    i = i + 1
  end
  return opts, extra
end

local function json_encode(t) return require("octopus.core").json.encode(t) end

local commands = {}

function commands.sandbox(argv)
  local opts, extra = parse(argv, 2, {
    app = "value", port = "value", ["tls-port"] = "value", ["no-tls"] = "flag",
    ["wrong-host-tls"] = "flag", ttl = "value", json = "flag", verbose = "flag", help = "flag",
  })
  if not opts then return die(extra) end
  if opts.help then io.stdout:write(USAGE) return 0 end
  for _, n in ipairs{ "port", "tls-port", "ttl" } do
    if opts[n] ~= nil and not tonumber(opts[n]) then
      return die("option --" .. n .. " needs a number, got " .. tostring(opts[n]))
    end
  end
  local log
  if opts.verbose then
    log = function(msg) io.stderr:write("octopus sandbox: ", msg, "\n") end
  end
  local ok, err = pcall(require("octopus.sandbox").start, {
    app = opts.app, port = tonumber(opts.port), tls_port = tonumber(opts["tls-port"]),
    tls = not opts["no-tls"], wrong_host_tls = opts["wrong-host-tls"],
    ttl = tonumber(opts.ttl), app_opts = extra, log = log,
    on_ready = function(info)
      if opts.json then
        io.stdout:write(json_encode(info), "\n")
      else
        local out = { "octopus sandbox listening (pid " .. tostring(info.pid) .. ")",
                      "  http:        " .. info.http }
        if info.https then out[#out + 1] = "  https:       " .. info.https end
        if info.wrong_host then out[#out + 1] = "  wrong host:  " .. info.wrong_host end
        if info.ca_file then out[#out + 1] = "  CA file:     " .. info.ca_file end
        local names = {}
        for k in pairs(info.credentials or {}) do names[#names + 1] = k end
        table.sort(names)
        if #names > 0 then out[#out + 1] = "demo credentials (sandbox only):" end
        for _, k in ipairs(names) do
          local v = info.credentials[k]
          out[#out + 1] = ("  %-12s %s"):format(k .. ":", type(v) == "table" and json_encode(v) or tostring(v))
        end
        out[#out + 1] = "stop with Ctrl-C or: curl -X POST " .. info.http .. "/_sandbox/shutdown"
        io.stdout:write(table.concat(out, "\n"), "\n")
      end
      io.stdout:flush()
    end,
  })
  if not ok then return die("sandbox failed: " .. tostring(err)) end
  return 0
end

---------------------------------------------------------------------------
-- API commands
---------------------------------------------------------------------------
local API_OPTIONS = { url = "value", ["graphql-url"] = "value", ["ca-file"] = "value",
  ["token-file"] = "value", ["no-token-file"] = "flag", json = "flag", help = "flag",
  from = "value", to = "value", by = "value", ["supply-point"] = "value" }

-- the client for an API command, from options and the environment
local function api_client(opts)
  local octopus = require "octopus"
  local env = os.getenv
  local o = { api_key = env("OCTOPUS_API_KEY"), email = env("OCTOPUS_EMAIL"),
              password = env("OCTOPUS_PASSWORD"), ca_file = opts["ca-file"] }
  for k, v in pairs(o) do if v == "" then o[k] = nil end end
  if opts.url then
    o.rest_url = opts.url
    o.graphql_url = opts["graphql-url"] or (opts.url:gsub("/?$", "/") .. "graphql/")
  end
  if not opts["no-token-file"] then
    o.token_file = opts["token-file"] or require("octopus.graphql.token_file").default_path()
  end
  o.log = function(e)
    if e.event == "token_file" then io.stderr:write("octopus: ", tostring(e.error), "\n") end
  end
  return octopus.new(o)
end

-- runs fn(client, positional, opts) -> value to print | nil, err; exit status
local function api_command(argv, needs_arg, fn)
  local positional
  local first = 2
  if argv[2] and not argv[2]:match("^%-%-") then positional, first = argv[2], 3 end
  local opts, extra = parse(argv, first, API_OPTIONS)
  if not opts then return die(extra) end
  if next(extra) then return die("unknown option --" .. (next(extra)):gsub("_", "-")) end
  if opts.help then io.stdout:write(USAGE) return 0 end
  if needs_arg and not positional then return die(argv[1] .. " needs " .. needs_arg) end
  local ok, client = pcall(api_client, opts)
  if not ok then return die(tostring(client)) end
  local ok2, value, err = pcall(fn, client, positional, opts)
  client:close()
  if not ok2 then return die(tostring(value)) end        -- a usage error: 2
  if value == nil then                                   -- the API said no: 1
    io.stderr:write("octopus: ", tostring(err), "\n")
    return 1
  end
  local shown = value.text
  value.text = nil
  if opts.json then
    io.stdout:write(json_encode(value), "\n")
  elseif shown then
    io.stdout:write(shown, "\n")
  end
  return 0
end

local function text(lines, value)
  value = value or {}
  value.text = table.concat(lines, "\n")
  return value
end

function commands.login(argv)
  return api_command(argv, nil, function(client)
    local ok, err = client:login()
    if not ok then return nil, err end
    return text({ "logged in" }, { ok = true })
  end)
end

function commands.logout(argv)
  return api_command(argv, nil, function(_, _, opts)
    if opts["no-token-file"] then error("logout forgets a token file: --no-token-file leaves nothing to do", 0) end
    local path = opts["token-file"] or require("octopus.graphql.token_file").default_path()
    if path then require("octopus.graphql.token_file").new(path):clear() end
    return text({ "token state forgotten" }, { ok = true })
  end)
end

function commands.viewer(argv)
  return api_command(argv, nil, function(client)
    local me, err = client:viewer()
    if not me then return nil, err end
    local lines = { ("%s %s <%s>"):format(me.givenName or "", me.familyName or "", me.email or "") }
    for _, a in ipairs(me.accounts or {}) do lines[#lines + 1] = "  " .. a.number end
    return text(lines, { viewer = me })
  end)
end

function commands.account(argv)
  return api_command(argv, "an account number", function(client, number)
    local a, err = client:account(number)
    if not a then return nil, err end
    local lines = { ("%s %s, balance %s yen, billing name %s"):format(a.number, a.status,
      tostring(a.balance), tostring(a.billingName)) }
    for _, prop in ipairs(a.properties or {}) do
      for _, sp in ipairs(prop.electricitySupplyPoints or {}) do
        local ag = type(sp.agreements) == "table" and sp.agreements[1]
        local product = type(ag) == "table" and type(ag.product) == "table" and ag.product
        lines[#lines + 1] = ("  %s %s %s"):format(sp.spin, sp.status,
          product and (tostring(product.displayName) .. " (" .. tostring(product.code) .. ")") or "-")
      end
    end
    return text(lines, { account = a })
  end)
end

function commands.readings(argv)
  return api_command(argv, "an account number", function(client, number, opts)
    if not opts.from or not opts.to then error("readings needs --from and --to", 0) end
    local by = opts.by
    if by ~= nil and by ~= "day" and by ~= "month" then error("--by must be day or month", 0) end
    local it = client:readings(number, { from = opts.from, to = opts.to, supply_point = opts["supply-point"] })
    local rows, err = it:all()
    if not rows then return nil, err end
    local readings = require "octopus.graphql.readings"
    local lines = {}
    if by then
      local buckets = readings["by_" .. by](rows, client.zone)
      for _, b in ipairs(buckets) do
        lines[#lines + 1] = ("%s  %10.3f kWh  %10.2f yen"):format(b.key, b.value, b.cost_estimate)
      end
      return text(lines, { [by == "day" and "days" or "months"] = buckets })
    end
    for _, r in ipairs(rows) do
      lines[#lines + 1] = ("%s  %s kWh  %s yen"):format(r.start_iso, r.value_text, r.cost_estimate_text)
    end
    return text(lines, { readings = rows })
  end)
end

function M.main(argv)
  argv = argv or {}
  local cmd = argv[1]
  if cmd == nil or cmd == "help" or cmd == "--help" or cmd == "-h" then
    io.stdout:write(USAGE)
    return cmd == nil and 2 or 0
  end
  local fn = commands[cmd]
  if not fn then return die("unknown command: " .. cmd .. "\n" .. USAGE) end
  return fn(argv)
end

M.commands = commands
M.parse = parse

return M
