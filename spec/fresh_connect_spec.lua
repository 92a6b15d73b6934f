-- fresh_connect_spec: a request sent with fresh_connect = true reaches the server at most
-- once (csrc/transfer.c, CURLOPT_FRESH_CONNECT), blocking and in a multi, HTTP and TLS.
--
-- (The client-level proof, through the pipeline, is spec/delivery_spec.lua.)
-- The trap it closes: when a reused keep-alive connection dies before any response
-- byte, libcurl silently sends the request again on a new connection, whatever the
-- method. The sandbox's `drop: before_body` fault closes the connection right after
-- reading the request, and its stats count every delivery ("POST /v1/quotes/").
local core = require "octopus.core"
local helper = require "helper"

local ROUTE = "POST /v1/quotes/"

describe("#core fresh_connect: at-most-once delivery", function()
  local srv

  lazy_setup(function() srv = helper.start_server{ app = "sandbox" } end)
  lazy_teardown(function() if srv then srv:stop() end end)

  -- One request through a session or a multi: the same results as session:request.
  local drivers = {
    session = function()
      local s = core.session{ ca_file = srv.ca_file }
      return function(req) return s:request(req) end, function() s:close() end
    end,
    multi = function()
      local m = core.multi{ ca_file = srv.ca_file }
      local function run(req)
        local id = m:add(req)
        for _ = 1, 400 do
          for _, c in ipairs(m:poll(50)) do -- luacheck: ignore 512 (the first completion is the one)
            assert.are.equal(id, c.id)
            if c.err then return nil, c.err end
            return c.status, c.headers, c.body, c.info
          end
        end
        error("transfer still in flight")
      end
      return run, function() m:close() end
    end,
  }

  -- Warms a connection, then POSTs through it under a drop fault: the deliveries counted
  -- by the sandbox, and the request's results.
  local function post_into_drop(base, driver, fresh)
    local run, close = drivers[driver]()
    local st, _, _, info = run{ url = base .. "/v1/products/" }
    assert.are.equal(200, st)
    assert.is_false(info.reused)
    srv:admin("DELETE", "/_sandbox/faults")
    srv:fault{ match = { route = ROUTE }, times = 1, action = { drop = "before_body" } }
    local before = srv:count("requests", ROUTE)
    local a, b = run{ method = "POST", url = base .. "/v1/quotes/", body = "{}",
                      headers = { ["Content-Type"] = "application/json" }, fresh_connect = fresh }
    local delivered = srv:count("requests", ROUTE) - before
    -- the connection stays usable for the next request
    assert.are.equal(200, (run{ url = base .. "/v1/products/" }))
    close()
    return delivered, a, b
  end

  for _, scheme in ipairs{ "http", "https" } do
    for _, driver in ipairs{ "session", "multi" } do
      it(("delivers a fresh_connect POST once over %s (%s)"):format(scheme, driver), function()
        local delivered, st, err = post_into_drop(srv[scheme], driver, true)
        assert.are.equal(1, delivered)
        assert.is_nil(st)
        assert.are.equal("NETWORK", err.code)
        assert.are.equal("Empty reply from server", err.message)
        assert.is_true(err.sent)
      end)

      it(("shows libcurl's own resend without it over %s (%s)"):format(scheme, driver), function()
        -- documents the libcurl behaviour fresh_connect exists for: a second delivery,
        -- and the caller sees only the answer to that one
        local delivered, st = post_into_drop(srv[scheme], driver, nil)
        assert.are.equal(2, delivered)
        assert.are.equal(401, st)
      end)
    end
  end

  it("still reuses the connection after a fresh_connect request", function()
    local s = core.session()
    local _, _, _, info = s:request{ method = "POST", url = srv.http .. "/v1/quotes/", body = "{}",
                                     fresh_connect = true }
    assert.is_false(info.reused)
    _, _, _, info = s:request{ url = srv.http .. "/v1/products/" }
    assert.is_true(info.reused)
    _, _, _, info = s:request{ url = srv.http .. "/v1/products/", fresh_connect = false }
    assert.is_true(info.reused)
    _, _, _, info = s:request{ url = srv.http .. "/v1/products/", fresh_connect = true }
    assert.is_false(info.reused)
    s:close()
  end)

  it("opens a fresh connection in a multi capped at one connection", function()
    local m = core.multi{ max_connections = 1 }
    local ids = {}
    for i = 1, 3 do ids[i] = m:add{ url = srv.http .. "/v1/products/", fresh_connect = i == 2 } end
    local got, n = {}, 0
    for _ = 1, 400 do
      if n == 3 then break end
      for _, c in ipairs(m:poll(50)) do got[c.id], n = c, n + 1 end
    end
    assert.are.equal(3, n)
    for i = 1, 3 do assert.are.equal(200, got[ids[i]].status) end
    assert.is_false(got[ids[2]].info.reused)
    m:close()
  end)

  it("rejects a fresh_connect that is not a boolean, naming it", function()
    local s = core.session()
    helper.raises("option 'fresh_connect' must be a boolean", s.request, s,
      { url = srv.http .. "/v1/products/", fresh_connect = 1 })
    local m = core.multi()
    helper.raises("option 'fresh_connect' must be a boolean", m.add, m,
      { url = srv.http .. "/v1/products/", fresh_connect = "yes" })
    assert.are.equal(0, m:count())
    m:close()
    s:close()
  end)
end)
