-- octopus.sandbox.ratelimit: the hourly points allowance per account user (KT-CT-1199).
--
--   local rl = ratelimit.new{ points = 50000, window = 3600, now = os.time }
--   rl:cost(doc, operation) -> points a request costs
--   rl:charge(key, points) -> true | false, info   (false: blocked, nothing charged)
--   rl:info(key) -> { limit, remainingPoints, usedPoints, ttl, isBlocked }
--   rl:reset()   forget every window (POST /_sandbox/reset)
-- Cost model (kept simple, documented in the spec): 1 point per selected field,
-- fragments expanded where they are spread, __typename free. A window starts at a
-- user's first charged request and lasts `window` seconds; ttl is its end as a Unix
-- timestamp. A request that would overdraw the allowance is refused whole and marks
-- the user blocked until the window ends.
local M = {}
M.__index = M

function M.new(opts)
  opts = opts or {}
  return setmetatable({
    limit = math.floor(tonumber(opts.points) or 50000),
    window = tonumber(opts.window) or 3600,
    now = opts.now or os.time,
    users = {},
  }, M)
end

-- Field count of an operation's selection sets (fragments counted per spread).
function M:cost(doc, op)
  local frags = {}
  for _, d in ipairs(doc.definitions) do
    if d.kind == "FragmentDefinition" then frags[d.name] = d end
  end
  local function count(set, seen)
    local n = 0
    for _, sel in ipairs(set.selections) do
      if sel.kind == "Field" then
        if sel.name ~= "__typename" then n = n + 1 end
        if sel.selection_set then n = n + count(sel.selection_set, seen) end
      elseif sel.kind == "InlineFragment" then
        n = n + count(sel.selection_set, seen)
      else
        local f = frags[sel.name]
        if f and not seen[sel.name] then
          seen[sel.name] = true
          n = n + count(f.selection_set, seen)
          seen[sel.name] = nil
        end
      end
    end
    return n
  end
  return count(op.selection_set, {})
end

local function window(self, key)
  local now = self.now()
  local w = self.users[key]
  if not w or now >= w.reset_at then
    w = { used = 0, reset_at = now + self.window, blocked = false }
    self.users[key] = w
  end
  return w
end

function M:charge(key, points)
  local w = window(self, key)
  if w.blocked or w.used + points > self.limit then
    w.blocked = true
    return false, self:info(key)
  end
  w.used = w.used + points
  if w.used >= self.limit then w.blocked = true end
  return true
end

function M:info(key)
  local w = window(self, key)
  return {
    limit = self.limit,
    remainingPoints = math.max(0, self.limit - w.used),
    usedPoints = w.used,
    ttl = math.floor(w.reset_at),
    isBlocked = w.blocked,
  }
end

function M:reset()
  self.users = {}
end

return M
