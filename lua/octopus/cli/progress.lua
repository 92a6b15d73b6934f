-- octopus.cli.progress: a one-line progress bar on stderr for long work (readings
-- windows, sync, compare): "label [#####-----] 3/10 30% ETA 4s". Drawn only when stderr
-- is a terminal (so pipes and --json stay clean) and erased when the work ends.
--
--   local p = progress.new("readings windows")  -- enabled = stderr is a terminal
--   p:update(done, total) ... p:done()
local format = require "octopus.cli.format"

local floor, rep, fmt = math.floor, string.rep, string.format

local M = {}
local P = {}
P.__index = P

-- opts { out = io.stderr, enabled = bool, width = 24, ascii = bool, clock = os.time }
function M.new(label, opts)
  opts = opts or {}
  local enabled = opts.enabled
  if enabled == nil then enabled = format.is_tty(2) end
  local ascii = opts.ascii
  if ascii == nil then ascii = not format.utf8_locale() end
  return setmetatable({ label = label, out = opts.out or io.stderr, enabled = enabled,
    width = opts.width or 24, ascii = ascii, clock = opts.clock or os.time,
    started = (opts.clock or os.time)(), drawn = false }, P)
end

local function eta_text(s)
  if s >= 3600 then return fmt("%dh%02dm", floor(s / 3600), floor(s % 3600 / 60)) end
  if s >= 60 then return fmt("%dm%02ds", floor(s / 60), floor(s % 60)) end
  return fmt("%ds", floor(s))
end

-- the line for done/total (exposed for specs)
function P:line(done, total)
  total = (total and total > 0) and total or 1
  if done > total then done = total end
  local filled = floor(done / total * self.width + 0.5)
  local on, off = "#", "-"
  if not self.ascii then on, off = "█", "░" end
  local s = fmt("%s [%s%s] %d/%d %3d%%", self.label, rep(on, filled), rep(off, self.width - filled),
    done, total, floor(done / total * 100))
  local elapsed = self.clock() - self.started
  if done > 0 and done < total and elapsed > 0 then
    s = s .. " ETA " .. eta_text(elapsed / done * (total - done))
  end
  return s
end

function P:update(done, total)
  if not self.enabled then return end
  self.out:write("\r", self:line(done, total), "\27[K")
  self.out:flush()
  self.drawn = true
end

-- erases the line; idempotent
function P:done()
  if self.enabled and self.drawn then
    self.out:write("\r\27[K")
    self.out:flush()
  end
  self.drawn = false
end

-- a callback for client:readings{ progress = } and the like
function P:callback()
  return function(done, total) self:update(done, total) end
end

return M
