-- Build a schema object from SDL text (type-system document).
--
-- schema.build(sdl) -> schema | nil, { message = ..., locations = {...} }
-- Shape (plain tables; named type references ARE the type objects):
--   schema.types[name] = type, with
--     kind = "OBJECT"|"INTERFACE"|"UNION"|"ENUM"|"INPUT_OBJECT"|"SCALAR", name, description
--     OBJECT/INTERFACE: fields = { [name] = field }, field_names = { ordered },
--                       interfaces = { type, ... }, implements = { [iface_name] = true }
--     INTERFACE/UNION:  possible_types = { [object_name] = type }   (UNION: types = { type, ... })
--     ENUM:             values = { [name] = { name, description, deprecation_reason } }, value_names
--     INPUT_OBJECT:     fields = { [name] = input_value }, field_names
--     SCALAR:           builtin = true for Int Float String Boolean ID
--   field       = { name, description, type = ref, args = { [name] = input_value },
--                   arg_names = { ordered }, deprecation_reason }
--   input_value = { name, description, type = ref, default_value = <AST value node or nil> }
--   ref         = { kind = "NON_NULL", of_type = ref } | { kind = "LIST", of_type = ref } | type
--   schema.directives[name] = { name, args, arg_names, locations = { FIELD = true, ... },
--                               location_list, repeatable }
--   schema.meta_fields = { __schema, __type } (query root only); introspection types
--   __Schema, __Type, ... are in schema.types and their fields carry `resolve`.
--   schema.query_type, schema.mutation_type, schema.subscription_type (types or nil)
--   schema.description (of the `schema { }` definition, if any)
-- Invariants: every ref resolves to a type in schema.types (else build fails with
-- 'Unknown type "X".'); type names are unique; __typename is handled by
-- validate/execute, not stored in fields.
local parser = require "octopus.sandbox.graphql.parser"
local introspection = require "octopus.sandbox.graphql.introspection"

local M = {}

local PRELUDE = [[
scalar Int
scalar Float
scalar String
scalar Boolean
scalar ID
directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
directive @deprecated(reason: String = "No longer supported")
  on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE
directive @specifiedBy(url: String!) on SCALAR
directive @oneOf on INPUT_OBJECT
]] .. introspection.SDL

local BUILTIN = { Int = true, Float = true, String = true, Boolean = true, ID = true }

local KINDS = {
  ScalarType = "SCALAR", ObjectType = "OBJECT", InterfaceType = "INTERFACE",
  UnionType = "UNION", EnumType = "ENUM", InputObjectType = "INPUT_OBJECT",
}

local function build_error(doc, msg, node)
  error({ build = true, message = msg,
    locations = node and node.loc and { parser.location(doc, node.loc) } or {} }, 0)
end

local function deprecation(directives)
  for _, d in ipairs(directives or {}) do
    if d.name == "deprecated" then
      for _, a in ipairs(d.arguments) do
        if a.name == "reason" and a.value.kind == "StringValue" then return a.value.value end
      end
      return "No longer supported"
    end
  end
end

-- Named type string of a type reference (schema ref or AST type node).
function M.type_string(t)
  if t.kind == "NON_NULL" or t.kind == "NonNullType" then return M.type_string(t.of_type or t.type) .. "!" end
  if t.kind == "LIST" or t.kind == "ListType" then return "[" .. M.type_string(t.of_type or t.type) .. "]" end
  return t.name
end

function M.named_type(t)
  while t.kind == "NON_NULL" or t.kind == "LIST" do t = t.of_type end
  return t
end

-- AST type node -> schema ref, or nil when a named type is unknown.
function M.type_from_ast(schema, node)
  if node.kind == "NonNullType" then
    local inner = M.type_from_ast(schema, node.type)
    return inner and { kind = "NON_NULL", of_type = inner }
  elseif node.kind == "ListType" then
    local inner = M.type_from_ast(schema, node.type)
    return inner and { kind = "LIST", of_type = inner }
  end
  return schema.types[node.name]
end

function M.is_input_type(t)
  local k = M.named_type(t).kind
  return k == "SCALAR" or k == "ENUM" or k == "INPUT_OBJECT"
end

function M.is_output_type(t)
  return M.named_type(t).kind ~= "INPUT_OBJECT"
end

