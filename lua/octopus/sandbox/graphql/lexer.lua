-- GraphQL lexer (October 2021 spec + \u{...} escapes), pure Lua, 5.1/LuaJIT and 5.4.
--
-- lexer.read(src, pos) -> kind, value, start, next_pos
--   kind: "<EOF>", a punctuator ("!" "$" "&" "(" ")" "..." ":" "=" "@" "[" "]"
--   "{" "|" "}"), "Name", "Int", "Float", "String", "BlockString". value is the
--   cooked string for Name/Int/Float/String/BlockString, nil otherwise.
--   Ignored tokens (white space, commas, comments, BOM) are skipped first.
-- Syntax errors are raised as { syntax = true, message = "Syntax Error: ...",
-- offset = byte } (offset 1-based); the parser turns them into located errors.
-- lexer.location(src, offset, cache) -> line, column (1-based; column counts
-- UTF-8 characters). Scans with string.find, never char-by-char concatenation; with a
-- cache table reused across calls each location costs O(log lines + 256).
local byte, sub, find, char, format = string.byte, string.sub, string.find, string.char, string.format
local concat = table.concat

local M = {}

local PUNCT = {
  [33] = "!", [36] = "$", [38] = "&", [40] = "(", [41] = ")", [58] = ":", [61] = "=",
  [64] = "@", [91] = "[", [93] = "]", [123] = "{", [124] = "|", [125] = "}",
}

local function fail(msg, pos)
  error({ syntax = true, message = "Syntax Error: " .. msg, offset = pos }, 0)
end
M.fail = fail

-- Decode the UTF-8 code point at pos (lenient), for messages.
local function code_point(src, pos)
  local c = byte(src, pos)
  if not c then return nil end
  if c < 0x80 then return c end
  local n, cp
  if c >= 0xF0 then n, cp = 3, c - 0xF0 elseif c >= 0xE0 then n, cp = 2, c - 0xE0
  elseif c >= 0xC0 then n, cp = 1, c - 0xC0 else return c end
  for i = 1, n do
    local b = byte(src, pos + i)
    if not b then break end
    cp = cp * 64 + (b % 64)
  end
  return cp
end

-- graphql-js printCodePointAt: "<EOF>", "\"x\"" for printable ASCII, else U+XXXX.
local function print_char(src, pos)
  local cp = code_point(src, pos)
  if not cp then return "<EOF>" end
  if cp >= 0x20 and cp <= 0x7E then
    if cp == 34 then return '"\\""' end
    if cp == 92 then return '"\\\\"' end
    return '"' .. char(cp) .. '"'
  end
  return format("U+%04X", cp)
end
M.print_char = print_char

local function utf8_char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local ESCAPES = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f",
  [110] = "\n", [114] = "\r", [116] = "\t" }

-- Read \u escape at s (the backslash); returns the UTF-8 text and the next position.
local function read_unicode(src, s)
  local _, e, hex = find(src, "^{(%x+)}", s + 2)
  if e then
    local cp = #hex <= 8 and tonumber(hex, 16) or 0x110000
    if cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then
      fail('Invalid Unicode escape sequence: "' .. sub(src, s, e) .. '".', s)
    end
    return utf8_char(cp), e + 1
  end
  hex = sub(src, s + 2, s + 5)
  if not find(hex, "^%x%x%x%x$") then
    local stop = find(src, '["\r\n]', s + 2) or (#src + 1)
    if stop > s + 6 then stop = s + 6 end
    fail('Invalid Unicode escape sequence: "' .. sub(src, s, stop - 1) .. '".', s)
  end
  local cp = tonumber(hex, 16)
  if cp >= 0xD800 and cp <= 0xDBFF then
    local lo = find(src, "^\\u%x%x%x%x", s + 6) and tonumber(sub(src, s + 8, s + 11), 16)
    if lo and lo >= 0xDC00 and lo <= 0xDFFF then
      return utf8_char(0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)), s + 12
    end
    fail('Invalid Unicode escape sequence: "' .. sub(src, s, s + 5) .. '".', s)
  elseif cp >= 0xDC00 and cp <= 0xDFFF then
    fail('Invalid Unicode escape sequence: "' .. sub(src, s, s + 5) .. '".', s)
  end
  return utf8_char(cp), s + 6
