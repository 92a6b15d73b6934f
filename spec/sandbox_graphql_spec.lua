-- spec/sandbox_graphql_spec.lua: the sandbox's GraphQL endpoint over real loopback sockets.
--
-- The server runs under lua5.4 (spec/helper.lua starts it); this file is the client side
-- and runs under Lua 5.4 and LuaJIT (LuaSocket + cjson, plain HTTP). A token expires by
-- moving the sandbox's clock (POST /_sandbox/clock), not by sleeping.
local helper = require "helper"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local null = cjson.null

-- POST a GraphQL request: status, decoded body (or nil), raw text.
local function post_raw(srv, body, headers, method)
  local chunks = {}
  local h = { ["Content-Type"] = "application/json", ["Content-Length"] = tostring(#(body or "")) }
  for k, v in pairs(headers or {}) do h[k] = v end
  local _, status = http.request{ url = srv.http .. "/v1/graphql/", method = method or "POST",
    source = body and ltn12.source.string(body) or nil, headers = h, sink = ltn12.sink.table(chunks) }
  local text = table.concat(chunks)
  local ok, decoded = pcall(cjson.decode, text)
  return status, ok and decoded or nil, text
end

local function gql(srv, query, variables, auth, operation_name)
  return post_raw(srv, cjson.encode{ query = query, variables = variables, operationName = operation_name },
    auth and { Authorization = auth } or nil)
end

local LOGIN = [[mutation Login($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn } }]]

local function login(srv, input, auth)
  local status, res = gql(srv, LOGIN, { input = input }, auth, "Login")
  assert.are.equal(200, status)
  return res.data and res.data.obtainKrakenToken, res
end

local function token_for(srv)
  return assert(login(srv, { APIKey = srv.credentials.api_key })).token
end

-- The one error of a response, checked against code, type and (optionally) message.
local function assert_error(res, code, etype, message)
  assert.is_table(res.errors, "expected errors in the response")
  local e = res.errors[1]
  assert.are.equal(code, e.extensions.errorCode)
  assert.are.equal(etype, e.extensions.errorType)
  if message then assert.are.equal(message, e.message) end
  return e
end

local function b64url_decode(s)
  local alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local bits = {}
  for i = 1, #s do
    local v = alpha:find(s:sub(i, i), 1, true) - 1
    for b = 5, 0, -1 do bits[#bits + 1] = math.floor(v / 2 ^ b) % 2 end
  end
  local out = {}
  for i = 1, #bits - 7, 8 do
    local n = 0
    for b = 0, 7 do n = n * 2 + bits[i + b] end
    out[#out + 1] = string.char(n)
  end
  return table.concat(out)
end

local function utc(t) return os.date("!%Y-%m-%dT%H:%M:%S+00:00", t) end

describe("the sandbox GraphQL endpoint", function()
  local srv
  lazy_setup(function() srv = helper.start_server{ app = "sandbox", tls = false } end)
  lazy_teardown(function() if srv then srv:stop() end end)

  describe("obtainKrakenToken", function()
    it("issues signed tokens for email+password, APIKey, organization key, pre-signed key", function()
      local c = srv.credentials
      for _, input in ipairs{ { email = c.email, password = c.password }, { APIKey = c.api_key },
                              { organizationSecretKey = c.organization_secret_key },
                              { preSignedKey = c.pre_signed_key } } do
        local t = assert(login(srv, input))
        local h, p, s = t.token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
        assert.is_truthy(h and p and s)
        assert.are.equal("HS256", cjson.decode(b64url_decode(h)).alg)
        local claims = cjson.decode(b64url_decode(p))
        assert.are.same(claims, t.payload)
        assert.is_string(claims.sub)
        assert.are.equal(3600, claims.exp - claims.iat)
        assert.are.equal("access", claims.tokenUse)
        assert.are.equal("https://api.oejp-kraken.energy/v1/graphql/", claims.iss)
        assert.are.equal(claims.iat + 604800, t.refreshExpiresIn)
        assert.is_string(t.refreshToken)
      end
    end)

    it("puts the user's email in user tokens' claims", function()
      local t = assert(login(srv, { APIKey = srv.credentials.api_key }))
      assert.are.equal(srv.credentials.email, t.payload.email)
    end)

    it("refreshes with the same refresh token and the same refreshExpiresIn", function()
      local first = assert(login(srv, { APIKey = srv.credentials.api_key }))
      local again = assert(login(srv, { refreshToken = first.refreshToken }))
      assert.are.equal(first.refreshToken, again.refreshToken)
      assert.are.equal(first.refreshExpiresIn, again.refreshExpiresIn)
      local _, res = gql(srv, "{ viewer { email } }", nil, again.token)
      assert.are.equal(srv.credentials.email, res.data.viewer.email)
    end)

    it("ignores a stale Authorization header on the token mutation", function()
      local t = login(srv, { APIKey = srv.credentials.api_key }, "JWT not.a.token")
      assert.is_string(t.token)
    end)

    it("rejects a wrong password with KT-CT-1138", function()
      local t, res = login(srv, { email = srv.credentials.email, password = "wrong" })
      assert.are.equal(null, t)
      assert_error(res, "KT-CT-1138", "VALIDATION", "Please make sure the email address and password are correct.")
      assert.is_nil(res.errors[1].message:find("wrong", 1, true))
    end)

    it("rejects an unknown API key with KT-CT-1139", function()
      local _, res = login(srv, { APIKey = "sk_test_nope" })
      assert_error(res, "KT-CT-1139", "VALIDATION", "Please make sure the API key is correct.")
    end)

    it("rejects an unknown refresh token with KT-CT-1135", function()
      local _, res = login(srv, { refreshToken = "0123456789abcdef" })
      local e = assert_error(res, "KT-CT-1135", "VALIDATION", "Invalid data.")
      assert.are.equal("The refresh token is not valid.", e.extensions.errorDescription)
    end)

    it("rejects an input without exactly one credential with KT-CT-1135", function()
      local _, res = login(srv, {})
      assert_error(res, "KT-CT-1135", "VALIDATION", "Invalid data.")
    end)
  end)

  describe("the Authorization header", function()
    it("accepts a bare token, 'JWT <token>' and 'Bearer <token>'", function()
      local tok = token_for(srv)
      for _, value in ipairs{ tok, "JWT " .. tok, "Bearer " .. tok } do
        local _, res = gql(srv, "{ viewer { email givenName familyName accounts { number } } }", nil, value)
        assert.is_nil(res.errors)
        assert.are.equal(srv.credentials.email, res.data.viewer.email)
        assert.are.equal(#srv.credentials.accounts, #res.data.viewer.accounts)
      end
    end)

    it("lets viewer.accounts be restricted to some account numbers", function()
      local q = "query V($only: [String]) { viewer { accounts(restrictToAccountNumbers: $only) { number } } }"
      local _, res = gql(srv, q, { only = { srv.credentials.accounts[2] } }, token_for(srv), "V")
      assert.are.same({ { number = srv.credentials.accounts[2] } }, res.data.viewer.accounts)
    end)

    it("answers KT-CT-1111 for viewer with an organization token", function()
      local t = assert(login(srv, { organizationSecretKey = srv.credentials.organization_secret_key }))
      local _, res = gql(srv, "{ viewer { email } }", nil, t.token)
      assert.are.equal(null, res.data.viewer)
      assert_error(res, "KT-CT-1111", "AUTHORIZATION", "Unauthorized.")
    end)

    it("answers KT-CT-1112 when it is missing on a field that needs it", function()
      local status, res = gql(srv, "{ viewer { email } }")
      assert.are.equal(200, status)
      assert.are.equal(null, res.data.viewer)
      assert_error(res, "KT-CT-1112", "AUTHORIZATION", "'Authorization' header not provided.")
    end)

    it("answers KT-CT-1143 for a malformed token or a bad signature", function()
      local tok = token_for(srv)
      local forged = tok:gsub("%.([%w_-]+)$", function(sig) return "." .. sig:reverse() end)
      for _, value in ipairs{ "garbage", "JWT a.b.c", forged } do
        local _, res = gql(srv, "{ viewer { email } }", nil, value)
        assert.are.equal(null, res.data.viewer)
        assert_error(res, "KT-CT-1143", "AUTHORIZATION", "Invalid data.")
        assert.is_nil(res.errors[1].message:find(tok, 1, true))
      end
    end)

    it("answers KT-CT-1124 (APPLICATION) when a fault expires the token now", function()
      local tok = token_for(srv)
      assert.are.equal(201, (srv:admin("POST", "/_sandbox/faults",
        { match = { operation = "Me" }, times = 1, action = { expire_token = true } })))
      local _, res = gql(srv, "query Me { viewer { email } }", nil, tok, "Me")
      assert_error(res, "KT-CT-1124", "APPLICATION", "Signature of the JWT has expired.")
      local _, again = gql(srv, "query Me { viewer { email } }", nil, tok, "Me")
      assert.are.equal(srv.credentials.email, again.data.viewer.email)
    end)
  end)

  describe("request errors", function()
    it("answers 400 with GraphQL-shaped errors for a body that is not JSON", function()
      local status, res = post_raw(srv, "{not json")
      assert.are.equal(400, status)
      assert.are.equal("Invalid JSON body: expected an object with a \"query\".", res.errors[1].message)
    end)

    it("answers 400 for a JSON body that is not an object", function()
      local status, res = post_raw(srv, "[1, 2]")
      assert.are.equal(400, status)
      assert.are.equal("Invalid JSON body: expected an object with a \"query\".", res.errors[1].message)
    end)

    it("answers 400 for variables that are not an object", function()
      local status, res = post_raw(srv, cjson.encode{ query = "{ viewer { email } }", variables = { 1, 2 } })
      assert.are.equal(400, status)
      assert.are.equal("Variables must be a JSON object.", res.errors[1].message)
    end)

    it("answers 400 for a missing query", function()
      local status, res = post_raw(srv, cjson.encode{ variables = {} })
      assert.are.equal(400, status)
      assert.are.equal("Must provide query string.", res.errors[1].message)
    end)

    it("answers 400 with a location for a syntax error", function()
      local status, res = gql(srv, "{ viewer { email ")
      assert.are.equal(400, status)
      assert.are.equal("Syntax Error: Expected Name, found <EOF>.", res.errors[1].message)
      assert.are.equal(1, res.errors[1].locations[1].line)
    end)

    it("answers 405 to GET", function()
      local status, res = post_raw(srv, nil, nil, "GET")
      assert.are.equal(405, status)
      assert.are.equal("GraphQL requests must be POST requests.", res.errors[1].message)
    end)

    it("answers 200 with data null for a validation error", function()
      local status, res = gql(srv, "{ nope }")
      assert.are.equal(200, status)
      assert.are.equal(null, res.data)
      assert.are.equal('Cannot query field "nope" on type "Query".', res.errors[1].message)
      assert.are.equal("VALIDATION", res.errors[1].extensions.errorType)
    end)

    it("refuses a query deeper than the limit with KT-CT-1188", function()
      local q = "{ viewer { accounts { ... on Account { users { accounts { ... on Account { users {"
        .. " accounts { ... on Account { users { accounts { ... on Account { users { accounts {"
        .. " ... on Account { users { accounts { number } } } } } } } } } } } } } } } } } }"
      local status, res = gql(srv, q, nil, token_for(srv))
      assert.are.equal(200, status)
      assert.are.equal(null, res.data)
      local e = assert_error(res, "KT-CT-1188", "VALIDATION")
      assert.is_truthy(e.message:find("depth", 1, true))
    end)
  end)

  describe("hostile documents (issue 15, item 4): answered at once, work bounded", function()
    -- one raw request with a 5 s receive timeout (helper.request), so a server that
    -- freezes on the document fails the spec instead of hanging it
    local function post_bounded(query)
      local status, _, text = helper.request(srv.http .. "/v1/graphql/", "POST",
        cjson.encode{ query = query }, { ["Content-Type"] = "application/json" })
      return status, cjson.decode(text)
    end

    local function fragments(n, name_len)
      local pad = string.rep("x", name_len or 0)
      local parts = { "{ __typename }" }
      for i = 1, n do parts[#parts + 1] = ("fragment F%s%d on Query { __typename }"):format(pad, i) end
      return table.concat(parts, " ")           -- one line: columns are the expensive case
    end

    it("refuses a document of more than 15000 tokens (10k unused fragments, 389 KB)", function()
      local doc = fragments(10000)
      assert.is_true(#doc > 380000)
      local status, res = post_bounded(doc)
      assert.are.equal(400, status)
      assert.are.equal(1, #res.errors)
      assert.are.equal("Syntax Error: Document contains more than 15000 tokens. Parsing aborted.",
        res.errors[1].message)
      assert.are.equal(1, res.errors[1].locations[1].line)
    end)

    it("stops validating after 100 errors", function()
      local status, res = post_bounded(fragments(1000, 300))   -- 1000 errors on one 330 KB line
      assert.are.equal(200, status)
      assert.are.equal(null, res.data)
      assert.are.equal(101, #res.errors)
      assert.are.equal('Fragment "F' .. string.rep("x", 300) .. '1" is never used.', res.errors[1].message)
      assert.are.same({ { line = 1, column = 16 } }, res.errors[1].locations)
      assert.are.equal("Too many validation errors, error limit reached. Validation aborted.",
        res.errors[101].message)
    end)

    it("refuses a document over 1 MiB", function()
      local status, res = post_bounded("{ __typename } #" .. string.rep("c", 1024 * 1024))
      assert.are.equal(400, status)
      assert.are.equal("Syntax Error: Document is larger than 1048576 bytes. Parsing aborted.",
        res.errors[1].message)
    end)
  end)

  describe("accounts", function()
    local ACCOUNT = [[query Acct($n: String!) {
      account(accountNumber: $n) { number status balance billingName
        properties { id postcode electricitySupplyPoints { spin status
          agreements { validFrom validTo product { __typename
            ... on ElectricitySteppedProduct { code displayName standingChargePricePerDay
              consumptionCharges { band pricePerUnitIncTax stepStart stepEnd }
              fuelCostAdjustment { pricePerUnitIncTax validFrom validTo }
              renewableEnergyLevy { pricePerUnitIncTax } }
            ... on ElectricitySingleStepProduct { code consumptionCharges { band pricePerUnitIncTax } } } } } } } }]]

    it("returns an owned account with Decimal strings, whole-yen balance and offsets", function()
      local _, res = gql(srv, ACCOUNT, { n = srv.credentials.accounts[1] }, token_for(srv), "Acct")
      assert.is_nil(res.errors)
      local a = res.data.account
      assert.are.equal(srv.credentials.accounts[1], a.number)
      assert.are.equal("ACTIVE", a.status)
      assert.are.equal(math.floor(a.balance), a.balance)
      local sp = a.properties[1].electricitySupplyPoints[1]
      assert.is_truthy(sp.spin:match("^%d+$") and #sp.spin == 22)
      local seen = 0
      for _, ag in ipairs(sp.agreements) do
        assert.is_truthy(ag.validFrom:match("[+-]%d%d:%d%d$"))
        local p = ag.product
        if p.__typename == "ElectricitySteppedProduct" then
          seen = seen + 1
          assert.is_truthy(p.standingChargePricePerDay:match("^%d+%.%d%d$"))
          assert.are.equal(3, #p.consumptionCharges)
          assert.are.equal(0, p.consumptionCharges[1].stepStart)
          assert.are.equal(120, p.consumptionCharges[1].stepEnd)
          assert.are.equal(null, p.consumptionCharges[3].stepEnd)
          assert.is_truthy(p.consumptionCharges[1].pricePerUnitIncTax:match("^%d+%.%d%d$"))
          assert.is_truthy(p.fuelCostAdjustment.pricePerUnitIncTax:match("^%-?%d+%.%d%d$"))
          assert.is_string(p.renewableEnergyLevy.pricePerUnitIncTax)
        end
      end
      assert.is_true(seen > 0)
    end)

    it("answers KT-CT-4177 for an account of another user and keeps the other data", function()
      local other = assert(login(srv, { preSignedKey = srv.credentials.pre_signed_key }))
      local _, them = gql(srv, "{ viewer { accounts { number } } }", nil, other.token)
      local theirs = them.data.viewer.accounts[1].number
      local q = "query Two($mine: String!, $theirs: String!) { viewer { email } mine: account(accountNumber: $mine)"
        .. " { number } theirs: account(accountNumber: $theirs) { number } none: account(accountNumber: \"A-00000000\") { number } }"
      local status, res = gql(srv, q, { mine = srv.credentials.accounts[1], theirs = theirs }, token_for(srv), "Two")
      assert.are.equal(200, status)
      assert.are.equal(srv.credentials.email, res.data.viewer.email)
      assert.are.equal(srv.credentials.accounts[1], res.data.mine.number)
      assert.are.equal(null, res.data.theirs)
      assert.are.equal(null, res.data.none)
      assert.are.equal(2, #res.errors)
      local e = assert_error(res, "KT-CT-4177", "AUTHORIZATION", "Unauthorized.")
      assert.are.same({ "theirs" }, e.path)
      assert.are.equal("KT-CT-4177", res.errors[2].extensions.errorCode)
    end)

    it("resolves aliases, named fragments and inline fragments on the product union", function()
      local q = [[query Frag($n: String!) { me: viewer { ...Who } a: account(accountNumber: $n) {
          ...Num properties { electricitySupplyPoints { agreements { product { __typename
            ... on ElectricitySteppedProduct { stepped: code }
            ... on ElectricitySingleStepProduct { single: code } } } } } } }
        fragment Who on AccountUser { mail: email __typename }
        fragment Num on Account { number __typename }]]
      local _, res = gql(srv, q, { n = srv.credentials.accounts[1] }, token_for(srv), "Frag")
      assert.is_nil(res.errors)
      assert.are.equal(srv.credentials.email, res.data.me.mail)
      assert.are.equal("AccountUser", res.data.me.__typename)
      assert.are.equal("Account", res.data.a.__typename)
      local p = res.data.a.properties[1].electricitySupplyPoints[1].agreements[1].product
      if p.__typename == "ElectricitySteppedProduct" then
        assert.is_string(p.stepped); assert.is_nil(p.single)
      else
        assert.is_string(p.single); assert.is_nil(p.stepped)
      end
    end)
  end)

  describe("the bills connection", function()
    local BILLS = [[query Bills($n: String!, $first: Int, $after: String, $last: Int) {
      account(accountNumber: $n) { bills(first: $first, after: $after, last: $last) { totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { __typename id fromDate toDate ... on StatementType { paymentDueDate } } } } } }]]

    local function bills(vars)
      vars.n = srv.credentials.accounts[1]
      local _, res = gql(srv, BILLS, vars, token_for(srv), "Bills")
      return res
    end

    it("answers KT-CT-1201 when neither first nor last is given", function()
      local res = bills{}
      assert.are.equal(null, res.data.account.bills)
      local e = assert_error(res, "KT-CT-1201", "VALIDATION")
      assert.are.equal("You must provide a `first` or `last` value to properly paginate the `bills` connection.", e.message)
    end)

    it("rejects first above 100", function()
      local res = bills{ first = 101 }
      local e = assert_error(res, "KT-CT-1201", "VALIDATION")
      assert.are.equal("Requesting 101 records on the `bills` connection exceeds the `first` limit of 100 records.", e.message)
    end)

    it("pages forward with endCursor and hasNextPage, without repeats", function()
      local seen, after, pages = {}, nil, 0
      repeat
        local res = bills{ first = 5, after = after }
        assert.is_nil(res.errors)
        local c = res.data.account.bills
        for _, e in ipairs(c.edges) do
          assert.is_nil(seen[e.node.id])
          seen[e.node.id] = true
          assert.are.equal("StatementType", e.node.__typename)
          assert.is_truthy(e.node.fromDate:match("^%d%d%d%d%-%d%d%-01$"))
        end
        after, pages = c.pageInfo.endCursor, pages + 1
        if c.pageInfo.hasNextPage then assert.are.equal(5, #c.edges) end
      until not c.pageInfo.hasNextPage or pages > 30
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.are.equal(bills{ first = 1 }.data.account.bills.totalCount, n)
      assert.is_true(n > 5)
    end)

    it("takes the last items with last", function()
      local c = bills{ last = 2 }.data.account.bills
      assert.are.equal(2, #c.edges)
      assert.is_true(c.pageInfo.hasPreviousPage)
      assert.is_false(c.pageInfo.hasNextPage)
    end)
  end)

  describe("halfHourlyReadings", function()
    local READINGS = [[query R($n: String!, $from: DateTime, $to: DateTime) { account(accountNumber: $n) {
      properties { electricitySupplyPoints { halfHourlyReadings(fromDatetime: $from, toDatetime: $to) {
        startAt endAt value costEstimate version consumptionRateBand consumptionStep } } } } }]]

    local function readings(from, to)
      local _, res = gql(srv, READINGS, { n = srv.credentials.accounts[1], from = from, to = to }, token_for(srv), "R")
      assert.is_nil(res.errors)
      return res.data.account.properties[1].electricitySupplyPoints[1].halfHourlyReadings
    end

    -- a JST midnight some days back (the data reach back to 2025-11-01)
    local function jst_midnight(days_ago)
      local t = os.time() - days_ago * 86400
      return t - (t + 9 * 3600) % 86400
    end

    it("returns every half hour of a week in UTC with Decimal strings", function()
      local to = jst_midnight(20)
      local rows = readings(utc(to - 7 * 86400), utc(to))
      assert.are.equal(336, #rows)
      assert.are.equal(utc(to - 7 * 86400), rows[1].startAt)
      assert.are.equal(utc(to), rows[#rows].endAt)
      for _, r in ipairs(rows) do
        assert.is_truthy(r.startAt:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+00:00$"))
        assert.is_truthy(r.value:match("^%d+%.%d+$"))
        assert.is_truthy(r.costEstimate:match("^%d+%.%d+$"))
        assert.is_truthy(r.version == "MONTHLY" or r.version == "DAILY")
        assert.is_truthy(r.consumptionRateBand:match("^CONSUMPTION_"))
        assert.is_number(r.consumptionStep)
      end
    end)

    it("reads a naive datetime as UTC and an offset as given", function()
      local to = jst_midnight(20)
      local naive = os.date("!%Y-%m-%dT%H:%M:%S", to)
      local a, b = readings(utc(to - 3600), naive), readings(utc(to - 3600), utc(to))
      assert.are.same(b, a)
      assert.are.equal(2, #a)
    end)

    it("keeps only the newest 1488 rows of a longer window", function()
      local to = jst_midnight(15)
      local rows = readings(utc(to - 40 * 86400), utc(to))
      assert.are.equal(1488, #rows)
      assert.are.equal(utc(to), rows[#rows].endAt)
      assert.are.equal(utc(to - 1488 * 1800), rows[1].startAt)
    end)

    it("answers a VALIDATION error for an unparsable datetime", function()
      local _, res = gql(srv, READINGS, { n = srv.credentials.accounts[1], from = "yesterday" }, token_for(srv), "R")
      assert.are.equal('Invalid DateTime for "fromDatetime": yesterday', res.errors[1].message)
      assert.are.equal("VALIDATION", res.errors[1].extensions.errorType)
    end)
  end)

  describe("public queries", function()
    it("finds postal areas without a token", function()
      local _, res = gql(srv, '{ postalAreas(postcode: "100-0001") { postcode prefecture city area } }')
      assert.is_nil(res.errors)
      assert.are.equal("100-0001", res.data.postalAreas[1].postcode)
      assert.is_string(res.data.postalAreas[1].prefecture)
    end)

    it("answers an empty list for a well-formed unknown postcode", function()
      local _, res = gql(srv, '{ postalAreas(postcode: "999-9999") { city } }')
      assert.are.same({}, res.data.postalAreas)
    end)

    it("answers KT-JP-4601 for a malformed postcode", function()
      local _, res = gql(srv, '{ postalAreas(postcode: "1000001") { city } }')
      assert_error(res, "KT-JP-4601", "VALIDATION", "Postcode invalid.")
    end)

    it("summarises tariffs with the products' prices", function()
      local _, res = gql(srv, [[{ tariffSummary(gridOperatorCode: "03", productCode: "JPN_KK_OCTOPUS_MAY_26") {
        code displayName gridOperatorCode tiers { consumptionRates { band pricePerUnitIncTax stepStart stepEnd }
        standingRates { amperage { pricePerUnitIncTax label unitType } } } } }]])
      assert.is_nil(res.errors)
      local t = res.data.tariffSummary[1]
      assert.are.equal(1, #res.data.tariffSummary)
      assert.are.equal("JPN_KK_OCTOPUS_MAY_26", t.code)
      local rates = t.tiers[1].consumptionRates
      assert.are.equal("CONSUMPTION_STEPPED_03_01", rates[1].band)
      assert.are.equal("29.80", rates[1].pricePerUnitIncTax)
      assert.are.equal("30.75", t.tiers[1].standingRates.amperage[1].pricePerUnitIncTax) -- 311.75 a month per 10 A, x 36 / 365
    end)
  end)

  describe("statistics", function()
    it("counts every executed operation, failed logins included", function()
      srv:admin("POST", "/_sandbox/reset")
      login(srv, { APIKey = "sk_test_nope" })
      gql(srv, "{ postalAreas(postcode: \"100-0001\") { city } }")
      local _, stats = srv:admin("GET", "/_sandbox/stats")
      assert.are.equal(1, stats.operations.Login)
      assert.are.equal(1, stats.operations.anonymous)
    end)
  end)
end)

describe("the sandbox GraphQL endpoint with short token lifetimes", function()
  local srv
  lazy_setup(function()
    srv = helper.start_server{ app = "sandbox", tls = false, args = { "--access-ttl", "1", "--refresh-ttl", "3" } }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  it("expires the access token (KT-CT-1124), then the refresh token (KT-CT-1134)", function()
    local t = assert(login(srv, { APIKey = srv.credentials.api_key }))
    assert.are.equal(1, t.payload.exp - t.payload.iat)
    assert.are.equal(t.payload.iat + 3, t.refreshExpiresIn)
    srv:advance(t.payload.exp + 1 - t.payload.iat)          -- past exp
    local _, res = gql(srv, "{ viewer { email } }", nil, t.token)
    assert.are.equal(null, res.data.viewer)
    assert_error(res, "KT-CT-1124", "APPLICATION", "Signature of the JWT has expired.")
    srv:advance(t.refreshExpiresIn - t.payload.exp)          -- past the refresh token's expiry
    local none, again = login(srv, { refreshToken = t.refreshToken })
    assert.are.equal(null, none)
    local e = assert_error(again, "KT-CT-1134", "VALIDATION", "Invalid data.")
    assert.are.equal("The refresh token has expired.", e.extensions.errorDescription)
  end)
end)

describe("the sandbox GraphQL points allowance", function()
  local srv
  lazy_setup(function()
    srv = helper.start_server{ app = "sandbox", tls = false, args = { "--points", "20" } }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local INFO = "{ rateLimitInfo { pointsAllowanceRateLimit { limit remainingPoints usedPoints ttl isBlocked } } }"

  it("charges one point per selected field and reports it in rateLimitInfo", function()
    srv:admin("POST", "/_sandbox/reset")
    local tok = token_for(srv)
    local _, q = gql(srv, "{ viewer { email givenName } }", nil, tok)   -- 3 fields
    assert.is_nil(q.errors)
    local _, res = gql(srv, INFO, nil, tok)
    local info = res.data.rateLimitInfo.pointsAllowanceRateLimit
    assert.are.equal(20, info.limit)
    assert.are.equal(3, info.usedPoints)
    assert.are.equal(17, info.remainingPoints)
    assert.is_false(info.isBlocked)
    assert.is_true(info.ttl > os.time())
  end)

  it("refuses requests with KT-CT-1199 once the allowance is spent, until reset", function()
    srv:admin("POST", "/_sandbox/reset")
    local tok = token_for(srv)
    local res
    for _ = 1, 10 do
      _, res = gql(srv, "{ viewer { email givenName familyName } }", nil, tok)   -- 4 points
      if res.errors then break end
    end
    assert.are.equal(null, res.data)
    local e = assert_error(res, "KT-CT-1199", "SERVICE_AVAILABILITY", "Too many requests.")
    assert.is_number(e.extensions.retryAfter)
    local _, info = gql(srv, INFO, nil, tok)
    assert.is_true(info.data.rateLimitInfo.pointsAllowanceRateLimit.isBlocked)
    srv:admin("POST", "/_sandbox/reset")
    local _, ok = gql(srv, "{ viewer { email } }", nil, tok)
    assert.are.equal(srv.credentials.email, ok.data.viewer.email)
  end)

  it("does not charge public queries without a token", function()
    srv:admin("POST", "/_sandbox/reset")
    for _ = 1, 25 do
      local _, res = gql(srv, '{ postalAreas(postcode: "100-0001") { city } }')
      assert.is_nil(res.errors)
    end
  end)
end)

describe("the sandbox schema", function()
  local gql_engine = require "octopus.sandbox.graphql"

  local function load(path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    return assert(gql_engine.schema(text))
  end

  it("is a subset of the reconstructed OEJP schema: same types, fields and arguments", function()
    local mine = load("lua/octopus/sandbox/schema.graphql")
    local full = load("spec/data/oejp-schema.graphql")
    local ts = gql_engine.type_string
    for name, t in pairs(mine.types) do
      if not name:match("^__") then
        local r = full.types[name]
        assert(r, "unknown type " .. name)
        assert.are.equal(r.kind, t.kind, name)
        for fname, f in pairs(t.fields or {}) do
          local rf = r.fields[fname]
          assert(rf, "unknown field " .. name .. "." .. fname)
          assert.are.equal(ts(rf.type), ts(f.type), name .. "." .. fname)
          for aname, a in pairs(f.args or {}) do
            assert(rf.args[aname], "unknown argument " .. name .. "." .. fname .. "(" .. aname .. ")")
            assert.are.equal(ts(rf.args[aname].type), ts(a.type), name .. "." .. fname .. "(" .. aname .. ")")
          end
        end
        for vname in pairs(t.values or {}) do
          assert(r.values[vname], "unknown enum value " .. name .. "." .. vname)
        end
        for member in pairs(t.kind == "UNION" and t.possible_types or {}) do
          assert(r.possible_types[member], "unknown union member " .. name .. "." .. member)
        end
      end
    end
  end)
end)

-- The JWT primitives are Lua 5.4 code (the server's runtime): checked only there.
if not jit and _VERSION == "Lua 5.4" then
  describe("the sandbox JWT primitives", function()
    local jwt = require "octopus.sandbox.jwt"

    it("hash with SHA-256 and HMAC-SHA-256 as the published test vectors say", function()
      assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", jwt.hex(jwt.sha256("")))
      assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", jwt.hex(jwt.sha256("abc")))
      assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        jwt.hex(jwt.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
      assert.are.equal("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        jwt.hex(jwt.hmac_sha256("key", "The quick brown fox jumps over the lazy dog")))
    end)

    it("verifies its own tokens and rejects a wrong secret, another alg or garbage", function()
      local encode, decode = cjson.encode, function(s) local ok, v = pcall(cjson.decode, s); return ok and v or nil end
      local tok = jwt.sign({ sub = "x", exp = 10 }, "secret", encode)
      assert.are.equal("x", jwt.verify(tok, "secret", decode).sub)
      assert.are.same({ nil, "signature" }, { jwt.verify(tok, "other", decode) })
      local none = jwt.b64encode('{"alg":"none"}', true) .. tok:match("(%..*)$")
      assert.are.same({ nil, "malformed" }, { jwt.verify(none, "secret", decode) })
      assert.are.same({ nil, "malformed" }, { jwt.verify("a.b", "secret", decode) })
    end)
  end)
end
