-- octopus.async: non-blocking use of a client. Tasks are coroutines in which every
-- client call (REST, GraphQL, readings, token refresh) yields instead of blocking;
-- one scheduler per client drives them over one core.multi.
--
--   local task = client:spawn(fn, ...)   -- runs fn(...) now, up to its first I/O
--   client:poll(timeout_ms)  -> n        -- drives everything in flight; n = live tasks
--   task:wait() -> fn's results | nil, err   (outside a task: drives poll until done;
--                                             inside a task: yields until done)
--   task:done() -> bool ; task:result() ; task:cancel([err]) ; task:on_done(fn)
--   task:set_timeout(seconds)            -- cancels with TIMEOUT when it runs longer
--   task.status = "running" | "ok" | "failed" | "cancelled" ; task.err
--   client:map(items, fn [, { concurrency = 8 }]) -> results, errs | nil  (octopus.async.map)
--   async.pcall(f, ...)                  -- pcall that a task yields through (PUC 5.1 too)
--   async.attach(client [, { concurrency = 64, max_connections, max_host_connections }])
--     -> scheduler (spawn/poll/map attach with the defaults on first use)
--
-- Invariants:
--  * attach swaps client.transport for an async one; outside a task (no task of this
--    scheduler is the running coroutine: a user's own coroutine inside a task counts
--    as outside) every call goes to the previous, blocking transport unchanged.
--  * Task code and on_done callbacks run only from spawn, poll (or a host adapter's
--    step), never from inside libcurl; on_done is delivered from poll (or client:close()).
--  * At most `concurrency` transfers per client are in flight (a FIFO semaphore).
--  * transport.block(url, seconds, err) (the GraphQL layer calls it for KT-CT-1199)
--    holds back every task's sends to url: a send waits (if the wait fits
--    max_retry_time) or fails at once with a copy of err (sent = false, retry_after)
--    without contacting the server.
--  * Time is the client's clock (client.clock); when only timers are ahead, poll waits
--    through clock.sleep, so a fake clock makes task sleeps and timeouts instant.
--  * Runs on LuaJIT and 5.2+ (and PUC 5.1, where a task cannot yield across pcall,
--    so GraphQL token renewal, which runs under pcall, needs LuaJIT or 5.2+).
--  * Token single flight (docs/INTERNALS.md): transport.wait(inflight) parks the task
--    until transport.notify(inflight). The transport (send/sleep/1199/wait/notify) is
--    octopus.async.transport.
--  * client:close() marks the scheduler closed first (nothing new starts), then cancels
--    a snapshot of the tasks with CANCELLED ("the client was closed") and delivers their
--    on_done callbacks (from poll instead when close was called inside a task).
--  * Each fn given to task:on_done runs once.
--  * Cancelling a task removes its transfer from the multi (the connection closes)
--    and ends it with CANCELLED at once; its coroutine then unwinds (the error is
--    raised where it was parked, so pcall/cleanup code runs) without new I/O.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local usage = require "octopus.pipeline.usage"
local transport = require "octopus.async.transport"
local map = require "octopus.async.map"
local task_of = transport.task_of

local coroutine, type, error, setmetatable, select, pcall, tostring, ipairs, pairs =
  coroutine, type, error, setmetatable, select, pcall, tostring, ipairs, pairs
local unpack = table.unpack or unpack
local remove, ceil, floor = table.remove, math.ceil, math.floor
local traceback = debug.traceback
local cresume, cyield, crunning, cstatus, ccreate =
  coroutine.resume, coroutine.yield, coroutine.running, coroutine.status, coroutine.create
local cclose = coroutine.close

---@class octopus.async
---@field DEFAULT_CONCURRENCY integer 64
---@field methods table<string, function> spawn, poll, map: installed on the Client by the facade
local M = {}
M.DEFAULT_CONCURRENCY = 64

local MARK = {}  -- what a task yields to the scheduler

local function pack(...) return { n = select("#", ...), ... } end

