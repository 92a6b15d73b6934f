-- octopus.cli.width: display width of UTF-8 text in a terminal (a small wcwidth).
--
-- East Asian Wide and Fullwidth characters (CJK, kana, hangul, fullwidth forms, most
-- emoji) take two columns, combining marks and zero-width characters none, the rest
-- one. Written here (rather than taken from a library) because no packaged Lua module
-- does it and the tables alignment of Japanese names and addresses depends on it.
-- Pure Lua without the utf8 library (5.1/LuaJIT); malformed bytes count one column each.
local byte, sub, rep, concat = string.byte, string.sub, string.rep, table.concat
local floor = math.floor

local M = {}

-- [first, last] code point ranges, sorted
local WIDE = {
  { 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
  { 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 }, { 0x26A1, 0x26A1 },
  { 0x26AA, 0x26AB }, { 0x26BD, 0x26BE }, { 0x26C4, 0x26C5 }, { 0x26D4, 0x26D4 },
  { 0x26EA, 0x26EA }, { 0x26F2, 0x26F5 }, { 0x26FA, 0x26FD }, { 0x2705, 0x2705 },
  { 0x270A, 0x270B }, { 0x2728, 0x2728 }, { 0x274C, 0x274C }, { 0x2753, 0x2755 },
  { 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF },
  { 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 }, { 0x2B55, 0x2B55 },
  { 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF },
  { 0xA000, 0xA4CF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF },
  { 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 },
  { 0x16FE0, 0x16FE4 }, { 0x17000, 0x18CFF }, { 0x1B000, 0x1B16F }, { 0x1F004, 0x1F004 },
  { 0x1F0CF, 0x1F0CF }, { 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A }, { 0x1F200, 0x1F251 },
  { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF }, { 0x1F7E0, 0x1F7EB }, { 0x1F90C, 0x1F9FF },
  { 0x1FA70, 0x1FAFF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
}

local ZERO = {
  { 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x0610, 0x061A },
  { 0x064B, 0x065F }, { 0x200B, 0x200F }, { 0x2028, 0x202E }, { 0x2060, 0x2064 },
  { 0x20D0, 0x20FF }, { 0x3099, 0x309A }, { 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F },
  { 0xFEFF, 0xFEFF }, { 0xE0100, 0xE01EF },
}

local function within(ranges, cp)
  local lo, hi = 1, #ranges
  while lo <= hi do
    local mid = floor((lo + hi) / 2)
    local r = ranges[mid]
    if cp < r[1] then hi = mid - 1
    elseif cp > r[2] then lo = mid + 1
    else return true end
  end
  return false
end

-- columns of one code point
function M.char_width(cp)
  if cp == 0 then return 0 end
  if cp < 32 or (cp >= 0x7F and cp < 0xA0) then return 0 end
  if cp < 0x300 then return 1 end
  if within(ZERO, cp) then return 0 end
  if within(WIDE, cp) then return 2 end
  return 1
end

-- iterates code points: for pos, cp, len in M.chars(s)
function M.chars(s)
  local i, n = 1, #s
  return function()
    if i > n then return nil end
    local c = byte(s, i)
    local len, cp = 1, c
    if c >= 0xF0 and c < 0xF8 and i + 3 <= n then
      len = 4
      cp = (c - 0xF0) * 0x40000 + (byte(s, i + 1) - 0x80) * 0x1000 + (byte(s, i + 2) - 0x80) * 0x40
        + (byte(s, i + 3) - 0x80)
    elseif c >= 0xE0 and c < 0xF0 and i + 2 <= n then
      len = 3
      cp = (c - 0xE0) * 0x1000 + (byte(s, i + 1) - 0x80) * 0x40 + (byte(s, i + 2) - 0x80)
    elseif c >= 0xC0 and c < 0xE0 and i + 1 <= n then
      len = 2
      cp = (c - 0xC0) * 0x40 + (byte(s, i + 1) - 0x80)
    elseif c >= 0x80 then
      cp = 0xFFFD                         -- a stray continuation or truncated sequence
    end
    local pos = i
    i = i + len
    return pos, cp, len
  end
end

-- display columns of a string (escape sequences are not expected here)
function M.width(s)
  s = tostring(s)
  if not s:find("[\128-\255]") then return #s end
  local w = 0
  for _, cp in M.chars(s) do
    w = w + (cp == 0xFFFD and 1 or M.char_width(cp))
  end
  return w
end

-- s cut to at most `cols` columns, with "…" (or "~" in ASCII) when cut
function M.truncate(s, cols, ellipsis)
  s = tostring(s)
  if M.width(s) <= cols then return s end
  ellipsis = ellipsis or "~"
  local ew = M.width(ellipsis)
  local out, w = {}, 0
  for pos, cp, len in M.chars(s) do
    local cw = M.char_width(cp)
    if w + cw > cols - ew then break end
    out[#out + 1] = sub(s, pos, pos + len - 1)
    w = w + cw
  end
  return concat(out) .. ellipsis
end

-- s padded with spaces to `cols` columns; align "right" pads on the left
function M.pad(s, cols, align)
  s = tostring(s)
  local gap = cols - M.width(s)
  if gap <= 0 then return s end
  if align == "right" then return rep(" ", gap) .. s end
  return s .. rep(" ", gap)
end

return M
