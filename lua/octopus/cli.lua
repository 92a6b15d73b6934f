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

local function json_encode(t)
  local cjson = require "cjson"
  return (cjson.encode(t):gsub("\\/", "/"))
end

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