end

local function read_string(src, start)
  local parts, n, pos = {}, 0, start + 1
  while true do
    local s = find(src, '[%z\1-\8\10-\31"\\]', pos)
    if not s then fail("Unterminated string.", #src + 1) end
    local c = byte(src, s)
    n = n + 1; parts[n] = sub(src, pos, s - 1)
    if c == 34 then
      return "String", concat(parts), start, s + 1
    elseif c == 92 then
      local e = byte(src, s + 1)
      local simple = e and ESCAPES[e]
      if simple then
        n = n + 1; parts[n] = simple; pos = s + 2
      elseif e == 117 then
        n = n + 1; parts[n], pos = read_unicode(src, s)
      else
        fail('Invalid character escape sequence: "' .. sub(src, s, s + 1) .. '".', s)
      end
    elseif c == 10 or c == 13 then
      fail("Unterminated string.", s)
    else
      fail("Invalid character within String: " .. print_char(src, s) .. ".", s)
    end
  end
end

-- Spec BlockStringValue: split lines, remove common indentation, trim blank edges.
local function block_value(raw)
  local lines, n, pos = {}, 0, 1
  while true do
    local s, e = find(raw, "\r?\n", pos)
    if not s then s = find(raw, "\r", pos, true); e = s end
    if not s then n = n + 1; lines[n] = sub(raw, pos); break end
    n = n + 1; lines[n] = sub(raw, pos, s - 1); pos = e + 1
  end
  local common
  for i = 2, n do
    local line = lines[i]
    local _, ws = find(line, "^[ \t]*")
    if ws < #line and (not common or ws < common) then common = ws end
  end
  if common and common > 0 then
    for i = 2, n do lines[i] = sub(lines[i], common + 1) end
  end
  local first, last = 1, n
  while first <= last and not find(lines[first], "[^ \t]") do first = first + 1 end
  while last >= first and not find(lines[last], "[^ \t]") do last = last - 1 end
  return concat(lines, "\n", first, last)
end
M.block_value = block_value

local function read_block_string(src, start)
  local parts, n, pos = {}, 0, start + 3
  while true do
    local s, e = find(src, '\\?"""', pos)
    if not s then fail("Unterminated string.", #src + 1) end
    n = n + 1; parts[n] = sub(src, pos, s - 1)
    if byte(src, s) == 92 then
      n = n + 1; parts[n] = '"""'; pos = e + 1
    else
      return "BlockString", block_value(concat(parts)), start, e + 1
    end
  end
end

local function read_digits(src, pos)
  local _, e = find(src, "^[0-9]+", pos)
  if not e then fail("Invalid number, expected digit but got: " .. print_char(src, pos) .. ".", pos) end
  return e + 1
end

local function read_number(src, start)
  local pos, is_float = start, false
  if byte(src, pos) == 45 then pos = pos + 1 end
  local c = byte(src, pos)
  if c == 48 then
    pos = pos + 1
    c = byte(src, pos)
    if c and c >= 48 and c <= 57 then
      fail("Invalid number, unexpected digit after 0: " .. print_char(src, pos) .. ".", pos)
    end
  else
    pos = read_digits(src, pos)
  end
  c = byte(src, pos)
  if c == 46 then
    is_float = true
    pos = read_digits(src, pos + 1)
    c = byte(src, pos)
  end
  if c == 69 or c == 101 then
    is_float = true
    pos = pos + 1
    c = byte(src, pos)
    if c == 43 or c == 45 then pos = pos + 1 end
    pos = read_digits(src, pos)
    c = byte(src, pos)
  end
  if c and (c == 46 or c == 95 or (c >= 65 and c <= 90) or (c >= 97 and c <= 122)) then
    fail("Invalid number, expected digit but got: " .. print_char(src, pos) .. ".", pos)
  end
  return is_float and "Float" or "Int", sub(src, start, pos - 1), start, pos
end

function M.read(src, pos)
  while true do
    local _, e = find(src, "^[ \t\r\n,]+", pos)
    if e then pos = e + 1 end
    local c = byte(src, pos)
    if c == 35 then
      pos = find(src, "[\r\n]", pos) or (#src + 1)
    elseif c == 0xEF and sub(src, pos, pos + 2) == "\239\187\191" then
      pos = pos + 3
    else
      break
    end
  end
  local c = byte(src, pos)
  if not c then return "<EOF>", nil, pos, pos end
  local p = PUNCT[c]
  if p then return p, nil, pos, pos + 1 end
  if c == 95 or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) then
    local _, e = find(src, "^[_0-9A-Za-z]*", pos + 1)
    return "Name", sub(src, pos, e), pos, e + 1
  end
  if c == 45 or (c >= 48 and c <= 57) then return read_number(src, pos) end
  if c == 34 then
    if sub(src, pos, pos + 2) == '"""' then return read_block_string(src, pos) end
    return read_string(src, pos)
  end
  if c == 46 and sub(src, pos, pos + 2) == "..." then return "...", nil, pos, pos + 3 end
  if c == 39 then
    fail("Unexpected single quote character ('), did you mean to use a double quote (\")?", pos)
  end
  fail("Unexpected character: " .. print_char(src, pos) .. ".", pos)
end

-- Line starts of src, and where its non-ASCII bytes are: computed once per cache table,
-- so a location costs a binary search plus at most BLOCK bytes (linear in the number of
-- locations asked, not quadratic as a rescan of the line per location was).
local BLOCK = 256

local function line_starts(src, cache)
  if cache and cache.starts then return cache.starts end
  local starts, n, pos = { 1 }, 1, 1
  while true do
    local s = find(src, "[\r\n]", pos)
    if not s then break end
    if byte(src, s) == 13 and byte(src, s + 1) == 10 then s = s + 1 end
    n = n + 1; starts[n] = s + 1; pos = s + 1
  end
  if cache then cache.starts = starts end
  return starts
end

-- cont[k] = UTF-8 continuation bytes in src before byte (k - 1) * BLOCK + 1, or false
-- when src is ASCII only (then a column is a byte count).
local function continuation_index(src, cache)
  if cache and cache.cont ~= nil then return cache.cont end
  local cont = false
  if find(src, "[\128-\255]") then
    cont = { 0 }
    local total = 0
    for k = 1, math.floor(#src / BLOCK) do
      local _, c = string.gsub(sub(src, (k - 1) * BLOCK + 1, k * BLOCK), "[\128-\191]", "")
      total = total + c
      cont[k + 1] = total
    end
  end
  if cache then cache.cont = cont end
  return cont
end

-- continuation bytes in src[1 .. pos - 1]
local function cont_before(src, cont, pos)
  local k = math.floor((pos - 1) / BLOCK)
  local _, c = string.gsub(sub(src, k * BLOCK + 1, pos - 1), "[\128-\191]", "")
  return cont[k + 1] + c
end

function M.location(src, offset, cache)
  cache = cache or {}
  local starts = line_starts(src, cache)
  local lo, hi = 1, #starts
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if starts[mid] <= offset then lo = mid else hi = mid - 1 end
  end
  local column = offset - starts[lo] + 1
  local cont = continuation_index(src, cache)
  if cont then
    column = column - (cont_before(src, cont, offset) - cont_before(src, cont, starts[lo]))
  end
  return lo, column
end

return M
