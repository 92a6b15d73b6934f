-- octopus.graphql.call: client:graphql(document, variables, opts), a GraphQL call with
-- the client's token: the token comes from octopus.graphql.auth through the pipeline's
-- auth function; a call that meets an expired or invalid token (1112/1120/1124/1143)
-- refreshes once and is retried once, invalidating only the token it sent (a late
-- rejection of an old token keeps the one another task renewed meanwhile).
--
--   call.graphql(client, document, variables, opts) -> data | nil, err
--     document: GraphQL text, or a shipped operation's name ("viewer", "account", ...)
--     opts: { operation_name =, timeout =, idempotent =, auth = false (send no token) }
local usage = require "octopus.pipeline.usage"
local documents = require "octopus.graphql.documents"
local gerrors = require "octopus.graphql.errors"
local wire = require "octopus.graphql.wire"
local auth = require "octopus.graphql.auth"

local type, pairs, tostring = type, pairs, tostring

local M = {}

local OPTS = { operation_name = "string", timeout = "number", idempotent = "boolean", auth = "boolean" }

function M.graphql(client, document, variables, opts)
  local text = documents.resolve(document)
  if variables ~= nil and type(variables) ~= "table" then usage.raise("client:graphql: 'variables' must be a table") end
  opts = opts or {}
  if type(opts) ~= "table" then usage.raise("client:graphql: 'opts' must be a table") end
  for k, v in pairs(opts) do
    if not OPTS[k] then usage.raise("client:graphql: unknown option '" .. tostring(k) .. "'") end
    if type(v) ~= OPTS[k] then usage.raise("client:graphql: option '" .. k .. "' must be a " .. OPTS[k]) end
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
  local data, err = wire.response(client, wire.post(client, text, variables, popts))
  if data == nil and opts.auth ~= false and gerrors.EXPIRED[err.graphql_code] and auth.has_credentials(client) then
    auth.invalidate(client, sent)
    data, err = wire.response(client, wire.post(client, text, variables, popts))
  end
  if data == nil and err.graphql_code == "KT-CT-1112" and not auth.has_credentials(client) then
    err.message = err.message .. "; give the client api_key, email and password," ..
                  " organization_secret_key, pre_signed_key or refresh_token"
  end
  return data, err
end


return M
