-- octopus.async.transport: client.transport while octopus.async is attached. In a task
-- of the client's scheduler, send yields until its transfer completes and sleep yields
-- to a scheduler timer; anywhere else both go to the previous (blocking) transport.
--
--   transport.new(sched, inner) -> transport { send, sleep, now, close, wait, notify, pcall }
--   transport.is(v) -> bool ; transport.pcall(f, ...) ; transport.task_of[co] -> task
--   transport.blocked_for(body, headers [, now]) -> KT-CT-1199 wait in s | nil
--   transport.cancelled_error([message]) -> CANCELLED error (default "task cancelled")
--
-- Invariants:
--  * a send holds one of the scheduler's concurrency slots from m:add until its
--    completion or cancellation, whichever comes first, and releases it exactly once;
--  * a GraphQL 200 whose errors carry KT-CT-1199 sets sched.blocked_until (the latest
--    renewal wins); while it lies ahead every task's GraphQL send waits for it, or
--    fails at once with RATE_LIMITED (graphql_code KT-CT-1199, sent = false) when the
--    wait exceeds the client's max_retry_time; REST is never held back;
--  * close() detaches octopus.nvim (sched.nvim) first, so its uv handles close before
--    curl's sockets do, then shuts the scheduler down;
--  * wait/notify are plain functions (auth.lua calls transport.wait(inflight)), bound
--    to this scheduler; a method call works too.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"

local type, ipairs, pairs, pcall, error, setmetatable, getmetatable, select, rawget =
  type, ipairs, pairs, pcall, error, setmetatable, getmetatable, select, rawget
local remove, ceil, floor, max, os_time = table.remove, math.ceil, math.floor, math.max, os.time

local M = {}
M.BLOCK_DEFAULT = 60  -- seconds of KT-CT-1199 backoff when the server names none

local cresume, cyield, crunning, cstatus, ccreate =
  coroutine.resume, coroutine.yield, coroutine.running, coroutine.status, coroutine.create
local unpack = table.unpack or unpack
local function pack(...) return { n = select("#", ...), ... } end

-- coroutine -> its task: a task's own coroutine, and those M.pcall runs inside it
M.task_of = setmetatable({}, { __mode = "k" })
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

local function is_graphql(self, url)
  return url == self.client.graphql_url
end

-- a KT-CT-1199 body -> seconds until the allowance renews (or nil: not 1199), by
-- graphql/init.lua's rule: extensions.retryAfter (s), else extensions.ttl (a Unix time)
-- minus now, else the Retry-After header, else BLOCK_DEFAULT
function M.blocked_for(body, headers, now)
  if type(body) ~= "string" or not body:find("KT-CT-1199", 1, true) then return nil end
  local ok, doc = pcall(core.json.decode, body)
  local after, found
  if ok and type(doc) == "table" and type(doc.errors) == "table" then
    for _, e in ipairs(doc.errors) do
      local ext = type(e) == "table" and e.extensions
      if type(ext) == "table" and ext.errorCode == "KT-CT-1199" then
        found = true
        local ra = errors.retry_after(ext.retryAfter)
        if not ra and type(ext.ttl) == "number" and ext.ttl == ext.ttl then
          ra = max(0, floor(ext.ttl - (now or os_time())))
        end
        if ra and (not after or ra > after) then after = ra end  -- the latest renewal
      end
    end
  end
  if not found then return nil end
  return after or errors.retry_after(headers and headers["retry-after"], now) or M.BLOCK_DEFAULT
end
local blocked_for = M.blocked_for

-- send in a task: shared 1199 backoff, semaphore, m:add, yield for the completion
local function send(self, task, req)
  if task.cancelling then error(task.cancelling, 0) end
  if is_graphql(self, req.url) and self.blocked_until then
    local left = self.blocked_until - self.multi:now()
    if left > 0 then
      if left > self.client.max_retry_time then
        return nil, errors.new { code = "RATE_LIMITED", kind = "rate_limit", retryable = true, sent = false,
          graphql_code = "KT-CT-1199", retry_after = ceil(left),
          message = ("the GraphQL points allowance is spent (another request was refused):" ..
                     " retry after %d s"):format(ceil(left)) }
      end
      sleep(self, task, left)
    end
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
  if c.status == 200 and is_graphql(self, req.url) then
    local after = blocked_for(c.body, c.headers)
    if after then
      local untl = self.multi:now() + after
      if not self.blocked_until or untl > self.blocked_until then self.blocked_until = untl end
    end
  end
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

function Transport:now() return self.sched.multi:now() end

function Transport:close()
  local host = self.sched.nvim  -- octopus.nvim: its uv handles go before curl's sockets
  if host then host:detach() end
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
  return setmetatable({ sched = sched, inner = inner, wait = wait, notify = notify, pcall = M.pcall },
    Transport)
end

return M
