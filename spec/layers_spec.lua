-- spec/layers_spec.lua: the architecture as a test. Reads every `require` in lua/
-- and fails on an arrow that points up a layer, across two domains of one layer,
-- on a require cycle (lazy or not), on a require whose argument is not a literal,
-- and on a sandbox module that reaches into the client (it is its own rock).
-- The layers are written down once, in docs/INTERNALS.md ("Layers"); this is them.

-- module name -> { rank, domain }; first match wins
local LAYERS = {
  { "^octopus%.core$",       0, "core" },
  { "^octopus%.sqlite$",     0, "core" },
  { "^octopus%.pipeline%.",  1, "pipeline" },
  { "^octopus%.async$",      2, "async" },
  { "^octopus%.async%.",     2, "async" },
  { "^octopus%.rest%.",      3, "rest" },
  { "^octopus%.graphql$",    3, "graphql" },
  { "^octopus%.graphql%.",   3, "graphql" },
  { "^octopus%.money$",      4, "money" },
  { "^octopus%.money%.",     4, "money" },
  { "^octopus%.history$",    4, "history" },
  { "^octopus%.history%.",   4, "history" },
  { "^octopus$",             5, "facade" },
  { "^octopus%.nvim$",       6, "nvim" },
  { "^octopus%.nvim%.",      6, "nvim" },
  { "^octopus%.health$",     6, "nvim" },
  { "^octopus%.love$",       6, "love" },
  { "^octopus%.love%.",      6, "love" },
  { "^octopus%.cli$",        7, "cli" },
  { "^octopus%.cli%.",       7, "cli" },
}
-- domains of one layer that may use each other (none today)
local SIBLINGS = {}

local function layer_of(name)
  for _, l in ipairs(LAYERS) do
    if name:match(l[1]) then return l[2], l[3] end
  end
  return nil
end

