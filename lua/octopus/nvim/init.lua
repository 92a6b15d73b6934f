-- octopus.nvim: the Neovim plugin (plugin/octopus.lua defines :Octopus on top of it)
-- and the libuv adapter for any plugin that drives a client itself.
--
--   require("octopus.nvim").setup{ rest_url =, graphql_url =, ca_file =, account =,
--     timezone =, token_file = path | false, usage_days = 7, border = "rounded",
--     credentials = function() return { email =, password = } end,   -- or the environment
--     health_check_url = true | url }                                 -- :checkhealth octopus
--   require("octopus.nvim").run({ "usage", "7" })   -- what :Octopus usage 7 does
--   require("octopus.nvim").attach(client [, opts]) -> handle   (octopus.nvim.attach)
--   require("octopus.nvim").client() -> the plugin's client | nil, why
--   require("octopus.nvim").reset()  -- closes the plugin's client (setup and logout do)
--
-- Invariants: one client per setup, made on the first command and attached to the
-- editor's loop (so its calls never block); credentials are read when it is made and
-- kept only inside it; results open a float, failures go to vim.notify at ERROR,
-- usage problems at WARN, login/logout/sync done at INFO (title "octopus").
local config = require "octopus.nvim.config"
local commands = require "octopus.nvim.commands"

---require("octopus.nvim").setup{...}'s options.
---@class octopus.NvimOptions
---@field rest_url? string
---@field graphql_url? string
---@field ca_file? string
---@field account? string            the account commands are about (default: the viewer's first)
---@field timezone? string
---@field token_file? string|false   a path, or false: keep no token state
---@field usage_days? integer        :Octopus usage without a count (default 7)
---@field border? string|table       the float's border (default "rounded")
---@field credentials? fun(): octopus.Credentials else OCTOPUS_API_KEY, OCTOPUS_EMAIL + OCTOPUS_PASSWORD
---@field health_check_url? boolean|string :checkhealth's reachability check (true: rest_url)
---@field timeout? number
---@field connect_timeout? number
---@field retries? integer

---@class octopus.nvim
---@field TASK_TIMEOUT number    seconds; a command that takes longer ends with TIMEOUT
---@field subcommands string[]
---@field notify fun(level: "ERROR"|"WARN"|"INFO", msg: string)
local M = {}

-- loaded on first use: setup() and :checkhealth must work before the core is built
---Drives client from Neovim's libuv loop (octopus.nvim.attach).
---@param client octopus.Client
---@param opts? { concurrency?: integer, max_connections?: integer, max_host_connections?: integer }
---@return octopus.NvimHandle handle
function M.attach(client, opts) return require("octopus.nvim.attach").attach(client, opts) end
M.TASK_TIMEOUT = 120   -- seconds; a command that takes longer ends with TIMEOUT

local state = { cfg = nil, client = nil, account = nil }

local function cfg()
  if not state.cfg then state.cfg = config.new({}) end
  return state.cfg
end

---vim.notify with the plugin's title ("octopus: " .. msg).
---@param level "ERROR"|"WARN"|"INFO"
---@param msg string
local function notify(level, msg)
  vim.notify("octopus: " .. msg, vim.log.levels[level], { title = "octopus" })
end
M.notify = notify

---Closes the plugin's client (setup and :Octopus logout do).
function M.reset()
  local c = state.client
  state.client, state.account = nil, nil
  if c then c:close() end
end

---The plugin's options: validated (a bad option raises, naming it; credentials are refused:
---they come from the environment or opts.credentials()).
---@param opts? octopus.NvimOptions
---@return table M the module
function M.setup(opts)
  local new = config.new(opts)
  M.reset()
  state.cfg = new
  return M
end

---@return octopus.NvimOptions cfg the validated configuration (defaults applied)
function M.config() return cfg() end

