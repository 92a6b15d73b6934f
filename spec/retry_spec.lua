-- spec/retry_spec.lua: the pipeline's retry policy under the sandbox's injected
-- faults: each fault ends in the documented code after the documented number
-- of attempts (counted by the client and by the sandbox's stats).
local helper = require "helper"
local octopus = require "octopus"
local socket = require "socket"

describe("retries", function()
  local srv, client, log

  -- a fake clock: backoff and Retry-After waits advance it instead of sleeping
  local function new_client(extra)
    local opts = { rest_url = srv.https .. "/v1/", ca_file = srv.ca_file, api_key = srv.credentials.api_key,
                   retries = 2, backoff = { base = 0.01, cap = 0.05 }, clock = octopus.clock.fake(),
                   log = function(e) log[#log + 1] = e end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return octopus.new(opts)
  end

  local function fault(route, action, times)
    srv:fault({ match = { route = route }, times = times or 1, action = action })
  end

  local function hits(route) return srv:count("requests", route) end

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox" }
    client = new_client()
  end)
  lazy_teardown(function() if srv then srv:stop() end end)
  before_each(function()
    log = {}
    srv:admin("POST", "/_sandbox/reset")
  end)

  it("gives up on a slow server with TIMEOUT after retries + 1 attempts", function()
    local c = new_client { timeout = 0.3 }
    fault("GET /v1/products/", { delay = 1.5 }, 3)
    local data, err = c:request { path = { "products" } }
    assert.is_nil(data)
    assert.equal("TIMEOUT", err.code)
    assert.equal("network", err.kind)
    assert.matches("[Tt]ime", err.message)
    assert.equal(3, err.attempts)
    assert.equal(3, #log)
    assert.same({ 1, 2, 3 }, { log[1].attempt, log[2].attempt, log[3].attempt })
    assert.equal("TIMEOUT", log[3].code)
  end)

  it("waits out a 429 with Retry-After in seconds, then succeeds", function()
    fault("GET /v1/products/", { status = 429, retry_after = 1 })
    local before = client.clock.mono()
    local data = assert(client:request { path = { "products" } })
    assert.equal(1, client.clock.mono() - before)          -- waited exactly Retry-After
    assert.is_table(data.results)
    assert.equal(2, hits("GET /v1/products/"))
    assert.equal("RATE_LIMITED", log[1].code)
    assert.equal(429, log[1].status)
  end)

  it("waits out a 429 with Retry-After as an HTTP date, then succeeds", function()
    fault("GET /v1/products/", { status = 429, retry_after_date = 1 })
    local c = new_client()        -- its fake clock reads now: a date is read against it
    local before = c.clock.mono()
    assert(c:request { path = { "products" } })
    assert.is_true(c.clock.mono() - before >= 1)            -- waited until the date
    assert.equal(2, hits("GET /v1/products/"))
  end)

  it("stops with RATE_LIMITED when Retry-After exceeds the retry budget", function()
    local c = new_client { max_retry_time = 5 }
    fault("GET /v1/products/", { status = 429, retry_after = 120 })
    local data, err = c:request { path = { "products" } }
    assert.is_nil(data)
    assert.equal("RATE_LIMITED", err.code)
    assert.equal("rate_limit", err.kind)
    assert.equal(120, err.retry_after)
    assert.equal(429, err.status)
    assert.is_true(err.retryable)
    assert.matches("retry after 120 s", err.message)
    assert.equal(1, err.attempts)
    assert.equal(1, hits("GET /v1/products/"))
  end)

  it("retries a 503 and succeeds", function()
    fault("GET /v1/products/", { status = 503 })
    assert(client:request { path = { "products" } })
    assert.equal(2, hits("GET /v1/products/"))
  end)

  it("ends a persistent 503 as HTTP_503 after retries + 1 attempts", function()
    fault("GET /v1/products/", { status = 503 }, 5)
    local _, err = client:request { path = { "products" } }
    assert.equal("HTTP_503", err.code)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.is_true(err.retryable)
    assert.equal(3, err.attempts)
    assert.equal(3, hits("GET /v1/products/"))
  end)

  it("does not retry an HTML 403 from the edge, reporting BLOCKED", function()
    fault("GET /v1/products/", { html403 = true }, 5)
    local _, err = client:request { path = { "products" } }
    assert.equal("BLOCKED", err.code)
    assert.equal("http", err.kind)
    assert.equal(403, err.status)
    assert.is_true(err.retryable)
    assert.matches("edge refused the request", err.message)
    assert.is_nil(err.message:find("key", 1, true) and err.message:find("invalid", 1, true))
    assert.equal(1, err.attempts)
    assert.equal(1, hits("GET /v1/products/"))
  end)

  it("retries a GET whose connection dropped mid-body", function()
    fault("GET /v1/products/", { drop = "mid_body" })
    assert(client:request { path = { "products" } })
    assert.equal(2, hits("GET /v1/products/"))
    assert.equal("NETWORK", log[1].code)
  end)

  it("retries a GET whose connection dropped before the body", function()
    fault("GET /v1/products/", { drop = "before_body" })
    assert(client:request { path = { "products" } })
    assert.equal(2, hits("GET /v1/products/"))
  end)

  it("reports a truncated 200 body as DECODE with the status, without retrying", function()
    fault("GET /v1/products/", { body = "truncated" })
    local _, err = client:request { path = { "products" } }
    assert.equal("DECODE", err.code)
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.matches("^HTTP 200 response is not valid JSON", err.message)
    assert.equal(1, err.attempts)
  end)

  it("reports a malformed 200 body as DECODE", function()
    fault("GET /v1/products/", { body = "malformed" })
    local _, err = client:request { path = { "products" } }
    assert.equal("DECODE", err.code)
    assert.matches("not valid JSON", err.message)
  end)

  it("does not retry a POST after a 503", function()
    fault("POST /v1/quotes/", { status = 503 }, 5)
    local _, err = client.quotes:create { postcode = "100-0001", electricity = { annual_consumption_kwh = 3600 } }
    assert.equal("HTTP_503", err.code)
    assert.equal("POST", err.method)
    assert.equal(1, err.attempts)
    assert.equal(1, hits("POST /v1/quotes/"))
  end)

  it("retries a POST that never reached a server (CONNECT)", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    local c = new_client { rest_url = "https://127.0.0.1:" .. port .. "/v1/" }
    local _, err = c.quotes:create { postcode = "100-0001" }
    assert.equal("CONNECT", err.code)
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    assert.equal(3, err.attempts)
    assert.equal(3, #log)
  end)

  it("makes one attempt only when retries is 0", function()
    local c = new_client { retries = 0 }
    fault("GET /v1/products/", { status = 503 })
    local _, err = c:request { path = { "products" } }
    assert.equal("HTTP_503", err.code)
    assert.equal(1, err.attempts)
  end)

  it("raises an error met while iterating in a for loop, and returns it from all()", function()
    fault("GET /v1/products/", { status = 404, body = '{"detail": "Invalid page."}',
                                 headers = { ["Content-Type"] = "application/json" } })
    local ok, err = pcall(function() for _ in client.products:list {} do end end)
    assert.is_false(ok)
    assert.equal("NOT_FOUND", err.code)
    assert.equal("Invalid page.", err.message)
    fault("GET /v1/products/", { status = 404, body = '{"detail": "Invalid page."}',
                                 headers = { ["Content-Type"] = "application/json" } })
    local rows, err2 = client.products:list {}:all()
    assert.is_nil(rows)
    assert.equal("NOT_FOUND", err2.code)
    fault("GET /v1/products/", { status = 503 }, 3)
    local it = client.products:list {}
    local item, err3 = it:next()
    assert.is_nil(item)
    assert.equal("HTTP_503", err3.code)
    assert.equal(3, err3.attempts)
    assert.is_table(it:next())  -- the same page again, now served
  end)
end)
