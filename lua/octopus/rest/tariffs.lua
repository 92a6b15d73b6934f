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

local Tariffs = { __name = "octopus.Tariffs" }
Tariffs.__index = Tariffs

Tariffs.PAGE_CAP = 1500
local OPTS = { from = "time", to = "time", page_size = "count" }

function Tariffs.new(client) return setmetatable({ client = client }, Tariffs) end

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
