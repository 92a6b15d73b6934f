-- hosts_spec: the async layer inside the real hosts it is for. Starts the sandbox with
-- 0.3 s of latency on GET /v1/products/ and runs, as child processes (each bounded by
-- `timeout`): Neovim headless with spec/hosts/nvim_plugin.lua (LuaJIT build), LÖVE with
-- the windowless game in spec/hosts/love, and core.multi under valgrind with transfers
-- in flight at close. Each host writes "ok ..." / "fail <why>" to a result file. Also
-- the LÖVE example (examples/love) headless against the sandbox over TLS: the picture
-- it would draw (usage bars, balance, the bill so far line by line), from live data, is
-- checked against the API's own answers (client:readings, client:account, client:bill).
-- Needs build/luajit (make LUA=luajit) besides the build busted loads.
local helper = require "helper"

local function have(cmd)
  local _, rc = helper.run("command -v " .. cmd .. " >/dev/null")
  return rc == 0
end

describe("#hosts #realtime async in real hosts", function()
  local srv, dir

  lazy_setup(function()
    srv = helper.start_server{ app = "sandbox", tls = true }   -- the dashboard uses https
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

  it("examples/love draws the usage chart, the balance and the bill so far from live data while frames advance", function()
    if not have("love") then return pending("love is not installed") end
    srv:fault({ match = { operation = "HalfHourlyReadings" }, times = 5, action = { delay = 0.3 } })
    local out = dir .. "/dashboard.json"
    local c = srv.credentials
    local client = require("octopus").new{ rest_url = srv.https .. "/v1/", graphql_url = srv.https .. "/v1/graphql/",
      ca_file = srv.ca_file, email = c.email, password = c.password }
    -- the bill so far grows each half hour: the game shows the one from before or after it ran
    local bills = type(client.bill) == "function" and { assert(client:bill(c.accounts[1])) }
    local env = ("OCTOPUS_LOVE_HEADLESS=1 OCTOPUS_DAYS=10 OCTOPUS_OUT=%s OCTOPUS_ROOT=%s OCTOPUS_URL=%s " ..
      "OCTOPUS_CA_FILE=%s OCTOPUS_EMAIL=%s OCTOPUS_PASSWORD=%s OCTOPUS_API_KEY= SDL_AUDIODRIVER=dummy SDL_VIDEODRIVER=dummy"):format(
      helper.quote(out), helper.quote(os.getenv("PWD") or "."), helper.quote(srv.https .. "/v1/"),
      helper.quote(srv.ca_file), helper.quote(c.email), helper.quote(c.password))
    local text, rc = helper.run(env .. " timeout 60 love examples/love")
    local json = helper.read_file(out)
    assert(json, "the dashboard wrote nothing:\n" .. text)
    local r = require("cjson").decode(json)
    assert.are.equal("ready", r.status, tostring(r.error) .. "\n" .. text)
    assert.are.equal(0, rc, text)
    assert.is_true(r.frames_loading >= 5, "only " .. r.frames_loading .. " frames while loading")
    if bills then bills[2] = assert(client:bill(c.accounts[1])) end
    local account = assert(client:account(c.accounts[1]))
    assert.are.equal(account.number, r.account)
    assert.are.equal(account.balance, r.balance)
    assert.are.equal(10, #r.days)
    local time = require("octopus").time
    local want = assert(client:readings(r.account, { from = r.days[1].key,
      to = time.parse(r.days[10].key) + 86400 }):by_day())
    client:close()
    -- the picture: a bar per day, heights proportional to kWh (the largest fills 360 px),
    -- labelled with the day; the balance text
    local bars, texts, most = {}, {}, 0
    for _, w in ipairs(want) do most = math.max(most, w.value) end
    for _, it in ipairs(r.items) do
      if it.kind == "rect" then bars[#bars + 1] = it else texts[it.text] = true end
    end
    assert.are.equal(10, #bars)
    for i, w in ipairs(want) do
      assert.are.equal(w.key, r.days[i].key)
      assert.is_true(math.abs(w.value - r.days[i].value) < 1e-9)
      assert.are.equal(math.floor(w.value / most * 360 + 0.5), bars[i].h)
      assert.is_true(texts[w.key:sub(6)], "no label " .. w.key:sub(6))
    end
    assert.is_true(texts[("balance %d yen"):format(account.balance)], "no balance text")
    if bills then   -- the bill so far line by line, where the library prices bills
      local shown = r.bill and r.bill.kwh_text == bills[1].kwh_text and bills[1] or bills[2]
      assert(r.bill, "the dashboard has no bill")
      assert.are.equal(shown.total, r.bill.total)
      assert.are.equal(shown.kwh_text, r.bill.kwh_text)
      assert.are.equal(#shown.lines, #r.bill.lines)
      assert.is_true(#shown.lines >= 4, "a bill has standing, energy, fuel-cost adjustment and levy lines")
      assert.is_true(texts[("bill %s .. %s so far: %s kWh"):format(shown.period.from_date:sub(6),
        shown.period.to_date:sub(6), shown.kwh_text)], "no bill title")
      for i, l in ipairs(shown.lines) do
        assert.are.equal(l.label, r.bill.lines[i].label)
        assert.is_true(math.abs(l.yen - r.bill.lines[i].yen) < 1e-9, l.label)
        assert.is_true(texts[("%s  %.2f yen"):format(l.label, l.yen)], "no text for " .. l.label)
      end
      assert.is_true(texts[("total  %d yen"):format(shown.total)], "no bill total")
      assert.is_true(texts[("bill so far %d yen"):format(shown.total)], "no bill text")
      for _, b in ipairs(bars) do assert.is_true(b.x + b.w <= 800 - 260, "a bar runs into the bill") end
    else
      assert.is_nil(r.bill)
    end
  end)

  it("a fused game finds the library, core.so and a bundled libcurl in the executable's directory", function()
    if not have("love") or not have("zip") then return pending("love and zip are needed") end
    local love_bin = helper.run("readlink -f \"$(command -v love)\""):gsub("%s+$", "")
    local system_curl = helper.run("ldd build/luajit/octopus/core.so | awk '/libcurl/ {print $3}'"):gsub("%s+$", "")
    assert.matches("libcurl", system_curl)
    local game, dist, build = dir .. "/fused-game", dir .. "/fused-dist", dir .. "/build-love"
    -- the README's layout: <dist>/dashboard (love + game.love), <dist>/octopus/*.lua + core.so
    -- built with RUNPATH $ORIGIN/../lib (the README's make command), <dist>/lib/libcurl.so.4
    local text, rc = helper.run(("rm -rf %s %s && mkdir -p %s %s/lib && cp examples/love/*.lua %s/ && " ..
      "(cd %s && zip -qr ../game.love .) && cat %s %s/../game.love > %s/dashboard && chmod +x %s/dashboard && " ..
      "(cd lua && tar cf - --exclude=octopus/sandbox --exclude='*.so' octopus) | (cd %s && tar xf -) && " ..
      "make --no-print-directory LUA=luajit OUT=%s \"CURL_LIBS=-lcurl -Wl,-rpath,'\\$\\$ORIGIN/../lib'\" %s >/dev/null && " ..
      "cp %s/octopus/core.so %s/octopus/ && cp -L %s %s/lib/libcurl.so.4"):format(
      helper.quote(game), helper.quote(dist), helper.quote(game), helper.quote(dist), helper.quote(game),
      helper.quote(game), helper.quote(love_bin), helper.quote(game), helper.quote(dist), helper.quote(dist),
      helper.quote(dist), helper.quote(build), helper.quote(build .. "/octopus/core.so"), helper.quote(build), helper.quote(dist),
      helper.quote(system_curl), helper.quote(dist)))
    assert.are.equal(0, rc, text)
    local runpath = helper.run("readelf -d " .. helper.quote(dist .. "/octopus/core.so"))
    assert.matches("RUNPATH.-%[%$ORIGIN/%.%./lib%]", runpath)
    local out, c = dir .. "/fused.json", srv.credentials
    -- run from / with no checkout on any path: only the shipped files can satisfy require
    text, rc = helper.run(("cd / && env HOME=%s XDG_DATA_HOME=%s OCTOPUS_ROOT=/nonexistent OCTOPUS_LOVE_HEADLESS=1 " ..
      "OCTOPUS_DAYS=3 OCTOPUS_OUT=%s OCTOPUS_URL=%s OCTOPUS_CA_FILE=%s OCTOPUS_EMAIL=%s OCTOPUS_PASSWORD=%s " ..
      "OCTOPUS_API_KEY= LUA_PATH= LUA_CPATH= SDL_AUDIODRIVER=dummy SDL_VIDEODRIVER=dummy timeout 60 %s/dashboard"):format(
      helper.quote(dir), helper.quote(dir .. "/data"), helper.quote(out), helper.quote(srv.https .. "/v1/"),
      helper.quote(srv.ca_file), helper.quote(c.email), helper.quote(c.password), helper.quote(dist)))
    local json = helper.read_file(out)
    assert(json, "the fused game wrote nothing:\n" .. text)
    local r = require("cjson").decode(json)
    assert.are.equal("ready", r.status, tostring(r.error) .. "\n" .. text)
    assert.are.equal(0, rc, text)
    assert.are.equal(dist .. "/octopus/core.so", r.core)
    assert.are.equal(dist .. "/lib/libcurl.so.4", r.libcurl)
    assert.are.equal(3, #r.days)
    assert.are.equal(c.accounts[1], r.account)
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
