-- octopus.sandbox.cli: the `octopus-sandbox` command (bin/octopus-sandbox), also what the
-- client's `octopus sandbox` runs when this rock is installed.
--
--   require("octopus.sandbox.cli").main(argv [, prog]) -> exit status
--     argv: the arguments after the command name ({ "--json", "--app", "echo", ... });
--     prog: the name used in messages and usage (default "octopus-sandbox").
--     0 = stopped normally (POST /_sandbox/shutdown, --ttl), 1 = could not start,
--     2 = usage error, 130 = interrupted (Ctrl-C: one line on stderr, no traceback).
--   cli.parse(argv, first, known) -> opts, extra | nil, message   (extra: app_opts)
--
-- Output: with --json exactly one JSON line on stdout once listening (fields as
-- octopus.sandbox.start's info); without it, ready-to-paste settings for a human.
-- Nothing but the sandbox's own demo credentials is ever printed.
local sandbox = require "octopus.sandbox"

local M = {}

local USAGE = [[
usage: %s [--app sandbox|echo|MODULE|FILE.lua] [--port N] [--tls-port N] [--no-tls]
          [--wrong-host-tls] [--ttl S] [--json] [--verbose]
          [--access-ttl S] [--refresh-ttl S] [--points N] [--any-other-flag V]

Runs the local Kraken-compatible server on 127.0.0.1 (apps: sandbox, the Kraken
look-alike; echo, the routes the C core specs use).
Any flag not listed above is passed to the app as app_opts (dashes become
underscores, numeric values become numbers, a flag without a value is true):
--access-ttl 5  ->  app_opts.access_ttl = 5.
--json prints exactly one JSON line once listening:
{"http":..,"https":..,"wrong_host":..,"ca_file":..,"pid":..,"credentials":{..},
 "rest_url":..,"graphql_url":..,"rest_url_http":..,"graphql_url_http":..}
The server stops on POST /_sandbox/shutdown, Ctrl-C, SIGTERM, or after --ttl seconds.
]]

local KNOWN = { app = "value", port = "value", ["tls-port"] = "value", ["no-tls"] = "flag",
  ["wrong-host-tls"] = "flag", ttl = "value", json = "flag", verbose = "flag", help = "flag" }

-- Splits argv[first..] into known options (per `known`: name -> "value"|"flag") and the
-- rest (name with dashes as underscores -> number | string | true).
function M.parse(argv, first, known)
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

-- a value for a POSIX shell, single-quoted when it needs to be
local function sh(v)
  v = tostring(v)
  if v:match("^[%w@%%+=:,./_-]+$") then return v end
  return "'" .. v:gsub("'", "'\\''") .. "'"
end

-- The human-readable settings: what to paste into octopus.new{...} and into a shell.
function M.settings_text(info, prog)
  if next(info.credentials or {}) == nil then      -- not the Kraken look-alike (e.g. echo)
    local out = { ("%s listening (pid %s)"):format(prog, tostring(info.pid)), "  http:    " .. info.http }
    if info.https then out[#out + 1] = "  https:   " .. info.https end
    if info.ca_file then out[#out + 1] = "  ca_file: " .. info.ca_file end
    out[#out + 1] = "stop with Ctrl-C or: curl -X POST " .. info.http .. "/_sandbox/shutdown"
    return table.concat(out, "\n") .. "\n"
  end
  local out = { ("%s listening (pid %s)"):format(prog, tostring(info.pid)),
                "  rest_url:     " .. info.rest_url,
                "  graphql_url:  " .. info.graphql_url }
  if info.ca_file then out[#out + 1] = "  ca_file:      " .. info.ca_file end
  if info.https then
    out[#out + 1] = "  plain HTTP:   " .. info.rest_url_http .. "  " .. info.graphql_url_http
  end
  if info.wrong_host then out[#out + 1] = "  wrong host:   " .. info.wrong_host end
  local c = info.credentials or {}
  local names = {}
  for k in pairs(c) do names[#names + 1] = k end
  table.sort(names)
  if #names > 0 then out[#out + 1] = "demo credentials (sandbox only):" end
  for _, k in ipairs(names) do
    local v = c[k]
    out[#out + 1] = ("  %-24s %s"):format(k .. ":", type(v) == "table" and json_encode(v) or tostring(v))
  end
  local lua = { ("rest_url = %q, graphql_url = %q"):format(info.rest_url, info.graphql_url) }
  if info.ca_file then lua[#lua + 1] = ("ca_file = %q"):format(info.ca_file) end
  if c.api_key then lua[#lua + 1] = ("api_key = %q"):format(c.api_key) end
  out[#out + 1] = "Lua:   octopus.new{ " .. table.concat(lua, ", ") .. " }"
  -- the octopus command line reads these (octopus.cli.config): URLs, CA, credentials
  local env = { "OCTOPUS_URL=" .. sh(info.rest_url), "OCTOPUS_GRAPHQL_URL=" .. sh(info.graphql_url) }
  if info.ca_file then env[#env + 1] = "OCTOPUS_CA_FILE=" .. sh(info.ca_file) end
  if c.api_key then env[#env + 1] = "OCTOPUS_API_KEY=" .. sh(c.api_key) end
  if c.email then env[#env + 1] = "OCTOPUS_EMAIL=" .. sh(c.email) end
  if c.password then env[#env + 1] = "OCTOPUS_PASSWORD=" .. sh(c.password) end
  out[#out + 1] = "shell: export " .. table.concat(env, " ")
  if c.accounts and c.accounts[1] then
    out[#out + 1] = "       octopus viewer; octopus account " .. sh(c.accounts[1])
  end
  out[#out + 1] = "stop with Ctrl-C or: curl -X POST " .. info.http .. "/_sandbox/shutdown"
  return table.concat(out, "\n") .. "\n"
end

-- Lua's standalone interpreter turns SIGINT into the error "interrupted!".
local function interrupted(err) return tostring(err):find("interrupted!", 1, true) ~= nil end

local function run(argv, prog)
  local function die(msg)
    io.stderr:write(prog, ": ", msg, "\n")
    return 2
  end
  local opts, extra = M.parse(argv, 1, KNOWN)
  if not opts then return die(extra) end
  if opts.help then io.stdout:write(USAGE:format(prog)) return 0 end
  for _, n in ipairs{ "port", "tls-port", "ttl" } do
    if opts[n] ~= nil and not tonumber(opts[n]) then
      return die("option --" .. n .. " needs a number, got " .. tostring(opts[n]))
    end
  end
  local log
  if opts.verbose then log = function(msg) io.stderr:write(prog, ": ", msg, "\n") end end
  local ok, err = pcall(sandbox.start, {
    app = opts.app, port = tonumber(opts.port), tls_port = tonumber(opts["tls-port"]),
    tls = not opts["no-tls"], wrong_host_tls = opts["wrong-host-tls"],
    ttl = tonumber(opts.ttl), app_opts = extra, log = log,
    on_ready = function(info)
      io.stdout:write(opts.json and (json_encode(info) .. "\n") or M.settings_text(info, prog))
      io.stdout:flush()
    end,
  })
  if ok then return 0 end
  if interrupted(err) then error(err, 0) end
  io.stderr:write(prog, ": sandbox failed: ", tostring(err), "\n")
  return 1
end

function M.main(argv, prog)
  prog = prog or "octopus-sandbox"
  local ok, rc = pcall(run, argv or {}, prog)
  if ok then return rc end
  if interrupted(rc) then
    io.stderr:write(prog, ": interrupted\n")
    return 130
  end
  io.stderr:write(prog, ": ", tostring(rc), "\n")
  return 1
end

return M
