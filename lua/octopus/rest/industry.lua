-- octopus.rest.industry: /v1/industry/grid-supply-points/ (optionally by postcode).
-- Invariant: returns a lazy page iterator; unknown options raise.
local page = require "octopus.pipeline.page"
local common = require "octopus.rest.common"

---client.industry: /v1/industry/grid-supply-points/.
---@class octopus.Industry
---@field client octopus.Client
local Industry = { __name = "octopus.Industry" }
Industry.__index = Industry

---@param client octopus.Client
---@return octopus.Industry industry
function Industry.new(client) return setmetatable({ client = client }, Industry) end

-- industry:grid_supply_points{ postcode = } -> iterator of { group_id = "_C" }
---@param opts? { postcode?: string }
---@return octopus.Pages gsps items { group_id = "_C" }
function Industry:grid_supply_points(opts)
  opts = common.check(opts, { postcode = "string" }, "industry:grid_supply_points")
  return page.rest(self.client, {
    method = "GET", path = { "industry", "grid-supply-points" }, query = { postcode = opts.postcode },
  })
end

return Industry
