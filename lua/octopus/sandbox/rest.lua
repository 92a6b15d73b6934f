-- octopus.sandbox.rest: the sandbox's Kraken REST routes (UK shapes, Japanese data).
--
--   local rest = require "octopus.sandbox.rest"
--   rest.handle(state, req) -> res        state = { ds, opts, ... } (see app.lua)
--
-- Invariants: every path ends in "/" (else 404 {"detail":"Not found."}); lists are DRF
-- pages with absolute next/previous URLs carrying the whole query; naive datetimes in
-- queries are read as Asia/Tokyo; prices come from ds.products so REST and GraphQL agree;
-- another user's account or meter is 404 "Not found." (what Kraken does). Lua 5.4.
local data = require "octopus.sandbox.data"
local json_reply = require "octopus.sandbox.json_reply"
local common = require "octopus.sandbox.rest_common"
local tariffs = require "octopus.sandbox.rest_tariffs"

local json, reply, detail = json_reply.json, json_reply.reply, json_reply.detail
local floor, fmt = math.floor, string.format
local iso = data.iso

local M = {}

local NOT_FOUND = common.NOT_FOUND

local function owns(user, number)
  for _, n in ipairs(user.accounts) do if n == number then return true end end
  return false
end

-- The supply point (and its account) for a SPIN the user owns, or nil.
local function user_spin(state, user, spin)
  local sp = state.ds.spins[spin]
  if not sp then return nil end
  for _, n in ipairs(user.accounts) do
    local a = state.ds.accounts[n]
    for _, prop in ipairs(a and a.properties or {}) do
      for _, s in ipairs(prop.supply_points) do if s == sp then return sp, a end end
    end
  end
end

---------------------------------------------------------------------------
-- meter points and consumption

local function meter_point(state, req, spin)
  local user, err = common.authenticate(state, req)
  if not user then return err end
  local sp = user_spin(state, user, spin)
  if not sp then return detail(404, NOT_FOUND) end
  return reply(200, { gsp = "_" .. sp.grid_area, mpan = spin, profile_class = 1 })
end

-- the start of the bucket containing t (JST), and the next bucket's start
local function bucket(t, group)
  local y, m, d, _, _, _, wd = data.fields(t)
  if group == "hour" then
    local s = floor(t / 3600) * 3600
    return s, s + 3600
  elseif group == "day" then
    local s = data.epoch(y, m, d)
    return s, s + 86400
  elseif group == "week" then
    local s = data.epoch(y, m, d) - (wd - 1) * 86400
    return s, s + 7 * 86400
  elseif group == "month" then
    return data.month_bounds(t)
  elseif group == "quarter" then
    local qm = m - (m - 1) % 3
    local ny, nm = y, qm + 3
    if nm > 12 then ny, nm = y + 1, nm - 12 end
    return data.epoch(y, qm, 1), data.epoch(ny, nm, 1)
  end
  local s = floor(t / 1800) * 1800
  return s, s + 1800
end

local GROUPS = { hour = true, day = true, week = true, month = true, quarter = true }