local cancelled_error = transport.cancelled_error

---A task: a coroutine in which every client call yields instead of blocking.
---@class octopus.Task
---@field status "running"|"ok"|"failed"|"cancelled"
---@field err? octopus.Error         why it failed or was cancelled (TASK_ERROR when fn raised)
---@field results? table             fn's results, packed ({ n = ... }), once ok
local Task = {}
Task.__index = Task
Task.__name = "octopus.Task"

---One per client (octopus.async.attach): tasks, timers and the core.multi they share.
---Host adapters (octopus.nvim, octopus.love) use multi, dispatch, tick, next_wakeup_ms,
---changed, closed and on_close.
---@class octopus.Scheduler
---@field client octopus.Client
---@field multi table                the core.multi
---@field limit integer              transfers in flight at most (concurrency)
---@field live integer               tasks still running
---@field closed? boolean
---@field changed fun()              hook: work was added (adapters re-arm their timer)
local Scheduler = {}
Scheduler.__index = Scheduler

---------------------------------------------------------------------------
-- Scheduler core: run queue, timers, suspension
---------------------------------------------------------------------------

-- the task of this scheduler whose coroutine is running, or nil
---@return octopus.Task|nil task the task of this scheduler whose coroutine is running
function Scheduler:running_task()
  local t = self.current
  if t and task_of[crunning() or false] == t then return t end
  return nil
end

-- suspends the running task until woken; unwait undoes the registration on cancel.
-- A cancelled task raises its cancel error here instead (see Task:cancel).
local function suspend(task, unwait)
  if task.cancelling then error(task.cancelling, 0) end
  task.unwait, task.parked = unwait, true
  local r = pack(cyield(MARK))
  task.unwait = nil
  if task.cancelling then error(task.cancelling, 0) end
  return unpack(r, 1, r.n)
end

Scheduler.suspend = function(_, task, unwait) return suspend(task, unwait) end

