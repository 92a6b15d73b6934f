-- octopus.pipeline.usage: programmer errors raised at the caller's line.
--
-- usage.raise(message) raises `message` positioned at the first Lua frame outside
-- this library: the user's line that called the public function, however deep
-- inside the library the check runs and whatever tail calls came between (a
-- hand-counted error(msg, 3) goes wrong as soon as a call is added or removed).
-- C frames (pcall, metamethods) and 5.1's "(tail call)" frames are skipped too, so pcall(client.login, c, x)
-- still names the line holding the pcall.
local error, getinfo = error, debug.getinfo

local M = {}

-- this file is <root>/octopus/pipeline/usage.lua; every library module is under <root>/octopus/
local ROOT = (getinfo(1, "S").source:match("^@(.*)octopus[/\\]pipeline[/\\]usage%.lua$") or "") .. "octopus"

local function inside(source)
  return source:sub(1, 1) == "@" and source:sub(2, #ROOT + 2) == ROOT .. "/"
end

-- level(start) -> the error level of the first frame above `start` that is user Lua code
function M.level(start)
  local level = (start or 1) + 1
  while true do
    local info = getinfo(level + 1, "S")
    if not info then return (start or 1) + 1 end
    if info.what ~= "C" and info.what ~= "tail" and not inside(info.source) then return level end
    level = level + 1
  end
end

function M.raise(message)
  error(message, M.level(2))
end

-- usage.check(ok, message): raise(message) unless ok
function M.check(ok, message)
  if not ok then error(message, M.level(2)) end
  return ok
end

return M
