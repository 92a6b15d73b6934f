-- spec/sync_spec.lua: octopus.history.sync against the sandbox over TLS with real SQLite
-- files: the backfill matches the sandbox's own dataset row for row, an up-to-date
-- account re-syncs in at most 2 GraphQL requests, reissued rows become revisions, and
-- child processes killed mid-sync or syncing the same file at once lose nothing.
local helper = require "helper"
local octopus = require "octopus"
local store = require "octopus.history.store"
local sync = require "octopus.history.sync"
local time = require "octopus.pipeline.time"
local sqlite = require "octopus.sqlite"
local socket = require "socket"
local cjson = require "cjson"

local LUA = os.getenv("OCTOPUS_LUA") or "lua5.4"
local VERSION = { MONTHLY = "MONTHLY", LATEST = "DAILY" }

local function wait_for(pred, what)
  for _ = 1, 3000 do
    if pred() then return end
    socket.sleep(0.02)
  end
  error("timed out waiting for " .. what, 2)
end

local function graphql_requests(srv)
  return srv:count("operations", "HalfHourlyReadings") + srv:count("operations", "Account") +
    srv:count("operations", "ObtainKrakenToken")
end

describe("octopus.history.sync", function()
  local srv, creds, account, spin, ds, dir, path
  local function client()
    return octopus.new { api_key = creds.api_key, ca_file = srv.ca_file, rest_url = srv.https .. "/v1/",
      graphql_url = srv.https .. "/v1/graphql/" }
  end
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    creds = srv.credentials
    account = creds.accounts[1]
    ds = require("octopus.sandbox.data").new { seed = 1 }
    spin = ds.accounts[account].properties[1].supply_points[1].spin
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function()
    srv:admin("POST", "/_sandbox/reset")
    dir = helper.run("mktemp -d /tmp/octopus-sync.XXXXXXXX"):gsub("%s+$", "")
    path = dir .. "/readings.sqlite"
  end)
  after_each(function() os.execute("rm -rf " .. helper.quote(dir)) end)

  local function same_as_sandbox(s, from, to)
    local expected = ds:readings(spin, from, to)
    local i = 0
    for r in s:rows(spin) do
      i = i + 1
      local e = expected[i]
      assert.equal(e.start_at, r.start_at)
      assert.equal(e.value, r.value_text)
      assert.equal(e.cost_estimate, r.cost_estimate_text)
      assert.equal(VERSION[e.version], r.version)
    end
    assert.equal(#expected, i)
    return i
  end

  it("backfills from the supply start, then re-syncs in at most 2 GraphQL requests", function()
    local c = client()
    local s = assert(store.open(path))
    local r = assert(sync.sync(c, s, account))
    assert.equal(spin, r.spin)
    local agreement_from                                     -- the earliest active agreement's start
    for _, a in ipairs(ds.accounts[account].properties[1].supply_points[1].agreements) do
      if not a.valid_to or time.parse(a.valid_to) > os.time() then
        local t = time.parse(a.valid_from)
        if not agreement_from or t < agreement_from then agreement_from = t end
      end
    end
    assert.equal(agreement_from, r.from)
    local n = same_as_sandbox(s, r.from, r.to)
    assert.equal(n, r.added)
    assert.same({ 0, 0 }, { r.revised, r.unchanged })
    assert.equal(r.requests, srv:count("operations", "HalfHourlyReadings") + srv:count("operations", "Account"))
    assert.equal(1, srv:count("operations", "Account"))
    assert.equal(r.windows, srv:count("operations", "HalfHourlyReadings"))   -- no window needed splitting
    assert.same({ { from = r.from, to = r.to } }, s:coverage(spin))
    assert.equal("03", s:supply_point(spin).area)
    assert.equal(account, s:supply_point(spin).account)
    -- up to date: only the re-read window, on the same client and on a fresh one (+ its token)
    for _, cl in ipairs { c, client() } do
      srv:admin("POST", "/_sandbox/reset")
      local again = assert(sync.sync(cl, s, account))
      assert.is_true(graphql_requests(srv) <= 2, "GraphQL requests: " .. graphql_requests(srv))
      assert.equal(0, srv:count("operations", "Account"))
      assert.equal(1, again.windows)
      assert.equal(0, again.revised)
      assert.equal(s:count(spin, { from = again.reread_from, to = again.to }), again.unchanged + again.added)
      assert.is_true(again.reread_from <= time.month_window(os.time(), c.zone))
      same_as_sandbox(s, r.from, again.to)
    end
    s:close()
  end)

  it("keeps the old value when the API reissues a row", function()
    local c = client()
    local s = assert(store.open(path))
    local from = time.parse("2026-11-10")
    local first = assert(sync.sync(c, s, account, { from = from }))
    -- the API answers the re-read window with UPDATED rows, each 1 Wh more
    local fake = {}
    for r in s:rows(spin, { from = first.reread_from }) do
      local v = ("%.3f"):format(r.value + 0.001)
      fake[#fake + 1] = { startAt = time.format(r.start_at, "UTC"), endAt = time.format(r.end_at, "UTC"), value = v,
        costEstimate = r.cost_estimate_text, version = "UPDATED", consumptionRateBand = r.band,
        consumptionStep = r.step }
    end
    local sp = { spin = spin, halfHourlyReadings = fake }
    local body = cjson.encode { data = { account = { properties = { { electricitySupplyPoints = { sp } } } } } }
    srv:fault { match = { operation = "HalfHourlyReadings" }, times = 1, action = { status = 200, body = body } }
    local second = assert(sync.sync(c, s, account, { from = from }))
    assert.equal(#fake, second.revised, cjson.encode(second))
    assert.equal(0, second.added)
    local t = time.parse(fake[1].startAt)
    local row
    for x in s:rows(spin, { from = t, to = t + 1800 }) do row = x end
    assert.equal(fake[1].value, row.value_text)
    assert.equal("UPDATED", row.version)
    local revs = s:revisions(spin, t)
    assert.equal(1, #revs)
    local original = ds:readings(spin, t, t + 1800)[1]
    assert.equal(original.value, revs[1].value_text)
    assert.equal(VERSION[original.version], revs[1].version)
    -- the real answer ranks below UPDATED: nothing is undone
    local third = assert(sync.sync(c, s, account, { from = from }))
    assert.equal(0, third.revised)
    assert.equal(1, #s:revisions(spin, t))
    s:close()
  end)

  it("a month that closes turns its DAILY rows into MONTHLY revisions, the DAILY kept", function()
    -- the client's clock and the sandbox's move together: to mid next month, then a month on
    local clock = require("octopus.pipeline.clock").fake(os.time())
    local c = octopus.new { api_key = creds.api_key, ca_file = srv.ca_file, rest_url = srv.https .. "/v1/",
      graphql_url = srv.https .. "/v1/graphql/", clock = clock }
    local function advance(s)
      clock:advance(s)
      assert.equal(200, (srv:admin("POST", "/_sandbox/clock", { advance = s })))
    end
    local _, next_month = time.month_window(clock.wall(), c.zone)
    advance(next_month + 15 * 86400 - math.floor(clock.wall()))
    local s = assert(store.open(path))
    local from = time.day_start(clock.wall() - 20 * 86400, c.zone)
    local first = assert(sync.sync(c, s, account, { from = from }))
    local month_from = time.month_window(clock.wall(), c.zone)
    local daily = 0
    for r in s:rows(spin, { from = month_from }) do
      assert.equal("DAILY", r.version)
      daily = daily + 1
    end
    assert.is_true(daily >= 15 * 48)
    advance(31 * 86400)
    local second = assert(sync.sync(c, s, account, { from = from }))
    assert.equal(daily, second.revised)
    assert.is_true(second.added > 0)
    assert.equal(month_from, second.reread_from)               -- from the oldest DAILY row
    for r in s:rows(spin, { from = month_from, to = month_from + 86400 }) do
      assert.equal("MONTHLY", r.version)
      local revs = s:revisions(spin, r.start_at)
      assert.equal(1, #revs)
      assert.equal("DAILY", revs[1].version)
      assert.equal(r.value_text, revs[1].value_text)
    end
    assert.equal(first.to + 31 * 86400, second.to)
    s:close()
    c:close()
  end)

  it("returns the API's error with a partial report and keeps what was committed", function()
    local c = client()
    local s = assert(store.open(path))
    srv:fault { match = { operation = "HalfHourlyReadings" }, times = 1, action = { status = 200,
      body = '{"data":null,"errors":[{"message":"Unauthorized.","extensions":{"errorCode":"KT-CT-4301"}}]}' } }
    local from = time.parse("2026-10-20")
    local r, err, partial = sync.sync(c, s, account, { from = from, concurrency = 1 })
    assert.is_nil(r)
    assert.equal("KT-CT-4301", err.code)
    assert.equal(0, partial.added)
    assert.equal(0, s:count(spin))
    assert.same({}, s:coverage(spin))
    local again = assert(sync.sync(c, s, account, { from = from }))
    assert.equal(from, partial.from)
    assert.equal(from, again.from)
    same_as_sandbox(s, again.from, again.to)
    s:close()
  end)

  it("client:sync and client:history, the methods the facade installs", function()
    local methods = require("octopus.history").methods
    local c = client()
    local from = time.parse("2026-11-20")
    local r = assert(methods.sync(c, account, { path = path, from = from }))   -- opens and closes the file
    assert.is_true(r.added > 0)
    local s = assert(methods.history(c, { path = path, read_only = true }))
    assert.equal(c.zone, s.zone)
    assert.equal(r.added, s:count(spin))
    local no, err = methods.sync(c, account, { store = s, from = from })   -- a read-only store
    assert.is_nil(no)
    assert.equal("READONLY", err.code)
    assert.equal("the store " .. path .. " is read-only", err.message)
    assert.equal(r.added, s:count(spin))
    s:close()
    helper.raises("client:sync: option 'store' must be an octopus.history store", methods.sync, c, account,
      { store = {} })
    helper.raises("client:history: unknown option 'file'", methods.history, c, { file = path })
  end)

  it("raises on usage errors naming the option", function()
    local c = client()
    local s = assert(store.open(path))
    helper.raises("sync: unknown option 'form'", sync.sync, c, s, account, { form = "2026-01-01" })
    helper.raises("sync: option 'window_days' must be a whole number from 1 to 30", sync.sync, c, s, account,
      { window_days = 31 })
    helper.raises("sync: option 'from': octopus.time: malformed datetime 'June'", sync.sync, c, s, account,
      { from = "June" })
    helper.raises("sync: 'account' must be an account number", sync.sync, c, s, nil)
    helper.raises("sync: option 'concurrency' must be a whole number >= 1", sync.sync, c, s, account,
      { concurrency = 0 })
    s:close()
  end)

  -- a child process syncing the same file: its client talks to this spec's sandbox
  local function spawn(name, extra)
    local script = dir .. "/" .. name .. ".lua"
    local f = assert(io.open(script, "w"))
    f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath))
    f:write(([[
      local pf = io.open(%q, "w"); pf:write((io.open("/proc/self/stat"):read("*l"):match("^%%d+"))); pf:close()
      local socket = require "socket"
      local octopus = require "octopus"
      local store = require "octopus.history.store"
      local sync = require "octopus.history.sync"
      local c = octopus.new { api_key = %q, ca_file = %q, rest_url = %q, graphql_url = %q }
      local s = assert(store.open(%q))
      local opts = { from = %d, concurrency = 2, window_days = 7 }
      %s
      local r, err = sync.sync(c, s, %q, opts)
      if not r then print("ERR", tostring(err)) os.exit(3) end
      print(r.added + r.revised + r.unchanged, r.windows)
    ]]):format(dir .. "/" .. name .. ".pid", creds.api_key, srv.ca_file, srv.https .. "/v1/",
      srv.https .. "/v1/graphql/", path, time.parse("2026-06-01"), extra or "", account))
    f:close()
    local out, rc = dir .. "/" .. name .. ".out", dir .. "/" .. name .. ".rc"
    os.execute(("( %s %s > %s 2>&1; echo $? > %s ) &"):format(LUA, helper.quote(script), helper.quote(out),
      helper.quote(rc)))
    return {
      pid = function() return tonumber(helper.read_file(dir .. "/" .. name .. ".pid")) end,
      out = function() return helper.read_file(out) end,
      rc = function()
        wait_for(function() return (helper.read_file(rc) or "") ~= "" end, name .. " to exit")
        return tonumber(helper.read_file(rc))
      end,
    }
  end

  local function integrity()
    local db = assert(sqlite.open(path, { mode = "ro" }))
    local r = assert(db:prepare("PRAGMA integrity_check")):step()
    db:close()
    return r.integrity_check
  end

  it("a sync killed with SIGKILL mid-way leaves a consistent file; the next sync completes it", function()
    assert(store.open(path)):close()
    -- after 3 windows the child's progress callback stalls with other windows in flight
    local child = spawn("killed", ([[
      opts.progress = function(done)
        if done == 3 then
          io.open(%q, "w"):close()
          for _ = 1, 3000 do socket.sleep(0.01) end
        end
      end]]):format(dir .. "/stalled"))
    wait_for(function() return helper.read_file(dir .. "/stalled") end, "three windows")
    os.execute("kill -9 " .. child.pid())
    assert.equal(137, child.rc())
    assert.equal("ok", integrity())
    local s = assert(store.open(path))
    local kept = s:count(spin)
    assert.is_true(kept >= 3 * 7 * 48 - 48)                     -- three whole windows at least
    local c = client()
    srv:admin("POST", "/_sandbox/reset")
    local covered_before = s:coverage(spin)
    local r = assert(sync.sync(c, s, account, { from = "2026-06-01", window_days = 7 }))
    assert.equal(time.parse("2026-06-01"), r.from)
    -- only what the killed sync had not committed was fetched again (plus the re-read window)
    local missing = 0
    for _, g in ipairs(covered_before) do missing = missing + (g.to - g.from) end
    assert.is_true(r.windows < math.ceil((r.to - r.from) / (7 * 86400)))
    assert.is_true(missing > 0)
    same_as_sandbox(s, r.from, r.to)
    assert.same({ { from = r.from, to = r.to } }, s:coverage(spin))
    assert.is_true(r.added > 0)
    s:close()
  end)

  it("two processes syncing the same file at once both succeed", function()
    assert(store.open(path)):close()
    local a, b = spawn("sync_a"), spawn("sync_b")
    assert.equal(0, a.rc(), a.out())
    assert.equal(0, b.rc(), b.out())
    assert.equal("ok", integrity())
    local s = assert(store.open(path))
    local n = same_as_sandbox(s, time.parse("2026-06-01"), math.floor(os.time() / 1800) * 1800)
    assert.is_true(n > 0)
    assert.equal(0, #s:gaps(spin, { to = math.floor(os.time() / 1800) * 1800 - 3600 }))
    s:close()
  end)
end)
