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

local M = { PAGE_CAP = 25000 }

local CONSUMPTION = {
  from = "time", to = "time", page_size = "count",
  group_by = { hour = true, day = true, week = true, month = true, quarter = true },
  order_by = { period = true, ["-period"] = true },
}

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

local Electricity = { __name = "octopus.Electricity", consumption = consumption }
Electricity.__index = Electricity

-- electricity:meter_point(mpan) -> { gsp, mpan, profile_class } | nil, err
function Electricity:meter_point(mpan)
  common.check_code(mpan, "mpan", "electricity:meter_point")
  return self.client:request { method = "GET", path = { "electricity-meter-points", mpan } }
end

local Gas = { __name = "octopus.Gas", consumption = consumption }
Gas.__index = Gas

function M.electricity(client) return setmetatable({ client = client, fuel = "electricity" }, Electricity) end
function M.gas(client) return setmetatable({ client = client, fuel = "gas" }, Gas) end

return M