local function consumption(state, req, spin, serial)
  local user, err = common.authenticate(state, req)
  if not user then return err end
  local sp = user_spin(state, user, spin)
  if not sp or sp.meter_serial ~= serial then return detail(404, NOT_FOUND) end
  local q = req.query
  local group = q.group_by
  if group == "" then group = nil end
  if group and not GROUPS[group] then
    return detail(400, fmt("Invalid group_by %q: use hour, day, week, month or quarter.", group))
  end
  local order = q.order_by or "-period"
  if order ~= "period" and order ~= "-period" then
    return detail(400, fmt("Invalid order_by %q: use period or -period.", order))
  end
  local from, e1 = common.query_time(req, "period_from")
  if from == false then return e1 end
  local to, e2 = common.query_time(req, "period_to")
  if to == false then return e2 end
  local ds = state.ds
  local lo = math.max(from and -(-from // 1800) * 1800 or ds.data_from, ds.data_from)
  local hi = math.min(to or math.huge, floor(ds.now() / 1800) * 1800)
  -- the list of intervals (buckets), oldest first
  local buckets = {}
  local t = lo
  while t < hi do
    local s, e = bucket(t, group)
    buckets[#buckets + 1] = { s, e }
    t = e
  end
  local n = #buckets
  return common.paginate(req, state, n, function(i, j)
    local picked = {}
    for k = i, j do picked[#picked + 1] = buckets[order == "period" and k or (n - k + 1)] end
    local a, b = math.huge, -math.huge
    for _, bk in ipairs(picked) do a, b = math.min(a, bk[1]), math.max(b, bk[2]) end
    local sums = {}
    for _, r in ipairs(ds:readings(spin, math.max(a, lo), math.min(b, hi))) do
      local s = bucket(r.start_at, group)
      sums[s] = (sums[s] or 0) + tonumber(r.value)
    end
    local out = {}
    for _, bk in ipairs(picked) do
      out[#out + 1] = { consumption = floor((sums[bk[1]] or 0) * 1000 + 0.5) / 1000,
        interval_start = iso(bk[1]), interval_end = iso(bk[2]) }
    end
    return out
  end, 25000)
end

---------------------------------------------------------------------------
-- industry

local function grid_supply_points(state, req)
  local pc = req.query.postcode
  local list = {}
  if pc and pc ~= "" then
    local area = data.grid_area_for_postcode(pc)
    if area then list[1] = { group_id = "_" .. area } end
  else
    for i = 1, 10 do list[i] = { group_id = fmt("_%02d", i) } end
  end
  return common.paginate_list(req, state, list)
end

---------------------------------------------------------------------------
-- accounts

local function account_json(a)
  local props = {}
  for _, p in ipairs(a.properties) do
    local emps = {}
    for _, sp in ipairs(p.supply_points) do
      local ags = {}
      for _, ag in ipairs(sp.agreements) do
        ags[#ags + 1] = { tariff_code = tariffs.tariff_code(ag.product_code, sp.grid_area),
          valid_from = ag.valid_from, valid_to = ag.valid_to or json.null }
      end
      emps[#emps + 1] = { mpan = sp.spin, profile_class = 1, consumption_standard = 3600,
        gsp = "_" .. sp.grid_area, is_export = false,
        meters = json.array{ { serial_number = sp.meter_serial, registers = json.array{
          { identifier = "1", rate = "STANDARD", is_settlement_register = true } } } },
        agreements = json.array(ags) }
    end
    props[#props + 1] = { id = tonumber(p.id) or p.id, moved_in_at = json.null,
      moved_out_at = json.null, address_line_1 = p.address, address_line_2 = "",
      address_line_3 = "", town = p.city or "", county = p.prefecture or "",
      postcode = p.postcode, electricity_meter_points = json.array(emps),
      gas_meter_points = json.array{} }
  end
  return { number = a.number, status = a.status, balance = a.balance,
    billing_name = a.billing_name, properties = json.array(props) }
end

local function get_account(state, req, number)
  local user, err = common.authenticate(state, req)
  if not user then return err end
  local a = state.ds.accounts[number]
  if not a or not owns(user, number) then return detail(404, NOT_FOUND) end
  return reply(200, account_json(a))
end

local function create_account(state, req)
  local user, err = common.authenticate(state, req)
  if not user then return err end
  local body, jerr = json_reply.json_body(req)
  if not body then return jerr end
  local ds = state.ds
  local name = body.billing_name
  if type(name) ~= "string" or name:match("^%s*$") then
    return detail(400, "billing_name is required.")
  end
  local pc = data.normalize_postcode(body.postcode)
  local area = pc and data.grid_area_for_postcode(pc)
  if not area then return detail(400, "postcode is required and must look like 100-0001.") end
  local code = body.product_code
  if code == nil then code = ds.product_list[1] end
  local now = ds.now()
  if type(code) ~= "string" or not ds.products[code]
     or not tariffs.available(ds.products[code], now) then
    return detail(400, fmt("Unknown or unavailable product_code: %s.", tostring(code)))
  end
  if body.address ~= nil and type(body.address) ~= "string" then
    return detail(400, "address must be a string.")
  end
  local y, m, d = data.fields(now)
  local from = iso(data.epoch(y, m, d))
  local a = { number = ds:new_account_number(), status = "ACTIVE", balance = 0,
    billing_name = name, owner = user.email,
    properties = { ds:new_property(pc, body.address, { { code, from, nil } }) } }
  ds:add_account(a)
  return reply(201, { number = a.number })
end

---------------------------------------------------------------------------
-- routing

-- Each route: method, Lua pattern over the path, handler(state, req, captures...).
local ROUTES = {
  { "GET", "^/v1/products/$", tariffs.list_products },
  { "GET", "^/v1/products/([^/]+)/$", tariffs.get_product },
  { "GET", "^/v1/products/([^/]+)/electricity%-tariffs/([^/]+)/([%w%-]+)/$", tariffs.charges },
  { "GET", "^/v1/products/([^/]+)/gas%-tariffs/([^/]+)/([%w%-]+)/$", false },
  { "GET", "^/v1/electricity%-meter%-points/([^/]+)/$", meter_point },
  { "GET", "^/v1/electricity%-meter%-points/([^/]+)/meters/([^/]+)/consumption/$", consumption },
  { "GET", "^/v1/gas%-meter%-points/([^/]+)/meters/([^/]+)/consumption/$", false },
  { "GET", "^/v1/industry/grid%-supply%-points/$", grid_supply_points },
  { "POST", "^/v1/quotes/$", tariffs.quote },
  { "POST", "^/v1/accounts/$", create_account },
  { "GET", "^/v1/accounts/([^/]+)/$", get_account },
}

function M.handle(state, req)
  local path = req.path
  local method = req.method == "HEAD" and "GET" or req.method
  local allowed = {}
  for _, r in ipairs(ROUTES) do
    local caps = { path:match(r[2]) }
    if caps[1] then
      if r[1] == method then
        if not r[3] then return detail(404, NOT_FOUND) end   -- OEJP has no gas
        return r[3](state, req, table.unpack(caps))
      end
      allowed[#allowed + 1] = r[1]
    end
  end
  if #allowed > 0 then
    return detail(405, fmt('Method "%s" not allowed.', req.method),
      { Allow = table.concat(allowed, ", ") })
  end
  return detail(404, NOT_FOUND)
end

return M
