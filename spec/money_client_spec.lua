-- spec/money_client_spec.lua: client:bill, :projected_bill, :compare and :bills against the
-- sandbox over TLS. The sandbox bills its own statements (octopus.sandbox.billing: its own
-- integer code, not octopus.money); client:bill must agree with every closed statement of
-- every demo account to the yen. Bad input: each case gets a clear error.
local helper = require "helper"
local octopus = require "octopus"
local period = require "octopus.money.period"

local function client_for(srv, key)
  return octopus.new { api_key = key, rest_url = srv.https .. "/v1/", graphql_url = srv.https .. "/v1/graphql/",
    ca_file = srv.ca_file }
end

describe("client money methods against the sandbox (TLS)", function()
  local srv, ds, c, acct
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    ds = require("octopus.sandbox.data").new { seed = 1 }
    assert.equal(ds.users[1].api_key, srv.credentials.api_key) -- same dataset as the server's
    c = client_for(srv, srv.credentials.api_key)
    acct = srv.credentials.accounts[1]
  end)
  lazy_teardown(function() srv:stop() end)

  it("agrees with the sandbox's statements to the yen for every closed period of every demo account", function()
    local checked, accounts = 0, 0
    for _, u in ipairs(ds.users) do
      local uc = client_for(srv, u.api_key)
      for _, number in ipairs(u.accounts) do
        local statements = assert(uc:bills(number))
        assert.is_true(#statements >= 10, number .. " has " .. #statements .. " statements")
        accounts = accounts + 1
        for _, s in ipairs(statements) do
          assert.equal("CLOSED", s.status)
          local res = assert(uc:bill(number, { period = { from = s.consumption_from, to = s.consumption_to } }))
          assert.equal(s.total_charges.gross, res.total, number .. " " .. s.consumption_start_date)
          assert.equal(0, res.missing)
          assert.is_true(res.period.complete)
          assert.equal(s.total_charges.tax, res.periods[1].consumption_tax)
          checked = checked + 1
        end
      end
    end
    assert.equal(5, accounts)
    assert.is_true(checked >= 55, checked .. " statements checked")
  end)

  it("bills the current period so far with the supply point's reading day and capacity", function()
    local u = ds.users[3]                       -- Hokkaido, read on the 22nd, 30 A
    local uc = client_for(srv, u.api_key)
    local res = assert(uc:bill(u.accounts[1]))
    assert.equal(22, res.supply.reading_day)
    assert.equal(30, res.supply.capacity.value)
    local from, to = period.bounds(os.time(), 22, "Asia/Tokyo")
    assert.equal(from, res.period.from); assert.equal(to, res.period.to)
    assert.equal(from, res.from); assert.is_true(res.to <= os.time() + 1 and res.to > os.time() - 60) -- so far
    assert.is_false(res.period.complete)
    assert.is_true(res.total > 0)
    local p = assert(uc:projected_bill(u.accounts[1]))
    assert.equal(res.total, p.so_far.total)     -- the bill so far is the projection's start
    local kinds = {}
    for _, l in ipairs(res.lines) do kinds[l.kind] = true end
    assert.is_true(kinds.standing and kinds.energy and kinds.fuel_cost_adjustment and kinds.levy)
  end)

  it("prices the previous period on another product (what-if) from tariffSummary", function()
    local own = assert(c:bill(acct, { period = "previous" }))
    local other = assert(c:bill(acct, { period = "previous", product = "JPN_KK_SIMPLE_OCTOPUS_24" }))
    assert.equal("JPN_KK_SIMPLE_OCTOPUS_24", other.product)
    assert.equal(own.kwh, other.kwh)
    assert.are_not.equal(own.total, other.total)
    local per_a
    for _, l in ipairs(other.lines) do if l.kind == "standing" then per_a = l end end
    assert.equal(30, per_a.capacity)          -- AMPERE_DAYS x the contracted 30 A
  end)

  it("projects the current period: so far + the recent daily average over the days left", function()
    local p = assert(c:projected_bill(acct))
    assert.is_true(p.total >= p.so_far.total)
    assert.equal("recent daily average", p.method.name)
    assert.is_true(p.method.remaining_days >= 0)
    assert.equal(p.period.from, p.projected.from)
  end)

  it("compares every product of the area on 12 months of the user's own half hours, sorted", function()
    local cmp = assert(c:compare(acct))
    assert.equal(12, cmp.months)
    assert.is_true(#cmp.entries >= 3)
    local codes = {}
    for i, e in ipairs(cmp.entries) do
      assert.is_nil(e.err, e.code)
      codes[e.code] = true
      if i > 1 then assert.is_true(cmp.entries[i - 1].total <= e.total) end
      assert.equal(e.total - cmp.current.total, e.difference)
    end
    assert.is_true(cmp.current.current)
    assert.equal("JPN_KK_OCTOPUS_MAY_26", cmp.current.code)
    assert.is_true(codes.JPN_KK_SIMPLE_OCTOPUS_24 and codes.JPN_KK_OCTOPUS_NOV_24 and true)
    assert.equal(0, cmp.current.difference)
  end)

  it("compares the products asked for, an unknown one listed last with UNKNOWN_PRODUCT", function()
    local cmp = assert(c:compare(acct, { products = { "JPN_KK_OCTOPUS_NOV_24", "JPN_KK_NO_SUCH" }, months = 2 }))
    local last = cmp.entries[#cmp.entries]
    assert.equal("JPN_KK_NO_SUCH", last.code); assert.equal("UNKNOWN_PRODUCT", last.err.code)
    assert.is_truthy(cmp.current)               -- today's product is always in
  end)

  it("gives statements' amounts as numbers", function()
    local list = assert(c:bills(acct))
    local s = list[1]
    assert.equal("number", type(s.total_charges.gross)); assert.equal("number", type(s.opening_balance))
    assert.equal(s.total_charges.gross, s.total_charges.net + s.total_charges.tax)
    assert.equal(list[2].closing_balance, s.opening_balance)
    assert.is_true(s.consumption_from < s.consumption_to)
    local with = assert(c:bills(acct, { transactions = true }))
    local t = with[1].transactions
    assert.equal("Charge", t[1].kind); assert.equal(s.total_charges.gross, t[1].amount)
    assert.equal("Payment", t[2].kind); assert.equal(s.opening_balance, t[2].amount)
    assert.is_nil(s.transactions)               -- only when asked
  end)

  it("prices rows from the history store (a real SQLite file) to the same yen as fetched ones", function()
    local store = require "octopus.history.store"
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. dir))
    local s = assert(store.open(dir .. "/readings.sqlite"))
    local from, to = period.bounds(period.bounds(os.time()) - 1)
    local rows = assert(c:readings(acct, { from = from, to = to }):all())
    local spin = rows[1].spin
    assert(s:put_supply_point { spin = spin, account = acct, area = spin:sub(1, 2) })
    assert(s:put_rows(spin, rows))
    local back = {}
    for r in s:rows(spin, { from = from, to = to }) do back[#back + 1] = r end
    s:close()
    os.execute("rm -rf " .. dir)
    assert.equal(#rows, #back)
    local stored = assert(c:bill(acct, { period = "previous", rows = back }))
    local fetched = assert(c:bill(acct, { period = "previous" }))
    assert.equal(fetched.total, stored.total); assert.equal(fetched.kwh_text, stored.kwh_text)
    assert.equal(0, stored.missing)
  end)

  describe("bad input", function()
    it("an unknown product code: nil, UNKNOWN_PRODUCT", function()
      local res, err = c:bill(acct, { period = "previous", product = "JPN_KK_NO_SUCH" })
      assert.is_nil(res); assert.equal("UNKNOWN_PRODUCT", err.code)
    end)

    it("a product with no price for part of the period: NO_PRICE naming the period", function()
      local tariff = require "octopus.money.tariff"
      local bill = require "octopus.money.bill"
      local data = assert(c:graphql("billing", { accountNumber = acct }))
      local sp = data.account.properties[1].electricitySupplyPoints[1]
      local old
      for _, a in ipairs(sp.agreements) do if a.product.code == "JPN_KK_OCTOPUS_NOV_24" then old = a end end
      local t = assert(tariff.from_agreement(old)).tariff   -- its rates end on 2026-05-01
      local rows = assert(c:readings(acct, { from = "2026-04-01", to = "2026-06-01" }):all())
      local res, err = bill.price(rows, t, { from = "2026-04-01", to = "2026-06-01", missing_adjustments = "zero",
        capacity = 30 })
      assert.is_nil(res); assert.equal("NO_PRICE", err.code)
      assert.equal("2026-05-01..2026-05-31", err.period)
    end)

    it("a period in the future raises at the caller", function()
      helper.raises("the period starts in the future", function()
        c:bill(acct, { period = { from = os.time() + 40 * 86400, to = os.time() + 70 * 86400 } })
      end)
    end)

    it("a bad option raises naming it", function()
      helper.raises("opts.period must be", function() c:bill(acct, { period = "next" }) end)
      helper.raises("unknown option 'opts.perod'", function() c:bill(acct, { perod = "previous" }) end)
      helper.raises("opts.months", function() c:compare(acct, { months = 0 }) end)
    end)

    local function prev_rows()
      local from, to = period.bounds(period.bounds(os.time()) - 1)
      return assert(c:readings(acct, { from = from, to = to }):all()), from, to
    end

    it("rows from different supply points, unsorted or duplicated rows raise naming the row", function()
      local rows = prev_rows()
      local mixed = { rows[1], rows[2] }
      mixed[2] = { start_at = rows[2].start_at, end_at = rows[2].end_at, value = rows[2].value, spin = "03" ..
        string.rep("9", 20) }
      helper.raises("price one supply point at a time", function()
        c:bill(acct, { period = "previous", rows = mixed })
      end)
      helper.raises("rows must be sorted", function() c:bill(acct, { period = "previous", rows = { rows[2], rows[1] } }) end)
      helper.raises("duplicates the half hour", function()
        c:bill(acct, { period = "previous", rows = { rows[1], rows[1] } })
      end)
    end)

    it("missing half hours are reported, not priced as zero silently", function()
      local rows = prev_rows()
      local some = {}
      for i = 1, #rows - 48 do some[i] = rows[i] end
      local res = assert(c:bill(acct, { period = "previous", rows = some }))
      assert.equal(48, res.missing)
      local found = false
      for _, a in ipairs(res.assumptions) do if a:find("48 half hours have no reading", 1, true) then found = true end end
      assert.is_true(found)
    end)
  end)
end)
