-- octopus.sandbox.jwt: SHA-256, HMAC-SHA-256, base64/base64url and HS256 JWTs in pure
-- Lua 5.4 (native 64-bit integers and bitwise operators: the sandbox runs on 5.4 only).
--
--   jwt.sha256(s) -> 32 raw bytes          jwt.hmac_sha256(key, msg) -> 32 raw bytes
--   jwt.b64encode(s [, url]) / jwt.b64decode(s [, url]) -> s | nil  (url: base64url, no padding)
--   jwt.sign(claims, secret, encode) -> "header.payload.signature"   (encode: table -> JSON text)
--   jwt.verify(token, secret, decode) -> claims | nil, "malformed" | "signature"
-- Invariants: verify compares the whole signature (no early exit on the first byte),
-- accepts only alg HS256, and never looks at exp (the caller decides expiry against its clock).
local M = {}

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local M32 = 0xffffffff

local function rotr(x, n) return ((x >> n) | (x << (32 - n))) & M32 end

-- One 64-byte block at offset i of msg into the state h (8 words).
local function block(h, msg, i)
  local w = { string.unpack(">I4I4I4I4I4I4I4I4I4I4I4I4I4I4I4I4", msg, i) }
  for j = 17, 64 do
    local a, b = w[j - 15], w[j - 2]
    local s0 = rotr(a, 7) ~ rotr(a, 18) ~ (a >> 3)
    local s1 = rotr(b, 17) ~ rotr(b, 19) ~ (b >> 10)
    w[j] = (w[j - 16] + s0 + w[j - 7] + s1) & M32
  end
  local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
  for j = 1, 64 do
    local S1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
    local ch = (e & f) ~ (~e & g)
    local t1 = (hh + S1 + ch + K[j] + w[j]) & M32
    local S0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
    local maj = (a & b) ~ (a & c) ~ (b & c)
    local t2 = (S0 + maj) & M32
    hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
  end
  h[1], h[2], h[3], h[4] = (h[1] + a) & M32, (h[2] + b) & M32, (h[3] + c) & M32, (h[4] + d) & M32
  h[5], h[6], h[7], h[8] = (h[5] + e) & M32, (h[6] + f) & M32, (h[7] + g) & M32, (h[8] + hh) & M32
end

function M.sha256(s)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local len = #s
  local pad = (55 - len) % 64
  local msg = s .. "\128" .. string.rep("\0", pad) .. string.pack(">I8", len * 8)
  for i = 1, #msg, 64 do block(h, msg, i) end
  return string.pack(">I4I4I4I4I4I4I4I4", h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8])
end

local function xor_pad(key, byte)
  return (key:gsub(".", function(c) return string.char(c:byte() ~ byte) end))
end

function M.hmac_sha256(key, msg)
  if #key > 64 then key = M.sha256(key) end
  key = key .. string.rep("\0", 64 - #key)
  return M.sha256(xor_pad(key, 0x5c) .. M.sha256(xor_pad(key, 0x36) .. msg))
end

function M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local REV = { [false] = {}, [true] = {} }
for i = 1, 64 do
  REV[false][STD:byte(i)] = i - 1
  REV[true][URL:byte(i)] = i - 1
end

function M.b64encode(s, url)
  local alpha = url and URL or STD
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local q = { (n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63 }
    local keep = c and 4 or (b and 3 or 2)
    for k = 1, 4 do
      if k <= keep then
        out[#out + 1] = alpha:sub(q[k] + 1, q[k] + 1)
      elseif not url then
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

function M.b64decode(s, url)
  local rev = REV[url and true or false]
  if not url then s = s:gsub("=+$", "") end
  if #s % 4 == 1 then return nil end
  local out, n, bits = {}, 0, 0
  for i = 1, #s do
    local v = rev[s:byte(i)]
    if not v then return nil end
    n, bits = (n << 6) | v, bits + 6
    if bits >= 8 then
      bits = bits - 8
      out[#out + 1] = string.char((n >> bits) & 0xff)
      n = n & ((1 << bits) - 1)
    end
  end
  return table.concat(out)
end

local HEADER = M.b64encode('{"alg":"HS256","typ":"JWT"}', true)

function M.sign(claims, secret, encode)
  local input = HEADER .. "." .. M.b64encode(encode(claims), true)
  return input .. "." .. M.b64encode(M.hmac_sha256(secret, input), true)
end

-- Constant-time string comparison for equal-length inputs.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = diff | (a:byte(i) ~ b:byte(i)) end
  return diff == 0
end

function M.verify(token, secret, decode)
  if type(token) ~= "string" then return nil, "malformed" end
  local h, p, sig = token:match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]+)$")
  if not h then return nil, "malformed" end
  local header = M.b64decode(h, true)
  local hdr = header and decode(header)
  if type(hdr) ~= "table" or hdr.alg ~= "HS256" then return nil, "malformed" end
  local raw = M.b64decode(sig, true)
  if not raw or not same(raw, M.hmac_sha256(secret, h .. "." .. p)) then return nil, "signature" end
  local body = M.b64decode(p, true)
  local claims = body and decode(body)
  if type(claims) ~= "table" then return nil, "malformed" end
  return claims
end

return M
