-- octopus.pipeline.clock: the one place the library reads time. Every client has a
-- clock (option `clock`); token expiry, backoff, Retry-After, task timers and
-- deadlines all read it, so specs drive time with a fake clock instead of sleeping.
--
--   clock.system()        -> the real clock (core.wall, core.monotonic, core.sleep)
--   clock.fake([start])   -> a clock that moves only when told: clock:advance(s), and
--                            clock.sleep(s) advances it at once (no real wait)
--   clock.check(c)        -> c, raising (at the caller) unless it has wall/mono/sleep
-- A clock is a table of three plain functions: wall() -> Unix seconds (float),
-- mono() -> monotonic seconds (float), sleep(seconds).
local core = require "octopus.core"
local usage = require "octopus.pipeline.usage"

local type, setmetatable = type, setmetatable

---A clock: three plain functions (no self).
---@class octopus.Clock
---@field wall fun(): number   Unix seconds (float)
---@field mono fun(): number   monotonic seconds (float)
---@field sleep fun(seconds: number)

---@class octopus.clock
local M = {}

local system = { wall = core.wall, mono = core.monotonic, sleep = core.sleep, system = true }
---@return octopus.Clock clock the real one (core.wall, core.monotonic, core.sleep)
function M.system() return system end

---A clock that moves only when told (specs).
---@class octopus.FakeClock: octopus.Clock
---@field t number     seconds advanced so far
---@field start number the wall time at t = 0
local Fake = { __name = "octopus.FakeClock" }
Fake.__index = Fake

-- fake(start): wall starts at `start` (default: now, whole seconds), mono at 1000.
---wall starts at `start`, mono at 1000; clock.sleep(s) advances it at once.
---@param start? number Unix seconds (default: now, whole seconds)
---@return octopus.FakeClock clock
function M.fake(start)
  local self = setmetatable({ t = 0, start = start or math.floor(core.wall()) }, Fake)
  self.wall = function() return self.start + self.t end
  self.mono = function() return 1000 + self.t end
  self.sleep = function(s) if s > 0 then self.t = self.t + s end end
  return self
end

---@param seconds number >= 0
---@return octopus.FakeClock self
function Fake:advance(seconds)
  if type(seconds) ~= "number" or seconds < 0 then usage.raise("clock:advance: 'seconds' must be >= 0") end
  self.t = self.t + seconds
  return self
end

---Raises (at the caller) unless c has wall, mono and sleep functions.
---@param c any
---@param what? string names it in the message
---@return octopus.Clock c
function M.check(c, what)
  if type(c) ~= "table" or type(c.wall) ~= "function" or type(c.mono) ~= "function"
     or type(c.sleep) ~= "function" then
    usage.raise((what or "clock") .. " must be a table with wall, mono and sleep functions")
  end
  return c
end

return M
