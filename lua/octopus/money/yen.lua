-- octopus.money.yen: exact fixed-point arithmetic for bills.
--
-- Why: Decimal prices ("29.80", "-1.78") and kWh ("0.153") summed as doubles
-- drift (a year of half hours, 17,520 additions); Lua 5.1/5.2/LuaJIT have no
-- integer subtype. Every quantity is therefore an integer count of small units
-- held in a double (exact below 2^53) or a 5.3+ integer:
--
--   KWH    = 10^4   units per kWh  (0.1 Wh)
--   PRICE  = 10^4   units per yen of a unit price (1/100 sen)
--   AMOUNT = 10^8   units per yen of an amount (= KWH units x PRICE units)
--
-- A line amount is kwh_units * price_units, exactly; it is rounded to yen only
-- where a bill rounds (octopus.money.bill says where). mul() refuses products
-- above 2^53 (about 90 million yen per line) with an OVERFLOW error rather than
-- lose a yen; div() is exact integer division with a chosen rounding.
-- Pure Lua; 5.1/LuaJIT and 5.2-5.4.
local floor, type, tostring, tonumber, error, setmetatable =
  math.floor, type, tostring, tonumber, error, setmetatable
local format, rep = string.format, string.rep

local M = {}

M.KWH, M.PRICE, M.AMOUNT = 10000, 10000, 100000000
M.KWH_DIGITS, M.PRICE_DIGITS, M.AMOUNT_DIGITS = 4, 4, 8
M.MAX = 9007199254740992 -- 2^53

local DIGITS = { [1] = 0, [10] = 1, [100] = 2, [1000] = 3, [10000] = 4, [100000] = 5,
  [1000000] = 6, [10000000] = 7, [100000000] = 8 }

local function digits_of(scale)
  local d = DIGITS[scale]
  if not d then
    error("octopus.money.yen: scale must be a power of ten up to 10^8 (got " .. tostring(scale) .. ")", 3)
  end
  return d
end

-- An OVERFLOW marker raised by mul/add; octopus.money.bill turns it into nil, err.
M.overflow_mt = { __tostring = function(o) return "OVERFLOW: " .. o.message end }
local function overflow(what)
  error(setmetatable({ code = "OVERFLOW", message = what ..
    " is beyond the exact range of this Lua (2^53 units, about 90 million yen per line)" }, M.overflow_mt), 0)
end

local function round_div(n, d, mode)
  -- exact floor(n / d) for integer-valued n, d > 0, |n| < 2^53: float quotient then fix
  local q = floor(n / d)
  local r = n - q * d
  if r < 0 then q, r = q - 1, r + d elseif r >= d then q, r = q + 1, r - d end
  if r == 0 or mode == "floor" then return q end
  if mode == "trunc" then return q < 0 and q + 1 or q end
  if mode == "ceil" then return q + 1 end
  local twice = 2 * r
  if twice > d then return q + 1 end
  if twice < d then return q end
  if mode == "half_up" then return q >= 0 and q + 1 or q end     -- .5 away from zero
  if mode == "half_even" then return (q % 2 == 0) and q or q + 1 end
  error("octopus.money.yen: unknown rounding '" .. tostring(mode) .. "'", 3)
end

