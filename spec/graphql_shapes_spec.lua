-- spec/graphql_shapes_spec.lua: GraphQL answers that parse as JSON but do not have the
-- shape asked for (injected by the sandbox's fault surface as 200 replies) end in
-- errors with a stable code and a message that says what was missing; so does asking
-- to log in with no credential at all.
local helper = require "helper"
local octopus = require "octopus"
local cjson = require "cjson"

describe("GraphQL answers of the wrong shape", function()
  local srv, creds, c, account

  local function client_for(opts)
    local o = { rest_url = srv.http .. "/v1/", graphql_url = srv.http .. "/v1/graphql/", retries = 0 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return octopus.new(o)
  end

  -- the next request for `operation` gets a 200 whose body is `result` (a table or raw text)
  local function reply_with(operation, result)
    local body = type(result) == "string" and result or cjson.encode(result)
    srv:fault({
      match = { operation = operation }, times = 1, action = { status = 200, body = body } })
  end

  local function assert_decode(err, message)
    assert.are.equal("DECODE", err.code)
    assert.are.equal("decode", err.kind)
    assert.matches(message, err.message, 1, true)
  end

  -- a readings reply for the account with the given supply points
  local function readings_reply(points)
    return { data = { account = { properties = { { electricitySupplyPoints = points } } } } }
  end

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false }
    creds = srv.credentials
    account = creds.accounts[1]
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function()
    srv:admin("POST", "/_sandbox/reset")
    c = client_for { api_key = creds.api_key }
  end)

  it("a token mutation that returns no token", function()
    reply_with("ObtainKrakenToken", { data = { obtainKrakenToken = { token = "" } } })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert_decode(err, "obtainKrakenToken returned no token")
  end)

  it("a body that is JSON but not an object with data or errors", function()
    assert(c:login())
    reply_with("Viewer", "42")
    local v, err = c:viewer()
    assert.is_nil(v)
    assert_decode(err, "the GraphQL response is not a JSON object with data or errors")
  end)

  it("readings without the account", function()
    reply_with("HalfHourlyReadings", { data = { account = cjson.null } })
    local rows, err = c:readings(account, { from = "2026-10-01", to = "2026-10-02" }):all()
    assert.is_nil(rows)
    assert_decode(err, "no account in the readings response")
  end)

  it("a supply point without readings", function()
    reply_with("HalfHourlyReadings", readings_reply { { spin = "0300000000000000000001" } })
    local rows, err = c:readings(account, { from = "2026-10-01", to = "2026-10-02" }):all()
    assert.is_nil(rows)
    assert_decode(err, "no halfHourlyReadings for supply point 0300000000000000000001")
  end)

  it("a reading whose value is not a number", function()
    reply_with("HalfHourlyReadings", readings_reply { { spin = "0300000000000000000001",
      halfHourlyReadings = { { startAt = "2026-09-30T15:00:00+00:00", endAt = "2026-09-30T15:30:00+00:00",
                               value = "lots", costEstimate = "1.00", version = "DAILY" } } } })
    local rows, err = c:readings(account, { from = "2026-10-01", to = "2026-10-02" }):all()
    assert.is_nil(rows)
    assert_decode(err, "malformed reading 1: reading has no numeric value (lots)")
  end)

  it("an account without an electricity supply point", function()
    reply_with("HalfHourlyReadings", readings_reply {})
    local rows, err = c:readings(account, { from = "2026-10-01", to = "2026-10-02" }):all()
    assert.is_nil(rows)
    assert.are.equal("NOT_FOUND", err.code)
    assert.are.equal("account " .. account .. " has no electricity supply point", err.message)
  end)

  describe("a Relay connection", function()
    local function bills() return c:connection("bills", { accountNumber = account }, "account.bills"):all() end

    it("that is missing", function()
      reply_with("Bills", { data = { account = { bills = cjson.null } } })
      local v, err = bills()
      assert.is_nil(v)
      assert_decode(err, "no connection at 'account.bills' in the response")
    end)

    it("that has no edges", function()
      reply_with("Bills", { data = { account = { bills = { pageInfo = { hasNextPage = false } } } } })
      local v, err = bills()
      assert.is_nil(v)
      assert_decode(err, "'account.bills' is not a Relay connection (edges, pageInfo)")
    end)

    it("that says it has a next page but gives no cursor, ending the walk instead of looping", function()
      reply_with("Bills", { data = { account = { bills = {
        pageInfo = { hasNextPage = true, endCursor = cjson.null }, edges = { { node = { id = "1" } } } } } } })
      local v, err = bills()
      assert.is_nil(v)
      assert_decode(err, "the connection says it has a next page but gives no new endCursor")
    end)
  end)

  it("a login asked for with no credential at all", function()
    local bare = client_for {}
    local ok, err = bare:login()
    assert.is_nil(ok)
    assert.are.equal("AUTH", err.code)
    assert.matches("no GraphQL credential: give api_key, email and password", err.message, 1, true)
  end)
end)