function M.is_leaf(t) return t.kind == "SCALAR" or t.kind == "ENUM" end
function M.is_composite(t) return t.kind == "OBJECT" or t.kind == "INTERFACE" or t.kind == "UNION" end
function M.is_abstract(t) return t.kind == "INTERFACE" or t.kind == "UNION" end

-- Resolve a ref in a type-system AST; unknown names fail the build.
local function ref(doc, types, node)
  if node.kind == "NonNullType" then return { kind = "NON_NULL", of_type = ref(doc, types, node.type) } end
  if node.kind == "ListType" then return { kind = "LIST", of_type = ref(doc, types, node.type) } end
  local t = types[node.name]
  if not t then build_error(doc, 'Unknown type "' .. node.name .. '".', node) end
  return t
end

local function input_values(doc, types, list, into, names)
  for _, iv in ipairs(list) do
    if into[iv.name] then build_error(doc, 'Argument or field "' .. iv.name .. '" is defined more than once.', iv) end
    into[iv.name] = { name = iv.name, description = iv.description, type = ref(doc, types, iv.type),
      default_value = iv.default_value, deprecation_reason = deprecation(iv.directives) }
    names[#names + 1] = iv.name
  end
end

-- Add one definition's or extension's members to its type object.
local function add_members(doc, types, t, def)
  local kind = t.kind
  if kind == "OBJECT" or kind == "INTERFACE" then
    for _, iname in ipairs(def.interfaces) do
      local it = types[iname]
      if not it then build_error(doc, 'Unknown type "' .. iname .. '".', def) end
      if it.kind ~= "INTERFACE" then
        build_error(doc, 'Type ' .. t.name .. ' must only implement Interface types, it cannot implement '
          .. iname .. '.', def)
      end
      if not t.implements[iname] then
        t.implements[iname] = true
        t.interfaces[#t.interfaces + 1] = it
      end
    end
    for _, f in ipairs(def.fields) do
      if t.fields[f.name] then
        build_error(doc, 'Field "' .. t.name .. "." .. f.name .. '" can only be defined once.', f)
      end
      local field = { name = f.name, description = f.description, type = ref(doc, types, f.type),
        args = {}, arg_names = {}, deprecation_reason = deprecation(f.directives) }
      input_values(doc, types, f.arguments, field.args, field.arg_names)
      t.fields[f.name] = field
      t.field_names[#t.field_names + 1] = f.name
    end
  elseif kind == "UNION" then
    for _, mname in ipairs(def.types) do
      local mt = types[mname]
      if not mt then build_error(doc, 'Unknown type "' .. mname .. '".', def) end
      if mt.kind ~= "OBJECT" then
        build_error(doc, 'Union type ' .. t.name .. ' can only include Object types, it cannot include '
          .. mname .. '.', def)
      end
      if not t.possible_types[mname] then
        t.possible_types[mname] = mt
        t.types[#t.types + 1] = mt
      end
    end
  elseif kind == "ENUM" then
    for _, v in ipairs(def.values) do
      if t.values[v.name] then
        build_error(doc, 'Enum value "' .. t.name .. "." .. v.name .. '" can only be defined once.', v)
      end
      t.values[v.name] = { name = v.name, description = v.description, deprecation_reason = deprecation(v.directives) }
      t.value_names[#t.value_names + 1] = v.name
    end
  elseif kind == "INPUT_OBJECT" then
    input_values(doc, types, def.fields, t.fields, t.field_names)
  end
end

local function new_type(kind, def)
  local t = { kind = kind, name = def.name, description = def.description, directives = def.directives }
  if kind == "OBJECT" or kind == "INTERFACE" then
    t.fields, t.field_names, t.interfaces, t.implements = {}, {}, {}, {}
  end
  if kind == "INTERFACE" or kind == "UNION" then t.possible_types = {} end
  if kind == "UNION" then t.types = {} end
  if kind == "ENUM" then t.values, t.value_names = {}, {} end
  if kind == "INPUT_OBJECT" then t.fields, t.field_names = {}, {} end
  if kind == "SCALAR" and BUILTIN[def.name] then t.builtin = true end
  return t
end

local function build(doc, prelude)
  local types, directives = {}, {}
  local schema_def, schema_exts = nil, {}
  local defs, exts = {}, {}
  local all = {}
  for _, d in ipairs(prelude.definitions) do all[#all + 1] = { d, prelude } end
  for _, d in ipairs(doc.definitions) do all[#all + 1] = { d, doc } end
  -- pass 1: create named types
  for _, entry in ipairs(all) do
    local d, src = entry[1], entry[2]
    local base, suffix = d.kind:match("^(%a-Type)(%a+)$")
    if d.kind == "SchemaDefinition" then
      if schema_def then build_error(src, "Must provide only one schema definition.", d) end
      schema_def = d
    elseif d.kind == "SchemaExtension" then
      schema_exts[#schema_exts + 1] = d
    elseif d.kind == "DirectiveDefinition" then
      if directives[d.name] and src ~= prelude and not directives[d.name].builtin then
        build_error(src, 'There can be only one directive named "@' .. d.name .. '".', d)
      end
      directives[d.name] = { d, src }
    elseif base and KINDS[base] and suffix == "Definition" then
      local existing = types[d.name]
      if existing then
        if not (existing.builtin and d.kind == "ScalarTypeDefinition") then
          build_error(src, 'There can be only one type named "' .. d.name .. '".', d)
        end
      else
        types[d.name] = new_type(KINDS[base], d)
        defs[#defs + 1] = { d, src }
      end
    elseif base and KINDS[base] and suffix == "Extension" then
      exts[#exts + 1] = { d, src }
    else
      build_error(src, 'The "' .. tostring(d.kind) .. '" definition is not allowed in a schema.', d)
    end
  end
  -- pass 2: members, then extensions
  for _, entry in ipairs(defs) do add_members(entry[2], types, types[entry[1].name], entry[1]) end
  for _, entry in ipairs(exts) do
    local d, src = entry[1], entry[2]
    local t = types[d.name]
    if not t then build_error(src, 'Cannot extend type "' .. d.name .. '" because it is not defined.', d) end
    if KINDS[d.kind:match("^(%a-Type)")] ~= t.kind then
      build_error(src, 'Cannot extend non-' .. t.kind .. ' type "' .. d.name .. '".', d)
    end
    add_members(src, types, t, d)
  end
  -- possible types of interfaces
  for _, t in pairs(types) do
    if t.kind == "OBJECT" or t.kind == "INTERFACE" then
      for _, it in ipairs(t.interfaces) do
        if t.kind == "OBJECT" then it.possible_types[t.name] = t end
      end
    end
  end
  local dirs = {}
  for name, entry in pairs(directives) do
    local d, src = entry[1], entry[2]
    local dir = { name = name, description = d.description, args = {}, arg_names = {},
      locations = {}, location_list = d.locations, repeatable = d.repeatable, builtin = src == prelude }
    input_values(src, types, d.arguments, dir.args, dir.arg_names)
    for _, l in ipairs(d.locations) do dir.locations[l] = true end
    dirs[name] = dir
  end
  local schema = { types = types, directives = dirs, description = schema_def and schema_def.description }
  local ops = { query = "Query", mutation = "Mutation", subscription = "Subscription" }
  local explicit = {}
  if schema_def then explicit = schema_def.operation_types end
  for _, ext in ipairs(schema_exts) do
    for op, name in pairs(ext.operation_types) do explicit[op] = name end
  end
  for op, default in pairs(ops) do
    local name = explicit[op] or (not schema_def and default) or nil
    if name then
      local t = types[name]
      if not t and explicit[op] then build_error(doc, 'Unknown type "' .. name .. '".', schema_def) end
      if t and t.kind ~= "OBJECT" then
        build_error(doc, op:sub(1, 1):upper() .. op:sub(2) .. ' root type must be Object type, it cannot be '
          .. name .. '.', schema_def)
      end
      schema[op .. "_type"] = t
    end
  end
  introspection.install(schema)
  return schema
end

local prelude_doc

function M.build(sdl)
  local doc, err = parser.parse(sdl, false)    -- the schema's own SDL: no request limits
  if not doc then return nil, err end
  if not prelude_doc then prelude_doc = assert(parser.parse(PRELUDE, false)) end
  local ok, res = pcall(build, doc, prelude_doc)
  if not ok then
    if type(res) == "table" and res.build then return nil, { message = res.message, locations = res.locations } end
    error(res, 0)
  end
  return res
end

return M