-- wake(task, ...): a parked task resumes with ... from the next run of the queue
-- (a task is woken once per suspension; a second wake is ignored)
---@param task octopus.Task
---@param ... any the values suspend returns in the task
function Scheduler:wake(task, ...)
  if not task.parked then return end
  task.unwait, task.parked = nil, false
  local q = self.ready
  q[#q + 1] = { task, pack(...) }
end

local finish

-- resumes task's coroutine with the packed values r
---@param task octopus.Task
---@param r table packed values ({ n = ... })
function Scheduler:resume(task, r)
  if task.status ~= "running" then return end
  local prev = self.current
  self.current = task
  local out = pack(cresume(task.co, unpack(r, 1, r.n)))
  self.current = prev
  if cstatus(task.co) == "dead" then
    finish(self, task, out)
  elseif out[2] ~= MARK then  -- the task's own coroutine.yield(): a tick, resumed next poll
    local y = self.yielded
    y[#y + 1] = task
  end
end

-- runs due timers and the ready queue; delivers on_done callbacks
---Runs due timers and the ready queue, then the on_done callbacks.
function Scheduler:run_due()
  local now = self.clock.mono()
  local timers, i = self.timers, 1
  while i <= #timers do
    local tm = timers[i]
    if tm.at <= now then
      remove(timers, i)
      tm.fire()
    else
      i = i + 1
    end
  end
  while self.ready[1] do  -- a batch at a time; what it wakes runs in the next batch
    local q = self.ready
    self.ready = {}
    for k = 1, #q do self:resume(q[k][1], q[k][2]) end
  end
  self:deliver_done()
end

-- runs the queued on_done callbacks; each registered fn runs once
---Runs the queued on_done callbacks.
function Scheduler:deliver_done()
  local dq = self.done_q
  while dq[1] do
    local task = remove(dq, 1)
    local fn = task.on_done_fn
    task.done_queued, task.on_done_fn = nil, nil
    if fn then fn(task) end
  end
end

-- ms until something needs this scheduler (a timer, the ready queue, curl), -1: nothing
---@return integer ms until something needs this scheduler (0: now), -1: nothing
function Scheduler:next_wakeup_ms()
  if self.ready[1] or self.done_q[1] or self.yielded[1] then return 0 end
  local ms = self.multi:timeout()
  local now = self.clock.mono()
  for _, tm in ipairs(self.timers) do
    local d = ceil((tm.at - now) * 1000)
    if d < 0 then d = 0 end
    if ms < 0 or d < ms then ms = d end
  end
  return ms
end

-- a timer calling fire() once, from run_due, after seconds; -> handle (for cancel_timer)
---@param seconds number on the client's clock
---@param fire fun() called once, from run_due
---@return table timer a handle for cancel_timer
function Scheduler:add_timer(seconds, fire)
  local tm = { at = self.clock.mono() + seconds, fire = fire }
  self.timers[#self.timers + 1] = tm
  self.changed()
  return tm
end

---@param tm table a handle from add_timer
function Scheduler:cancel_timer(tm)
  for i, x in ipairs(self.timers) do
    if x == tm then remove(self.timers, i) return end
  end
end

-- dispatches multi completions to the tasks waiting on them
---Hands core.multi completions to the tasks waiting on them.
---@param completions table[] as m:perform / m:poll / m:socket_action return them
function Scheduler:dispatch(completions)
  for i = 1, #completions do
    local c = completions[i]
    local task = self.waiting[c.id]
    if task then
      self.waiting[c.id] = nil
      self:release_slot()
      self:wake(task, c)
    end
  end
end

-- client:close(): every running task ends with CANCELLED ("the client was closed")
-- before the multi goes (the running task itself, if any, finishes on its own).
-- closed is set first, so nothing (a map's next item) starts while tasks unwind;
-- their on_done callbacks run here unless close was called from inside a task.
---client:close(): every running task ends with CANCELLED, then the multi closes.
function Scheduler:shutdown()
  if self.closed then return end
  self.closed = true
  for _, hook in ipairs(self.close_hooks) do hook() end
  local me, snapshot = self:running_task(), {}
  for task in pairs(self.tasks) do snapshot[#snapshot + 1] = task end
  for _, task in ipairs(snapshot) do
    if task ~= me then task:cancel(cancelled_error("the client was closed")) end
  end
  for id in pairs(self.waiting) do self.multi:cancel(id) end
  self.waiting = {}
  self.multi:close()
  if not me then self:deliver_done() end
end

-- sched:on_close(fn): fn() runs when the scheduler shuts down, before the multi closes
-- (host adapters close their handles on curl's sockets there)
---@param fn fun() runs when the scheduler shuts down, before the multi closes
function Scheduler:on_close(fn) self.close_hooks[#self.close_hooks + 1] = fn end

-- runs the tasks that yielded on their own (ticks) and everything due; for host
-- adapters that drive the multi themselves (octopus.nvim)
---Runs the tasks that yielded on their own and everything due (adapters that drive the
---multi themselves call it).
function Scheduler:tick()
  local y = self.yielded
  if y[1] then
    self.yielded = {}
    for _, task in ipairs(y) do self.ready[#self.ready + 1] = { task, { n = 0 } } end
  end
  self:run_due()
end

-- client:poll(timeout_ms): waits up to timeout_ms (default 0) for progress -> live tasks
---@param timeout_ms? number waits up to this long for progress (default 0)
---@return integer live the tasks still running
function Scheduler:poll(timeout_ms)
  if self:running_task() then usage.raise("client:poll: called from inside a task (use task:wait)") end
  if self.closed then self:deliver_done() return 0 end
  timeout_ms = timeout_ms or 0
  if type(timeout_ms) ~= "number" or timeout_ms < 0 then
    usage.raise("client:poll: timeout_ms must be a number >= 0")
  end
  self:tick()
  local wait = timeout_ms
  local idle = self.multi:count() == 0
  if self.live == 0 and idle then wait = 0 end
  local nx = self:next_wakeup_ms()
  if nx >= 0 and nx < wait then wait = nx end
  if idle and wait > 0 then
    self.clock.sleep(wait / 1000)   -- only timers ahead: the client's clock waits (a fake one at once)
  else
    self:dispatch(self.multi:poll(floor(wait)))
  end
  self:run_due()
  return self.live
end

-- the concurrency semaphore (FIFO): a slot per transfer in flight
---Waits (parks task) for a transfer slot: at most `limit` in flight, FIFO.
---@param task octopus.Task
function Scheduler:acquire_slot(task)
  if self.in_flight < self.limit and not self.slot_q[1] then
    self.in_flight = self.in_flight + 1
    return
  end
  local q = self.slot_q
  q[#q + 1] = task
  suspend(task, function()
    for i, t in ipairs(q) do if t == task then remove(q, i) return end end
  end)
  task.slot_handoff = nil  -- release_slot handed its slot over: in_flight counts us
end

---Frees a transfer slot (or hands it to the next waiting task).
function Scheduler:release_slot()
  local nxt = remove(self.slot_q, 1)
  if nxt then
    nxt.slot_handoff = true  -- owned from now on, even if cancelled before it runs
    self:wake(nxt)
  else
    self.in_flight = self.in_flight - 1
  end
end

---------------------------------------------------------------------------
-- Tasks
---------------------------------------------------------------------------

-- finish(sched, task, out): out = pack(coroutine.resume results) or { false, err } for cancel
function finish(self, task, out, status)
  if task.status ~= "running" then return end
  if task.timer then self:cancel_timer(task.timer); task.timer = nil end
  if out[1] then
    task.status = "ok"
    task.results = pack(unpack(out, 2, out.n))
  else
    local e = out[2]
    if not errors.is(e) then
      e = errors.new { code = "TASK_ERROR", kind = "usage", retryable = false, message = tostring(e),
                       traceback = type(task.co) == "thread" and traceback(task.co) or nil }
    end
    task.status, task.err = status or "failed", e
  end
  self.live = self.live - 1
  self.tasks[task] = nil
  for _, w in ipairs(task.waiters) do self:wake(w) end
  task.waiters = {}
  for _, fn in ipairs(task.internal) do fn(task) end
  if task.on_done_fn then task.done_queued = true; self.done_q[#self.done_q + 1] = task end
end

-- sched:new_task(f) -> a live task that runs f() from its first resume
---@param f fun(): ... the task's body, run from its first resume
---@return octopus.Task task
function Scheduler:new_task(f)
  local task = setmetatable({ sched = self, status = "running", waiters = {}, internal = {} }, Task)
  task.co = ccreate(f)
  task_of[task.co] = task
  self.live = self.live + 1
  self.tasks[task] = true
  return task
end

-- sched:spawn(fn, ...) -> task; fn runs now, up to its first yield
---@param fn fun(...): ... runs now, up to its first I/O
---@param ... any fn's arguments
---@return octopus.Task task
function Scheduler:spawn(fn, ...)
  if type(fn) ~= "function" then usage.raise("client:spawn: expected a function") end
  if self.closed then usage.raise("client:spawn: the client is closed") end
  local args = pack(...)
  local task = self:new_task(function() return fn(unpack(args, 1, args.n)) end)
  self:resume(task, { n = 0 })
  self.changed()
  return task
end

---@return boolean done the task has ended (ok, failed or cancelled)
function Task:done() return self.status ~= "running" end

-- task:result() -> fn's results | nil, err (raises while the task runs)
---fn's results once ok; raises while the task runs.
---@return any ... fn's results, or nil, err (failed or cancelled)
function Task:result()
  if self.status == "running" then usage.raise("task:result: the task is still running") end
  if self.status == "ok" then return unpack(self.results, 1, self.results.n) end
  return nil, self.err
end

---Outside a task: drives client:poll until this one ends; inside one: yields until then.
---@return any ... fn's results, or nil, err (CANCELLED, TIMEOUT, TASK_ERROR, or fn's own)
function Task:wait()
  local sched = self.sched
  local me = sched:running_task()
  if me == self then usage.raise("task:wait: a task cannot wait for itself") end
  if me then
    if self.status == "running" then
      local ws = self.waiters
      ws[#ws + 1] = me
      suspend(me, function()
        for i, t in ipairs(ws) do if t == me then remove(ws, i) return end end
      end)
    end
  else
    while self.status == "running" do
      if sched.closed then return nil, cancelled_error("the client was closed") end
      sched:poll(1000)
    end
  end
  return self:result()
end

-- task:on_done(fn): fn(task) once, from poll, once the task has ended (also if it
-- already has); a later on_done before delivery replaces fn
---@param fn fun(task: octopus.Task) runs once, from poll, when the task has ended (also if it already has)
---@return octopus.Task self
function Task:on_done(fn)
  if type(fn) ~= "function" then usage.raise("task:on_done: expected a function") end
  self.on_done_fn = fn
  if self.status ~= "running" and not self.done_queued then
    self.done_queued = true
    local dq = self.sched.done_q
    dq[#dq + 1] = self
    self.sched.changed()
  end
  return self
end

-- task:cancel([err]) -> true if it was running: stops its transfer, ends it with err
-- (default CANCELLED); a task cancelling itself raises that error.
---Stops the task's transfer and ends it with e (default CANCELLED) at once.
---@param e? octopus.Error
---@return boolean cancelled false when it had already ended
function Task:cancel(e)
  if self.status ~= "running" then return false end
  local sched = self.sched
  e = e or cancelled_error()
  if sched:running_task() == self then error(e, 0) end
  if self.unwait then self.unwait() end
  self.unwait = nil
  if self.slot_handoff then self.slot_handoff = nil; sched:release_slot() end
  for i = #sched.ready, 1, -1 do
    if sched.ready[i][1] == self then remove(sched.ready, i) end
  end
  self.parked = false
  finish(sched, self, { false, e, n = 2 }, e.code == "CANCELLED" and "cancelled" or "failed")
  -- Unwind: resumed once, the coroutine raises e where it is parked, so its own pcall
  -- handlers and cleanup run (e.g. auth's single-flight notify); it can start no new
  -- I/O. Whatever is left of it after that is closed (5.4) or dropped.
  self.cancelling = e
  if cstatus(self.co) == "suspended" then
    local prev = sched.current
    sched.current = self
    cresume(self.co)
    sched.current = prev
    if cclose and cstatus(self.co) == "suspended" then pcall(cclose, self.co) end
  end
  sched.changed()
  return true
end

-- task:set_timeout(seconds): a deadline; past it the task is cancelled with TIMEOUT
---Past `seconds` (the client's clock) the task is cancelled with TIMEOUT.
---@param seconds number >= 0
---@return octopus.Task self
function Task:set_timeout(seconds)
  if type(seconds) ~= "number" or seconds < 0 then usage.raise("task:set_timeout: seconds must be >= 0") end
  local sched = self.sched
  if self.timer then sched:cancel_timer(self.timer) end
  if self.status ~= "running" then return self end
  self.timer = sched:add_timer(seconds, function()
    self.timer = nil
    self:cancel(errors.new { code = "TIMEOUT", kind = "network", retryable = false,
      message = ("task timed out after %g s"):format(seconds) })
  end)
  return self
end

---@return string
function Task:__tostring() return "octopus.Task (" .. self.status .. ")" end

---------------------------------------------------------------------------
-- Attaching, and the client methods
---------------------------------------------------------------------------
---@param client octopus.Client
---@return octopus.Scheduler|nil sched nil before attach
local function scheduler_of(client)
  local tr = client.transport
  if transport.is(tr) then return tr.sched end
  return nil
end
---The client's scheduler, nil before attach.
---@type fun(client: octopus.Client): octopus.Scheduler|nil
M.scheduler = scheduler_of
---pcall that a task can yield through (PUC 5.1 too).
---@type fun(f: function, ...: any): boolean, ...
M.pcall = transport.pcall   -- a pcall tasks can yield through, also on PUC Lua 5.1

---Makes client non-blocking inside tasks (spawn, poll and map attach on first use).
---@param client octopus.Client
---@param opts? { concurrency?: integer, max_connections?: integer, max_host_connections?: integer }
---@return octopus.Scheduler sched
function M.attach(client, opts)
  if type(client) ~= "table" or type(client.request) ~= "function" then
    usage.raise("octopus.async: expected a client")
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if k ~= "concurrency" and k ~= "max_connections" and k ~= "max_host_connections" then
      usage.raise("octopus.async.attach: unknown option '" .. tostring(k) .. "'")
    end
    if type(v) ~= "number" or v < 1 or v ~= floor(v) then
      usage.raise("octopus.async.attach: option '" .. k .. "' must be a positive integer")
    end
  end
  local sched = scheduler_of(client)
  if sched then
    if opts.concurrency then sched.limit = opts.concurrency end
    return sched
  end
  local inner = client.transport
  local so = type(inner) == "table" and type(inner.session_opts) == "table" and inner.session_opts or {}
  local multi = core.multi {
    ca_file = so.ca_file, user_agent = so.user_agent,
    timeout = so.timeout or client.timeout, connect_timeout = so.connect_timeout or client.connect_timeout,
    max_connections = opts.max_connections, max_host_connections = opts.max_host_connections,
  }
  sched = setmetatable({
    client = client, multi = multi, limit = opts.concurrency or M.DEFAULT_CONCURRENCY,
    in_flight = 0, live = 0, tasks = {}, slot_q = {}, waiting = {}, ready = {}, yielded = {}, timers = {},
    done_q = {}, blocked = {}, clock = client.clock,
    close_hooks = {},          -- host adapters add theirs (sched:on_close)
    changed = function() end,  -- host adapters (octopus.nvim) hook this
  }, Scheduler)
  client.transport = transport.new(sched, inner)
  return sched
end

---client:spawn(fn, ...): runs fn(...) in a new task, now, up to its first I/O.
---@param client octopus.Client
---@param fn fun(...): ...
---@param ... any
---@return octopus.Task task
function M.spawn(client, fn, ...) return M.attach(client):spawn(fn, ...) end

---client:poll(timeout_ms): drives everything in flight, waiting up to timeout_ms.
---@param client octopus.Client
---@param timeout_ms? number default 0
---@return integer live tasks still running
function M.poll(client, timeout_ms)
  local sched = scheduler_of(client)
  if not sched then return 0 end
  return sched:poll(timeout_ms)
end

-- client:map(items, fn, { concurrency = 8 }) -> results, errs | nil (octopus.async.map)
---client:map(items, fn, opts): fn(item, i) for each item, each in its own task, at most
---`concurrency` (8) at once. Blocks outside a task, yields inside one.
---@param client octopus.Client
---@param items any[]
---@param fn fun(item: any, i: integer): any, octopus.Error?
---@param opts? { concurrency?: integer }
---@return any[] results results[i] = fn's first result
---@return table<integer, octopus.Error>|nil errs errs[i]: item i's error (raised, or nil, err); nil when none failed
function M.map(client, items, fn, opts)
  if type(items) ~= "table" then usage.raise("client:map: items must be a table") end
  if type(fn) ~= "function" then usage.raise("client:map: fn must be a function") end
  opts = opts or {}
  local width = opts.concurrency or 8
  if type(width) ~= "number" or width < 1 then usage.raise("client:map: concurrency must be >= 1") end
  return map.run(M.attach(client), items, fn, width)
end

M.methods = { spawn = M.spawn, poll = M.poll, map = M.map }   -- installed on the Client by the facade

return M
