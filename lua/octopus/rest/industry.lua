-- octopus.rest.industry: /v1/industry/grid-supply-points/ (optionally by postcode).
-- Invariant: returns a lazy page iterator; unknown options raise.
local page = require "octopus.pipeline.page"
local common = require "octopus.rest.common"

local Industry = { __name = "octopus.Industry" }
Industry.__index = Industry

function Industry.new(client) return setmetatable({ client = client }, Industry) end

-- industry:grid_supply_points{ postcode = } -> iterator of { group_id = "_C" }
function Industry:grid_supply_points(opts)
  opts = common.check(opts, { postcode = "string" }, "industry:grid_supply_points")
  return page.rest(self.client, {
    method = "GET", path = { "industry", "grid-supply-points" }, query = { postcode = opts.postcode },
  })
end

return Industry
