-- The sandbox's REST routes over real loopback sockets (the server runs under lua5.4;
-- this spec runs under Lua 5.4 and LuaJIT). Windows are fixed dates in the past so the
-- assertions do not depend on the clock.
local helper = require "helper"
local cjson = require "cjson"
local mime = require "mime"

local function basic(key) return "Basic " .. mime.b64(key .. ":") end

describe("the sandbox REST API", function()
  local srv, key, other_key, account, spin, serial

  local function get(path, auth, headers)
    local h = headers or {}
    if auth then h.Authorization = basic(auth) end
    local status, hdrs, body = helper.request(srv.http .. path, "GET", nil, h)
    local ok, decoded = pcall(cjson.decode, body or "")
    return status, ok and decoded or body, hdrs
  end

  local function post(path, body, auth)
    local h = { ["Content-Type"] = "application/json" }
    if auth then h.Authorization = basic(auth) end
    local text = type(body) == "table" and cjson.encode(body) or body
    local status, hdrs, rbody = helper.request(srv.http .. path, "POST", text, h)
    local ok, decoded = pcall(cjson.decode, rbody or "")
    return status, ok and decoded or rbody, hdrs
  end

  -- follows `next` links from a first URL path; returns every row and the pages' count
  local function all_pages(path, auth)
    local rows, pages, url = {}, 0, srv.http .. path
    while url ~= nil and url ~= cjson.null do
      assert.equal(srv.http, url:match("^(http://[^/]+)"))   -- absolute, same origin
      local status, page = get(url:sub(#srv.http + 1), auth)
      assert.equal(200, status)
      pages = pages + 1
      for _, r in ipairs(page.results) do rows[#rows + 1] = r end
      url = page.next
      assert.is_true(pages < 100)
    end
    return rows, pages
  end

  lazy_setup(function()
    srv = helper.start_server{ app = "sandbox", tls = false }
    key = srv.credentials.api_key
    account = srv.credentials.accounts[1]
    other_key = require("octopus.sandbox.data").new{ seed = 1 }.users[2].api_key
    local _, a = get("/v1/accounts/" .. account .. "/", key)
    local emp = a.properties[1].electricity_meter_points[1]
    spin, serial = emp.mpan, emp.meters[1].serial_number
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  describe("products", function()
    it("answers a query value that decodes to invalid UTF-8 with its 400, not a 500", function()
      local status, body = get("/v1/products/?is_green=%FF")
      assert.equal(400, status)
      assert.equal('Invalid is_green "\239\191\189": use true or false.', body.detail)  -- U+FFFD
      status, body = get("/v1/products/?available_at=%FF%FE")
      assert.equal(400, status)
      assert.matches("^Invalid datetime for available_at", body.detail)
    end)

    it("answers a Host with a non-UTF-8 byte with 400 (links are built from Host)", function()
      local c = helper.connect(srv.http)
      assert(c:send("GET /v1/products/ HTTP/1.1\r\nHost: 127.0.0.1\255:1\r\nConnection: close\r\n\r\n"))
      local status = helper.read_response(c)
      c:close()
      assert.equal(400, status)
    end)

    it("lists the products on sale now as a DRF page", function()
      local status, page = get("/v1/products/")
      assert.equal(200, status)
      assert.equal(2, page.count)
      assert.equal(cjson.null, page.next)
      assert.equal(cjson.null, page.previous)
      assert.equal("JPN_KK_OCTOPUS_MAY_26", page.results[1].code)
      assert.equal("Octopus Energy Green Octopus", page.results[1].full_name)
      assert.equal("OCTOPUS_ENERGY", page.results[1].brand)
      assert.equal(srv.http .. "/v1/products/JPN_KK_OCTOPUS_MAY_26/", page.results[1].links[1].href)
    end)

    it("filters by flags, brand and available_at", function()
      local _, green = get("/v1/products/?is_green=true")
      assert.equal(1, green.count)
      assert.equal("JPN_KK_OCTOPUS_MAY_26", green.results[1].code)
      local _, plain = get("/v1/products/?is_green=false&is_variable=false")
      assert.equal("JPN_KK_SIMPLE_OCTOPUS_24", plain.results[1].code)
      local _, none = get("/v1/products/?brand=OTHER")
      assert.equal(0, none.count)
      local _, old = get("/v1/products/?available_at=2025-06-01T00:00:00%2B09:00")
      local codes = {}
      for _, p in ipairs(old.results) do codes[#codes + 1] = p.code end
      assert.same({ "JPN_KK_SIMPLE_OCTOPUS_24", "JPN_KK_OCTOPUS_NOV_24" }, codes)
    end)

    it("rejects a flag that is not true or false, and a bad available_at", function()
      local status, body = get("/v1/products/?is_green=maybe")
      assert.equal(400, status)
      assert.equal('Invalid is_green "maybe": use true or false.', body.detail)
      status, body = get("/v1/products/?available_at=yesterday")
      assert.equal(400, status)
      assert.matches('^Invalid datetime for available_at: "yesterday"', body.detail)
    end)

    it("pages with absolute next and previous URLs carrying the whole query", function()
      local _, p1 = get("/v1/products/?is_business=false&page_size=1")
      assert.equal(srv.http .. "/v1/products/?is_business=false&page_size=1&page=2", p1.next)
      local _, p2 = get("/v1/products/?is_business=false&page_size=1&page=2")
      assert.equal(srv.http .. "/v1/products/?is_business=false&page_size=1", p2.previous)
      assert.equal(cjson.null, p2.next)
      assert.are_not.equal(p1.results[1].code, p2.results[1].code)
    end)

    it("answers 404 Invalid page. for a page out of range or not a number", function()
      for _, page in ipairs{ "3", "0", "x" } do
        local status, body = get("/v1/products/?page_size=1&page=" .. page)
        assert.equal(404, status)
        assert.equal("Invalid page.", body.detail)
      end
    end)

    it("details a product with Japanese regional tariffs inc and exc tax", function()
      local status, p = get("/v1/products/JPN_KK_OCTOPUS_MAY_26/")
      assert.equal(200, status)
      local t = p.single_register_electricity_tariffs._03.direct_debit_monthly
      assert.equal("E-1R-JPN_KK_OCTOPUS_MAY_26-03", t.code)
      assert.equal(30.75, t.standing_charge_inc_vat) -- a 30 A day: 311.75 a month per 10 A x 36 / 365
      assert.equal(27.9545, t.standing_charge_exc_vat)
      assert.equal(29.8, t.standard_unit_rate_inc_vat)
      assert.equal(3, #t.unit_rate_steps)
      assert.equal(120, t.unit_rate_steps[2].step_start)
      local n = 0
      for _ in pairs(p.single_register_electricity_tariffs) do n = n + 1 end
      assert.equal(10, n)
    end)

    it("has no tariffs active before a product went on sale", function()
      local _, p = get("/v1/products/JPN_KK_OCTOPUS_MAY_26/?tariffs_active_at=2026-01-01")
      assert.equal("2026-01-01T00:00:00+09:00", p.tariffs_active_at)
      assert.is_nil(next(p.single_register_electricity_tariffs))
    end)

    it("answers 404 Not found. for an unknown product", function()
      local status, body = get("/v1/products/NOPE/")
      assert.equal(404, status)
      assert.equal("Not found.", body.detail)
    end)
  end)

  describe("tariff charges", function()
    local base = "/v1/products/JPN_KK_OCTOPUS_MAY_26/electricity-tariffs/E-1R-JPN_KK_OCTOPUS_MAY_26-03/"

    it("gives one unit rate per step with band, step_start and step_end", function()
      local status, page = get(base .. "standard-unit-rates/")
      assert.equal(200, status)
      assert.equal(3, page.count)
      local r = page.results[3]
      assert.equal("CONSUMPTION_STEPPED_03_03", r.band)
      assert.equal(300, r.step_start)
      assert.equal(cjson.null, r.step_end)
      assert.equal(40.49, r.value_inc_vat)
      assert.equal(36.8091, r.value_exc_vat)
      assert.equal("2026-05-01T00:00:00+09:00", r.valid_from)
      assert.equal(cjson.null, r.valid_to)
    end)

    it("gives the standing charge, filtered by period_from (inclusive) and period_to (exclusive)", function()
      local _, page = get(base .. "standing-charges/?period_from=2026-06-01")
      assert.equal(1, page.count)
      assert.equal(30.75, page.results[1].value_inc_vat)
      local _, before = get(base .. "standing-charges/?period_to=2026-05-01T00:00:00%2B09:00")
      assert.equal(0, before.count)
      local _, edge = get(base .. "standing-charges/?period_to=2026-05-01T00:00:01%2B09:00")
      assert.equal(1, edge.count)
    end)

    it("gives a single-step product one unit rate without step fields", function()
      local _, page = get("/v1/products/JPN_KK_SIMPLE_OCTOPUS_24/electricity-tariffs/"
        .. "E-1R-JPN_KK_SIMPLE_OCTOPUS_24-06/standard-unit-rates/")
      assert.equal(1, page.count)
      assert.is_nil(page.results[1].band)
    end)

    it("answers 404 for day/night rates, gas tariffs and a tariff of another product", function()
      for _, path in ipairs{ base .. "day-unit-rates/", base .. "night-unit-rates/",
          "/v1/products/JPN_KK_OCTOPUS_MAY_26/gas-tariffs/G-1R-JPN_KK_OCTOPUS_MAY_26-03/standing-charges/",
          "/v1/products/JPN_KK_SIMPLE_OCTOPUS_24/electricity-tariffs/E-1R-JPN_KK_OCTOPUS_MAY_26-03/standing-charges/" } do
        local status, body = get(path)
        assert.equal(404, status)
        assert.equal("Not found.", body.detail)
      end
    end)

    it("rejects an invalid period with 400", function()
      local status, body = get(base .. "standing-charges/?period_from=2026-13-01")
      assert.equal(400, status)
      assert.matches('^Invalid datetime for period_from: "2026%-13%-01"', body.detail)
    end)
  end)

  describe("authentication", function()
    local path

    before_each(function() path = "/v1/electricity-meter-points/" .. spin .. "/" end)

    it("asks for credentials with 401 and WWW-Authenticate", function()
      local status, body, h = get(path)
      assert.equal(401, status)
      assert.equal("Authentication credentials were not provided.", body.detail)
      assert.equal('Basic realm="api"', h["www-authenticate"])
    end)

    it("refuses an unknown API key without echoing it", function()
      local status, body, h = get(path, "sk_test_wrong")
      assert.equal(401, status)
      assert.equal("Invalid API key.", body.detail)
      assert.equal('Basic realm="api"', h["www-authenticate"])
      status, body = get(path, nil, { Authorization = "Bearer abc" })
      assert.equal(401, status)
      assert.equal("Invalid API key.", body.detail)
    end)

    it("hides another user's meter point and account as 404 Not found.", function()
      local status, body = get(path, other_key)
      assert.equal(404, status)
      assert.equal("Not found.", body.detail)
      status, body = get("/v1/accounts/" .. account .. "/", other_key)
      assert.equal(404, status)
      assert.equal("Not found.", body.detail)
    end)
  end)

  describe("meter points and consumption", function()
    local function cpath(q) return ("/v1/electricity-meter-points/%s/meters/%s/consumption/?%s"):format(spin, serial, q) end

    it("describes a meter point with its grid supply point", function()
      local status, mp = get("/v1/electricity-meter-points/" .. spin .. "/", key)
      assert.equal(200, status)
      assert.same({ gsp = "_03", mpan = spin, profile_class = 1 }, mp)
    end)

    it("returns half hours in [period_from, period_to), newest first, in +09:00", function()
      local status, page = get(cpath("period_from=2026-10-01T00:00:00%2B09:00&period_to=2026-10-01T01:00:00%2B09:00"), key)
      assert.equal(200, status)
      assert.equal(2, page.count)
      assert.equal("2026-10-01T00:30:00+09:00", page.results[1].interval_start)
      assert.equal("2026-10-01T01:00:00+09:00", page.results[1].interval_end)
      assert.equal("2026-10-01T00:00:00+09:00", page.results[2].interval_start)
      assert.equal("number", type(page.results[1].consumption))
    end)

    it("reads a naive datetime as Asia/Tokyo and honours Z offsets", function()
      local _, naive = get(cpath("period_from=2026-10-01T00:00&period_to=2026-10-01T01:00"), key)
      local _, zulu = get(cpath("period_from=2026-09-30T15:00:00Z&period_to=2026-09-30T16:00:00Z"), key)
      assert.same(naive.results, zulu.results)
      assert.equal(2, naive.count)
    end)

    it("orders oldest first with order_by=period", function()
      local _, page = get(cpath("period_from=2026-10-01&period_to=2026-10-02&order_by=period"), key)
      assert.equal(48, page.count)
      assert.equal("2026-10-01T00:00:00+09:00", page.results[1].interval_start)
      assert.equal("2026-10-01T23:30:00+09:00", page.results[48].interval_start)
    end)

    it("pages without losing or repeating a row", function()
      local q = "period_from=2026-10-01&period_to=2026-10-03&page_size=25"
      local rows, pages = all_pages(cpath(q), key)
      assert.equal(4, pages)
      assert.equal(96, #rows)
      local _, whole = get(cpath("period_from=2026-10-01&period_to=2026-10-03&page_size=200"), key)
      assert.same(whole.results, rows)
      local seen = {}
      for _, r in ipairs(rows) do
        assert.is_nil(seen[r.interval_start])
        seen[r.interval_start] = true
      end
    end)

    it("groups by day, week and month on Asia/Tokyo boundaries", function()
      local _, halves = get(cpath("period_from=2026-10-01&period_to=2026-10-03&page_size=200&order_by=period"), key)
      local _, days = get(cpath("period_from=2026-10-01&period_to=2026-10-03&group_by=day&order_by=period"), key)
      assert.equal(2, days.count)
      assert.equal("2026-10-01T00:00:00+09:00", days.results[1].interval_start)
      assert.equal("2026-10-02T00:00:00+09:00", days.results[1].interval_end)
      local sum = 0
      for i = 1, 48 do sum = sum + halves.results[i].consumption end
      assert.is_true(math.abs(sum - days.results[1].consumption) < 0.002)
      assert.is_true(sum > 3 and sum < 40)
      local _, weeks = get(cpath("period_from=2026-10-05&period_to=2026-10-19&group_by=week"), key)
      assert.equal(2, weeks.count)
      assert.equal("2026-10-12T00:00:00+09:00", weeks.results[1].interval_start)   -- a Monday
      local _, months = get(cpath("period_from=2026-01-01&period_to=2026-04-01&group_by=month"), key)
      assert.equal(3, months.count)
      assert.equal("2026-03-01T00:00:00+09:00", months.results[1].interval_start)
      local _, quarters = get(cpath("period_from=2026-01-01&period_to=2026-07-01&group_by=quarter"), key)
      assert.equal(2, quarters.count)
      assert.equal("2026-04-01T00:00:00+09:00", quarters.results[1].interval_start)
      assert.equal("2026-07-01T00:00:00+09:00", quarters.results[1].interval_end)
      local _, hours = get(cpath("period_from=2026-10-01&period_to=2026-10-01T03:00&group_by=hour"), key)
      assert.equal(3, hours.count)
    end)

    it("rejects a bad group_by, order_by or datetime with 400", function()
      local status, body = get(cpath("group_by=year"), key)
      assert.equal(400, status)
      assert.equal('Invalid group_by "year": use hour, day, week, month or quarter.', body.detail)
      status, body = get(cpath("order_by=size"), key)
      assert.equal(400, status)
      assert.equal('Invalid order_by "size": use period or -period.', body.detail)
      status, body = get(cpath("period_to=soon"), key)
      assert.equal(400, status)
      assert.matches('^Invalid datetime for period_to: "soon"', body.detail)
    end)

    it("answers 404 for a wrong serial and for gas consumption", function()
      local status, body = get(("/v1/electricity-meter-points/%s/meters/WRONG/consumption/"):format(spin), key)
      assert.equal(404, status)
      assert.equal("Not found.", body.detail)
      status, body = get("/v1/gas-meter-points/123/meters/X/consumption/", key)
      assert.equal(404, status)
      assert.equal("Not found.", body.detail)
    end)
  end)

  describe("industry", function()
    it("maps a postcode to its grid supply point", function()
      local status, page = get("/v1/industry/grid-supply-points/?postcode=100-0001")
      assert.equal(200, status)
      assert.equal(1, page.count)
      assert.equal("_03", page.results[1].group_id)
      local _, osaka = get("/v1/industry/grid-supply-points/?postcode=5300001")
      assert.equal("_06", osaka.results[1].group_id)
    end)

    it("gives empty results for an unknown postcode and all ten areas without one", function()
      local _, none = get("/v1/industry/grid-supply-points/?postcode=ZZZ")
      assert.equal(0, none.count)
      assert.equal(0, #none.results)
      local _, all = get("/v1/industry/grid-supply-points/")
      assert.equal(10, all.count)
    end)
  end)

  describe("quotes", function()
    it("quotes every product on sale for a postcode", function()
      local status, q = post("/v1/quotes/", { postcode = "100-0001",
        electricity = { annual_consumption_kwh = 3600 } }, key)
      assert.equal(201, status)
      assert.matches("^Q%-%x+$", q.code)
      assert.equal("_03", q.gsp)
      assert.equal(2, #q.products)
      local p = q.products[1]
      assert.equal("JPN_KK_OCTOPUS_MAY_26", p.code)
      assert.equal(math.floor(p.annual_cost_inc_vat), p.annual_cost_inc_vat)
      assert.is_true(p.annual_cost_inc_vat > p.annual_standing_charge_inc_vat)
    end)

    it("accepts monthly_kwh as a list of twelve", function()
      local m = {}
      for i = 1, 12 do m[i] = 250 end
      local status, q = post("/v1/quotes/", { postcode = "530-0001", product_codes = { "JPN_KK_SIMPLE_OCTOPUS_24" },
        electricity = { monthly_kwh = m } }, key)
      assert.equal(201, status)
      assert.equal("_06", q.gsp)
      assert.equal(3000, q.products[1].annual_consumption_kwh)
    end)

    it("answers 400 with errors keyed by field", function()
      local status, body = post("/v1/quotes/", { product_codes = { "X" }, electricity = { monthly_kwh = 10 } }, key)
      assert.equal(400, status)
      assert.same({ "This field is required." }, body.postcode)
      assert.same({ "Unknown product code: X" }, body.product_codes)
      status, body = post("/v1/quotes/", { postcode = "1" }, key)
      assert.equal(400, status)
      assert.same({ "Enter a valid postcode, e.g. 100-0001." }, body.postcode)
      assert.same({ "This field is required." }, body.electricity)
    end)

    it("answers 400 JSON parse error for a body that is not JSON, and 401 without a key", function()
      local status, body = post("/v1/quotes/", "{nope", key)
      assert.equal(400, status)
      assert.matches("^JSON parse error %- ", body.detail)
      status, body = post("/v1/quotes/", { postcode = "100-0001" })
      assert.equal(401, status)
      assert.equal("Authentication credentials were not provided.", body.detail)
    end)
  end)

  describe("accounts", function()
    it("shows the user's account in the UK shape", function()
      local status, a = get("/v1/accounts/" .. account .. "/", key)
      assert.equal(200, status)
      assert.equal(account, a.number)
      local prop = a.properties[1]
      assert.equal("100-0001", prop.postcode)
      local emp = prop.electricity_meter_points[1]
      assert.equal(22, #emp.mpan)
      assert.equal("03", emp.mpan:sub(1, 2))
      assert.equal("E-1R-JPN_KK_OCTOPUS_NOV_24-03", emp.agreements[1].tariff_code)
      assert.equal("2026-05-01T00:00:00+09:00", emp.agreements[1].valid_to)
      assert.equal(cjson.null, emp.agreements[2].valid_to)
    end)

    it("creates an account that can then be read and used", function()
      local status, created = post("/v1/accounts/", { billing_name = "Test Hanako",
        postcode = "810-0001", product_code = "JPN_KK_SIMPLE_OCTOPUS_24" }, key)
      assert.equal(201, status)
      assert.matches("^A%-%x%x%x%x%x%x%x%x$", created.number)
      local s2, a = get("/v1/accounts/" .. created.number .. "/", key)
      assert.equal(200, s2)
      local emp = a.properties[1].electricity_meter_points[1]
      assert.equal("E-1R-JPN_KK_SIMPLE_OCTOPUS_24-09", emp.agreements[1].tariff_code)
      local s3, mp = get("/v1/electricity-meter-points/" .. emp.mpan .. "/", key)
      assert.equal(200, s3)
      assert.equal("_09", mp.gsp)
      local s4 = get("/v1/accounts/" .. created.number .. "/", other_key)
      assert.equal(404, s4)
    end)

    it("answers 400 detail for bad account input", function()
      local status, body = post("/v1/accounts/", { postcode = "100-0001" }, key)
      assert.equal(400, status)
      assert.equal("billing_name is required.", body.detail)
      status, body = post("/v1/accounts/", { billing_name = "X", postcode = "nowhere" }, key)
      assert.equal(400, status)
      assert.equal("postcode is required and must look like 100-0001.", body.detail)
      status, body = post("/v1/accounts/", { billing_name = "X", postcode = "100-0001",
        product_code = "JPN_KK_OCTOPUS_NOV_24" }, key)
      assert.equal(400, status)
      assert.equal("Unknown or unavailable product_code: JPN_KK_OCTOPUS_NOV_24.", body.detail)
    end)
  end)

  describe("routing", function()
    it("answers 404 Not found. for a path without the trailing slash or unknown", function()
      for _, p in ipairs{ "/v1/products", "/v1/nothing/", "/" } do
        local status, body = get(p)
        assert.equal(404, status)
        assert.equal("Not found.", body.detail)
      end
    end)

    it("answers 405 for a method the route does not take", function()
      local status, body, h = post("/v1/products/", {})
      assert.equal(405, status)
      assert.equal('Method "POST" not allowed.', body.detail)
      assert.equal("GET", h.allow)
    end)
  end)

  describe("the control clock", function()
    after_each(function() assert.equal(200, (post("/_sandbox/reset", {}))) end)

    it("holds at a Unix time given as at, moves on from there with advance, and rejects bad input", function()
      local status, body = post("/_sandbox/clock", { at = 1767225600 })
      assert.equal(200, status)
      assert.equal(1767225600, body.now)
      local _, again = post("/_sandbox/clock", { advance = 0 })
      assert.equal(1767225600, again.now)                     -- held: real time does not move it
      local _, later = post("/_sandbox/clock", { advance = 90 })
      assert.equal(1767225690, later.now)
      for _, bad in ipairs{ { at = -1 }, { at = "soon" }, { advance = -5 } } do
        status, body = post("/_sandbox/clock", bad)
        assert.equal(400, status)
        assert.matches("^[a-z]+ must be ", body.detail)
      end
      post("/_sandbox/reset", {})
      local _, after = post("/_sandbox/clock", { advance = 0 })
      assert.is_true(math.abs(after.now - os.time()) <= 2, "reset lets the clock follow real time")
    end)
  end)
end)
