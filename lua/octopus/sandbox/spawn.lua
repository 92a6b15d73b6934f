-- octopus.sandbox.spawn: run the sandbox as a child process from any Lua (5.1+,
-- LuaJIT), for examples and scripts: the server itself always runs on lua5.4.
--
--   local sandbox = require("octopus.sandbox.spawn").start{ tls = true, ttl = 600, args = {...} }
--   sandbox.http, sandbox.https, sandbox.ca_file, sandbox.credentials, sandbox.pid,
--   sandbox.rest_url, sandbox.graphql_url (ready for octopus.new; HTTPS unless tls = false)
--   sandbox:stop()     -- POST /_sandbox/shutdown and wait for the process (idempotent)
--
-- Invariants: start returns once the server listens (it prints one JSON line on
-- stdout with --json; reading it is the wait), or raises with what went wrong; the
-- server stops by itself after `ttl` seconds (default 600) if nobody stops it.
local core = require "octopus.core"

local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- the command that runs the sandbox: the checkout's bin/octopus-sandbox, else the
-- installed one (the octopus-sandbox rock's bin entry, on PATH)
local function command()
  local src = debug.getinfo(1, "S").source
  local root = src:match("^@(.-)/?lua/octopus/sandbox/spawn%.lua$")
  if root then
    if root == "" then root = "." end
    local f = io.open(root .. "/bin/octopus-sandbox", "r")
    if f then
      f:close()
      return "lua5.4 " .. quote(root .. "/bin/octopus-sandbox")
    end
  end
  return "octopus-sandbox"
end

local Sandbox = {}
Sandbox.__index = Sandbox

function M.start(opts)
  opts = opts or {}
  local argv = { command(), "--json", "--ttl", tostring(opts.ttl or 600) }
  if opts.tls == false then argv[#argv + 1] = "--no-tls" end
  for _, a in ipairs(opts.args or {}) do argv[#argv + 1] = quote(a) end
  local pipe = assert(io.popen(table.concat(argv, " ") .. " 2>/dev/null", "r"))
  local line = pipe:read("*l")
  local info = line and core.json.decode(line)
  if type(info) ~= "table" or not info.http then
    pipe:close()
    error("octopus.sandbox.spawn: the sandbox did not start (is lua5.4 installed, and the core built?)", 2)
  end
  info.pipe = pipe
  return setmetatable(info, Sandbox)
end

function Sandbox:stop()
  if not self.pipe then return end
  local session = core.session {}
  session:request { method = "POST", url = self.http .. "/_sandbox/shutdown", timeout = 5 }
  session:close()
  self.pipe:close()
  self.pipe = nil
end

return M
