-- octopus.sandbox.graphql_api: the sandbox's POST /v1/graphql/ endpoint (Lua 5.4 only).
--
--   local gapi = require("octopus.sandbox.graphql_api").new(state)
--     state = { ds, opts = { access_ttl = 3600, refresh_ttl = 604800, points = 50000,
--               max_depth = 12, now = os.time }, stats = { operations = {} } [, reset_hooks] }
--   gapi.operation_name(req) -> name | nil      (the operation the request would run)
--   gapi.handle(req, flags) -> res               (flags.expire_token: presented token is expired)
-- HTTP: 405 for anything but POST; 400 + {"errors": [...]} for an unparsable JSON body, a
-- missing query or a GraphQL syntax error; otherwise 200 with {data, errors}: data null
-- for validation errors (depth limit KT-CT-1188) and when the points allowance is spent
-- (KT-CT-1199), partial data next to field errors.
-- Tokens: HS256 JWTs signed with a per-instance secret; claims sub, gty, email (users),
-- tokenUse, iss, iat, exp = iat + access_ttl, origIat. Refresh tokens are opaque, kept in
-- memory with an absolute expiry (origIat + refresh_ttl); refreshing returns a new access
-- token and the SAME refresh token with the SAME refreshExpiresIn. Authorization header:
-- "<token>", "JWT <token>" or "Bearer <token>"; ignored by obtainKrakenToken.
-- Invariants: no secret (key, password, token) ever appears in an error message; every
-- request that parses is counted in state.stats.operations[name or "anonymous"].
local gql = require "octopus.sandbox.graphql"
local jwt = require "octopus.sandbox.jwt"
local resolvers = require "octopus.sandbox.resolvers"
local RateLimit = require "octopus.sandbox.ratelimit"
local reply = require("octopus.sandbox.json_reply").reply

local fail = resolvers.fail

local M = {}

M.ISSUER = "https://api.oejp-kraken.energy/v1/graphql/"

local json = require("octopus.core").json

local schema_cache
local function load_schema()
  if schema_cache then return schema_cache end
  local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  local f = assert(io.open(dir .. "/schema.graphql", "rb"))
  local sdl = f:read("a")
  f:close()
  schema_cache = assert(gql.schema(sdl))
  return schema_cache
end
M.schema = load_schema

---------------------------------------------------------------------------
-- tokens

local Tokens = {}
Tokens.__index = Tokens

local function new_tokens(state)
  local seed = tostring(os.time()) .. tostring(os.clock()) .. tostring({}) .. tostring(math.random())
  local self = setmetatable({ state = state, json = json, secret = jwt.sha256("sandbox-jwt:" .. seed),
    refresh = {}, counter = 0, subjects = {} }, Tokens)
  local ds = state.ds
  for i, u in ipairs(ds.users) do
    self.subjects["kraken|account-user:" .. (100000 + i)] =
      { user = u, accounts = u.accounts, key = "user:" .. u.email }
  end
  for i, o in ipairs(ds.organizations or {}) do
    self.subjects["kraken|organisation:" .. (200000 + i)] = { org = o, accounts = o.accounts, key = "org:" .. i }
  end
  return self
end

function Tokens:now() return math.floor(self.state.opts.now()) end

function Tokens:subject_of(principal)
  for sub, p in pairs(self.subjects) do
    if (principal.user and p.user == principal.user) or (principal.org and p.org == principal.org) then return sub end
  end
end

-- Issues an access token for sub; orig = { iat, gty, refresh, refresh_exp } when refreshing.
function Tokens:issue(sub, gty, orig)
  local p = self.subjects[sub]
  local now = self:now()
  local claims = self.json.object{ sub = sub, gty = gty, email = p.user and p.user.email or nil,
    tokenUse = "access", iss = M.ISSUER, iat = now, exp = now + self.state.opts.access_ttl,
    origIat = orig and orig.iat or now }
  local token = jwt.sign(claims, self.secret, self.json.encode)
  local rt, rexp
  if orig then
    rt, rexp = orig.refresh, orig.refresh_exp
  else
    self.counter = self.counter + 1
    rt = jwt.hex(jwt.hmac_sha256(self.secret, "refresh:" .. self.counter .. ":" .. sub .. ":" .. now))
    rexp = now + self.state.opts.refresh_ttl
    self.refresh[rt] = { sub = sub, gty = gty, iat = now, refresh = rt, refresh_exp = rexp }
  end
  return { token = token, payload = claims, refreshToken = rt, refreshExpiresIn = rexp }
end

local function given(v, null) return v ~= nil and v ~= null and v ~= "" end

