-- octopus.pipeline.random: the library's own pseudo-random numbers (backoff jitter).
--
-- Why not math.random: on Lua 5.1/LuaJIT it is unseeded (every process draws the
-- same sequence, so clients retry in lockstep), and seeding it would change the
-- user's own sequence. This is Park and Miller's minimal standard generator
-- (x' = 16807 x mod 2^31-1), exact in doubles on every Lua version, seeded once per
-- process from core.random_bytes when the core has it, else from the clock and
-- an address.
local core = require "octopus.core"

local type, floor, tostring, tonumber, byte = type, math.floor, tostring, tonumber, string.byte

local M = {}
local MOD = 2147483647

local function initial_seed()
  local s = 0
  local bytes = core.random_bytes and core.random_bytes(4)
  if type(bytes) == "string" and #bytes == 4 then
    for i = 1, 4 do s = s * 256 + byte(bytes, i) end
  else
    local addr = tonumber(tostring({}):match("0x(%x+)") or "0", 16) or 0
    s = floor(core.wall() * 1e6) + addr
  end
  s = s % (MOD - 1) + 1        -- 1 .. MOD-1: never the fixed point 0
  return s
end

local state = initial_seed()

-- random() -> a float in [0, 1)
function M.random()
  state = (state * 16807) % MOD
  return (state - 1) / (MOD - 1)
end

-- seed(n): a fixed sequence (specs)
function M.seed(n) state = floor(n) % (MOD - 1) + 1 end

return M
