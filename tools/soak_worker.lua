-- tools/soak_worker.lua -- one soak workload, run by tools/soak.lua under lua5.4, luajit or
-- inside `nvim --headless` (there with octopus.nvim attached: tasks are driven by libuv).
--
-- Env (set by tools/soak.lua): SOAK_URL (the chaos proxy, https), SOAK_ADMIN (the
-- sandbox itself, http, for its faults and stats), SOAK_CA, SOAK_EMAIL, SOAK_PASSWORD,
-- SOAK_API_KEY, SOAK_ACCOUNT, SOAK_SECONDS, SOAK_SEED, SOAK_OUT (result file), SOAK_ROOT.
--
-- Until SOAK_SECONDS have passed (and at most MAX_ROUNDS rounds), a random mix of:
-- blocking REST GETs, quote POSTs (counted), GraphQL viewer calls (tokens live 3 s:
-- refresh and re-login happen by themselves), batches of tasks with some cancelled at
-- random, client:map, readings windows (blocking and in a task), and a new sandbox
-- fault every few rounds. Every call must end in success or a documented error code.
-- Once a second: collectgarbage, then RSS (/proc/self/statm) and open fds
-- (/proc/self/fd). Writes one JSON object to SOAK_OUT: counts, errors by code,
-- samples, the POSTs attempted, and "fail" with the first violation (or nothing).
-- luacheck: read globals vim
local root = os.getenv("SOAK_ROOT") or "."
local in_nvim = vim ~= nil and vim.api ~= nil
local build = (jit and "build/luajit") or ("build/" .. _VERSION:match("%d+%.%d+"))
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/" .. build .. "/?.so;" .. package.cpath

local octopus = require "octopus"
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local async = require "octopus.async"

local env = os.getenv
local SECONDS = tonumber(env("SOAK_SECONDS")) or 30
local MAX_ROUNDS = 1000000
local out_path = assert(env("SOAK_OUT"), "SOAK_OUT is not set")
local account = env("SOAK_ACCOUNT")

local seed = tonumber(env("SOAK_SEED")) or 1
local function rand(n)                    -- 1..n, an LCG: the same seed, the same run
  seed = (seed * 1103515245 + 12345) % 2147483648
  return 1 + math.floor(seed / 2147483648 * n)
end

local admin = core.session {}
local function sandbox(method, path, body)
  local status, _, text = admin:request { method = method, url = env("SOAK_ADMIN") .. path,
    body = body and core.json.encode(body) or nil,
    headers = body and { ["Content-Type"] = "application/json" } or nil, timeout = 10 }
  return status, text and text ~= "" and core.json.decode(text) or nil
end

local function monotonic()
  if in_nvim then return (vim.uv or vim.loop).hrtime() / 1e9 end
  return require("socket").gettime()
end

local stats = { calls = 0, ok = 0, errors = {}, posts_attempted = 0, tasks = 0, cancelled = 0,
  maps = 0, readings = 0, reading_rows = 0, sandbox_faults = 0, rounds = 0, samples = {} }
local fail

local function violation(msg) if not fail then fail = msg end end

-- every call ends in success or a documented error code
local function settle(what, v, err)
  stats.calls = stats.calls + 1
  if v ~= nil then stats.ok = stats.ok + 1 return true end
  local code = type(err) == "table" and err.code or nil
  if not errors.known(code) then
    violation(what .. ": undocumented error " .. tostring(code) .. " (" .. tostring(err) .. ")")
  end
  local key = tostring(code)
  stats.errors[key] = (stats.errors[key] or 0) + 1
  return false
end

local pid = tonumber(io.open("/proc/self/stat"):read("*l"):match("^(%d+)"))
local function fd_count()
  if in_nvim then
    local uv = vim.uv or vim.loop
    local h, n = uv.fs_scandir("/proc/self/fd"), 0
    while h and uv.fs_scandir_next(h) do n = n + 1 end
    return n
  end
  local p = io.popen("ls /proc/" .. pid .. "/fd | wc -l")   -- the pipe itself: a constant +1
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end
local function sample(t)
  collectgarbage("collect")
  local f = io.open("/proc/self/statm")
  local pages = tonumber(f:read("*l"):match("^%d+%s+(%d+)"))
  f:close()
  stats.samples[#stats.samples + 1] = { t = t, rss_kb = pages * 4, fds = fd_count(),
    lua_kb = math.floor(collectgarbage("count")) }
end

local client = octopus.new { rest_url = env("SOAK_URL"), ca_file = env("SOAK_CA"),
  api_key = env("SOAK_API_KEY"), retries = 2, timeout = 3, connect_timeout = 3,
  max_retry_time = 5, backoff = { base = 0.02, cap = 0.1 } }
local viewer_client = octopus.new { rest_url = env("SOAK_URL"), ca_file = env("SOAK_CA"),
  email = env("SOAK_EMAIL"), password = env("SOAK_PASSWORD"), retries = 2, timeout = 3,
  connect_timeout = 3, max_retry_time = 5, backoff = { base = 0.02, cap = 0.1 } }
if in_nvim then
  require("octopus.nvim").attach(client)
  require("octopus.nvim").attach(viewer_client)
end

local QUOTE = { postcode = "100-0001", electricity = { annual_consumption_kwh = 3600 } }

-- waits for every task (bounded); in Neovim through the editor's own loop
local function wait_all(c, tasks, seconds)
  local function all_done()
    for _, t in ipairs(tasks) do if not t:done() then return false end end
    return true
  end
  if in_nvim then
    vim.wait(seconds * 1000, all_done, 5)
  else
    local deadline = monotonic() + seconds
    while not all_done() and monotonic() < deadline do c:poll(50) end
  end
  if not all_done() then violation("a task was still running after " .. seconds .. " s") end
