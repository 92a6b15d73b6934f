-- examples/love/main.lua: a small LÖVE dashboard of live data: the last days' usage as
-- a bar chart, the account balance and, where the library prices bills (client:bill),
-- this period's bill so far line by line. The network never stalls a frame: the client
-- runs in tasks that octopus.love drives with client:poll(0) at the top of love.update.
--
--   make nvim                     # builds the LuaJIT core (lua/octopus/core.so)
--   love examples/love            # no OCTOPUS_URL: starts the local sandbox (needs lua5.4)
--   OCTOPUS_URL=https://api.oejp-kraken.energy/v1/ OCTOPUS_EMAIL=... OCTOPUS_PASSWORD=... \
--     love examples/love          # your own account (OCTOPUS_ACCOUNT=A-... to choose one)
--
-- OCTOPUS_DAYS (default 14) days are shown. With OCTOPUS_LOVE_HEADLESS=1 (conf.lua) there
-- is no window: once the data is in, the game writes what it would draw as JSON to
-- OCTOPUS_OUT and quits (spec/hosts_spec.lua runs it that way).
local env = os.getenv
-- Where the library is: a shipped game keeps lua/octopus (with core.so) as plain files
-- in the directory of the fused executable (README: "Shipping with a LÖVE game"); run
-- from the checkout, lua/ and the LuaJIT core of `make nvim` / `make LUA=luajit`.
local base = love.filesystem.getSourceBaseDirectory()
local root = env("OCTOPUS_ROOT") or (love.filesystem.getSource() .. "/../..")
package.path = base .. "/?.lua;" .. base .. "/?/init.lua;" ..
  root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = base .. "/?.so;" .. root .. "/lua/?.so;" .. root .. "/build/luajit/?.so;" .. package.cpath

local dashboard = require "dashboard"

local headless = env("OCTOPUS_LOVE_HEADLESS") == "1"
local model = { status = "loading", frames = 0, frames_loading = 0 }
local client, sandbox, started

local function fail(err)
  model.status, model.error = "error", tostring(err)
end

-- the libcurl this process mapped (the system's, or one shipped beside the game)
local function mapped_libcurl()
  local f = io.open("/proc/self/maps")
  if not f then return nil end
  local path
  for line in f:lines() do path = path or line:match("(/%S*libcurl%S*)$") end
  f:close()
  return path
end

local function report_and_quit()
  local json = require("octopus").json
  local items = dashboard.layout(model, 800, 480)
  local f = io.open(assert(env("OCTOPUS_OUT"), "OCTOPUS_OUT is not set"), "w")
  f:write(json.encode { status = model.status, error = model.error, account = model.account,
    balance = model.balance, bill = model.bill, days = model.days or json.array {}, items = items,
    frames_loading = model.frames_loading, core = package.searchpath("octopus.core", package.cpath),
    libcurl = mapped_libcurl() })
  f:close()
  love.event.quit(model.status == "ready" and 0 or 1)
end

local function client_options()
  local url = env("OCTOPUS_URL")
  local o = { api_key = env("OCTOPUS_API_KEY"), email = env("OCTOPUS_EMAIL"), password = env("OCTOPUS_PASSWORD"),
              ca_file = env("OCTOPUS_CA_FILE") }
  for k, v in pairs(o) do if v == "" then o[k] = nil end end
  if not url then
    sandbox = require("octopus.sandbox.spawn").start { tls = true, ttl = 600 }
    url = sandbox.https .. "/v1/"
    o = { email = sandbox.credentials.email, password = sandbox.credentials.password, ca_file = sandbox.ca_file }
  end
  o.rest_url = url
  o.graphql_url = (url:sub(-1) == "/" and url or url .. "/") .. "graphql/"
  return o
end

function love.load()
  local ok, err = pcall(function()
    local octopus = require "octopus"
    client = octopus.new(client_options())
    require("octopus.love").attach(client)         -- client:poll(0) before each love.update
    local days = tonumber(env("OCTOPUS_DAYS") or "") or 14
    started = love.timer.getTime()
    client:spawn(function()
      local number = env("OCTOPUS_ACCOUNT")
      if not number then
        local me = assert(client:viewer())
        number = assert(me.accounts[1], "this login has no account").number
      end
      model.account = number
      -- the balance and the readings at the same time
      local balance = client:spawn(function() return assert(client:account(number)).balance end)
      -- this billing period's bill so far, with a library that prices bills (client:bill)
      local bill = type(client.bill) == "function" and client:spawn(function()
        local b = assert(client:bill(number, { period = "current" }))
        local lines = {}
        for i, l in ipairs(b.lines) do lines[i] = { label = l.label, yen = l.yen } end
        return { total = b.total, from_date = b.period.from_date, to_date = b.period.to_date,
                 kwh_text = b.kwh_text, lines = lines }
      end)
      local today = octopus.time.today(client.zone)
      local rows = assert(client:readings(number, { from = today - days * 86400, to = today }):by_day())
      model.balance = assert(balance:wait())
      if bill then model.bill = assert(bill:wait()) end
      return rows
    end):on_done(function(task)
      local rows, e = task:result()
      if not rows then return fail(e) end
      model.days, model.status = rows, "ready"
    end)
  end)
  if not ok then fail(err) end
end

function love.update()
  model.frames = model.frames + 1
  if model.status == "loading" then model.frames_loading = model.frames_loading + 1 end
  if headless then
    if model.status ~= "loading" then return report_and_quit() end
    if started and love.timer.getTime() - started > 20 then fail("deadline: no data after 20 s") end
  end
end

function love.draw()
  for _, it in ipairs(dashboard.layout(model, love.graphics.getWidth(), love.graphics.getHeight())) do
    love.graphics.setColor(it.color or { 1, 1, 1 })
    if it.kind == "rect" then love.graphics.rectangle("fill", it.x, it.y, it.w, it.h)
    else love.graphics.print(it.text, it.x, it.y) end
  end
end

function love.keypressed(key)
  if key == "escape" or key == "q" then love.event.quit() end
end

function love.quit()
  if client then client:close() end
  if sandbox then sandbox:stop() end
end
