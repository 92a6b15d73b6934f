-- spec/rest_spec.lua: every REST domain module (products, tariffs, electricity,
-- gas, industry, quotes, accounts) against the TLS sandbox, through the real pipeline.
local helper = require "helper"
local octopus = require "octopus"

describe("REST endpoints", function()
  local srv, client

  local function new_client(extra)
    local opts = { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file,
                   api_key = srv.credentials.api_key, backoff = { base = 0.01, cap = 0.05 } }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return octopus.new(opts)
  end

  -- the first electricity meter point of the demo user's first account
  local function first_meter()
    local acct = assert(client.accounts:get(srv.credentials.accounts[1]))
    local mp = acct.properties[1].electricity_meter_points[1]
    return mp.mpan, mp.meters[1].serial_number, mp
  end

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox" }
    client = new_client()
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  describe("products", function()
    it("lists every product lazily, page after page, none lost or repeated", function()
      local all = assert(client.products:list {}:all())
      assert.is_true(#all > 0)
      assert.equal(getmetatable(octopus.json.array {}), getmetatable(all))
      local seen = {}
      for _, p in ipairs(all) do
        assert.is_nil(seen[p.code], "repeated " .. tostring(p.code))
        seen[p.code] = true
      end
      local n = 0
      for p in client.products:list {} do
        n = n + 1
        assert.is_true(seen[p.code])
      end
      assert.equal(#all, n)
    end)

    it("sends nothing until the first item is asked for, and knows the count after", function()
      srv:admin("POST", "/_sandbox/reset")
      local it = client.products:list { is_green = true }
      assert.equal(0, srv:count("requests", "GET /v1/products/"))
      local first = it:next()
      assert.is_true(first.is_green)
      assert.is_number(it.count)
    end)

    it("filters by booleans sent as true/false", function()
      for p in client.products:list { is_green = true } do assert.is_true(p.is_green) end
      for p in client.products:list { is_business = false } do assert.is_false(p.is_business) end
    end)

    it("accepts available_at as any time input", function()
      local a = assert(client.products:list { available_at = "2026-11-01" }:all())
      local b = assert(client.products:list { available_at = octopus.time.parse("2026-11-01", "Asia/Tokyo") }:all())
      assert.equal(#a, #b)
    end)

    it("raises on an unknown filter or a wrong filter type, naming it", function()
      assert.has_error(function() client.products:list { is_gren = true } end,
        "products:list: unknown filter 'is_gren'")
      assert.has_error(function() client.products:list { is_green = "yes" } end,
        "products:list: filter 'is_green' must be a boolean")
    end)

    it("gets a product's detail and picks a tariff for a region", function()
      local code = client.products:list {}:next().code
      local detail = assert(client.products:get(code, { tariffs_active_at = os.time() }))
      assert.equal(code, detail.code)
      local tariff = assert(client.products.tariff_for(detail, "03"))
      assert.equal(tariff, assert(client.products:tariff_for(detail, "_03", "direct_debit_monthly", "single")))
      assert.is_string(tariff.code)
    end)

    it("reports a missing tariff as NOT_FOUND without a request", function()
      local _, err = client.products.tariff_for({ code = "X" }, "03")
      assert.equal("NOT_FOUND", err.code)
      assert.equal("product X has no single-register tariff for region _03 (direct_debit_monthly)", err.message)
    end)

    it("reports an unknown product as NOT_FOUND", function()
      local data, err = client.products:get("NO_SUCH_PRODUCT")
      assert.is_nil(data)
      assert.equal("NOT_FOUND", err.code)
      assert.equal(404, err.status)
      assert.equal("Not found.", err.message)
      assert.equal("NOT_FOUND: Not found.", tostring(err))
    end)

    it("keeps '../accounts' inside the product path", function()
      srv:admin("POST", "/_sandbox/reset")
      local _, err = client.products:get("../accounts")
      assert.equal("NOT_FOUND", err.code)
      assert.equal(0, srv:count("requests", "GET /v1/accounts/"))
    end)
  end)

  describe("tariffs", function()
    local product, tariff
    lazy_setup(function()
      product = client.products:list {}:next().code
      tariff = assert(client.products.tariff_for(assert(client.products:get(product)), "03")).code
    end)

    it("lists standard unit rates and standing charges", function()
      local rates = assert(client.tariffs:standard_unit_rates(product, tariff):all())
      assert.is_true(#rates > 0)
      assert.is_number(rates[1].value_inc_vat)
      local charges = assert(client.tariffs:standing_charges(product, tariff):all())
      assert.is_true(#charges > 0)
      assert.is_number(charges[1].value_exc_vat)
    end)

    it("sends a period with offsets and the 1500 page size", function()
      local it = client.tariffs:unit_rates(product, tariff, { from = "2026-11-01", to = "2026-12-01" })
      local rates = assert(it:all())
      assert.is_true(#rates > 0)
      for _, r in ipairs(rates) do
        if r.valid_to ~= octopus.null then
          assert.is_true(octopus.time.parse(r.valid_to) > octopus.time.parse("2026-11-01T00:00:00+09:00"))
        end
      end
    end)

    it("puts the period on the wire as ISO with the zone offset, with the 1500 page size", function()
      local log = {}
      local c = new_client { log = function(e) log[#log + 1] = e end }
      assert(c.tariffs:standing_charges(product, tariff, { from = "2026-11-01", to = "2026-12-01" }):all())
      assert.matches("period_from=2026%-11%-01T00%%3A00%%3A00%%2B09%%3A00", log[1].url)
      assert.matches("period_to=2026%-12%-01T00%%3A00%%3A00%%2B09%%3A00", log[1].url)
      assert.matches("page_size=1500", log[1].url)
      assert(c.products:list { is_green = true, is_business = false }:all())
      assert.matches("is_business=false&is_green=true", log[#log].url)
    end)

    it("raises on unknown options", function()
      assert.has_error(function() client.tariffs:standing_charges(product, tariff, { form = 1 }) end,
        "tariffs:standing_charges: unknown option 'form'")
      assert.has_error(function() client.tariffs:standard_unit_rates(nil, tariff) end,
        "tariffs:standard_unit_rates: product code must be a non-empty string")
    end)

    it("reports tariffs of an unknown product as NOT_FOUND when iterated", function()
      local _, err = client.tariffs:gas_standing_charges("NO_SUCH", "G-1R-NO_SUCH-03"):all()
      assert.equal("NOT_FOUND", err.code)
    end)
  end)

  describe("electricity and gas", function()
    it("gets a meter point", function()
      local mpan = first_meter()
      local mp = assert(client.electricity:meter_point(mpan))
      assert.equal(mpan, mp.mpan)
      assert.is_string(mp.gsp)
    end)

    it("walks consumption across pages with no row lost or repeated", function()
      local mpan, serial = first_meter()
      local it = client.electricity:consumption(mpan, serial,
        { from = "2026-10-01", to = "2026-10-03", page_size = 7, order_by = "period" })
      local rows = assert(it:all())
      assert.equal(96, #rows)
      assert.equal(96, it.count)
      assert.equal(14, it.pages_fetched)
      local seen, prev = {}, nil
      for _, r in ipairs(rows) do
        assert.is_nil(seen[r.interval_start])
        seen[r.interval_start] = true
        local t = octopus.time.parse(r.interval_start)
        if prev then assert.equal(prev + 1800, t) end
        prev = t
      end
      assert.equal(octopus.time.parse("2026-10-01T00:00:00+09:00"), octopus.time.parse(rows[1].interval_start))
    end)

    it("groups consumption by day", function()
      local mpan, serial = first_meter()
      local days = assert(client.electricity:consumption(mpan, serial,
        { from = "2026-10-01", to = "2026-10-08", group_by = "day" }):all())
      assert.equal(7, #days)
      assert.is_number(days[1].consumption)
    end)

    it("raises on a group_by it does not know", function()
      assert.has_error(function() client.electricity:consumption("1", "2", { group_by = "year" }) end,
        "electricity:consumption: option 'group_by' must be one of day, hour, month, quarter, week")
    end)

    it("needs the API key for meter points", function()
      local anon = octopus.new { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file }
      local mpan = first_meter()
      local _, err = anon.electricity:meter_point(mpan)
      assert.equal("AUTH", err.code)
      assert.equal(401, err.status)
      assert.equal("Authentication credentials were not provided.", err.message)
    end)

    it("lets gas consumption report its outcome as an iterator", function()
      local rows, err = client.gas:consumption("0000000000", "G1", { from = "2026-10-01", to = "2026-10-02" }):all()
      if rows then assert.equal(0, #rows) else assert.equal("NOT_FOUND", err.code) end
    end)
  end)

  describe("industry", function()
    it("finds the grid supply point of a postcode", function()
      local gsps = assert(client.industry:grid_supply_points { postcode = "100-0001" }:all())
      assert.equal(1, #gsps)
      assert.matches("^_%w+$", gsps[1].group_id)
    end)

    it("raises on an unknown option", function()
      assert.has_error(function() client.industry:grid_supply_points { zip = "1" } end,
        "industry:grid_supply_points: unknown option 'zip'")
    end)
  end)

  describe("quotes", function()
    it("creates a quote", function()
      local q = client.quotes:create { postcode = "100-0001", electricity = { annual_consumption_kwh = 3600 } }
      assert.equal(1, srv:count("requests", "POST /v1/quotes/"))
      assert.is_string(q.code)
      assert.is_table(q.products)
    end)

    it("reports field errors as VALIDATION with the fields", function()
      local q, err = client.quotes:create { electricity = { annual_consumption_kwh = 3600 } }
      assert.is_nil(q)
      assert.equal("VALIDATION", err.code)
      assert.equal(400, err.status)
      assert.same({ "This field is required." }, err.fields.postcode)
      assert.equal("postcode: This field is required.", err.message)
      assert.equal(1, err.attempts)
    end)

    it("names every bad field in the message", function()
      local _, err = client.quotes:create { postcode = "100-0001", product_codes = { "NOPE" },
                                            electricity = { annual_consumption_kwh = 3600 } }
      assert.equal("VALIDATION", err.code)
      assert.matches("^product_codes: ", err.message)
    end)
  end)

  describe("accounts", function()
    it("creates an account and gets it back", function()
      local product = client.products:list {}:next().code
      local created = assert(client.accounts:create { billing_name = "Spec Taro", postcode = "100-0001",
                                                       product_code = product })
      assert.matches("^A%-%x%x%x%x%x%x%x%x$", created.number)
      local acct = assert(client.accounts:get(created.number))
      assert.equal(created.number, acct.number)
    end)

    it("gets the demo account with its meter points", function()
      local acct = assert(client.accounts:get(srv.credentials.accounts[1]))
      assert.is_table(acct.properties[1].electricity_meter_points)
    end)

    it("reports an unknown account as NOT_FOUND", function()
      local _, err = client.accounts:get("A-00000000")
      assert.equal("NOT_FOUND", err.code)
    end)
  end)
end)
