-- octopus.sandbox.rest_tariffs: products, tariff charges and quotes for the sandbox REST
-- API (public routes, plus POST /v1/quotes/), routed by octopus.sandbox.rest.
--
-- Invariants: prices are ds.products' (yen inc. 10% consumption tax); exc-tax values are
-- inc / 1.1 rounded to 4 decimals, as JSON numbers; tariff codes are
-- "E-1R-<product>-<area>" and regions "_01".."_10"; charges are newest first, and a
-- stepped product's unit rates carry band, step_start, step_end (sandbox extension).
local data = require "octopus.sandbox.data"
local json_reply = require "octopus.sandbox.json_reply"
local common = require "octopus.sandbox.rest_common"

local json, reply, detail = json_reply.json, json_reply.reply, json_reply.detail
local floor, fmt = math.floor, string.format

local M = {}

local function round(x, places)
  local k = 10 ^ places
  return floor(x * k + 0.5) / k
end

local function exc(inc) return round(tonumber(inc) / 1.1, 4) end
local function num(s) return round(tonumber(s), 4) end

function M.tariff_code(product_code, area) return "E-1R-" .. product_code .. "-" .. area end

local function epoch_of(s) return s and data.parse_time(s) end

-- true when the product is on sale at t
function M.available(p, t)
  local from, to = epoch_of(p.available_from), epoch_of(p.available_to)
  return (not from or from <= t) and (not to or t < to)
end

local function areas()
  local out = {}
  for i = 1, 10 do out[i] = fmt("%02d", i) end
  return out
end

local function abs_base(req)
  local host = req.headers.host or "127.0.0.1"
  return (req.tls and "https://" or "http://") .. host
end

local function product_summary(req, p)
  return {
    code = p.code, direction = "IMPORT", full_name = p.full_name, display_name = p.display_name,
    description = p.description, is_variable = p.is_variable, is_green = p.is_green,
    is_tracker = p.is_tracker, is_prepay = p.is_prepay, is_business = p.is_business,
    is_restricted = false, term = p.term, available_from = p.available_from,
    available_to = p.available_to or json.null, brand = p.brand,
    links = json.array{ { href = abs_base(req) .. "/v1/products/" .. p.code .. "/",
      method = "GET", rel = "self" } },
  }
end

local BOOL = { ["true"] = true, ["false"] = false, ["True"] = true, ["False"] = false,
  ["1"] = true, ["0"] = false }
local FLAGS = { "is_variable", "is_green", "is_tracker", "is_prepay", "is_business" }

