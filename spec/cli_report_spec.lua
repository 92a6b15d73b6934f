-- spec/cli_report_spec.lua: `octopus report` writes one self-contained HTML file that a
-- real browser renders: Debian's chromium --headless takes a screenshot (not blank: far
-- larger than a blank page's) and dumps the DOM, which must hold the totals the CLI
-- printed. Against the sandbox over TLS; every chromium run is bounded by timeout(1).
local helper = require "helper"
local cjson = require "cjson"

describe("#terminal #browser octopus report in a headless browser", function()
  local srv, dir, account

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    dir = helper.run("mktemp -d /tmp/octopus-report.XXXXXXXX"):gsub("%s+$", "")
    account = srv.credentials.accounts[1]
  end)
  lazy_teardown(function()
    srv:stop()
    os.execute("rm -rf " .. helper.quote(dir))
  end)

  local function octopus(args)
    local env = ("env OCTOPUS_EMAIL=%s OCTOPUS_PASSWORD=%s OCTOPUS_API_KEY= XDG_STATE_HOME=%s "
      .. "XDG_CONFIG_HOME=%s LANG=C.UTF-8"):format(
      helper.quote(srv.credentials.email), helper.quote(srv.credentials.password),
      helper.quote(dir .. "/state"), helper.quote(dir .. "/config"))
    return helper.run(("%s lua5.4 bin/octopus %s --url %s --ca-file %s 2>/dev/null"):format(env, args,
      helper.quote(srv.https .. "/v1/"), helper.quote(srv.ca_file)))
  end

  local n = 0
  -- chromium --headless with a throwaway profile, no network services; extra = the action
  local function chromium(extra, url)
    n = n + 1
    local profile = dir .. "/profile" .. n
    return helper.run(("timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic "
      .. "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
      .. "--user-data-dir=%s --window-size=1200,900 %s %s 2>/dev/null"):format(helper.quote(profile), extra,
      helper.quote(url)))
  end

  local function size(path)
    local f = io.open(path, "rb")
    if not f then return 0 end
    local s = f:seek("end")
    f:close()
    return s
  end

  it("writes one self-contained file that chromium renders, holding the totals the CLI printed", function()
    local file = dir .. "/report.html"
    local out, rc = octopus("report " .. account .. " --months 2 -o " .. helper.quote(file))
    assert.are.equal(0, rc, out)
    local printed = out:match("(total [^\n]+ days)")
    assert.truthy(printed, out)

    local html = assert(helper.read_file(file))
    assert.is_nil(html:find("<script", 1, true))
    assert.is_nil(html:find(" src=", 1, true))
    assert.is_nil(html:find(" href=", 1, true))
    for url in html:gmatch("https?://[^\"'%s<]+") do
      assert.are.equal("http://www.w3.org/2000/svg", url)    -- a namespace, never fetched
    end
    assert.matches("<svg", html, 1, true)

    -- the same range through `usage` gives the same totals
    local doc = cjson.decode((octopus("report " .. account .. " --months 2 --json -o " .. helper.quote(file))))
    local live = cjson.decode((octopus(("usage %s --from %s --to %s --json"):format(account, doc.from, doc.to))))
    assert.are.equal(live.total.kwh, doc.total.kwh)
    assert.are.equal(live.total.yen, doc.total.yen)

    local dom, drc = chromium("--dump-dom", "file://" .. file)
    assert.are.equal(0, drc, dom)
    assert.matches(printed, dom, 1, true)
    local bars = 0
    for _ in dom:gmatch('<rect class="bar"') do bars = bars + 1 end
    assert.is_true(bars >= 30, "bars in the DOM: " .. bars)

    local blank = dir .. "/blank.html"
    local f = assert(io.open(blank, "w"))
    f:write("<!DOCTYPE html><html><body></body></html>\n")
    f:close()
    local shot, blank_shot = dir .. "/report.png", dir .. "/blank.png"
    local o1, r1 = chromium("--screenshot=" .. helper.quote(shot), "file://" .. file)
    assert.are.equal(0, r1, o1)
    local o2, r2 = chromium("--screenshot=" .. helper.quote(blank_shot), "file://" .. blank)
    assert.are.equal(0, r2, o2)
    assert.are.equal("\137PNG", helper.read_file(shot):sub(1, 4))
    assert.is_true(size(blank_shot) > 0)
    assert.is_true(size(shot) > 4 * size(blank_shot),
      ("screenshot %d bytes vs a blank page's %d"):format(size(shot), size(blank_shot)))
  end)
end)
