-- octopus.pipeline.transport: the blocking transport, one core.session per client
-- (keep-alive), created on first use. The transport seam (docs/INTERNALS.md):
--
--   transport:send{ method, url, headers, body, timeout, fresh_connect } ->
--       status, headers, body, info | nil, err (core shapes)
--   transport:sleep(seconds)          backoff waits (through the client's clock)
--   transport:close()                 optional
--   transport.block(url, seconds, err) optional: sends to url wait (or fail at once
--       with a copy of err) until `seconds` from now; the async transport has it
--   transport.wait / notify / pcall   optional: token single flight (async)
--
-- The async layer swaps client.transport for one with the same methods that yields
-- inside tasks.
local core = require "octopus.core"

local setmetatable = setmetatable

local M = {}

local Blocking = { __name = "octopus.BlockingTransport" }
Blocking.__index = Blocking

-- new(session_opts, clock)
function M.new(session_opts, clock)
  return setmetatable({ session_opts = session_opts, clock = clock }, Blocking)
end

function Blocking:send(req)
  if not self.session then self.session = core.session(self.session_opts) end
  return self.session:request(req)
end

function Blocking:sleep(seconds)
  if seconds > 0 then self.clock.sleep(seconds) end
end

function Blocking:close()
  if self.session then self.session:close(); self.session = nil end
end

return M
