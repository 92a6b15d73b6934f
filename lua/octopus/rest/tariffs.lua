-- octopus.rest.tariffs: charges of a product's tariff —
-- /v1/products/{p}/electricity-tariffs/{t}/{standard-unit-rates,day-unit-rates,
-- night-unit-rates,standing-charges}/ and /v1/products/{p}/gas-tariffs/{t}/{standard-unit-rates,standing-charges}/.
--
-- Invariants: each call returns a lazy page iterator; periods go out as
-- period_from/period_to ISO 8601 with the client's zone offset; page_size
-- defaults to the endpoint cap (1500) when a period is given.
local page = require "octopus.pipeline.page"
local common = require "octopus.rest.common"

local setmetatable = setmetatable

---A charge row (standard-unit-rates, standing-charges, ...), newest first.
---@class octopus.Charge
---@field value_exc_vat number
---@field value_inc_vat number
---@field valid_from string
---@field valid_to string|lightuserdata octopus.null when open-ended
---@field payment_method? string|lightuserdata

---tariffs:*'s options: the period (sent as period_from/period_to with the client's offset).
---@class octopus.PeriodOptions
---@field from? octopus.TimeValue
---@field to? octopus.TimeValue
---@field page_size? integer        default PAGE_CAP (1500) when a period is given

---tariffs:<charges>(product_code, tariff_code [, opts]) -> a lazy iterator of octopus.Charge
---@alias octopus.ChargesMethod fun(self, product: string, tariff: string, opts?: octopus.PeriodOptions): octopus.Pages

---client.tariffs: a product's tariff charges; each method returns a lazy iterator of octopus.Charge.
---@class octopus.Tariffs
---@field client octopus.Client
---@field PAGE_CAP integer 1500
---@field standard_unit_rates octopus.ChargesMethod
---@field unit_rates octopus.ChargesMethod
---@field day_unit_rates octopus.ChargesMethod
---@field night_unit_rates octopus.ChargesMethod
---@field standing_charges octopus.ChargesMethod
---@field gas_standard_unit_rates octopus.ChargesMethod
---@field gas_standing_charges octopus.ChargesMethod
local Tariffs = { __name = "octopus.Tariffs" }
Tariffs.__index = Tariffs

Tariffs.PAGE_CAP = 1500
local OPTS = { from = "time", to = "time", page_size = "count" }

---@param client octopus.Client
---@return octopus.Tariffs tariffs
function Tariffs.new(client) return setmetatable({ client = client }, Tariffs) end

---@param fuel "electricity"|"gas"
---@param leaf string the path's last segment
---@param name string the method's name (in messages)
---@return octopus.ChargesMethod method
local function charges(fuel, leaf, name)
  local where = "tariffs:" .. name
  return function(self, product_code, tariff_code, opts)
    common.check_code(product_code, "product code", where)
    common.check_code(tariff_code, "tariff code", where)
    opts = common.check(opts, OPTS, where)
    return page.rest(self.client, {
      method = "GET",
      path = { "products", product_code, fuel .. "-tariffs", tariff_code, leaf },
      query = common.period(self.client, opts, Tariffs.PAGE_CAP),
    })
  end
end

Tariffs.standard_unit_rates = charges("electricity", "standard-unit-rates", "standard_unit_rates")
Tariffs.unit_rates = Tariffs.standard_unit_rates
Tariffs.day_unit_rates = charges("electricity", "day-unit-rates", "day_unit_rates")
Tariffs.night_unit_rates = charges("electricity", "night-unit-rates", "night_unit_rates")
Tariffs.standing_charges = charges("electricity", "standing-charges", "standing_charges")
Tariffs.gas_standard_unit_rates = charges("gas", "standard-unit-rates", "gas_standard_unit_rates")
Tariffs.gas_standing_charges = charges("gas", "standing-charges", "gas_standing_charges")

return Tariffs