-- yen.div(n, d [, mode]) -> n / d as an integer; mode "floor" (default), "trunc"
-- (toward zero: the bill's 切り捨て), "ceil", "half_up", "half_even"
---@param n integer
---@param d integer
---@param mode? "floor"|"trunc"|"ceil"|"half_up"|"half_even" default "floor"
---@return integer q
function M.div(n, d, mode)
  if d <= 0 then error("octopus.money.yen: divisor must be positive", 2) end
  return round_div(n, d, mode or "floor")
end

-- yen.mul(a, b [, what]) -> a * b, exact; raises OVERFLOW beyond 2^53
---Raises an OVERFLOW marker beyond 2^53.
---@param a integer
---@param b integer
---@param what? string names it in the error
---@return integer product exact
function M.mul(a, b, what)
  local p = a * b
  if p >= M.MAX or p <= -M.MAX then overflow(what or "a product") end
  return p
end

-- yen.muldiv(a, b, d [, mode [, what]]) -> a * b / d rounded (a * b must be exact)
---@param a integer
---@param b integer
---@param d integer
---@param mode? "floor"|"trunc"|"ceil"|"half_up"|"half_even"
---@param what? string
---@return integer q a * b / d rounded
function M.muldiv(a, b, d, mode, what)
  return round_div(M.mul(a, b, what), d, mode or "floor")
end

-- yen.check(n [, what]) -> n, raising OVERFLOW when |n| reaches 2^53
---@param n number
---@param what? string
---@return number n raising OVERFLOW when |n| reaches 2^53
function M.check(n, what)
  if n >= M.MAX or n <= -M.MAX then overflow(what or "a sum") end
  return n
end

-- yen.units(v, scale) -> units, exact
-- v: a Decimal string ("29.80", "-1.5", "+3", ".5") or a Lua number. Strings are
-- read digit by digit (exact); more decimals than the scale holds are rounded
-- half-even and exact is false. Numbers are scaled and rounded to the nearest
-- unit; exact is false when they were not already on a unit. nil, message for
-- anything else.
---@param v string|number a Decimal string ("29.80") or a number
---@param scale integer units per 1 (KWH, PRICE, AMOUNT)
---@return integer|nil units
---@return boolean|string exact false when rounded; the message when v cannot be read
function M.units(v, scale)
  local d = digits_of(scale)
  if type(v) == "number" then
    if v ~= v or v == 1 / 0 or v == -1 / 0 then return nil, "not a finite number" end
    local n = v * scale
    local u = floor(n + 0.5)
    if u >= M.MAX or u <= -M.MAX then return nil, "too large" end
    local diff = n - u
    local tol = 1e-6 + (u < 0 and -u or u) * 1e-15
    return u, diff <= tol and diff >= -tol
  end
  if type(v) ~= "string" then return nil, "not a number or Decimal string" end
  local sign, int, frac = v:match("^%s*([%+%-]?)(%d*)%.?(%d*)%s*$")
  if not sign or (int == "" and frac == "") then return nil, "not a Decimal (" .. v .. ")" end
  local exact = true
  local extra = ""
  if #frac > d then extra = frac:sub(d + 1); frac = frac:sub(1, d) end
  frac = frac .. rep("0", d - #frac)
  local digits = (int == "" and "0" or int) .. frac
  if #digits:gsub("^0+", "") > 15 then return nil, "too many digits (" .. v .. ")" end
  local u = tonumber(digits)
  if extra ~= "" and extra:find("[1-9]") then
    exact = false
    local first = tonumber(extra:sub(1, 1))
    local rest_nonzero = extra:sub(2):find("[1-9]") ~= nil
    if first > 5 or (first == 5 and (rest_nonzero or u % 2 == 1)) then u = u + 1 end
  end
  if sign == "-" then u = -u end
  if u == 0 then u = 0 end -- no -0
  return u, exact
end

-- yen.text(units, scale) -> decimal text, trailing zeros trimmed ("935.25", "300", "-1.5")
---@param units integer
---@param scale integer
---@return string text decimal text, trailing zeros trimmed ("935.25")
function M.text(units, scale)
  local d = digits_of(scale)
  local neg = units < 0
  local a = neg and -units or units
  local int = floor(a / scale)
  local frac = a - int * scale
  local s = format("%.0f", int)
  if frac ~= 0 then
    local f = format("%0" .. d .. ".0f", frac):gsub("0+$", "")
    s = s .. "." .. f
  end
  if neg then s = "-" .. s end
  return s
end

-- yen.number_text(n) -> the Decimal text of a Lua number (REST prices are numbers):
-- 10 decimals then trimmed, so 29.8 -> "29.8", 0.1 + 0.2 -> "0.3"
---@param n number
---@return string text 29.8 -> "29.8", 0.1 + 0.2 -> "0.3"
function M.number_text(n)
  local s = format("%.10f", n):gsub("0+$", ""):gsub("%.$", "")
  if s == "-0" then s = "0" end
  return s
end

-- yen.negate_text(text) -> the Decimal text with its sign flipped ("2.50" -> "-2.50")
---@param s string
---@return string text the sign flipped ("2.50" -> "-2.50")
function M.negate_text(s)
  if s:sub(1, 1) == "-" then return s:sub(2) end
  if s:sub(1, 1) == "+" then s = s:sub(2) end
  if not s:find("[1-9]") then return s end
  return "-" .. s
end

return M
