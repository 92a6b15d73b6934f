-- octopus.sandbox.graphql: a GraphQL engine in pure Lua (5.1/LuaJIT and 5.4).
--
--   gql.schema(sdl)                          -> schema | nil, err      (schema.lua documents the shape)
--   gql.parse(text)                          -> doc | nil, err         err = { message, locations }
--   gql.validate(schema, doc [, { max_depth = N }]) -> { {message, locations [, extensions]}, ... }
--   gql.execute{ schema, document, variables, operation_name, root_value, context,
--                resolvers, null, array, object, on_error }    -> { data, errors }
--   gql.error{ message =, extensions = }     raises a GraphQL error from a resolver
--   gql.operation(doc [, name])              -> operation node | nil, message
--   gql.depth(doc [, name])                  -> field depth of the operation | nil, message
--   gql.validate_document_text(schema, text [, opts]) -> true | false, errors
--   gql.null                                 the default null sentinel
-- Errors never contain Lua tracebacks; internal failures read "Internal server error".
local parser = require "octopus.sandbox.graphql.parser"
local schema = require "octopus.sandbox.graphql.schema"
local validate = require "octopus.sandbox.graphql.validate"
local execute = require "octopus.sandbox.graphql.execute"

local M = {}

M.null = execute.null
M.error_mt = execute.error_mt
M.type_string = schema.type_string
M.named_type = schema.named_type

function M.schema(sdl)
  if type(sdl) ~= "string" then error("graphql.schema: SDL text expected, got " .. type(sdl), 2) end
  return schema.build(sdl)
end

function M.parse(text)
  return parser.parse(text)
end

function M.validate(s, doc, opts)
  if type(s) ~= "table" or not s.types then error("graphql.validate: schema expected", 2) end
  if type(doc) ~= "table" or doc.kind ~= "Document" then error("graphql.validate: document expected", 2) end
  return validate.validate(s, doc, opts)
end

function M.execute(opts)
  if type(opts) ~= "table" or type(opts.schema) ~= "table" or type(opts.document) ~= "table" then
    error("graphql.execute: { schema = , document = } expected", 2)
  end
  return execute.execute(opts)
end

function M.error(t)
  error(execute.error_value(t), 2)
end

M.error_value = execute.error_value

function M.operation(doc, name)
  return execute.get_operation(doc, name)
end

function M.depth(doc, name)
  local op, err = execute.get_operation(doc, name)
  if not op then return nil, err end
  local frags = {}
  for _, d in ipairs(doc.definitions) do
    if d.kind == "FragmentDefinition" then frags[d.name] = d end
  end
  return validate.depth(op, frags)
end

function M.validate_document_text(s, text, opts)
  local doc, err = parser.parse(text)
  if not doc then return false, { err } end
  local errors = validate.validate(s, doc, opts)
  if #errors > 0 then return false, errors end
  return true
end

return M
