-- crypto_spec: core.sha256 / core.fingerprint (FIPS 180-4, csrc/crypto.c) against the
-- NIST example vectors and coreutils' sha256sum, and core.random_bytes.
local core = require "octopus.core"
local helper = require "helper"

describe("#core sha256", function()
  it("matches the FIPS 180-4 / NIST example vectors", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", core.sha256(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", core.sha256("abc"))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      core.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.are.equal("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
      core.sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))
    assert.are.equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
      core.sha256(("a"):rep(1000000)))
  end)

  it("agrees with sha256sum for every length around the block and padding edges", function()
    local dir = helper.run("mktemp -d /tmp/octopus-sha.XXXXXXXX"):gsub("%s+$", "")
    local want = {}
    for n = 0, 200 do
      local bytes = {}
      for i = 1, n do bytes[i] = string.char((i * 37 + n) % 256) end
      local s = table.concat(bytes)
      local f = assert(io.open(("%s/%03d"):format(dir, n), "wb"))
      f:write(s)
      f:close()
      want[n] = core.sha256(s)
    end
    local out, rc = helper.run("cd " .. helper.quote(dir) .. " && sha256sum *")
    os.execute("rm -rf " .. helper.quote(dir))
    assert.are.equal(0, rc)
    local seen = 0
    for hex, name in out:gmatch("(%x+)  (%d+)\n") do
      assert.are.equal(hex, want[tonumber(name)], "length " .. name)
      seen = seen + 1
    end
    assert.are.equal(201, seen)
  end)

  it("hashes bytes, NUL included, and raises on a non-string", function()
    assert.are_not.equal(core.sha256("a\0b"), core.sha256("a"))
    assert.are.equal(64, #core.sha256("a\0b"))
    assert.has_error(function() core.sha256(nil) end)
    assert.has_error(function() core.sha256({}) end)
  end)
end)

describe("#core fingerprint", function()
  it("is the first 64 bits of SHA-256, as 16 hex digits", function()
    local id = "api_key:sk_live_one"
    assert.are.equal(core.sha256(id):sub(1, 16), core.fingerprint(id))
    assert.matches("^%x+$", core.fingerprint(id))
    assert.are.equal(16, #core.fingerprint(""))
    assert.are.equal("e3b0c44298fc1c14", core.fingerprint(""))
  end)
end)

describe("#core random_bytes", function()
  it("returns n bytes from the kernel, different every call", function()
    local a, b = core.random_bytes(32), core.random_bytes(32)
    assert.are.equal("string", type(a))
    assert.are.equal(32, #a)
    assert.are_not.equal(a, b)
    assert.are.equal("", core.random_bytes(0))
    assert.are.equal(65536, #core.random_bytes(65536))
  end)

  it("covers every byte value in 64 KiB (a broken source would not)", function()
    local s, seen, n = core.random_bytes(65536), {}, 0
    for i = 1, #s do
      local c = s:byte(i)
      if not seen[c] then seen[c], n = true, n + 1 end
    end
    assert.are.equal(256, n)
  end)

  it("raises for a count that is not an integer in 0..65536, naming it", function()
    for _, bad in ipairs{ -1, 1.5, 65537, 1 / 0, 0 / 0 } do
      helper.raises("n must be an integer in 0..65536", core.random_bytes, bad)
    end
    helper.raises("number expected", core.random_bytes, "x")
  end)
end)
