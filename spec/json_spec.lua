-- json_spec: the C core's JSON codec (csrc/json.c): strict RFC 8259 decoding
-- with typed errors and byte offsets, integer/float fidelity, null and the
-- array/object markers, depth limits, big inputs, deterministic encoding and
-- the errors encode raises (naming the path).
local core = require "octopus.core"
local json = core.json
local has_integers = math.type ~= nil
local ok_cjson, cjson = pcall(require, "cjson")

-- decode must fail with exactly this code, message and offset.
local function assert_rejects(s, code, message, offset, opts)
  local v, err = json.decode(s, opts)
  assert.is_nil(v)
  assert.are.equal(code, err.code)
  assert.are.equal("decode", err.kind)
  assert.are.equal(message, err.message)
  assert.are.equal(offset, err.offset)
  assert.are.equal(code .. ": " .. message, tostring(err))
end

-- encode must raise this message.
local function assert_encode_error(v, message, opts)
  local ok, err = pcall(json.encode, v, opts)
  assert.is_false(ok)
  assert.are.equal("json.encode: " .. message, err)
end

local function sorted(v) return json.encode(v, { sort_keys = true }) end

describe("#core json.decode", function()
  it("decodes the usual REST page shape", function()
    local t = json.decode('{"count": 3, "next": null, "results": [{"consumption": 0.123}]}')
    assert.are.equal(3, t.count)
    assert.are.equal(json.null, t.next)
    assert.are.equal(0.123, t.results[1].consumption)
  end)

  it("keeps integers as integers and numbers with a fraction or exponent as floats", function()
    local t = json.decode("[0, -7, 9223372036854775807, -9223372036854775808, 1.0, 1e2, -0]")
    if has_integers then
      assert.are.equal("integer", math.type(t[1]))
      assert.are.equal("integer", math.type(t[2]))
      assert.are.equal(math.maxinteger, t[3])
      assert.are.equal(math.mininteger, t[4])
      assert.are.equal("float", math.type(t[5]))
      assert.are.equal("float", math.type(t[6]))
      assert.are.equal("float", math.type(t[7]))
      assert.are.equal("-0.0", tostring(t[7]))
    end
    assert.are.equal(-7, t[2])
    assert.are.equal(100, t[6])
  end)

  it("turns integers beyond int64 into floats", function()
    local v = json.decode("9223372036854775808")
    if has_integers then assert.are.equal("float", math.type(v)) end
    assert.are.equal(2 ^ 63, v)
  end)

  it("round-trips floats exactly", function()
    local values = { 0.1, 0.123, 1 / 3, 2 / 3, 0.1 + 0.2, 1e-300, 4.9e-324, 1.7976931348623157e308,
      123456.789, -2.5e-7, 6.02214076e23, 1e15 + 0.5, 2 ^ 53 + 2 }
    for _, x in ipairs(values) do
      local s = json.encode(x)
      assert.are.equal(x, json.decode(s), s)
      assert.are.equal(x, json.decode(string.format("%.17g", x)))
    end
  end)

  it("decodes long significands and exponents correctly rounded", function()
    assert.are.equal(0.1, json.decode("0.1000000000000000000000000001"))
    assert.are.equal(1e-5, json.decode("0.00001"))
    assert.are.equal(1.5, json.decode("15E-1"))
    assert.are.equal(0, json.decode("1e-400"))
  end)

  it("keeps huge exponents exact against long runs of zeros", function()
    -- the exponent's digits and the zeros before the first significant digit both count
    local zeros = ("0"):rep(99999)
    assert_rejects("[0." .. zeros .. "1e1000000000]", "JSON_SYNTAX", "number out of range at byte 1", 1)
    assert_rejects("-0." .. zeros .. "1e99999999999999999999", "JSON_SYNTAX", "number out of range at byte 0", 0)
    assert.are.equal(1, json.decode("0." .. zeros .. "1e100000"))
    assert.are.equal(1e-10, json.decode("0." .. zeros .. "1e99990"))
    assert.are.equal(1, json.decode("1" .. zeros .. "0e-100000"))
    assert.are.equal(0, json.decode("1" .. zeros .. "e-99999999999999999999"))
    assert.are.equal(0, json.decode("0.0e99999999999"))
  end)

  it("decodes null to the lightuserdata sentinel shared with cjson", function()
    assert.are.equal("userdata", type(json.null))
    assert.are.equal(core.null, json.null)
    assert.are.equal(json.null, json.decode("null"))
    if ok_cjson then assert.are.equal(cjson.null, json.null) end
  end)

  it("marks decoded arrays and objects, empty ones included", function()
    local t = json.decode('{"a": [], "b": {}, "c": [1]}')
    assert.are.equal(json.object_mt, getmetatable(t))
    assert.are.equal(json.array_mt, getmetatable(t.a))
    assert.are.equal(json.object_mt, getmetatable(t.b))
    assert.are.equal(json.array_mt, getmetatable(t.c))
    assert.are.equal('{"a":[],"b":{},"c":[1]}', sorted(t))
  end)

  it("decodes escapes, surrogate pairs and raw UTF-8", function()
    assert.are.equal('"\\/\b\f\n\r\t', json.decode('"\\"\\\\\\/\\b\\f\\n\\r\\t"'))
    assert.are.equal("é€😀", json.decode('"\\u00e9\\u20AC\\ud83d\\ude00"'))
    assert.are.equal("a\0b", json.decode('"a\\u0000b"'))
    assert.are.equal("日本 😀", json.decode('"日本 😀"'))
  end)

  it("accepts scalars at the top level and surrounding whitespace", function()
    assert.are.equal("x", json.decode(' \t\r\n"x"\n'))
    assert.is_true(json.decode("true"))
    assert.is_false(json.decode("false"))
  end)

  it("keeps the last of duplicate keys", function()
    assert.are.equal(2, json.decode('{"a":1,"a":2}').a)
  end)

  describe("rejects", function()
    it("syntax errors with the byte offset", function()
      assert_rejects("", "JSON_SYNTAX", "unexpected end of input (expected a value) at byte 0", 0)
      assert_rejects("[1,]", "JSON_SYNTAX", "unexpected character ']' (expected a value) at byte 3", 3)
      assert_rejects('{"a" 1}', "JSON_SYNTAX", "unexpected character '1' (expected ':') at byte 5", 5)
      assert_rejects("[1 2]", "JSON_SYNTAX", "unexpected character '2' (expected ',' or ']') at byte 3", 3)
      assert_rejects('{"a":1,}', "JSON_SYNTAX", "unexpected character '}' (expected a string key) at byte 7", 7)
      assert_rejects("{'a':1}", "JSON_SYNTAX", "unexpected character ''' (expected a string key) at byte 1", 1)
      assert_rejects("[1", "JSON_SYNTAX", "unexpected end of input (expected ',' or ']') at byte 2", 2)
      assert_rejects("nul", "JSON_SYNTAX", "unexpected end of input (expected a value) at byte 3", 3)
      assert_rejects("trUe", "JSON_SYNTAX", "unexpected character 'U' (expected a value) at byte 2", 2)
      assert_rejects("NaN", "JSON_SYNTAX", "unexpected character 'N' (expected a value) at byte 0", 0)
      assert_rejects("\239\187\191{}", "JSON_SYNTAX", "unexpected byte 0xEF (expected a value) at byte 0", 0)
    end)

    it("trailing garbage", function()
      assert_rejects('{"a":1} x', "JSON_SYNTAX", "trailing characters after the value at byte 8", 8)
      assert_rejects("1 2", "JSON_SYNTAX", "trailing characters after the value at byte 2", 2)
      assert_rejects("[]\0", "JSON_SYNTAX", "trailing characters after the value at byte 2", 2)
    end)

    it("malformed numbers", function()
      assert_rejects("01", "JSON_SYNTAX", "leading zero in number at byte 0", 0)
      assert_rejects("[-012]", "JSON_SYNTAX", "leading zero in number at byte 2", 2)
      assert_rejects("1.", "JSON_SYNTAX", "unexpected end of input (expected a digit after '.') at byte 2", 2)
      assert_rejects(".5", "JSON_SYNTAX", "unexpected character '.' (expected a value) at byte 0", 0)
      assert_rejects("1e+", "JSON_SYNTAX", "unexpected end of input (expected a digit in the exponent) at byte 3", 3)
      assert_rejects("-", "JSON_SYNTAX", "unexpected end of input (expected a digit) at byte 1", 1)
      assert_rejects("+1", "JSON_SYNTAX", "unexpected character '+' (expected a value) at byte 0", 0)
      assert_rejects("0x10", "JSON_SYNTAX", "trailing characters after the value at byte 1", 1)
      assert_rejects("[1e400]", "JSON_SYNTAX", "number out of range at byte 1", 1)
    end)

    it("bad strings", function()
      assert_rejects('"abc', "JSON_SYNTAX", "unterminated string at byte 4", 4)
      assert_rejects('"a\\qb"', "JSON_SYNTAX", "invalid escape in string at byte 2", 2)
      assert_rejects('"\\u12G4"', "JSON_SYNTAX", "invalid \\u escape at byte 1", 1)
      assert_rejects('"\\u\16\16\16\16"', "JSON_SYNTAX", "invalid \\u escape at byte 1", 1)
      assert_rejects('"\\u12"', "JSON_SYNTAX", "invalid \\u escape at byte 1", 1)
      assert_rejects('"a\1"', "JSON_SYNTAX", "control character in string at byte 2", 2)
      assert_rejects('"tab\there"', "JSON_SYNTAX", "control character in string at byte 4", 4)
      assert_rejects('"x\\n\10"', "JSON_SYNTAX", "control character in string at byte 4", 4)
    end)

    it("invalid UTF-8 and lone surrogates with JSON_UTF8", function()
      assert_rejects('"\255"', "JSON_UTF8", "invalid UTF-8 in string at byte 1", 1)
      assert_rejects('["ok", "\195\40"]', "JSON_UTF8", "invalid UTF-8 in string at byte 8", 8)
      assert_rejects('"\192\128"', "JSON_UTF8", "invalid UTF-8 in string at byte 1", 1)      -- overlong NUL
      assert_rejects('"\237\160\128"', "JSON_UTF8", "invalid UTF-8 in string at byte 1", 1)  -- UTF-8 surrogate
      assert_rejects('"\244\144\128\128"', "JSON_UTF8", "invalid UTF-8 in string at byte 1", 1) -- > U+10FFFF
      assert_rejects('"\\n\226\130"', "JSON_UTF8", "invalid UTF-8 in string at byte 3", 3)   -- truncated
      assert_rejects('"\\ud800"', "JSON_UTF8", "lone high surrogate in \\u escape at byte 1", 1)
      assert_rejects('"\\ud800\\u0041"', "JSON_UTF8", "lone high surrogate in \\u escape at byte 1", 1)
      assert_rejects('"x\\udc00"', "JSON_UTF8", "lone low surrogate in \\u escape at byte 2", 2)
    end)
  end)

  describe("depth", function()
    it("allows 1000 levels by default and rejects 1001 with JSON_DEPTH", function()
      local ok = string.rep("[", 1000) .. string.rep("]", 1000)
      assert.is_table(json.decode(ok))
      assert_rejects("[" .. ok .. "]", "JSON_DEPTH", "nesting deeper than 1000 at byte 1000", 1000)
    end)

    it("takes a per-call max_depth", function()
      assert.is_table(json.decode('{"a":[1]}', { max_depth = 2 }))
      assert_rejects('{"a":[[1]]}', "JSON_DEPTH", "nesting deeper than 2 at byte 6", 6, { max_depth = 2 })
      assert.is_table(json.decode(string.rep("[", 5000) .. string.rep("]", 5000), { max_depth = 5000 }))
    end)

    it("raises on bad options, naming them", function()
      assert.has_error(function() json.decode("1", { max_depth = 0 }) end,
        "bad argument #2 to 'decode' (max_depth must be an integer in 1..10000)")
      assert.has_error(function() json.decode("1", { depth = 3 }) end,
        "bad argument #2 to 'decode' (unknown option 'depth')")
    end)
  end)

  describe("big inputs", function()
    it("rejects 10 MB of nesting quickly with JSON_DEPTH", function()
      local s = string.rep("[", 10 * 1024 * 1024)
      assert_rejects(s, "JSON_DEPTH", "nesting deeper than 1000 at byte 1000", 1000)
    end)

    it("decodes a 20 MB string", function()
      local body = string.rep("abcdefghij", 2 * 1024 * 1024)
      assert.are.equal(#body, #json.decode('"' .. body .. '"'))
      local escaped = json.decode('["' .. body .. '\\n' .. body .. '"]')
      assert.are.equal(2 * #body + 1, #escaped[1])
    end)

    it("reports an unterminated 20 MB string at its end", function()
      local s = '"' .. string.rep("x", 20 * 1024 * 1024)
      assert_rejects(s, "JSON_SYNTAX", "unterminated string at byte " .. #s, #s)
    end)
  end)
end)

describe("#core json.encode", function()
  it("encodes scalars, null and nil", function()
    assert.are.equal('"x"', json.encode("x"))
    assert.are.equal("true", json.encode(true))
    assert.are.equal("null", json.encode(json.null))
    assert.are.equal("null", json.encode(nil))
    assert.are.equal("-12", json.encode(-12))
    assert.are.equal("0.5", json.encode(0.5))
  end)

  it("keeps float-ness of integral floats on 5.3+", function()
    if has_integers then
      assert.are.equal("1.0", json.encode(1.0))
      assert.are.equal("1", json.encode(1))
      assert.are.equal("9223372036854775807", json.encode(math.maxinteger))
      assert.are.equal("-0.0", json.encode(-0.0))
      assert.are.equal("float", math.type(json.decode(json.encode(100.0))))
    else
      assert.are.equal("1", json.encode(1.0))
    end
  end)

  it("encodes sequences as arrays and string-keyed tables as objects", function()
    assert.are.equal("[1,2,3]", json.encode { 1, 2, 3 })
    assert.are.equal('{"a":1}', json.encode { a = 1 })
  end)

  it("encodes an unmarked empty table as {} and json.array{} as []", function()
    assert.are.equal("{}", json.encode {})
    assert.are.equal("[]", json.encode(json.array {}))
    assert.are.equal("{}", json.encode(json.object {}))
    assert.are.equal('{"ids":[]}', json.encode { ids = json.array {} })
  end)

  it("returns the table it marks and creates one when given none", function()
    local t = {}
    assert.are.equal(t, json.array(t))
    assert.are.equal(json.array_mt, getmetatable(t))
    assert.are.equal(json.object_mt, getmetatable(json.object()))
  end)

  it("sorts keys by bytes with sort_keys, at every level", function()
    local t = { b = 1, a = { z = 1, y = { 2 }, Z = 3 }, ["a b"] = 2, [""] = 0 }
    local s = json.encode(t, { sort_keys = true })
    assert.are.equal('{"":0,"a":{"Z":3,"y":[2],"z":1},"a b":2,"b":1}', s)
    for _ = 1, 5 do assert.are.equal(s, json.encode(t, { sort_keys = true })) end
  end)

  it("escapes quotes, backslashes and control characters, keeping UTF-8 and '/'", function()
    assert.are.equal('"\\"\\\\/"', json.encode('"\\/'))
    assert.are.equal('"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f"', json.encode("\b\f\n\r\t\0\1\31"))
    assert.are.equal('"é😀\127"', json.encode("é😀\127"))
  end)

  it("round-trips what it decodes", function()
    local s = '{"a":[1,2.5,"x",null,true,false,[],{}],"b":{"c":-0.001,"d":"\\u0001"}}'
    assert.are.equal(s, sorted(json.decode(s)))
  end)

  describe("raises, naming the problem and the path", function()
    it("on NaN and infinities", function()
      assert_encode_error(0 / 0, "cannot encode NaN at $")
      assert_encode_error({ a = { 1, 1 / 0 } }, "cannot encode infinity at $.a[1]")
      assert_encode_error({ results = { {}, {}, {}, { x = -1 / 0 } } }, "cannot encode infinity at $.results[3].x")
    end)

    it("on functions, threads and userdata other than null", function()
      assert_encode_error(print, "cannot encode a function at $")
      assert_encode_error({ ["odd key"] = { coroutine.create(function() end) } }, 'cannot encode a thread at $["odd key"][0]')
      assert_encode_error({ f = io.stdout }, "cannot encode a userdata at $.f")
    end)

    it("on sparse and mixed tables", function()
      assert_encode_error({ 1, nil, 3 }, "sparse array (holes between integer keys) at $")
      assert_encode_error({ a = { [2] = 1 } }, "sparse array (holes between integer keys) at $.a")
      assert_encode_error({ 1, 2, x = 3 }, "mixed table (string and integer keys) at $")
      assert_encode_error({ x = { y = 1, [1] = 2 } }, "mixed table (string and integer keys) at $.x")
      assert_encode_error({ [true] = 1 }, "table key is neither a string nor an integer at $")
      assert_encode_error({ [1.5] = 1 }, "array key is not a positive integer at $")
      assert_encode_error(json.array { x = 1 }, "mixed table (string and integer keys) at $")
    end)

    it("on cycles, through the depth limit", function()
      local t = {}
      t.self = t
      local ok, err = pcall(json.encode, t)
      assert.is_false(ok)
      assert.matches("^json%.encode: nesting deeper than 1000 %(a cycle%?%) at %$%.self%.self", err)
      assert_encode_error({ { { 1 } } }, "nesting deeper than 2 (a cycle?) at $[0][0]", { max_depth = 2 })
    end)

    it("on non-string keys when sorting, naming the table", function()
      assert_encode_error({ a = { x = 1, [2] = 1 } }, "mixed table (string and integer keys) at $.a",
        { sort_keys = true })
    end)

    it("on invalid UTF-8 in strings", function()
      assert_encode_error({ "ok", "\255" }, "invalid UTF-8 in string at $[1]")
    end)

    it("on bad options", function()
      assert.has_error(function() json.encode({}, { sort_keys = 1 }) end,
        "bad argument #2 to 'encode' (sort_keys must be a boolean)")
      assert.has_error(function() json.encode({}, { indent = 2 }) end,
        "bad argument #2 to 'encode' (unknown option 'indent')")
    end)
  end)
end)
