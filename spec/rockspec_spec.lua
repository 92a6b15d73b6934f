-- The rockspec must list every Lua module under lua/ and every C source, so
-- `luarocks make` installs what the checkout has.
describe("rockspec/octopus-scm-1.rockspec", function()
  local env = {}
  local chunk = assert(loadfile("rockspec/octopus-scm-1.rockspec", "t", env) or loadfile("rockspec/octopus-scm-1.rockspec"))
  if setfenv then setfenv(chunk, env) end
  chunk()
  local modules = env.build.modules

  local function files(cmd)
    local list, p = {}, assert(io.popen(cmd))
    for line in p:lines() do list[#list + 1] = line end
    p:close()
    return list
  end

  it("lists every Lua module under lua/", function()
    for _, file in ipairs(files("find lua -name '*.lua' | sort")) do
      local name = file:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      assert.are.equal(file, modules[name], "module " .. name .. " not listed")
    end
  end)

  it("builds octopus.core from every C source with libcurl", function()
    local core = modules["octopus.core"]
    local listed = {}
    for _, src in ipairs(core.sources) do listed[src] = true end
    for _, file in ipairs(files("ls csrc/*.c")) do
      assert.is_true(listed[file], file .. " not in octopus.core sources")
    end
    assert.are.same({ "curl" }, core.libraries)
  end)
end)
