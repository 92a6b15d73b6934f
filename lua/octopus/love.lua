-- octopus.love: drive a client from LÖVE's frame loop (LuaJIT; no threads).
--
--   local driver = require("octopus.love").attach(client [, { poll_ms = 0 }])
--     -- call from love.load (after love.update is defined): wraps love.update so
--     -- client:poll(poll_ms) runs first every frame; task code and on_done callbacks
--     -- then run inside love.update, on the main thread, where LÖVE's API is usable.
--   driver:detach()        -- restores the previous love.update
--   driver.frames          -- frames driven so far
--
-- The pattern without this module is one line in love.update(dt): client:poll(0).
-- poll_ms > 0 lets a tool with no rendering wait for the network instead of spinning;
-- a game keeps 0 so a frame never waits.
--
-- Invariant: attach never blocks; only poll does, and only up to poll_ms per frame.
local usage = require "octopus.pipeline.usage"

local type, rawget = type, rawget

local M = {}

---What octopus.love.attach returns.
---@class octopus.LoveDriver
---@field client octopus.Client
---@field frames integer  frames driven so far
local Driver = {}
Driver.__index = Driver

---Wraps love.update so client:poll(poll_ms) runs first every frame (call from love.load,
---after love.update is defined). Raises outside LÖVE.
---@param client octopus.Client
---@param opts? { poll_ms?: number } default 0: a frame never waits
---@return octopus.LoveDriver driver
function M.attach(client, opts)
  local love = rawget(_G, "love")
  if type(love) ~= "table" then usage.raise("octopus.love: not running inside LÖVE") end
  opts = opts or {}
  local poll_ms = opts.poll_ms or 0
  if type(poll_ms) ~= "number" or poll_ms < 0 then usage.raise("octopus.love: poll_ms must be >= 0") end
  local self = setmetatable({ client = client, frames = 0, previous = love.update }, Driver)
  local previous = love.update
  love.update = function(dt)
    self.frames = self.frames + 1
    client:poll(poll_ms)
    if previous then return previous(dt) end
  end
  self.installed = love.update
  return self
end

---Restores the previous love.update.
function Driver:detach()
  local love = rawget(_G, "love")
  if love and love.update == self.installed then love.update = self.previous end
  self.installed = nil
end

return M