end

local function a_day(base_month)
  return ("2026-%02d-%02d"):format(base_month, rand(20))
end

local actions = {}

actions[#actions + 1] = function()     -- blocking REST GET
  settle("products:list", client.products:list():all())
end

actions[#actions + 1] = function()     -- a non-idempotent POST
  stats.posts_attempted = stats.posts_attempted + 1
  settle("quotes:create", client.quotes:create(QUOTE))
end

actions[#actions + 1] = function()     -- GraphQL with a 3-second token
  settle("viewer", viewer_client:viewer())
end

actions[#actions + 1] = function()     -- tasks, some cancelled at random
  local tasks = {}
  for i = 1, 2 + rand(6) do
    local kind = rand(3)
    if kind == 1 then stats.posts_attempted = stats.posts_attempted + 1 end
    tasks[i] = client:spawn(function()
      if kind == 1 then return client.quotes:create(QUOTE) end
      if kind == 2 then return client.products:list():all() end
      return client.products:get("JPN_KK_OCTOPUS_MAY_26")
    end)
    stats.tasks = stats.tasks + 1
  end
  if in_nvim then vim.wait(rand(40), function() return false end, 5) else client:poll(rand(40)) end
  for _, t in ipairs(tasks) do
    if rand(3) == 1 and not t:done() then t:cancel() stats.cancelled = stats.cancelled + 1 end
  end
  wait_all(client, tasks, 20)
  for _, t in ipairs(tasks) do
    if t:done() then settle("task", t:result()) end
  end
end

actions[#actions + 1] = function()     -- client:map
  stats.maps = stats.maps + 1
  local items = {}
  for i = 1, 3 + rand(6) do items[i] = i end
  local results, errs = client:map(items, function() return client.products:list():all() end,
    { concurrency = 4 })
  for i = 1, #items do
    if errs and errs[i] then settle("map", nil, errs[i])
    else settle("map", results and results[i] or nil, { code = "MISSING" }) end
  end
end

actions[#actions + 1] = function()     -- readings windows, blocking or in a task
  stats.readings = stats.readings + 1
  local m = 1 + rand(9)
  local opts = { from = a_day(m), to = a_day(m + 1), concurrency = 1 + rand(8) }
  local rows, err
  if rand(2) == 1 then
    rows, err = viewer_client:readings(account, opts):all()
  else
    local t = viewer_client:spawn(function() return viewer_client:readings(account, opts):all() end)
    wait_all(viewer_client, { t }, 30)
    if t:done() then rows, err = t:result() else err = { code = "STILL_RUNNING" } end
  end
  if settle("readings", rows, err) then stats.reading_rows = stats.reading_rows + #rows end
end

local FAULTS = {
  { match = { route = "GET /v1/products/" }, action = { status = 503 } },
  { match = { route = "GET /v1/products/" }, action = { status = 429, retry_after = 0.1 } },
  { match = { route = "POST /v1/quotes/" }, action = { drop = "before_body" } },
  { match = { route = "POST /v1/quotes/" }, action = { status = 502 } },
  { match = { route = "GET /v1/products/*" }, action = { body = "truncated" } },
  { match = { route = "GET /v1/products/" }, action = { body = "malformed" } },
  { match = { operation = "HalfHourlyReadings" }, action = { delay = 0.1 } },
  { match = { operation = "Viewer" }, action = { expire_token = true } },
  { match = { route = "GET /v1/products/*" }, action = { html403 = true } },
}

local function sandbox_fault()
  local f = FAULTS[rand(#FAULTS)]
  local status = sandbox("POST", "/_sandbox/faults", { match = f.match, times = rand(2), action = f.action })
  if status == 201 then stats.sandbox_faults = stats.sandbox_faults + 1
  else violation("sandbox refused a fault: HTTP " .. tostring(status)) end
end

local function run()
  local t0 = monotonic()
  local next_sample = t0
  local deadline = t0 + SECONDS
  while monotonic() < deadline and stats.rounds < MAX_ROUNDS and not fail do
    stats.rounds = stats.rounds + 1
    local now = monotonic()
    if now >= next_sample then sample(now - t0) next_sample = now + 1 end
    if stats.rounds % 7 == 0 then sandbox_fault() end
    actions[rand(#actions)]()
  end
  sample(monotonic() - t0)
  stats.seconds = monotonic() - t0
  for _, c in ipairs { client, viewer_client } do
    local sched = async.scheduler(c)
    if sched and sched.live ~= 0 then violation(sched.live .. " task(s) left running") end
  end
  client:close()
  viewer_client:close()
  local _, st = sandbox("GET", "/_sandbox/stats")
  stats.posts_delivered = st and st.requests and st.requests["POST /v1/quotes/"] or 0
  if stats.posts_delivered > stats.posts_attempted then
    violation(("%d POSTs delivered for %d attempted"):format(stats.posts_delivered, stats.posts_attempted))
  end
end

local ok, err = pcall(run)
if not ok then violation("worker raised: " .. tostring(err)) end
stats.fail = fail
stats.host = in_nvim and "nvim" or (jit and jit.version or _VERSION)
local f = assert(io.open(out_path, "w"))
f:write(core.json.encode(stats), "\n")
f:close()
admin:close()
if in_nvim then vim.cmd(fail and "cq" or "qa!") else os.exit(fail and 1 or 0) end
