-- octopus.money.tariff_rest: a REST product detail and tariff (numbers, not Decimal text)
-- -> the tariff value (internal; the public function is octopus.money.tariff.from_rest).
-- Raises R.bad on a value that does not read; the caller protects.
local R = require "octopus.money.tariff_read"

local absent, bad, decimal, epoch, list, rate = R.absent, R.bad, R.decimal, R.epoch, R.list, R.rate
local finish, new = R.finish, R.new
local ipairs = ipairs
local TYPENAME_OF = R.TYPENAME_OF

local M = {}

-- REST charge rows -> rates
local function rest_rows(rows, zone, where)
  local out = {}
  for i, r in ipairs(list(rows)) do
    local w = where .. "[" .. i .. "]"
    if type(r) ~= "table" then bad(w .. " is not an object") end
    local x = rate({ validFrom = r.valid_from, validTo = r.valid_to, band = r.band,
      price_inc = r.value_inc_vat, price_exc = r.value_exc_vat }, zone, w, "price_inc", "price_exc")
    if not absent(r.step_start) then x.from = r.step_start end
    if not absent(r.step_end) then x.to = r.step_end end
    out[i] = x
  end
  return out
end

-- M.tariff(detail, tariff, opts, zone) -> tariff value (opts.unit_rates / standing_charges: charge rows)
function M.tariff(detail, tr, opts, zone)
  local stepped = not absent(tr.unit_rate_steps) and #tr.unit_rate_steps > 1
  local t = new(stepped and "stepped" or "single_step", "rest")
  detail = type(detail) == "table" and detail or {}
  t.code = not absent(detail.code) and detail.code or nil
  t.display_name = not absent(detail.display_name) and detail.display_name or nil
  t.tariff_code = not absent(tr.code) and tr.code or nil
  t.available_from = epoch(detail.available_from, zone, "product.available_from")
  t.available_to = epoch(detail.available_to, zone, "product.available_to")
  if opts.unit_rates then
    t.steps = rest_rows(opts.unit_rates, zone, "unit_rates")
    local is_stepped = false
    for _, s in ipairs(t.steps) do
      if s.from == nil then s.from = 0 end
      if s.to ~= nil or s.from > 0 then is_stepped = true end
    end
    t.kind = is_stepped and "stepped" or "single_step"
    t.typename = TYPENAME_OF[t.kind]
  elseif stepped then
    for i, s in ipairs(tr.unit_rate_steps) do
      local w = "unit_rate_steps[" .. i .. "]"
      local x = { band = not absent(s.band) and s.band or nil }
      x.price, x.price_text = decimal(s.value_inc_vat, w .. ".value_inc_vat")
      x.price_exc, x.price_exc_text = decimal(s.value_exc_vat, w .. ".value_exc_vat")
      if x.price == nil then bad(w .. " has no value_inc_vat") end
      x.from = not absent(s.step_start) and s.step_start or 0
      x.to = not absent(s.step_end) and s.step_end or nil
      t.steps[i] = x
    end
  else
    local x = { from = 0 }
    x.price, x.price_text = decimal(tr.standard_unit_rate_inc_vat, "tariff.standard_unit_rate_inc_vat")
    x.price_exc, x.price_exc_text = decimal(tr.standard_unit_rate_exc_vat, "tariff.standard_unit_rate_exc_vat")
    if x.price then t.steps[1] = x end
  end
  if opts.standing_charges then
    t.standing = rest_rows(opts.standing_charges, zone, "standing_charges")
    for _, c in ipairs(t.standing) do c.kind = "day" end
  else
    local c = { kind = "day" }
    c.price, c.price_text = decimal(tr.standing_charge_inc_vat, "tariff.standing_charge_inc_vat")
    c.price_exc, c.price_exc_text = decimal(tr.standing_charge_exc_vat, "tariff.standing_charge_exc_vat")
    if c.price then t.standing[1] = c end
  end
  if not opts.unit_rates or not opts.standing_charges then
    t.assumptions[#t.assumptions + 1] = "REST tariff without its charge history: its current prices are taken " ..
      "as valid for every period"
  end
  t.assumptions[#t.assumptions + 1] = "REST standing charges are read as yen per day"
  return finish(t)
end

return M
