-- spec/store_spec.lua: octopus.history.store and .export on real SQLite files: counts and
-- revisions, offline queries against octopus.readings' own helpers, gaps, migrations from
-- a v1 file, read-only and full databases, and real child processes killed mid-write or
-- writing the same file at once.
local store = require "octopus.history.store"
local export = require "octopus.history.export"
local readings = require "octopus.graphql.readings"
local time = require "octopus.pipeline.time"
local sqlite = require "octopus.sqlite"
local core = require "octopus.core"
local helper = require "helper"
local socket = require "socket"
local cjson = require "cjson"

local LUA = os.getenv("OCTOPUS_LUA") or "lua5.4"
local SPIN = "0300111122223333444455"
local T0 = time.parse("2026-10-01")           -- JST midnight

-- n half-hour rows from start (kWh 0.100, 0.101, ...; yen 3.00, ...)
local function make_rows(start, n, version, bump)
  local out = {}
  for i = 0, n - 1 do
    local v = (100 + (i % 900) + (bump or 0)) / 1000
    local vt, ct = ("%.3f"):format(v), ("%.2f"):format(v * 30)
    out[#out + 1] = { start_at = start + i * 1800, end_at = start + i * 1800 + 1800, value = tonumber(vt),
      value_text = vt, cost_estimate = tonumber(ct), cost_estimate_text = ct, version = version or "MONTHLY",
      band = "B1", step = 1 }
  end
  return out
end

local function all(it)
  local out = {}
  for r in it do out[#out + 1] = r end
  return out
end

local function integrity(path)
  local db = assert(sqlite.open(path, { mode = "ro" }))
  local r = assert(db:prepare("PRAGMA integrity_check")):step()
  db:close()
  return r.integrity_check
end

-- A child Lua process running body (with this process's package paths); returns a handle
-- { pid_file, out, rc } where the child writes its pid first.
local function spawn(dir, name, body, env)
  local script = dir .. "/" .. name .. ".lua"
  local f = assert(io.open(script, "w"))
  f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path, package.cpath))
  f:write(("local PIDF = %q\n"):format(dir .. "/" .. name .. ".pid"))
  f:write([[local pf = io.open(PIDF, "w")
if pf then pf:write((io.open("/proc/self/stat"):read("*l"):match("^%d+"))); pf:close() end
]])
  f:write(body)
  f:close()
  local out, rc = dir .. "/" .. name .. ".out", dir .. "/" .. name .. ".rc"
  os.execute(("( %s %s %s > %s 2>&1; echo $? > %s ) &"):format(env or "", LUA, helper.quote(script),
    helper.quote(out), helper.quote(rc)))
  return { pid_file = dir .. "/" .. name .. ".pid", out = out, rc = rc }
end

-- waits (bounded: 30 s) until pred() is true
local function wait_for(pred, what)
  for _ = 1, 1500 do
    if pred() then return end
    socket.sleep(0.02)
  end
  error("timed out waiting for " .. what, 2)
end

local function exit_code(child)
  wait_for(function() return helper.read_file(child.rc) ~= nil and helper.read_file(child.rc) ~= "" end, "exit")
  return tonumber(helper.read_file(child.rc))
end

