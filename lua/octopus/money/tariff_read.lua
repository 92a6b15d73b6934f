-- octopus.money.tariff_read: what octopus.money.tariff's readers of API values share
-- (internal): the Product union's type names, standing-charge unit types, Decimal text
-- and dates read exactly, a rate's price fields, the empty tariff value and its sort
-- order, and the DECODE wrapper (a conversion failure deep inside a reader raises a
-- tagged error; `protect` turns it into nil, DECODE error at the public function).
local core = require "octopus.core"
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"
local yen = require "octopus.money.yen"

local null = core.json.null
local type, pairs, ipairs, tostring, tonumber, error, pcall, setmetatable, getmetatable =
  type, pairs, ipairs, tostring, tonumber, error, pcall, setmetatable, getmetatable
local sort = table.sort

local M = {}

M.TYPENAMES = {
  ElectricitySteppedProduct = "stepped", ElectricitySingleStepProduct = "single_step",
  ElectricityFitProduct = "fit", GasTieredProduct = "gas_tiered",
}
local TYPENAME_OF = {}
for k, v in pairs(M.TYPENAMES) do TYPENAME_OF[v] = k end
M.TYPENAME_OF = TYPENAME_OF

-- Standing-charge unit types -> kind, per. UnitType enum names first, then names
-- seen in other Kraken instances; anything else falls back to the words in it.
M.UNIT_TYPES = {
  DAYS_ON_SUPPLY = { "day" }, MONTHS_ON_SUPPLY = { "month" },
  AMPERE_MONTHS = { "month", "A" }, AMPERE_DAYS = { "day", "A" },
  KVA_CAPACITY_DAYS = { "day", "kVA" }, KVA_CAPACITY_MONTHS = { "month", "kVA" },
  KVA_DEMAND_DAYS = { "day", "kVA" }, KVA_DEMAND_MONTHS = { "month", "kVA" },
  KW_DEMAND_DAYS = { "day", "kW" }, KW_CAPACITY_MONTHS = { "month", "kW" },
}

-- M.unit(unit_type) -> kind, per (kind nil when the unit type is not understood)
---@param u string a standing charge's unitType
---@return "day"|"month"|nil kind nil when not understood
---@return "A"|"kVA"|"kW"|nil per
function M.unit(u)
  if u == nil then return "day", nil end
  local known = M.UNIT_TYPES[u]
  if known then return known[1], known[2] end
  local up = tostring(u):upper()
  local kind = (up:find("MONTH") and "month") or ((up:find("DAY") or up:find("DAILY")) and "day") or nil
  local per = (up:find("AMP") and "A") or (up:find("KVA") and "kVA") or (up:find("KW") and not up:find("KWH")
    and "kW") or nil
  return kind, per
end

local function absent(v) return v == nil or v == null end

-- conversion failures inside a public function: raised as a tagged table, caught below
local bad_mt = {}
local function bad(msg) error(setmetatable({ message = msg }, bad_mt), 0) end

local function decimal(v, where)
  if absent(v) then return nil, nil end
  if type(v) == "number" then return v, yen.number_text(v) end
  if type(v) == "string" then
    local n = tonumber(v)
    if n and yen.units(v, 1) then return n, v end
  end
  bad(where .. " is not a Decimal (" .. tostring(v) .. ")")
end

local function epoch(v, zone, where)
  if absent(v) then return nil end
  local ok, t = pcall(time.parse, v, zone)
  if not ok then bad(where .. ": " .. tostring(t)) end
  return t
end

local function list(v)
  if absent(v) then return {} end
  if type(v) ~= "table" then bad("expected a list, got a " .. type(v)) end
  return v
end

-- the price fields of a rate object -> rate
local function rate(r, zone, where, inc, exc)
  if type(r) ~= "table" then bad(where .. " is not an object") end
  local out = { band = not absent(r.band) and r.band or nil,
                unit_type = not absent(r.unitType) and r.unitType or nil }
  out.price, out.price_text = decimal(r[inc or "pricePerUnitIncTax"], where .. "." .. (inc or "pricePerUnitIncTax"))
  out.price_exc, out.price_exc_text = decimal(r[exc or "pricePerUnit"], where .. "." .. (exc or "pricePerUnit"))
  if out.price == nil then bad(where .. " has no " .. (inc or "pricePerUnitIncTax")) end
  out.valid_from = epoch(r.validFrom, zone, where .. ".validFrom")
  out.valid_to = epoch(r.validTo, zone, where .. ".validTo")
  return out
end

-- stable: by valid_from (open first), then step start, then the order the API gave
local function sort_validity(entries)
  local pos = {}
  for i, x in ipairs(entries) do pos[x] = i end
  sort(entries, function(a, b)
    local af, bf = a.valid_from or -1 / 0, b.valid_from or -1 / 0
    if af ~= bf then return af < bf end
    local as, bs = a.from or 0, b.from or 0
    if as ~= bs then return as < bs end
    return pos[a] < pos[b]
  end)
end

local function finish(t)
  sort_validity(t.steps)
  sort_validity(t.standing)
  sort_validity(t.fuel_cost_adjustments)
  sort_validity(t.levies)
  sort_validity(t.discounts)
  sort_validity(t.credits)
  return t
end

local function new(kind, source)
  return { kind = kind, typename = TYPENAME_OF[kind], source = source,
    fuel = kind == "gas_tiered" and "gas" or "electricity", unit = kind == "gas_tiered" and "m3" or "kWh",
    steps = {}, standing = {}, fuel_cost_adjustments = {}, levies = {}, discounts = {}, credits = {},
    assumptions = {} }
end

-- protected call of a converter: value | nil, DECODE error
local function protect(fn, ...)
  local ok, v = pcall(fn, ...)
  if ok then return v end
  if type(v) == "table" and getmetatable(v) == bad_mt then
    return nil, errors.new { code = "DECODE", kind = "decode", retryable = false, message = v.message }
  end
  error(v, 0)
end

local function standing_charge(t, s, zone, where, product_unit_type)
  local c = rate(s, zone, where)
  local u = c.unit_type or product_unit_type
  c.kind, c.per = M.unit(u)
  if u == nil then
    t.assumptions[#t.assumptions + 1] = where .. " has no unitType: read as yen per day"
  end
  c.unit_type = u
  c.threshold, c.threshold_text = decimal(s.threshold, where .. ".threshold")
  if not absent(s.tierStart) then c.tier_from = s.tierStart end
  if not absent(s.tierEnd) then c.tier_to = s.tierEnd end
  return c
end

-- "30A" -> 30, "A"; "6kVA" -> 6, "kVA"
---@param label any "30A", "6kVA"
---@return number|nil value
---@return string|nil unit "A", "kVA", "kW"
local function capacity_label(label)
  if type(label) ~= "string" then return nil end
  local n, u = label:match("^%s*(%d+%.?%d*)%s*([kK]?[VvWwAa]?[Aa]?)%s*$")
  if not n or u == "" then return nil end
  local units = { a = "A", kva = "kVA", kw = "kW" }
  u = units[u:lower()]
  return u and tonumber(n) or nil, u
end
M.capacity_label = capacity_label


M.absent, M.bad, M.protect, M.decimal, M.epoch, M.list, M.rate = absent, bad, protect, decimal, epoch, list, rate
M.sort_validity, M.finish, M.new, M.standing_charge = sort_validity, finish, new, standing_charge

return M
