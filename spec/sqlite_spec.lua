-- spec/sqlite_spec.lua: octopus.sqlite, the C binding — values both ways on every Lua,
-- bound parameters, errors with stable codes, handles that close once, private files,
-- and a second connection holding the write lock (BUSY). Real files in a temp dir.
local sqlite = require "octopus.sqlite"
local core = require "octopus.core"
local helper = require "helper"

local function tmpdir()
  local d = helper.run("mktemp -d /tmp/octopus-sqlite.XXXXXXXX"):gsub("%s+$", "")
  return d
end

describe("octopus.sqlite #core", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("chmod -R u+rwx " .. helper.quote(dir) .. "; rm -rf " .. helper.quote(dir)) end)

  it("round-trips integers, reals, text, blobs and NULL", function()
    local db = assert(sqlite.open(":memory:"))
    assert(db:exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)"))
    local ins = assert(db:prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)"))
    assert(ins:run(2 ^ 53, 0.105, "ＪＳＴ,\"x\"", sqlite.blob("\0\1\255"), nil))
    assert(ins:run(-7, 1e300, "", sqlite.blob(""), core.null))
    assert(ins:run(true, false, "a\0b", nil, nil))
    local rows = {}
    for r in assert(db:prepare("SELECT * FROM t ORDER BY rowid")):rows() do rows[#rows + 1] = r end
    assert.equal(3, #rows)
    assert.equal(9007199254740992, rows[1].i)
    if math.type then assert.equal("integer", math.type(rows[1].i)) end
    assert.equal(0.105, rows[1].r)
    assert.equal("ＪＳＴ,\"x\"", rows[1].s)
    assert.equal("\0\1\255", rows[1].b)
    assert.is_nil(rows[1].n)                  -- NULL: the key is absent
    assert.equal(-7, rows[2].i)
    assert.equal(1e300, rows[2].r)
    assert.equal("", rows[2].s)
    assert.equal(1, rows[3].i)
    assert.equal(0, rows[3].r)
    assert.equal("a\0b", rows[3].s)
    db:close()
  end)

  it("binds by name (:x, @x, $x) and by position, and resets between runs", function()
    local db = assert(sqlite.open(":memory:"))
    local st = assert(db:prepare("SELECT :a AS a, @b AS b, $c AS c, ?4 AS d"))
    assert(st:bind { a = 1, b = "two", c = 3.5, [4] = "four" })
    assert.same({ a = 1, b = "two", c = 3.5, d = "four" }, st:step())
    assert.is_nil(st:step())                  -- done
    assert(st:bind(10, 20))                   -- positional; unbound ones are NULL
    assert.same({ a = 10, b = 20 }, st:step())
    st:reset()
    assert.same({ a = 10, b = 20 }, st:step())  -- bindings survive a reset
    assert(st:bind(1, 2, 3, 4))               -- a value for every parameter replaces them all
    assert.same({ a = 1, b = 2, c = 3, d = 4 }, st:step())
    assert(st:bind(5))
    assert.same({ a = 5 }, st:step())
    assert(st:bind { c = 6 })                 -- by name: the others are NULL again
    assert.same({ c = 6 }, st:step())
    assert.same({ "a", "b", "c", "d" }, st:columns())
    db:close()
  end)

  it("raises on usage errors, naming what is wrong", function()
    local db = assert(sqlite.open(":memory:"))
    local st = assert(db:prepare("SELECT ?1 AS a"))
    helper.raises("no parameter named 'zz'", st.bind, st, { zz = 1 })
    helper.raises("2 values for 1 parameters", st.bind, st, 1, 2)
    helper.raises("cannot bind a function", st.bind, st, print)
    -- a raise half-way leaves no parameter pointing at a value it let go of
    local two = assert(db:prepare("SELECT ?1 AS a, ?2 AS b"))
    helper.raises("cannot bind a function", two.run, two, ("x"):rep(100), print)
    collectgarbage()
    assert.same({}, two:step())
    helper.raises("exactly one SQL statement expected", db.prepare, db, "SELECT 1; SELECT 2")
    helper.raises("no SQL statement", db.prepare, db, "-- nothing")
    helper.raises("unknown option 'wal'", sqlite.open, ":memory:", { wal = true })
    helper.raises("option 'mode' must be \"rwc\", \"rw\" or \"ro\"", sqlite.open, ":memory:", { mode = "w" })
    helper.raises("path must be a non-empty string", sqlite.open, "")
    db:close()
  end)

  it("returns nil, err with stable codes and kind storage", function()
    local db = assert(sqlite.open(dir .. "/a.db"))
    local ok, err = db:exec("SELEKT 1")
    assert.is_nil(ok)
    assert.equal("SQLITE", err.code)
    assert.equal("storage", err.kind)
    assert.equal("exec: near \"SELEKT\": syntax error", err.message)
    assert.equal("SQLITE: exec: near \"SELEKT\": syntax error", tostring(err))
    assert(db:exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
    local ins = assert(db:prepare("INSERT INTO t VALUES (?, ?)"))
    assert(ins:run(1, "x"))
    ok, err = ins:run(1, "y")
    assert.is_nil(ok)
    assert.equal("CONSTRAINT", err.code)
    assert.equal("step: UNIQUE constraint failed: t.k", err.message)
    assert.equal(1555, err.sqlite_code)       -- SQLITE_CONSTRAINT_PRIMARYKEY
    assert(ins:run(2, "z"))                   -- the statement is usable after an error
    local _, perr = db:prepare("SELECT * FROM nope")
    assert.equal("SQLITE", perr.code)
    assert.equal("prepare: no such table: nope", perr.message)
    db:close()
    local ro = assert(sqlite.open(dir .. "/a.db", { mode = "ro" }))
    assert.is_true(ro:readonly())
    _, err = ro:exec("INSERT INTO t VALUES (3, 'w')")
    assert.equal("READONLY", err.code)
    assert.equal("exec: attempt to write a readonly database", err.message)
    ro:close()
    local _, oerr = sqlite.open(dir .. "/missing.db", { mode = "rw" })
    assert.equal("CANTOPEN", oerr.code)
    assert.equal("cannot open " .. dir .. "/missing.db: unable to open database file", oerr.message)
    local f = assert(io.open(dir .. "/junk.db", "wb"))
    f:write(("not a database "):rep(100))
    f:close()
    local junk = assert(sqlite.open(dir .. "/junk.db"))
    _, err = junk:exec("SELECT * FROM sqlite_master")
    assert.equal("CORRUPT", err.code)
    assert.equal("exec: file is not a database", err.message)
    junk:close()
  end)

  it("reports BUSY when another connection holds the write lock past the busy timeout", function()
    local a = assert(sqlite.open(dir .. "/b.db"))
    assert(a:exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x)"))
    local b = assert(sqlite.open(dir .. "/b.db", { busy_timeout = 0 }))
    assert(a:exec("BEGIN IMMEDIATE"))
    assert.is_true(a:in_transaction())
    local ok, err = b:exec("BEGIN IMMEDIATE")
    assert.is_nil(ok)
    assert.equal("BUSY", err.code)
    assert.equal("exec: database is locked", err.message)
    assert(a:exec("INSERT INTO t VALUES (1); COMMIT"))
    assert(b:exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT"))
    assert.equal(2, assert(b:prepare("SELECT count(*) AS n FROM t")):step().n)
    a:close()
    b:close()
  end)

  it("raises the error object from a rows() loop", function()
    local db = assert(sqlite.open(":memory:"))
    local st = assert(db:prepare("SELECT abs(-9223372036854775807 - ?1) AS x"))
    local ok, err = pcall(function() for _ in st:rows(1) do end end)
    assert.is_false(ok)
    assert.equal("SQLITE", err.code)
    assert.equal("step: integer overflow", err.message)
    db:close()
  end)

  it("db:rows iterates a fresh statement and finalizes it at the end or an error", function()
    local db = assert(sqlite.open(":memory:"))
    assert(db:exec("CREATE TABLE t (i INTEGER, s TEXT); INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, 'c')"))
    local f, s, c, st = db:rows("SELECT i, s FROM t WHERE i >= ? ORDER BY i", 2)
    assert.is_nil(s)
    assert.is_nil(c)
    assert.matches("^octopus%.sqlite%.Stmt %(0x%x+%)$", tostring(st))
    local a, b = f(), f()
    assert.same({ { i = 2 }, { i = 3, s = "c" } }, { a, b })
    assert.is_nil(f())
    assert.equal("octopus.sqlite.Stmt (closed)", tostring(st))
    assert.is_nil(f())                          -- ended: a further call ends again
    local g, _, _, st2 = db:rows("SELECT abs(-9223372036854775807 - ?1) AS x", 1)
    local ok, err = pcall(g)
    assert.is_false(ok)
    assert.equal("SQLITE", err.code)
    assert.equal("step: integer overflow", err.message)
    assert.equal("octopus.sqlite.Stmt (closed)", tostring(st2))
    ok, err = pcall(db.rows, db, "SELECT * FROM nowhere")
    assert.is_false(ok)
    assert.equal("SQLITE", err.code)
    assert.equal("prepare: no such table: nowhere", err.message)
    assert.has_error(function() db:rows("SELECT ?", 1, 2) end, "bind: 2 values for 1 parameters")
    db:close()
  end)

  it("db:rows: a for-loop's break closes the statement #5.4", function()
    if _VERSION ~= "Lua 5.4" then return end
    local f = assert(load([[
      local db = ...
      local kept
      for _ in (function(g, s, c, st) kept = st; return g, s, c, st end)(db:rows("SELECT 1 AS x UNION ALL SELECT 2")) do
        break
      end
      return tostring(kept)
    ]]))
    local db = assert(sqlite.open(":memory:"))
    assert.equal("octopus.sqlite.Stmt (closed)", f(db))
    db:close()
  end)

  it("closes idempotently; closing the database finalizes its statements", function()
    local db = assert(sqlite.open(":memory:"))
    local st = assert(db:prepare("SELECT 1 AS one"))
    local st2 = assert(db:prepare("SELECT 2 AS two"))
    st2:close()
    st2:close()
    assert.equal("octopus.sqlite.Stmt (closed)", tostring(st2))
    assert.matches("^octopus%.sqlite%.Db %(0x%x+%)$", tostring(db))
    assert.matches("^octopus%.sqlite%.Stmt %(0x%x+%)$", tostring(st))
    db:close()
    db:close()
    assert.equal("octopus.sqlite.Db (closed)", tostring(db))
    assert.equal("octopus.sqlite.Stmt (closed)", tostring(st))
    helper.raises("attempt to use a closed octopus.sqlite.Stmt", st.step, st)
    helper.raises("attempt to use a closed octopus.sqlite.Db", db.exec, db, "SELECT 1")
    st:close()
  end)

  it("collects unreferenced handles (statements keep their database alive)", function()
    local weak = setmetatable({}, { __mode = "v" })
    do
      local db = assert(sqlite.open(":memory:"))
      local st = assert(db:prepare("SELECT 1 AS one"))
      weak.db, weak.st = db, st
      db = nil  -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      assert.is_not_nil(weak.db)              -- held by the statement
      assert.equal(1, st:step().one)
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak.st)
    assert.is_nil(weak.db)
  end)

  it("closes a database at the end of a <close> block #5.4", function()
    if _VERSION ~= "Lua 5.4" then return end
    local f = assert(load([[
      local sqlite = ...
      local kept
      do
        local db <close> = assert(sqlite.open(":memory:"))
        kept = db
      end
      return tostring(kept)
    ]]))
    assert.equal("octopus.sqlite.Db (closed)", f(sqlite))
  end)

  it("private mode: 0700 directories, a 0600 file, others' bits removed, links refused", function()
    local path = dir .. "/new/deeper/r.db"
    local db = assert(sqlite.open(path, { private = true }))
    assert(db:exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)"))
    assert.equal(tonumber("700", 8), core.file_mode(dir .. "/new"))
    assert.equal(tonumber("700", 8), core.file_mode(dir .. "/new/deeper"))
    assert.equal(tonumber("600", 8), core.file_mode(path))
    assert.equal(tonumber("600", 8), core.file_mode(path .. "-wal"))
    db:close()
    os.execute("chmod 0644 " .. helper.quote(path))
    db = assert(sqlite.open(path, { private = true }))
    assert.equal(tonumber("600", 8), core.file_mode(path))
    db:close()
    os.execute("ln -s " .. helper.quote(path) .. " " .. helper.quote(dir .. "/link.db"))
    local ok, err = sqlite.open(dir .. "/link.db", { private = true })
    assert.is_nil(ok)
    assert.equal("CANTOPEN", err.code)
    assert.equal("refusing the symbolic link " .. dir .. "/link.db: Too many levels of symbolic links", err.message)
    local mem = assert(sqlite.open(":memory:", { private = true }))     -- no file named ":memory:"
    mem:close()
    assert.is_nil(io.open(":memory:", "r"))
  end)
end)
