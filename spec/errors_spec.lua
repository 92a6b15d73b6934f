-- octopus.errors: error objects, adopting C errors, redaction, HTTP dates, Retry-After.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local socket = require "socket"

-- raises(fn, text): fn raises a message ending with text (callers' positions vary).
local function raises(fn, text)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.are.equal(text, tostring(err):sub(-#text))
end

describe("octopus.pipeline.errors", function()
  describe("new", function()
    it("builds an error that prints as CODE: message", function()
      local e = errors.new { code = "NOT_FOUND", kind = "http", status = 404, message = "Not found.",
                             method = "GET", url = "https://x.test/v1/products/NOPE/" }
      assert.are.equal("NOT_FOUND: Not found.", tostring(e))
      assert.are.equal(404, e.status)
      assert.are.equal("GET", e.method)
      assert.is_false(e.retryable)
      assert.is_true(errors.is(e))
    end)

    it("shares its metatable with the C core's errors", function()
      local _, cerr = core.json.decode("{")
      assert.are.equal(core.error_mt, getmetatable(errors.new { code = "X", kind = "usage" }))
      assert.is_true(errors.is(cerr))
      assert.is_false(errors.is({ code = "X", kind = "usage" }))
      assert.is_false(errors.is("X: y"))
    end)

    it("derives a message when none is given", function()
      assert.are.equal("TIMEOUT: the request timed out", tostring(errors.new { code = "TIMEOUT", kind = "network" }))
      assert.are.equal("HTTP_418: HTTP 418", tostring(errors.new { code = "HTTP_418", kind = "http", status = 418 }))
      assert.are.equal("KT-CT-9999: kt-ct-9999", tostring(errors.new { code = "KT-CT-9999", kind = "graphql" }))
    end)

    it("marks retryable codes by default and lets the caller override", function()
      assert.is_true(errors.new { code = "RATE_LIMITED", kind = "rate_limit", retry_after = 3 }.retryable)
      assert.is_true(errors.new { code = "HTTP_503", kind = "http" }:is_retryable())
      assert.is_false(errors.new { code = "HTTP_500", kind = "http" }:is_retryable())
      assert.is_true(errors.new { code = "BLOCKED", kind = "http", retryable = true }:is_retryable())
      assert.is_false(errors.new { code = "TIMEOUT", kind = "network", retryable = false }:is_retryable())
    end)

    it("keeps the structured fields it is given", function()
      local e = errors.new { code = "VALIDATION", kind = "http", status = 400, attempts = 2,
                             fields = { postcode = { "bad" } }, errors = { { message = "m" } },
                             data = { a = 1 } }
      assert.are.same({ postcode = { "bad" } }, e.fields)
      assert.are.equal("m", e.errors[1].message)
      assert.are.equal(1, e.data.a)
      assert.are.equal(2, e.attempts)
    end)

    it("raises when code or kind is missing or wrong", function()
      raises(function() errors.new { kind = "http" } end,
        "octopus.errors.new: 'code' must be a non-empty string (got nil)")
      raises(function() errors.new { code = "X" } end,
        "octopus.errors.new: 'kind' must be one of network, http, graphql, auth, rate_limit, decode, usage, io, storage, money (got nil)")
      raises(function() errors.new { code = "X", kind = "oops" } end,
        "octopus.errors.new: 'kind' must be one of network, http, graphql, auth, rate_limit, decode, usage, io, storage, money (got oops)")
      raises(function() errors.new { code = "X", kind = "http", message = 5 } end,
        "octopus.errors.new: 'message' must be a string (got number)")
      raises(function() errors.new { code = "X", kind = "http", status = "404" } end,
        "octopus.errors.new: 'status' must be a number (got string)")
      raises(function() errors.new "X" end, "octopus.errors.new: expected a table (got string)")
    end)
  end)

  describe("from_core", function()
    local session
    before_each(function() session = core.session { timeout = 0.3, connect_timeout = 2 } end)
    after_each(function() session:close() end)

    it("adopts a refused connection as a retryable CONNECT error with a redacted URL", function()
      local probe = assert(socket.bind("127.0.0.1", 0))
      local _, port = probe:getsockname()
      probe:close()
      local url = "http://user:pw@127.0.0.1:" .. port .. "/v1/x/?api_key=sk_live_1&page=2"
      local status, cerr = session:request { url = url }
      assert.is_nil(status)
      local e = errors.from_core(cerr, { method = "GET", url = url })
      assert.are.equal("CONNECT", e.code)
      assert.are.equal("network", e.kind)
      assert.are.equal(cerr.message, e.message)
      assert.is_false(e.sent)
      assert.is_true(e.retryable)
      assert.are.equal("GET", e.method)
      assert.are.equal("http://127.0.0.1:" .. port .. "/v1/x/?api_key=REDACTED&page=2", e.url)
      assert.is_nil(tostring(e):find("sk_live_1", 1, true))
      assert.are.equal("CONNECT: " .. cerr.message, tostring(e))
    end)

    it("adopts a server that never answers as a retryable TIMEOUT", function()
      local srv = assert(socket.bind("127.0.0.1", 0))
      local _, port = srv:getsockname()
      local _, cerr = session:request { url = "http://127.0.0.1:" .. port .. "/slow" }
      srv:close()
      local e = errors.from_core(cerr, { method = "GET", url = "http://127.0.0.1:" .. port .. "/slow" })
      assert.are.equal("TIMEOUT", e.code)
      assert.is_true(e:is_retryable())
    end)

    it("never retries TLS, DNS, BAD_URL, TOO_LARGE or decode failures", function()
      for _, code in ipairs { "TLS", "DNS", "BAD_URL", "TOO_LARGE" } do
        local e = errors.from_core(setmetatable({ code = code, kind = "network", message = "m" }, core.error_mt))
        assert.is_false(e.retryable)
      end
      local _, jerr = core.json.decode("[1,")
      local e = errors.from_core(jerr)
      assert.are.equal("JSON_SYNTAX", e.code)
      assert.are.equal("decode", e.kind)
      assert.are.equal(jerr.offset, e.offset)
      assert.is_false(e.retryable)
    end)

    it("raises on something that is not an error", function()
      raises(function() errors.from_core("boom") end,
        "octopus.errors.from_core: expected a core error (got string)")
    end)
  end)

  describe("redact_url", function()
    it("drops userinfo", function()
      assert.are.equal("https://api.test/v1/", errors.redact_url("https://key:@api.test/v1/"))
      assert.are.equal("https://api.test/v1/?page=2", errors.redact_url("https://a:b@c@api.test/v1/?page=2"))
    end)

    it("masks the values of secret-looking query keys, case-insensitively", function()
      assert.are.equal(
        "https://h/v1/?API_KEY=REDACTED&apikey=REDACTED&Token=REDACTED&password=REDACTED&client_secret=REDACTED" ..
        "&X-Amz-Signature=REDACTED&refresh=REDACTED&page=3&flag#top",
        errors.redact_url("https://h/v1/?API_KEY=a&apikey=b&Token=c&password=d&client_secret=e" ..
                          "&X-Amz-Signature=f&refresh=g&page=3&flag#top"))
      assert.are.equal("/v1/?access%5Ftoken=REDACTED", errors.redact_url("/v1/?access%5Ftoken=zz"))
    end)

    it("leaves clean URLs, redacted URLs and non-strings alone", function()
      local u = "https://api.oejp-kraken.energy/v1/products/?is_green=true"
      assert.are.equal(u, errors.redact_url(u))
      local once = errors.redact_url("https://u:p@h/?token=t")
      assert.are.equal(once, errors.redact_url(once))
      assert.is_nil(errors.redact_url(nil))
    end)
  end)

  describe("redact", function()
    it("replaces every occurrence of each secret as plain text", function()
      assert.are.equal("bad key [REDACTED] ([REDACTED]) and [REDACTED]",
        errors.redact("bad key sk.%1 (sk.%1) and a+b", { "sk.%1", "a+b" }))
    end)

    it("ignores empty and non-string secrets and non-string input", function()
      assert.are.equal("text", errors.redact("text", { "", false, 3 }))
      assert.are.equal("text", errors.redact("text", nil))
      assert.are.equal(5, errors.redact(5, { "5" }))
    end)
  end)

  describe("http_date", function()
    it("parses the IMF-fixdate form", function()
      assert.are.equal(784111777, errors.http_date("Sun, 06 Nov 1994 08:49:37 GMT"))
      assert.are.equal(1795608000, errors.http_date("Wed, 25 Nov 2026 12:00:00 GMT"))
      assert.are.equal(1709164800, errors.http_date("Thu, 29 Feb 2024 00:00:00 GMT"))
    end)

    it("parses the obsolete RFC 850 and asctime forms", function()
      assert.are.equal(784111777, errors.http_date("Sunday, 06-Nov-94 08:49:37 GMT"))
      assert.are.equal(784111777, errors.http_date("Sun Nov  6 08:49:37 1994"))
    end)

    it("returns nil for anything else", function()
      for _, s in ipairs { "", "tomorrow", "Sun, 06 Nov 1994 08:49:37 JST", "Sun, 31 Feb 2026 00:00:00 GMT",
                           "Xyz, 06 Nov 1994 08:49:37 GMT", "Fri, 29 Feb 2026 00:00:00 GMT",
                           "Sun, 06 Nov 1994 24:00:00 GMT" } do
        assert.is_nil(errors.http_date(s), s)
      end
      assert.is_nil(errors.http_date(nil))
    end)
  end)

  describe("retry_after", function()
    it("reads delay-seconds", function()
      assert.are.equal(120, errors.retry_after("120"))
      assert.are.equal(0, errors.retry_after(" 0 "))
    end)

    it("reads an HTTP date relative to now, never negative", function()
      local now = 784111777
      assert.are.equal(60, errors.retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now))
      assert.are.equal(1, errors.retry_after("Sun, 06 Nov 1994 08:49:38 GMT", now + 0.5))
      assert.are.equal(0, errors.retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 30))
    end)

    it("returns nil for values it cannot read", function()
      assert.is_nil(errors.retry_after("-5"))
      assert.is_nil(errors.retry_after("1.5"))
      assert.is_nil(errors.retry_after("soon"))
      assert.is_nil(errors.retry_after(nil))
    end)
  end)
end)
