-- spec/hosts/nvim/scenarios.lua: what each plugin spec does inside real Neovim, as a
-- user would (the :Octopus command, :checkhealth, :help), recording what the editor
-- shows. The sandbox comes from the environment: OCTOPUS_REST_URL (https),
-- OCTOPUS_CA_FILE, OCTOPUS_EMAIL/OCTOPUS_PASSWORD, OCTOPUS_CLOSED_URL (nothing listens).
local env, api = os.getenv, vim.api
local L = vim.log.levels

local S = {}

local function setup(extra)
  local o = { rest_url = env("OCTOPUS_REST_URL"), ca_file = env("OCTOPUS_CA_FILE") }
  for k, v in pairs(extra or {}) do o[k] = v end
  require("octopus.nvim").setup(o)
end

-- the shared objects mapped into this process whose path ends in octopus/core.so
local function mapped_cores()
  local out, seen = {}, {}
  for line in io.lines("/proc/self/maps") do
    local path = line:match("(/%S*octopus/core%.so)$")
    if path and not seen[path] then seen[path] = true; out[#out + 1] = path end
  end
  return out
end

-- runs cmd while an editor timer ticks; done(r) once a float opened or a note arrived:
-- r.lines (the float's), r.ticks (timer ticks meanwhile), r.floats_right_after (floats
-- open when the command returned: the result must not be there yet)
local function run_until_shown(lib, cmd, done)
  local t = lib.ticker()
  local notes_before = #lib.notes
  vim.cmd(cmd)
  local right_after = #lib.floats()
  local ticks0 = t.ticks
  lib.wait_for(function() return #lib.floats() > 0 or #lib.notes > notes_before end, function()
    t.stop()
    local f = lib.floats()[1]
    local notes = {}
    for i = notes_before + 1, #lib.notes do notes[#notes + 1] = lib.notes[i] end
    done({ lines = f and f.lines or nil, ticks = t.ticks - ticks0, floats_right_after = right_after,
           float_count = #lib.floats(), notes = notes })
  end)
end

function S.usage(lib)
  setup()
  run_until_shown(lib, "Octopus usage 7", function(r)
    r.loaded_octopus = vim.g.loaded_octopus
    r.has_command = vim.fn.exists(":Octopus")
    r.cores = mapped_cores()
    r.completion = vim.fn.getcompletion("Octopus ", "cmdline")
    lib.finish(r)
  end)
end

function S.balance(lib)
  setup()
  run_until_shown(lib, "Octopus balance", function(r)
    -- q closes the float (its buffer-local mapping)
    api.nvim_feedkeys("q", "x", false)
    r.floats_after_q = #lib.floats()
    lib.finish(r)
  end)
end

-- the bill so far, then the previous period's (the first float closed in between)
function S.bill(lib)
  setup()
  run_until_shown(lib, "Octopus bill", function(current)
    require("octopus.nvim.float").close()
    run_until_shown(lib, "Octopus bill previous", function(previous)
      lib.finish({ current = current, previous = previous })
    end)
  end)
end

function S.compare(lib)
  setup()
  run_until_shown(lib, "Octopus compare", function(r) lib.finish(r) end)
end

-- two syncs into the store at its default path (under XDG_DATA_HOME): no float, an INFO
-- each; the second finds everything stored already
function S.sync(lib)
  setup()
  run_until_shown(lib, "Octopus sync", function(first)
    run_until_shown(lib, "Octopus sync", function(second)
      local path = require("octopus.history.store").default_path()
      local st = vim.loop.fs_stat(path)
      local dir = vim.loop.fs_stat(vim.fn.fnamemodify(path, ":h"))
      lib.finish({ first = first, second = second, path = path,
                   mode = st and string.format("%o", st.mode % 4096),
                   dir_mode = dir and string.format("%o", dir.mode % 4096) })
    end)
  end)
end

function S.errors(lib)
  local r = {}
  local ok, msg = pcall(require("octopus.nvim").setup, { rest_url = env("OCTOPUS_REST_URL"), password = "x" })
  r.setup_password = { ok = ok, msg = tostring(msg) }
  -- wrong password from a credentials function: AUTH_INVALID at ERROR
  setup({ token_file = false, credentials = function()
    return { email = env("OCTOPUS_EMAIL"), password = "not-" .. env("OCTOPUS_PASSWORD") }
  end })
  local n0 = #lib.notes
  vim.cmd("Octopus balance")
  lib.wait_for(function() return #lib.notes > n0 end, function()
    r.auth_errors = lib.notes_at(L.ERROR, n0)
    -- usage problems: WARN at once, nothing started
    local n1 = #lib.notes
    vim.cmd("Octopus usage banana")
    vim.cmd("Octopus nope")
    vim.cmd("Octopus")
    r.usage_warnings = lib.notes_at(L.WARN, n1)
    r.floats_after_usage_errors = #lib.floats()
    -- bill/compare/sync: present in the client or "not available in this version"
    local client = assert(require("octopus.nvim").client())
    r.client_has = { bill = type(client.bill) == "function", compare = type(client.compare) == "function",
                     sync = type(client.sync) == "function" }
    local n2 = #lib.notes
    for _, name in ipairs { "bill", "compare", "sync" } do
      if not r.client_has[name] then vim.cmd("Octopus " .. name) end
    end
    r.unavailable = lib.notes_at(L.WARN, n2)
    -- nothing listens: CONNECT at ERROR
    setup({ rest_url = env("OCTOPUS_CLOSED_URL"), token_file = false, retries = 0 })
    local n3 = #lib.notes
    vim.cmd("Octopus balance")
    lib.wait_for(function() return #lib.notes > n3 end, function()
      r.network_errors = lib.notes_at(L.ERROR, n3)
      lib.finish(r)
    end)
  end)
end

function S.health(lib)
  setup({ health_check_url = true })
  local r = {}
  local n0 = #lib.notes
  vim.cmd("Octopus login")
  lib.wait_for(function() return #lib.notes > n0 end, function()
    r.login_info = lib.notes_at(L.INFO, n0)
    local path = require("octopus.nvim.config").token_file(require("octopus.nvim").config())
    local st = vim.loop.fs_stat(path)
    r.token_path = path
    r.token_mode = st and string.format("%o", st.mode % 4096)
    vim.cmd("checkhealth octopus")
    r.health = api.nvim_buf_get_lines(0, 0, -1, false)
    local n1 = #lib.notes
    vim.cmd("Octopus logout")
    r.logout_info = lib.notes_at(L.INFO, n1)
    r.token_after_logout = vim.loop.fs_stat(path) ~= nil
    lib.finish(r)
  end)
end

-- the plugin without its core (no `make nvim`): the command and the health check say so
function S.no_core(lib)
  setup()
  local n0 = #lib.notes
  -- (an ERROR message inside vim.cmd becomes an exception; typed, the user just sees it)
  pcall(vim.cmd, "Octopus balance")
  local r = { errors = lib.notes_at(L.ERROR, n0), floats = #lib.floats() }
  vim.cmd("checkhealth octopus")
  r.health = api.nvim_buf_get_lines(0, 0, -1, false)
  lib.finish(r)
end

-- no credentials, a token file others can read: the health check says so
function S.health_bad(lib)
  setup()
  local path = require("octopus.nvim.config").token_file(require("octopus.nvim").config())
  vim.fn.mkdir(vim.fn.fnamemodify(path, ":h"), "p", 448)   -- 0700
  local f = assert(io.open(path, "w"))
  f:write("{}")
  f:close()
  vim.loop.fs_chmod(path, 420)                               -- 0644
  vim.cmd("checkhealth octopus")
  lib.finish({ health = api.nvim_buf_get_lines(0, 0, -1, false), token_path = path })
end

function S.help(lib)
  local r = {}
  for _, tag in ipairs { "octopus", ":Octopus", "octopus-setup", ":Octopus-usage", ":Octopus-bill",
                         ":Octopus-compare", ":Octopus-balance", ":Octopus-sync", ":Octopus-login",
                         ":Octopus-logout", "octopus-health" } do
    local ok, err = pcall(vim.cmd, "help " .. tag)
    r[#r + 1] = { tag = tag, ok = ok, err = not ok and tostring(err) or nil,
                  file = vim.fn.expand("%:p"), line = api.nvim_get_current_line(),
                  buftype = vim.bo.buftype }
    if ok then vim.cmd("helpclose") end
  end
  lib.finish({ help = r })
end

return S
