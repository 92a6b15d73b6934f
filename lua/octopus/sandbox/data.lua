-- octopus.sandbox.data: the sandbox's deterministic Japanese dataset (users, accounts,
-- products, postal areas) and on-demand half-hourly readings.
--
--   local ds = require("octopus.sandbox.data").new{ seed = 1 [, now = function() -> epoch] }
--
-- Invariants: the same seed gives the same users, accounts, SPINs and readings; readings
-- are computed per (spin, half hour) from a hash, never stored; cost_estimate follows the
-- product in force (agreement) at that half hour: band by cumulative kWh since the start
-- of the JST month, plus that month's fuel cost adjustment, plus the renewable levy.
-- Plain arithmetic only (no bit operators), so it also loads under LuaJIT.
local prices = require "octopus.sandbox.prices"

local floor, fmt = math.floor, string.format

local M = {}

local JST = 9 * 3600
M.JST_OFFSET = JST
M.HALF_HOUR = 1800

---------------------------------------------------------------------------
-- time helpers (JST civil dates; shared with rest.lua)

-- days since 1970-01-01 for a civil date (Howard Hinnant's algorithm)
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
M.days_from_civil = days_from_civil

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end
M.civil_from_days = civil_from_days

-- epoch of a wall-clock time at a UTC offset (seconds; default JST)
function M.epoch(y, m, d, h, mi, s, offset)
  return days_from_civil(y, m, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0)
    - (offset or JST)
end

-- wall-clock fields at an offset (default JST): y, m, d, h, mi, s, weekday (1 = Monday)
function M.fields(epoch, offset)
  local t = epoch + (offset or JST)
  local days = floor(t / 86400)
  local secs = t - days * 86400
  local y, m, d = civil_from_days(days)
  local wd = (days + 3) % 7 + 1          -- 1970-01-01 was a Thursday (4)
  return y, m, d, floor(secs / 3600), floor(secs % 3600 / 60), secs % 60, wd
end

-- ISO 8601 with an offset: "2026-11-01T00:00:00+09:00" (offset 0 -> "+00:00")
function M.iso(epoch, offset)
  offset = offset or JST
  local y, m, d, h, mi, s = M.fields(epoch, offset)
  local sign = offset < 0 and "-" or "+"
  local a = offset < 0 and -offset or offset
  return fmt("%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d", y, m, d, h, mi, s, sign,
    floor(a / 3600), floor(a % 3600 / 60))
end

-- epoch of the start of the JST month containing epoch, and of the next month
function M.month_bounds(epoch)
  local y, m = M.fields(epoch)
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return M.epoch(y, m, 1), M.epoch(ny, nm, 1)
end

local function month_key(epoch)
  local y, m = M.fields(epoch)
  return fmt("%04d-%02d", y, m)
end
M.month_key = month_key

---------------------------------------------------------------------------
-- deterministic numbers: string hash and a Park-Miller generator (exact in doubles)

local MOD = 2147483647

local function hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % MOD end
  -- a few mixing rounds so near strings spread out
  for _ = 1, 3 do h = (h * 48271 + 11) % MOD end
  return h
end
M.hash = hash

local function unit(s) return hash(s) / MOD end   -- [0, 1)

local function rng(seed)
  local x = (seed % (MOD - 1)) + 1
  return function(n)                    -- integer in [0, n)
    x = (x * 48271) % MOD
    return x % n
  end
end

local function hex8(r)
  local t = {}
  for i = 1, 8 do local k = r(16) + 1; t[i] = ("0123456789ABCDEF"):sub(k, k) end
  return table.concat(t)
end

local function digits(r, n)
  local t = {}
  for i = 1, n do t[i] = tostring(r(10)) end
  return table.concat(t)
end

---------------------------------------------------------------------------
-- static reference data

M.AREAS = {
  ["01"] = "Hokkaido", ["02"] = "Tohoku", ["03"] = "Tokyo", ["04"] = "Chubu",
  ["05"] = "Hokuriku", ["06"] = "Kansai", ["07"] = "Chugoku", ["08"] = "Shikoku",
  ["09"] = "Kyushu", ["10"] = "Okinawa",
}

local POSTAL = {
  { "100-0001", "東京都", "千代田区", "千代田", "03" },
  { "150-0002", "東京都", "渋谷区", "渋谷", "03" },
  { "530-0001", "大阪府", "大阪市北区", "梅田", "06" },
  { "460-0008", "愛知県", "名古屋市中区", "栄", "04" },
  { "060-0001", "北海道", "札幌市中央区", "北一条西", "01" },
  { "980-0021", "宮城県", "仙台市青葉区", "中央", "02" },
  { "920-0853", "石川県", "金沢市", "本町", "05" },
  { "730-0011", "広島県", "広島市中区", "基町", "07" },
  { "760-0019", "香川県", "高松市", "サンポート", "08" },
  { "810-0001", "福岡県", "福岡市中央区", "天神", "09" },
  { "900-0006", "沖縄県", "那覇市", "おもろまち", "10" },
}

-- first two postcode digits -> grid area (coarse, for postcodes not in POSTAL)
local PREFIX_AREA = {}
local function set_range(a, b, area) for i = a, b do PREFIX_AREA[fmt("%02d", i)] = area end end
set_range(0, 9, "01"); set_range(1, 3, "02"); set_range(10, 37, "03"); set_range(38, 39, "04")
set_range(40, 40, "03"); set_range(41, 51, "04"); set_range(52, 67, "06"); set_range(68, 75, "07")
set_range(76, 79, "08"); set_range(80, 89, "09"); set_range(90, 90, "10"); set_range(91, 93, "05")
set_range(94, 99, "02")

-- normalizes "1000001" / "100-0001" -> "100-0001"; nil when malformed
function M.normalize_postcode(pc)
  if type(pc) ~= "string" then return nil end
  local a, b = pc:match("^(%d%d%d)%-?(%d%d%d%d)$")
  if not a then return nil end
  return a .. "-" .. b
end

-- products and prices: octopus.sandbox.prices (per area; fuel-cost adjustment per area
-- and month; levy per fiscal year; METI subsidy per month)
M.prices = prices

---------------------------------------------------------------------------
-- the dataset

local DS = {}
DS.__index = DS

-- users: name, email, password, areas of their accounts, agreement plan
-- users: name, email, areas of their accounts, each account's meter-reading day and
-- contracted amperes
local USERS = {
  { "Hanako", "Yamada", "hanako@example.jp", { "03", "06" }, { 1, 15 }, { 30, 40 } },
  { "Taro", "Suzuki", "taro@example.jp", { "04" }, { 8 }, { 40 } },
  { "Yuki", "Sato", "yuki@example.jp", { "01" }, { 22 }, { 30 } },
  { "Kenji", "Tanaka", "kenji@example.jp", { "09" }, { 28 }, { 50 } },
}

local AREA_POSTAL = {}
for _, p in ipairs(POSTAL) do
  if not AREA_POSTAL[p[5]] then AREA_POSTAL[p[5]] = p end
end

-- Adds an account (also used by REST account creation). Returns the account table.
function DS:add_account(a)
  self.accounts[a.number] = a
  self.account_list[#self.account_list + 1] = a.number
  for _, prop in ipairs(a.properties) do
    for _, sp in ipairs(prop.supply_points) do self.spins[sp.spin] = sp end
  end
  local u = self.users_by_email[a.owner]
  if u then u.accounts[#u.accounts + 1] = a.number end
  return a
end

-- A fresh account number / SPIN / serial, unique within this dataset.
function DS:new_account_number()
  repeat
    local n = "A-" .. hex8(self.rand)
    if not self.accounts[n] then return n end
  until false
end

function DS:new_spin(area)
  repeat
    local s = area .. digits(self.rand, 20)
    if not self.spins[s] then return s end
  until false
end

function DS:new_serial()
  return fmt("%02dK%07d", 10 + self.rand(90), self.rand(10000000))
end

-- Builds a property+supply point for a postcode with agreements = { {product_code, from, to}... };
-- reading_day (readingDateDayOfMonth, default 1) and amperes (contracted, default 30)
function DS:new_property(postcode, address, plan, reading_day, amperes)
  local pa = self.postal_areas[postcode]
  local p = pa and pa[1]
  local area = M.grid_area_for_postcode(postcode) or "03"
  local sp = { spin = self:new_spin(area), status = "ON_SUPPLY", meter_serial = self:new_serial(),
               grid_area = area, agreements = {}, reading_day = reading_day or 1, amperes = amperes or 30 }
  for _, a in ipairs(plan) do
    self.next_agreement = self.next_agreement + 1
    sp.agreements[#sp.agreements + 1] = { id = self.next_agreement, product_code = a[1],
      valid_from = a[2], valid_to = a[3] }
  end
  self.next_property = self.next_property + 1
  return { id = tostring(self.next_property), postcode = postcode,
    address = address or ((p and (p.prefecture .. p.city .. p.area) or "") .. " 1-1-1"),
    prefecture = p and p.prefecture or "", city = p and p.city or "", grid_area = area,
    supply_points = { sp } }
end

function M.new(opts)
  opts = opts or {}
  local seed = opts.seed or 1
  local self = setmetatable({ seed = seed, now = opts.now or os.time, rand = rng(hash("s" .. seed)),
    users = {}, users_by_email = {}, users_by_key = {}, accounts = {}, account_list = {},
    spins = {}, postal_areas = {}, next_agreement = 1000, next_property = 5000 }, DS)
  for _, p in ipairs(POSTAL) do
    self.postal_areas[p[1]] = { { postcode = p[1], prefecture = p[2], city = p[3], area = p[4] } }
  end
  self.products, self.product_list, self.fca = prices.build(unit)
  for i, u in ipairs(USERS) do
    local user = { given_name = u[1], family_name = u[2], email = u[3],
      password = "octopus-" .. u[1]:lower() .. "-" .. seed,
      api_key = "sk_test_" .. hex8(self.rand):lower() .. hex8(self.rand):lower() .. tostring(i),
      accounts = {} }
    self.users[i] = user
    self.users_by_email[user.email] = user
    self.users_by_key[user.api_key] = user
    for j, area in ipairs(u[4]) do
      local pc = AREA_POSTAL[area][1]
      local plan
      if i == 1 and j == 1 then      -- switched product in May 2026
        plan = { { "JPN_KK_OCTOPUS_NOV_24", "2025-10-01T00:00:00+09:00", "2026-05-01T00:00:00+09:00" },
                 { "JPN_KK_OCTOPUS_MAY_26", "2026-05-01T00:00:00+09:00", nil } }
      elseif i == 2 then
        plan = { { "JPN_KK_SIMPLE_OCTOPUS_24", "2025-09-01T00:00:00+09:00", nil } }
      else
        plan = { { "JPN_KK_OCTOPUS_MAY_26", "2025-10-15T00:00:00+09:00", nil } }
      end
      self:add_account{ number = self:new_account_number(), status = "ACTIVE",
        balance = 1000 * (self.rand(20) - 5), billing_name = u[2] .. " " .. u[1],
        owner = u[3], properties = { self:new_property(pc, nil, plan, u[5][j], u[6][j]) } }
    end
  end
  self.organizations = { { secret_key = "org_sk_" .. hex8(self.rand):lower() .. hex8(self.rand):lower(),
    accounts = { self.users[2].accounts[1], self.users[4].accounts[1] } } }
  self.pre_signed_keys = { ["psk_" .. hex8(self.rand):lower() .. hex8(self.rand):lower()]
    = self.users[2].email }
  self.data_from = M.epoch(2025, 11, 1)
  self.grid_area_for_postcode = M.grid_area_for_postcode
  return self
end

function M.grid_area_for_postcode(pc)
  pc = M.normalize_postcode(pc)
  if not pc then return nil end
  for _, p in ipairs(POSTAL) do if p[1] == pc then return p[5] end end
  return PREFIX_AREA[pc:sub(1, 2)]
end

---------------------------------------------------------------------------
-- readings

-- relative load by JST half-hour slot (0..47): low at night, morning bump, evening peak
local SHAPE = {}
do
  local sum = 0
  for i = 0, 47 do
    local h = i / 2
    local v = 0.35
    if h >= 6 and h < 9 then v = 0.9 + 0.3 * math.sin((h - 6) / 3 * math.pi) end
    if h >= 9 and h < 17 then v = 0.7 end
    if h >= 17 and h < 23 then v = 1.2 + 0.5 * math.sin((h - 17) / 6 * math.pi) end
    if h >= 23 or h < 1 then v = 0.6 end
    SHAPE[i] = v
    sum = sum + v
  end
  for i = 0, 47 do SHAPE[i] = SHAPE[i] / sum end   -- fractions of a day's kWh
end

-- seasonal multiplier by month: winter and summer higher
local SEASON = { 1.45, 1.4, 1.15, 0.9, 0.8, 0.95, 1.25, 1.35, 1.05, 0.85, 0.95, 1.25 }

-- kWh (3 decimals) for one half hour starting at t (a multiple of 1800). A pure function
-- of (spin, t), remembered per spin (readings, month-to-date sums and bills ask for the
-- same half hours again and again: it was most of a readings window's time); each
-- spin's memo is dropped whole past 200,000 entries, so memory stays bounded.
local MEMO_MAX = 200000
local value_of

function DS:value_at(spin, t)
  local memo = self.value_memo
  if not memo then memo = {}; self.value_memo = memo end
  local m = memo[spin]
  if not m or m.n > MEMO_MAX then m = { n = 0, v = {} }; memo[spin] = m end
  local v = m.v[t]
  if v == nil then
    v = value_of(spin, t)
    m.v[t], m.n = v, m.n + 1
  end
  return v
end

function value_of(spin, t)
  local _, m, _, h, mi = M.fields(t)
  local slot = h * 2 + (mi >= 30 and 1 or 0)
  local day = floor((t + JST) / 86400)
  local home = 0.8 + 0.4 * unit("home" .. spin)                 -- household size
  local daily = 0.85 + 0.3 * unit(spin .. ":d" .. day)           -- day to day
  local noise = 0.6 + 0.8 * unit(spin .. ":" .. t)               -- half hour to half hour
  local kwh = 10 * home * SEASON[m] * daily * SHAPE[slot] * noise
  return floor(kwh * 1000 + 0.5) / 1000
end

-- the agreement (and product) in force for a supply point at t
function DS:agreement_at(sp, t)
  for _, a in ipairs(sp.agreements) do
    local from = a.valid_from_epoch or M.parse_iso(a.valid_from)
    local to = a.valid_to and (a.valid_to_epoch or M.parse_iso(a.valid_to))
    a.valid_from_epoch, a.valid_to_epoch = from, to
    if t >= from and (not to or t < to) then return a end
  end
end

-- ISO 8601 date or datetime -> epoch seconds, or nil when malformed. Accepts
-- "2026-11-01", "2026-11-01T10:00[:00[.123]]" with "Z", "+09:00", "+0900" or no offset
-- (naive = Asia/Tokyo); a space may stand for "T", and for "+" (an unencoded "+" in a
-- query string arrives as a space).
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, m, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > 31 then return nil end
  local h, mi, sec, zone = 0, 0, 0, nil
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, tail2 = tail:match("^:(%d%d)(.*)$")
    if ss then sec, tail = tonumber(ss), tail2 end
    tail = tail:gsub("^%.%d+", "")
    zone = tail
    if h > 23 or mi > 59 or sec > 59 then return nil end
  end
  local off = JST
  if zone and zone ~= "" then
    if zone == "Z" or zone == "z" then off = 0 else
      local sign, oh, om = zone:match("^([+%- ])(%d%d):?(%d%d)$")
      if not sign then return nil end
      off = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
    end
  end
  local t = M.epoch(y, m, d, h, mi, sec, off)
  local cy, cm, cd = M.fields(t, off)
  if cy ~= y or cm ~= m or cd ~= d then return nil end      -- 2026-02-30
  return t
end
M.parse_iso = M.parse_time

-- cumulative kWh in [month_start, t) for a spin
function DS:cumulative(spin, month_start, t)
  local total = 0
  for x = month_start, t - 1800, 1800 do total = total + self:value_at(spin, x) end
  return total
end

-- Half-hourly readings in [from, to) clipped to [data_from, now), oldest first.
function DS:readings(spin, from, to)
  local sp = self.spins[spin]
  local out = {}
  if not sp then return out end
  local now = self.now()
  local last = floor(now / 1800) * 1800                      -- readings end at the last full half hour
  from = math.max(floor(from / 1800) * 1800, self.data_from)
  to = math.min(to, last)
  if from >= to then return out end
  local cur_month = M.month_bounds(now)
  local month_start, month_end = M.month_bounds(from)
  local cum = self:cumulative(spin, month_start, from)
  local t = from
  while t < to do
    if t >= month_end then
      month_start, month_end = M.month_bounds(t)
      cum = 0
    end
    local v = self:value_at(spin, t)
    local ag = self:agreement_at(sp, t)
    local product = ag and self.products[ag.product_code]
    local row = { start_at = t, end_at = t + 1800, value = fmt("%.3f", v),
      version = month_start < cur_month and "MONTHLY" or "LATEST" }
    if product then
      local area = product.by_area[sp.grid_area]
      local band, step = area.bands[1], 1
      for i, b in ipairs(area.bands) do
        if cum >= b.step_start and (not b.step_end or cum < b.step_end) then band, step = b, i end
      end
      local fca = tonumber(self.fca[sp.grid_area][month_key(t)] or "0")
      local rate = tonumber(band.price_inc_tax) + fca + tonumber(self:levy_at(t))
      row.cost_estimate = fmt("%.2f", v * rate)
      row.band, row.step, row.product_code = band.band, step, product.code
    else
      row.cost_estimate = "0.00"
    end
    out[#out + 1] = row
    cum = cum + v
    t = t + 1800
  end
  return out
end

-- the renewable-energy levy (text) for a half hour at t: its fiscal year's
-- (past the newest published year, that one's: with its clock moved ahead, POST
-- /_sandbox/clock, the sandbox kept answering readings there with a 500)
local LEVY_LAST
function DS:levy_at(t)
  local y, m = M.fields(t)
  local v = prices.LEVY[prices.levy_year(y, m)]
  if v then return v end
  if not LEVY_LAST then
    for k in pairs(prices.LEVY) do if not LEVY_LAST or k > LEVY_LAST then LEVY_LAST = k end end
  end
  return prices.LEVY[LEVY_LAST]
end

-- A user by API key / email (nil when unknown).
function DS:user_by_key(key) return self.users_by_key[key] end
function DS:user_by_email(email) return self.users_by_email[email] end

return M
