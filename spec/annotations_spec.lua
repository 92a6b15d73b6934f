-- spec/annotations_spec.lua: the LuaLS annotations editors complete from are complete.
-- It reads the public modules (PUBLIC below) with a small Lua tokenizer and fails when an
-- exported function (`function M.x(...)`, `function Class:x(...)`, `function Class.x(...)`
-- at the top level, or a top-level local function exported by `M.x = x`; names starting
-- with _ are private) has no `---@param` for one of its parameters (self excepted), a
-- `---@param` for a parameter it does not have, or no `---@return` while its body returns
-- a value. It also holds octopus.ErrorCode (the alias in octopus.pipeline.errors) to
-- errors.CODES, and .luarc.json to the layout. Cases at the end run the checker on
-- deliberately unannotated code, so the spec cannot pass by checking nothing.
local errors = require "octopus.pipeline.errors"
local json = require("octopus.core").json

-- the modules whose exported functions users (and editors) see
local PUBLIC = {
  "lua/octopus/init.lua",
  "lua/octopus/pipeline/client.lua",
  "lua/octopus/pipeline/errors.lua",
  "lua/octopus/pipeline/time.lua",
  "lua/octopus/pipeline/clock.lua",
  "lua/octopus/pipeline/page.lua",
  "lua/octopus/graphql/init.lua",
  "lua/octopus/graphql/readings.lua",
  "lua/octopus/graphql/token_file.lua",
  "lua/octopus/graphql/relay.lua",
  "lua/octopus/async/init.lua",
  "lua/octopus/rest/products.lua",
  "lua/octopus/rest/tariffs.lua",
  "lua/octopus/rest/meters.lua",
  "lua/octopus/rest/industry.lua",
  "lua/octopus/rest/quotes.lua",
  "lua/octopus/rest/accounts.lua",
  "lua/octopus/money/bill.lua",
  "lua/octopus/money/client.lua",
  "lua/octopus/money/period.lua",
  "lua/octopus/money/statement.lua",
  "lua/octopus/money/tariff.lua",
  "lua/octopus/money/yen.lua",
  "lua/octopus/history/store.lua",
  "lua/octopus/history/query.lua",
  "lua/octopus/history/sync.lua",
  "lua/octopus/history/export.lua",
  "lua/octopus/nvim/init.lua",
  "lua/octopus/nvim/attach.lua",
  "lua/octopus/love.lua",
  "lua/octopus/health.lua",
}

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

