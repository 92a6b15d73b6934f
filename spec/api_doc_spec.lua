-- spec/api_doc_spec.lua: docs/API.md is the complete API reference. Each `## ` section
-- named by a backticked key (`octopus.time`, `octopus.Client`, ...) is compared with
-- what that module or class really exports: the function-valued keys of the loaded
-- table (names starting with _ are private), or, for classes no spec can make outside
-- their host (the LÖVE driver, the Neovim handle), the `function Class:x` lines of
-- the source. A function exported but not documented, or documented but gone, fails;
-- so does an entry without a signature or a ```lua example, a section key that is no
-- unit, a stable error code missing from the Errors table, and a broken #link.
-- The cases at the end feed the comparison a doctored copy, so it cannot pass vacuously.
local octopus = require "octopus"
local errors = require "octopus.pipeline.errors"
local async = require "octopus.async"
local readings = require "octopus.graphql.readings"
local token_file = require "octopus.graphql.token_file"
local meters = require "octopus.rest.meters"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- the public function names of a table (its own keys; private _names skipped)
local function fns(t, minus)
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and type(v) == "function" and k:sub(1, 1) ~= "_" and not (minus and minus[k]) then
      out[k] = true
    end
  end
  return out
end

-- `function Class:x(` / `function Class.x(` lines of a source file (or of several)
local function declared(path, class)
  local out = {}
  local parts = {}
  for i, p in ipairs(type(path) == "table" and path or { path }) do parts[i] = read(p) end
  for name in ("\n" .. table.concat(parts, "\n")):gmatch("\nfunction " .. class .. "[:.]([%w_]+)%(") do
    if name:sub(1, 1) ~= "_" then out[name] = true end
  end
  return out
end

-- The units: section key -> { names = set of function names }. Instances are made
-- without any I/O (a client is not connected until a call needs it).
local function units()
  local client = octopus.new { rest_url = "http://127.0.0.1:9/v1/" }
  local pages = getmetatable(client.products:list())
  local conn = getmetatable(client:connection("viewer", {}, "viewer"))
  local rd = getmetatable(client:readings("A-00000000", { from = "2026-11-01", to = "2026-11-02" }))
  local task = client:spawn(function() end)
  local sched = async.scheduler(client)
  local u = {
    ["octopus"] = fns(octopus),
    ["octopus.Client"] = fns(octopus.Client),
    ["octopus.json"] = fns(octopus.json),
    ["octopus.Products"] = fns(getmetatable(client.products)),
    ["octopus.Tariffs"] = fns(getmetatable(client.tariffs)),
    ["octopus.rest.meters"] = fns(meters),
    ["octopus.Electricity"] = fns(getmetatable(client.electricity)),
    ["octopus.Gas"] = fns(getmetatable(client.gas)),
    ["octopus.Industry"] = fns(getmetatable(client.industry)),
    ["octopus.Quotes"] = fns(getmetatable(client.quotes)),
    ["octopus.Accounts"] = fns(getmetatable(client.accounts)),
    ["octopus.Iterator"] = fns(pages),
    ["octopus.Readings"] = fns(rd, fns(pages)),
    ["octopus.readings"] = fns(readings),
    ["octopus.time"] = fns(octopus.time),
    ["octopus.errors"] = fns(octopus.errors),
    ["octopus.Error"] = fns(errors.mt.__index),
    ["octopus.clock"] = fns(octopus.clock),
    ["octopus.FakeClock"] = fns(getmetatable(octopus.clock.fake(0))),
    ["octopus.async"] = fns(async),
    ["octopus.Task"] = fns(getmetatable(task)),
    ["octopus.Scheduler"] = fns(getmetatable(sched)),
    ["octopus.graphql.token_file"] = fns(token_file),
    ["octopus.TokenFile"] = fns(getmetatable(token_file.new("/nonexistent/octopus/token.json"))),
    ["octopus.money.bill"] = fns(require "octopus.money.bill"),
    ["octopus.money.tariff"] = fns(require "octopus.money.tariff"),
    ["octopus.money.period"] = fns(require "octopus.money.period"),
    ["octopus.money.statement"] = fns(require "octopus.money.statement"),
    ["octopus.money.yen"] = fns(require "octopus.money.yen"),
    ["octopus.history.store"] = fns(require "octopus.history.store"),
    ["octopus.history.Store"] = declared({ "lua/octopus/history/store.lua", "lua/octopus/history/query.lua" },
      "Store"),
    ["octopus.history.sync"] = fns(require "octopus.history.sync"),
    ["octopus.history.export"] = fns(require "octopus.history.export"),
    ["octopus.nvim"] = fns(require "octopus.nvim"),
    ["octopus.NvimHandle"] = declared("lua/octopus/nvim/attach.lua", "Handle"),
    ["octopus.health"] = fns(require "octopus.health"),
    ["octopus.love"] = fns(require "octopus.love"),
    ["octopus.LoveDriver"] = declared("lua/octopus/love.lua", "Driver"),
  }
  -- the other iterators share octopus.Iterator's methods (documented once)
  local shared = { connection = fns(conn), readings = fns(rd) }
  client:close()
  return u, pages, shared
end

-- docs -> { key = { names = { name = heading }, order = {...} } }, problems
local function sections(doc)
  local out, problems = {}, {}
  local cur, entry
  local function close_entry()
    if entry and not entry.example then
      problems[#problems + 1] = "no ```lua example under '" .. entry.heading .. "'"
    end
    entry = nil
  end
  local in_code = false
  for line in (doc .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^```") then
      if not in_code and line:match("^```lua") and entry then entry.example = true end
      in_code = not in_code
    elseif not in_code and line:match("^## ") then
      close_entry()
      local key = line:match("^## `([^`]+)`")
      cur = nil
      if key then
        if out[key] then problems[#problems + 1] = "section `" .. key .. "` twice" end
        cur = { names = {}, heading = line }
        out[key] = cur
      end
    elseif not in_code and line:match("^### ") then
      close_entry()
      local sig = line:match("^### `([^`]+)`")
      local name = sig and sig:match("([%a_][%w_]*)%s*%(")
      if not cur then
        problems[#problems + 1] = "entry outside a module section: " .. line
      elseif not name then
        problems[#problems + 1] = "entry without a signature: " .. line
      else
        if cur.names[name] then problems[#problems + 1] = "'" .. name .. "' documented twice: " .. line end
        cur.names[name] = line
        entry = { heading = line }
      end
    end
  end
  close_entry()
  return out, problems
end

local function sorted(set)
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- compare(units, docs) -> array of problems
local function compare(u, docs)
  local problems = {}
  for _, key in ipairs(sorted(u)) do
    local sec = docs[key]
    if not sec then
      problems[#problems + 1] = "no section `" .. key .. "`"
    else
      for _, name in ipairs(sorted(u[key])) do
        if not sec.names[name] then problems[#problems + 1] = key .. ": " .. name .. " is not documented" end
      end
      for _, name in ipairs(sorted(sec.names)) do
        if not u[key][name] then problems[#problems + 1] = key .. ": " .. name .. " is documented but gone" end
      end
    end
  end
  for _, key in ipairs(sorted(docs)) do
    if not u[key] then problems[#problems + 1] = "section `" .. key .. "` is no module or class the spec knows" end
  end
  return problems
end

describe("docs/API.md", function()
  local doc = read("docs/API.md")
  local u, pages, shared = units()
  local docs, structure = sections(doc)

  it("has a signature and a ```lua example for every entry", function()
    assert.are.same({}, structure)
  end)

  it("documents every exported function, and nothing that is gone", function()
    assert.are.same({}, compare(u, docs))
  end)

  it("the Client section holds every Client method (pipeline, GraphQL and async)", function()
    for _, name in ipairs { "request", "send", "iso", "close", "graphql", "viewer", "account", "readings",
                            "connection", "login", "token_state", "spawn", "poll", "map" } do
      assert.is_truthy(docs["octopus.Client"].names[name], name)
    end
  end)

  it("the other iterators have octopus.Iterator's methods", function()
    for what, set in pairs(shared) do
      for name in pairs(fns(pages)) do assert.is_true(set[name] == true, what .. " lacks " .. name) end
    end
    for name in pairs(shared.connection) do
      assert.is_true(fns(pages)[name] == true, "the Relay connection's " .. name .. " is not under octopus.Iterator")
    end
  end)

  it("the Errors table lists every stable code", function()
    for _, name in ipairs { "octopus.money.engine", "octopus.history.store" } do require(name) end
    local missing = {}
    for _, code in ipairs(sorted(errors.CODES)) do
      if not doc:find("\n| `" .. code .. "` |", 1, true) then missing[#missing + 1] = code end
    end
    assert.are.same({}, missing)
  end)

  it("every #link names a heading", function()
    local slugs, count = {}, {}
    for h in doc:gmatch("\n#+ ([^\n]+)") do
      local s = h:lower():gsub("[^%w _%-]", ""):gsub(" ", "-")
      local n = count[s] or 0
      count[s] = n + 1
      slugs[n == 0 and s or (s .. "-" .. n)] = true
    end
    local broken = {}
    for link in doc:gmatch("%]%(#([^)]+)%)") do
      if not slugs[link] then broken[#broken + 1] = link end
    end
    assert.are.same({}, broken)
  end)

  it("the examples that show a result (`print(x)   --> result`) print it", function()
    local client = octopus.new { rest_url = "http://127.0.0.1:9/v1/" }
    local env = setmetatable({ octopus = octopus, client = client, tariff = require "octopus.money.tariff",
      yen = require "octopus.money.yen" }, { __index = _G })
    local checked, wrong = 0, {}
    for expr, want in doc:gmatch("\nprint(%b())%s*%-%->%s*([^\n]+)") do
      local chunk = assert((loadstring or load)("return " .. expr:sub(2, -2)))
      if setfenv then setfenv(chunk, env) else chunk = assert(load("return " .. expr:sub(2, -2), "=doc", "t", env)) end
      local out = {}
      local res = { chunk() }
      for i = 1, #res do out[i] = tostring(res[i]) end
      checked = checked + 1
      if table.concat(out, " ") ~= want then wrong[#wrong + 1] = expr .. " -> " .. table.concat(out, " ") end
    end
    client:close()
    assert.is_true(checked >= 8, "only " .. checked .. " examples found")
    assert.are.same({}, wrong)
  end)

  it("the README links to it", function()
    assert.is_truthy(read("README.md"):find("docs/API.md", 1, true))
  end)

  describe("the comparison itself", function()
    it("fails a function removed from the docs, one documented but gone and an unknown section", function()
      local doctored = doc:gsub("\n### `time%.parse%(value %[, zone%]%) %-> epoch`\n", "\n")
        .. "\n## `octopus.time2`\n\n### `time.nope() -> x`\n\n```lua\n```\n"
      local d, structural = sections(doctored)
      d["octopus.FakeClock"].names.rewind = "### `fake:rewind()`"
      local p = compare(u, d)
      local text = table.concat(p, "\n")
      assert.is_truthy(text:find("octopus.time: parse is not documented", 1, true), text)
      assert.is_truthy(text:find("octopus.FakeClock: rewind is documented but gone", 1, true), text)
      assert.is_truthy(text:find("section `octopus.time2` is no module", 1, true), text)
      assert.are.same({}, structural)
    end)

    it("fails an entry without an example or a signature", function()
      local _, p = sections("## `octopus.clock`\n\n### `clock.system() -> clock`\n\nno example\n\n### `clock`\n")
      assert.are.same({ "no ```lua example under '### `clock.system() -> clock`'",
                        "entry without a signature: ### `clock`" }, p)
    end)
  end)
end)
