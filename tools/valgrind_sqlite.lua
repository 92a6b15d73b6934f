-- tools/valgrind_sqlite.lua: exercises every part of octopus.sqlite (and the history
-- store on top of it) once, for `make test-valgrind`: values both ways, named and
-- positional binds, every error path, BUSY between two connections, private files,
-- statements left open at db:close(), and garbage-collected handles. Exits non-zero
-- if a step fails; valgrind reports leaks and invalid accesses.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (os.getenv("OCTOPUS_CPATH") or "build/5.4/?.so") .. ";" .. package.cpath

local sqlite = require "octopus.sqlite"
local store = require "octopus.history.store"
local export = require "octopus.history.export"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))

-- values, binds, rows, run
local db = assert(sqlite.open(dir .. "/v.db", { private = true, busy_timeout = 100 }))
assert(db:exec("PRAGMA journal_mode = WAL; CREATE TABLE t (i INTEGER PRIMARY KEY, r REAL, s TEXT, b BLOB)"))
local ins = assert(db:prepare("INSERT INTO t VALUES (:i, :r, :s, :b)"))
for i = 1, 50 do assert(ins:run { i = i, r = i / 3, s = ("x"):rep(i), b = sqlite.blob(("\0"):rep(i)) }) end
assert(ins:bind(51, 1.5, "text", nil) and ins:step() == nil)
assert(select(2, ins:run(1, 0, "dup", nil)).code == "CONSTRAINT")
local sel = assert(db:prepare("SELECT * FROM t WHERE i > ? ORDER BY i"))
local n = 0
for r in sel:rows(10) do n = n + #r.s end
assert(n > 0 and #sel:columns() == 4)
assert(sel:bind(49) and sel:step().i == 50 and sel:reset())
assert(not pcall(sel.bind, sel, { nope = 1 }))
assert(not pcall(sel.bind, sel, print))
assert(not pcall(db.prepare, db, "SELECT 1; SELECT 2"))
assert(select(2, db:prepare("SELECT * FROM missing")).code == "SQLITE")
assert(select(2, db:exec("garbage")).code == "SQLITE")
local bad = assert(db:prepare("SELECT abs(-9223372036854775807 - ?1) AS x"))
assert(not pcall(function() for _ in bad:rows(1) do end end))
assert(select(2, bad:step()).code == "SQLITE")
-- db:rows: finalized at the end, at an error, and (5.4) by a break
n = 0
for r in db:rows("SELECT i, s FROM t WHERE i > ? ORDER BY i", 40) do n = n + #r.s end
assert(n > 0)
assert(not pcall(function() for _ in db:rows("SELECT abs(-9223372036854775807 - ?1) AS x", 1) do end end))
assert(not pcall(db.rows, db, "SELECT * FROM missing"))
assert(not pcall(db.rows, db, "SELECT ?", 1, 2))
for _ in db:rows("SELECT * FROM t") do break end -- luacheck: ignore 512

-- BUSY between two connections
local other = assert(sqlite.open(dir .. "/v.db", { busy_timeout = 0 }))
assert(db:exec("BEGIN IMMEDIATE"))
assert(select(2, other:exec("BEGIN IMMEDIATE")).code == "BUSY")
assert(db:exec("COMMIT"))
other:close()

-- statements left open are finalized by close; handles dropped are collected
local _ = assert(db:prepare("SELECT 1"))
db:close()
db:close()
assert(not pcall(sel.step, sel))
for _ = 1, 20 do
  local d = assert(sqlite.open(":memory:"))
  local st = assert(d:prepare("SELECT 1 AS one"))
  assert(st:step().one == 1)
end
collectgarbage()
collectgarbage()

-- open failures
assert(select(2, sqlite.open(dir .. "/missing/x.db", { mode = "ro" })).code == "CANTOPEN")
assert(os.execute("ln -s '" .. dir .. "/v.db' '" .. dir .. "/link.db'"))
assert(select(2, sqlite.open(dir .. "/link.db", { private = true })).code == "CANTOPEN")
local f = assert(io.open(dir .. "/junk.db", "wb"))
f:write(("junk"):rep(1000))
f:close()
local junk = assert(sqlite.open(dir .. "/junk.db"))
assert(select(2, junk:exec("SELECT * FROM sqlite_master")).code == "CORRUPT")
junk:close()

-- the store: write, revise, query, export
local s = assert(store.open(dir .. "/d/readings.sqlite"))
local rows = {}
for i = 0, 48 * 3 - 1 do
  rows[#rows + 1] = { start_at = 1790780400 + i * 1800, value = 0.1, value_text = "0.100", cost_estimate = 3,
    cost_estimate_text = "3.00", version = "DAILY" }
end
assert(s:put_rows("0300", rows, { covered = { 1790780400, 1790780400 + 3 * 86400 } }).added == 144)
rows[1].version, rows[1].value_text = "MONTHLY", "0.200"
assert(s:put_rows("0300", rows).revised == 1)
assert(#s:revisions("0300", 1790780400) == 1)
assert(#s:by_day("0300") == 3 and #s:by_month("0300") >= 1 and #s:gaps("0300") == 0)
local out = {}
assert(export.csv(s, "0300", function(c) out[#out + 1] = c; return true end) == 144)
assert(export.ndjson(s, "0300", function(c) out[#out + 1] = c; return true end) == 144)
s:close()
local ro = assert(store.open(dir .. "/d/readings.sqlite", { read_only = true }))
assert(select(2, ro:put_rows("0300", rows)).code == "READONLY")
ro:close()

os.execute("rm -rf '" .. dir .. "'")
print("valgrind_sqlite: ok")
