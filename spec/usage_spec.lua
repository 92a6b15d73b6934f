-- spec/usage_spec.lua: every public function and method raises on a programmer error
-- at the caller's line, naming the argument (helper.raises checks the message AND the
-- file:line, so an error reported inside the library fails here). No I/O happens: the
-- checks run before any request.
local helper = require "helper"
local octopus = require "octopus"
local async = require "octopus.async"
local token_file = require "octopus.graphql.token_file"

local raises = helper.raises

describe("usage errors point at the caller", function()
  local c
  before_each(function() c = octopus.new { rest_url = "http://127.0.0.1:9/v1/", retries = 0 } end)
  after_each(function() c:close() end)

  it("octopus.new", function()
    raises("octopus.new: options must be a table", function() octopus.new(5) end)
    raises("octopus.new: unknown option 'bogus'", function() octopus.new { bogus = 1 } end)
    raises("octopus.new: option 'timeout' must be a number", function() octopus.new { timeout = "x" } end)
    raises("octopus.new: option 'timeout' must be positive", function() octopus.new { timeout = -1 } end)
    raises("octopus.new: option 'retries' must be a non-negative integer", function() octopus.new { retries = 1.5 } end)
    raises("octopus.new: option 'timezone' is not a known zone", function() octopus.new { timezone = "Mars/Base" } end)
    raises("octopus.new: option 'rest_url' must use https", function() octopus.new { rest_url = "http://example.com/" } end)
    raises("must not contain CR, LF or NUL", function() octopus.new { user_agent = "a\r\nX-Evil: 1" } end)
    raises("octopus.new: option 'clock' must be a table with wall, mono and sleep",
      function() octopus.new { clock = {} } end)
    raises("octopus.new: unknown option 'backoff.bogus'", function() octopus.new { backoff = { bogus = 1 } } end)
    raises("octopus.new: unknown option 'bogus'", octopus.new, { bogus = 1 })   -- called directly
  end)

  it("client:request and client:send", function()
    raises("client:request: expected a table", function() c:request(5) end)
    raises("client:request: 'method' must be an upper-case string", function() c:request { method = "get", path = {} } end)
    raises("client:request: 'path' must be a table of segments", function() c:send { path = "products" } end)
    raises("client:request: needs 'path' or 'url'", function() c:send {} end)
    raises("client:request: 'query' must be a table", function() c:request { path = {}, query = "a=1" } end)
    raises("client:request: 'headers' must be a table", function() c:request { path = {}, headers = 1 } end)
    raises("client:request: 'auth' must be", function() c:request { path = {}, auth = "bearer" } end)
    raises("client:request: 'body' must be a table or a string", function() c:request { path = {}, body = 5 } end)
    raises("client:request: 'expect' must be", function() c:request { path = {}, expect = "xml" } end)
    raises("client:request: 'timeout' must be a positive number", function() c:request { path = {}, timeout = 0 } end)
    raises("client:request: expected a table", c.request, c, 5)
  end)

  it("client:iso and octopus.time", function()
    raises("octopus.time: malformed datetime 'soon'", function() c:iso("soon") end)
    raises("octopus.time: unknown zone 'Mars'", function() octopus.time.zone("Mars") end)
    raises("octopus.time: malformed datetime", function() octopus.time.parse("2026-13-01") end)
    raises("octopus.time: add_months count must be an integer", function() octopus.time.add_months(0, 1.5) end)
  end)

  it("the GraphQL methods", function()
    raises("client:graphql: 'document' must be a GraphQL document", function() c:graphql(5) end)
    raises("client:graphql: no shipped operation named 'nope'", function() c:graphql("nope") end)
    raises("client:graphql: 'variables' must be a table", function() c:graphql("viewer", 5) end)
    raises("client:graphql: unknown option 'bogus'", function() c:graphql("viewer", nil, { bogus = 1 }) end)
    raises("client:graphql: option 'auth' must be a boolean", function() c:graphql("viewer", nil, { auth = "x" }) end)
    raises("client:account: 'account' must be a non-empty string", function() c:account(5) end)
    raises("client:postal_areas: 'postcode' must be a non-empty string", function() c:postal_areas() end)
    raises("client:tariff_summary: 'grid_operator_code' must be", function() c:tariff_summary(nil) end)
    raises("client:tariff_summary: 'product_code' must be", function() c:tariff_summary("03", 5) end)
    raises("client:connection: 'path' must name where the connection is", function() c:connection("bills", {}, 5) end)
    raises("client:connection: 'page_size' must be an integer", function()
      c:connection("bills", {}, "account.bills", { page_size = 1000 }) end)
    raises("client:login: credentials must be a table", function() c:login(5) end)
    raises("client:login: unknown credential 'bogus'", function() c:login { bogus = 1 } end)
    raises("client:login: credential 'email' must be a non-empty string", function() c:login { email = "" } end)
    raises("client:login: credentials need api_key", function() c:login { email = "a@b" } end)
    raises("client:login: unknown credential 'bogus'", c.login, c, { bogus = 1 })
  end)

  it("client:readings", function()
    raises("client:readings: 'account' must be an account number", function() c:readings(5, {}) end)
    raises("client:readings: options { from =, to = } are required", function() c:readings("A-1", 5) end)
    raises("client:readings: unknown option 'form'", function() c:readings("A-1", { form = 1 }) end)
    raises("client:readings: options 'from' and 'to' are required", function() c:readings("A-1", { from = 1 }) end)
    raises("client:readings: option 'from': octopus.time: malformed datetime 'x'",
      function() c:readings("A-1", { from = "x", to = "2026-01-01" }) end)
    raises("client:readings: 'from' must be before 'to'",
      function() c:readings("A-1", { from = "2026-02-01", to = "2026-01-01" }) end)
    raises("client:readings: option 'window_days' must be a whole number",
      function() c:readings("A-1", { from = "2026-01-01", to = "2026-02-01", window_days = 40 }) end)
    raises("client:readings: options { from =, to = } are required", c.readings, c, "A-1", 5)
  end)

  it("the async methods and tasks", function()
    raises("client:spawn: expected a function", function() c:spawn(5) end)
    raises("client:poll: timeout_ms must be a number >= 0", function() c:spawn(function() end); c:poll(-1) end)
    raises("client:map: items must be a table", function() c:map(5, print) end)
    raises("client:map: fn must be a function", function() c:map({}, 5) end)
    raises("client:map: concurrency must be >= 1", function() c:map({}, print, { concurrency = 0 }) end)
    raises("octopus.async.attach: unknown option 'bogus'", function() async.attach(c, { bogus = 1 }) end)
    local t = c:spawn(function() coroutine.yield() end)
    raises("task:on_done: expected a function", function() t:on_done(5) end)
    raises("task:set_timeout: seconds must be >= 0", function() t:set_timeout(-1) end)
    raises("task:result: the task is still running", function() t:result() end)
    t:cancel()
  end)

  it("the REST modules", function()
    raises("products:list: unknown filter 'is_gren'", function() c.products:list { is_gren = true } end)
    raises("products:get: product code must be a non-empty string", function() c.products:get({}) end)
    raises("products.tariff_for: product detail must be a table", function() c.products.tariff_for(5, "03") end)
    raises("tariffs:standard_unit_rates: product code must be", function() c.tariffs:standard_unit_rates(false, "T") end)
    raises("tariffs:standing_charges: unknown option 'form'",
      function() c.tariffs:standing_charges("P", "T", { form = 1 }) end)
    raises("electricity:consumption: option 'group_by' must be one of",
      function() c.electricity:consumption("1", "2", { group_by = "year" }) end)
    raises("electricity:meter_point: ", function() c.electricity:meter_point(true) end)
    raises("industry:grid_supply_points: unknown option 'zip'", function() c.industry:grid_supply_points { zip = 1 } end)
    raises("quotes:create: body must be a table", function() c.quotes:create(5) end)
    raises("accounts:create: body must be a table", function() c.accounts:create(5) end)
    raises("accounts:get: ", function() c.accounts:get({}) end)
  end)

  it("octopus.clock and the token file", function()
    raises("clock:advance: 'seconds' must be >= 0", function() octopus.clock.fake():advance(-1) end)
    raises("octopus.token_file: 'path' must be a file path", function() token_file.new("") end)
  end)
end)
