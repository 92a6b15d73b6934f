-- nvim_plugin_spec: the Neovim plugin as a user meets it, in real headless Neovim (the
-- system's, 0.7 on Debian) against the sandbox over TLS. Each case runs one scenario
-- of spec/hosts/nvim/scenarios.lua in a child `nvim --headless -u spec/hosts/nvim/init.lua`
-- (bounded by `timeout` and the scenario's own deadline), with the checkout first on
-- 'runtimepath' and nothing on package.cpath: the core must come from `make nvim`.
-- The child writes what it saw as JSON; the judging happens here.
local helper = require "helper"
local cjson = require "cjson"
local render = require "octopus.nvim.render"

local function have(cmd)
  local _, rc = helper.run("command -v " .. cmd .. " >/dev/null")
  return rc == 0
end

local ROOT = os.getenv("PWD") or "."

describe("#hosts Neovim plugin", function()
  local srv, dir, creds, client

  lazy_setup(function()
    if not have("nvim") then return end
    assert.is_truthy(helper.read_file("lua/octopus/core.so"),
      "the plugin loads the core from runtimepath: run `make nvim` first")
    srv = helper.start_server{ app = "sandbox", tls = true }
    creds = srv.credentials
    dir = helper.run("mktemp -d /tmp/octopus-nvim.XXXXXXXX"):gsub("%s+$", "")
    client = require("octopus").new{ rest_url = srv.https .. "/v1/", graphql_url = srv.https .. "/v1/graphql/",
      ca_file = srv.ca_file, email = creds.email, password = creds.password }
  end)

  lazy_teardown(function()
    if client then client:close() end
    if srv then srv:stop() end
    if dir then os.execute("rm -rf " .. helper.quote(dir)) end
  end)

  before_each(function()
    if not have("nvim") then return pending("nvim is not installed") end
    assert.are.equal(200, (srv:admin("POST", "/_sandbox/reset")))
  end)

  -- runs a scenario; -> the decoded observations (raises with nvim's output otherwise)
  local function scenario(name, extra_env)
    local out = dir .. "/" .. name .. ".json"
    os.remove(out)
    local home = dir .. "/home-" .. name
    local vars = {
      OCTOPUS_ROOT = ROOT, OCTOPUS_OUT = out, OCTOPUS_SCENARIO = name,
      OCTOPUS_REST_URL = srv.https .. "/v1/", OCTOPUS_CA_FILE = srv.ca_file,
      OCTOPUS_EMAIL = creds.email, OCTOPUS_PASSWORD = creds.password, OCTOPUS_API_KEY = "",
      OCTOPUS_CLOSED_URL = ("http://127.0.0.1:%d/v1/"):format(helper.closed_port()),
      HOME = home, XDG_CONFIG_HOME = home .. "/config", XDG_DATA_HOME = home .. "/data",
      XDG_STATE_HOME = home .. "/state", XDG_CACHE_HOME = home .. "/cache",
    }
    for k, v in pairs(extra_env or {}) do vars[k] = v end
    local parts = {}
    for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. helper.quote(v) end
    local text, rc = helper.run("mkdir -p " .. helper.quote(home) .. " && env " .. table.concat(parts, " ") ..
      " timeout 60 nvim --headless -i NONE -u spec/hosts/nvim/init.lua < /dev/null")
    local json = helper.read_file(out)
    assert(json, ("scenario %s wrote nothing (exit %s):\n%s"):format(name, tostring(rc), text))
    local r = cjson.decode(json)
    assert(r.error == nil, ("scenario %s: %s\n%s"):format(name, tostring(r.error), text))
    assert.are.equal(0, rc, text)
    return r
  end

  local function levels(r, level)
    local out = {}
    for _, n in ipairs(r.notes) do if n.level == level then out[#out + 1] = n.msg end end
    return out
  end

  it(":Octopus usage opens a float with a daily bar chart while the editor's timer ticks", function()
    -- the readings answer late, so the command must return before the result exists
    srv:fault({ match = { operation = "HalfHourlyReadings" }, times = 5, action = { delay = 0.5 } })
    local r = scenario("usage")
    assert.are.equal(1, r.loaded_octopus)
    assert.are.equal(2, r.has_command)
    assert.are.same({ "usage", "bill", "compare", "balance", "sync", "login", "logout" }, r.completion)
    -- the LuaJIT core from runtimepath (lua/octopus/core.so), no 5.4 build
    assert.are.equal(1, #r.cores, table.concat(r.cores, " "))
    assert.matches("/lua/octopus/core%.so$", r.cores[1])
    assert.are.equal(0, r.floats_right_after)
    assert.is_true(r.ticks >= 5, "the editor timer ticked only " .. r.ticks .. " times meanwhile")
    assert.are.same({}, levels(r, 4), "no ERROR notifications")
    local lines = assert(r.lines, "no float opened")
    local account = creds.accounts[1]
    assert.matches("^Usage " .. account:gsub("%-", "%%-") .. ", %d%d%d%d%-%d%d%-%d%d %.%. %d%d%d%d%-%d%d%-%d%d %(7 days%)$", lines[1])
    -- one line per day, then the total; each day agrees with the API's own readings
    local days, most = {}, 0
    for i = 2, #lines - 1 do
      local key, bar, kwh, yen = lines[i]:match("^(%d%d%d%d%-%d%d%-%d%d) (%S*) *([%d.]+) kWh +([%d,]+) yen$")
      assert(key, "not a day line: " .. lines[i])
      days[#days + 1] = { key = key, bar = select(2, bar:gsub("█", "")), kwh = tonumber(kwh),
                          yen = tonumber((yen:gsub(",", ""))) }
      most = math.max(most, tonumber(kwh))
    end
    assert.are.equal(7, #days)
    local want = assert(client:readings(account, { from = days[1].key, to = client:iso(
      require("octopus").time.parse(days[7].key) + 86400) }):by_day())
    assert.are.equal(7, #want)
    local sum_kwh, sum_yen = 0, 0
    for i, d in ipairs(days) do
      assert.are.equal(want[i].key, d.key)
      assert.is_true(math.abs(want[i].value - d.kwh) < 0.0005, d.key .. " kWh")
      assert.is_true(math.abs(want[i].cost_estimate - d.yen) <= 0.5, d.key .. " yen")
      sum_kwh, sum_yen = sum_kwh + want[i].value, sum_yen + want[i].cost_estimate
      if d.kwh == most then assert.are.equal(30, d.bar) end   -- the longest bar is the largest day
      assert.is_true(d.bar <= 30 and d.bar >= math.floor(d.kwh / most * 30 + 0.5) - 1)
    end
    local tk, ty = lines[#lines]:match("^total +([%d.]+) kWh +([%d,]+) yen$")
    assert(tk, "no total line: " .. lines[#lines])
    assert.is_true(math.abs(tonumber(tk) - sum_kwh) < 0.0005)
    assert.is_true(math.abs(tonumber((ty:gsub(",", ""))) - sum_yen) <= 0.5)
  end)

  -- the commands' common promises: the command returned before its result existed, the
  -- editor's timer ticked meanwhile, no ERROR
  local function shown_without_blocking(r, what)
    assert.are.equal(0, r.floats_right_after, what .. ": a float was there when the command returned")
    assert.is_true(r.ticks >= 5, what .. ": the editor timer ticked only " .. r.ticks .. " times meanwhile")
    for _, n in ipairs(r.notes) do assert.are_not.equal(4, n.level, what .. ": " .. n.msg) end
  end

  local function number(text) return tonumber((text:gsub(",", ""))) end
  local function esc(text) return (text:gsub("%p", "%%%0")) end

  -- a bill float against client:bill's result (one billing period): the title, one row
  -- per line (label, quantity unit x unit price, exact yen), the rounded sums, the total
  local function check_bill(lines, want, account, state)
    local p = want.periods[1]
    assert.are.equal(1, #want.periods)
    assert.are.equal(("Bill %s %s .. %s (%d days%s): %s kWh"):format(account, p.from_date, p.to_date, p.days,
      state and (", " .. state) or "", p.kwh_text), lines[1])
    local kinds, sums = {}, { charges = 0, levy = 0 }
    for i, l in ipairs(want.lines) do
      local label, q, unit, price, yen = lines[1 + i]:match("^(.-)  +(%S+) (%S+) x (%S+)  +(%S+) yen$")
      assert(label, "not a bill line: " .. tostring(lines[1 + i]))
      assert.are.same({ l.label, l.quantity_text, l.unit, l.unit_price_text }, { label, q, unit, price })
      assert.is_true(math.abs(number(yen) - l.yen) < 1e-9, label .. ": " .. yen .. " yen, want " .. l.yen_text)
      assert.matches("%.%d%d+$", yen)   -- exact, not rounded for show
      kinds[l.kind] = true
      if l.kind == "levy" then sums.levy = sums.levy + l.yen else sums.charges = sums.charges + l.yen end
    end
    for _, k in ipairs { "standing", "energy", "fuel_cost_adjustment", "levy" } do
      assert.is_true(kinds[k], "the bill has no " .. k .. " line")
    end
    local n = #want.lines + 1
    assert.matches("^%-+$", lines[n + 1])
    assert.matches("^charges %(rounded down%) +" .. esc(render.yen(p.charges)) .. " yen$", lines[n + 2])
    assert.matches("^levy %(rounded down%) +" .. esc(render.yen(p.levy)) .. " yen$", lines[n + 3])
    local total = lines[n + 4]:match("^total +([%d,]+) yen$")
    assert(total, "no total line: " .. tostring(lines[n + 4]))
    assert.are.equal(want.total, number(total))
    -- the lines explain the total: each sum rounded down
    assert.are.equal(math.floor(sums.charges + 1e-9), p.charges)
    assert.are.equal(math.floor(sums.levy + 1e-9), p.levy)
    assert.are.equal(p.charges + p.levy, want.total)
    assert.are.equal(("(consumption tax included: %s yen)"):format(render.yen(p.consumption_tax)), lines[n + 5])
  end

  it(":Octopus bill shows this period's bill so far and :Octopus bill previous the last one, line by line", function()
    srv:fault({ match = { operation = "HalfHourlyReadings" }, times = 10, action = { delay = 0.3 } })
    local account = creds.accounts[1]
    -- the bill so far grows each half hour: the float shows the one from before or after
    local before = assert(client:bill(account))
    local r = scenario("bill")
    local after = assert(client:bill(account))
    local previous = assert(client:bill(account, { period = "previous" }))
    shown_without_blocking(r.current, "bill")
    shown_without_blocking(r.previous, "bill previous")
    local lines = assert(r.current.lines, "no float opened")
    local want = lines[1]:find(": " .. before.kwh_text .. " kWh", 1, true) and before or after
    check_bill(lines, want, account, "so far")
    assert.is_false(want.period.complete)
    lines = assert(r.previous.lines, "no float opened for bill previous")
    check_bill(lines, previous, account, nil)
    assert.is_true(previous.period.complete)
    assert.is_true(previous.period.to <= want.period.from)
    assert.are.equal(1, r.previous.float_count)
  end)

  it(":Octopus compare lists the area's products cheapest first with the difference to the current one", function()
    srv:fault({ match = { operation = "HalfHourlyReadings" }, times = 20, action = { delay = 0.3 } })
    local account = creds.accounts[1]
    local r = scenario("compare")
    shown_without_blocking(r, "compare")
    local want = assert(client:compare(account))
    local lines = assert(r.lines, "no float opened")
    local time = require("octopus").time
    assert.are.equal(("Compare %s: 12 months, %s .. %s, %.3f kWh"):format(account,
      time.format(want.from, client.zone):sub(1, 10), time.format(want.to - 1, client.zone):sub(1, 10),
      want.entries[1].kwh), lines[1])
    assert.is_true(#want.entries >= 2, "the area offers one product only")
    local last
    for i, e in ipairs(want.entries) do
      local mark, name, code, total, diff = lines[1 + i]:match("^([* ]) (.-) %((%S+)%)  +([%d,]+) yen  +(.+)$")
      assert(mark, "not a product line: " .. tostring(lines[1 + i]))
      assert.are.same({ e.display_name, e.code, e.total }, { name, code, number(total) })
      if last then assert.is_true(e.total >= last, "not cheapest first") end
      last = e.total
      if e.current then
        assert.are.same({ "*", "current" }, { mark, diff })
        assert.are.equal(want.current.code, code)
      else
        assert.are.equal(" ", mark)
        assert.are.equal(e.total - want.current.total, number((diff:gsub(" yen$", ""))))
        assert.matches(e.total > want.current.total and "^%+" or "^%-", diff)
      end
    end
    assert.matches("^%* your product now", lines[#want.entries + 2])
  end)

  it(":Octopus sync fills the store under XDG_DATA_HOME, says so at INFO, and a second sync adds nothing", function()
    srv:fault({ match = { operation = "HalfHourlyReadings" }, times = 20, action = { delay = 0.3 } })
    local account = creds.accounts[1]
    local r = scenario("sync")
    local home = dir .. "/home-sync"
    assert.are.equal(home .. "/data/octopus/readings.sqlite", r.path)
    assert.are.equal("600", r.mode)
    assert.are.equal("700", r.dir_mode)
    local counts = {}
    for i, run in ipairs { r.first, r.second } do
      shown_without_blocking(run, "sync " .. i)
      assert.are.equal(0, run.float_count, "sync opened a float")
      assert.are.equal(1, #run.notes, cjson.encode(run.notes))
      assert.are.equal(2, run.notes[1].level, "not INFO: " .. run.notes[1].msg)
      local c = { run.notes[1].msg:match("^octopus: sync done: " .. esc(account) ..
        ": (%d+) added, (%d+) revised, (%d+) unchanged %((%d+) windows, (%d+) requests%); " ..
        "supply point (%d+), (%d%d%d%d%-%d%d%-%d%d) %.%. (%d%d%d%d%-%d%d%-%d%d), store (.+)$") }
      assert(c[1], "not a sync note: " .. run.notes[1].msg)
      assert.are.equal(r.path, c[9])
      counts[i] = { added = tonumber(c[1]), revised = tonumber(c[2]), unchanged = tonumber(c[3]),
                    windows = tonumber(c[4]), requests = tonumber(c[5]), spin = c[6] }
    end
    assert.is_true(counts[1].added > 0)
    assert.are.equal(0, counts[2].added)
    assert.are.equal(0, counts[2].revised)
    assert.is_true(counts[2].unchanged > 0)
    assert.is_true(counts[2].requests < counts[1].requests)
    -- the store holds what the first sync added (a real SQLite file, read here)
    local s = assert(client:history({ path = r.path, read_only = true }))
    local n = s:count(counts[1].spin)
    s:close()
    assert.are.equal(counts[1].added, n)
  end)

  it(":Octopus balance shows the account's balance; q closes the float", function()
    local r = scenario("balance")
    local account = assert(client:account(creds.accounts[1]))
    local lines = assert(r.lines, "no float opened")
    assert.are.equal(("Account %s (%s)"):format(account.number, account.status), lines[1])
    local shown = lines[2]:match("^Balance: (%-?[%d,]+) yen$")
    assert(shown, lines[2])
    assert.are.equal(account.balance, tonumber((shown:gsub(",", ""))))
    assert.are.equal("Billing name: " .. account.billingName, lines[3])
    assert.are.equal(0, r.floats_after_q)
  end)

  it("reports failures at ERROR and usage problems at WARN, never with a secret", function()
    local r = scenario("errors")
    assert.is_false(r.setup_password.ok)
    assert.matches("'password' is a credential", r.setup_password.msg, 1, true)
    assert.are.equal(1, #r.auth_errors, cjson.encode(r.notes))
    assert.matches("balance failed: AUTH_INVALID", r.auth_errors[1], 1, true)
    assert.are.equal(3, #r.usage_warnings, cjson.encode(r.notes))
    assert.matches("unexpected argument 'banana'", r.usage_warnings[1], 1, true)
    assert.matches("unknown subcommand 'nope'", r.usage_warnings[2], 1, true)
    assert.matches(":Octopus {usage|bill|compare|balance|sync|login|logout}", r.usage_warnings[3], 1, true)
    assert.are.equal(0, r.floats_after_usage_errors)
    local missing = 0
    for _, name in ipairs { "bill", "compare", "sync" } do
      if not r.client_has[name] then
        missing = missing + 1
        assert.matches(name .. " is not available in this version", r.unavailable[missing], 1, true)
      end
    end
    assert.are.equal(missing, #r.unavailable)
    assert.are.equal(1, #r.network_errors, cjson.encode(r.notes))
    assert.matches("balance failed: CONNECT", r.network_errors[1], 1, true)
    for _, n in ipairs(r.notes) do
      assert.is_nil(n.msg:find(creds.password, 1, true), "a notification shows the password")
    end
  end)

  it(":Octopus login keeps a private token file, :checkhealth octopus reports OK, logout forgets it", function()
    local r = scenario("health")
    assert.are.equal(1, #r.login_info, cjson.encode(r.notes))
    assert.matches("logged in", r.login_info[1], 1, true)
    assert.are.equal("600", r.token_mode)
    local text = table.concat(r.health, "\n")
    for _, want in ipairs {
      "OK: octopus.core " .. require("octopus.core").version .. " loads under LuaJIT",
      "OK: libcurl %d+%.%d+%.%d+, TLS backend %a+",
      "OK: credentials present %(email, password%) from the environment",
      "OK: " .. r.token_path:gsub("%p", "%%%0") .. ": mode 600 %(private%)",
      "OK: the API answers at https://127%.0%.0%.1:%d+/v1/",
    } do
      assert.matches(want, text, nil, false, text)
    end
    assert.is_nil(text:find("ERROR", 1, true), text)
    assert.is_nil(text:find("WARNING", 1, true), text)
    assert.is_nil(text:find(creds.password, 1, true), "the health check shows the password")
    assert.are.equal(1, #r.logout_info)
    assert.is_false(r.token_after_logout)
  end)

  it(":checkhealth octopus warns without credentials and reports a token file others can read", function()
    local r = scenario("health_bad", { OCTOPUS_EMAIL = "", OCTOPUS_PASSWORD = "" })
    local text = table.concat(r.health, "\n")
    assert.matches("OK: octopus.core", text, 1, true)
    assert.matches("WARNING: no credentials: set OCTOPUS_API_KEY or OCTOPUS_EMAIL and OCTOPUS_PASSWORD", text, 1, true)
    assert.matches("ERROR: " .. r.token_path .. " has mode 644: readable or writable by others", text, 1, true)
    assert.matches("chmod 600 " .. r.token_path, text, 1, true)
    assert.matches("INFO: not checked", text, 1, true)
  end)

  it("without `make nvim` the command fails at ERROR and the health check says what to run", function()
    local copy = dir .. "/plugin-without-core"
    local text, rc = helper.run(("rm -rf %s && mkdir -p %s && cp -r plugin doc %s/ && " ..
      "(tar cf - --exclude='*.so' lua) | (cd %s && tar xf -)"):format(
      helper.quote(copy), helper.quote(copy), helper.quote(copy), helper.quote(copy)))
    assert.are.equal(0, rc, text)
    assert.is_nil(helper.read_file(copy .. "/lua/octopus/core.so"))
    local r = scenario("no_core", { OCTOPUS_ROOT = copy, OCTOPUS_SPEC_DIR = ROOT .. "/spec/hosts/nvim" })
    assert.are.equal(1, #r.errors, cjson.encode(r.notes))
    assert.matches("the library does not load (run `make nvim` in the plugin's directory", r.errors[1], 1, true)
    assert.matches("module 'octopus.core' not found", r.errors[1], 1, true)
    assert.are.equal(0, r.floats)
    local health = table.concat(r.health, "\n")
    assert.matches("ERROR: octopus.core does not load", health, 1, true)
    assert.matches("run `make nvim` in the plugin's directory", health, 1, true)
  end)

  it(":help octopus, :Octopus, octopus-setup and every subcommand open doc/octopus.txt", function()
    local r = scenario("help")
    assert.are.equal(11, #r.help)
    for _, h in ipairs(r.help) do
      assert.is_true(h.ok, h.tag .. ": " .. tostring(h.err))
      assert.are.equal(ROOT .. "/doc/octopus.txt", h.file)
      assert.are.equal("help", h.buftype)
      assert.matches("*" .. h.tag .. "*", h.line, 1, true)
    end
  end)

  it("doc/tags is what helptags generates from doc/octopus.txt", function()
    local tmp = dir .. "/doc"
    local text, rc = helper.run(("rm -rf %s && mkdir -p %s && cp doc/octopus.txt %s/ && " ..
      "timeout 30 nvim --headless -u NONE -i NONE -c %s -c q"):format(helper.quote(tmp), helper.quote(tmp),
      helper.quote(tmp), helper.quote("helptags " .. tmp)))
    assert.are.equal(0, rc, text)
    local want = assert(helper.read_file(tmp .. "/tags"), "helptags wrote nothing")
    assert.are.equal(want, helper.read_file("doc/tags"), "doc/tags is stale: run nvim --headless -c 'helptags doc' -c q")
  end)

  it("a 5.4 build leaves no ./octopus/core.so for nvim started here to pick up", function()
    assert.is_nil(helper.read_file("octopus/core.so"))
  end)
end)
