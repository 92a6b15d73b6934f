-- spec/delivery_spec.lua: a non-idempotent request reaches the server at most once.
-- When a reused keep-alive connection returns nothing, libcurl silently re-sends the
-- request on a new connection whatever the method; the pipeline sends POSTs and
-- GraphQL mutations on a fresh connection (core's fresh_connect), so that resend can
-- never happen. The sandbox counts what arrives; its drop fault closes the connection
-- after reading the request, without answering.
local helper = require "helper"
local octopus = require "octopus"

for _, scheme in ipairs { "http", "https" } do
  describe("a non-idempotent request over " .. scheme, function()
    local srv
    lazy_setup(function() srv = helper.start_server { app = "sandbox", tls = true } end)
    lazy_teardown(function() srv:stop() end)
    before_each(function() srv:admin("POST", "/_sandbox/reset") end)

    local function client(extra)
      local o = { rest_url = srv[scheme] .. "/v1/", ca_file = srv.ca_file, retries = 3,
                  backoff = { base = 0.01, cap = 0.02 }, clock = octopus.clock.fake() }
      for k, v in pairs(extra or {}) do o[k] = v end
      return octopus.new(o)
    end
    local QUOTE = { postcode = "100-0001", electricity = { annual_consumption_kwh = 3600 } }

    local function drop_next(route)
      srv:fault { match = { route = route }, times = 1, action = { drop = "before_body" } }
    end

    it("POST /v1/quotes/: one delivery when the reused connection drops, blocking", function()
      local c = client { api_key = srv.credentials.api_key }
      assert(c.products:list():all())                  -- a keep-alive connection to reuse
      drop_next("POST /v1/quotes/")
      local q, err = c.quotes:create(QUOTE)
      assert.is_nil(q)
      assert.equal("network", err.kind)
      assert.is_not.equal(false, err.sent)             -- it may have arrived: not retried
      assert.equal(1, err.attempts)
      assert.equal(1, srv:count("requests", "POST /v1/quotes/"))
      assert(c.quotes:create(QUOTE))                   -- and the next one goes through
      assert.equal(2, srv:count("requests", "POST /v1/quotes/"))
      c:close()
    end)

    it("POST /v1/quotes/: one delivery inside a task", function()
      local c = client { api_key = srv.credentials.api_key }
      assert(c:spawn(function() return c.products:list():all() end):wait())
      drop_next("POST /v1/quotes/")
      local q, err = c:spawn(function() return c.quotes:create(QUOTE) end):wait()
      assert.is_nil(q)
      assert.equal("network", err.kind)
      assert.equal(1, srv:count("requests", "POST /v1/quotes/"))
      c:close()
    end)

    it("the token mutation: one delivery when the reused connection drops", function()
      local c = client { email = srv.credentials.email, password = srv.credentials.password }
      assert(c:graphql("query { __typename }", nil, { auth = false }))   -- warm the connection
      drop_next("POST /v1/graphql/")
      local ok, err = c:login()
      assert.is_nil(ok)
      assert.equal("network", err.kind)
      assert.equal(2, srv:count("requests", "POST /v1/graphql/"))        -- the warm-up + one
      c:close()
    end)

    it("a GraphQL query (idempotent) still reuses the connection and is retried", function()
      local c = client { api_key = srv.credentials.api_key }
      assert(c:graphql("query { __typename }", nil, { auth = false }))
      local res = assert(c:send { method = "POST", url = c.graphql_url, auth = "none", idempotent = true,
                                  body = { query = "query { __typename }" } })
      assert.is_true(res.info.reused)
      c:close()
    end)
  end)
end
