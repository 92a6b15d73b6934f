-- octopus.sandbox.prices: the sandbox's price list, shaped like real Japanese tariffs.
--
-- Per grid area a regulated-style reference (the basic charge per 10 A per MONTH, as the
-- 約款 print it, and 0-120 / 120-300 / 300+ kWh unit rates); from it three products whose
-- standing charges use three unit types, so a comparison is not a tie:
--   JPN_KK_OCTOPUS_MAY_26     Green Octopus, stepped, DAYS_ON_SUPPLY: the 30 A monthly
--                             figure as a daily amount (x 36 / 365)
--   JPN_KK_SIMPLE_OCTOPUS_24  Simple Octopus, one unit rate, AMPERE_DAYS (per A per day)
--   JPN_KK_OCTOPUS_NOV_24     the previous Green Octopus (closed 2026-05), x 0.97, AMPERE_MONTHS
-- The fuel-cost adjustment is per area and calendar month; the renewable-energy levy per
-- fiscal year (May to April: 3.49, 3.98, 4.18 yen/kWh from May 2024, 2025, 2026); the METI
-- subsidy (電気・ガス料金支援) per month of use. Every price is text with 2 decimals, yen
-- including tax. Plain Lua; no requires (data.lua passes its hash in).
local floor, fmt = math.floor, string.format

local M = {}

local function money(x) return fmt("%.2f", x) end

-- monthly basic charge per 10 A, band 1, 2, 3, single step (yen inc tax)
M.AREA = {
  ["01"] = { 374.22, 35.35, 41.86, 45.54, 38.10 },
  ["02"] = { 330.00, 29.62, 36.37, 40.32, 33.20 },
  ["03"] = { 311.75, 29.80, 36.40, 40.49, 33.05 },
  ["04"] = { 321.14, 21.04, 25.51, 28.46, 24.30 },
  ["05"] = { 302.50, 30.86, 34.75, 36.46, 33.00 },
  ["06"] = { 295.00, 20.21, 25.61, 28.59, 23.90 },
  ["07"] = { 336.87, 32.75, 39.43, 41.55, 36.00 },
  ["08"] = { 428.73, 30.97, 37.61, 40.63, 34.80 },
  ["09"] = { 316.24, 18.37, 23.97, 26.97, 22.60 },
  ["10"] = { 401.50, 36.62, 42.69, 45.61, 40.10 },
}

-- the levy by fiscal year (the year its May falls in)
M.LEVY = { [2023] = "1.40", [2024] = "3.49", [2025] = "3.98", [2026] = "4.18", [2027] = "4.18" }

-- the METI subsidy per kWh by month of use (low voltage, yen; a discount)
M.METI = { ["2026-01"] = "4.50", ["2026-02"] = "4.50", ["2026-03"] = "1.50" }

-- the GraphQL rates' validity start: the area prices date from the 2024 revision (products
-- went on sale later: available_from)
M.RATES_FROM = "2024-04-01T00:00:00+09:00"

local DEFS = {
  { code = "JPN_KK_OCTOPUS_MAY_26", display_name = "Green Octopus",
    full_name = "Octopus Energy Green Octopus", kind = "stepped", is_green = true,
    is_variable = true, available_from = "2026-05-01T00:00:00+09:00", factor = 1.0,
    standing = "DAYS_ON_SUPPLY",
    description = "100% renewable electricity with stepped unit rates." },
  { code = "JPN_KK_SIMPLE_OCTOPUS_24", display_name = "Simple Octopus",
    full_name = "Octopus Energy Simple Octopus", kind = "single_step", is_green = false,
    is_variable = false, available_from = "2024-04-01T00:00:00+09:00", factor = 1.0,
    standing = "AMPERE_DAYS",
    description = "One flat unit rate, whatever you use." },
  { code = "JPN_KK_OCTOPUS_NOV_24", display_name = "Green Octopus (Nov 2024)",
    full_name = "Octopus Energy Green Octopus November 2024", kind = "stepped", is_green = true,
    is_variable = true, available_from = "2024-11-01T00:00:00+09:00",
    available_to = "2026-05-01T00:00:00+09:00", factor = 0.97, standing = "AMPERE_MONTHS",
    description = "The previous Green Octopus tariff, closed to new customers." },
}

-- standing charge of a product in an area: unit type, price text, and the daily figure of
-- a 30 A household (what REST's standing_charge_inc_vat and the quotes show)
local function standing(d, p1)
  if d.standing == "DAYS_ON_SUPPLY" then
    local s = money(p1 * 36 / 365 * d.factor)
    return s, s
  elseif d.standing == "AMPERE_DAYS" then
    local s = money(p1 / 10 * 12 / 365 * d.factor)
    return s, money(tonumber(s) * 30)
  end
  local s = money(p1 / 10 * d.factor)
  return s, money(tonumber(s) * 30 * 12 / 365)
end

-- M.build(unit) -> products, list, fca (area -> "YYYY-MM" -> text)
-- unit(s) -> [0, 1): data.lua's hash
function M.build(unit)
  local fca = {}
  for area in pairs(M.AREA) do
    fca[area] = {}
    for y = 2024, 2027 do
      for m = 1, 12 do
        local k = fmt("%04d-%02d", y, m)
        fca[area][k] = money(-4.50 + floor(unit("fca" .. area .. k) * 300) / 100)
      end
    end
  end
  local products, list = {}, {}
  for _, d in ipairs(DEFS) do
    local by_area = {}
    for area, p in pairs(M.AREA) do
      local bands
      if d.kind == "stepped" then
        bands = {
          { band = "CONSUMPTION_STEPPED_" .. area .. "_01", step_start = 0, step_end = 120,
            price_inc_tax = money(p[2] * d.factor) },
          { band = "CONSUMPTION_STEPPED_" .. area .. "_02", step_start = 120, step_end = 300,
            price_inc_tax = money(p[3] * d.factor) },
          { band = "CONSUMPTION_STEPPED_" .. area .. "_03", step_start = 300, step_end = nil,
            price_inc_tax = money(p[4] * d.factor) },
        }
      else
        bands = { { band = "CONSUMPTION_SINGLE_" .. area .. "_01", step_start = 0,
                    step_end = nil, price_inc_tax = money(p[5] * d.factor) } }
      end
      local price, daily30 = standing(d, p[1])
      by_area[area] = { standing_unit_type = d.standing, standing_price = price,
        standing_charge_per_day = daily30, bands = bands }
    end
    products[d.code] = {
      code = d.code, display_name = d.display_name, full_name = d.full_name,
      description = d.description, kind = d.kind, is_green = d.is_green,
      is_variable = d.is_variable, is_tracker = false, is_prepay = false, is_business = false,
      brand = "OCTOPUS_ENERGY", available_from = d.available_from,
      available_to = d.available_to, term = 12, by_area = by_area,
      fuel_cost_adjustment = fca, renewable_levy = M.LEVY[2026],
    }
    list[#list + 1] = d.code
  end
  return products, list, fca
end

-- M.levy_year(y, m) -> the fiscal year a month of use falls in
function M.levy_year(y, m) if m < 5 then return y - 1 end return y end

return M
