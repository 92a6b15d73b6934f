-- octopus.graphql.relay: a lazy iterator over a GraphQL Relay connection
-- (first/after, pageInfo { hasNextPage endCursor }, edges { node }).
--
--   relay.new(fetch, variables, path [, { page_size = 100 }]) -> it
--     fetch(vars) -> data | nil, err   (one GraphQL call; octopus.graphql supplies it)
--     path: keys from data to the connection ({ "account", "bills" })
--   it:next()  -> node | nil (end) | nil, err   (after an error, next() asks for the same page again)
--   for node in it do ... end                   (an error RAISES the error object)
--   it:all()   -> json.array of the remaining nodes | nil, err
--   it:pages() -> iterator over each page's nodes (raises on error)
--
-- Invariants: `first` is never above 100 (the API's cap; KT-CT-1201 without it); each
-- page asks `after` = the previous page's endCursor; a page that says hasNextPage but
-- gives no endCursor (or repeats one) ends the walk with a DECODE error, never a loop.
local usage = require "octopus.pipeline.usage"
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local page = require "octopus.pipeline.page"

local json = core.json
local null = json.null
local type, pairs, ipairs, setmetatable, tostring = type, pairs, ipairs, setmetatable, tostring
local floor = math.floor

local M = {}
M.MAX_PAGE = 100

---A lazy iterator over a GraphQL Relay connection's nodes (client:connection).
---@class octopus.Connection: octopus.Iterator
---@field pages_fetched integer
local Relay = { __name = "octopus.Connection" }
Relay.__index = Relay

---@param fetch fun(vars: table): table?, octopus.Error? one GraphQL call
---@param variables table the document's variables (first/after are set per page)
---@param path string[] keys from data to the connection ({ "account", "bills" })
---@param opts? { page_size?: integer } 1..100 (default 100; variables.first wins when valid)
---@return octopus.Connection nodes
function M.new(fetch, variables, path, opts)
  opts = opts or {}
  local size = opts.page_size or M.MAX_PAGE
  if type(size) ~= "number" or size < 1 or size > M.MAX_PAGE or size ~= floor(size) then
    usage.raise("client:connection: 'page_size' must be an integer from 1 to " .. M.MAX_PAGE)
  end
  local f = variables.first
  if type(f) == "number" and f >= 1 and f <= M.MAX_PAGE and f == floor(f) then size = f end
  return setmetatable({ fetch = fetch, variables = variables, path = path, size = size,
    after = variables.after, items = nil, pos = 1, done = false, cursors = {}, pages_fetched = 0 }, Relay)
end

local function bad(msg)
  return errors.new { code = "DECODE", kind = "decode", retryable = false, message = msg }
end

function Relay:_fetch()
  local vars = {}
  for k, v in pairs(self.variables) do vars[k] = v end
  vars.first, vars.after = self.size, self.after
  local data, err = self.fetch(vars)
  if data == nil then return nil, err end
  local conn = data
  for _, k in ipairs(self.path) do
    conn = type(conn) == "table" and conn[k] or nil
  end
  if conn == nil or conn == null then
    return nil, bad("no connection at '" .. table.concat(self.path, ".") .. "' in the response")
  end
  if type(conn) ~= "table" or type(conn.edges) ~= "table" or type(conn.pageInfo) ~= "table" then
    return nil, bad("'" .. table.concat(self.path, ".") .. "' is not a Relay connection (edges, pageInfo)")
  end
  local nodes = json.array {}
  for _, edge in ipairs(conn.edges) do
    if type(edge) == "table" and edge.node ~= nil then nodes[#nodes + 1] = edge.node end
  end
  self.pages_fetched = self.pages_fetched + 1
  local info = conn.pageInfo
  if info.hasNextPage == true then
    local c = info.endCursor
    if type(c) ~= "string" or c == "" or self.cursors[c] then
      self.done = true
      return nil, bad("the connection says it has a next page but gives no new endCursor (" .. tostring(c) .. ")")
    end
    self.cursors[c] = true
    self.after = c
  else
    self.done = true
  end
  return nodes
end

page.iterator(Relay)

---@return string
function Relay:__tostring() return "octopus.Connection" end

return M