function M.list_products(state, req)
  local q = req.query
  local want = {}
  for _, f in ipairs(FLAGS) do
    local v = q[f]
    if v ~= nil and v ~= "" then
      if BOOL[v] == nil then return detail(400, fmt("Invalid %s %q: use true or false.", f, v)) end
      want[f] = BOOL[v]
    end
  end
  local at, err = common.query_time(req, "available_at")
  if at == false then return err end
  at = at or state.ds.now()
  local list = {}
  for _, code in ipairs(state.ds.product_list) do
    local p = state.ds.products[code]
    local ok = M.available(p, at) and (not q.brand or q.brand == "" or q.brand == p.brand)
    for f, v in pairs(want) do ok = ok and p[f] == v end
    if ok then list[#list + 1] = product_summary(req, p) end
  end
  return common.paginate_list(req, state, list)
end

local function charge_links(req, p, tcode)
  local base = abs_base(req) .. "/v1/products/" .. p.code .. "/electricity-tariffs/" .. tcode
  return json.array{
    { href = base .. "/standing-charges/", method = "GET", rel = "standing_charges" },
    { href = base .. "/standard-unit-rates/", method = "GET", rel = "standard_unit_rates" },
  }
end

-- yen/year for a list of 12 monthly kWh figures (bands per month, levy; no fuel cost adj.)
local function annual_cost(p, area, monthly)
  local a = p.by_area[area]
  local energy = 0
  for _, kwh in ipairs(monthly) do
    for _, b in ipairs(a.bands) do
      local hi = b.step_end or math.huge
      local used = math.max(0, math.min(kwh, hi) - b.step_start)
      energy = energy + used * tonumber(b.price_inc_tax)
    end
    energy = energy + kwh * tonumber(p.renewable_levy)
  end
  local standing = tonumber(a.standing_charge_per_day) * 365
  return math.tointeger(floor(energy + standing + 0.5)), math.tointeger(floor(standing + 0.5))
end

function M.get_product(state, req, code)
  local p = state.ds.products[code]
  if not p then return detail(404, common.NOT_FOUND) end
  local at, err = common.query_time(req, "tariffs_active_at")
  if at == false then return err end
  at = at or state.ds.now()
  local out = product_summary(req, p)
  out.tariffs_active_at = data.iso(at)
  local single, quotes = {}, {}
  if M.available(p, at) then
    for _, area in ipairs(areas()) do
      local a = p.by_area[area]
      local tcode = M.tariff_code(p.code, area)
      local first = a.bands[1].price_inc_tax
      local t = { code = tcode,
        standing_charge_exc_vat = exc(a.standing_charge_per_day),
        standing_charge_inc_vat = num(a.standing_charge_per_day),
        online_discount_exc_vat = 0, online_discount_inc_vat = 0,
        dual_fuel_discount_exc_vat = 0, dual_fuel_discount_inc_vat = 0,
        exit_fees_exc_vat = 0, exit_fees_inc_vat = 0, exit_fees_type = "NONE",
        standard_unit_rate_exc_vat = exc(first), standard_unit_rate_inc_vat = num(first),
        links = charge_links(req, p, tcode) }
      if p.kind == "stepped" then
        local steps = {}
        for _, b in ipairs(a.bands) do
          steps[#steps + 1] = { band = b.band, step_start = b.step_start,
            step_end = b.step_end or json.null, value_exc_vat = exc(b.price_inc_tax),
            value_inc_vat = num(b.price_inc_tax) }
        end
        t.unit_rate_steps = json.array(steps)
      end
      single["_" .. area] = { direct_debit_monthly = t }
      local monthly = {}
      for i = 1, 12 do monthly[i] = 300 end
      local total = annual_cost(p, area, monthly)
      quotes["_" .. area] = { direct_debit_monthly = { electricity_single_rate = {
        annual_cost_inc_vat = total, annual_cost_exc_vat = math.tointeger(floor(total / 1.1 + 0.5)) } } }
    end
  end
  out.single_register_electricity_tariffs = json.object(single)
  out.dual_register_electricity_tariffs = json.object{}
  out.single_register_gas_tariffs = json.object{}
  out.dual_register_gas_tariffs = json.object{}
  out.sample_quotes = json.object(quotes)
  out.sample_consumption = { electricity_single_rate = { electricity_standard = 3600 } }
  return reply(200, out)
end

-- GET .../electricity-tariffs/{tariff}/{kind}/ : standing-charges, standard-unit-rates
-- (day-unit-rates and night-unit-rates: 404, every sandbox product is single register).
function M.charges(state, req, code, tcode, kind)
  local p = state.ds.products[code]
  local pcode, area = tcode:match("^E%-1R%-(.+)%-(%d%d)$")
  if not p or pcode ~= code or not p.by_area[area or ""]
     or (kind ~= "standing-charges" and kind ~= "standard-unit-rates") then
    return detail(404, common.NOT_FOUND)
  end
  local from, e1 = common.query_time(req, "period_from")
  if from == false then return e1 end
  local to, e2 = common.query_time(req, "period_to")
  if to == false then return e2 end
  local vf, vt = epoch_of(p.available_from), epoch_of(p.available_to)
  local rows = {}
  -- one validity period: [available_from, available_to); kept when it overlaps [from, to)
  if (not to or vf < to) and (not from or not vt or vt > from) then
    local a = p.by_area[area]
    local function row(inc)
      return { value_exc_vat = exc(inc), value_inc_vat = num(inc),
        valid_from = p.available_from, valid_to = p.available_to or json.null,
        payment_method = json.null }
    end
    if kind == "standing-charges" then
      rows[1] = row(a.standing_charge_per_day)
    else
      for _, b in ipairs(a.bands) do
        local r = row(b.price_inc_tax)
        if p.kind == "stepped" then
          r.band, r.step_start, r.step_end = b.band, b.step_start, b.step_end or json.null
        end
        rows[#rows + 1] = r
      end
    end
  end
  return common.paginate_list(req, state, rows, 1500)
end

---------------------------------------------------------------------------
-- POST /v1/quotes/

local function type_name(v)
  if type(v) == "table" then return getmetatable(v) == json.array_mt and "list" or "dict" end
  if type(v) == "string" then return "str" end
  return type(v)
end

function M.quote(state, req)
  local user, aerr = common.authenticate(state, req)
  if not user then return aerr end
  local body, jerr = json_reply.json_body(req)
  if not body then return jerr end
  local ds, errors, bad = state.ds, {}, false
  local function fail(field, msg)
    errors[field] = errors[field] or json.array{}
    table.insert(errors[field], msg)
    bad = true
  end
  local area
  if body.postcode == nil or body.postcode == json.null or body.postcode == "" then
    fail("postcode", "This field is required.")
  else
    area = data.grid_area_for_postcode(body.postcode)
    if not area then fail("postcode", "Enter a valid postcode, e.g. 100-0001.") end
  end
  local codes = body.product_codes
  if codes == nil or codes == json.null then
    codes = {}
    for _, c in ipairs(ds.product_list) do
      if M.available(ds.products[c], ds.now()) then codes[#codes + 1] = c end
    end
  elseif type_name(codes) ~= "list" then
    fail("product_codes", fmt('Expected a list of items but got type "%s".', type_name(codes)))
    codes = {}
  else
    for _, c in ipairs(codes) do
      if type(c) ~= "string" or not ds.products[c] then
        fail("product_codes", "Unknown product code: " .. tostring(c))
      end
    end
  end
  local e = body.electricity
  local monthly = {}
  if type_name(e) ~= "dict" then
    fail("electricity", e == nil and "This field is required."
      or fmt('Expected a dictionary of items but got type "%s".', type_name(e)))
  else
    local annual, m = e.annual_consumption_kwh, e.monthly_kwh
    if type(annual) == "number" and annual >= 0 then
      for i = 1, 12 do monthly[i] = annual / 12 end
    elseif type(m) == "number" and m >= 0 then
      for i = 1, 12 do monthly[i] = m end
    elseif type_name(m) == "list" and #m == 12 then
      for i = 1, 12 do
        if type(m[i]) ~= "number" or m[i] < 0 then
          fail("electricity", "monthly_kwh must hold 12 non-negative numbers.")
          break
        end
        monthly[i] = m[i]
      end
    else
      fail("electricity", "Give annual_consumption_kwh (a non-negative number) or monthly_kwh "
        .. "(a number or a list of 12).")
    end
  end
  if bad then return reply(400, errors) end
  local total_kwh = 0
  for _, v in ipairs(monthly) do total_kwh = total_kwh + v end
  local products = {}
  for _, c in ipairs(codes) do
    local p = ds.products[c]
    local cost, standing = annual_cost(p, area, monthly)
    products[#products + 1] = { code = p.code, display_name = p.display_name,
      full_name = p.full_name, tariff_code = M.tariff_code(p.code, area),
      annual_consumption_kwh = round(total_kwh, 3), annual_cost_inc_vat = cost,
      annual_cost_exc_vat = math.tointeger(floor(cost / 1.1 + 0.5)),
      annual_standing_charge_inc_vat = standing }
  end
  state.quote_seq = (state.quote_seq or 0) + 1
  local code = fmt("Q-%08X", (data.hash("quote" .. state.quote_seq) * 7919) % 0xFFFFFFFF)
  return reply(201, { code = code, gsp = "_" .. area,
    postcode = data.normalize_postcode(body.postcode), products = json.array(products) })
end

return M
