-- octopus.cli.commands.catalog: the public catalogue and quotes — products, tariff,
-- quote — and the GraphQL points budget (rate-limit). Each command is
-- function(args, ctx) -> result (see octopus.cli.format) | nil, err.
local format = require "octopus.cli.format"

local M = {}

local function is_null(v) return v == nil or type(v) == "userdata" end
local function day(v) return (not is_null(v)) and tostring(v):sub(1, 10) or "" end
local function yes(v) return v == true and "yes" or "" end

function M.products(args, ctx)
  local client = ctx.client()
  local filters = {}
  if args.green then filters.is_green = true end
  if args.variable then filters.is_variable = true end
  if args.business then filters.is_business = true end
  if args.available_at then filters.available_at = args.available_at end
  if args.brand then filters.brand = args.brand end
  local list, err = client.products:list(filters):all()
  if not list then return nil, err end
  local rows = {}
  for i, p in ipairs(list) do
    rows[i] = { code = p.code, display_name = p.display_name, full_name = p.full_name,
      is_green = p.is_green == true, is_variable = p.is_variable == true,
      available_from = not is_null(p.available_from) and p.available_from or nil,
      available_to = not is_null(p.available_to) and p.available_to or nil, term = p.term }
  end
  return {
    columns = {
      { key = "code", title = "Code" }, { key = "display_name", title = "Name" },
      { key = "is_green", title = "Green", fmt = yes }, { key = "is_variable", title = "Variable", fmt = yes },
      { key = "available_from", title = "From", fmt = day }, { key = "available_to", title = "To", fmt = day },
    },
    rows = rows,
    after = { ("%d product%s"):format(#rows, #rows == 1 and "" or "s") },
  }
end

-- fuel-cost adjustment and levy are GraphQL-only (on agreements): shown when the
-- credentials' account is on this product; nil otherwise (no error)
local function account_rates(ctx, code)
  if not ctx.has_credentials() then return nil end
  local client = ctx.client("any")
  local numbers = {}
  local ok, number = pcall(ctx.account, client, nil)
  if ok and number then
    numbers[1] = number
  else
    local me = client:viewer()
    for i, a in ipairs(me and me.accounts or {}) do if i <= 5 then numbers[i] = a.number end end
  end
  for _, n in ipairs(numbers) do
    local a = client:account(n)
    for _, prop in ipairs(a and a.properties or {}) do
      for _, sp in ipairs(prop.electricitySupplyPoints or {}) do
        for _, ag in ipairs(type(sp.agreements) == "table" and sp.agreements or {}) do
          local p = type(ag) == "table" and ag.product
          if type(p) == "table" and p.code == code then return p end
        end
      end
    end
  end
end

function M.tariff(args, ctx)
  local client = ctx.client()
  local detail, err = client.products:get(args.product)
  if not detail then return nil, err end
  local t, terr = client.products.tariff_for(detail, args.area)
  if not t then return nil, terr end
  local rates, rerr = client.tariffs:standard_unit_rates(detail.code, t.code):all()
  if not rates then return nil, rerr end
  local standing = client.tariffs:standing_charges(detail.code, t.code):all() or {}
  local rows = {}
  local steps = (type(t.unit_rate_steps) == "table" and #t.unit_rate_steps > 0) and t.unit_rate_steps or rates
  for _, s in ipairs(steps) do
    local valid = rates[1] or {}
    for _, r in ipairs(rates) do if r.band == s.band then valid = r end end
    rows[#rows + 1] = { component = "energy", band = s.band,
      step_start = not is_null(s.step_start) and s.step_start or nil,
      step_end = not is_null(s.step_end) and s.step_end or nil,
      unit = "yen/kWh", price_inc_tax = s.value_inc_vat, price_exc_tax = s.value_exc_vat,
      valid_from = not is_null(valid.valid_from) and valid.valid_from or nil,
      valid_to = not is_null(valid.valid_to) and valid.valid_to or nil }
  end
  local sc = standing[1] or {}
  rows[#rows + 1] = { component = "standing charge", unit = "yen/day",
    price_inc_tax = sc.value_inc_vat or t.standing_charge_inc_vat,
    price_exc_tax = sc.value_exc_vat or t.standing_charge_exc_vat,
    valid_from = not is_null(sc.valid_from) and sc.valid_from or nil,
    valid_to = not is_null(sc.valid_to) and sc.valid_to or nil }
  local p = account_rates(ctx, detail.code)
  local note = "fuel-cost adjustment and renewable energy levy: shown when your account is on this product"
  if p then
    note = nil
    for _, pair in ipairs { { "fuel-cost adjustment", p.fuelCostAdjustment },
                            { "renewable energy levy", p.renewableEnergyLevy } } do
      local r = pair[2]
      if type(r) == "table" then
        rows[#rows + 1] = { component = pair[1], unit = "yen/kWh",
          price_inc_tax = tonumber(r.pricePerUnitIncTax), price_text = r.pricePerUnitIncTax,
          valid_from = not is_null(r.validFrom) and r.validFrom or nil,
          valid_to = not is_null(r.validTo) and r.validTo or nil }
      end
    end
  end
  local function steps_text(_, row)
    if not row.step_start then return "" end
    return format.scalar(row.step_start) .. "-" .. (row.step_end and format.scalar(row.step_end) or "") .. " kWh"
  end
  local after = {}
  if note and ctx.mode == "table" then after[1] = note end
  return {
    before = { ("%s (%s), tariff %s, area %s"):format(tostring(detail.display_name), detail.code,
      t.code, args.area) },
    columns = {
      { key = "component", title = "Component" }, { key = "step_start", title = "Step", fmt = steps_text },
      { key = "price_inc_tax", title = "Inc tax", align = "right", fmt = function(v) return format.scalar(v) end },
      { key = "unit", title = "Unit" },
      { key = "valid_from", title = "From", fmt = day }, { key = "valid_to", title = "To", fmt = day },
    },
    csv_columns = {
      { key = "component" }, { key = "band" }, { key = "step_start" }, { key = "step_end" },
      { key = "price_inc_tax" }, { key = "price_exc_tax" }, { key = "unit" }, { key = "valid_from" },
      { key = "valid_to" },
    },
    rows = rows,
    after = after,
    json = { product = detail.code, display_name = detail.display_name, tariff = t.code,
             area = args.area, components = require("octopus.core").json.array(rows) },
  }
end

function M.quote(args, ctx)
  local client = ctx.client("api_key")
  local body = { postcode = args.postcode, electricity = {} }
  if args.kwh_per_month then body.electricity.monthly_kwh = args.kwh_per_month
  else body.electricity.annual_consumption_kwh = args.kwh_per_year end
  if #args.product > 0 then body.product_codes = args.product end
  local q, err = client.quotes:create(body)
  if not q then return nil, err end
  local rows = {}
  for i, p in ipairs(q.products or {}) do
    rows[i] = { code = p.code, display_name = p.display_name, tariff_code = p.tariff_code,
      annual_consumption_kwh = p.annual_consumption_kwh, annual_cost_inc_vat = p.annual_cost_inc_vat,
      annual_standing_charge_inc_vat = p.annual_standing_charge_inc_vat,
      monthly_cost_inc_vat = type(p.annual_cost_inc_vat) == "number"
        and math.floor(p.annual_cost_inc_vat / 12 + 0.5) or nil }
  end
  table.sort(rows, function(a, b) return (a.annual_cost_inc_vat or 0) < (b.annual_cost_inc_vat or 0) end)
  return {
    before = { ("quote %s for %s (area %s)"):format(tostring(q.code), tostring(q.postcode or args.postcode),
      tostring(q.gsp)) },
    columns = {
      { key = "display_name", title = "Product" }, { key = "code", title = "Code" },
      { key = "annual_consumption_kwh", title = "kWh/year", align = "right",
        fmt = function(v) return format.group(v, 0) end },
      { key = "annual_cost_inc_vat", title = "Yen/year", align = "right", fmt = format.yen },
      { key = "monthly_cost_inc_vat", title = "Yen/month", align = "right", fmt = format.yen },
    },
    rows = rows,
    json = { code = q.code, gsp = q.gsp, postcode = q.postcode, products = require("octopus.core").json.array(rows) },
  }
end

M["rate-limit"] = function(_, ctx)
  local client = ctx.client("any")
  local r, err = client:rate_limit()
  if not r then return nil, err end
  local row = { limit = r.limit, used = r.usedPoints, remaining = r.remainingPoints, ttl = r.ttl,
                blocked = r.isBlocked == true }
  return {
    columns = {
      { key = "used", title = "Used", align = "right" }, { key = "remaining", title = "Remaining", align = "right" },
      { key = "limit", title = "Limit", align = "right" },
      { key = "blocked", title = "Blocked", fmt = function(v) return v and "yes" or "no" end },
    },
    rows = { row }, json = row,
  }
end

return M
