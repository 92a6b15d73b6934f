-- octopus.pipeline.options: checks an options table against the option specs of
-- every layer that reads it (the facade passes the pipeline's, the GraphQL layer's
-- and its own), so an unknown or mistyped option raises at the caller's line of
-- octopus.new, naming it.
--
--   options.check(opts, { specs... }, what) -> opts (a new empty table for nil)
--   a spec: { name = "string" | "number" | "table" | "function" | "boolean" }
local usage = require "octopus.pipeline.usage"

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring

local M = {}

function M.check(opts, specs, what)
  if opts == nil then return {} end
  if type(opts) ~= "table" then usage.raise(what .. ": options must be a table") end
  for k, v in pairs(opts) do
    local want
    for _, spec in ipairs(specs) do want = want or spec[k] end
    if not want then usage.raise(what .. ": unknown option '" .. tostring(k) .. "'") end
    if type(v) ~= want then usage.raise(what .. ": option '" .. k .. "' must be a " .. want) end
  end
  return opts
end

-- positive(opts, names, what): each named number option, when given, is > 0
function M.positive(opts, names, what)
  for _, k in ipairs(names) do
    if opts[k] ~= nil and not (opts[k] > 0) then usage.raise(what .. ": option '" .. k .. "' must be positive") end
  end
end

return M
