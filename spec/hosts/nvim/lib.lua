-- spec/hosts/nvim/lib.lua: what the plugin scenarios observe inside Neovim, without
-- blocking the editor (everything waits on editor timers, never on vim.wait):
--   lib.notes                    every vim.notify { msg, level } since load
--   lib.floats() -> { {win, lines}, ... } the floating windows open now
--   lib.wait_for(pred, then_fn)  checks pred every 20 ms (main loop); then_fn() once true
--   lib.ticker() -> t            an editor timer (timer_start, 10 ms); t.ticks, t.stop()
--   lib.finish(result)           writes result (+ notes) as JSON to $OCTOPUS_OUT, quits
--   lib.deadline(ms)             finish({ error = "deadline" }) if still running then
local M = { notes = {} }
local api = vim.api

local orig_notify = vim.notify
vim.notify = function(msg, level, opts)
  M.notes[#M.notes + 1] = { msg = tostring(msg), level = level }
  return orig_notify(msg, level, opts)
end

local finished = false
function M.finish(result)
  if finished then return end
  finished = true
  result.notes = M.notes
  local f = assert(io.open(assert(os.getenv("OCTOPUS_OUT")), "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end

function M.deadline(ms)
  vim.defer_fn(function() M.finish({ error = "deadline: the scenario did not finish in " .. ms .. " ms" }) end, ms)
end

function M.floats()
  local out = {}
  for _, w in ipairs(api.nvim_list_wins()) do
    if api.nvim_win_get_config(w).relative ~= "" then
      out[#out + 1] = { win = w, lines = api.nvim_buf_get_lines(api.nvim_win_get_buf(w), 0, -1, false) }
    end
  end
  return out
end

function M.wait_for(pred, then_fn)
  local timer = vim.fn.timer_start(20, function(id)
    if finished then vim.fn.timer_stop(id) return end
    local ok, yes = pcall(pred)
    if not ok then vim.fn.timer_stop(id) return M.finish({ error = "wait_for: " .. tostring(yes) }) end
    if yes then
      vim.fn.timer_stop(id)
      local ok2, err = pcall(then_fn)
      if not ok2 then M.finish({ error = "after wait_for: " .. tostring(err) }) end
    end
  end, { ["repeat"] = -1 })
  return timer
end

-- the notes at a level since index `from` (vim.log.levels.X)
function M.notes_at(level, from)
  local out = {}
  for i = (from or 0) + 1, #M.notes do
    if M.notes[i].level == level then out[#out + 1] = M.notes[i].msg end
  end
  return out
end

function M.ticker()
  local t = { ticks = 0 }
  t.id = vim.fn.timer_start(10, function() t.ticks = t.ticks + 1 end, { ["repeat"] = -1 })
  function t.stop() vim.fn.timer_stop(t.id) end
  return t
end

return M