---------------------------------------------------------------------------
-- A tokenizer good enough to find function bodies: names, strings, comments
-- (short and long), long brackets, numbers and single characters, with lines.
---------------------------------------------------------------------------
local function tokens(src)
  local out, i, line, n = {}, 1, 1, #src
  local function count_lines(a, b)
    local _, k = src:sub(a, b):gsub("\n", "")
    line = line + k
  end
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line, i = line + 1, i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local eq = src:match("^%[(=*)%[", i + 2)
      local stop
      if eq then
        local _, e = src:find("]" .. eq .. "]", i, true)
        stop = e or n
      else
        stop = (src:find("\n", i, true) or (n + 1)) - 1
      end
      count_lines(i, stop)
      i = stop + 1
    elseif c == "[" and src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local _, e = src:find("]" .. eq .. "]", i, true)
      e = e or n
      out[#out + 1] = { t = "string", line = line }
      count_lines(i, e)
      i = e + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      out[#out + 1] = { t = "string", line = line }
      count_lines(i, j)
      i = j + 1
    elseif c:match("[%a_]") then
      local w = src:match("^[%w_]+", i)
      out[#out + 1] = { t = "name", v = w, line = line }
      i = i + #w
    elseif c:match("%d") or (c == "." and src:match("^%.%d", i)) then
      local w = src:match("^[%w_.]+", i)
      out[#out + 1] = { t = "number", line = line }
      i = i + #w
    elseif src:sub(i, i + 2) == "..." then
      out[#out + 1] = { t = "op", v = "...", line = line }
      i = i + 3
    else
      out[#out + 1] = { t = "op", v = c, line = line }
      i = i + 1
    end
  end
  return out
end

local KEYWORD_END_OF_RETURN = { ["end"] = true, ["else"] = true, ["elseif"] = true, ["until"] = true }

-- functions(src) -> array of { name, line, params = { ... }, returns = bool, exported = bool,
--   method = bool, is_local = bool }, for the functions declared at the top level.
local function functions(src)
  local toks = tokens(src)
  local found, stack, depth, pending_do = {}, {}, 0, 0
  local i = 1
  local function kw(k, v) return k and k.t == "name" and k.v == v end
  while i <= #toks do
    local tk = toks[i]
    if tk.t == "name" then
      local v = tk.v
      if v == "function" then
        local decl
        if depth == 0 then
          -- function A.b.c(...) / function A:b(...) / local function f(...)
          local j, parts, method = i + 1, {}, false
          while toks[j] and toks[j].t == "name" do
            parts[#parts + 1] = toks[j].v
            local sep = toks[j + 1]
            if sep and sep.t == "op" and (sep.v == "." or sep.v == ":") then
              if sep.v == ":" then method = true end
              j = j + 2
            else
              j = j + 1
              break
            end
          end
          if #parts > 0 and toks[j] and toks[j].v == "(" then
            local params = {}
            local k = j + 1
            while toks[k] and toks[k].v ~= ")" do
              if toks[k].t == "name" or toks[k].v == "..." then params[#params + 1] = toks[k].v end
              k = k + 1
            end
            local is_local = kw(toks[i - 1], "local")
            decl = { name = table.concat(parts, method and ":" or "."), short = parts[#parts],
                     table_name = #parts > 1 and parts[1] or nil, line = tk.line, params = params,
                     method = method, is_local = is_local, returns = false }
            if method then decl.name = table.concat(parts, ".", 1, #parts - 1) .. ":" .. parts[#parts] end
            found[#found + 1] = decl
            i = k
          end
        end
        depth = depth + 1
        stack[#stack + 1] = { depth = depth, decl = decl }
      elseif v == "if" or v == "repeat" then
        depth = depth + 1
      elseif v == "while" or v == "for" then
        depth, pending_do = depth + 1, pending_do + 1
      elseif v == "do" then
        if pending_do > 0 then pending_do = pending_do - 1 else depth = depth + 1 end
      elseif v == "end" or v == "until" then
        local top = stack[#stack]
        if top and top.depth == depth then stack[#stack] = nil end
        depth = depth - 1
      elseif v == "return" then
        local nxt = toks[i + 1]
        local bare = nxt == nil or (nxt.t == "op" and nxt.v == ";") or
          (nxt.t == "name" and KEYWORD_END_OF_RETURN[nxt.v])
        local top = stack[#stack]
        if not bare and top and top.decl then top.decl.returns = true end
      end
    end
    i = i + 1
  end
  -- top-level local functions exported by assignment: M.a, M.b = a, b / M.a = a
  local locals = {}
  for _, f in ipairs(found) do if f.is_local then locals[f.name] = f end end
  for lhs, rhs in src:gmatch("\n([%w_%.]+[%w_%., ]*)=%s*([%w_, ]+)\n") do
    local names, values = {}, {}
    for x in lhs:gmatch("[^,%s]+") do names[#names + 1] = x end
    for x in rhs:gmatch("[^,%s]+") do values[#values + 1] = x end
    for k, x in ipairs(names) do
      if x:find(".", 1, true) and values[k] and locals[values[k]] then locals[values[k]].exported_as = x end
    end
  end
  for _, f in ipairs(found) do
    f.exported = (not f.is_local and f.table_name ~= nil) or f.exported_as ~= nil
    if f.short:sub(1, 1) == "_" then f.exported = false end
  end
  return found
end

-- the `---` lines right above line n (1-based) -> { params = { name = true }, returns = n }
local function annotations_above(lines, n)
  local a = { params = {}, returns = 0, lines = {}, untyped = {} }
  local k = n - 1
  while k >= 1 and lines[k]:match("^%s*%-%-%-") do
    local l = lines[k]
    a.lines[#a.lines + 1] = l
    local p, ptype = l:match("^%s*%-%-%-%s*@param%s+([%w_%.]+%??)%s*(%S*)")
    if p then
      a.params[(p:gsub("%?$", ""))] = true
      if ptype == "" then a.untyped[#a.untyped + 1] = "---@param " .. p .. " has no type" end
    end
    local rtype = l:match("^%s*%-%-%-%s*@return%f[%W]%s*(%S*)")
    if rtype then
      a.returns = a.returns + 1
      if rtype == "" then a.untyped[#a.untyped + 1] = "---@return has no type" end
    end
    k = k - 1
  end
  return a
end

-- check(src, label) -> array of problems ("label:line: name: ...")
local function check(src, label)
  local lines = {}
  for l in (src .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local problems = {}
  local function problem(f, msg)
    problems[#problems + 1] = ("%s:%d: %s: %s"):format(label, f.line, f.exported_as or f.name, msg)
  end
  local seen = 0
  for _, f in ipairs(functions(src)) do
    if f.exported then
      seen = seen + 1
      local a = annotations_above(lines, f.line)
      local has = {}
      for _, p in ipairs(f.params) do
        has[p] = true
        if not a.params[p] then problem(f, "no ---@param " .. p) end
      end
      for p in pairs(a.params) do
        if not has[p] then problem(f, "---@param " .. p .. " names no parameter") end
      end
      if f.returns and a.returns == 0 then problem(f, "returns a value but has no ---@return") end
      for _, u in ipairs(a.untyped) do problem(f, u) end
    end
  end
  return problems, seen
end

describe("LuaLS annotations", function()
  for _, path in ipairs(PUBLIC) do
    it(path .. ": every exported function has ---@param and ---@return", function()
      local problems, seen = check(read(path), path)
      assert.is_true(seen > 0, path .. ": no exported function found (is the parser reading it?)")
      assert.are.same({}, problems)
    end)
  end

  it("the public modules are in PUBLIC (a new domain module must be listed)", function()
    local listed = {}
    for _, p in ipairs(PUBLIC) do listed[p] = true end
    for _, p in ipairs { "lua/octopus/init.lua", "lua/octopus/graphql/init.lua", "lua/octopus/async/init.lua" } do
      assert.is_true(listed[p], p)
    end
    local pr = assert(io.popen("ls lua/octopus/rest/*.lua"))
    for p in pr:lines() do
      if not p:match("/common%.lua$") then assert.is_true(listed[p] == true, p .. " is not in PUBLIC") end
    end
    pr:close()
  end)

  it("octopus.ErrorCode lists exactly the codes of errors.CODES", function()
    -- modules that define codes of their own register them when required
    for _, name in ipairs { "octopus.money.engine", "octopus.history.store" } do require(name) end
    local pr = assert(io.popen("grep -rl 'errors.define(' lua/octopus --include='*.lua' | grep -v /sandbox/"))
    for path in pr:lines() do
      local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      if name ~= "octopus.pipeline.errors" then require(name) end
    end
    pr:close()
    local alias, n, inside = {}, 0, false
    for line in io.lines("lua/octopus/pipeline/errors.lua") do
      if inside then
        local code = line:match('^%-%-%-|%s*"([^"]+)"')
        if not code then break end
        alias[code], n = true, n + 1
      elseif line:match("^%-%-%-@alias octopus%.ErrorCode%s*$") then
        inside = true
      end
    end
    assert.is_true(inside, "no ---@alias octopus.ErrorCode in errors.lua")
    assert.is_true(n > 30, "the alias reads " .. n .. " codes")
    local missing, extra = {}, {}
    for code in pairs(errors.CODES) do if not alias[code] then missing[#missing + 1] = code end end
    for code in pairs(alias) do if not errors.CODES[code] then extra[#extra + 1] = code end end
    table.sort(missing)
    table.sort(extra)
    assert.are.same({ missing = {}, extra = {} }, { missing = missing, extra = extra })
  end)

  it(".luarc.json: Lua 5.4, and its runtime.path finds every public module", function()
    local cfg = assert(json.decode(read(".luarc.json")))
    assert.are.equal("Lua 5.4", cfg["runtime.version"])
    local paths = cfg["runtime.path"]
    assert.are.same({ "lua/?.lua", "lua/?/init.lua" }, paths)
    for _, path in ipairs(PUBLIC) do
      local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      local hit
      for _, pat in ipairs(paths) do
        local f = io.open((pat:gsub("%?", (name:gsub("%.", "/")))), "rb")
        if f then f:close(); hit = true end
      end
      assert.is_true(hit == true, name .. " is not found through runtime.path")
    end
    local globals = {}
    for _, g in ipairs(cfg["diagnostics.globals"]) do globals[g] = true end
    assert.is_true(globals.vim and globals.love, "diagnostics.globals: vim and love")
  end)

  describe("the checker itself", function()
    local SAMPLE = [===[
local M = {}
local Thing = {}

function M.plain(a, b)
  return a + b
end

---@param a number
function M.half(a, b) if a then return b end end

---@param x string
---@return string
function Thing:method(x, y, ...)
  local function inner() return 1 end
  return x .. tostring(inner())
end

---@param gone string
---@return
function M.nothing() local s = "end" --[[ return 1 ]] end

function M._private(a) return a end

local function helper(z) return z end
M.helper = helper

---@param n integer
function M.loop(n)
  for i = 1, n do if i then return end end
  while true do break end
  repeat local x = [==[ return end ]==] until x
end

function M.thunk()
  return function() return 1 end
end
return M
]===]
    local problems = check(SAMPLE, "sample")
    local function has(text)
      for _, p in ipairs(problems) do if p:find(text, 1, true) then return true end end
      return false
    end

    it("fails an exported function without any annotation", function()
      assert.is_true(has("sample:4: M.plain: no ---@param a"))
      assert.is_true(has("sample:4: M.plain: no ---@param b"))
      assert.is_true(has("sample:4: M.plain: returns a value but has no ---@return"))
    end)

    it("fails a missing parameter, a varargs one and a stale one", function()
      assert.is_true(has("sample:9: M.half: no ---@param b"))
      assert.is_true(has("M.half: returns a value"))
      assert.is_true(has("Thing:method: no ---@param y"))
      assert.is_true(has("Thing:method: no ---@param ..."))
      assert.is_true(has("M.nothing: ---@param gone names no parameter"))
      assert.is_true(has("M.nothing: ---@return has no type"))
    end)

    it("fails a local function exported by assignment", function()
      assert.is_true(has("M.helper: no ---@param z"))
      assert.is_true(has("M.helper: returns a value"))
    end)

    it("counts a returned function as a value, ignores strings, comments and nested returns", function()
      assert.is_true(has("M.thunk: returns a value"))
      assert.is_false(has("M.nothing: returns"))   -- "end" in a string, return in a comment
      assert.is_false(has("M.loop"))               -- bare return, long string with `return end`
      assert.is_false(has("Thing:method: returns"))
      assert.is_false(has("Thing:method: no ---@param self"))
    end)

    it("skips private names", function()
      assert.is_false(has("_private"))
    end)

    it("passes the same functions once annotated", function()
      local fixed = [[
local M = {}
---@param a number
---@param b number
---@return number
function M.plain(a, b)
  return a + b
end
return M
]]
      local p, seen = check(fixed, "fixed")
      assert.are.same({}, p)
      assert.are.equal(1, seen)
    end)
  end)
end)
