-- octopus.sandbox.resolvers: field resolvers of the sandbox schema (schema.graphql) over
-- the deterministic dataset (octopus.sandbox.data). Lua 5.4 (the sandbox's runtime).
--
--   resolvers.new() -> resolvers table for gql.execute (with __resolve_type)
-- The context (built by graphql_api) gives: ctx.ds, ctx.now (epoch), ctx.principal()
-- (raises KT-CT-1112/1124/1143), ctx.tokens:obtain(input), ctx.rl (ratelimit), ctx.json.
-- Invariants: Decimals leave as strings ("29.80"), money Ints as whole yen, datetimes
-- with an offset (readings in UTC "+00:00", everything else JST "+09:00"); a naive
-- DateTime argument is read as UTC. halfHourlyReadings returns at most 1488 rows, the
-- newest ones (older rows in the window are dropped silently, as measured on OEJP).
-- Relay connections need `first` or `last` (KT-CT-1201) and cap both at 100.
local data = require "octopus.sandbox.data"
local billing = require "octopus.sandbox.billing"
local gql = require "octopus.sandbox.graphql"
local jwt = require "octopus.sandbox.jwt"

local floor, fmt = math.floor, string.format

local M = {}

M.MAX_READINGS = 1488
M.MAX_PAGE = 100

-- Raise a Kraken-shaped GraphQL error.
local function fail(message, code, etype, description)
  gql.error{ message = message, extensions = { errorType = etype, errorCode = code,
    errorDescription = description or message } }
end
M.fail = fail

---------------------------------------------------------------------------
-- values

local function money(x) return fmt("%.2f", x) end
local function ex_tax(s) return money(tonumber(s) / 1.1) end

-- DateTime argument -> epoch. Accepts YYYY-MM-DD[THH:MM[:SS[.f]]][Z|+HH:MM|+HHMM|+HH].
local function parse_datetime(s, name)
  local function bad()
    fail(fmt('Invalid DateTime for "%s": %s', name, tostring(s)), nil, "VALIDATION",
      "Expected an ISO 8601 datetime such as 2026-11-01T00:00:00+09:00.")
  end
  if type(s) ~= "string" then bad() end
  local y, m, d, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)(.*)$")
  if not y then bad() end
  local h, mi, sec, zone = 0, 0, 0, rest
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then bad() end
    h, mi, zone = tonumber(hh), tonumber(mm), tail
    local ss, tail2 = zone:match("^:(%d%d)(.*)$")
    if ss then sec, zone = tonumber(ss), tail2:gsub("^%.%d+", "") end
  end
  local offset = 0
  if zone ~= "" and zone ~= "Z" then
    local sign, oh, om = zone:match("^([+-])(%d%d):?(%d?%d?)$")
    if not sign or (om ~= "" and #om ~= 2) then bad() end
    offset = (tonumber(oh) * 3600 + (tonumber(om) or 0) * 60) * (sign == "-" and -1 or 1)
  end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then bad() end
  return data.epoch(y, m, d, h, mi, sec, offset)
end
M.parse_datetime = parse_datetime

local function date_of(epoch)
  local y, m, d = data.fields(epoch)
  return fmt("%04d-%02d-%02d", y, m, d)
end

---------------------------------------------------------------------------
-- Relay connections over a Lua array (graphene's "arrayconnection:N" cursors)

local function cursor(i) return jwt.b64encode("arrayconnection:" .. i) end
local function offset_of(c)
  local s = type(c) == "string" and jwt.b64decode(c)
  local n = s and tonumber(s:match("^arrayconnection:(%d+)$"))
  if not n then fail("Invalid cursor: " .. tostring(c), nil, "VALIDATION") end
  return n
end

function M.connection(items, args, name)
  local first, last = args.first, args.last
  if first == nil and last == nil then
    fail("You must provide a `first` or `last` value to properly paginate the `" .. name .. "` connection.",
      "KT-CT-1201", "VALIDATION")
  end
  for _, v in ipairs{ { "first", first }, { "last", last } } do
    if v[2] ~= nil and v[2] > M.MAX_PAGE then
      fail(fmt("Requesting %d records on the `%s` connection exceeds the `%s` limit of %d records.",
        v[2], name, v[1], M.MAX_PAGE), "KT-CT-1201", "VALIDATION")
    elseif v[2] ~= nil and v[2] < 0 then
      fail(fmt("Argument `%s` must be a non-negative integer.", v[1]), "KT-CT-1201", "VALIDATION")
    end
  end
  local n = #items
  local lo = args.after and offset_of(args.after) + 1 or 0
  lo = lo + (args.offset or 0)
  local hi = args.before and math.min(offset_of(args.before), n) or n
  local lo0, hi0 = lo, hi
  if first then hi = math.min(hi, lo + first) end
  if last then lo = math.max(lo, hi - last) end
  local edges = {}
  for i = lo, hi - 1 do
    if items[i + 1] then edges[#edges + 1] = { node = items[i + 1], cursor = cursor(i) } end
  end
  return {
    edges = edges, totalCount = n, edgeCount = #edges,
    pageInfo = { hasNextPage = first ~= nil and hi < hi0, hasPreviousPage = last ~= nil and lo > lo0,
      startCursor = edges[1] and edges[1].cursor, endCursor = edges[#edges] and edges[#edges].cursor },
  }
end

---------------------------------------------------------------------------
-- products (a product value is { __typename, p = ds product, area = "03", at = epoch })

local function product_value(p, area, at)
  return { __typename = p.kind == "stepped" and "ElectricitySteppedProduct" or "ElectricitySingleStepProduct",
    p = p, area = area, at = at }
end

local function area_prices(v)
  return v.p.by_area[v.area] or v.p.by_area["03"]
end

local function fca_rate(v)
  local key = data.month_key(v.at)
  local price = (v.p.fuel_cost_adjustment[v.area] or v.p.fuel_cost_adjustment["03"])[key]
  local from, to = data.month_bounds(v.at)
  if not price then return nil end
  return { gridOperatorCode = v.area, band = "FUEL_COST_ADJUSTMENT_" .. v.area,
    validFrom = data.iso(from), validTo = data.iso(to), unitType = "KWH_CONSUMPTION",
    pricePerUnit = ex_tax(price), pricePerUnitIncTax = price }
end

-- The renewable energy levy year runs May to April.
local function levy_rate(v)
  local y, m = data.fields(v.at)
  y = data.prices.levy_year(y, m)
  local price = data.prices.LEVY[y]
  return { gridOperatorCode = v.area, band = "RENEWABLE_ENERGY_LEVY",
    validFrom = data.iso(data.epoch(y, 5, 1)), validTo = data.iso(data.epoch(y + 1, 5, 1)),
    unitType = "KWH_CONSUMPTION", pricePerUnit = ex_tax(price), pricePerUnitIncTax = price }
end

local product_fields = {
  code = function(v) return v.p.code end,
  displayName = function(v) return v.p.display_name end,
  params = function(v, _, ctx)
    return ctx.json.object{ fullName = v.p.full_name, isGreen = v.p.is_green, term = v.p.term }
  end,
  standingChargeUnitType = function(v) return area_prices(v).standing_unit_type end,
  -- the daily figure of a 30 A household (standingCharges carries the real unit type)
  standingChargePricePerDay = function(v) return area_prices(v).standing_charge_per_day end,
  standingCharges = function(v)
    local a = area_prices(v)
    local sc = a.standing_price
    return { { gridOperatorCode = v.area, band = "STANDING_CHARGE_" .. v.area, unitType = a.standing_unit_type,
      validFrom = data.prices.RATES_FROM, validTo = v.p.available_to,
      pricePerUnit = ex_tax(sc), pricePerUnitIncTax = sc } }
  end,
  fuelCostAdjustment = fca_rate,
  renewableEnergyLevy = levy_rate,
  tags = function() return {} end,
  consumptionCharges = function(v)
    local out = {}
    for i, b in ipairs(area_prices(v).bands) do
      out[i] = { gridOperatorCode = v.area, band = b.band, unitType = "KWH_CONSUMPTION",
        validFrom = data.prices.RATES_FROM, validTo = v.p.available_to,
        pricePerUnit = ex_tax(b.price_inc_tax), pricePerUnitIncTax = b.price_inc_tax,
        stepStart = b.step_start, stepEnd = b.step_end }
    end
    return out
  end,
}

---------------------------------------------------------------------------
-- bills: one statement per closed billing period (octopus.sandbox.billing computes the
-- amounts from the readings and prices), newest first; opening balance = the previous
-- statement's charges (paid by direct debit), closing balance = this one's

local function sp_of(account)
  local prop = account.properties[1]
  return prop and prop.supply_points[1]
end

local function statements(ds, account, now)
  ds.statements = ds.statements or {}
  local sp = sp_of(account)
  local out = {}
  if not sp then return out end
  local prev = 0
  for n, p in ipairs(billing.periods(ds, sp, now)) do
    local key = sp.spin .. ":" .. p.from
    local b = ds.statements[key]
    if b == nil then b = billing.bill(ds, sp, p.from, p.to) or false; ds.statements[key] = b end
    if b then
      local id = tostring(data.hash(account.number .. ":" .. n) % 90000000 + 10000000)
      local gross = b.total
      table.insert(out, 1, { id = id, billType = "STATEMENT", fromDate = date_of(p.from), toDate = date_of(p.to - 1),
        issuedDate = date_of(p.to + 4 * 86400), paymentDueDate = date_of(p.to + 26 * 86400),
        consumptionStartDate = date_of(p.from), consumptionEndDate = date_of(p.to - 1),
        isExternalBill = false, isFinal = false, status = "CLOSED",
        openingBalance = prev, closingBalance = gross,
        totalCharges = { netTotal = gross - b.tax, taxTotal = b.tax, grossTotal = gross },
        totalCredits = { netTotal = 0, taxTotal = 0, grossTotal = 0 },
        bill = b, sp = sp })
      prev = gross
    end
  end
  return out
end

-- charges(accountNumber, billingDocumentIdentifier): the statement's lines
local function charges(ds, account, id, now)
  for _, s in ipairs(statements(ds, account, now)) do
    if s.id == id then
      local items = {}
      for i, l in ipairs(s.bill.lines) do
        items[i] = { supplyType = l.supply_type, periodStartAt = data.iso(l.from), periodEndAt = data.iso(l.to),
          numberOfUnits = l.units, netAmount = l.net, grossAmount = l.gross, currency = "JPY",
          productCode = s.bill.product, contractedCapacityUnit = "A",
          contractedCapacityValue = tostring(s.sp.amperes) }
      end
      return { { grossAmount = s.totalCharges.grossTotal, salesTaxAmount = s.totalCharges.taxTotal,
        lineItems = items } }
    end
  end
  fail("Not found.", "KT-CT-1140", "NOT_FOUND", "No billing document with this identifier on the account.")
end

---------------------------------------------------------------------------
-- readings

local VERSIONS = { MONTHLY = "MONTHLY", DAILY = "DAILY", UPDATED = "UPDATED", LATEST = "DAILY" }

local function readings(sp, args, ctx)
  local to = args.toDatetime and parse_datetime(args.toDatetime, "toDatetime") or ctx.now
  local from = args.fromDatetime and parse_datetime(args.fromDatetime, "fromDatetime") or ctx.ds.data_from or 0
  -- only the newest MAX_READINGS half hours can survive the cap: compute no more
  local last = math.min(to, floor(ctx.now / 1800) * 1800)
  local newest = math.ceil(last / 1800) * 1800
  from = math.max(from, newest - M.MAX_READINGS * 1800)
  if from >= to then return {} end
  local rows = ctx.ds:readings(sp.spin, from, to)
  local skip = math.max(0, #rows - M.MAX_READINGS)
  local out = {}
  for i = skip + 1, #rows do
    local r = rows[i]
    out[#out + 1] = { startAt = data.iso(r.start_at, 0), endAt = data.iso(r.end_at, 0), value = r.value,
      costEstimate = r.cost_estimate, version = VERSIONS[r.version] or "DAILY",
      consumptionRateBand = r.band or "", consumptionStep = r.step or 0 }
  end
  return out
end

---------------------------------------------------------------------------
-- the resolver table

local function owned(principal, number)
  for _, n in ipairs(principal.accounts) do if n == number then return true end end
  return false
end

function M.new()
  local R = {}
  R.__resolve_type = {
    AccountInterface = function() return "Account" end,
    BillInterface = function() return "StatementType" end,
    PropertyInterface = function() return "Property" end,
    AgreementInterface = function() return "Agreement" end,
    ProductInterface = function(v) return v.__typename end,
    TransactionType = function(v) return v.__typename end,
  }

  R.Query = {
    viewer = function(_, _, ctx)
      local p = ctx.principal()
      if not p.user then fail("Unauthorized.", "KT-CT-1111", "AUTHORIZATION") end
      return p.user
    end,
    account = function(_, args, ctx)
      local p = ctx.principal()
      local a = ctx.ds.accounts[args.accountNumber]
      if not a or not owned(p, args.accountNumber) then
        fail("Unauthorized.", "KT-CT-4177", "AUTHORIZATION",
          "The account does not exist or you do not have access to it.")
      end
      return a
    end,
    postalAreas = function(_, args, ctx)
      if not args.postcode:match("^%d%d%d%-%d%d%d%d$") then
        fail("Postcode invalid.", "KT-JP-4601", "VALIDATION", "Postcodes look like 100-0001.")
      end
      return ctx.ds.postal_areas[args.postcode] or {}
    end,
    tariffSummary = function(_, args, ctx)
      local out, area = {}, args.gridOperatorCode
      for _, code in ipairs(ctx.ds.product_list) do
        local p = ctx.ds.products[code]
        if (args.productCode == nil or args.productCode == code) and p.by_area[area] then
          out[#out + 1] = product_value(p, area, ctx.now)
        end
      end
      return out
    end,
    charges = function(_, args, ctx)
      local p = ctx.principal()
      local a = ctx.ds.accounts[args.accountNumber]
      if not a or not owned(p, args.accountNumber) then
        fail("Unauthorized.", "KT-CT-4177", "AUTHORIZATION",
          "The account does not exist or you do not have access to it.")
      end
      return charges(ctx.ds, a, args.billingDocumentIdentifier, ctx.now)
    end,
    metiCredits = function(_, args)
      local out = {}
      local lo = args.activeFrom and parse_datetime(args.activeFrom, "activeFrom")
      local hi = args.activeTo and parse_datetime(args.activeTo, "activeTo")
      local on = args.activeOn and parse_datetime(args.activeOn, "activeOn")
      if args.metiCreditType ~= nil and args.metiCreditType ~= "E" then return out end
      local keys = {}
      for k in pairs(data.prices.METI) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do
        local y, m = k:match("^(%d+)%-(%d+)$")
        y, m = tonumber(y), tonumber(m)
        local from = data.epoch(y, m, 1)
        local to = m == 12 and data.epoch(y + 1, 1, 1) or data.epoch(y, m + 1, 1)
        if (not lo or to > lo) and (not hi or from <= hi) and (not on or (from <= on and on < to)) then
          out[#out + 1] = { creditType = "ELECTRICITY", startDate = date_of(from), endDate = date_of(to - 86400),
            unitPrice = data.prices.METI[k] }
        end
      end
      return out
    end,
    rateLimitInfo = function(_, _, ctx)
      return { key = ctx.principal().key }
    end,
  }

  R.Mutation = {
    obtainKrakenToken = function(_, args, ctx) return ctx.tokens:obtain(args.input, ctx) end,
  }

  R.CombinedRateLimitInformation = {
    pointsAllowanceRateLimit = function(v, _, ctx) return ctx.rl:info(v.key) end,
  }

  R.TariffSummary = {
    code = function(v) return v.p.code end,
    displayName = function(v) return v.p.display_name end,
    gridOperatorCode = function(v) return v.area end,
    productParams = product_fields.params,
    tiers = function(v)
      local a = area_prices(v)
      local rates = {}
      for i, b in ipairs(a.bands) do
        rates[i] = { pricePerUnitIncTax = b.price_inc_tax, stepStart = b.step_start, stepEnd = b.step_end,
                     band = b.band }
      end
      return { { contractCapacityPattern = "NON_TIERED", consumptionRates = rates,
        standingRates = { amperage = { { pricePerUnitIncTax = a.standing_price,
          label = "Standing charge", unitType = a.standing_unit_type } }, kva = {} } } }
    end,
  }

  R.AccountUser = {
    id = function(u, _, ctx)
      for i, x in ipairs(ctx.ds.users) do if x == u then return tostring(100000 + i) end end
      return "0"
    end,
    accounts = function(u, args, ctx)
      local out = {}
      for _, n in ipairs(u.accounts) do
        local keep = true
        if args.restrictToAccountNumbers and args.restrictToAccountNumbers ~= ctx.json.null then
          keep = false
          for _, r in ipairs(args.restrictToAccountNumbers) do if r == n then keep = true end end
        end
        if keep and ctx.ds.accounts[n] then out[#out + 1] = ctx.ds.accounts[n] end
      end
      return out
    end,
    givenName = function(u) return u.given_name end,
    familyName = function(u) return u.family_name end,
    email = function(u) return u.email end,
    mobile = function() return "" end,
    landline = function() return "" end,
    isDeceased = function() return false end,
    isActive = function() return true end,
    fullName = function(u) return u.family_name .. " " .. u.given_name end,
    preferredName = function(u) return u.given_name end,
  }

  R.Account = {
    id = function(a) return a.number end,
    users = function(a, _, ctx) return { ctx.ds.users_by_email and ctx.ds.users_by_email[a.owner] } end,
    brand = function() return "OCTOPUS_ENERGY" end,
    billingName = function(a) return a.billing_name end,
    bills = function(a, args, ctx) return M.connection(statements(ctx.ds, a, ctx.now), args, "bills") end,
    properties = function(a, args)
      if args.activeFrom then parse_datetime(args.activeFrom, "activeFrom") end
      return a.properties
    end,
  }

  R.Property = {
    splitAddress = function(p) return { p.address, p.city, p.prefecture } end,
    electricitySupplyPoints = function(p)
      for _, sp in ipairs(p.supply_points) do sp.grid_area = sp.grid_area or p.grid_area end
      return p.supply_points
    end,
  }

  R.ElectricitySupplyPoint = {
    id = function(sp) return sp.spin end,
    agreements = function(sp, args, ctx)
      local out = {}
      for _, ag in ipairs(sp.agreements) do
        local from = data.parse_iso(ag.valid_from)
        local to = ag.valid_to and data.parse_iso(ag.valid_to)
        local active = from <= ctx.now and (not to or ctx.now < to)
        if not args.onlyActive or active then
          out[#out + 1] = { ag = ag, sp = sp, from = from, to = to }
        end
      end
      return out
    end,
    halfHourlyReadings = readings,
    readingDateDayOfMonth = function(sp) return sp.reading_day end,
    contractedCapacity = function(sp) return { value = tostring(sp.amperes or 30), unit = "A" } end,
  }

  R.Agreement = {
    id = function(v) return v.ag.id end,
    validFrom = function(v) return v.ag.valid_from end,
    validTo = function(v) return v.ag.valid_to end,
    agreedFrom = function(v) return v.ag.valid_from end,
    isRevoked = function() return false end,
    addonRates = function() return {} end,
    product = function(v, _, ctx)
      local p = ctx.ds.products[v.ag.product_code]
      if not p then return nil end
      -- prices as at now, or at the agreement's last day when it has ended
      local at = ctx.now
      if v.to and at >= v.to then at = v.to - 1 end
      if at < v.from then at = v.from end
      return product_value(p, v.sp.grid_area, at)
    end,
  }

  -- a statement's transactions: its charge, and the direct debit that paid the one before
  R.StatementType = {
    transactions = function(s, args)
      local tc = s.totalCharges
      local items = { { __typename = "Charge", id = s.id .. "-1", postedDate = s.issuedDate, title = "Electricity",
        amount = tc.grossTotal, isReversed = false, billingDocumentIdentifier = s.id,
        amounts = { net = tc.netTotal, tax = tc.taxTotal, gross = tc.grossTotal } } }
      if s.openingBalance > 0 then
        items[2] = { __typename = "Payment", id = s.id .. "-2", postedDate = s.fromDate, title = "Direct debit",
          amount = s.openingBalance, isReversed = false, billingDocumentIdentifier = s.id,
          amounts = { net = s.openingBalance, tax = 0, gross = s.openingBalance } }
      end
      return M.connection(items, args, "transactions")
    end,
  }

  R.ElectricitySteppedProduct = product_fields
  R.ElectricitySingleStepProduct = product_fields
  return R
end

return M
