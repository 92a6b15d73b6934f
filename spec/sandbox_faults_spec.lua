-- The sandbox's fault injection and control routes, observed on the wire (the server
-- runs under lua5.4; this spec under Lua 5.4 and LuaJIT). Control routes refuse
-- non-loopback clients; that cannot be exercised from loopback and is not tested here.
local helper = require "helper"
local cjson = require "cjson"

describe("the sandbox fault injection", function()
  local srv

  local function get(path)
    local status, h, body = helper.request(srv.http .. path, "GET")
    return status, body, h
  end

  local function fault(spec)
    local status, body = srv:admin("POST", "/_sandbox/faults", spec)
    assert.equal(201, status)
    return body.id
  end

  local function products_fault(action, times)
    return fault{ match = { route = "GET /v1/products/" }, times = times, action = action }
  end

  -- sends a raw request on a fresh connection and returns the connection (for drops)
  local function raw_get(path)
    local c = helper.connect(srv.http)
    assert(c:send(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"):format(path)))
    return c
  end

  lazy_setup(function() srv = helper.start_server{ app = "sandbox", tls = false } end)
  lazy_teardown(function() if srv then srv:stop() end end)
  before_each(function() assert.equal(200, (srv:admin("POST", "/_sandbox/reset"))) end)

  it("answers normally after a delay", function()
    products_fault{ delay = 0.2 }
    local status, body = get("/v1/products/")
    assert.equal(200, status)
    assert.equal(2, cjson.decode(body).count)
  end)

  it("sends a given status, body and headers", function()
    products_fault{ status = 503, body = '{"detail": "maintenance"}', headers = { ["X-Fault"] = "yes" } }
    local status, body, h = get("/v1/products/")
    assert.equal(503, status)
    assert.equal('{"detail": "maintenance"}', body)
    assert.equal("application/json", h["content-type"])
    assert.equal("yes", h["x-fault"])
  end)

  it("sends 502 and 504 with a JSON detail", function()
    products_fault({ status = 502 })
    products_fault({ status = 504 })
    local s1, b1 = get("/v1/products/")
    local s2, b2 = get("/v1/products/")
    assert.equal(502, s1)
    assert.equal("Bad gateway.", cjson.decode(b1).detail)
    assert.equal(504, s2)
    assert.equal("Gateway timeout.", cjson.decode(b2).detail)
  end)

  it("sends a CDN-style HTML 403", function()
    products_fault{ html403 = true }
    local status, body, h = get("/v1/products/")
    assert.equal(403, status)
    assert.matches("^text/html", h["content-type"])
    assert.matches("<html>", body, 1, true)
  end)

  it("sends 429 with Retry-After in seconds", function()
    products_fault{ status = 429, retry_after = 7 }
    local status, body, h = get("/v1/products/")
    assert.equal(429, status)
    assert.equal("7", h["retry-after"])
    assert.equal("Request was throttled. Expected available in 7 seconds.", cjson.decode(body).detail)
  end)

  it("sends 429 with Retry-After as an HTTP-date", function()
    products_fault{ status = 429, retry_after_date = 30 }
    local status, _, h = get("/v1/products/")
    assert.equal(429, status)
    assert.matches("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$", h["retry-after"])
  end)

  it("drops the connection before the body", function()
    products_fault{ drop = "before_body" }
    local c = raw_get("/v1/products/")
    local line, err = c:receive("*l")
    c:close()
    assert.is_nil(line)
    assert.equal("closed", err)
  end)

  it("drops the connection in the middle of the body", function()
    products_fault{ drop = "mid_body" }
    local c = raw_get("/v1/products/")
    assert.matches("^HTTP/1.1 200", c:receive("*l"))
    local length
    repeat
      local h = c:receive("*l")
      length = length or tonumber(h:match("^[Cc]ontent%-[Ll]ength: (%d+)"))
    until h == ""
    local data, err, partial = c:receive(length)
    c:close()
    assert.is_nil(data)
    assert.equal("closed", err)
    assert.is_true(#partial > 0 and #partial < length)
  end)

  it("truncates a valid body with a matching Content-Length", function()
    local _, whole = get("/v1/products/")
    products_fault{ body = "truncated" }
    local status, body, h = get("/v1/products/")
    assert.equal(200, status)
    assert.equal(tostring(#body), h["content-length"])
    assert.equal(whole:sub(1, #body), body)
    assert.is_true(#body < #whole)
    assert.is_false(pcall(cjson.decode, body))
  end)

  it("sends malformed JSON", function()
    products_fault{ body = "malformed" }
    local status, body = get("/v1/products/")
    assert.equal(200, status)
    assert.equal('{"detail": nope}', body)
    assert.is_false(pcall(cjson.decode, body))
  end)

  it("applies a fault to the next N matching requests only", function()
    products_fault({ status = 503 }, 2)
    assert.equal(200, (get("/v1/industry/grid-supply-points/")))
    assert.equal(503, (get("/v1/products/")))
    assert.equal(503, (get("/v1/products/")))
    assert.equal(200, (get("/v1/products/")))
  end)

  it("matches a path prefix and any method", function()
    fault{ match = { route = "* /v1/products/JPN_KK_*" }, action = { status = 500 } }
    assert.equal(200, (get("/v1/products/")))
    assert.equal(500, (get("/v1/products/JPN_KK_OCTOPUS_MAY_26/")))
    assert.equal(200, (get("/v1/products/JPN_KK_OCTOPUS_MAY_26/")))
  end)

  it("matches a GraphQL operation by name", function()
    fault{ match = { operation = "Products" }, action = { status = 503 } }
    local q = cjson.encode{ query = "query Other { __typename }", operationName = "Other" }
    local s1 = helper.request(srv.http .. "/v1/graphql/", "POST", q, { ["Content-Type"] = "application/json" })
    assert.are_not.equal(503, s1)
    q = cjson.encode{ query = "query Products { __typename }", operationName = "Products" }
    local s2 = helper.request(srv.http .. "/v1/graphql/", "POST", q, { ["Content-Type"] = "application/json" })
    assert.equal(503, s2)
  end)

  it("expires the caller's token for one GraphQL operation", function()
    local function gql(query, name, token, variables)
      local h = { ["Content-Type"] = "application/json", Authorization = token }
      local status, _, body = helper.request(srv.http .. "/v1/graphql/", "POST",
        cjson.encode{ query = query, operationName = name, variables = variables }, h)
      return status, cjson.decode(body)
    end
    local _, tok = gql("mutation Tok($k: String!) { obtainKrakenToken(input: {APIKey: $k}) { token } }",
      "Tok", nil, { k = srv.credentials.api_key })
    local token = tok.data.obtainKrakenToken.token
    fault{ match = { operation = "Me" }, action = { expire_token = true } }
    local s1, expired = gql("query Me { viewer { email } }", "Me", token)
    assert.equal(200, s1)
    assert.equal("KT-CT-1124", expired.errors[1].extensions.errorCode)
    local _, fine = gql("query Me { viewer { email } }", "Me", token)
    assert.equal(srv.credentials.email, fine.data.viewer.email)
    local _, stats = srv:admin("GET", "/_sandbox/stats")
    assert.equal(2, stats.operations.Me)
    assert.equal(3, stats.requests["POST /v1/graphql/"])
  end)

  it("counts requests per method and path, faulted or not", function()
    products_fault{ status = 503 }
    get("/v1/products/")
    get("/v1/products/?page=1")
    get("/v1/nothing/")
    local status, stats = srv:admin("GET", "/_sandbox/stats")
    assert.equal(200, status)
    assert.equal(2, stats.requests["GET /v1/products/"])
    assert.equal(1, stats.requests["GET /v1/nothing/"])
    assert.is_nil(stats.requests["GET /_sandbox/stats"])
    assert.is_table(stats.operations)
  end)

  it("clears stats and faults on reset, and faults on DELETE", function()
    products_fault{ status = 503 }
    get("/v1/industry/grid-supply-points/")
    srv:admin("POST", "/_sandbox/reset")
    assert.equal(200, (get("/v1/products/")))
    local _, stats = srv:admin("GET", "/_sandbox/stats")
    assert.is_nil(stats.requests["GET /v1/industry/grid-supply-points/"])
    products_fault({ status = 503 }, 5)
    local status, body = srv:admin("DELETE", "/_sandbox/faults")
    assert.equal(200, status)
    assert.equal(1, body.deleted)
    assert.equal(200, (get("/v1/products/")))
  end)

  it("answers 400 to a control body that is not JSON or not a valid fault", function()
    local status, h, body = helper.request(srv.http .. "/_sandbox/faults", "POST", "{oops",
      { ["Content-Type"] = "application/json" })
    assert.equal(400, status)
    assert.equal("application/json", h["content-type"])
    assert.matches("^JSON parse error %- ", cjson.decode(body).detail)
    local s2, b2 = srv:admin("POST", "/_sandbox/faults", { match = { route = "/v1/products/" }, action = {} })
    assert.equal(400, s2)
    assert.equal('match.route must be "METHOD /path" (path may end in *)', b2.detail)
    local s3, b3 = srv:admin("POST", "/_sandbox/faults", { match = { route = "GET /x/" }, action = { explode = true } })
    assert.equal(400, s3)
    assert.equal("unknown action key: explode", b3.detail)
    local s4, b4 = srv:admin("POST", "/_sandbox/faults", { match = { route = "GET /x/" }, times = 0, action = { status = 500 } })
    assert.equal(400, s4)
    assert.equal("times must be a positive integer", b4.detail)
  end)

  it("answers 404 Not found. for an unknown control route", function()
    local status, body = srv:admin("GET", "/_sandbox/nothing")
    assert.equal(404, status)
    assert.equal("Not found.", body.detail)
  end)
end)
