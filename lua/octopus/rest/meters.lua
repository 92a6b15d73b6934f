-- octopus.rest.meters: electricity meter points and consumption
-- (/v1/electricity-meter-points/{mpan}/[meters/{serial}/consumption/]) and gas
-- consumption (/v1/gas-meter-points/{mprn}/meters/{serial}/consumption/). Need the API key.
--
-- Invariants: consumption returns a lazy page iterator; periods go out as ISO
-- 8601 with the client's zone offset; page_size defaults to the endpoint cap
-- (25000) when a period is given; group_by / order_by are checked before sending.
local page = require "octopus.pipeline.page"
local common = require "octopus.rest.common"

local setmetatable = setmetatable

---A consumption row (order_by "period" or "-period", default newest first).
---@class octopus.ConsumptionRow
---@field consumption number         kWh (m3 for gas)
---@field interval_start string
---@field interval_end string

---consumption's options.
---@class octopus.ConsumptionOptions: octopus.PeriodOptions
---@field group_by? "hour"|"day"|"week"|"month"|"quarter"
---@field order_by? "period"|"-period"

---@class octopus.MeterPoint
---@field gsp string
---@field mpan string
---@field profile_class integer

---@class octopus.rest.meters
---@field PAGE_CAP integer 25000
local M = { PAGE_CAP = 25000 }

local CONSUMPTION = {
  from = "time", to = "time", page_size = "count",
  group_by = { hour = true, day = true, week = true, month = true, quarter = true },
  order_by = { period = true, ["-period"] = true },
}

---electricity:consumption(mpan, serial, opts) / gas:consumption(mprn, serial, opts)
---@param self octopus.Electricity|octopus.Gas
---@param point string the MPAN (MPRN for gas)
---@param serial string the meter's serial number
---@param opts? octopus.ConsumptionOptions
---@return octopus.Pages rows octopus.ConsumptionRow items
local function consumption(self, point, serial, opts)
  local where = self.fuel .. ":consumption"
  common.check_code(point, self.fuel == "gas" and "mprn" or "mpan", where)
  common.check_code(serial, "meter serial", where)
  opts = common.check(opts, CONSUMPTION, where)
  local q = common.period(self.client, opts, M.PAGE_CAP)
  q.group_by, q.order_by = opts.group_by, opts.order_by
  return page.rest(self.client, {
    method = "GET",
    path = { self.fuel .. "-meter-points", point, "meters", serial, "consumption" },
    query = q,
  })
end

---client.electricity: meter points and consumption (need the API key).
---@class octopus.Electricity
---@field client octopus.Client
---@field consumption fun(self, mpan: string, serial: string, opts?: octopus.ConsumptionOptions): octopus.Pages
local Electricity = { __name = "octopus.Electricity", consumption = consumption }
Electricity.__index = Electricity

-- electricity:meter_point(mpan) -> { gsp, mpan, profile_class } | nil, err
---@param mpan string
---@return octopus.MeterPoint|nil point
---@return octopus.Error|nil err NOT_FOUND, AUTH, ...
function Electricity:meter_point(mpan)
  common.check_code(mpan, "mpan", "electricity:meter_point")
  return self.client:request { method = "GET", path = { "electricity-meter-points", mpan } }
end

---client.gas: gas consumption (need the API key).
---@class octopus.Gas
---@field client octopus.Client
---@field consumption fun(self, mprn: string, serial: string, opts?: octopus.ConsumptionOptions): octopus.Pages
local Gas = { __name = "octopus.Gas", consumption = consumption }
Gas.__index = Gas

---@param client octopus.Client
---@return octopus.Electricity electricity
function M.electricity(client) return setmetatable({ client = client, fuel = "electricity" }, Electricity) end
---@param client octopus.Client
---@return octopus.Gas gas
function M.gas(client) return setmetatable({ client = client, fuel = "gas" }, Gas) end

return M
