-- octopus.nvim.commands: the :Octopus subcommands. Each parses its arguments (a bad
-- one is a WARN, nothing runs), then runs its API calls in one task of the plugin's
-- client and hands the result to its renderer (octopus.nvim.render).
--
--   commands.NAMES                      -- in the order :Octopus completes them
--   commands.run(ctx, name, args)       -- ctx: see octopus.nvim (client, cfg, task, show, notify)
--   commands.complete(ctx, name, arglead) -> candidates
--
-- Invariants: nothing here blocks the editor (every API call runs inside ctx.task,
-- whose on_done runs on the main loop); bill, compare and sync call client methods
-- other layers provide, and say "not available in this version" (WARN) when the
-- client has none.
local render = require "octopus.nvim.render"

local ipairs, tonumber, type, tostring = ipairs, tonumber, type, tostring
local fmt = string.format

local M = {}

M.NAMES = { "usage", "bill", "compare", "balance", "sync", "login", "logout" }

-- name -> { usage = "...", parse = fn(args) -> opts | nil, why ; run = fn(ctx, opts) ; complete = {...} }
local SPEC = {}

local function is_account(a) return a:match("^A%-%w+$") ~= nil end
local function is_product(a) return a:match("^[A-Z][A-Z0-9_]*_[A-Z0-9_]+$") ~= nil end

-- a whole number in [lo, hi] or nil
local function count(a, lo, hi)
  local n = a:match("^%d+$") and tonumber(a)
  if n and n >= lo and n <= hi then return n end
  return nil
end

local function day_text(t, zone) return require("octopus").time.format(t, zone):sub(1, 10) end

-- a client method that other layers provide, or nil
local function method(client, name)
  local f = client[name]
  return type(f) == "function" and f or nil
end

SPEC.usage = {
  usage = ":Octopus usage [DAYS] [ACCOUNT]",
  complete = { "7", "14", "30" },
  parse = function(args, cfg)
    local o = { days = cfg.usage_days }
    for _, a in ipairs(args) do
      if is_account(a) then o.account = a
      elseif count(a, 1, 366) then o.days = count(a, 1, 366)
      else return nil, a end
    end
    return o
  end,
  run = function(ctx, o)
    ctx.task("usage", function(client)
      local number, err = ctx.account(client, o.account)
      if not number then return nil, err end
      local today = require("octopus").time.today(client.zone)
      local from, to = today - o.days * 86400, today
      local days, e = client:readings(number, { from = from, to = to }):by_day()
      if not days then return nil, e end
      local range = day_text(from, client.zone) .. " .. " .. day_text(to - 1, client.zone)
      return render.usage(number, days, { range = range })
    end)
  end,
}

SPEC.balance = {
  usage = ":Octopus balance [ACCOUNT]",
  complete = {},
  parse = function(args)
    local o = {}
    for _, a in ipairs(args) do
      if is_account(a) and not o.account then o.account = a else return nil, a end
    end
    return o
  end,
  run = function(ctx, o)
    ctx.task("balance", function(client)
      local number, err = ctx.account(client, o.account)
      if not number then return nil, err end
      local a, e = client:account(number)
      if not a then return nil, e end
      return render.balance(a)
    end)
  end,
}

-- bill [current|previous|FROM..TO] [ACCOUNT]
SPEC.bill = {
  usage = ":Octopus bill [current|previous|YYYY-MM-DD..YYYY-MM-DD] [ACCOUNT]",
  method = "bill",
  complete = { "current", "previous" },
  parse = function(args)
    local o = { period = "current" }
    for _, a in ipairs(args) do
      local from, to = a:match("^(%d%d%d%d%-%d%d%-%d%d)%.%.(%d%d%d%d%-%d%d%-%d%d)$")
      if is_account(a) then o.account = a
      elseif a == "current" or a == "previous" then o.period = a
      elseif from then o.period = { from = from, to = to }
      else return nil, a end
    end
    return o
  end,
  run = function(ctx, o)
    ctx.task("bill", function(client)
      local number, err = ctx.account(client, o.account)
      if not number then return nil, err end
      local b, e = client:bill(number, { period = o.period })
      if b == nil then return nil, e end
      if b.account == nil then b.account = number end
      return render.bill(b, { current = o.period == "current" })
    end)
  end,
}

