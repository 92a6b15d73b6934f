-- octopus.rest.products: /v1/products/ (list, detail) and picking a tariff
-- out of a product detail. Public endpoints (the key is sent when configured).
--
-- Invariants: list filters are checked before any request (unknown filter
-- raises naming it); booleans go out as "true"/"false"; available_at and
-- tariffs_active_at go out as ISO 8601 with the client's zone offset.
local usage = require "octopus.pipeline.usage"
local page = require "octopus.pipeline.page"
local errors = require "octopus.pipeline.errors"
local common = require "octopus.rest.common"

local type, setmetatable, tostring = type, setmetatable, tostring

---A product in products:list (decoded JSON, the API's snake_case keys).
---@class octopus.Product
---@field code string                "JPN_KK_OCTOPUS_MAY_26"
---@field full_name string
---@field display_name string
---@field description string
---@field is_variable boolean
---@field is_green boolean
---@field is_tracker boolean
---@field is_prepay boolean
---@field is_business boolean
---@field term? integer
---@field available_from string
---@field available_to? string|lightuserdata octopus.null when open
---@field brand string
---@field links table[]

---products:get's answer: the product and its tariffs by register, region ("_C") and payment method.
---@class octopus.ProductDetail: octopus.Product
---@field single_register_electricity_tariffs table<string, table<string, octopus.RestTariff>>
---@field dual_register_electricity_tariffs table<string, table<string, octopus.RestTariff>>
---@field single_register_gas_tariffs table<string, table<string, octopus.RestTariff>>
---@field sample_quotes? table
---@field sample_consumption? table

---@class octopus.RestTariff
---@field code string                the tariff code (tariffs:* take it)
---@field standing_charge_exc_vat number
---@field standing_charge_inc_vat number
---@field standard_unit_rate_exc_vat? number
---@field standard_unit_rate_inc_vat? number
---@field links table[]

---products:list's filters.
---@class octopus.ProductFilters
---@field is_variable? boolean
---@field is_green? boolean
---@field is_tracker? boolean
---@field is_prepay? boolean
---@field is_business? boolean
---@field available_at? octopus.TimeValue
---@field brand? string

---client.products: /v1/products/.
---@class octopus.Products
---@field client octopus.Client
local Products = { __name = "octopus.Products" }
Products.__index = Products

local FILTERS = {
  is_variable = "boolean", is_green = "boolean", is_tracker = "boolean", is_prepay = "boolean",
  is_business = "boolean", available_at = "time", brand = "string",
}

---@param client octopus.Client
---@return octopus.Products products
function Products.new(client) return setmetatable({ client = client }, Products) end

-- products:list{ is_green = true, available_at = ..., brand = ... } -> lazy iterator
---An unknown filter raises, naming it. Items: octopus.Product.
---@param filters? octopus.ProductFilters
---@return octopus.Pages products
function Products:list(filters)
  filters = common.check(filters, FILTERS, "products:list", "filter")
  local q = {}
  for k, v in pairs(filters) do q[k] = v end
  if q.available_at ~= nil then q.available_at = self.client:iso(q.available_at) end
  return page.rest(self.client, { method = "GET", path = { "products" }, query = q })
end

-- products:get(code, { tariffs_active_at = }) -> product detail | nil, err
---@param code string the product code
---@param opts? { tariffs_active_at?: octopus.TimeValue }
---@return octopus.ProductDetail|nil product
---@return octopus.Error|nil err NOT_FOUND, ...
function Products:get(code, opts)
  common.check_code(code, "product code", "products:get")
  opts = common.check(opts, { tariffs_active_at = "time" }, "products:get")
  local q = {}
  if opts.tariffs_active_at ~= nil then q.tariffs_active_at = self.client:iso(opts.tariffs_active_at) end
  return self.client:request { method = "GET", path = { "products", code }, query = q }
end

local REGISTERS = {
  single = "single_register_electricity_tariffs",
  dual = "dual_register_electricity_tariffs",
  gas = "single_register_gas_tariffs",
}

-- Products.tariff_for(detail, region, payment_method, register) -> tariff | nil, err
-- region "03", "_03", "C" or "_C"; payment_method default "direct_debit_monthly";
-- register "single" (default), "dual" or "gas". Usable as products.tariff_for or products:tariff_for.
---A tariff out of a product detail (also callable as products:tariff_for(...)).
---@param detail octopus.ProductDetail
---@param region string "03", "_03", "C" or "_C"
---@param payment_method? string default "direct_debit_monthly"
---@param register? "single"|"dual"|"gas" default "single"
---@return octopus.RestTariff|nil tariff
---@return octopus.Error|nil err NOT_FOUND (kind usage): no such tariff in the detail
function Products.tariff_for(detail, region, payment_method, register)
  if getmetatable(detail) == Products then  -- called with ':'
    detail, region, payment_method, register = region, payment_method, register, nil
  end
  if type(detail) ~= "table" then usage.raise("products.tariff_for: product detail must be a table") end
  if type(region) ~= "string" or region == "" then usage.raise("products.tariff_for: region must be a string") end
  payment_method = payment_method or "direct_debit_monthly"
  register = register or "single"
  local key = REGISTERS[register]
  if not key then usage.raise("products.tariff_for: register must be \"single\", \"dual\" or \"gas\"") end
  if region:sub(1, 1) ~= "_" then region = "_" .. region end
  local by_region = type(detail[key]) == "table" and detail[key][region]
  local tariff = type(by_region) == "table" and by_region[payment_method]
  if type(tariff) ~= "table" then
    return nil, errors.new {
      code = "NOT_FOUND", kind = "usage", retryable = false,
      message = "product " .. tostring(detail.code) .. " has no " .. register .. "-register tariff for region "
                .. region .. " (" .. payment_method .. ")",
    }
  end
  return tariff
end

return Products
