-- octopus.async.transport: client.transport while octopus.async is attached. In a task
-- of the client's scheduler, send yields until its transfer completes and sleep yields
-- to a scheduler timer; anywhere else both go to the previous (blocking) transport.
--
--   transport.new(sched, inner) -> transport { send, sleep, close, block, wait, notify, pcall }
--   transport.is(v) -> bool ; transport.pcall(f, ...) ; transport.task_of[co] -> task
--   transport.cancelled_error([message]) -> CANCELLED error (default "task cancelled")
--
-- Invariants:
--  * a send holds one of the scheduler's concurrency slots from m:add until its
--    completion or cancellation, whichever comes first, and releases it exactly once;
--  * block(url, seconds, err) holds back every task's sends to url (see below); it knows
--    no protocol: the GraphQL layer calls it for KT-CT-1199;
--  * close() shuts the scheduler down (which runs the host adapters' close hooks first,
--    so their handles close before curl's sockets do);
--  * wait/notify are plain functions (auth.lua calls transport.wait(inflight)), bound
--    to this scheduler; a method call works too.
local errors = require "octopus.pipeline.errors"

local type, ipairs, pairs, pcall, error, setmetatable, getmetatable, select, rawget =
  type, ipairs, pairs, pcall, error, setmetatable, getmetatable, select, rawget
local remove, ceil = table.remove, math.ceil

local M = {}

local cresume, cyield, crunning, cstatus, ccreate =
  coroutine.resume, coroutine.yield, coroutine.running, coroutine.status, coroutine.create
local unpack = table.unpack or unpack
local function pack(...) return { n = select("#", ...), ... } end

-- coroutine -> its task: a task's own coroutine, and those M.pcall runs inside it.
-- Weak keys AND values: the task refers to its coroutine, and on 5.1/LuaJIT a weak-keyed
-- entry whose value refers to its key is never collected (no ephemerons), so "k" alone
-- leaked every task there. A live task is held by its scheduler, so its entry stays.
M.task_of = setmetatable({}, { __mode = "kv" })
local task_of = M.task_of

-- M.pcall(f, ...): pcall through which a task's client calls may still yield. On Lua
-- 5.2+ and LuaJIT that is pcall itself; PUC Lua 5.1 cannot yield across pcall, so
-- there f runs in a coroutine of its own that counts as the task, and what it yields
-- goes up to the scheduler and back. (auth.lua renews tokens under it.)
local YIELDS_ACROSS_PCALL = not (_VERSION == "Lua 5.1" and not rawget(_G, "jit"))
function M.pcall(f, ...)
  local task = task_of[crunning() or false]
  if YIELDS_ACROSS_PCALL or not task then return pcall(f, ...) end
  local co = ccreate(f)
  task_of[co] = task
  local r = pack(cresume(co, ...))
  while cstatus(co) ~= "dead" do
    r = pack(cresume(co, cyield(unpack(r, 2, r.n))))
  end
  return unpack(r, 1, r.n)
end

function M.cancelled_error(message)
  return errors.new { code = "CANCELLED", kind = "usage", retryable = false, message = message or "task cancelled" }
end

local Transport = {}
Transport.__index = Transport

local sleep

-- a copy of the error that set a block, for a send it holds back
local function held_back(b, left)
  local t = {}
  for k, v in pairs(b.err or {}) do
    if k ~= "errors" and k ~= "data" then t[k] = v end   -- not an answer: nothing was sent
  end
  t.code, t.kind = t.code or "RATE_LIMITED", t.kind or "rate_limit"
  t.retryable, t.sent, t.retry_after, t.attempts = true, false, ceil(left), 0
  t.message = ("held back without sending: an earlier answer asked to wait %d s more (%s)"):format(
    ceil(left), tostring(t.message))
  return errors.new(t)
end

-- send in a task: a block on its URL, the semaphore, m:add, yield for the completion
local function send(self, task, req)
  if task.cancelling then error(task.cancelling, 0) end
  local b = self.blocked[req.url]
  if b then
    local left = b.until_ - self.clock.mono()
    if left > self.client.max_retry_time then return nil, held_back(b, left) end
    if left > 0 then sleep(self, task, left) else self.blocked[req.url] = nil end
  end
  self:acquire_slot(task)
  local ok, id = pcall(self.multi.add, self.multi, req)
  if not ok then
    self:release_slot()
    error(id, 0)
  end
  self.waiting[id] = task
  self.changed()
  local c = self:suspend(task, function()
    self.waiting[id] = nil
    self.multi:cancel(id)
    self:release_slot()
  end)
  if c.err then return nil, c.err end
  return c.status, c.headers, c.body, c.info
end

function sleep(self, task, seconds)
  if task.cancelling then error(task.cancelling, 0) end
  local tm
  tm = self:add_timer(seconds, function() self:wake(task) end)
  self:suspend(task, function() self:cancel_timer(tm) end)
end

function Transport:send(req)
  local sched = self.sched
  local task = sched:running_task()
  if not task then return self.inner:send(req) end
  return send(sched, task, req)
end

function Transport:sleep(seconds)
  local sched = self.sched
  local task = sched:running_task()
  if not task then return self.inner:sleep(seconds) end
  if seconds > 0 then return sleep(sched, task, seconds) end
end

-- transport.block(url, seconds, err): every task's later sends to url wait until
-- `seconds` from now (the latest renewal wins), or fail at once with a copy of err
-- (sent = false) when the wait exceeds the client's max_retry_time. The layer that
-- reads the answer decides (octopus.graphql.wire for KT-CT-1199); a plain call.
local function blocker(sched)
  return function(url, seconds, err)
    if type(url) ~= "string" or type(seconds) ~= "number" or not (seconds >= 0) then return end
    local untl = sched.clock.mono() + seconds
    local b = sched.blocked[url]
    if not b or untl > b.until_ then sched.blocked[url] = { until_ = untl, err = err } end
  end
end

function Transport:close()
  self.sched:shutdown()
  if self.inner.close then self.inner:close() end
end

-- Token single flight (auth.lua): transport.wait(inflight) / transport.notify(inflight),
-- plain functions bound to the scheduler (a method call works too).
local function single_flight(sched)
  local waiters = setmetatable({}, { __mode = "k" })  -- inflight -> { task... }
  local function arg(a, b) if getmetatable(a) == Transport then return b end return a end
  local function wait(a, b)
    local inflight = arg(a, b)
    if type(inflight) ~= "table" or inflight.done then return end
    local task = sched:running_task()
    if task then
      local ws = waiters[inflight]
      if not ws then ws = {}; waiters[inflight] = ws end
      ws[#ws + 1] = task
      sched:suspend(task, function()
        for i, t in ipairs(ws) do if t == task then remove(ws, i) return end end
      end)
    else  -- blocking caller while a task refreshes: drive the tasks until it ends
      while not inflight.done and not sched.closed do sched:poll(1000) end
    end
  end
  local function notify(a, b)
    local inflight = arg(a, b)
    local ws = type(inflight) == "table" and waiters[inflight]
    if ws then
      waiters[inflight] = nil
      for _, t in ipairs(ws) do sched:wake(t) end
      sched.changed()
    end
  end
  return wait, notify
end

function M.is(v) return getmetatable(v) == Transport end

function M.new(sched, inner)
  local wait, notify = single_flight(sched)
  return setmetatable({ sched = sched, inner = inner, wait = wait, notify = notify, pcall = M.pcall,
                        block = blocker(sched) },
    Transport)
end

return M