function Tokens:obtain(input, ctx)
  local ds, null = self.state.ds, ctx.json.null
  local kinds = 0
  for _, k in ipairs{ "APIKey", "organizationSecretKey", "preSignedKey", "refreshToken", "email" } do
    if given(input[k], null) then kinds = kinds + 1 end
  end
  if kinds ~= 1 then
    fail("Invalid data.", "KT-CT-1135", "VALIDATION",
      "Provide exactly one of: email and password, APIKey, organizationSecretKey, preSignedKey, refreshToken.")
  end
  if given(input.email, null) then
    local u = ds.users_by_email and ds.users_by_email[input.email]
    if not u then
      for _, x in ipairs(ds.users) do if x.email == input.email then u = x end end
    end
    if not u or input.password ~= u.password then
      fail("Please make sure the email address and password are correct.", "KT-CT-1138", "VALIDATION")
    end
    return self:issue(self:subject_of{ user = u }, "EMAIL-AND-PASSWORD")
  elseif given(input.APIKey, null) then
    for _, u in ipairs(ds.users) do
      if u.api_key == input.APIKey then return self:issue(self:subject_of{ user = u }, "API-KEY") end
    end
    fail("Please make sure the API key is correct.", "KT-CT-1139", "VALIDATION")
  elseif given(input.organizationSecretKey, null) then
    for _, o in ipairs(ds.organizations or {}) do
      if o.secret_key == input.organizationSecretKey then
        return self:issue(self:subject_of{ org = o }, "ORGANIZATION-SECRET-KEY")
      end
    end
    fail("Please make sure the organization secret key is correct.", "KT-CT-1139", "VALIDATION")
  elseif given(input.preSignedKey, null) then
    local email = ds.pre_signed_keys and ds.pre_signed_keys[input.preSignedKey]
    for _, u in ipairs(ds.users) do
      if email and u.email == email then return self:issue(self:subject_of{ user = u }, "PRE-SIGNED-KEY") end
    end
    fail("Please make sure the pre-signed key is correct.", "KT-CT-1139", "VALIDATION")
  end
  local r = self.refresh[input.refreshToken]
  if not r then fail("Invalid data.", "KT-CT-1135", "VALIDATION", "The refresh token is not valid.") end
  if self:now() >= r.refresh_exp then
    fail("Invalid data.", "KT-CT-1134", "VALIDATION", "The refresh token has expired.")
  end
  return self:issue(r.sub, r.gty, r)
end

-- The principal for an Authorization header value, or nil, code, message, type.
function Tokens:authenticate(header, expire_now)
  if header == nil or header == "" then
    return nil, "KT-CT-1112", "'Authorization' header not provided.", "AUTHORIZATION"
  end
  local token = header:match("^[Jj][Ww][Tt]%s+(%S+)%s*$") or header:match("^[Bb]earer%s+(%S+)%s*$")
    or header:match("^%s*(%S+)%s*$")
  local claims = token and jwt.verify(token, self.secret, self.json.decode)
  local p = claims and self.subjects[claims.sub]
  local exp = claims and tonumber(claims.exp)
  if not p or not exp then
    return nil, "KT-CT-1143", "Invalid data.", "AUTHORIZATION", "The Authorization header is not a valid Kraken token."
  end
  if expire_now or self:now() >= exp then
    return nil, "KT-CT-1124", "Signature of the JWT has expired.", "APPLICATION", "Token has expired."
  end
  return p
end

---------------------------------------------------------------------------
-- the endpoint

local function defaults(opts)
  opts.access_ttl = tonumber(opts.access_ttl) or 3600
  opts.refresh_ttl = tonumber(opts.refresh_ttl) or 604800
  opts.points = tonumber(opts.points) or 50000
  opts.max_depth = tonumber(opts.max_depth) or 12
  opts.now = opts.now or os.time
  return opts
end

