-- octopus.graphql: GraphQL over the client pipeline, the shipped operations, and the
-- client methods built on them (client:graphql, :login, :viewer, :account, ...).
--
--   client:graphql(document, variables, opts) -> data | nil, err   (document: text or a shipped name)
--   client:viewer() / :account(number) / :postal_areas(postcode) / :tariff_summary(grid [, product])
--   / :rate_limit() -> the operation's object | nil, err
--   client:connection(document, variables, path [, { page_size }]) -> Relay iterator (relay.lua)
--   client:login([credentials]) -> true | nil, err ; client:token_state() -> table | nil (auth.lua)
--   client:readings(account, opts) -> readings iterator (octopus.graphql.readings)
--   M.post(client, text, variables, opts) / M.response(client, res, err): the raw steps (auth.lua)
--
-- Shipped operations are the *.graphql files beside this module, read once at require
-- time into M.documents[name] (name = file name without .graphql); spec/documents_spec.lua
-- validates each against the OEJP schema and the sandbox's subset.
--
-- Error codes (err.code, stable). Classified by extensions.errorCode first, then by
-- extensions.errorType, then by HTTP status (a 4xx/5xx whose body carries GraphQL
-- `errors` is a GraphQL error; an HTML or empty body stays the pipeline's transport error):
--
--   errorCode                         err.code            kind        notes
--   KT-CT-1111, KT-CT-4177            FORBIDDEN           auth        not yours / not allowed
--   KT-CT-1112, 1120, 1124, 1143      AUTH                auth        after one refresh + retry
--   KT-CT-1134, KT-CT-1135            AUTH                auth        refresh token expired/invalid
--   KT-CT-1138, KT-CT-1139            AUTH_INVALID        auth        bad credentials; sticky, never retried
--   KT-CT-1113                        UNSUPPORTED         usage       disabled field
--   KT-CT-1188, KT-CT-1189            QUERY_TOO_COMPLEX   graphql     shrink the query
--   KT-CT-1199                        RATE_LIMITED        rate_limit  retry_after from the extensions
--                                                                     (retryAfter, else ttl - now), else 60
--   KT-JP-4601                        INVALID_POSTCODE    graphql
--   any other code (e.g. KT-CT-1201)  the code itself     graphql
--   no code, errorType AUTHORIZATION  FORBIDDEN           auth
--   no code, errorType VALIDATION     GRAPHQL_VALIDATION  graphql
--   no code, errorType NOT_FOUND      NOT_FOUND           graphql
--   no code, SERVICE_AVAILABILITY     UNAVAILABLE         graphql     retryable
--   anything else                     GRAPHQL             graphql
-- Every GraphQL error also carries err.errors (every entry, a copy with the client's secrets
-- scrubbed from each message and extensions string), err.data
-- (partial data, nil when null) and err.graphql_code (the first errorCode, or nil).
--
-- Invariants: queries are idempotent (transport failures retry), mutations are not; the
-- token comes from octopus.auth through the pipeline's auth function, and a call that
-- meets an expired/invalid token (1112/1120/1124/1143) refreshes once and retries once;
-- it invalidates only the token it sent (auth.invalidate), so a late rejection of an old
-- token keeps one another task has renewed meanwhile. A document holding any mutation
-- (fragments skipped; strings and comments ignored) is a mutation.
-- Messages are scrubbed of the client's secrets.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local client_mod = require "octopus.pipeline.client"
local auth = require "octopus.graphql.auth"
local relay = require "octopus.graphql.relay"

local json = core.json
local null = json.null
local type, pairs, ipairs, tostring, error, require = type, pairs, ipairs, tostring, error, require
local setmetatable, getmetatable = setmetatable, getmetatable
local floor, max = math.floor, math.max

local M = {}

M.DEFAULT_RETRY_AFTER = 60

local CODES = {
  ["KT-CT-1111"] = { "FORBIDDEN", "auth" }, ["KT-CT-4177"] = { "FORBIDDEN", "auth" },
  ["KT-CT-1112"] = { "AUTH", "auth" }, ["KT-CT-1120"] = { "AUTH", "auth" },
  ["KT-CT-1124"] = { "AUTH", "auth" }, ["KT-CT-1143"] = { "AUTH", "auth" },
  ["KT-CT-1134"] = { "AUTH", "auth" }, ["KT-CT-1135"] = { "AUTH", "auth" },
  ["KT-CT-1138"] = { "AUTH_INVALID", "auth" }, ["KT-CT-1139"] = { "AUTH_INVALID", "auth" },
  ["KT-CT-1113"] = { "UNSUPPORTED", "usage" },
  ["KT-CT-1188"] = { "QUERY_TOO_COMPLEX", "graphql" }, ["KT-CT-1189"] = { "QUERY_TOO_COMPLEX", "graphql" },
  ["KT-CT-1199"] = { "RATE_LIMITED", "rate_limit" },
  ["KT-JP-4601"] = { "INVALID_POSTCODE", "graphql" },
}
M.CODES = CODES
local TYPES = {
  AUTHORIZATION = { "FORBIDDEN", "auth" }, VALIDATION = { "GRAPHQL_VALIDATION", "graphql" },
  NOT_FOUND = { "NOT_FOUND", "graphql" }, SERVICE_AVAILABILITY = { "UNAVAILABLE", "graphql" },
}
-- codes after which the call refreshes the token once and is retried once
M.EXPIRED = { ["KT-CT-1112"] = true, ["KT-CT-1120"] = true, ["KT-CT-1124"] = true, ["KT-CT-1143"] = true }

---------------------------------------------------------------------------
-- Shipped documents
---------------------------------------------------------------------------
local function module_dir()
  local src = debug.getinfo(1, "S").source
  return src:match("^@(.*)/[^/]*$") or "."
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

M.dir = module_dir()
M.NAMES = { "obtain_token", "viewer", "account", "readings", "postal_areas", "tariff_summary",
            "rate_limit", "bills" }
M.documents = {}
for _, name in ipairs(M.NAMES) do
  local text = read_all(M.dir .. "/" .. name .. ".graphql")
  if not text then error("octopus.graphql: shipped document " .. name .. ".graphql is missing", 0) end
  M.documents[name] = text
end

-- skips a string literal starting at i ('"' or '"""') -> the index after it
local function skip_string(text, i)
  if text:sub(i, i + 2) == '"""' then              -- block string: \""" is an escaped quote
    local j = i + 3
    while true do
      local e = text:find('"""', j, true)
      if not e then return #text + 1 end
      if text:sub(e - 1, e - 1) ~= "\\" then return e + 3 end
      j = e + 3
    end
  end
  local j = i + 1
  while true do
    local e = text:find('["\\\n]', j)
    if not e then return #text + 1 end
    local ch = text:sub(e, e)
    if ch == "\\" then j = e + 2 else return e + 1 end
  end
end

-- definitions(text) -> array of { kind = first word | "query" (shorthand), name = | nil }:
-- the document's top-level definitions. Comments and strings are skipped, brackets are
-- balanced, so a definition ends where its selection set closes at depth 0.
local function definitions(text)
  local defs, cur = {}, nil
  local depth, expect = 0, "start"  -- expect: "start" (a definition), "name" (after its keyword)
  local i = 1
  while true do
    i = text:find('[#"{}()%[%]_%a@]', i)
    if not i then break end
    local c = text:sub(i, i)
    if c == "#" then
      i = (text:find("[\r\n]", i)) or #text + 1
    elseif c == '"' then
      i = skip_string(text, i)
    elseif c == "{" or c == "(" or c == "[" then
      if depth == 0 then
        if c == "{" and expect == "start" then defs[#defs + 1] = { kind = "query" } end
        expect = nil
      end
      depth, i = depth + 1, i + 1
    elseif c == "}" or c == ")" or c == "]" then
      depth, i = depth - 1, i + 1
      if depth <= 0 then
        depth = 0
        if c == "}" then expect = "start" end
      end
    elseif c == "@" then
      if depth == 0 then expect = nil end
      i = i + 1
    else
      local _, e = text:find("^[_%w]+", i)
      if depth == 0 then
        local word = text:sub(i, e)
        if expect == "start" then cur = { kind = word }; defs[#defs + 1] = cur; expect = "name"
        elseif expect == "name" then cur.name = word; expect = nil end
      end
      i = e + 1
    end
  end
  return defs
end

local OPERATIONS = { query = true, mutation = true, subscription = true }

-- operation(text) -> "query"|"mutation"|"subscription", operation name | nil
-- Fragments are skipped; a document with any mutation is a mutation (never retried as
-- idempotent); the name is given only when the document holds a single operation.
local function operation(text)
  local kind, name, count = nil, nil, 0
  for _, d in ipairs(definitions(text)) do
    if OPERATIONS[d.kind] then
      count = count + 1
      name = d.name
      if d.kind == "mutation" or kind == nil or (kind == "query" and d.kind == "subscription") then
        kind = d.kind
      end
    end
  end
  if count ~= 1 then name = nil end
  return kind or "query", name
end
M.operation = operation

local function resolve(document)
  if type(document) ~= "string" or document == "" then
    error("client:graphql: 'document' must be a GraphQL document or a shipped operation name", 3)
  end
  if document:match("^[%a_][%w_]*$") then
    local text = M.documents[document]
    if not text then error("client:graphql: no shipped operation named '" .. document .. "'", 3) end
    return text
  end
  return document
end

---------------------------------------------------------------------------
-- Classification
---------------------------------------------------------------------------
local function extensions(e)
  return type(e) == "table" and type(e.extensions) == "table" and e.extensions or {}
end

local function str(v) return type(v) == "string" and v or nil end

-- scrubbed(errs, secrets) -> a copy of the `errors` array whose message strings (and the
-- string values of each entry's extensions, errorDescription included) are redacted; the
-- decoded response is left as it is (it may be shared)
local function scrubbed(errs, secrets)
  local out = setmetatable({}, getmetatable(errs))
  for i, e in ipairs(errs) do
    if type(e) == "table" then
      local c = setmetatable({}, getmetatable(e))
      for k, v in pairs(e) do c[k] = v end
      c.message = errors.redact(e.message, secrets)
      if type(e.extensions) == "table" then
        local x = setmetatable({}, getmetatable(e.extensions))
        for k, v in pairs(e.extensions) do x[k] = errors.redact(v, secrets) end
        c.extensions = x
      end
      e = c
    end
    out[i] = e
  end
  return out
end

-- M.error(client, errs, data, status) -> error object for a GraphQL `errors` array
-- (err.errors is a scrubbed copy of errs)
function M.error(client, errs, data, status)
  local secrets = client_mod.private(client).secrets
  local first, code = errs[1], nil
  for _, e in ipairs(errs) do
    local c = str(extensions(e).errorCode)
    if c then first, code = e, c; break end
  end
  local ext = extensions(first)
  local map = code and CODES[code] or (not code and TYPES[str(ext.errorType) or ""]) or nil
  local e = { errors = scrubbed(errs, secrets), graphql_code = code, status = status, method = "POST",
              url = errors.redact_url(client.graphql_url), retryable = false,
              data = (data ~= nil and data ~= null) and data or nil }
  if map then e.code, e.kind = map[1], map[2] elseif code then e.code, e.kind = code, "graphql"
  else e.code, e.kind = "GRAPHQL", "graphql" end
  local msg = str(type(first) == "table" and first.message) or "GraphQL error"
  local desc = str(ext.errorDescription)
  if desc and desc ~= msg then msg = msg .. ": " .. desc end
  if code then msg = msg .. " (" .. code .. ")" end
  if #errs > 1 then msg = msg .. " (and " .. (#errs - 1) .. " more error" .. (#errs > 2 and "s" or "") .. ")" end
  if e.code == "RATE_LIMITED" then
    local ra = errors.retry_after(ext.retryAfter)
    if not ra and type(ext.ttl) == "number" then ra = max(0, floor(ext.ttl - os.time())) end
    e.retry_after, e.retryable = ra or M.DEFAULT_RETRY_AFTER, true
    msg = msg .. "; retry after " .. e.retry_after .. " s"
  elseif e.code == "UNAVAILABLE" then
    e.retryable = true
  end
  if e.code == "AUTH" and code == "KT-CT-1112" and not auth.has_credentials(client) then
    msg = msg .. "; give the client api_key, email and password, organization_secret_key," ..
          " pre_signed_key or refresh_token"
  end
  e.message = errors.redact(msg, secrets)
  return errors.new(e)
end

-- M.decode_error(client, message) -> a DECODE error for a GraphQL response that does not
-- have the shape asked for (also used by octopus.auth and octopus.readings)
function M.decode_error(client, message)
  return errors.new { code = "DECODE", kind = "decode", method = "POST", retryable = false,
    url = errors.redact_url(client.graphql_url), message = message }
end

-- M.response(client, res, err) -> data | nil, err: a pipeline result read as GraphQL.
function M.response(client, res, err)
  if res == nil then
    if type(err) == "table" and type(err.errors) == "table" and err.errors[1] ~= nil then
      return nil, M.error(client, err.errors, err.data, err.status)
    end
    return nil, err
  end
  if type(res) ~= "table" then
    return nil, M.decode_error(client, "the GraphQL response is not a JSON object with data or errors")
  end
  if type(res.errors) == "table" and res.errors[1] ~= nil then
    return nil, M.error(client, res.errors, res.data, 200)
  end
  if type(res.data) ~= "table" then
    return nil, M.decode_error(client, "the GraphQL response has no data")
  end
  return res.data
end

-- M.post(client, text, variables, opts) -> pipeline result (res, err); opts.auth is the
-- pipeline's auth ("none" for the token mutation), opts.operation_name, opts.timeout.
function M.post(client, text, variables, opts)
  local kind, name = operation(text)
  local body = { query = text, operationName = opts.operation_name or name }
  if variables ~= nil then
    local v = {}
    for k, x in pairs(variables) do v[k] = x end
    body.variables = json.object(v)
  end
  local idempotent = opts.idempotent
  if idempotent == nil then idempotent = kind == "query" end
  return client:request { method = "POST", url = client.graphql_url, body = body,
    auth = opts.auth, idempotent = idempotent, timeout = opts.timeout }
end

---------------------------------------------------------------------------
-- client:graphql(document, variables, opts) -> data | nil, err
--   document: GraphQL text, or a shipped operation's name ("viewer", "account", ...)
--   opts: { operation_name =, timeout =, idempotent =, auth = false (send no token) }
---------------------------------------------------------------------------
local OPTS = { operation_name = "string", timeout = "number", idempotent = "boolean", auth = "boolean" }

function M.graphql(client, document, variables, opts)
  local text = resolve(document)
  if variables ~= nil and type(variables) ~= "table" then error("client:graphql: 'variables' must be a table", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("client:graphql: 'opts' must be a table", 2) end
  for k, v in pairs(opts) do
    if not OPTS[k] then error("client:graphql: unknown option '" .. tostring(k) .. "'", 2) end
    if type(v) ~= OPTS[k] then error("client:graphql: option '" .. k .. "' must be a " .. OPTS[k], 2) end
  end
  local budget = auth.budget()
  local auth_fn, sent = "none", nil     -- sent: the token the latest attempt carried
  if opts.auth ~= false then
    auth_fn = function(c)
      local token, err = auth.token(c, budget)
      if token == nil then return nil, err end
      if token == false then sent = nil; return {} end
      sent = token
      return { Authorization = token }
    end
  end
  local popts = { auth = auth_fn, operation_name = opts.operation_name, timeout = opts.timeout,
                  idempotent = opts.idempotent }
  local data, err = M.response(client, M.post(client, text, variables, popts))
  if data == nil and opts.auth ~= false and M.EXPIRED[err.graphql_code] and auth.has_credentials(client) then
    auth.invalidate(client, err.graphql_code, sent)
    data, err = M.response(client, M.post(client, text, variables, popts))
  end
  return data, err
end

---------------------------------------------------------------------------
-- Convenience methods (installed on the Client by octopus.client)
---------------------------------------------------------------------------
local function pick(data, ...)
  local v = data
  for _, k in ipairs { ... } do
    if type(v) ~= "table" then return nil end
    v = v[k]
  end
  if v == null then return nil end
  return v
end

local function check_string(v, what, fn)
  if type(v) ~= "string" or v == "" then error("client:" .. fn .. ": '" .. what .. "' must be a non-empty string", 3) end
end

-- client:viewer() -> { givenName, familyName, email, accounts = {{number}...} } | nil, err
function M.viewer(client)
  local data, err = M.graphql(client, "viewer")
  if not data then return nil, err end
  return pick(data, "viewer")
end

-- client:account(number) -> Account table (see account.graphql) | nil, err
function M.account(client, number)
  check_string(number, "account", "account")
  local data, err = M.graphql(client, "account", { accountNumber = number })
  if not data then return nil, err end
  return pick(data, "account")
end

-- client:postal_areas(postcode) -> array of { postcode, prefecture, city, area } | nil, err
function M.postal_areas(client, postcode)
  check_string(postcode, "postcode", "postal_areas")
  local data, err = M.graphql(client, "postal_areas", { postcode = postcode })
  if not data then return nil, err end
  return pick(data, "postalAreas")
end

-- client:tariff_summary(grid_operator_code [, product_code]) -> array | nil, err
function M.tariff_summary(client, grid, product)
  check_string(grid, "grid_operator_code", "tariff_summary")
  if product ~= nil then check_string(product, "product_code", "tariff_summary") end
  local data, err = M.graphql(client, "tariff_summary", { gridOperatorCode = grid, productCode = product })
  if not data then return nil, err end
  return pick(data, "tariffSummary")
end

-- client:rate_limit() -> { limit, remainingPoints, usedPoints, ttl, isBlocked } | nil, err
function M.rate_limit(client)
  local data, err = M.graphql(client, "rate_limit")
  if not data then return nil, err end
  return pick(data, "rateLimitInfo", "pointsAllowanceRateLimit")
end

-- client:connection(document, variables, path [, { page_size = 100 }]) -> Relay iterator
--   path: "account.bills" or { "account", "bills" } (where the connection sits in data)
function M.connection(client, document, variables, path, opts)
  local text = resolve(document)
  if type(path) == "string" then
    local parts = {}
    for seg in path:gmatch("[^%.]+") do parts[#parts + 1] = seg end
    path = parts
  end
  if type(path) ~= "table" or path[1] == nil then
    error("client:connection: 'path' must name where the connection is (\"account.bills\")", 2)
  end
  return relay.new(function(vars) return M.graphql(client, text, vars) end, variables or {}, path, opts)
end

-- client:login([credentials]) -> true | nil, err   (see octopus.auth)
function M.login(client, credentials) return auth.login(client, credentials) end

-- client:token_state() -> { token, exp, refresh_token, refresh_expires_at } | nil (SECRET)
function M.token_state(client) return auth.token_state(client) end

-- client:readings(account, opts) -> readings iterator (see octopus.readings)
function M.readings(client, account, opts) return require("octopus.graphql.readings").fetch(client, account, opts) end

M.pick = pick
return M
