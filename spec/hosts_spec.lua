-- hosts_spec: the async layer inside the real hosts it is for. Starts the sandbox with
-- 0.3 s of latency on GET /v1/products/ and runs, as child processes (each bounded by
-- `timeout`): Neovim headless with spec/hosts/nvim_plugin.lua (LuaJIT build), LÖVE with
-- the windowless game in spec/hosts/love, and core.multi under valgrind with transfers
-- in flight at close. Each host writes "ok ..." / "fail <why>" to a result file.
-- Needs build/luajit (make LUA=luajit) besides the build busted loads.
local helper = require "helper"

local function have(cmd)
  local _, rc = helper.run("command -v " .. cmd .. " >/dev/null")
  return rc == 0
end

describe("#hosts async in real hosts", function()
  local srv, dir

  lazy_setup(function()
    srv = helper.start_server{ app = "sandbox", tls = false }
    dir = helper.run("mktemp -d /tmp/octopus-hosts.XXXXXXXX"):gsub("%s+$", "")
    assert.is_truthy(helper.read_file("build/luajit/octopus/core.so"),
      "the hosts load the LuaJIT build: run `make LUA=luajit` first")
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
    if dir then os.execute("rm -rf " .. helper.quote(dir)) end
  end)

  before_each(function()
    assert.are.equal(200, (srv:admin("POST", "/_sandbox/reset")))
    srv:fault({
      match = { route = "GET /v1/products/" }, times = 20, action = { delay = 0.3 } })
  end)

  -- runs a host command with the sandbox URL; -> its result line, exit status, output
  local function run_host(cmd, name)
    local out = dir .. "/" .. name
    local env = ("OCTOPUS_URL=%s OCTOPUS_OUT=%s OCTOPUS_ROOT=%s"):format(
      helper.quote(srv.http), helper.quote(out), helper.quote(os.getenv("PWD") or "."))
    local text, rc = helper.run(env .. " timeout 60 " .. cmd)
    return (helper.read_file(out) or ""):gsub("%s+$", ""), rc, text
  end

  local function products_requests() return srv:count("requests", "GET /v1/products/") end

  it("serves 20 concurrent requests inside Neovim while the editor timer ticks", function()
    if not have("nvim") then return pending("nvim is not installed") end
    local result, rc, text = run_host("nvim --headless -u NONE -i NONE -c 'luafile spec/hosts/nvim_plugin.lua'", "nvim")
    assert.matches("^ok lines=20 in_flight=20 ", result, nil, false, text)
    assert.are.equal(0, rc)
    assert.are.equal(20, products_requests())
  end)

  it("serves 20 concurrent requests from love.update while frames advance", function()
    if not have("love") then return pending("love is not installed") end
    local result, rc, text = run_host("env SDL_AUDIODRIVER=dummy SDL_VIDEODRIVER=dummy love spec/hosts/love", "love")
    assert.matches("^ok frames_during=%d+ in_flight=20 ", result, nil, false, text)
    assert.are.equal(0, rc)
    assert.are.equal(20, products_requests())
  end)

  it("#valgrind frees every transfer in flight at close and at collection", function()
    if _VERSION ~= "Lua 5.4" or not have("valgrind") then return pending("Lua 5.4 and valgrind only") end
    local text, rc = helper.run("timeout 120 valgrind --keep-debuginfo=yes --suppressions=tools/valgrind.supp --leak-check=full " ..
      "--errors-for-leak-kinds=definite,indirect --error-exitcode=9 lua5.4 spec/hosts/multi_valgrind.lua")
    assert.matches("multi_valgrind: ok", text, 1, true)
    assert.matches("ERROR SUMMARY: 0 errors", text, 1, true)
    assert.are.equal(0, rc)
  end)
end)
