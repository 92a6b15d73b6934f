-- auth_spec: the C core's auth primitives (csrc/auth.c): base64 and base64url
-- (RFC 4648 vectors, strict decoding), the Basic header value, JWT claims.
local core = require "octopus.core"

local RFC4648 = {
  { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
  { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
}

local function assert_error(code, kind, message, v, err)
  assert.is_nil(v)
  assert.are.equal(code, err.code)
  assert.are.equal(kind, err.kind)
  assert.are.equal(message, err.message)
  assert.are.equal(code .. ": " .. message, tostring(err))
end

local function all_bytes()
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  return table.concat(t)
end

describe("#core base64", function()
  it("encodes the RFC 4648 test vectors", function()
    for _, v in ipairs(RFC4648) do
      assert.are.equal(v[2], core.base64_encode(v[1]))
    end
  end)

  it("decodes the RFC 4648 test vectors", function()
    for _, v in ipairs(RFC4648) do
      assert.are.equal(v[1], core.base64_decode(v[2]))
    end
  end)

  it("round-trips every byte value, including NUL", function()
    local s = all_bytes()
    assert.are.equal(s, core.base64_decode(core.base64_encode(s)))
    assert.are.equal("AP8=", core.base64_encode("\0\255"))
  end)

  it("uses + and / in the standard alphabet", function()
    assert.are.equal("+/+/", core.base64_encode("\251\255\191"))
  end)

  it("rejects a character outside the alphabet, naming its offset", function()
    assert_error("BASE64", "decode", "invalid character at byte 4", core.base64_decode("Zm9v!A=="))
    assert_error("BASE64", "decode", "invalid character at byte 1", core.base64_decode("Z-9v"))
  end)

  it("rejects unpadded input", function()
    assert_error("BASE64", "decode", "invalid length (not padded to a multiple of 4)",
      core.base64_decode("Zg"))
  end)

  it("rejects padding in the wrong place or too much of it", function()
    assert_error("BASE64", "decode", "invalid padding at byte 2", core.base64_decode("Zg=a"))
    assert_error("BASE64", "decode", "invalid padding", core.base64_decode("Z==="))
    assert_error("BASE64", "decode", "invalid padding", core.base64_decode("Zm9v===="))
    assert_error("BASE64", "decode", "invalid padding", core.base64_decode("Zm8=="))
  end)

  it("rejects non-canonical trailing bits", function()
    assert_error("BASE64", "decode", "non-zero trailing bits", core.base64_decode("Zh=="))
  end)

  it("raises when given something other than a string", function()
    assert.has_error(function() core.base64_encode({}) end)
    assert.has_error(function() core.base64_decode(nil) end)
  end)
end)

describe("#core base64url", function()
  it("encodes without padding, with - and _", function()
    for _, v in ipairs(RFC4648) do
      assert.are.equal((v[2]:gsub("=", "")), core.base64url_encode(v[1]))
    end
    assert.are.equal("-_-_", core.base64url_encode("\251\255\191"))
  end)

  it("decodes with or without padding", function()
    for _, v in ipairs(RFC4648) do
      assert.are.equal(v[1], core.base64url_decode(v[2]))
      assert.are.equal(v[1], core.base64url_decode((v[2]:gsub("=", ""))))
    end
  end)

  it("round-trips every byte value", function()
    local s = all_bytes()
    assert.are.equal(s, core.base64url_decode(core.base64url_encode(s)))
  end)

  it("rejects the standard alphabet's + and /", function()
    assert_error("BASE64", "decode", "invalid character at byte 0", core.base64url_decode("+/+/"))
  end)

  it("rejects an impossible length and partial padding", function()
    assert_error("BASE64", "decode", "invalid length", core.base64url_decode("Zm9vY"))
    assert_error("BASE64", "decode", "invalid padding", core.base64url_decode("Zg="))
  end)
end)

describe("#core basic_auth", function()
  it("builds the Basic header value for an API key with an empty password", function()
    assert.are.equal("Basic " .. core.base64_encode("sk_test_abc:"), core.basic_auth("sk_test_abc"))
    assert.are.equal("Basic YTo=", core.basic_auth("a"))
    assert.are.equal("Basic YWI6", core.basic_auth("ab"))
    assert.are.equal("Basic YWJjOg==", core.basic_auth("abc"))
  end)

  it("raises naming api_key when the key is missing, empty or not a string", function()
    for _, bad in ipairs({ "", 42, false }) do
      local ok, msg = pcall(core.basic_auth, bad)
      assert.is_false(ok)
      assert.matches("api_key must be a non-empty string", msg, 1, true)
    end
    local ok, msg = pcall(core.basic_auth)
    assert.is_false(ok)
    assert.matches("api_key must be a non-empty string", msg, 1, true)
  end)
end)

describe("#core jwt_claims", function()
  local b64u = core.base64url_encode
  local HEADER = b64u('{"alg":"HS256","typ":"JWT"}')
  local function token(payload_json, sig)
    return HEADER .. "." .. b64u(payload_json) .. "." .. (sig or "c2lnbmF0dXJl")
  end
  local has_json = core.json and core.json.decode

  local function assert_malformed(message, tok)
    local v, err = core.jwt_claims(tok)
    assert_error("JWT_MALFORMED", "auth", message, v, err)
    assert.is_nil(err.message:find(tok, 1, true))
  end

  it("returns the payload's claims without checking the signature", function()
    if not has_json then pending("core.json is not built yet") return end
    local claims = assert(core.jwt_claims(token(
      '{"sub":"kraken|account-user:123","exp":1790000000,"iat":1789996400,'
      .. '"tokenUse":"access","scopes":["a","b"]}')))
    assert.are.equal("kraken|account-user:123", claims.sub)
    assert.are.equal(1790000000, claims.exp)
    assert.are.equal(1789996400, claims.iat)
    assert.are.equal("b", claims.scopes[2])
  end)

  it("accepts an empty signature part", function()
    if not has_json then pending("core.json is not built yet") return end
    local claims = assert(core.jwt_claims(token('{"exp":1}', "")))
    assert.are.equal(1, claims.exp)
  end)

  it("rejects a token that is not three dot-separated parts", function()
    assert_malformed("malformed JWT: expected three dot-separated parts", "abc")
    assert_malformed("malformed JWT: expected three dot-separated parts", HEADER .. ".e30")
    assert_malformed("malformed JWT: expected three dot-separated parts", token("{}") .. ".x")
  end)

  it("rejects an empty header or payload", function()
    assert_malformed("malformed JWT: empty header or payload", ".e30.sig")
    assert_malformed("malformed JWT: empty header or payload", HEADER .. "..sig")
  end)

  it("rejects parts that are not base64url", function()
    assert_malformed("malformed JWT: header is not base64url", "ey+J.e30.sig")
    assert_malformed("malformed JWT: payload is not base64url", HEADER .. ".e3!0.sig")
  end)

  it("rejects a payload that is not a JSON object", function()
    if not has_json then pending("core.json is not built yet") return end
    assert_malformed("malformed JWT: payload is not a JSON object", token("not json"))
    assert_malformed("malformed JWT: payload is not a JSON object", token("[1,2]"))
    assert_malformed("malformed JWT: payload is not a JSON object", token("[]"))
    assert_malformed("malformed JWT: payload is not a JSON object", token('"secret-ish"'))
    assert_malformed("malformed JWT: payload is not a JSON object", token("42"))
  end)

  it("raises when the token is not a string", function()
    local ok, msg = pcall(core.jwt_claims, 42)
    assert.is_false(ok)
    assert.matches("token must be a string", msg, 1, true)
  end)
end)
