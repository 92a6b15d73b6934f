-- multi_spec: the non-blocking multi handle of the C core (csrc/multi.c), against the
-- loopback echo server (spec/apps/echo.lua). Every drive loop is bounded in count.
local core = require "octopus.core"
local cjson = require "cjson"
local socket = require "socket"
local helper = require "helper"

local closed_port = helper.closed_port

local raises = helper.raises

-- Drives m with poll(50) until `want` completions arrived (at most `rounds` polls):
-- completions by id.
local function drive(m, want, rounds)
  local got, n = {}, 0
  for _ = 1, rounds or 400 do
    if n >= want then break end
    for _, c in ipairs(m:poll(50)) do
      assert.is_nil(got[c.id], "a transfer completed twice")
      got[c.id], n = c, n + 1
    end
  end
  assert.are.equal(want, n, "transfers still in flight")
  return got
end

describe("#core multi", function()
  local srv, http

  lazy_setup(function()
    srv = helper.start_server{ app = "echo" }
    http = srv.http
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
  end)

  describe("#realtime transfers", function()
    local m
    before_each(function() m = core.multi() end)
    after_each(function() m:close() end)

    it("runs many requests at once and reports each completion once, by id", function()
      local ids = {}
      for i = 1, 20 do ids[i] = m:add{ url = http .. "/delay/0.2" } end
      assert.are.equal(20, m:count())
      local got = drive(m, 20)
      for i = 1, 20 do
        local c = got[ids[i]]
        assert.are.equal(ids[i], c.id)
        assert.are.equal(200, c.status)
        assert.are.same({ delay = 0.2 }, cjson.decode(c.body))
      end
      assert.are.equal(0, m:count())
    end)

    it("returns status, headers, body and info like a session, keeping the body alive", function()
      local id = m:add{ method = "POST", url = http .. "/echo?a=1", body = ("x"):rep(10) .. "y",
                        headers = { ["Content-Type"] = "text/plain" } }
      collectgarbage()
      collectgarbage()
      local c = drive(m, 1)[id]
      assert.are.equal(200, c.status)
      assert.are.equal("application/json", c.headers["content-type"])
      local echo = cjson.decode(c.body)
      assert.are.equal("POST", echo.method)
      assert.are.equal("xxxxxxxxxxy", echo.body)
      assert.are.equal("1", echo.query.a)
      assert.are.equal(#c.body, c.info.size)
      assert.are.equal("1.1", c.info.http_version)
    end)

    it("reuses connections across requests", function()
      local first = m:add{ url = http .. "/echo" }
      assert.is_false(drive(m, 1)[first].info.reused)
      local id = m:add{ url = http .. "/echo" }
      assert.is_true(drive(m, 1)[id].info.reused)
    end)

    it("verifies TLS against the multi's ca_file, and refuses an unknown CA as TLS", function()
      local tls = core.multi{ ca_file = srv.ca_file }
      local ids = { tls:add{ url = srv.https .. "/echo" }, tls:add{ url = srv.https .. "/echo" } }
      local got = drive(tls, 2)
      tls:close()
      for _, id in ipairs(ids) do
        assert.are.equal(200, got[id].status)
        assert.is_true(cjson.decode(got[id].body).tls)
      end
      local id = m:add{ url = srv.https .. "/echo" }
      local e = drive(m, 1)[id].err
      assert.are.equal("TLS", e.code)
      assert.are.equal("network", e.kind)
      assert.matches("certificate", e.message)
    end)

    it("perform() steps without waiting for a slow response", function()
      m:add{ url = http .. "/delay/1" }
      for _ = 1, 5 do assert.are.same({}, m:perform()) end
      assert.are.same({}, m:poll(10))
      assert.are.equal(1, m:count())
    end)

    it("caps connections: with max_connections = 1 the transfers queue on one connection", function()
      local one = core.multi{ max_connections = 1 }
      for _ = 1, 3 do one:add{ url = http .. "/delay/0.05" } end
      local reused = 0
      for _, c in pairs(drive(one, 3)) do
        assert.are.equal(200, c.status)
        if c.info.reused then reused = reused + 1 end
      end
      one:close()
      assert.are.equal(2, reused)
    end)

    it("cancels a transfer by id: true, no completion, out of the count", function()
      local slow = m:add{ url = http .. "/delay/5" }
      local fast = m:add{ url = http .. "/echo" }
      m:perform()
      assert.is_true(m:cancel(slow))
      assert.is_false(m:cancel(slow))
      assert.is_false(m:cancel(12345))
      local got = drive(m, 1)
      assert.is_nil(got[slow])
      assert.are.equal(200, got[fast].status)
      assert.are.equal(0, m:count())
    end)

    it("exposes sockets and a timeout so an event loop can drive it with socket_action", function()
      assert.are.equal(-1, m:timeout())
      assert.are.same({}, m:fds())
      local id = m:add{ url = http .. "/delay/0.1" }
      assert.are.equal(0, m:timeout())   -- curl wants to be kicked at once
      local got, saw_fd
      for _ = 1, 400 do
        local done = m:socket_action(nil)
        for _, s in ipairs(m:fds()) do
          saw_fd = true
          assert.are.equal("number", type(s.fd))
          assert.is_truthy(s.events == "r" or s.events == "w" or s.events == "rw")
          for _, c in ipairs(m:socket_action(s.fd, s.events)) do done[#done + 1] = c end
        end
        if done[1] then got = done[1] break end
        socket.sleep(0.01)
      end
      assert.is_true(saw_fd)
      assert.are.equal(id, got.id)
      assert.are.equal(200, got.status)
      assert.are.same({}, m:fds())
    end)
  end)

  describe("errors", function()
    local m
    before_each(function() m = core.multi() end)
    after_each(function() m:close() end)

    local function one(req)
      local id = m:add(req)
      local c = drive(m, 1)[id]
      assert.is_nil(c.status)
      assert.are.equal(core.error_mt, getmetatable(c.err))
      return c.err
    end

    it("reports a refused connection as CONNECT, never sent", function()
      local e = one{ url = "http://127.0.0.1:" .. closed_port() .. "/" }
      assert.are.equal("CONNECT", e.code)
      assert.are.equal("network", e.kind)
      assert.matches("Failed to connect", e.message)
      assert.is_false(e.sent)
    end)

    it("reports a per-request timeout as TIMEOUT and stops the transfer", function()
      local e = one{ url = http .. "/delay/5", timeout = 0.2 }
      assert.are.equal("TIMEOUT", e.code)
      assert.matches("timed out", e.message)
      assert.are.equal(0, m:count())
    end)

    it("reports a body over max_body as TOO_LARGE", function()
      local e = one{ url = http .. "/bytes/100000", max_body = 1000 }
      assert.are.equal("TOO_LARGE", e.code)
      assert.are.equal("response exceeds max_body (1000 bytes)", e.message)
    end)

    it("aborts only the transfer whose on_progress returns true (ABORTED)", function()
      local ok_id = m:add{ url = http .. "/delay/0.1" }
      local id = m:add{ url = http .. "/delay/0.1", on_progress = function() return true end }
      local got = drive(m, 2)
      assert.are.equal(200, got[ok_id].status)
      assert.are.equal("ABORTED", got[id].err.code)
      assert.are.equal("transfer aborted by on_progress", got[id].err.message)
    end)

    it("runs on_progress protected: a raise aborts that transfer as CALLBACK", function()
      local ok_id = m:add{ url = http .. "/delay/0.1" }
      local id = m:add{ url = http .. "/delay/0.1", on_progress = function() error("boom", 0) end }
      local got = drive(m, 2)
      assert.are.equal(200, got[ok_id].status)
      assert.are.equal("CALLBACK", got[id].err.code)
      assert.are.equal("usage", got[id].err.kind)
      assert.are.equal("on_progress raised: boom", got[id].err.message)
    end)

    it("refuses calls back into the multi from on_progress", function()
      local id = m:add{ url = http .. "/delay/0.1", on_progress = function() m:perform() end }
      local got = drive(m, 1)
      assert.are.equal("CALLBACK", got[id].err.code)
      assert.matches("multi is busy %(called from its own on_progress callback%)", got[id].err.message)
    end)
  end)

  describe("usage", function()
    it("rejects unknown and malformed options, naming them", function()
      raises("unknown option 'bogus'", core.multi, { bogus = 1 })
      raises("option 'max_connections' must be a non-negative integer", core.multi, { max_connections = 1.5 })
      raises("option 'max_host_connections' must be a number", core.multi, { max_host_connections = "2" })
      raises("option 'timeout' must be >= 0", core.multi, { timeout = -1 })
      raises("option 'timeout' must be at most 1000000 seconds", core.multi, { timeout = 1e9 })
      raises("option 'ca_file': cannot read '/nonexistent/ca.pem'", core.multi,
             { user_agent = "ua", ca_file = "/nonexistent/ca.pem" })
      local m = core.multi()
      raises("option 'url' must be a string", m.add, m, {})
      raises("unknown option 'nope'", m.add, m, { url = http, nope = true })
      raises("option 'connect_timeout' must be at most 1000000 seconds", m.add, m,
        { url = http, connect_timeout = 1e12 })
      raises("timeout must be >= 0", m.poll, m, -1)
      raises("events must be", m.socket_action, m, 3, "x")
      assert.are.equal(0, m:count())
      m:close()
    end)

    it("closes idempotently, with transfers in flight, and refuses use afterwards", function()
      local m = core.multi()
      for _ = 1, 5 do m:add{ url = http .. "/delay/2", body = "x", method = "PUT" } end
      m:perform()
      assert.matches("^octopus.Multi %(0x", tostring(m))
      m:close()
      m:close()
      assert.are.equal("octopus.Multi (closed)", tostring(m))
      raises("attempt to use a closed multi", m.add, m, { url = http })
      raises("attempt to use a closed multi", m.poll, m, 0)
    end)

    it("is collected with transfers in flight", function()
      local weak = setmetatable({}, { __mode = "v" })
      do
        local m = core.multi()
        for _ = 1, 3 do m:add{ url = http .. "/delay/2" } end
        m:perform()
        weak[1] = m
      end
      for _ = 1, 4 do collectgarbage() end
      assert.is_nil(weak[1])
    end)

    it("#lua54 closes as a to-be-closed variable", function()
      if _VERSION ~= "Lua 5.4" then return end
      local f = assert(load([[
        local core, url = ...
        local keep
        do
          local m <close> = core.multi()
          m:add{ url = url }
          keep = m
        end
        return tostring(keep)
      ]]))
      assert.are.equal("octopus.Multi (closed)", f(core, http .. "/delay/1"))
    end)
  end)
end)
