-- octopus.page: lazy iterators over paginated results.
--
-- page.rest(client, req) walks a DRF list ({count, next, previous, results}):
-- nothing is fetched until the first item is asked for; each page is fetched
-- through client:request (so retries, auth and errors are the pipeline's) and
-- `next` links are followed as absolute URLs, which the pipeline accepts only
-- on the client's own origin. Items come out in server order, each exactly once.
--
--   it:next()   -> item | nil (end) | nil, err   (after an error, next() tries the same page again)
--   for item in it do ... end                    (an error mid-iteration RAISES the error object)
--   it:all()    -> json.array of the remaining items | nil, err
--   it:pages()  -> iterator over whole pages (the `results` arrays; raises on error)
--   it.count    the server's total count, known after the first page
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"

local json = core.json
local type, error, setmetatable, pairs = type, error, setmetatable, pairs

local M = {}

---A lazy iterator over a DRF list (REST): `for item in it`, it:next(), it:all(), it:pages().
---@class octopus.Pages: octopus.Iterator
---@field count? integer the server's total count, known after the first page
---@field pages_fetched integer
local Rest = { __name = "octopus.Pages" }
Rest.__index = Rest

---@param client octopus.Client
---@param req octopus.Request the first page's request (next links are followed on the same origin)
---@return octopus.Pages items nothing is fetched before the first item is asked for
function M.rest(client, req)
  return setmetatable({ client = client, pending = req, items = nil, pos = 1, done = false,
                        count = nil, pages_fetched = 0 }, Rest)
end

-- fetch the pending page -> results array | nil, err.
function Rest:_fetch()
  local req = self.pending
  local data, err = self.client:request(req)
  if data == nil then return nil, err end
  local results = type(data) == "table" and data.results
  if type(results) ~= "table" then
    return nil, errors.new {
      code = "DECODE", kind = "decode", retryable = false, method = req.method or "GET",
      message = "expected a paginated list ({count, next, results}) in the response",
    }
  end
  if type(data.count) == "number" then self.count = data.count end
  self.pages_fetched = self.pages_fetched + 1
  if type(data.next) == "string" and data.next ~= "" then
    self.pending = { method = "GET", url = data.next, auth = req.auth, headers = req.headers }
  else
    self.pending, self.done = nil, true
  end
  return results
end

---------------------------------------------------------------------------
-- The iterator interface shared by every lazy sequence (REST pages, Relay
-- connections, readings windows). M.iterator(class) gives `class` next, __call,
-- all and pages; its objects keep `items` (the current batch), `pos` (the next
-- index in it) and `done`, and fetch the next batch with self:_fetch() ->
-- array | nil, err (setting `done` once there is nothing after it).
---------------------------------------------------------------------------
---The interface of every lazy sequence (REST pages, Relay connections, readings).
---`for item in it do ... end` raises the error object on a failure.
---@class octopus.Iterator
---@field done boolean nothing left to fetch
---@overload fun(): any
local Iterator = {}

---After an error, next() asks for the same batch again.
---@return any|nil item the next item, nil at the end
---@return octopus.Error|nil err
function Iterator:next()
  while true do
    local items = self.items
    if items and self.pos <= #items then
      local v = items[self.pos]
      self.pos = self.pos + 1
      return v
    end
    if self.done then return nil end
    local batch, err = self:_fetch()
    if not batch then return nil, err end
    self.items, self.pos = batch, 1
  end
end

-- Generic-for protocol: `for item in it do`. Raises the error object on failure.
function Iterator:__call()
  local v, err = self:next()
  if v == nil and err ~= nil then error(err, 0) end
  return v
end

---@return table|nil items a json.array of the remaining items
---@return octopus.Error|nil err
function Iterator:all()
  local out, n = json.array {}, 0
  while true do
    local v, err = self:next()
    if v == nil then
      if err ~= nil then return nil, err end
      return out
    end
    n = n + 1
    out[n] = v
  end
end

-- pages(): the rest of the current batch first (if partly consumed), then each further batch.
---The rest of the current batch first, then each further batch (raises on error).
---@return fun(): table? pages an iterator over whole batches (arrays)
function Iterator:pages()
  return function()
    local items = self.items
    if items and self.pos <= #items then
      local rest = json.array {}
      for i = self.pos, #items do rest[#rest + 1] = items[i] end
      self.pos = #items + 1
      return rest
    end
    if self.done then return nil end
    local batch, err = self:_fetch()
    if not batch then error(err, 0) end
    self.items, self.pos = batch, #batch + 1
    return batch
  end
end

---Gives class next, __call, all and pages (its objects keep items, pos, done and have _fetch).
---@generic T: table
---@param class T
---@return T class
function M.iterator(class)
  for k, f in pairs(Iterator) do class[k] = f end
  return class
end

M.iterator(Rest)

---@return string
function Rest:__tostring() return "octopus.Pages" end

-- GraphQL Relay connections (octopus.graphql.relay) and readings (octopus.graphql.readings)
-- use the same M.iterator interface.

return M
