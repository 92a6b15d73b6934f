-- spec/client_spec.lua: octopus.new option checking, the request pipeline's URL
-- building and authentication, error classification, against the TLS sandbox.
local helper = require "helper"
local octopus = require "octopus"

describe("octopus.new", function()
  it("builds a client with production defaults and prints without secrets", function()
    local c = octopus.new { api_key = "sk_live_secret_123" }
    assert.equal("https://api.oejp-kraken.energy/v1/", c.rest_url)
    assert.equal("https://api.oejp-kraken.energy/v1/graphql/", c.graphql_url)
    assert.equal("Asia/Tokyo", c.timezone)
    assert.equal(30, c.timeout)
    assert.equal(3, c.retries)
    assert.equal("octopus.Client (https://api.oejp-kraken.energy/v1/)", tostring(c))
    for k, v in pairs(c) do
      assert.is_not.equal("sk_live_secret_123", v, "secret stored on the client as " .. tostring(k))
    end
  end)

  it("exposes json, null, time, errors and the version", function()
    assert.equal(octopus.json.null, octopus.null)
    assert.equal("function", type(octopus.json.decode))
    assert.equal("function", type(octopus.time.parse))
    assert.equal("function", type(octopus.errors.new))
    assert.equal(require("octopus.core").version, octopus.version)
  end)

  it("rejects an unknown option, naming it", function()
    assert.has_error(function() octopus.new { timout = 5 } end, "octopus.new: unknown option 'timout'")
  end)

  it("rejects an option of the wrong type, naming it", function()
    assert.has_error(function() octopus.new { timeout = "5" } end,
      "octopus.new: option 'timeout' must be a number")
    assert.has_error(function() octopus.new { on_token = true } end,
      "octopus.new: option 'on_token' must be a function")
    assert.has_error(function() octopus.new { token_state = "x" } end,
      "octopus.new: option 'token_state' must be a table")
    assert.has_error(function() octopus.new { password = 1 } end,
      "octopus.new: option 'password' must be a string")
  end)

  it("rejects nonsensical numbers", function()
    assert.has_error(function() octopus.new { retries = -1 } end,
      "octopus.new: option 'retries' must be a non-negative integer")
    assert.has_error(function() octopus.new { timeout = 0 } end,
      "octopus.new: option 'timeout' must be positive")
    assert.has_error(function() octopus.new { backoff = { base = "x" } } end,
      "octopus.new: option 'backoff.base' must be a non-negative number")
    assert.has_error(function() octopus.new { backoff = { jitter = 1 } } end,
      "octopus.new: unknown option 'backoff.jitter'")
  end)

  it("accepts the GraphQL credential options of the next layer", function()
    local c = octopus.new { email = "a@b.jp", password = "pw", organization_secret_key = "o",
                            pre_signed_key = "p", refresh_token = "r", on_token = function() end,
                            token_state = {} }
    assert.equal("octopus.Client (https://api.oejp-kraken.energy/v1/)", tostring(c))
  end)

  it("insists on https except for loopback hosts", function()
    assert.has_error(function() octopus.new { rest_url = "http://api.example.com/v1/" } end,
      "octopus.new: option 'rest_url' must use https (http only for loopback hosts)")
    assert.has_error(function() octopus.new { graphql_url = "ftp://127.0.0.1/" } end,
      "octopus.new: option 'graphql_url' must use https")
    assert.has_error(function() octopus.new { rest_url = "https://key:pw@api.example.com/v1/" } end,
      "octopus.new: option 'rest_url' must not carry credentials")
    for _, u in ipairs { "http://127.0.0.1:9/v1/", "http://localhost/v1/", "http://[::1]:8/v1/", "http://127.9.8.7/" } do
      assert.equal(u, octopus.new { rest_url = u }.rest_url)
    end
  end)

  it("reads and writes times in its zone, Asia/Tokyo unless told otherwise", function()
    assert.equal("2026-11-01T00:00:00+09:00", octopus.new {}:iso("2026-11-01"))
    assert.equal("2026-11-01T00:00:00+00:00", octopus.new { timezone = "UTC" }:iso("2026-11-01"))
    assert.has_error(function() octopus.new { timezone = "Mars/Olympus" } end,
      "octopus.new: option 'timezone' is not a known zone: Mars/Olympus")
  end)

  it("adds the trailing slash to rest_url", function()
    assert.equal("https://h.example/v1/", octopus.new { rest_url = "https://h.example/v1" }.rest_url)
  end)
end)

