-- octopus.pipeline.private: what a client knows but never shows. Credentials, the
-- Basic header, tokens and the log hook live here, in a weak table keyed by the
-- client, never on the client object (so tostring, inspection and serialising a
-- client cannot leak them). Every string registered with add_secret is scrubbed
-- from error messages and URLs.
--
--   private.of(client) -> state | nil      private.init(client, state)
--   private.add_secret(client, s)           (strings shorter than 4 bytes are ignored)
--   private.remove_secret(client, s)
local type, setmetatable = type, setmetatable

local M = {}
local states = setmetatable({}, { __mode = "k" })

function M.init(client, state)
  state.secrets = state.secrets or {}
  states[client] = state
  return state
end

function M.of(client) return states[client] end

function M.add_secret(client, s)
  local p = states[client]
  if p and type(s) == "string" and #s >= 4 then p.secrets[#p.secrets + 1] = s end
end

-- remove_secret(client, s): forget one registration of s (a token two renewals old), so
-- the list stays bounded however long the client lives
function M.remove_secret(client, s)
  local p = states[client]
  if not p or s == nil then return end
  local list = p.secrets
  for i = #list, 1, -1 do
    if list[i] == s then table.remove(list, i) return end
  end
end

return M
