-- protocol_spec: how the C core classifies replies that break HTTP (csrc/transfer.c),
-- blocking and in a multi, against spec/raw_server.lua (canned broken bytes on loopback).
-- The request was sent every time, so err.sent is true; what the server sent never
-- raises: it is `nil, err` (a completion with err in a multi), PROTOCOL or TOO_LARGE;
-- through the client (public API), blocking and in a task, neither is retried.
local core = require "octopus.core"
local socket = require "socket"
local helper = require "helper"

-- Starts `lua5.4 spec/raw_server.lua`: its base URL and a stop function.
local function start_raw()
  local dir = helper.run("mktemp -d /tmp/octopus-raw.XXXXXXXX"):gsub("%s+$", "")
  os.execute(("lua5.4 spec/raw_server.lua 120 > %s 2>&1 < /dev/null &"):format(helper.quote(dir .. "/out")))
  local port
  local deadline = socket.gettime() + 10
  while not port and socket.gettime() < deadline do
    port = (helper.read_file(dir .. "/out") or ""):match("^PORT (%d+)\n")
    if not port then socket.sleep(0.02) end
  end
  assert(port, "raw server did not start: " .. tostring(helper.read_file(dir .. "/out")))
  local base = "http://127.0.0.1:" .. port
  return base, function()
    pcall(function()
      local c = helper.connect(base, 2)
      c:send("GET /quit HTTP/1.1\r\nHost: x\r\n\r\n")
      c:close()
    end)
    os.execute("rm -rf " .. helper.quote(dir))
  end
end

-- Every case: path, expected code, a plain substring of the message.
local CASES = {
  { "http09", "PROTOCOL", "Received HTTP/0.9 when not allowed" },
  { "garbage_status", "PROTOCOL", "Received HTTP/0.9 when not allowed" },
  { "bad_status", "PROTOCOL", "Unsupported response code in HTTP response" },
  { "two_lengths", "PROTOCOL", "conflicting Content-Length headers in the response" },
  { "bad_length", "PROTOCOL", "Invalid Content-Length" },
  { "negative_length", "PROTOCOL", "Invalid Content-Length" },
  { "no_colon", "PROTOCOL", "Header without colon" },
  { "bad_gzip", "PROTOCOL", "Error while processing content unencoding" },
  { "bad_chunk", "PROTOCOL", "Too long hexadecimal number in chunked-encoding" },
  { "long_line", "TOO_LARGE", "response header line exceeds libcurl's limit (102400 bytes)" },
  { "many_headers", "TOO_LARGE", "response headers exceed 262144 bytes" },
  { "huge_headers", "TOO_LARGE", "response headers exceed 262144 bytes" },
  { "continue_flood", "TOO_LARGE", "response headers exceed 262144 bytes" },
}

local function check_err(case, err)
  assert.are.equal("table", type(err), case[1])
  assert.are.equal(core.error_mt, getmetatable(err))
  assert.are.equal(case[2], err.code, case[1] .. ": " .. tostring(err.message))
  assert.are.equal("network", err.kind)
  assert.is_truthy(err.message:find(case[3], 1, true), case[1] .. ": " .. err.message)
  assert.is_true(err.sent, case[1] .. " was sent")
end

describe("#core replies that break HTTP", function()
  local base, stop

  lazy_setup(function() base, stop = start_raw() end)
  lazy_teardown(function() if stop then stop() end end)

  it("come back from session:request as nil, err with sent = true (never a raise)", function()
    local s = core.session()
    for _, case in ipairs(CASES) do
      local ok, st, err = pcall(s.request, s, { method = "POST", url = base .. "/" .. case[1], body = "x" })
      assert.is_true(ok, case[1] .. " raised: " .. tostring(st))
      assert.is_nil(st)
      check_err(case, err)
    end
    -- the session still works, and a well-formed reply is a response
    local st, headers, body = s:request{ url = base .. "/ok" }
    assert.are.equal(200, st)
    assert.are.equal("5", headers["content-length"])
    assert.are.equal("hello", body)
    s:close()
  end)

  it("come back from a multi as completions with err, one per transfer", function()
    local m = core.multi()
    local ids = {}
    for i, case in ipairs(CASES) do ids[m:add{ url = base .. "/" .. case[1] }] = i end
    local ok_id = m:add{ url = base .. "/ok" }
    local got, n = {}, 0
    for _ = 1, 400 do
      if n == #CASES + 1 then break end
      local ok, done = pcall(m.poll, m, 50)
      assert.is_true(ok, "poll raised: " .. tostring(done))
      for _, c in ipairs(done) do
        assert.is_nil(got[c.id], "a transfer completed twice")
        got[c.id], n = c, n + 1
      end
    end
    assert.are.equal(#CASES + 1, n, "transfers still in flight")
    for id, i in pairs(ids) do
      assert.is_nil(got[id].status)
      check_err(CASES[i], got[id].err)
    end
    assert.are.equal(200, got[ok_id].status)
    assert.are.equal(0, m:count())
    m:close()
  end)

  it("accept a repeated Content-Length with the same value (RFC 9110)", function()
    local s = core.session()
    local st, _, body = s:request{ url = base .. "/same_lengths" }
    assert.are.equal(200, st)
    assert.are.equal("hello", body)
    s:close()
  end)

  it("keep BAD_URL, never sent, for a scheme that is not HTTP", function()
    local s = core.session()
    local st, err = s:request{ url = "ftp://127.0.0.1/x" }
    assert.is_nil(st)
    assert.are.equal("BAD_URL", err.code)
    assert.is_false(err.sent)
    s:close()
  end)
end)

describe("#core replies that break HTTP, through the client", function()
  local base, stop
  local octopus = require "octopus"

  lazy_setup(function() base, stop = start_raw() end)
  lazy_teardown(function() if stop then stop() end end)

  local function hits(name)
    local s = core.session()
    local st, _, body = s:request{ url = base .. "/hits/" .. name }
    s:close()
    assert.are.equal(200, st)
    return tonumber(body)
  end

  -- A client whose REST API is the raw server's route `name`.
  local function client_for(name)
    return octopus.new{ api_key = "sk_test_protocol", rest_url = base .. "/" .. name .. "/v1/",
                        retries = 3 }
  end

  for _, case in ipairs{ { "many_headers", "TOO_LARGE" }, { "long_line", "TOO_LARGE" },
                         { "continue_flood", "TOO_LARGE" }, { "http09", "PROTOCOL" },
                         { "two_lengths", "PROTOCOL" }, { "bad_chunk", "PROTOCOL" } } do
    local name, code = case[1], case[2]
    it(("returns %s for %s, blocking and in a task, sent once"):format(code, name), function()
      local client = client_for(name)
      local before = hits(name)
      local v, err = client.products:get("X")
      assert.is_nil(v)
      assert.are.equal(code, err.code)
      assert.are.equal(before + 1, hits(name))
      local task = client:spawn(function() return client.products:get("X") end)
      local tv, terr = task:wait()
      assert.is_true(task:done())
      assert.is_nil(tv)
      assert.are.equal(code, terr.code)
      assert.are.equal(before + 2, hits(name))
      client:close()
    end)
  end
end)
