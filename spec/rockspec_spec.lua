-- spec/rockspec_spec.lua: the two rockspecs list exactly what the tree has, so
-- `luarocks make` installs every module and shipped data file (spec/rock_check.sh then
-- proves the installed rocks work): the client everything under lua/octopus but
-- sandbox/, the sandbox everything under lua/octopus/sandbox.
local helper = require "helper"

local function load_rockspec(path)
  local env = {}
  local chunk
  if setfenv then
    chunk = assert(loadfile(path))
    setfenv(chunk, env)
  else
    chunk = assert(loadfile(path, "t", env))
  end
  chunk()
  return env
end

local function lines(cmd)
  local list, p = {}, assert(io.popen(cmd))
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

-- the install key tools/gen_rockspec.sh gives a file
local function key_of(file)
  if file:match("%.lua$") then return (file:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/", ".")) end
  local dir, base = file:match("^lua/(.*)/([^/]+)$")
  return dir:gsub("/", ".") .. "." .. base:gsub("%.", "_")
end

local SHIPPED = "-type f \\( -name '*.lua' -o -name '*.graphql' \\)"

local function check_lists(rock, files)
  local listed = rock.build.install.lua
  local want = {}
  for _, f in ipairs(files) do
    want[key_of(f)] = f
    assert.are.equal(f, listed[key_of(f)], f .. " is not listed (run make rockspec)")
  end
  for k, f in pairs(listed) do
    assert.are.equal(f, want[k], "listed but not in the tree: " .. f)
  end
end

local function check_metadata(rock, name, bin)
  assert.are.equal("3.0", rock.rockspec_format)
  assert.are.equal(name, rock.package)
  assert.are.equal("git+https://github.com/octopus-lua/octopus.git", rock.source.url)
  local d = rock.description
  assert.are.equal("MIT", d.license)
  assert.are.equal("https://github.com/octopus-lua/octopus", d.homepage)
  assert.is_true(#d.summary > 20 and #d.summary < 100)
  assert.is_true(#d.detailed > 200)
  assert.is_true(#d.labels >= 3)
  assert.are.same({ "linux", "macosx" }, rock.supported_platforms)
  assert.are.equal("busted", rock.test.type)
  local file = rock.build.install.bin[bin]
  assert.are.equal("bin/" .. bin, file)
  assert.is_truthy(helper.read_file(file), file .. " exists")
end

describe("rockspec/octopus-scm-1.rockspec (the client)", function()
  local rock = load_rockspec("rockspec/octopus-scm-1.rockspec")

  it("lists every module and data file under lua/octopus except sandbox/, and nothing else", function()
    local files = lines("find lua/octopus -path lua/octopus/sandbox -prune -o " .. SHIPPED .. " -print")
    assert.is_true(#files > 20)
    check_lists(rock, files)
    assert.are.equal("lua/octopus/graphql/viewer.graphql", rock.build.install.lua["octopus.graphql.viewer_graphql"])
    for k in pairs(rock.build.install.lua) do assert.is_nil(k:match("^octopus%.sandbox"), k) end
  end)

  it("builds octopus.core from every C source and octopus.sqlite apart, finding the libraries" ..
     " with pkg-config, not by header", function()
    assert.are.equal("make", rock.build.type)
    local mk = assert(helper.read_file(rock.build.makefile))
    assert.is_truthy(mk:find("SRCS        := $(wildcard csrc/*.c)", 1, true))
    assert.is_truthy(mk:find("pkg-config --libs libcurl", 1, true))
    assert.is_truthy(mk:find("pkg-config --libs sqlite3", 1, true))
    assert.is_truthy(mk:find("-o $(OUT)/sqlite.so $(SQLITE_SRCS)", 1, true))
    assert.are.same({ CURL = { library = "curl" }, SQLITE = { library = "sqlite3" } }, rock.external_dependencies)
    assert.are.same({ "lua >= 5.1", "argparse" }, rock.dependencies)
  end)

  it("says what it is", function() check_metadata(rock, "octopus", "octopus") end)
end)

describe("rockspec/octopus-sandbox-scm-1.rockspec (the server)", function()
  local rock = load_rockspec("rockspec/octopus-sandbox-scm-1.rockspec")

  it("lists every module and data file under lua/octopus/sandbox, and nothing else", function()
    check_lists(rock, lines("find lua/octopus/sandbox " .. SHIPPED))
    local l = rock.build.install.lua
    assert.are.equal("lua/octopus/sandbox/apps/echo.lua", l["octopus.sandbox.apps.echo"])
    assert.are.equal("lua/octopus/sandbox/schema.graphql", l["octopus.sandbox.schema_graphql"])
    assert.are.equal("lua/octopus/sandbox/cli.lua", l["octopus.sandbox.cli"])
  end)

  it("declares what it needs: Lua 5.4, LuaSocket, LuaSec and the client's core", function()
    assert.are.same({ "lua >= 5.4", "luasocket", "luasec", "octopus" }, rock.dependencies)
    assert.are.equal("none", rock.build.type)
  end)

  it("says what it is", function() check_metadata(rock, "octopus-sandbox", "octopus-sandbox") end)
end)

describe("tools/gen_rockspec.sh", function()
  it("writes exactly the committed rockspecs (they are not stale)", function()
    local dir = helper.run("mktemp -d"):gsub("%s+$", "")
    local out, rc = helper.run("ROCKSPEC_DIR=" .. helper.quote(dir) .. " sh tools/gen_rockspec.sh")
    local a = helper.read_file(dir .. "/octopus-scm-1.rockspec")
    local b = helper.read_file(dir .. "/octopus-sandbox-scm-1.rockspec")
    os.execute("rm -rf " .. helper.quote(dir))
    assert.are.equal(0, rc, out)
    assert.are.equal(helper.read_file("rockspec/octopus-scm-1.rockspec"), a, "run make rockspec")
    assert.are.equal(helper.read_file("rockspec/octopus-sandbox-scm-1.rockspec"), b, "run make rockspec")
  end)
end)