local function module_name(path)
  return (path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", "."))
end

local function lua_files()
  local out = {}
  local p = assert(io.popen("find lua -name '*.lua' | LC_ALL=C sort"))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

-- requires(text) -> array of module names, and the lines whose require argument is
-- not one string literal (a name built at run time hides an arrow from this spec)
local function requires(text)
  local names, dynamic = {}, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local code = line:gsub("%-%-.*$", "")
    local pos = 1
    while true do
      local s, e = code:find("%f[%w_]require%f[^%w_]", pos)
      if not s then break end
      local rest = code:sub(e + 1)
      local lit = rest:match("^%s*([\"'][^\"']+[\"'])") or rest:match("^%s*%(%s*([\"'][^\"']+[\"'])%s*%)")
      local pc = code:sub(1, s - 1):match("pcall%(%s*$") and rest:match("^%s*,%s*([\"'][^\"']+[\"'])")
      if lit or pc then
        names[#names + 1] = (lit or pc):sub(2, -2)
      elseif rest:match("^%s*%(") then   -- a call whose argument is not one literal
        dynamic[#dynamic + 1] = line
      end
      pos = e + 1
    end
  end
  return names, dynamic
end

local graph, files = {}, {}
for _, path in ipairs(lua_files()) do
  local f = assert(io.open(path))
  local text = f:read("*a")
  f:close()
  local name = module_name(path)
  local names, dynamic = requires(text)
  graph[name] = { requires = names, dynamic = dynamic, path = path }
  files[#files + 1] = name
end

describe("the layers", function()
  it("finds the modules it checks", function()
    assert.is_truthy(graph["octopus"])
    assert.is_truthy(graph["octopus.pipeline.client"])
    assert.is_truthy(graph["octopus.graphql"])
  end)

  it("puts every client module in a layer", function()
    for _, name in ipairs(files) do
      if not name:match("^octopus%.sandbox") then
        assert(layer_of(name), name .. " (" .. graph[name].path .. ") is in no layer: add its folder to" ..
          " docs/INTERNALS.md and to LAYERS here")
      end
    end
  end)

  it("has no require pointing up a layer or across two domains of one layer", function()
    local bad = {}
    for _, name in ipairs(files) do
      if not name:match("^octopus%.sandbox") then
        local rank, domain = layer_of(name)
        for _, dep in ipairs(graph[name].requires) do
          local drank, ddomain = layer_of(dep)
          if drank then
            if drank > rank then
              bad[#bad + 1] = ("%s (%s, layer %d) requires %s (%s, layer %d)"):format(name, domain, rank, dep, ddomain, drank)
            elseif drank == rank and ddomain ~= domain and not (SIBLINGS[domain] or {})[ddomain] then
              bad[#bad + 1] = ("%s (%s) requires %s across domains (%s)"):format(name, domain, dep, ddomain)
            end
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)

  it("has no require cycle, lazy or not", function()
    local state, cycles = {}, {}
    local function visit(name, stack)
      if state[name] == "done" then return end
      if state[name] == "open" then
        local from
        for i, n in ipairs(stack) do if n == name then from = i end end
        local c = {}
        for i = from, #stack do c[#c + 1] = stack[i] end
        c[#c + 1] = name
        cycles[#cycles + 1] = table.concat(c, " -> ")
        return
      end
      state[name] = "open"
      stack[#stack + 1] = name
      for _, dep in ipairs(graph[name].requires) do
        if graph[dep] then visit(dep, stack) end
      end
      stack[#stack] = nil
      state[name] = "done"
    end
    for _, name in ipairs(files) do visit(name, {}) end
    assert.are.same({}, cycles)
  end)

  it("requires modules only by literal name, so the graph above is the whole truth", function()
    local bad = {}
    for _, name in ipairs(files) do
      if not name:match("^octopus%.sandbox") then   -- the sandbox loads its apps by name
        for _, line in ipairs(graph[name].dynamic) do bad[#bad + 1] = graph[name].path .. ": " .. line end
      end
    end
    assert.are.same({}, bad)
  end)

  it("keeps the sandbox (its own rock) off the client's modules", function()
    local bad = {}
    for _, name in ipairs(files) do
      if name:match("^octopus%.sandbox") then
        for _, dep in ipairs(graph[name].requires) do
          if dep:match("^octopus") and dep ~= "octopus.core" and not dep:match("^octopus%.sandbox") then
            bad[#bad + 1] = name .. " requires " .. dep
          end
        end
      end
    end
    assert.are.same({}, bad)
  end)

  it("keeps libsqlite3 out of a process that only talks HTTP", function()
    local lua = os.getenv("OCTOPUS_LUA") or "lua5.4"
    local cpath = package.cpath:match("^[^;]*")           -- the build the specs use
    local code = ("package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path; package.cpath = %q .. ';' .. package.cpath; " ..
      "local o = require 'octopus'; local c = o.new { rest_url = 'http://127.0.0.1:9/v1/' }; " ..
      "local maps = io.open('/proc/self/maps'):read('*a'); " ..
      "io.write(tostring(package.loaded['octopus.sqlite']), ' ', tostring(maps:find('libsqlite3', 1, true) ~= nil), ' ', " ..
      "tostring(maps:find('libcurl', 1, true) ~= nil))"):format(cpath)
    local p = assert(io.popen(lua .. " -e " .. ("%q"):format(code) .. " 2>&1"))
    local out = p:read("*a")
    p:close()
    assert.are.equal("nil false true", out)
  end)

  it("would catch an upward arrow and a cycle (the checker itself)", function()
    local names = requires('local a = require "octopus.cli"\nlocal b = require("octopus.pipeline.client")\n' ..
                           'local x = pcall(require, "socket")\nerror("options are required")')
    assert.are.same({ "octopus.cli", "octopus.pipeline.client", "socket" }, names)
    local _, dynamic = requires('local m = require("octopus.rest." .. n)\nlocal k = require(name)\n' ..
                                'local type, require = type, require')
    assert.are.equal(2, #dynamic)
    assert.is_true(select(1, layer_of("octopus.cli")) > select(1, layer_of("octopus.pipeline.client")))
  end)
end)