-- compare [MONTHS] [PRODUCT ...] [ACCOUNT]
SPEC.compare = {
  usage = ":Octopus compare [MONTHS] [PRODUCT ...] [ACCOUNT]",
  method = "compare",
  complete = { "3", "6", "12" },
  parse = function(args)
    local o = {}
    for _, a in ipairs(args) do
      if is_account(a) then o.account = a
      elseif count(a, 1, 24) then o.months = count(a, 1, 24)
      elseif is_product(a) then o.products = o.products or {}; o.products[#o.products + 1] = a
      else return nil, a end
    end
    return o
  end,
  run = function(ctx, o)
    ctx.task("compare", function(client)
      local number, err = ctx.account(client, o.account)
      if not number then return nil, err end
      local c, e = client:compare(number, { months = o.months, products = o.products })
      if c == nil then return nil, e end
      local range = tonumber(c.from) and tonumber(c.to) and
        (day_text(c.from, client.zone) .. " .. " .. day_text(c.to - 1, client.zone)) or nil
      return render.compare(c, { account = number, range = range })
    end)
  end,
}

-- sync [ACCOUNT]: the local history store catches up; INFO when done
SPEC.sync = {
  usage = ":Octopus sync [ACCOUNT]",
  method = "sync",
  complete = {},
  parse = SPEC.balance.parse,
  run = function(ctx, o)
    ctx.task("sync", function(client)
      local number, err = ctx.account(client, o.account)
      if not number then return nil, err end
      local r, e = client:sync(number, {})   -- the store at its default path (XDG_DATA_HOME)
      if r == nil then return nil, e end
      local range = tonumber(r.from) and tonumber(r.to) and
        (day_text(r.from, client.zone) .. " .. " .. day_text(r.to - 1, client.zone)) or nil
      local path = require("octopus.history.store").default_path()
      return render.sync(r, { account = number, range = range, path = path })
    end, function(lines) ctx.notify("INFO", "sync done: " .. (lines[1]:gsub("^Sync ?", "")) ..
      (lines[2] and ("; " .. lines[2]) or "")) end)
  end,
}

SPEC.login = {
  usage = ":Octopus login",
  complete = {},
  parse = function(args) if args[1] then return nil, args[1] end return {} end,
  run = function(ctx)
    ctx.task("login", function(client)
      local ok, err = client:login()
      if not ok then return nil, err end
      return { "logged in" }
    end, function()
      local path = ctx.token_file()
      ctx.notify("INFO", "logged in" .. (path and (" (token state kept in " .. path .. ")") or ""))
    end)
  end,
}

SPEC.logout = {
  usage = ":Octopus logout",
  complete = {},
  local_only = true,
  parse = SPEC.login.parse,
  run = function(ctx)
    ctx.reset()
    local path = ctx.token_file()
    if path then
      local ok, token_file = pcall(require, "octopus.graphql.token_file")
      if ok then token_file.new(path):clear() else os.remove(path) end   -- (no core built yet)
    end
    ctx.notify("INFO", "logged out" .. (path and (" (forgot " .. path .. ")") or ""))
  end,
}

function M.usage_line()
  return ":Octopus {" .. table.concat(M.NAMES, "|") .. "} [args]"
end

-- -> true when it started (or finished) the command; false after a WARN
function M.run(ctx, name, args)
  local spec = name and SPEC[name]
  if not spec then
    ctx.notify("WARN", (name and ("unknown subcommand '" .. tostring(name) .. "': ") or "") .. M.usage_line())
    return false
  end
  local o, bad = spec.parse(args or {}, ctx.cfg())
  if not o then
    ctx.notify("WARN", fmt("unexpected argument '%s': %s", tostring(bad), spec.usage))
    return false
  end
  if spec.local_only then spec.run(ctx, o) return true end
  local client, err, level = ctx.client()
  if not client then ctx.notify(level or "WARN", tostring(err)) return false end
  if spec.method and not method(client, spec.method) then
    ctx.notify("WARN", name .. " is not available in this version (no client:" .. spec.method .. ")")
    return false
  end
  local ok, why = ctx.can_authenticate()
  if not ok then ctx.notify("WARN", why) return false end
  spec.run(ctx, o)
  return true
end

function M.complete(ctx, name, arglead)
  local spec = SPEC[name]
  if not spec then return {} end
  local out = {}
  local cands = {}
  for _, c in ipairs(spec.complete) do cands[#cands + 1] = c end
  local account = ctx.cfg().account
  if account and name ~= "login" and name ~= "logout" then cands[#cands + 1] = account end
  for _, c in ipairs(cands) do
    if c:sub(1, #arglead) == arglead then out[#out + 1] = c end
  end
  return out
end

return M
