-- octopus.money.compile: a tariff value (octopus.money.tariff) or a list of agreements
-- -> the bill engine's exact form: prices in yen units (octopus.money.yen), step
-- bounds in kWh units, validity as epochs, and the instants where prices change.
--
-- Internal to octopus.money. Malformed input (a usage error) comes back as
-- nil, message naming the field, so the public function can raise it at its
-- caller's line. Prices are read from price_text when present (exact), else from
-- price; a price with more decimals than 1/100 sen is rounded and reported.
local time = require "octopus.pipeline.time"
local yen = require "octopus.money.yen"

local type, ipairs, tostring, error, pcall, setmetatable, getmetatable =
  type, ipairs, tostring, error, pcall, setmetatable, getmetatable
local sort = table.sort
local KWH, PRICE = yen.KWH, yen.PRICE

local M = {}

local bad_mt = {}
local function bad(msg) error(setmetatable({ message = msg }, bad_mt), 0) end

local function price_units(x, where, notes)
  local v = x.price_text
  if v == nil then v = x.price end
  if v == nil then bad(where .. " has no price (price_text or price)") end
  local u, exact = yen.units(v, PRICE)
  if not u then bad(where .. ".price: " .. tostring(exact)) end
  if not exact then notes[#notes + 1] = where .. " price " .. tostring(v) .. " rounded to 0.0001 yen" end
  return u
end

local function qty_units(v, where)
  if v == nil then return nil end
  local u, exact = yen.units(v, KWH)
  if not u then bad(where .. ": " .. tostring(exact)) end
  if not exact then bad(where .. " has more than 4 decimals (" .. tostring(v) .. ")") end
  return u
end

local function when(v, zone, where)
  if v == nil then return nil end
  if type(v) == "number" then return v end
  local ok, t = pcall(time.parse, v, zone)
  if not ok then bad(where .. ": " .. tostring(t)) end
  return t
end

local function base(x, zone, where, notes)
  if type(x) ~= "table" then bad(where .. " must be a table") end
  local vf, vt = when(x.valid_from, zone, where .. ".valid_from"), when(x.valid_to, zone, where .. ".valid_to")
  if vf and vt and vt <= vf then bad(where .. ": valid_to is not after valid_from") end
  return { src = x, price = price_units(x, where, notes), vf = vf, vt = vt, band = x.band, name = x.name }
end

local function rates(list, zone, where, notes)
  local out = {}
  if list == nil then return out end
  if type(list) ~= "table" then bad(where .. " must be a list") end
  for i, x in ipairs(list) do out[i] = base(x, zone, where .. "[" .. i .. "]", notes) end
  return out
end

local KINDS = { stepped = true, single_step = true, fit = true, gas_tiered = true }

local function compile_tariff(t, zone, where)
  if type(t) ~= "table" then bad(where .. " must be a tariff table (octopus.money.tariff)") end
  local kind = t.kind or (t.credits and #t.credits > 0 and "fit") or "stepped"
  if not KINDS[kind] then
    bad(where .. ".kind must be stepped, single_step, fit or gas_tiered (got " .. tostring(kind) .. ")")
  end
  local notes = {}
  local c = { src = t, kind = kind, code = t.code, display_name = t.display_name, unit = t.unit or
    (kind == "gas_tiered" and "m3" or "kWh"), notes = notes, tier = kind == "gas_tiered" }
  c.steps = {}
  for i, s in ipairs(t.steps or {}) do
    local w = where .. ".steps[" .. i .. "]"
    local x = base(s, zone, w, notes)
    x.from = qty_units(s.from or 0, w .. ".from")
    x.to = qty_units(s.to, w .. ".to")
    if x.to and x.to <= x.from then bad(w .. ": 'to' is not above 'from'") end
    c.steps[i] = x
  end
  c.standing = {}
  for i, s in ipairs(t.standing or {}) do
    local w = where .. ".standing[" .. i .. "]"
    local x = base(s, zone, w, notes)
    x.kind, x.per, x.unit_type, x.label = s.kind, s.per, s.unit_type, s.label
    if x.kind == nil and x.unit_type == nil then x.kind = "day" end
    x.threshold = qty_units(s.threshold_text or s.threshold, w .. ".threshold")
    if x.threshold == 0 then x.threshold = nil end
    x.tier_from, x.tier_to = qty_units(s.tier_from, w .. ".tier_from"), qty_units(s.tier_to, w .. ".tier_to")
    if s.capacity ~= nil then
      x.capacity = yen.units(s.capacity, 10)
      if not x.capacity then bad(w .. ".capacity must be a number") end
      x.capacity_unit = s.capacity_unit or "A"
    end
    x.per_size = s.per_size or 1
    if type(x.per_size) ~= "number" or x.per_size < 1 or x.per_size ~= math.floor(x.per_size) then
      bad(w .. ".per_size must be a whole number of A, kVA or kW (got " .. tostring(s.per_size) .. ")")
    end
    if x.per ~= nil and x.per ~= "A" and x.per ~= "kVA" and x.per ~= "kW" then
      bad(w .. ".per must be nil, \"A\", \"kVA\" or \"kW\" (got " .. tostring(x.per) .. ")")
    end
    c.standing[i] = x
  end
  c.fca = rates(t.fuel_cost_adjustments, zone, where .. ".fuel_cost_adjustments", notes)
  c.levies = rates(t.levies, zone, where .. ".levies", notes)
  c.discounts = rates(t.discounts, zone, where .. ".discounts", notes)
  c.credits = rates(t.credits, zone, where .. ".credits", notes)
  if kind == "fit" then
    if #c.credits == 0 then bad(where .. " is a FIT tariff without credits") end
  elseif #c.steps == 0 then
    bad(where .. " has no steps (consumption rates)")
  end
  sort(c.steps, function(a, b) return a.from < b.from end)
  for _, x in ipairs(t.assumptions or {}) do notes[#notes + 1] = x end
  return c
end

-- every instant strictly inside (from, to) where one of the lists' validity changes
local function add_bounds(set, list)
  for _, x in ipairs(list) do
    if x.vf then set[#set + 1] = x.vf end
    if x.vt then set[#set + 1] = x.vt end
  end
end

local function is_tariff(p)
  return p.steps ~= nil or p.kind ~= nil or p.standing ~= nil or p.credits ~= nil
end

local function compile_plan(plan, zone)
  if type(plan) ~= "table" then bad("'plan' must be a tariff or a list of agreements (got " .. type(plan) .. ")") end
  local list, single
  if is_tariff(plan) then list, single = { { tariff = plan } }, "tariff"
  elseif plan.tariff ~= nil then list, single = { plan }, "agreement"
  else list = plan end
  if #list == 0 then bad("'plan' is an empty list of agreements") end
  local out = { agreements = {}, bounds = {}, rate_bounds = {}, notes = {} }
  for i, a in ipairs(list) do
    local w = single and "plan" or "plan[" .. i .. "]"
    if type(a) ~= "table" then bad(w .. " must be an agreement { tariff =, valid_from =, valid_to = }") end
    local t = a.tariff
    local tw = single == "tariff" and "plan" or w .. ".tariff"
    if t == nil and is_tariff(a) then t, tw = a, w end
    if t == nil then bad(w .. " has no tariff") end
    local c = compile_tariff(t, zone, tw)
    local ag = { index = i, tariff = c, vf = when(a.valid_from, zone, w .. ".valid_from"),
                 vt = when(a.valid_to, zone, w .. ".valid_to"), id = a.id }
    if ag.vf and ag.vt and ag.vt <= ag.vf then bad(w .. ": valid_to is not after valid_from") end
    out.agreements[i] = ag
    local b = out.bounds
    if ag.vf then b[#b + 1] = ag.vf end
    if ag.vt then b[#b + 1] = ag.vt end
    add_bounds(b, c.steps)
    add_bounds(b, c.standing)
    local rb = out.rate_bounds
    add_bounds(rb, c.fca); add_bounds(rb, c.levies); add_bounds(rb, c.discounts); add_bounds(rb, c.credits)
  end
  sort(out.agreements, function(x, y) return (x.vf or -1 / 0) < (y.vf or -1 / 0) end)
  for i = 2, #out.agreements do
    local p, q = out.agreements[i - 1], out.agreements[i]
    if p.vt == nil or (q.vf == nil) or q.vf < p.vt then
      bad("plan[" .. q.index .. "] overlaps plan[" .. p.index .. "]: agreements must not overlap")
    end
  end
  sort(out.bounds)
  sort(out.rate_bounds)
  return out
end

-- M.plan(plan, zone) -> compiled plan | nil, message (a usage error naming the field)
--   compiled = { agreements = { { index, tariff = compiled tariff, vf, vt, id } } (by time),
--                bounds = sorted instants where an agreement, step or standing charge changes,
--                rate_bounds = the same for fuel-cost adjustments, levies, discounts, credits }
function M.plan(plan, zone)
  local ok, v = pcall(compile_plan, plan, zone)
  if ok then return v end
  if type(v) == "table" and getmetatable(v) == bad_mt then return nil, v.message end
  error(v, 0)
end

-- M.active(list, t) -> array of the entries valid at t (vf <= t < vt)
function M.active(list, t)
  local out = {}
  for _, x in ipairs(list) do
    if (x.vf == nil or x.vf <= t) and (x.vt == nil or t < x.vt) then out[#out + 1] = x end
  end
  return out
end

-- M.rate_at(list, t) -> the entry valid at t with the latest vf, or nil
function M.rate_at(list, t)
  local best
  for _, x in ipairs(list) do
    if (x.vf == nil or x.vf <= t) and (x.vt == nil or t < x.vt) then
      if not best or (x.vf or -1 / 0) >= (best.vf or -1 / 0) then best = x end
    end
  end
  return best
end

-- M.agreement_at(compiled, t) -> agreement or nil
function M.agreement_at(cp, t)
  for _, a in ipairs(cp.agreements) do
    if (a.vf == nil or a.vf <= t) and (a.vt == nil or t < a.vt) then return a end
  end
  return nil
end

return M
