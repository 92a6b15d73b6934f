-- Introspection: the __Schema/__Type/... types (SDL appended to the schema
-- prelude) and their resolvers, plus the Query meta-fields __schema and __type.
--
-- introspection.install(schema) sets field.resolve on every field of the
-- introspection types and builds schema.meta_fields = { __schema, __type }
-- (valid only on the query root type; validate.lua and execute.lua look them up).
-- A __Type value is a schema type ref itself (named type, NON_NULL or LIST wrapper).
local values = require "octopus.sandbox.graphql.values"

local M = {}

M.SDL = [[
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type
  subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String specifiedByURL: String
  fields(includeDeprecated: Boolean = false): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean = false): [__InputValue!] ofType: __Type }
type __Field { name: String! description: String args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String
  isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive { name: String! description: String isRepeatable: Boolean!
  locations: [__DirectiveLocation!]! args(includeDeprecated: Boolean = false): [__InputValue!]! }
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION FRAGMENT_SPREAD
  INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT FIELD_DEFINITION ARGUMENT_DEFINITION
  INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT INPUT_FIELD_DEFINITION }
]]

local function by_name(a, b) return a.name < b.name end

local function sorted_values(map)
  local list = {}
  for _, v in pairs(map) do list[#list + 1] = v end
  table.sort(list, by_name)
  return list
end

-- Ordered members of a map, optionally without deprecated ones.
local function members(map, names, args)
  local list = {}
  for _, name in ipairs(names) do
    local m = map[name]
    if (args and args.includeDeprecated == true) or not m.deprecation_reason then list[#list + 1] = m end
  end
  return list
end

local function is_deprecated(v) return v.deprecation_reason ~= nil end
local function deprecation_reason(v) return v.deprecation_reason end

local RESOLVERS = {
  __Schema = {
    types = function(s) return sorted_values(s.types) end,
    queryType = function(s) return s.query_type end,
    mutationType = function(s) return s.mutation_type end,
    subscriptionType = function(s) return s.subscription_type end,
    directives = function(s) return sorted_values(s.directives) end,
  },
  __Type = {
    fields = function(t, args)
      if t.kind == "OBJECT" or t.kind == "INTERFACE" then return members(t.fields, t.field_names, args) end
    end,
    interfaces = function(t)
      if t.kind == "OBJECT" or t.kind == "INTERFACE" then return t.interfaces end
    end,
    possibleTypes = function(t)
      if t.possible_types then return sorted_values(t.possible_types) end
    end,
    enumValues = function(t, args)
      if t.kind == "ENUM" then return members(t.values, t.value_names, args) end
    end,
    inputFields = function(t, args)
      if t.kind == "INPUT_OBJECT" then return members(t.fields, t.field_names, args) end
    end,
    ofType = function(t) return t.of_type end,
  },
  __Field = {
    args = function(f, args) return members(f.args, f.arg_names, args) end,
    isDeprecated = is_deprecated,
    deprecationReason = deprecation_reason,
  },
  __InputValue = {
    defaultValue = function(v) return v.default_value and values.print(v.default_value) or nil end,
    isDeprecated = is_deprecated,
    deprecationReason = deprecation_reason,
  },
  __EnumValue = { isDeprecated = is_deprecated, deprecationReason = deprecation_reason },
  __Directive = {
    isRepeatable = function(d) return d.repeatable == true end,
    locations = function(d) return d.location_list end,
    args = function(d, args) return members(d.args, d.arg_names, args) end,
  },
}

function M.install(schema)
  for type_name, fns in pairs(RESOLVERS) do
    local t = schema.types[type_name]
    for field_name, fn in pairs(fns) do t.fields[field_name].resolve = fn end
  end
  local types = schema.types
  schema.meta_fields = {
    __schema = { name = "__schema", type = { kind = "NON_NULL", of_type = types.__Schema },
      args = {}, arg_names = {}, resolve = function() return schema end },
    __type = { name = "__type", type = types.__Type,
      args = { name = { name = "name", type = { kind = "NON_NULL", of_type = types.String } } },
      arg_names = { "name" }, resolve = function(_, args) return types[args.name] end },
  }
end

return M