function M.new(state)
  state.opts = defaults(state.opts or {})
  state.stats = state.stats or {}
  state.stats.operations = state.stats.operations or {}
  local schema = load_schema()
  local R = resolvers.new()
  local tokens = new_tokens(state)
  local rl = RateLimit.new{ points = state.opts.points, now = state.opts.now }
  state.reset_hooks = state.reset_hooks or {}
  table.insert(state.reset_hooks, function() rl:reset() end)

  local api = { tokens = tokens, ratelimit = rl, schema = schema }

  local function request_error(status, message, locations, extra)
    local e = json.object{ message = message,
      extensions = json.object{ errorType = "VALIDATION", errorDescription = message } }
    if locations then e.locations = json.array(locations) end
    return reply(status, json.object{ errors = json.array{ e } }, extra)
  end

  -- Decodes and parses a request once: { body, doc, op } | nil, res (a ready error response).
  local last_body, last_parsed
  local function parse(req)
    if req.body == last_body and last_parsed then return last_parsed end
    local body = type(req.body) == "string" and req.body ~= "" and json.decode(req.body)
    if type(body) ~= "table" or (getmetatable(body) == json.array_mt) then
      return nil, request_error(400, "Invalid JSON body: expected an object with a \"query\".")
    end
    if type(body.query) ~= "string" or body.query == "" then
      return nil, request_error(400, "Must provide query string.")
    end
    local doc, err = gql.parse(body.query)
    if not doc then
      return nil, request_error(400, err.message, err.locations)
    end
    local vars = body.variables
    if vars ~= nil and vars ~= json.null and (type(vars) ~= "table" or getmetatable(vars) == json.array_mt) then
      return nil, request_error(400, "Variables must be a JSON object.")
    end
    local name = type(body.operationName) == "string" and body.operationName or nil
    local op = gql.operation(doc, name)
    last_body, last_parsed = req.body, { body = body, doc = doc, op = op, name = name }
    return last_parsed
  end

  function api.operation_name(req)
    if req.method ~= "POST" then return nil end
    local p = parse(req)
    if not p then return nil end
    return p.name or (p.op and p.op.name)
  end

  -- Does the operation only read rateLimitInfo (free, allowed while blocked)?
  local function only_rate_info(op)
    for _, sel in ipairs(op.selection_set.selections) do
      if sel.kind ~= "Field" or (sel.name ~= "rateLimitInfo" and sel.name ~= "__typename") then return false end
    end
    return true
  end

  function api.handle(req, flags)
    flags = flags or {}
    if req.method ~= "POST" then
      return request_error(405, "GraphQL requests must be POST requests.", nil, { Allow = "POST" })
    end
    local p, res = parse(req)
    if not p then return res end
    local name = p.name or (p.op and p.op.name) or "anonymous"
    state.stats.operations[name] = (state.stats.operations[name] or 0) + 1

    local errors = gql.validate(schema, p.doc, { max_depth = state.opts.max_depth })
    if #errors > 0 then
      for _, e in ipairs(errors) do
        e.extensions = json.object(e.extensions or {})
        e.extensions.errorType = e.extensions.errorType or "VALIDATION"
        e.extensions.errorDescription = e.extensions.errorDescription or e.message
        if e.locations then json.array(e.locations) end
        json.object(e)
      end
      return reply(200, json.object{ data = json.null, errors = json.array(errors) })
    end

    local now = math.floor(state.opts.now())
    local header = req.headers and req.headers.authorization
    local principal, perr
    local ctx = { ds = state.ds, now = now, json = json, tokens = tokens, rl = rl, req = req }
    function ctx.principal()
      if principal then return principal end
      if not perr then
        local pr, code, msg, etype, desc = tokens:authenticate(header, flags.expire_token)
        if pr then principal = pr; return pr end
        perr = { msg, code, etype, desc }
      end
      fail(perr[1], perr[2], perr[3], perr[4])
    end

    -- the points allowance: charged to an authenticated viewer before execution
    if p.op and p.op.operation == "query" and header and header ~= "" then
      local ok, pr = pcall(ctx.principal)
      if ok and not only_rate_info(p.op) then
        local allowed, info = rl:charge(pr.key, rl:cost(p.doc, p.op))
        if not allowed then
          local e = json.object{ message = "Too many requests.", extensions = json.object{
            errorType = "SERVICE_AVAILABILITY", errorCode = "KT-CT-1199",
            errorDescription = ("The points allowance of %d points per hour is spent; it renews at %d (in %d s).")
              :format(info.limit, info.ttl, math.max(0, info.ttl - now)),
            retryAfter = math.max(0, info.ttl - now), ttl = info.ttl } }
          return reply(200, json.object{ data = json.null, errors = json.array{ e } })
        end
      end
    end

    local result = gql.execute{ schema = schema, document = p.doc, variables = p.body.variables ~= json.null
      and p.body.variables or nil, operation_name = p.name, context = ctx, resolvers = R,
      null = json.null, array = json.array, object = json.object,
      on_error = function(e, path)
        local msg = "sandbox graphql: resolver error at " .. table.concat(path, ".") .. ": " .. tostring(e)
        if type(state.opts.log) == "function" then state.opts.log(msg) else io.stderr:write(msg, "\n") end
      end }
    local out = json.object{}
    if result.errors then
      for _, e in ipairs(result.errors) do
        e.extensions = json.object(e.extensions or { errorType = "APPLICATION" })
        e.extensions.errorDescription = e.extensions.errorDescription or e.message
        json.object(e)
      end
      out.errors = result.errors
    end
    out.data = result.data == nil and json.null or result.data
    return reply(200, out)
  end

  return api
end

return M
