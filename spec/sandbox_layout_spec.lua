-- spec/sandbox_layout_spec.lua: the sandbox is its own rock. Every `require` in
-- lua/octopus/sandbox (lazy ones included) names octopus.core, another sandbox module, or
-- what the rock declares (LuaSocket, LuaSec); and the sandbox modules have no require
-- cycle, lazy or not. Reads the source text, so it runs on every Lua.
local helper = require "helper"

local ALLOWED = { ["octopus.core"] = true, socket = true, ssl = true }

local function files()
  local list, p = {}, assert(io.popen("find lua/octopus/sandbox -name '*.lua' | LC_ALL=C sort"))
  for f in p:lines() do list[#list + 1] = f end
  p:close()
  return list
end

local function module_of(file)
  return (file:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", "."))
end

-- every literal module name passed to require (require "x", require("x"), pcall(require, "x"))
local function requires(text)
  local out = {}
  text = text:gsub("%-%-[^\n]*", "")                       -- comments mention requires too
  for name in text:gmatch("require%s*%(?%s*[\"']([%w_.]+)[\"']") do out[#out + 1] = name end
  for name in text:gmatch("pcall%(%s*require%s*,%s*[\"']([%w_.]+)[\"']") do out[#out + 1] = name end
  return out
end

-- a require cycle in graph (module -> { required modules }) as "a -> b -> a", or nil
local function find_cycle(graph)
  local state = {}                                        -- nil, "open", "done"
  local function visit(mod, path)
    if state[mod] == "done" then return nil end
    if state[mod] == "open" then return table.concat(path, " -> ") .. " -> " .. mod end
    state[mod] = "open"
    path[#path + 1] = mod
    for _, d in ipairs(graph[mod] or {}) do
      local c = graph[d] and visit(d, path)
      if c then return c end
    end
    path[#path] = nil
    state[mod] = "done"
  end
  local roots = {}
  for mod in pairs(graph) do roots[#roots + 1] = mod end
  table.sort(roots)                                       -- the same answer every run
  for _, mod in ipairs(roots) do
    local c = visit(mod, {})
    if c then return c end
  end
end

describe("the sandbox's requires", function()
  local graph = {}
  for _, f in ipairs(files()) do graph[module_of(f)] = requires(assert(helper.read_file(f))) end

  it("name only octopus.core, sandbox modules, LuaSocket and LuaSec", function()
    local n = 0
    for mod, deps in pairs(graph) do
      for _, d in ipairs(deps) do
        n = n + 1
        local ok = ALLOWED[d] or (d:match("^octopus%.sandbox") and graph[d] ~= nil)
        assert.is_truthy(ok, mod .. " requires " .. d)
      end
    end
    assert.is_true(n > 30)                                -- the scan does see the requires
  end)

  it("form no cycle, lazy requires included", function()
    assert.is_nil(find_cycle(graph))
    for _, d in ipairs(graph["octopus.sandbox.rest_tariffs"]) do   -- the old lazy cycle
      assert.are_not.equal("octopus.sandbox.rest", d)
    end
  end)

  it("the scan finds lazy requires and the cycle check finds cycles", function()
    assert.are.same({ "octopus.sandbox.rest", "x" },
      requires('local a = require "octopus.sandbox.rest"\nlocal ok = pcall(require, "x") -- require "y"'))
    assert.are.equal("a -> b -> a", find_cycle{ a = { "b" }, b = { "a" } })
    assert.is_nil(find_cycle{ a = { "b" }, b = { "c" } })
  end)
end)
