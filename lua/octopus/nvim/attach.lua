-- octopus.nvim.attach: drive a client from Neovim's libuv loop (the plugin's transport;
-- require("octopus.nvim").attach is this). Nothing blocks the editor: curl's sockets
-- are watched with uv poll handles and its timeout with one uv timer (no busy
-- polling); every step (task code, on_done callbacks) runs on the main loop
-- through vim.schedule, so callbacks may touch buffers and call the API.
--
--   local nvim = require "octopus.nvim"
--   local h = nvim.attach(client [, { concurrency = 64, max_connections = N }])
--   client:spawn(function() ... end):on_done(function(task) ... end)
--   h:detach()           -- stops watching, closes the uv handles (tasks in flight stay
--                        -- until client:close(), which detaches too)
--   h.stats              -- { flushes = n, socket_events = n, timer_events = n }
--
-- Works with Neovim 0.7 (vim.loop) and later (vim.uv). Within a task, client calls
-- yield; outside one they block (avoid that in a plugin). Do not call client:poll
-- while attached: the adapter drives the multi with socket_action.
--
-- Invariants: uv callbacks run in Neovim's fast context, so they only record the
-- event and schedule one flush (coalesced); a poll handle stops after it fires and
-- the flush re-arms what curl still wants, so a level-triggered socket cannot spin
-- the loop; a socket curl closed (or replaced under the same fd number, seen by its
-- generation) gets its handle closed before a new one is made; client:close() detaches
-- (every handle closed) before curl closes its sockets, and a flush that finds the
-- client closed detaches too.
local usage = require "octopus.pipeline.usage"
local async = require "octopus.async"

local pairs, ipairs, error, setmetatable = pairs, ipairs, error, setmetatable

local M = {}

---What octopus.nvim.attach returns.
---@class octopus.NvimHandle
---@field sched octopus.Scheduler
---@field stats { flushes: integer, socket_events: integer, timer_events: integer }
local Handle = {}
Handle.__index = Handle

local function merge(a, b)
  if not a or a == b then return b end
  return "rw"
end

-- uv poll events ("r", "w", "rw", "rd", "prw", ...) -> "r" | "w" | "rw"
local function events_of(err, ev)
  if err or not ev then return "rw" end
  local r, w = ev:find("r", 1, true), ev:find("w", 1, true)
  if r and w then return "rw" end
  return w and "w" or "r"
end

---Drives client from Neovim's libuv loop: curl's sockets watched with uv poll handles,
---its timeout with one uv timer; every step runs on the main loop (vim.schedule). Raises
---outside Neovim. Attaching again returns the same handle.
---@param client octopus.Client
---@param opts? { concurrency?: integer, max_connections?: integer, max_host_connections?: integer }
---@return octopus.NvimHandle handle
function M.attach(client, opts)
  local vim = rawget(_G, "vim")
  if type(vim) ~= "table" then usage.raise("octopus.nvim: not running inside Neovim") end
  local uv = vim.uv or vim.loop
  local sched = async.attach(client, opts)
  if sched.nvim then return sched.nvim end
  local m = sched.multi
  local self = setmetatable({ sched = sched, stats = { flushes = 0, socket_events = 0, timer_events = 0 } }, Handle)
  local polls, pending = {}, {}
  local timer = uv.new_timer()
  local scheduled, in_flush = false, false
  local flush

  local function request_flush()
    if scheduled or self.detached then return end
    scheduled = true
    vim.schedule(flush)
  end

  local function reconcile()
    if self.detached then return end
    if sched.closed then return self:detach() end
    local want = {}
    for _, s in ipairs(m:fds()) do want[s.fd] = s end
    for fd, p in pairs(polls) do
      local w = want[fd]
      if not w or w.gen ~= p.gen then
        p.h:stop()
        p.h:close()
        polls[fd] = nil
      end
    end
    for fd, s in pairs(want) do
      local p = polls[fd]
      if not p then
        p = { h = uv.new_socket_poll(fd), gen = s.gen }
        polls[fd] = p
      end
      if p.events ~= s.events then
        p.events = s.events
        p.h:start(s.events, function(err, ev)
          p.h:stop()
          p.events = nil
          pending[fd] = merge(pending[fd], events_of(err, ev))
          self.stats.socket_events = self.stats.socket_events + 1
          request_flush()
        end)
      end
    end
    timer:stop()
    local ms = sched:next_wakeup_ms()
    if ms >= 0 then
      timer:start(ms, 0, function()
        self.stats.timer_events = self.stats.timer_events + 1
        request_flush()
      end)
    end
  end

  -- on the main loop: feed curl the recorded events, run what is due, re-arm
  function flush()
    scheduled = false
    if self.detached then return end
    if sched.closed then return self:detach() end  -- curl's sockets are gone: close the handles
    self.stats.flushes = self.stats.flushes + 1
    in_flush = true
    local ok, err = pcall(function()
      local ev = pending
      pending = {}
      for fd, e in pairs(ev) do sched:dispatch(m:socket_action(fd, e)) end
      sched:dispatch(m:socket_action(nil))
      sched:tick()
    end)
    in_flush = false
    reconcile()
    if not ok then error(err, 0) end
  end

  sched.changed = function()
    if not in_flush then request_flush() end
  end
  function self.close_handles()
    timer:stop()
    if not timer:is_closing() then timer:close() end
    for fd, p in pairs(polls) do
      p.h:stop()
      if not p.h:is_closing() then p.h:close() end
      polls[fd] = nil
    end
  end
  sched.nvim = self
  sched:on_close(function() self:detach() end)  -- its uv handles go before curl's sockets
  request_flush()
  return self
end

---Stops watching and closes the uv handles (tasks in flight stay until client:close()).
function Handle:detach()
  if self.detached then return end
  self.detached = true
  self.close_handles()
  self.sched.changed = function() end
  self.sched.nvim = nil
end

return M
