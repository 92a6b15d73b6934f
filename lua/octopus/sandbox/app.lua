-- octopus.sandbox.app: the Kraken-compatible sandbox app (Lua 5.4).
--
--   local handler, info = require("octopus.sandbox.app").new(opts)
--   opts: seed = 1, access_ttl = 3600, refresh_ttl = 604800, points = 50000, max_depth,
--         now = function() -> epoch, urls = { http, https } (from the launcher)
--   info.credentials = { email, password, api_key, accounts = {...}, organization_secret_key,
--                        pre_signed_key }
--
-- Dispatch order: /_sandbox/* control routes (loopback only, never faulted, not counted),
-- then the request is counted in stats.requests["METHOD /path"], then the oldest matching
-- fault applies, then /v1/graphql/ (octopus.sandbox.graphql_api, loaded lazily: 503 when
-- absent) or the REST routes (octopus.sandbox.rest).
--
-- The state shared with the endpoints: { ds, opts, stats = { requests = {}, operations = {} },
-- faults, reset_hooks = { function() ... end } }. POST /_sandbox/reset clears stats and
-- faults in place and calls every reset hook (the rate limiter registers one).
local data = require "octopus.sandbox.data"
local faults = require "octopus.sandbox.faults"
local json_reply = require "octopus.sandbox.json_reply"
local rest = require "octopus.sandbox.rest"

local json, reply, detail = json_reply.json, json_reply.reply, json_reply.detail

local M = {}

local DEFAULTS = { seed = 1, access_ttl = 3600, refresh_ttl = 604800, points = 50000,
  max_depth = 12 }

local function clear(t) for k in pairs(t) do t[k] = nil end end

-- /_sandbox/* (except shutdown, which the engine answers)
local function control(state, req)
  local m, p = req.method, req.path
  if p == "/_sandbox/faults" or p == "/_sandbox/faults/" then
    if m == "POST" then
      local body, err = json_reply.json_body(req)
      if not body then return err end
      local id, msg = state.faults:add(body)
      if not id then return detail(400, msg) end
      return reply(201, { id = id })
    elseif m == "DELETE" then
      return reply(200, { deleted = state.faults:clear() })
    elseif m == "GET" then
      return reply(200, { faults = state.faults:list() })
    end
    return detail(405, 'Method "' .. m .. '" not allowed.')
  elseif p == "/_sandbox/stats" or p == "/_sandbox/stats/" then
    return reply(200, { requests = json.object(state.stats.requests),
      operations = json.object(state.stats.operations) })
  elseif (p == "/_sandbox/clock" or p == "/_sandbox/clock/") and m == "POST" then
    -- {"advance": s}: the sandbox's clock jumps ahead (token expiry, the points window),
    -- so specs with a fake client clock move both without sleeping.
    -- {"at": t}: it shows Unix time t and stays there (until the next reset), so a spec's
    -- fake client clock and the sandbox's cannot drift apart on a loaded machine.
    local body, err = json_reply.json_body(req)
    if not body then return err end
    if body.at ~= nil then
      local t = tonumber(body.at)
      if not t or t < 0 or t ~= t or t == math.huge then return detail(400, "at must be a Unix time >= 0") end
      state.frozen_at, state.clock_offset = t, 0
      return reply(200, { now = state.opts.now() })
    end
    local s = tonumber(body.advance)
    if not s or s < 0 or s ~= s then return detail(400, "advance must be a number of seconds >= 0") end
    state.clock_offset = state.clock_offset + s
    return reply(200, { now = state.opts.now() })
  elseif (p == "/_sandbox/reset" or p == "/_sandbox/reset/") and m == "POST" then
    state.clock_offset, state.frozen_at = 0, nil
    clear(state.stats.requests)
    clear(state.stats.operations)
    state.faults:clear()
    for _, hook in ipairs(state.reset_hooks) do hook() end
    return reply(200, { reset = true })
  end
  return detail(404, "Not found.")
end

-- The GraphQL endpoint, built on first use; nil + message when it cannot load.
local function graphql(state)
  if state.gapi == nil then
    local ok, mod = pcall(require, "octopus.sandbox.graphql_api")
    if ok and type(mod) == "table" then
      local ok2, api = pcall(mod.new, state)
      if ok2 then state.gapi = api else state.gapi, state.gapi_error = false, tostring(api) end
    else
      state.gapi, state.gapi_error = false, tostring(mod)
    end
    if state.gapi_error and state.opts.log then state.opts.log("graphql: " .. state.gapi_error) end
  end
  return state.gapi or nil
end

local GRAPHQL_PATH = "/v1/graphql/"

local function serve(state, req, flags)
  if req.path == GRAPHQL_PATH then
    local api = graphql(state)
    if not api then return detail(503, "The GraphQL endpoint is not available in this sandbox.") end
    return api.handle(req, flags or {})
  end
  return rest.handle(state, req)
end

function M.new(opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = tonumber(v) or v end
  local base_now = type(o.now) == "function" and o.now or os.time
  local state
  o.now = function() return (state.frozen_at or base_now()) + state.clock_offset end   -- POST /_sandbox/clock
  local ds = data.new{ seed = o.seed, now = o.now }
  state = { ds = ds, opts = o, stats = { requests = {}, operations = {} },
    faults = faults.new(), reset_hooks = {}, clock_offset = 0 }

  local function handler(req)
    if req.path:sub(1, 10) == "/_sandbox/" then
      if not (req.remote or "127."):match("^127%.") then
        return detail(403, "The sandbox control routes answer loopback clients only.")
      end
      return control(state, req)
    end
    local key = req.method .. " " .. req.path
    state.stats.requests[key] = (state.stats.requests[key] or 0) + 1
    local op
    if req.path == GRAPHQL_PATH and #state.faults.items > 0 then
      local api = graphql(state)
      op = api and api.operation_name(req) or nil
    end
    local action = state.faults:take(req.method, req.path, op)
    if action then
      return faults.respond(action, function(flags) return serve(state, req, flags) end, o.now())
    end
    return serve(state, req, nil)
  end

  local u = ds.users[1]
  local psk = next(ds.pre_signed_keys)
  local info = { credentials = { email = u.email, password = u.password, api_key = u.api_key,
    accounts = json.array({ table.unpack(u.accounts) }),
    organization_secret_key = ds.organizations[1].secret_key, pre_signed_key = psk } }
  return handler, info, state
end

return M
