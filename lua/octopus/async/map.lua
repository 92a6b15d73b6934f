-- octopus.async.map: client:map's engine (octopus.async checks the arguments).
--
--   map.run(sched, items, fn, width) -> results, errs | nil
--
-- fn(item, i) runs in its own task of sched, at most `width` at once (and the client's
-- concurrency limit); results[i] = fn's first result; errs[i] = its error (raised, or
-- nil, err). Blocks outside a task (driving sched:poll); yields inside one.
--
-- Invariants:
--  * no item starts once the map is cancelled (the calling task ended, e.g. was
--    cancelled: its live items are cancelled from a snapshot, never by walking
--    live_items while it changes) or the client is closed;
--  * outside a task the loop ends when the client closes: items that did not finish
--    get CANCELLED ("the client was closed") errors; inside one the closing cancels the
--    calling task, which cancels the map.
local transport = require "octopus.async.transport"

local ipairs, pairs = ipairs, pairs
local remove = table.remove

local M = {}

function M.run(sched, items, fn, width)
  local n, results, errs, nerr, ended = #items, {}, {}, 0, {}
  local next_i, running = 1, 0
  local me = sched:running_task()
  local all_done, parked, starting, cancelled = n == 0, false, false, false
  local live_items = {}
  local start
  local function on_item_done(task)
    running = running - 1
    live_items[task] = nil
    local i = task.map_index
    ended[i] = true
    if task.status == "ok" then
      results[i] = task.results[1]
      if task.results[1] == nil and task.results[2] ~= nil then errs[i] = task.results[2]; nerr = nerr + 1 end
    else
      errs[i], nerr = task.err, nerr + 1
    end
    start()
    if running == 0 and next_i > n then
      all_done = true
      if parked then sched:wake(me) end
    end
  end
  function start()  -- not reentrant: an item ending inside it frees a slot for its loop
    if starting then return end
    starting = true
    while running < width and next_i <= n and not cancelled and not sched.closed do
      local i = next_i
      next_i = next_i + 1
      running = running + 1
      local task = sched:new_task(function() return fn(items[i], i) end)
      task.map_index = i
      task.internal[1] = on_item_done
      live_items[task] = true
      sched:resume(task, { n = 0 })
    end
    starting = false
  end
  start()
  sched.changed()
  if me then
    -- the calling task ended (cancelled) while mapping: cancel the map and its items
    local function drop_items()
      cancelled = true
      local snapshot, cur = {}, sched:running_task()
      for t in pairs(live_items) do snapshot[#snapshot + 1] = t end
      for _, t in ipairs(snapshot) do if t ~= cur then t:cancel() end end
    end
    me.internal[#me.internal + 1] = drop_items
    while not all_done do
      parked = true
      sched:suspend(me)
      parked = false
    end
    remove(me.internal)
  else
    while not all_done and not sched.closed do sched:poll(1000) end
    if not all_done then
      for i = 1, n do
        if not ended[i] then
          errs[i], nerr = transport.cancelled_error("the client was closed"), nerr + 1
        end
      end
    end
  end
  return results, nerr > 0 and errs or nil
end

return M