describe("octopus.history.store #core", function()
  local dir, path
  before_each(function()
    dir = helper.run("mktemp -d /tmp/octopus-store.XXXXXXXX"):gsub("%s+$", "")
    path = dir .. "/data/readings.sqlite"
  end)
  after_each(function() os.execute("chmod -R u+rwx " .. helper.quote(dir) .. "; rm -rf " .. helper.quote(dir)) end)

  it("opens the default path under $XDG_DATA_HOME (else ~/.local/share) privately", function()
    local body = [[local s = assert(require("octopus.history.store").open()); print(s.path); s:close()]]
    local c = spawn(dir, "xdg", body, "XDG_DATA_HOME=" .. helper.quote(dir .. "/xdg"))
    assert.equal(0, exit_code(c))
    assert.equal(dir .. "/xdg/octopus/readings.sqlite\n", helper.read_file(c.out))
    assert.equal(tonumber("700", 8), core.file_mode(dir .. "/xdg/octopus"))
    assert.equal(tonumber("600", 8), core.file_mode(dir .. "/xdg/octopus/readings.sqlite"))
    c = spawn(dir, "home", body, "XDG_DATA_HOME= HOME=" .. helper.quote(dir .. "/home"))
    assert.equal(0, exit_code(c))
    assert.equal(dir .. "/home/.local/share/octopus/readings.sqlite\n", helper.read_file(c.out))
    assert.equal(tonumber("600", 8), core.file_mode(dir .. "/home/.local/share/octopus/readings.sqlite"))
  end)

  it("makes a file that others can read private again", function()
    assert(store.open(path)):close()
    os.execute("chmod 0644 " .. helper.quote(path))
    local s = assert(store.open(path))
    assert.equal(tonumber("600", 8), core.file_mode(path))
    s:close()
  end)

  it("counts added, revised and unchanged rows and keeps replaced versions", function()
    local s = assert(store.open(path))
    assert.same({ added = 4, revised = 0, unchanged = 0 }, s:put_rows(SPIN, make_rows(T0, 4, "DAILY")))
    assert.same({ added = 0, revised = 0, unchanged = 4 }, s:put_rows(SPIN, make_rows(T0, 4, "DAILY")))
    local monthly = make_rows(T0, 6, "MONTHLY", 7)            -- 4 reissued with new values, 2 new
    assert.same({ added = 2, revised = 4, unchanged = 0 }, s:put_rows(SPIN, monthly, { fetched_at = 1000 }))
    local stale = make_rows(T0, 1, "DAILY", 50)               -- a DAILY answer never undoes a MONTHLY one
    assert.same({ added = 0, revised = 0, unchanged = 1 }, s:put_rows(SPIN, stale))
    local rows = all(s:rows(SPIN))
    assert.equal(6, #rows)
    assert.equal("0.107", rows[1].value_text)
    assert.equal(0.107, rows[1].value)
    assert.equal("3.21", rows[1].cost_estimate_text)
    assert.equal("MONTHLY", rows[1].version)
    assert.equal(1000, rows[1].fetched_at)
    assert.equal(SPIN, rows[1].spin)
    assert.equal(T0 + 1800, rows[1].end_at)
    local revs = s:revisions(SPIN, T0)
    assert.equal(1, #revs)
    assert.equal("0.100", revs[1].value_text)
    assert.equal("3.00", revs[1].cost_estimate_text)
    assert.equal("DAILY", revs[1].version)
    assert.equal(1000, revs[1].replaced_at)
    local updated = make_rows(T0, 1, "UPDATED", 9)
    assert.same({ added = 0, revised = 1, unchanged = 0 }, s:put_rows(SPIN, updated))
    revs = s:revisions(SPIN, T0)
    assert.same({ "DAILY", "MONTHLY" }, { revs[1].version, revs[2].version })
    assert.equal(0, #s:revisions(SPIN, T0 + 4 * 1800))
    s:close()
  end)

  it("keeps a row without a cost and refuses rows without numbers", function()
    local s = assert(store.open(path))
    local r = make_rows(T0, 1)[1]
    r.cost_estimate, r.cost_estimate_text = 0, nil
    assert(s:put_rows(SPIN, { r }))
    local got = all(s:rows(SPIN))[1]
    assert.is_nil(got.cost_estimate)
    assert.is_nil(got.cost_estimate_text)
    helper.raises("store:put_rows: row 1 needs numeric start_at and value", s.put_rows, s, SPIN, { { start_at = "x" } })
    helper.raises("store:put_rows: 'spin' must be a supply point number", s.put_rows, s, nil, {})
    helper.raises("store.open: unknown option 'zome'", store.open, path, { zome = "UTC" })
    s:close()
  end)

  it("reads a range in order, by JST dates, and a loop may stop early", function()
    local s = assert(store.open(path))
    assert(s:put_rows(SPIN, make_rows(T0 - 48 * 1800, 48 * 5)))  -- 2026-09-30 .. 2026-10-04 JST
    local rows = all(s:rows(SPIN, { from = "2026-10-01", to = "2026-10-02" }))
    assert.equal(48, #rows)
    assert.equal(T0, rows[1].start_at)
    assert.equal(T0 + 47 * 1800, rows[48].start_at)
    assert.equal(96, s:count(SPIN, { from = "2026-10-03" }))
    for r in s:rows(SPIN) do if r.start_at > T0 then break end end
    assert(s:put_rows(SPIN, make_rows(T0, 1, "UPDATED", 3)))   -- nothing left locked by the loop
    assert.equal(T0 - 86400, (s:extent(SPIN)))
    helper.raises("store:rows: option 'from': octopus.time: malformed datetime 'soon'", s.rows, s, SPIN,
      { from = "soon" })
    s:close()
  end)

  it("totals by day and month in the zone exactly as octopus.readings does", function()
    local s = assert(store.open(path))
    local rows = make_rows(time.parse("2026-10-30"), 48 * 4)   -- across a month end
    assert(s:put_rows(SPIN, rows))
    for _, zone in ipairs { "Asia/Tokyo", "UTC" } do
      assert.same(readings.by_day(rows, zone), s:by_day(SPIN, { zone = zone }))
      assert.same(readings.by_month(rows, zone), s:by_month(SPIN, { zone = zone }))
    end
    local d = s:by_day(SPIN)
    assert.equal(4, #d)
    assert.equal("2026-10-30", d[1].key)
    assert.equal(48, d[1].count)
    assert.same({ "2026-10", "2026-11" }, { s:by_month(SPIN)[1].key, s:by_month(SPIN)[2].key })
    assert.equal(1, #s:by_day(SPIN, { from = "2026-11-01", to = "2026-11-02" }))
    s:close()
  end)

  it("gives rows the bill engine prices exactly as the rows that were written", function()
    local bill = require "octopus.money.bill"
    local T = function(x) return time.parse(x, "Asia/Tokyo") end
    local plan = { kind = "stepped", code = "TOKYO_B", display_name = "Tokyo B",
      steps = { { band = "S1", from = 0, to = 120, price_text = "29.80" },
                { band = "S2", from = 120, to = 300, price_text = "36.40" },
                { band = "S3", from = 300, price_text = "40.49" } },
      standing = { { kind = "month", per = "A", per_size = 10, price_text = "311.75", unit_type = "AMPERE_MONTHS" } },
      fuel_cost_adjustments = { { price_text = "-1.50", valid_from = T("2026-11-01"), valid_to = T("2026-12-01") } },
      levies = { { price_text = "4.18", valid_from = T("2026-05-01"), valid_to = T("2027-05-01") } } }
    local written = make_rows(T("2026-11-01"), 1440)
    for _, r in ipairs(written) do r.spin = SPIN end
    local s = assert(store.open(path))
    assert(s:put_rows(SPIN, written))
    local stored = all(s:rows(SPIN))
    local opts = { capacity = 30, now = T("2027-01-20") }
    local want = assert(bill.price(written, plan, opts))
    local got = assert(bill.price(stored, plan, opts))
    assert.same(want, got)
    assert.is_true(#got.periods == 1)
    s:close()
  end)

  it("lists the missing half hours", function()
    local s = assert(store.open(path))
    local rows = make_rows(T0, 48)
    table.remove(rows, 10)                                    -- one missing at 04:30
    for _ = 1, 3 do table.remove(rows, 20) end                -- three from 10:30
    assert(s:put_rows(SPIN, rows))
    assert.same({ { from = T0 + 9 * 1800, to = T0 + 10 * 1800, count = 1 },
                  { from = T0 + 20 * 1800, to = T0 + 23 * 1800, count = 3 } }, s:gaps(SPIN))
    local around = s:gaps(SPIN, { from = T0 - 3600, to = T0 + 49 * 1800 })
    assert.same({ from = T0 - 3600, to = T0, count = 2 }, around[1])
    assert.same({ from = T0 + 48 * 1800, to = T0 + 49 * 1800, count = 1 }, around[4])
    assert.same({}, s:gaps("other"))
    s:close()
  end)

  it("migrates a file written by schema v1", function()
    os.execute("mkdir -p " .. helper.quote(dir .. "/data"))
    local db = assert(sqlite.open(path))
    -- the v1 schema as it shipped (frozen here: a later edit to migration 1 must fail this)
    assert(db:exec([[
      CREATE TABLE supply_points (
        spin TEXT PRIMARY KEY, account TEXT, area TEXT, supply_start INTEGER, updated_at INTEGER);
      CREATE TABLE readings (
        spin TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
        value REAL NOT NULL, value_text TEXT NOT NULL, cost REAL, cost_text TEXT,
        version TEXT, band TEXT, step INTEGER, fetched_at INTEGER NOT NULL,
        PRIMARY KEY (spin, start_at)) WITHOUT ROWID;
      CREATE TABLE revisions (
        spin TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
        value REAL NOT NULL, value_text TEXT NOT NULL, cost REAL, cost_text TEXT,
        version TEXT, band TEXT, step INTEGER, fetched_at INTEGER NOT NULL, replaced_at INTEGER NOT NULL);
      CREATE INDEX revisions_by_row ON revisions (spin, start_at);
      PRAGMA user_version = 1;
      INSERT INTO readings VALUES ('0300111122223333444455', 1790780400, 1790782200, 0.25, '0.250', 7.5, '7.50',
        'DAILY', 'B1', 1, 1790800000);
    ]]))
    db:close()
    local s = assert(store.open(path))
    assert.equal(#store.MIGRATIONS, s:schema_version())
    assert.equal(2, s:schema_version())
    local rows = all(s:rows(SPIN))
    assert.equal(1, #rows)
    assert.equal("0.250", rows[1].value_text)
    assert.same({}, s:coverage(SPIN))
    assert(s:put_rows(SPIN, make_rows(T0, 2), { covered = { T0, T0 + 3600 } }))
    assert.same({ { from = T0, to = T0 + 3600 } }, s:coverage(SPIN))
    s:close()
  end)

  it("refuses a file from a newer schema", function()
    assert(store.open(path)):close()
    local db = assert(sqlite.open(path))
    assert(db:exec("PRAGMA user_version = 99"))
    db:close()
    local s, err = store.open(path)
    assert.is_nil(s)
    assert.equal("SCHEMA", err.code)
    assert.equal("storage", err.kind)
    assert.equal(path .. " has schema version 99; this octopus knows up to 2 (upgrade octopus)", err.message)
  end)

  local function snapshot(p)
    return (helper.read_file(p) or "") .. "|" .. (helper.read_file(p .. "-wal") or "")
  end

  it("opened read-only: queries work, writes are refused and change nothing", function()
    local s = assert(store.open(path))
    assert(s:put_rows(SPIN, make_rows(T0, 48)))
    s:close()
    local before = snapshot(path)
    local ro = assert(store.open(path, { read_only = true }))
    assert.equal(48, ro:count(SPIN))
    local ok, err = ro:put_rows(SPIN, make_rows(T0, 4, "UPDATED", 5))
    assert.is_nil(ok)
    assert.equal("READONLY", err.code)
    assert.equal("the store " .. path .. " is read-only", err.message)
    ok, err = ro.db:exec("DELETE FROM readings")                -- below the store, SQLite says the same
    assert.is_nil(ok)
    assert.equal("READONLY", err.code)
    ro:close()
    assert.equal(before, snapshot(path))
  end)

  it("a chmod 0400 file gives a clear error and changes nothing", function()
    local s = assert(store.open(path))
    assert(s:put_rows(SPIN, make_rows(T0, 48)))
    s:close()
    -- root writes through 0400, so as root the file goes to an unprivileged user who opens it
    local uid = helper.run("id -u"):gsub("%s+$", "")
    local env = ""
    if uid == "0" then
      local _, rc = helper.run("command -v setpriv")
      if rc ~= 0 then pending("root, and no setpriv to drop privileges") return end
      os.execute("chmod 0755 " .. helper.quote(dir) .. " && chown -R 65534:65534 " .. helper.quote(dir .. "/data"))
      env = "setpriv --reuid=65534 --regid=65534 --clear-groups"
    end
    os.execute("chmod 0400 " .. helper.quote(path))
    local before = snapshot(path)
    local body = ([[
      local store = require "octopus.history.store"
      local s = assert(store.open(%q))
      local ok, perr = s:put_rows("x", { { start_at = 0, value = 1, value_text = "1" } })
      print(ok, perr.code, perr.message, s:count(%q))
    ]]):format(path, SPIN)
    local c = spawn(dir, "ro", body, env)
    assert.equal(0, exit_code(c), helper.read_file(c.out))
    assert.equal("nil\tREADONLY\tthe store " .. path .. " is read-only\t48\n", helper.read_file(c.out))
    assert.equal(before, snapshot(path))
    assert.equal(tonumber("400", 8), core.file_mode(path))
  end)

  it("a full database gives DISK_FULL and keeps the last committed state", function()
    local s = assert(store.open(path))
    assert(s:put_rows(SPIN, make_rows(T0, 48)))
    local pages = assert(s.db:prepare("PRAGMA page_count")):step().page_count
    assert(s.db:exec("PRAGMA max_page_count = " .. (pages + 2)))
    local ok, err = s:put_rows(SPIN, make_rows(T0 + 86400, 48 * 60))
    assert.is_nil(ok)
    assert.equal("DISK_FULL", err.code)
    assert.equal("step: database or disk is full", err.message)
    assert.equal(48, s:count(SPIN))
    s:close()
    assert.equal("ok", integrity(path))
  end)

  it("SIGKILL in the middle of a write transaction leaves the last commit", function()
    assert(store.open(path)):close()
    local c = spawn(dir, "killed", ([[
      local socket = require "socket"
      local store = require "octopus.history.store"
      local s = assert(store.open(%q))
      local rows = {}
      for i = 0, 47 do rows[#rows + 1] = { start_at = %d + i * 1800, value = 1, value_text = "1.000" } end
      assert(s:put_rows(%q, rows))
      assert(s.db:exec("BEGIN IMMEDIATE"))
      local ins = assert(s.db:prepare("INSERT INTO readings (spin, start_at, end_at, value, value_text, " ..
        "fetched_at) VALUES (?, ?, ?, 1, '1', 0)"))
      for i = 1, 20000 do assert(ins:run(%q, %d + i * 1800, 0)) end
      io.open(%q, "w"):close()
      for _ = 1, 3000 do socket.sleep(0.01) end
    ]]):format(path, T0, SPIN, SPIN, T0 + 86400, dir .. "/in_transaction"))
    wait_for(function() return helper.read_file(dir .. "/in_transaction") end, "the child's transaction")
    local pid = tonumber(helper.read_file(c.pid_file))
    assert.is_true(helper.alive(pid))
    os.execute("kill -9 " .. pid)
    assert.equal(137, exit_code(c))
    assert.equal("ok", integrity(path))
    local s = assert(store.open(path, { busy_timeout = 100 }))
    assert.equal(48, s:count(SPIN))
    assert.same({ added = 48, revised = 0, unchanged = 0 }, s:put_rows(SPIN, make_rows(T0 + 86400, 48)))
    s:close()
  end)

  it("SIGKILL during a stream of put_rows loses only the transaction in flight", function()
    local c = spawn(dir, "stream", ([[
      local store = require "octopus.history.store"
      local s = assert(store.open(%q))
      local log = assert(io.open(%q, "w"))
      for m = 0, 200 do
        local rows = {}
        for i = 0, 1439 do
          rows[#rows + 1] = { start_at = %d + (m * 1440 + i) * 1800, value = 0.5, value_text = "0.500" }
        end
        assert(s:put_rows(%q, rows))
        log:write(m, "\n"); log:flush()
      end
    ]]):format(path, dir .. "/log", T0, SPIN))
    wait_for(function()
      local _, n = (helper.read_file(dir .. "/log") or ""):gsub("\n", "")
      return n >= 3
    end, "three commits")
    os.execute("kill -9 " .. tonumber(helper.read_file(c.pid_file)))
    local code = exit_code(c)
    assert.equal("ok", integrity(path))
    local s = assert(store.open(path))
    local n = s:count(SPIN)
    assert.equal(0, n % 1440)                                -- whole transactions only
    assert.is_true(n >= 3 * 1440)
    assert.same({}, s:gaps(SPIN))
    if code == 137 then assert.is_true(n < 201 * 1440) end
    s:close()
  end)

  it("two processes writing the same file at once both finish, nothing corrupted", function()
    assert(store.open(path)):close()
    local body = ([[
      local store = require "octopus.history.store"
      local s = assert(store.open(%q))
      local totals = { added = 0, revised = 0, unchanged = 0 }
      for d = 0, 39 do
        local rows = {}
        for i = 0, 47 do rows[#rows + 1] = { start_at = %d + (d * 48 + i) * 1800, value = 0.25, value_text = "0.250",
          version = arg and arg[1] or VERSION } end
        local c = assert(s:put_rows(%q, rows))
        for k, v in pairs(c) do totals[k] = totals[k] + v end
      end
      print(totals.added + totals.revised + totals.unchanged)
    ]]):format(path, T0, SPIN)
    local a = spawn(dir, "writer_a", "VERSION = 'DAILY'\n" .. body)
    local b = spawn(dir, "writer_b", "VERSION = 'MONTHLY'\n" .. body)
    assert.equal(0, exit_code(a), helper.read_file(a.out))
    assert.equal(0, exit_code(b), helper.read_file(b.out))
    assert.equal("1920\n", helper.read_file(a.out))
    assert.equal("1920\n", helper.read_file(b.out))
    assert.equal("ok", integrity(path))
    local s = assert(store.open(path))
    assert.equal(1920, s:count(SPIN))
    for r in s:rows(SPIN) do assert.equal("MONTHLY", r.version) end  -- MONTHLY wins whichever came last
    s:close()
  end)

  it("reads only the fields asked for", function()
    local s = assert(store.open(path))
    assert(s:put_rows(SPIN, make_rows(T0, 2)))
    assert.same({ { start_at = T0, value = 0.1 }, { start_at = T0 + 1800, value = 0.101 } },
      all(s:rows(SPIN, { fields = { "start_at", "value" } })))
    helper.raises("store:rows: unknown field 'kwh'", s.rows, s, SPIN, { fields = { "kwh" } })
    helper.raises("store:rows: option 'fields' must be a non-empty array", s.rows, s, SPIN, { fields = {} })
    s:close()
  end)

  it("a file that is not a database gives CORRUPT", function()
    os.execute("mkdir -p " .. helper.quote(dir .. "/data"))
    local f = assert(io.open(path, "wb"))
    f:write(("0123456789abcdef"):rep(512))
    f:close()
    local s, err = store.open(path)
    assert.is_nil(s)
    assert.equal("CORRUPT", err.code)
    assert.equal("storage", err.kind)
    assert.equal("exec: file is not a database", err.message)
  end)

  it("closes once and says so", function()
    local s = assert(store.open(path))
    assert.equal("octopus.history.Store (" .. path .. ")", tostring(s))
    s:close()
    s:close()
    assert.equal("octopus.history.Store (closed)", tostring(s))
  end)
end)

describe("octopus.history.export #core", function()
  local dir, s
  before_each(function()
    dir = helper.run("mktemp -d /tmp/octopus-export.XXXXXXXX"):gsub("%s+$", "")
    s = assert(store.open(dir .. "/r.sqlite"))
    local rows = make_rows(T0, 3)
    rows[3].cost_estimate_text, rows[3].cost_estimate = nil, 0
    assert(s:put_rows(SPIN, rows))
  end)
  after_each(function() s:close(); os.execute("rm -rf " .. helper.quote(dir)) end)

  it("writes CSV with a header, ISO times with the offset, kWh, yen and version", function()
    local chunks = {}
    assert.equal(3, export.csv(s, SPIN, function(c) chunks[#chunks + 1] = c; return true end))
    assert.equal(table.concat {
      "start,end,kwh,yen,version\n",
      "2026-10-01T00:00:00+09:00,2026-10-01T00:30:00+09:00,0.100,3.00,MONTHLY\n",
      "2026-10-01T00:30:00+09:00,2026-10-01T01:00:00+09:00,0.101,3.03,MONTHLY\n",
      "2026-10-01T01:00:00+09:00,2026-10-01T01:30:00+09:00,0.102,,MONTHLY\n" }, table.concat(chunks))
    local f = assert(io.open(dir .. "/out.csv", "w"))
    assert.equal(1, export.csv(s, SPIN, f, { from = "2026-10-01T00:30:00+09:00", to = "2026-10-01T01:00:00+09:00",
      zone = "UTC" }))
    f:close()
    assert.equal("start,end,kwh,yen,version\n2026-09-30T15:30:00+00:00,2026-09-30T16:00:00+00:00,0.101,3.03,MONTHLY\n",
      helper.read_file(dir .. "/out.csv"))
  end)

  it("writes NDJSON, one object per line with exact numbers", function()
    local chunks = {}
    assert.equal(3, export.ndjson(s, SPIN, function(c) chunks[#chunks + 1] = c; return true end))
    local lines = {}
    for line in table.concat(chunks):gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(3, #lines)
    assert.equal('{"start":"2026-10-01T00:00:00+09:00","end":"2026-10-01T00:30:00+09:00","kwh":0.100,"yen":3.00,' ..
      '"version":"MONTHLY"}', lines[1])
    local third = cjson.decode(lines[3])
    assert.equal(0.102, third.kwh)
    assert.equal(cjson.null, third.yen)
  end)

  it("stops at a failing write and says why", function()
    local n, err = export.csv(s, SPIN, function() return nil, "No space left on device" end)
    assert.is_nil(n)
    assert.equal("FILE", err.code)
    assert.equal("io", err.kind)
    assert.equal("export: write failed: No space left on device", err.message)
    helper.raises("export: 'out' must be a file handle or a function(chunk)", export.csv, s, SPIN, 42)
  end)
end)
