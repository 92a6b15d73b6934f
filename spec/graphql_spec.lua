-- spec/graphql_spec.lua: client:graphql and the shipped operations against the sandbox:
-- data, partial data with errors, error classification (errorCode, then type, then HTTP
-- status), retries (queries yes, mutations no), Relay connections, the rate limit.
local helper = require "helper"
local octopus = require "octopus"
local graphql = require "octopus.graphql"
local cjson = require "cjson"

local function client_for(srv, opts)
  local o = { rest_url = srv.http .. "/v1/", graphql_url = srv.http .. "/v1/graphql/",
              backoff = { base = 0.01, cap = 0.01 } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return octopus.new(o)
end

-- a 200 reply whose body is the given GraphQL result
local function reply_with(srv, operation, result)
  srv:fault({ match = { operation = operation }, times = 1,
               action = { status = 200, body = cjson.encode(result) } })
end

-- an account of another user of the sandbox's dataset (same seed)
local function foreign_account()
  local ds = require("octopus.sandbox.data").new { seed = 1 }
  return ds.users[2].accounts[1]
end

describe("client:graphql", function()
  local srv, creds, c
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false }
    creds = srv.credentials
    c = client_for(srv, { api_key = creds.api_key })
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  it("returns data for a document with variables", function()
    local data = assert(c:graphql("query One($n: [String]) { viewer { accounts(restrictToAccountNumbers: $n) { number } } }",
      { n = { creds.accounts[1] } }))
    assert.equal(creds.accounts[1], data.viewer.accounts[1].number)
    assert.equal(1, #data.viewer.accounts)
    assert.equal(1, srv:count("operations", "One"))
  end)

  it("runs a shipped operation by name", function()
    local data = assert(c:graphql("viewer"))
    assert.equal(creds.email, data.viewer.email)
    assert.equal(1, srv:count("operations", "Viewer"))
  end)

  it("keeps partial data and every error", function()
    local other = foreign_account()
    local data, err = c:graphql(
      "query Mixed($a: String!, $b: String!) { viewer { email } a: account(accountNumber: $a) { number }" ..
      " b: account(accountNumber: $b) { number } }", { a = other, b = "A-00000000" })
    assert.is_nil(data)
    assert.equal("FORBIDDEN", err.code)
    assert.equal("auth", err.kind)
    assert.equal("KT-CT-4177", err.graphql_code)
    assert.equal(2, #err.errors)
    assert.equal("KT-CT-4177", err.errors[2].extensions.errorCode)
    assert.equal(creds.email, err.data.viewer.email)
    assert.equal("Unauthorized.: The account does not exist or you do not have access to it." ..
      " (KT-CT-4177) (and 1 more error)", err.message)
  end)

  it("answers FORBIDDEN for another user's account (KT-CT-4177)", function()
    local a, err = c:account(foreign_account())
    assert.is_nil(a)
    assert.equal("FORBIDDEN", err.code)
    assert.equal("KT-CT-4177", err.graphql_code)
    assert.equal("FORBIDDEN: Unauthorized.: The account does not exist or you do not have access to it." ..
      " (KT-CT-4177)", tostring(err))
    assert.is_false(err.retryable)
  end)

  it("answers RATE_LIMITED with the hint from the extensions for KT-CT-1199", function()
    reply_with(srv, "Viewer", { data = cjson.null, errors = { { message = "Too many requests.",
      extensions = { errorType = "SERVICE_AVAILABILITY", errorCode = "KT-CT-1199", retryAfter = 120 } } } })
    local v, err = c:viewer()
    assert.is_nil(v)
    assert.equal("RATE_LIMITED", err.code)
    assert.equal("rate_limit", err.kind)
    assert.equal(120, err.retry_after)
    assert.is_true(err.retryable)
    assert.equal("Too many requests. (KT-CT-1199); retry after 120 s", err.message)
  end)

  it("gives a default retry hint of 60 s when KT-CT-1199 says nothing", function()
    reply_with(srv, "Viewer", { errors = { { message = "Too many requests.",
      extensions = { errorCode = "KT-CT-1199" } } } })
    local _, err = c:viewer()
    assert.equal("RATE_LIMITED", err.code)
    assert.equal(60, err.retry_after)
  end)

  it("classifies by errorCode, then by errorType", function()
    local cases = {
      { { errorCode = "KT-CT-1188", errorType = "VALIDATION" }, "QUERY_TOO_COMPLEX", "graphql" },
      { { errorCode = "KT-CT-1189" }, "QUERY_TOO_COMPLEX", "graphql" },
      { { errorCode = "KT-CT-1113" }, "UNSUPPORTED", "usage" },
      { { errorCode = "KT-CT-1111", errorType = "VALIDATION" }, "FORBIDDEN", "auth" },
      { { errorCode = "KT-CT-1201" }, "KT-CT-1201", "graphql" },
      { { errorCode = "KT-XX-9999", errorType = "AUTHORIZATION" }, "KT-XX-9999", "graphql" },
      { { errorType = "AUTHORIZATION" }, "FORBIDDEN", "auth" },
      { { errorType = "VALIDATION" }, "GRAPHQL_VALIDATION", "graphql" },
      { { errorType = "NOT_FOUND" }, "NOT_FOUND", "graphql" },
      { { errorType = "SERVICE_AVAILABILITY" }, "UNAVAILABLE", "graphql" },
      { { errorType = "APPLICATION" }, "GRAPHQL", "graphql" },
    }
    for _, case in ipairs(cases) do
      reply_with(srv, "Viewer", { data = cjson.null, errors = { { message = "Boom.", extensions = case[1] } } })
      local _, err = c:viewer()
      assert.equal(case[2], err.code)
      assert.equal(case[3], err.kind)
      assert.equal(case[1].errorCode, err.graphql_code)
      assert.equal("Boom." .. (case[1].errorCode and (" (" .. case[1].errorCode .. ")") or ""), err.message)
    end
  end)

  it("reads a 400 with a GraphQL error body as a GraphQL error", function()
    local data, err = c:graphql("query Broken { viewer { ")
    assert.is_nil(data)
    assert.equal("GRAPHQL_VALIDATION", err.code)
    assert.equal(400, err.status)
    assert.equal(1, #err.errors)
    assert.matches("^Syntax Error", err.message)
  end)

  it("keeps an HTML or empty 400 body a transport error", function()
    srv:fault({ match = { operation = "Viewer" }, times = 1,
                 action = { status = 400, body = "<html><body>Bad Request</body></html>" } })
    local _, err = c:viewer()
    assert.equal("BAD_REQUEST", err.code)
    assert.equal("http", err.kind)
    assert.is_nil(err.errors)
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { status = 400, body = "" } })
    local _, err2 = c:viewer()
    assert.equal("BAD_REQUEST", err2.code)
    assert.equal("bad request (HTTP 400)", err2.message)
  end)

  it("answers DECODE for a 200 body without data", function()
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { status = 200, body = "{}" } })
    local _, err = c:viewer()
    assert.equal("DECODE", err.code)
    assert.equal("the GraphQL response has no data", err.message)
  end)

  it("answers QUERY_TOO_COMPLEX for a query past the depth limit (KT-CT-1188)", function()
    -- account.users.accounts... nests without end; the sandbox's limit is 12 levels
    local function nested(levels)
      local inner = "number"
      for _ = 1, levels do inner = "users { accounts { ... on Account { " .. inner .. " } } }" end
      return "query Nested($n: String!) { account(accountNumber: $n) { " .. inner .. " } }"
    end
    assert(c:graphql(nested(5), { n = creds.accounts[1] }))          -- 12 levels
    local data, err = c:graphql(nested(6), { n = creds.accounts[1] }) -- 14 levels
    assert.is_nil(data)
    assert.equal("QUERY_TOO_COMPLEX", err.code)
    assert.equal("KT-CT-1188", err.graphql_code)
    assert.equal("graphql", err.kind)
  end)

  it("retries a query after a 503, but not a mutation", function()
    srv:fault({ match = { operation = "Viewer" }, times = 1, action = { status = 503 } })
    assert(c:viewer())
    assert.equal(1, srv:count("operations", "Viewer"))       -- the faulted attempt is not counted
    assert.equal(2, srv:count("requests", "POST /v1/graphql/"))
    srv:fault({ match = { operation = "Nothing" }, times = 1, action = { status = 503 } })
    local _, err = c:graphql("mutation Nothing { obtainKrakenToken(input: {APIKey: \"x\"}) { token } }")
    assert.equal("HTTP_503", err.code)
    assert.equal(1, err.attempts)
  end)

  it("does not retry a mutation that comes after a fragment in its document", function()
    srv:fault({ match = { operation = "Late" }, times = 1, action = { status = 503 } })
    local _, err = c:graphql("fragment T on ObtainKrakenToken { token }\n" ..
      "mutation Late { obtainKrakenToken(input: {APIKey: \"x\"}) { ...T } }")
    assert.equal("HTTP_503", err.code)
    assert.equal(1, err.attempts)
    assert.equal(1, srv:count("requests", "POST /v1/graphql/"))
  end)

  it("keeps the password and the API key out of err.errors", function()
    local pc = client_for(srv, { email = creds.email, password = creds.password, api_key = creds.api_key })
    local echoed = "bad login " .. creds.password .. " with key " .. creds.api_key
    reply_with(srv, "Viewer", { data = cjson.null, errors = { { message = echoed, path = { "viewer" },
      extensions = { errorCode = "KT-CT-1111", errorDescription = "again " .. creds.password } } } })
    local v, err = pc:viewer()
    assert.is_nil(v)
    assert.equal("FORBIDDEN", err.code)
    assert.equal("bad login [REDACTED] with key [REDACTED]: again [REDACTED] (KT-CT-1111)", err.message)
    assert.equal("bad login [REDACTED] with key [REDACTED]", err.errors[1].message)
    assert.equal("again [REDACTED]", err.errors[1].extensions.errorDescription)
    assert.equal("KT-CT-1111", err.errors[1].extensions.errorCode)
    assert.same({ "viewer" }, err.errors[1].path)
    for _, secret in ipairs { creds.password, creds.api_key } do
      assert.is_nil(cjson.encode(err.errors):find(secret, 1, true))
    end
  end)

  it("scrubs a copy of the errors, leaving the decoded response as it was", function()
    local errs = { { message = "key " .. creds.api_key, extensions = { errorCode = "KT-CT-1111" } } }
    local err = require("octopus.graphql.errors").error(c, errs, nil, 200)
    assert.equal("key [REDACTED]", err.errors[1].message)
    assert.equal("key " .. creds.api_key, errs[1].message)
    assert.is_not.equal(errs[1], err.errors[1])
  end)

  it("runs the shipped account, postal area, tariff and rate-limit operations", function()
    local a = assert(c:account(creds.accounts[1]))
    assert.equal(creds.accounts[1], a.number)
    assert.equal("ACTIVE", a.status)
    assert.equal("number", type(a.balance))
    local sp = a.properties[1].electricitySupplyPoints[1]
    assert.matches("^%d+$", sp.spin)
    assert.equal(22, #sp.spin)
    local product = sp.agreements[1].product
    assert.equal("ElectricitySteppedProduct", product.__typename)
    assert.equal("JPN_KK_OCTOPUS_MAY_26", product.code)
    assert.equal("string", type(product.standingChargePricePerDay))
    assert.equal(3, #product.consumptionCharges)
    assert.equal("string", type(product.fuelCostAdjustment.pricePerUnitIncTax))
    assert.equal("string", type(product.renewableEnergyLevy.pricePerUnitIncTax))
    local areas = assert(c:postal_areas("100-0001"))
    assert.equal("東京都", areas[1].prefecture)
    local tariffs = assert(c:tariff_summary("03", "JPN_KK_OCTOPUS_MAY_26"))
    assert.equal(1, #tariffs)
    assert.equal("03", tariffs[1].gridOperatorCode)
    local rl = assert(c:rate_limit())
    assert.equal(50000, rl.limit)
    assert.is_false(rl.isBlocked)
  end)

  it("answers INVALID_POSTCODE for a malformed postcode (KT-JP-4601)", function()
    local areas, err = c:postal_areas("1000")
    assert.is_nil(areas)
    assert.equal("INVALID_POSTCODE", err.code)
    assert.equal("KT-JP-4601", err.graphql_code)
    assert.equal("Postcode invalid.: Postcodes look like 100-0001. (KT-JP-4601)", err.message)
  end)

  it("walks a Relay connection page by page with first <= 100 and after", function()
    local all = assert(c:connection("bills", { accountNumber = creds.accounts[1] }, "account.bills"):all())
    assert.is_true(#all > 3)
    srv:admin("POST", "/_sandbox/reset")
    local it = c:connection("bills", { accountNumber = creds.accounts[1] }, "account.bills", { page_size = 3 })
    local ids, n = {}, 0
    for bill in it do
      n = n + 1
      assert.equal(all[n].id, bill.id)
      assert.is_nil(ids[bill.id])
      ids[bill.id] = true
    end
    assert.equal(#all, n)
    assert.equal(math.ceil(#all / 3), srv:count("operations", "Bills"))
  end)

  it("raises the error object mid-iteration and answers KT-CT-1201 without first", function()
    local it = c:connection("bills", { accountNumber = foreign_account() }, "account.bills")
    local ok, err = pcall(function() for _ in it do end end)
    assert.is_false(ok)
    assert.equal("FORBIDDEN", err.code)
    local _, err2 = c:graphql("query NoFirst($n: String!) { account(accountNumber: $n) { bills { edgeCount } } }",
      { n = creds.accounts[1] })
    assert.equal("KT-CT-1201", err2.code)
    assert.equal("graphql", err2.kind)
  end)

  it("rejects bad arguments by raising", function()
    assert.has_error(function() c:graphql("no_such_operation") end,
      "client:graphql: no shipped operation named 'no_such_operation'")
    assert.has_error(function() c:graphql("viewer", nil, { retries = 1 }) end,
      "client:graphql: unknown option 'retries'")
    assert.has_error(function() c:graphql(42) end,
      "client:graphql: 'document' must be a GraphQL document or a shipped operation name")
    assert.has_error(function() c:account(nil) end, "client:account: 'account' must be a non-empty string")
  end)
end)

describe("the sandbox's points allowance", function()
  local srv
  lazy_setup(function() srv = helper.start_server { app = "sandbox", tls = false, args = { "--points", "20" } } end)
  lazy_teardown(function() srv:stop() end)

  it("ends in RATE_LIMITED (KT-CT-1199) with a retry hint from the allowance's ttl", function()
    local c = client_for(srv, { api_key = srv.credentials.api_key })
    local err
    for _ = 1, 10 do                                 -- a viewer costs 6 points of 20
      local v, e = c:viewer()
      if not v then err = e; break end
    end
    assert.is_table(err)
    assert.equal("RATE_LIMITED", err.code)
    assert.equal("KT-CT-1199", err.graphql_code)
    assert.is_true(err.retry_after > 0 and err.retry_after <= 3600)
    assert.matches("^Too many requests%.: The points allowance of 20 points per hour is spent", err.message)
    assert.is_true(assert(c:rate_limit()).isBlocked)   -- free while blocked
  end)
end)

describe("octopus.graphql.operation", function()
  it("reads the kind and name of a document, comments and shorthand included", function()
    assert.same({ "query", "Viewer" }, { graphql.operation(graphql.documents.viewer) })
    assert.same({ "mutation", "ObtainKrakenToken" }, { graphql.operation(graphql.documents.obtain_token) })
    assert.same({ "query" }, { graphql.operation("{ viewer { email } }") })
    assert.same({ "mutation" }, { graphql.operation("# c\nmutation { x }") })
  end)

  it("skips fragments and calls a document with any mutation a mutation", function()
    assert.same({ "mutation", "Q" }, { graphql.operation("fragment F on X { a { b } }\nmutation Q { x { ...F } }") })
    assert.same({ "mutation" }, { graphql.operation("query A { a }\nmutation B { b }") })
    assert.same({ "query", "Q" }, { graphql.operation("query Q { a }\nfragment G on Y { z { w } }") })
    assert.same({ "query", "mutation" }, { graphql.operation("query mutation { a }") })
    assert.same({ "query", "Q" }, { graphql.operation("query Q @d(a: {x: 1}) { a }") })
  end)

  it("ignores braces and keywords inside strings and comments", function()
    assert.same({ "query", "Q" }, { graphql.operation('# mutation M { }\nquery Q($s: String = "} mutation M {")' ..
      ' { a(s: """ } \\""" mutation { """) }') })
    assert.same({ "mutation", "M" }, { graphql.operation('fragment F on X { a(s: "{") }\n# }\nmutation M { b }') })
  end)
end)
