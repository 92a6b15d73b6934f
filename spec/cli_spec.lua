-- spec/cli_spec.lua: the `octopus` command as a process (bin/octopus, Lua 5.4) with its
-- output piped, against the sandbox over TLS: every output format, exit statuses,
-- errors a person can act on, the config file, help and completion.
local helper = require "helper"
local cjson = require "cjson"
local width = require "octopus.cli.width"

describe("the octopus command, piped", function()
  local srv, dir, account

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    dir = helper.run("mktemp -d /tmp/octopus-cli.XXXXXXXX"):gsub("%s+$", "")
    account = srv.credentials.accounts[1]
  end)
  lazy_teardown(function()
    srv:stop()
    os.execute("rm -rf " .. helper.quote(dir))
  end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  -- runs bin/octopus -> output (stdout+stderr), exit status; opts.url = false leaves
  -- the URL out; opts.stdout_only drops stderr
  local function octopus(args, env, opts)
    opts = opts or {}
    local vars = { OCTOPUS_EMAIL = srv.credentials.email, OCTOPUS_PASSWORD = srv.credentials.password,
      OCTOPUS_API_KEY = "", XDG_STATE_HOME = dir .. "/state", XDG_CONFIG_HOME = dir .. "/config",
      XDG_DATA_HOME = dir .. "/data", OCTOPUS_URL = "", OCTOPUS_CA_FILE = "", OCTOPUS_CONFIG = "",
      LANG = "C.UTF-8", LC_ALL = "", LC_CTYPE = "", NO_COLOR = "" }
    for k, v in pairs(env or {}) do vars[k] = v end
    local parts = {}
    for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. helper.quote(v) end
    local conn = ""
    if opts.url ~= false then
      conn = (" --url %s"):format(helper.quote(opts.url or (srv.https .. "/v1/")))
      if opts.ca ~= false then conn = conn .. " --ca-file " .. helper.quote(srv.ca_file) end
    end
    local redirect = opts.stdout_only and " 2>/dev/null" or ""
    local pre = opts.pre and (" -e " .. helper.quote(opts.pre)) or ""   -- Lua run before the command
    return helper.run(("env %s lua5.4%s bin/octopus %s%s%s"):format(table.concat(parts, " "), pre, args, conn,
      redirect))
  end

  local function lines(s)
    local t = {}
    for l in s:gmatch("([^\n]*)\n") do t[#t + 1] = l end
    return t
  end

  local function graphql_requests() return srv:count("requests", "POST /v1/graphql/") end

  it("shows the viewer, keeping the token state privately for the next command", function()
    local out, rc = octopus("viewer")
    assert.are.equal(0, rc, out)
    assert.matches(srv.credentials.email, out, 1, true)
    assert.matches(account, out, 1, true)
    assert.are.equal(384, require("octopus.core").file_mode(dir .. "/state/octopus/token.json"))
    out, rc = octopus("account " .. account)
    assert.are.equal(0, rc, out)
    assert.matches("ACTIVE", out, 1, true)
    assert.are.equal(1, srv:count("operations", "ObtainKrakenToken"))
  end)

  it("aligns the account table by display width, Japanese addresses taking two columns a character", function()
    local out, rc = octopus("account " .. account, nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    local l = lines(out)
    local head, row = l[2], l[3]
    assert.matches("東京都", row, 1, true)
    -- the Product column starts at the same display column in the header and the row
    local hpos = width.width(head:sub(1, head:find("Product", 1, true) - 1))
    local pstart = row:find("Green Octopus", 1, true)
    assert.truthy(pstart, row)
    assert.are.equal(hpos, width.width(row:sub(1, pstart - 1)))
    assert.is_nil(out:find("\27[", 1, true))            -- no colour in a pipe
  end)

  it("prints daily totals in every format, the same numbers each time", function()
    local range = " --from 2026-10-01 --to 2026-10-04 --by day"
    local out, rc = octopus("usage " .. account .. range .. " --json", nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.are.equal(1, #lines(out))
    -- nothing on stderr in a pipe: no progress bar, no colour
    local both = octopus("usage " .. account .. range .. " --json")
    assert.are.equal(out, both)
    local doc = cjson.decode(out)
    assert.are.equal(3, #doc.days)
    assert.are.equal("2026-10-01", doc.days[1].key)
    assert.are.equal(48, doc.days[1].halfhours)
    local sum = 0
    for _, d in ipairs(doc.days) do sum = sum + d.kwh end
    assert.is_true(math.abs(sum - doc.total.kwh) < 1e-9)
    -- keys in sorted order, as the text says
    assert.is_truthy(out:find('^{"account":.-"by":.-"days":.-"from":.-"to":.-"total":'))

    local csv
    csv, rc = octopus("usage " .. account .. range .. " --csv", nil, { stdout_only = true })
    assert.are.equal(0, rc, csv)
    local rows = {}
    for l in csv:gmatch("([^\r\n]*)\r\n") do rows[#rows + 1] = l end
    assert.are.equal("day,kwh,yen,halfhours", rows[1])
    assert.are.equal(4, #rows)
    local d, kwh, yen, n = rows[2]:match("^([^,]+),([^,]+),([^,]+),([^,]+)$")
    assert.are.equal("2026-10-01", d)
    assert.are.equal(doc.days[1].kwh, tonumber(kwh))
    assert.are.equal(doc.days[1].yen, tonumber(yen))
    assert.are.equal("48", n)

    local nd
    nd, rc = octopus("usage " .. account .. range .. " --ndjson", nil, { stdout_only = true })
    assert.are.equal(0, rc, nd)
    local objs = lines(nd)
    assert.are.equal(3, #objs)
    for i, l in ipairs(objs) do assert.are.equal(doc.days[i].kwh, cjson.decode(l).kwh) end

    local text
    text, rc = octopus("usage " .. account .. range, nil, { stdout_only = true })
    assert.are.equal(0, rc, text)
    assert.matches("2026-10-01", text, 1, true)
    assert.matches("█", text, 1, true)                          -- bars beside the days
    assert.matches(("total %.3f kWh"):format(doc.total.kwh), text, 1, true)
  end)

  it("falls back to ASCII charts when the locale is not UTF-8", function()
    local out, rc = octopus("usage " .. account .. " --from 2026-10-01 --to 2026-10-03 --heatmap",
      { LANG = "C" }, { stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.is_nil(out:find("[\128-\255]"), out)                 -- no byte outside ASCII
    assert.matches("#", out, 1, true)
    assert.matches("10-01  ", out, 1, true)                     -- a heat map row
  end)

  it("prints half hours as CSV with the API's decimals and NDJSON one row a line", function()
    local out, rc = octopus("usage " .. account .. " --from 2026-10-01 --to 2026-10-02 --by halfhour --csv",
      nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    local rows = {}
    for l in out:gmatch("([^\r\n]*)\r\n") do rows[#rows + 1] = l end
    assert.are.equal("start,end,kwh,yen,version", rows[1])
    assert.are.equal(49, #rows)
    assert.matches("^2026%-10%-01T00:00:00%+09:00,2026%-10%-01T00:30:00%+09:00,%d+%.%d+,", rows[2])
    out, rc = octopus("usage " .. account .. " --from 2026-10-01 --to 2026-10-02 --by halfhour --ndjson",
      nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.are.equal(48, #lines(out))
    assert.are.equal("2026-10-01T00:30:00+09:00", cjson.decode(lines(out)[2]).start)
  end)

  it("lists products and a tariff's prices, as a table, CSV (quoted) and JSON", function()
    local out, rc = octopus("products --csv", nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.matches("^code,display_name,is_green,is_variable,available_from,available_to\r\n", out)
    assert.matches("JPN_KK_OCTOPUS_MAY_26,Green Octopus,true,true,", out, 1, true)
    out, rc = octopus("tariff JPN_KK_OCTOPUS_MAY_26 --area 03 --json", nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    local doc = cjson.decode(out)
    assert.are.equal("03", doc.area)
    local steps, standing, fca = 0, nil, nil
    for _, c in ipairs(doc.components) do
      if c.component == "energy" then steps = steps + 1 end
      if c.component == "standing charge" then standing = c end
      if c.component == "fuel-cost adjustment" then fca = c end
    end
    assert.are.equal(3, steps)
    assert.are.equal("yen/day", standing.unit)
    assert.truthy(fca, out)                           -- the user's own product: via GraphQL
    out, rc = octopus("tariff JPN_KK_OCTOPUS_MAY_26 --area 03", nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.matches("120-300 kWh", out, 1, true)
    assert.matches("renewable energy levy", out, 1, true)
    -- RFC 4180: a field with a comma is quoted
    local f = require("octopus.cli.format")
    assert.are.equal('a,"b,c","d""e"\r\n', f.csv({ { key = "x" }, { key = "y" }, { key = "z" } },
      { { x = "a", y = "b,c", z = 'd"e' } }):match("\r\n(.*)$"))
  end)

  it("quotes with an API key, and names OCTOPUS_API_KEY before any request without one", function()
    local out, rc = octopus("quote 100-0001 --json", { OCTOPUS_API_KEY = srv.credentials.api_key },
      { stdout_only = true })
    assert.are.equal(0, rc, out)
    local q = cjson.decode(out)
    assert.are.equal("_03", q.gsp)
    assert.is_true(#q.products >= 2)
    assert.is_true(q.products[1].annual_cost_inc_vat <= q.products[2].annual_cost_inc_vat)
    local before = srv:count("requests", "POST /v1/quotes/")
    out, rc = octopus("quote 100-0001")
    assert.are.equal(2, rc)
    assert.matches("OCTOPUS_API_KEY", out, 1, true)
    assert.are.equal(before, srv:count("requests", "POST /v1/quotes/"))
  end)

  it("shows the points budget", function()
    local out, rc = octopus("rate-limit --json", nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    local r = cjson.decode(out)
    assert.is_true(r.limit > 0)
    assert.are.equal(r.limit, r.used + r.remaining)
  end)

  it("names the environment variables when there are no credentials, before any request", function()
    local before = graphql_requests()
    local out, rc = octopus("viewer", { OCTOPUS_EMAIL = "", OCTOPUS_PASSWORD = "" })
    assert.are.equal(2, rc)
    for _, v in ipairs { "OCTOPUS_API_KEY", "OCTOPUS_EMAIL", "OCTOPUS_PASSWORD" } do
      assert.matches(v, out, 1, true)
    end
    out, rc = octopus("usage " .. account .. " --from 2026-10-01 --to 2026-10-02", { OCTOPUS_PASSWORD = "" })
    assert.are.equal(2, rc)
    assert.matches("OCTOPUS_PASSWORD", out, 1, true)
    assert.are.equal(before, graphql_requests())
  end)

  it("suggests --ca-file on a TLS failure against a loopback URL, with exit 3", function()
    local out, rc = octopus("viewer", nil, { ca = false })
    assert.are.equal(3, rc, out)
    assert.matches("TLS", out, 1, true)
    assert.matches("--ca-file", out, 1, true)
  end)

  it("says only 'interrupted' (exit 130) when Ctrl-C lands inside a library pcall", function()
    -- the signal's "interrupted!" raised while a reading is parsed comes back wrapped as a
    -- DECODE error; stand-in: parse raises it for every row
    local pre = "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path; " ..
      "package.cpath = 'build/5.4/?.so;' .. package.cpath; " ..
      "require('octopus.graphql.readings').parse = function() error('interrupted!') end"
    local out, rc = octopus("usage " .. account .. " --from 2026-01-01 --to 2026-01-02", nil, { pre = pre })
    assert.are.equal(130, rc, out)
    assert.matches("octopus: interrupted\n$", out)
    assert.is_nil(out:find("DECODE", 1, true), out)
  end)

  it("exits 3 when nothing listens, and 1 with AUTH_INVALID on a wrong password (not echoed)", function()
    local out, rc = octopus("viewer", nil, { url = ("http://127.0.0.1:%d/v1/"):format(helper.closed_port()) })
    assert.are.equal(3, rc, out)
    assert.matches("CONNECT", out, 1, true)
    out, rc = octopus("login --no-token-file", { OCTOPUS_PASSWORD = "not-the-password-42" })
    assert.are.equal(1, rc)
    assert.matches("AUTH_INVALID", out, 1, true)
    assert.is_nil(out:find("not-the-password-42", 1, true))
    out, rc = octopus("account A-00000000")
    assert.are.equal(1, rc, out)
  end)

  it("fails with exit 2 on usage errors, naming them, and shows help and the version", function()
    local out, rc = octopus("usage " .. account .. " --from nonsense --to 2026-10-01")
    assert.are.equal(2, rc)
    assert.matches("option '--from'", out, 1, true)
    out, rc = octopus("viewer --from 2026")
    assert.are.equal(2, rc)
    assert.matches("unknown option '--from'", out, 1, true)
    out, rc = octopus("usage --by hour --from 2026-10-01 --to 2026-10-02")
    assert.are.equal(2, rc)
    assert.matches("option '--by' must be one of", out, 1, true)
    out, rc = octopus("viewer --help", nil, { url = false })
    assert.are.equal(0, rc)
    assert.matches("Usage: octopus viewer", out, 1, true)
    assert.matches("Exit status:", out, 1, true)
    local help
    help, rc = octopus("help viewer", nil, { url = false })
    assert.are.equal(0, rc)
    assert.are.equal(out, help)
    out, rc = octopus("--version", nil, { url = false })
    assert.are.equal(0, rc)
    assert.matches("^octopus %d+%.%d+%.%d+\n$", out)
    -- an account must be named when the credentials see several
    out, rc = octopus("account")
    assert.are.equal(2, rc)
    assert.matches(srv.credentials.accounts[2], out, 1, true)
    -- and may be left out when they see one (the sandbox's second demo user has one)
    out, rc = octopus("account --json", { OCTOPUS_EMAIL = "taro@example.jp", OCTOPUS_PASSWORD = "octopus-taro-1" },
      { stdout_only = true })
    assert.are.equal(0, rc, out)
    local only = cjson.decode(out).account.number
    local me = cjson.decode((octopus("viewer --json", { OCTOPUS_EMAIL = "taro@example.jp",
      OCTOPUS_PASSWORD = "octopus-taro-1" }, { stdout_only = true })))
    assert.are.equal(1, #me.viewer.accounts)
    assert.are.equal(me.viewer.accounts[1].number, only)
  end)

  it("reads URLs, the CA file and the default account from the config file, and refuses secrets in it", function()
    os.execute("mkdir -p " .. helper.quote(dir .. "/config/octopus"))
    local f = assert(io.open(dir .. "/config/octopus/config", "w"))
    f:write("# sandbox\nrest_url = ", srv.https, "/v1/\nca_file = ", srv.ca_file, "\naccount = ", account, "\n")
    f:close()
    local out, rc = octopus("account --json", nil, { url = false, stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.are.equal(account, cjson.decode(out).account.number)
    f = assert(io.open(dir .. "/config/octopus/config", "a"))
    f:write("password = hunter2-secret\n")
    f:close()
    out, rc = octopus("account", nil, { url = false })
    assert.are.equal(2, rc)
    assert.matches("password", out, 1, true)
    assert.matches("OCTOPUS_PASSWORD", out, 1, true)
    assert.is_nil(out:find("hunter2-secret", 1, true))
    os.remove(dir .. "/config/octopus/config")
  end)

  it("generates shell completion from the same definition", function()
    local out, rc = octopus("completion bash", nil, { url = false })
    assert.are.equal(0, rc)
    for _, cmd in ipairs { "products", "tariff", "usage", "report", "rate-limit" } do
      assert.matches(cmd, out, 1, true)
    end
    local path = dir .. "/octopus.bash"
    local f = assert(io.open(path, "w")) f:write(out) f:close()
    local syn, src = helper.run("bash -n " .. helper.quote(path))
    assert.are.equal(0, src, syn)
    for _, sh in ipairs { "zsh", "fish" } do
      out, rc = octopus("completion " .. sh, nil, { url = false })
      assert.are.equal(0, rc)
      assert.matches("heatmap", out, 1, true)
    end
  end)

  it("says the money commands are not available when the client lacks them, else prints them", function()
    local client_has = {}
    do
      local c = require("octopus").new { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file }
      for _, m in ipairs { "bill", "bills", "compare" } do client_has[m] = type(c[m]) == "function" end
      c:close()
    end
    for _, m in ipairs { "bill", "bills", "compare" } do
      local out, rc = octopus(m .. " " .. account .. " --json")
      if client_has[m] then
        assert.are.equal(0, rc, out)
      else
        assert.are.equal(2, rc, out)
        assert.matches("not available in this version", out, 1, true)
      end
    end
  end)

  it("syncs into a local history, then answers and exports offline", function()
    if not pcall(require, "octopus.history.store") then
      local out, rc = octopus("history")
      assert.are.equal(2, rc)
      assert.matches("not available in this version", out, 1, true)
      return
    end
    local db = dir .. "/history.sqlite"
    os.remove(db)
    local out, rc = octopus("history --db " .. helper.quote(db), nil, { url = false })
    assert.are.equal(2, rc)
    assert.matches("octopus sync", out, 1, true)
    out, rc = octopus("sync " .. account .. " --from 2026-10-01 --db " .. helper.quote(db) .. " --json",
      nil, { stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.is_true(cjson.decode(out).added > 0)
    -- offline: no URL, no credentials
    local env = { OCTOPUS_EMAIL = "", OCTOPUS_PASSWORD = "" }
    out, rc = octopus("history --by day --from 2026-10-01 --to 2026-10-04 --json --db " .. helper.quote(db),
      env, { url = false, stdout_only = true })
    assert.are.equal(0, rc, out)
    local hist = cjson.decode(out)
    assert.are.equal(3, #hist.days)
    local live = cjson.decode((octopus("usage " .. account .. " --from 2026-10-01 --to 2026-10-04 --json",
      nil, { stdout_only = true })))
    assert.are.equal(live.total.kwh, hist.total.kwh)
    out, rc = octopus("export --from 2026-10-01 --to 2026-10-02 --db " .. helper.quote(db), env,
      { url = false, stdout_only = true })
    assert.are.equal(0, rc, out)
    assert.matches("^start,end,kwh,yen,version\n", out)
    assert.are.equal(49, #lines(out))
  end)
end)
