-- octopus.rest.common: small helpers shared by the REST domain modules
-- (option checking, period queries). No I/O.
--
-- Invariants: unknown options and wrong types raise, naming the function and
-- the option; every datetime sent is ISO 8601 with the client's zone offset.
local usage = require "octopus.pipeline.usage"

local type, pairs, tostring = type, pairs, tostring

local M = {}

-- check(opts, spec, where, noun) -> opts (a table); spec = { name = "string"|"boolean"|"time"|"number"|{enum...} }
function M.check(opts, spec, where, noun)
  noun = noun or "option"
  if opts == nil then return {} end
  if type(opts) ~= "table" then usage.raise(where .. ": options must be a table") end
  for k, v in pairs(opts) do
    local want = spec[k]
    if want == nil then usage.raise(where .. ": unknown " .. noun .. " '" .. tostring(k) .. "'") end
    if type(want) == "table" then
      if not want[v] then
        local names = {}
        for name in pairs(want) do names[#names + 1] = name end
        table.sort(names)
        usage.raise(where .. ": " .. noun .. " '" .. k .. "' must be one of " .. table.concat(names, ", "))
      end
    elseif want == "time" then
      local t = type(v)
      if t ~= "string" and t ~= "number" and t ~= "table" then
        usage.raise(where .. ": " .. noun .. " '" .. k .. "' must be a time (ISO string, epoch or date table)")
      end
    elseif want == "count" then
      if type(v) ~= "number" or v < 1 or v ~= math.floor(v) then
        usage.raise(where .. ": " .. noun .. " '" .. k .. "' must be a positive integer")
      end
    elseif type(v) ~= want then
      usage.raise(where .. ": " .. noun .. " '" .. k .. "' must be a " .. want)
    end
  end
  return opts
end

-- check_code(v, what, where): a non-empty string (or number) identifier.
function M.check_code(v, what, where)
  local t = type(v)
  if (t ~= "string" and t ~= "number") or v == "" then
    usage.raise(where .. ": " .. what .. " must be a non-empty string")
  end
  return v
end

-- period(client, opts, cap) -> query { period_from, period_to, page_size, ... }:
-- from/to as ISO with offset; page_size defaults to `cap` when a period is given.
function M.period(client, opts, cap)
  local q = {}
  if opts.from ~= nil then q.period_from = client:iso(opts.from) end
  if opts.to ~= nil then q.period_to = client:iso(opts.to) end
  q.page_size = opts.page_size
  if q.page_size == nil and (q.period_from or q.period_to) then q.page_size = cap end
  return q
end

return M
