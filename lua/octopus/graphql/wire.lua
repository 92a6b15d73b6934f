-- octopus.graphql.wire: one GraphQL request on the wire, and its answer read as
-- GraphQL. Every GraphQL call (the token mutation included) goes through here, so
-- the KT-CT-1199 rule lives here once: when the points allowance is spent, the
-- transport's block hook (async) holds back every later send to the GraphQL URL
-- until it renews.
--
--   wire.post(client, text, variables, opts) -> pipeline result (data, err)
--     opts: auth (the pipeline's: "none" for the token mutation, or a function),
--           operation_name, timeout, idempotent (default: queries yes, mutations no)
--   wire.response(client, data, err) -> GraphQL data | nil, err
local core = require "octopus.core"
local documents = require "octopus.graphql.documents"
local gerrors = require "octopus.graphql.errors"

local json = core.json
local type, pairs = type, pairs

local M = {}

-- M.post(client, text, variables, opts) -> pipeline result (res, err); opts.auth is the
-- pipeline's auth ("none" for the token mutation), opts.operation_name, opts.timeout.
function M.post(client, text, variables, opts)
  local kind, name = documents.operation(text)
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


-- the allowance is spent: later sends to the GraphQL URL wait for it (async transport)
local function block(client, err)
  local b = client.transport.block
  if err.code == "RATE_LIMITED" and err.graphql_code == "KT-CT-1199" and type(b) == "function" then
    b(client.graphql_url, err.retry_after, err)
  end
  return nil, err
end

-- M.response(client, res, err) -> data | nil, err: a pipeline result read as GraphQL.
function M.response(client, res, err)
  if res == nil then
    if type(err) == "table" and type(err.errors) == "table" and err.errors[1] ~= nil then
      return block(client, gerrors.error(client, err.errors, err.data, err.status))
    end
    return nil, err
  end
  if type(res) ~= "table" then
    return nil, gerrors.decode_error(client, "the GraphQL response is not a JSON object with data or errors")
  end
  if type(res.errors) == "table" and res.errors[1] ~= nil then
    return block(client, gerrors.error(client, res.errors, res.data, 200))
  end
  if type(res.data) ~= "table" then
    return nil, gerrors.decode_error(client, "the GraphQL response has no data")
  end
  return res.data
end

return M