describe("client:request", function()
  local srv, client
  lazy_setup(function()
    srv = helper.start_server { app = "sandbox" }
    client = octopus.new { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file,
                           api_key = srv.credentials.api_key, backoff = { base = 0.01, cap = 0.05 } }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  it("returns the decoded body alone; client:send returns the whole response", function()
    assert.equal(1, select("#", client:request { path = { "products" } }))
    local res = assert(client:send { path = { "products" } })
    local data = res.data
    assert.is_table(data)
    assert.is_table(data.results)
    assert.equal(200, res.status)
    assert.matches("json", res.headers["content-type"])
    assert.is_table(res.info)
  end)

  it("reuses one connection across requests (keep-alive)", function()
    assert(client:request { path = { "products" } })
    local res = assert(client:send { path = { "products" } })
    assert.is_true(res.info.reused)
  end)

  it("percent-encodes each path segment so it cannot climb the path", function()
    local data, err = client:request { path = { "products", "../accounts" } }
    assert.is_nil(data)
    assert.equal("NOT_FOUND", err.code)
    assert.equal("http", err.kind)
    assert.equal(404, err.status)
    assert.equal("Not found.", err.message)
    assert.equal("GET", err.method)
    assert.matches("/v1/products/..%%2Faccounts/$", err.url)
    local _, stats = srv:admin("GET", "/_sandbox/stats")
    assert.is_nil(stats.requests["GET /v1/accounts/"])
    local hit = false
    for route in pairs(stats.requests) do
      if route:find("/v1/products/..", 1, true) then hit = true end
    end
    assert.is_true(hit)
  end)

  it("raises on usage errors, naming the argument", function()
    assert.has_error(function() client:request "products" end, "client:request: expected a table")
    assert.has_error(function() client:request {} end, "client:request: needs 'path' or 'url'")
    assert.has_error(function() client:request { path = { "products", "" } } end, "path segment 2 is empty")
    assert.has_error(function() client:request { path = { "x" }, auth = "digest" } end,
      "client:request: 'auth' must be \"basic\", \"none\" or a function")
    assert.has_error(function() client:request { path = { "x" }, body = true } end,
      "client:request: 'body' must be a table or a string")
  end)

  it("refuses an absolute URL on another origin", function()
    local data, err = client:request { url = "https://evil.example/v1/products/?page=2" }
    assert.is_nil(data)
    assert.equal("BAD_URL", err.code)
    assert.equal("usage", err.kind)
    assert.equal("refusing a URL outside the client's API origin", err.message)
  end)

  it("follows an absolute URL on its own origin", function()
    local data = assert(client:request { url = srv.https .. "/v1/products/" })
    assert.is_table(data.results)
  end)

  it("reports a missing key as AUTH", function()
    local anon = octopus.new { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file, retries = 0 }
    local data, err = anon:request { path = { "accounts", srv.credentials.accounts[1] } }
    assert.is_nil(data)
    assert.equal("AUTH", err.code)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("Authentication credentials were not provided.", err.message)
    assert.equal(1, err.attempts)
  end)

  it("reports a wrong key as AUTH", function()
    local bad = octopus.new { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file, api_key = "sk_wrong_key" }
    local _, err = bad:request { path = { "accounts", srv.credentials.accounts[1] } }
    assert.equal("AUTH", err.code)
    assert.equal("Invalid API key.", err.message)
    assert.is_nil(tostring(err):find("sk_wrong_key", 1, true))
  end)

  it("lets an auth function supply the headers, or fail the request", function()
    local seen = 0
    local data = client:request { path = { "products" }, auth = function(c, req)
      seen = seen + 1
      assert.equal(client, c)
      return { ["X-Test"] = "1" }
    end }
    assert.is_table(data)
    assert.equal(1, seen)
    local errors = require "octopus.pipeline.errors"
    local _, err = client:request { path = { "products" }, auth = function()
      return nil, errors.new { code = "AUTH", kind = "auth", message = "no token" }
    end }
    assert.equal("AUTH", err.code)
    assert.equal("no token", err.message)
  end)

  it("reports an HTTP error without a JSON body by its status", function()
    srv:fault({ match = { route = "GET /v1/products/" },
      action = { status = 418, body = "teapot" } })
    local _, err = client:request { path = { "products" } }
    assert.equal("HTTP_418", err.code)
    assert.equal("http", err.kind)
    assert.equal(418, err.status)
    assert.equal("unexpected status (HTTP 418)", err.message)
    assert.is_false(err.retryable)
  end)

  it("uses the detail of a JSON 403 as a FORBIDDEN message", function()
    srv:fault({ match = { route = "GET /v1/products/" },
      action = { status = 403, body = '{"detail": "You do not have permission."}',
                 headers = { ["Content-Type"] = "application/json" } } })
    local _, err = client:request { path = { "products" } }
    assert.equal("FORBIDDEN", err.code)
    assert.equal("You do not have permission.", err.message)
  end)

  it("returns the raw body when asked", function()
    local body = assert(client:request { path = { "products" }, expect = "raw" })
    assert.equal("string", type(body))
    assert.matches('"results"', body)
  end)
end)
