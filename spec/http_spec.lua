-- http_spec: the blocking HTTP session of the C core (csrc/http.c, csrc/transfer.c),
-- against the loopback echo server (spec/apps/echo.lua) over HTTP and TLS.
local core = require "octopus.core"
local cjson = require "cjson"
local helper = require "helper"

local function assert_net_error(code, pattern, st, err)
  assert.is_nil(st)
  assert.are.equal("table", type(err))
  assert.are.equal(code, err.code)
  assert.are.equal("network", err.kind)
  assert.matches(pattern, err.message)
  assert.are.equal(code .. ": " .. err.message, tostring(err))
  return err
end

local closed_port = helper.closed_port

local raises = helper.raises

-- The decoded JSON body of a request's result.
local function json_body(st, headers, body)
  assert.are.equal(200, st, body)
  return cjson.decode(body)
end

describe("#core http session", function()
  local srv, http, https, wrong_host, ca_file

  lazy_setup(function()
    srv = helper.start_server{ app = "echo", wrong_host = true }
    http, https, wrong_host, ca_file = srv.http, srv.https, srv.wrong_host, srv.ca_file
  end)

  lazy_teardown(function()
    if srv then srv:stop() end
  end)

  describe("requests", function()
    local s
    before_each(function() s = core.session() end)
    after_each(function() s:close() end)

    it("GETs a URL and returns status, headers, body and info", function()
      local st, headers, body, info = s:request{ url = http .. "/echo?a=1&b=x%20y" }
      assert.are.equal(200, st)
      assert.are.equal("application/json", headers["content-type"])
      local echo = cjson.decode(body)
      assert.are.equal("GET", echo.method)
      assert.are.equal("/echo", echo.path)
      assert.are.equal("1", echo.query.a)
      assert.are.equal("x y", echo.query.b)
      assert.are.equal("1.1", info.http_version)
      assert.are.equal(#body, info.size)
      for _, k in ipairs{ "total_time", "connect_time", "tls_time", "start_time" } do
        assert.are.equal("number", type(info[k]))
      end
    end)

    it("POSTs a body and sends custom methods with or without one", function()
      local st, _, body = s:request{ method = "POST", url = http .. "/echo",
                                     body = '{"x":1}', headers = { ["Content-Type"] = "application/json" } }
      assert.are.equal(200, st)
      local echo = cjson.decode(body)
      assert.are.equal("POST", echo.method)
      assert.are.equal('{"x":1}', echo.body)
      assert.are.equal("application/json", echo.headers["content-type"])
      for _, m in ipairs{ "PUT", "PATCH", "DELETE" } do
        echo = json_body(s:request{ method = m, url = http .. "/echo", body = m .. "!" })
        assert.are.equal(m, echo.method)
        assert.are.equal(m .. "!", echo.body)
      end
      echo = json_body(s:request{ method = "DELETE", url = http .. "/echo" })
      assert.are.equal("DELETE", echo.method)
      assert.are.equal("", echo.body)
      -- a GET after POSTs on the same handle is a plain GET again
      echo = json_body(s:request{ url = http .. "/echo" })
      assert.are.equal("GET", echo.method)
      assert.are.equal("", echo.body)
    end)

    it("sends a binary body with NUL bytes intact", function()
      local payload = "a\0b\255c"
      local echo = json_body(s:request{ method = "POST", url = http .. "/echo", body = payload })
      assert.are.equal(payload, echo.body)
    end)

    it("makes HEAD requests without reading a body", function()
      local st, headers, body = s:request{ method = "HEAD", url = http .. "/bytes/100" }
      assert.are.equal(200, st)
      assert.are.equal("100", headers["content-length"])
      assert.are.equal("", body)
    end)

    it("sends request headers, its user agent and no Expect", function()
      local _, _, body = s:request{ url = http .. "/echo",
                                    headers = { ["X-Api-Thing"] = "v1", ["X-Empty"] = "" } }
      local h = cjson.decode(body).headers
      assert.are.equal("v1", h["x-api-thing"])
      assert.are.equal("", h["x-empty"])
      assert.are.equal("octopus/" .. core.version, h["user-agent"])
      assert.is_nil(h.expect)
      local big = string.rep("b", 200000)
      local echo = json_body(s:request{ method = "POST", url = http .. "/echo", body = big })
      assert.are.equal(#big, #echo.body)
      assert.is_nil(echo.headers.expect)
    end)

    it("sends each request's own headers, also when the same table is reused and changed", function()
      local s2 = core.session{}
      local hdrs = { ["X-A"] = "1" }
      local function sent(h) return json_body(s2:request{ url = http .. "/echo", headers = h }).headers end
      assert.are.equal("1", sent(hdrs)["x-a"])
      assert.are.equal("1", sent(hdrs)["x-a"])             -- unchanged: the same list again
      hdrs["X-A"] = "2"
      assert.are.equal("2", sent(hdrs)["x-a"])
      hdrs["X-A"] = ""
      assert.are.equal("", sent(hdrs)["x-a"])
      hdrs["X-A"], hdrs["X-B"] = nil, "b"
      local h = sent(hdrs)
      assert.is_nil(h["x-a"])
      assert.are.equal("b", h["x-b"])
      h = sent(nil)
      assert.is_nil(h["x-b"])
      assert.is_nil(h.expect)
      assert.are.equal("b", sent({ ["X-B"] = "b" })["x-b"])   -- an equal table, another one
      h = sent({ ["X-B"] = "b", Expect = "" })                -- the caller's Expect replaces ours
      assert.are.equal("b", h["x-b"])
      assert.has_error(function() s2:request{ url = http .. "/echo", headers = { ["X-B"] = "b\n" } } end,
                       "header 'X-B' contains CR or LF")
      assert.are.equal("b", sent({ ["X-B"] = "b" })["x-b"])   -- after a raise mid-build
      s2:close()
    end)

    it("lets the session and the request override the user agent", function()
      local s2 = core.session{ user_agent = "my-tool/2" }
      local h = json_body(s2:request{ url = http .. "/echo" }).headers
      assert.are.equal("my-tool/2", h["user-agent"])
      h = json_body(s2:request{ url = http .. "/echo",
                                headers = { ["User-Agent"] = "other/3" } }).headers
      assert.are.equal("other/3", h["user-agent"])
      s2:close()
    end)

    it("returns response headers lower-cased, repeats joined with a comma", function()
      local st, headers = s:request{ url = http .. "/headers" }
      assert.are.equal(200, st)
      assert.are.equal("text/plain", headers["content-type"])
      assert.are.equal("one, two", headers["x-multi"])
      assert.are.equal("a=1; Path=/, b=2; Path=/", headers["set-cookie"])
      assert.is_nil(headers["Content-Type"])
    end)

    it("returns HTTP error statuses as ordinary responses", function()
      for _, n in ipairs{ 201, 400, 404, 429, 500, 503 } do
        local st, _, body = s:request{ url = http .. "/status/" .. n }
        assert.are.equal(n, st)
        assert.are.equal(n, cjson.decode(body).status)
      end
      local st, _, body = s:request{ url = http .. "/status/204" }
      assert.are.equal(204, st)
      assert.are.equal("", body)
    end)

    it("reuses the connection for the next request (keep-alive)", function()
      local _, _, _, first = s:request{ url = http .. "/echo" }
      local _, _, _, second = s:request{ url = http .. "/echo" }
      local _, _, _, third = s:request{ method = "POST", url = http .. "/echo", body = "x" }
      assert.is_false(first.reused)
      assert.is_true(second.reused)
      assert.is_true(third.reused)
    end)

    it("asks for compression and decodes a gzip body", function()
      local st, headers, body = s:request{ url = http .. "/gzip" }
      assert.are.equal(200, st)
      assert.are.equal("gzip", headers["content-encoding"])
      local t = cjson.decode(body)
      assert.is_true(t.gzipped)
      assert.are.equal(string.rep("octopus ", 64), t.filler)
    end)

    it("returns a body exactly at max_body, and large bodies whole", function()
      local _, _, body = s:request{ url = http .. "/bytes/1024", max_body = 1024 }
      assert.are.equal(1024, #body)
      _, _, body = s:request{ url = http .. "/bytes/3000000" }
      assert.are.equal(3000000, #body)
      _, _, body = s:request{ url = http .. "/stream/300000" }
      assert.are.equal(string.rep("x", 300000), body)
    end)

    it("calls on_progress with byte counts while the transfer runs", function()
      local calls, last = 0, nil
      local st = s:request{ url = http .. "/bytes/200000", on_progress = function(dl_now, dl_total, ul_now, ul_total)
        calls = calls + 1
        last = { dl_now, dl_total, ul_now, ul_total }
      end }
      assert.are.equal(200, st)
      assert.is_true(calls > 0)
      assert.are.equal(200000, last[1])
      assert.are.equal("number", type(last[3]))
    end)
  end)

  describe("failures", function()
    local s
    before_each(function() s = core.session() end)
    after_each(function() s:close() end)

    it("refuses a body over max_body declared by Content-Length (TOO_LARGE)", function()
      local err = assert_net_error("TOO_LARGE", "^response exceeds max_body %(1000 bytes%)$",
        s:request{ url = http .. "/bytes/1001", max_body = 1000 })
      assert.is_true(err.sent)
    end)

    it("refuses a chunked body that grows over max_body (TOO_LARGE)", function()
      assert_net_error("TOO_LARGE", "^response exceeds max_body %(4096 bytes%)$",
        s:request{ url = http .. "/stream/100000", max_body = 4096 })
    end)

    it("caps bodies at 64 MiB by default and per session", function()
      assert_net_error("TOO_LARGE", "^response exceeds max_body %(67108864 bytes%)$",
        s:request{ url = http .. "/big-declared" })
      local small = core.session{ max_body = 10 }
      assert_net_error("TOO_LARGE", "%(10 bytes%)", small:request{ url = http .. "/bytes/11" })
      small:close()
    end)

    it("times out when the server is slower than the timeout (TIMEOUT)", function()
      local err = assert_net_error("TIMEOUT", "[Tt]imed out",
        s:request{ url = http .. "/delay/3", timeout = 0.2 })
      assert.is_true(err.sent)
      -- the session still works afterwards
      assert.are.equal(200, (s:request{ url = http .. "/echo" }))
    end)

    it("reports a refused connection (CONNECT) as never sent", function()
      local err = assert_net_error("CONNECT", "Couldn't connect to server",
        s:request{ url = "http://127.0.0.1:" .. closed_port() .. "/" })
      assert.is_false(err.sent)
    end)

    it("reports an unknown host (DNS) as never sent", function()
      local err = assert_net_error("DNS", "^Could not resolve host: no%-such%-host%.invalid$",
        s:request{ url = "http://no-such-host.invalid/" })
      assert.is_false(err.sent)
    end)

    it("reports a malformed URL or another scheme (BAD_URL) as never sent", function()
      local err = assert_net_error("BAD_URL", "^Protocol \"ftp\" not supported",
        s:request{ url = "ftp://127.0.0.1/x" })
      assert.is_false(err.sent)
      err = assert_net_error("BAD_URL", "URL", s:request{ url = "http://[::1/" })
      assert.is_false(err.sent)
    end)

    it("reports a connection closed mid-body (NETWORK)", function()
      local err = assert_net_error("NETWORK", "^transfer closed with %d+ bytes remaining to read$",
        s:request{ url = http .. "/drop/mid" })
      assert.is_true(err.sent)
    end)

    it("reports a connection closed before any response (NETWORK)", function()
      local err = assert_net_error("NETWORK", "^Empty reply from server$",
        s:request{ url = http .. "/drop/before" })
      assert.is_true(err.sent)
    end)

    it("never puts the URL's userinfo or query in a message", function()
      local _, err = s:request{ url = "http://user:s3cretpass@no-such-host.invalid/x?token=t0psecret#frag" }
      assert.are.equal("DNS", err.code)
      assert.is_nil(err.message:find("s3cretpass", 1, true))
      assert.is_nil(err.message:find("t0psecret", 1, true))
      _, err = s:request{ url = "http://user:s3cretpass@127.0.0.1:" .. closed_port() .. "/?token=t0psecret" }
      assert.are.equal("CONNECT", err.code)
      assert.is_nil(err.message:find("s3cretpass", 1, true))
      assert.is_nil(err.message:find("t0psecret", 1, true))
    end)

    it("aborts when on_progress returns true (ABORTED)", function()
      local _, err = s:request{ url = http .. "/bytes/3000000", on_progress = function(dl_now)
        return dl_now > 0
      end }
      assert.are.equal("ABORTED", err.code)
      assert.are.equal("network", err.kind)
      assert.are.equal("transfer aborted by on_progress", err.message)
      assert.are.equal(200, (s:request{ url = http .. "/echo" }))
    end)

    it("aborts and reports an error raised by on_progress (CALLBACK)", function()
      local _, err = s:request{ url = http .. "/bytes/100000", on_progress = function()
        error("progress exploded", 0)
      end }
      assert.are.equal("CALLBACK", err.code)
      assert.are.equal("usage", err.kind)
      assert.are.equal("on_progress raised: progress exploded", err.message)
      _, err = s:request{ url = http .. "/echo", on_progress = function() error({}) end }
      assert.are.equal("on_progress raised: (error object is not a string)", err.message)
    end)

    it("refuses a request from inside its own on_progress", function()
      local _, err = s:request{ url = http .. "/bytes/100000", on_progress = function()
        s:request{ url = http .. "/echo" }
      end }
      assert.are.equal("CALLBACK", err.code)
      assert.matches("session is busy", err.message)
      assert.are.equal(200, (s:request{ url = http .. "/echo" }))
    end)
  end)

  describe("TLS", function()
    it("verifies the server against ca_file", function()
      local s = core.session{ ca_file = ca_file }
      local st, _, body, info = s:request{ url = https .. "/echo" }
      assert.are.equal(200, st)
      assert.is_true(cjson.decode(body).tls)
      assert.are.equal("number", type(info.tls_time))
      local _, _, _, again = s:request{ url = https .. "/echo" }
      assert.is_true(again.reused)
      s:close()
    end)

    it("rejects a server whose CA is unknown (TLS)", function()
      local s = core.session()
      local err = assert_net_error("TLS", "certificate", s:request{ url = https .. "/echo" })
      assert.is_false(err.sent)
      s:close()
    end)

    it("rejects a certificate for another host name (TLS)", function()
      local s = core.session{ ca_file = ca_file }
      local err = assert_net_error("TLS", "host name", s:request{ url = wrong_host .. "/echo" })
      assert.is_false(err.sent)
      s:close()
    end)
  end)

  describe("usage errors", function()
    local s
    before_each(function() s = core.session() end)
    after_each(function() s:close() end)

    it("raise for an unknown option, naming it", function()
      raises("unknown option 'verify'", core.session, { verify = false })
      raises("unknown option 'foo'", s.request, s, { url = http, foo = 1 })
      raises("unknown option (a number key)", s.request, s, { url = http, 1 })
    end)

    it("raise for bad option values, naming the option", function()
      raises("option 'url' must be a string", s.request, s, {})
      raises("option 'method' must be a string", s.request, s, { url = http, method = 1 })
      raises("option 'method' is not a valid HTTP method", s.request, s, { url = http, method = "GET /x" })
      raises("option 'body' must be a string", s.request, s, { url = http, body = {} })
      raises("option 'timeout' must be a number of seconds", s.request, s, { url = http, timeout = "5" })
      raises("option 'timeout' must be >= 0", s.request, s, { url = http, timeout = -1 })
      raises("option 'connect_timeout' must be a number", core.session, { connect_timeout = true })
      -- milliseconds for curl must fit a 32-bit long: absurd timeouts are refused, not wrapped
      raises("option 'timeout' must be at most 1000000 seconds (0 = no limit)", s.request, s,
        { url = http, timeout = 1e9 })
      raises("option 'timeout' must be at most 1000000 seconds", s.request, s, { url = http, timeout = math.huge })
      raises("option 'timeout' must be >= 0", s.request, s, { url = http, timeout = 0 / 0 })
      raises("option 'connect_timeout' must be at most 1000000 seconds", core.session, { connect_timeout = 3e6 })
      raises("option 'timeout' must be at most 1000000 seconds", core.session, { timeout = 1e6 + 1 })
      raises("option 'max_body' must be a positive size", core.session, { max_body = 0 })
      raises("option 'on_progress' must be a function", s.request, s, { url = http, on_progress = 1 })
      raises("option 'headers' must be a table", s.request, s, { url = http, headers = "x" })
      raises("option 'ca_file': cannot read '/nonexistent/ca.pem'", core.session, { ca_file = "/nonexistent/ca.pem" })
      raises("table expected", s.request, s, "http://x")
    end)

    it("raise for non-string header names or values, naming the header", function()
      raises("header names must be strings", s.request, s, { url = http, headers = { "x" } })
      raises("header 'X-A' must be a string (got a number)", s.request, s,
        { url = http, headers = { ["X-A"] = 1 } })
    end)

    it("raise for CR or LF in a header", function()
      raises("header 'X-A' contains CR or LF", s.request, s,
        { url = http, headers = { ["X-A"] = "a\r\nInjected: 1" } })
      raises("header name contains CR or LF", s.request, s,
        { url = http, headers = { ["X-A\nB"] = "v" } })
      raises("header name 'X A' is not a valid token", s.request, s,
        { url = http, headers = { ["X A"] = "v" } })
    end)

    it("accept the longest timeout and 0 (no limit)", function()
      local long = core.session{ timeout = 1e6, connect_timeout = 1e6 }
      assert.are.equal(200, (long:request{ url = http .. "/echo", timeout = 1e6, connect_timeout = 0 }))
      assert.are.equal(200, (long:request{ url = http .. "/echo", timeout = 0 }))
      long:close()
    end)

    it("leave the session usable", function()
      pcall(s.request, s, { url = http, headers = { ["X-A"] = 1 } })
      assert.are.equal(200, (s:request{ url = http .. "/echo" }))
    end)
  end)

  describe("lifetime", function()
    it("closes idempotently and says so in tostring", function()
      local s = core.session()
      assert.matches("^octopus%.Session %(0x%x+%)$", tostring(s))
      s:close()
      s:close()
      assert.are.equal("octopus.Session (closed)", tostring(s))
      raises("attempt to use a closed session", s.request, s, { url = http })
    end)

    it("is collected by the garbage collector, open or closed", function()
      local weak = setmetatable({}, { __mode = "v" })
      do
        local a = core.session()
        a:request{ url = http .. "/echo" }
        weak[1] = a
        local b = core.session()
        b:close()
        weak[2] = b
      end
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])
      assert.is_nil(weak[2])
    end)

    it("closes at the end of a <close> scope on Lua 5.4", function()
      if _VERSION ~= "Lua 5.4" then return end
      local chunk = assert(load([[
        local core = ...
        local kept
        do
          local s <close> = core.session()
          kept = s
        end
        return tostring(kept)
      ]]))
      assert.are.equal("octopus.Session (closed)", chunk(core))
    end)
  end)
end)
