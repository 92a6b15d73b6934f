-- octopus.sandbox.faults: the sandbox's fault-injection table and how an action applies.
--
--   local f = faults.new(); f:add(spec) -> id | nil, message; f:clear() -> n;
--   f:take(method, path, operation) -> action | nil; f:list()
--   faults.respond(action, answer, now) -> res      answer(flags) -> the normal res
--
-- Invariants: a fault applies to the next `times` matching requests, oldest fault first,
-- then disappears; a fault never leaks credentials (its bodies are fixed texts).
local server = require "octopus.sandbox.server"
local json_reply = require "octopus.sandbox.json_reply"

local fmt = string.format
local json = json_reply.json
local JSON_TYPE = "application/json"
local M = {}

---------------------------------------------------------------------------
-- the fault table

local ACTION_KEYS = { delay = "number", status = "number", body = "string", headers = "table",
  html403 = "boolean", retry_after = "number", retry_after_date = "number", drop = "string",
  expire_token = "boolean" }

local Faults = {}
Faults.__index = Faults

function M.new() return setmetatable({ items = {}, next_id = 1 }, Faults) end

-- Validates and stores a fault spec {match = {route=|operation=}, times = N, action = {...}}.
function Faults:add(spec)
  if type(spec) ~= "table" then return nil, "fault must be a JSON object" end
  local match, action = spec.match, spec.action
  if type(match) ~= "table" then
    return nil, "match is required: {route = \"GET /v1/products/\"} or {operation = \"name\"}"
  end
  local m = {}
  if type(match.route) == "string" then
    m.method, m.path = match.route:match("^(%S+)%s+(/%S*)$")
    if not m.method then return nil, "match.route must be \"METHOD /path\" (path may end in *)" end
    m.method = m.method:upper()
    if m.path:sub(-1) == "*" then m.prefix = m.path:sub(1, -2) end
  elseif type(match.operation) == "string" then
    m.operation = match.operation
  else
    return nil, "match needs a route or an operation"
  end
  if type(action) ~= "table" then return nil, "action is required" end
  for k, v in pairs(action) do
    if not ACTION_KEYS[k] then return nil, "unknown action key: " .. tostring(k) end
    if type(v) ~= ACTION_KEYS[k] then return nil, fmt("action.%s must be a %s", k, ACTION_KEYS[k]) end
  end
  if action.drop and action.drop ~= "before_body" and action.drop ~= "mid_body" then
    return nil, "action.drop must be before_body or mid_body"
  end
  if action.body and not action.status and action.body ~= "truncated" and action.body ~= "malformed" then
    return nil, "action.body without status must be truncated or malformed"
  end
  if action.status and (action.status < 100 or action.status > 599) then
    return nil, "action.status must be an HTTP status"
  end
  local times = spec.times == nil and 1 or spec.times
  if type(times) ~= "number" or times < 1 or times % 1 ~= 0 then
    return nil, "times must be a positive integer"
  end
  local id = self.next_id
  self.next_id = id + 1
  self.items[#self.items + 1] = { id = id, match = m, times = math.tointeger(times),
    action = action, spec = spec }
  return id
end

function Faults:clear()
  local n = #self.items
  self.items = {}
  return n
end

function Faults:list()
  local out = {}
  for _, f in ipairs(self.items) do
    out[#out + 1] = { id = f.id, times = f.times, match = f.spec.match, action = f.spec.action }
  end
  return json.array(out)
end

local function matches(m, method, path, operation)
  if m.operation then return operation ~= nil and m.operation == operation end
  if m.method ~= "*" and m.method ~= method then return false end
  if m.prefix then return path:sub(1, #m.prefix) == m.prefix end
  return path == m.path
end

-- The action of the oldest fault matching this request (consuming one of its times).
function Faults:take(method, path, operation)
  for i, f in ipairs(self.items) do
    if matches(f.match, method, path, operation) then
      f.times = f.times - 1
      if f.times <= 0 then table.remove(self.items, i) end
      return f.action
    end
  end
end

---------------------------------------------------------------------------
-- applying an action

local REASONS = { [429] = "Request was throttled.", [500] = "Internal server error.",
  [502] = "Bad gateway.", [503] = "Service temporarily unavailable.", [504] = "Gateway timeout." }

local HTML403 = [[<!DOCTYPE html>
<html><head><title>403 Forbidden</title></head>
<body><h1>403 Forbidden</h1><p>Request blocked by the CDN. Reference #18.7f3a.1764000000</p></body>
</html>
]]

local function http_date(t) return os.date("!%a, %d %b %Y %H:%M:%S GMT", t) end

-- The response for a request under a fault action; answer(flags) produces the normal one.
function M.respond(action, answer, now)
  now = now or os.time()
  if action.delay and action.delay > 0 then server.sleep(action.delay) end
  if action.drop == "before_body" then return { status = 200, drop = "before_body" } end
  if action.html403 then
    return { status = 403, headers = { ["Content-Type"] = "text/html; charset=utf-8" }, body = HTML403 }
  end
  if action.status then
    local s = math.tointeger(action.status)
    local headers = {}
    local ra = action.retry_after and math.tointeger(math.ceil(action.retry_after))
    if ra then headers["Retry-After"] = tostring(ra) end
    if action.retry_after_date then
      headers["Retry-After"] = http_date(now + math.ceil(action.retry_after_date))
    end
    local res
    if action.body then
      local first = action.body:match("^%s*(.)")
      headers["Content-Type"] = (first == "{" or first == "[") and JSON_TYPE or "text/plain; charset=utf-8"
      res = { status = s, headers = headers, body = action.body }
    else
      local msg = REASONS[s] or "Injected fault."
      if s == 429 and (ra or action.retry_after_date) then
        msg = fmt("Request was throttled. Expected available in %d seconds.",
          ra or math.ceil(action.retry_after_date))
      end
      res = json_reply.detail(s, msg, headers)
    end
    for k, v in pairs(action.headers or {}) do res.headers[k] = v end
    return res
  end
  if action.body == "malformed" then
    return { status = 200, headers = { ["Content-Type"] = JSON_TYPE }, body = '{"detail": nope}' }
  end
  local res = answer({ expire_token = action.expire_token or nil })
  if action.drop == "mid_body" then res.drop = "mid_body" end
  if action.body == "truncated" and type(res.body) == "string" then
    res.body = res.body:sub(1, #res.body // 2)
  end
  for k, v in pairs(action.headers or {}) do
    res.headers = res.headers or {}
    res.headers[k] = v
  end
  return res
end

return M