-- -> client | nil, why, level ("ERROR": the library does not load; "WARN": bad options)
---The plugin's client, made (and attached) on first use.
---@return octopus.Client|nil client
---@return string|nil why
---@return "ERROR"|"WARN"|nil level "ERROR": the library does not load; "WARN": bad options
function M.client()
  if state.client then return state.client end
  local loaded, octopus = pcall(require, "octopus")
  if not loaded then
    return nil, "the library does not load (run `make nvim` in the plugin's directory; " ..
      ":checkhealth octopus): " .. tostring(octopus):gsub("\n.*", ""), "ERROR"
  end
  local creds = config.credentials(cfg())
  local o = config.client_options(cfg(), creds)
  o.log = function(e)
    if e.event == "token_file" then
      local msg = tostring(e.error)
      vim.schedule(function() notify("WARN", msg) end)
    end
  end
  local ok, client = pcall(octopus.new, o)
  if not ok then return nil, "cannot make a client: " .. tostring(client), "WARN" end
  M.attach(client)
  state.client = client
  return client
end

-- credentials or a token file to start from; -> true | false, why
local function can_authenticate()
  local creds, why = config.credentials(cfg())
  if creds then return true end
  local path = config.token_file(cfg())
  local f = path and io.open(path, "rb")
  if f then f:close() return true end
  return false, why
end

-- the account a command is about: explicit, setup{ account }, else the first of the
-- viewer's (asked once per client); runs inside a task
local function account(client, explicit)
  if explicit then return explicit end
  if cfg().account then return cfg().account end
  if state.account and state.client == client then return state.account end
  local me, err = client:viewer()
  if not me then return nil, err end
  local first = type(me.accounts) == "table" and me.accounts[1]
  if type(first) ~= "table" or type(first.number) ~= "string" then
    return nil, require("octopus").errors.new { code = "NOT_FOUND", kind = "usage",
      message = "this login has no account (give one: :Octopus usage 7 A-1234ABCD)" }
  end
  if state.client == client then state.account = first.number end
  return first.number
end

local function level_of(err)
  if type(err) == "table" and err.kind == "usage" and err.code ~= "CANCELLED" then return "WARN" end
  return "ERROR"
end

-- runs fn(client) -> lines | nil, err in a task; on success shows the lines in a float,
-- or calls done(lines) instead when given
local function task(name, fn, done)
  local client = state.client
  local t = client:spawn(function() return fn(client) end)
  t:set_timeout(M.TASK_TIMEOUT)
  t:on_done(function(tk)
    local lines, err = tk:result()
    if tk.err then err = tk.err end
    if not lines then
      if err and err.code == "CANCELLED" and state.client ~= client then return end  -- reset meanwhile
      return notify(level_of(err), name .. " failed: " .. tostring(err))
    end
    if done then return done(lines) end
    require("octopus.nvim.float").open(lines, { border = cfg().border })
  end)
  return t
end

local ctx = {
  cfg = cfg, notify = notify, client = M.client, reset = M.reset, task = task,
  account = account, can_authenticate = can_authenticate,
  token_file = function() return config.token_file(cfg()) end,
}

-- run({ subcommand, args... }) -> true when it started
---What :Octopus does: { subcommand, args... } (usage, bill, compare, balance, sync, login, logout).
---@param fargs? string[]
---@return boolean started
function M.run(fargs)
  fargs = fargs or {}
  local args = {}
  for i = 2, #fargs do args[#args + 1] = fargs[i] end
  return commands.run(ctx, fargs[1], args)
end

-- completion for :Octopus (customlist: arglead, the command line, cursor position)
---:Octopus's completion (customlist).
---@param arglead string
---@param cmdline? string
---@param cursorpos? integer
---@return string[] candidates
function M.complete(arglead, cmdline, cursorpos)
  local before = (cmdline or ""):sub(1, cursorpos or #(cmdline or ""))
  local words = {}
  for w in before:gmatch("%S+") do words[#words + 1] = w end
  local n = #words
  if arglead ~= "" then n = n - 1 end      -- the word being typed is not complete yet
  if n <= 1 then
    local out = {}
    for _, name in ipairs(commands.NAMES) do
      if name:sub(1, #arglead) == arglead then out[#out + 1] = name end
    end
    return out
  end
  return commands.complete(ctx, words[2], arglead)
end

M.subcommands = commands.NAMES

return M
