-- GraphQL parser: executable documents and SDL type-system documents -> AST.
--
-- parser.parse(text [, limits]) -> doc | nil, { message = "Syntax Error: ...", locations = {{line=, column=}} }
--   limits: { max_tokens =, max_bytes = } (default M.limits: 15000 tokens and 1 MiB, as
--   graphql-java's parser defaults), or false for none (the schema's own SDL). A document
--   over either is a syntax error before any more work is done, so its size bounds the
--   parse and everything after it.
-- AST nodes are plain tables, kind names as in graphql-js; names are strings,
-- `loc` is the node's 1-based byte offset in doc.source (see lexer.location).
--   Document { definitions, source }
--   OperationDefinition { operation = "query"|"mutation"|"subscription", name?,
--     variable_definitions = { VariableDefinition { variable = name, type, default_value?, directives } },
--     directives, selection_set }
--   SelectionSet { selections }; Field { alias?, name, arguments = { Argument { name, value } },
--     directives, selection_set? }; FragmentSpread { name, directives };
--   InlineFragment { type_condition?, directives, selection_set }
--   FragmentDefinition { name, type_condition, directives, selection_set }
--   Directive { name, arguments }
--   values: Variable { name } IntValue/FloatValue/StringValue/EnumValue { value }
--     StringValue.block, BooleanValue { value = bool }, NullValue, ListValue { values },
--     ObjectValue { fields = { ObjectField { name, value } } }
--   types: NamedType { name }, ListType { type }, NonNullType { type }
--   SDL: SchemaDefinition/SchemaExtension { operation_types = { query = "Query", ... } },
--     Scalar/Object/Interface/Union/Enum/InputObject TypeDefinition|TypeExtension
--     { name, description?, directives, interfaces = {names}, fields = { FieldDefinition
--     { name, description?, arguments = { InputValueDefinition }, type, directives } },
--     types = {names} (union), values = { EnumValueDefinition { name, directives } } },
--     InputValueDefinition { name, description?, type, default_value?, directives },
--     DirectiveDefinition { name, arguments, repeatable, locations = {names} }
local lexer = require "octopus.sandbox.graphql.lexer"

local read, location = lexer.read, lexer.location
local fail = lexer.fail

local M = {}

-- Nesting (lists, objects, selection sets, type wrappers) beyond this is a
-- syntax error, so hostile input cannot exhaust the C stack.
M.max_nesting = 256
M.limits = { max_tokens = 15000, max_bytes = 1024 * 1024 }

local OPERATIONS = { query = true, mutation = true, subscription = true }
local TYPE_KEYWORDS = { schema = true, scalar = true, type = true, interface = true,
  union = true, enum = true, input = true, directive = true }

function M.parse(text, limits)
  if type(text) ~= "string" then
    return nil, { message = "Must provide Source. Received: " .. tostring(text) .. ".", locations = {} }
  end
  if limits == nil then limits = M.limits end
  local max_tokens = limits and limits.max_tokens or math.huge
  local max_bytes = limits and limits.max_bytes or math.huge
  if #text > max_bytes then
    return nil, { message = "Syntax Error: Document is larger than " .. max_bytes
      .. " bytes. Parsing aborted.", locations = {} }
  end
  local src = text
  local kind, value, start, stop = "<SOF>", nil, 1, 1
  local tokens = 0

  local function advance()
    kind, value, start, stop = read(src, stop)
    if kind ~= "<EOF>" then
      tokens = tokens + 1
      if tokens > max_tokens then
        fail("Document contains more than " .. max_tokens .. " tokens. Parsing aborted.", start)
      end
    end
  end

  local function desc()
    if kind == "<EOF>" then return "<EOF>" end
    if value == nil then return '"' .. kind .. '"' end
    return kind .. ' "' .. value .. '"'
  end

  local function unexpected() fail("Unexpected " .. desc() .. ".", start) end

  local function expect(k)
    if kind ~= k then
      fail("Expected " .. (k == "Name" and k or ('"' .. k .. '"')) .. ", found " .. desc() .. ".", start)
    end
    local v = value
    advance()
    return v
  end

  local function optional(k)
    if kind == k then advance(); return true end
    return false
  end

  local function expect_keyword(word)
    if kind ~= "Name" or value ~= word then
      fail('Expected "' .. word .. '", found ' .. desc() .. ".", start)
    end
    advance()
  end

  local function name() return expect("Name") end

  local nesting, max_nesting = 0, M.max_nesting
  local function enter()
    nesting = nesting + 1
    if nesting > max_nesting then fail("Document is nested too deeply (limit " .. max_nesting .. ").", start) end
  end
  local function leave() nesting = nesting - 1 end

  local parse_value, parse_selection_set, parse_type

  function parse_value(const)
    local loc = start
    local k = kind
    if k == "[" then
      enter()
      advance()
      local values = {}
      while not optional("]") do values[#values + 1] = parse_value(const) end
      leave()
      return { kind = "ListValue", values = values, loc = loc }
    elseif k == "{" then
      enter()
      advance()
      local fields = {}
      while not optional("}") do
        local floc = start
        local n = name()
        expect(":")
        fields[#fields + 1] = { kind = "ObjectField", name = n, value = parse_value(const), loc = floc }
      end
      leave()
      return { kind = "ObjectValue", fields = fields, loc = loc }
    elseif k == "Int" or k == "Float" then
      local v = value
      advance()
      return { kind = k == "Int" and "IntValue" or "FloatValue", value = v, loc = loc }
    elseif k == "String" or k == "BlockString" then
      local v = value
      advance()
      return { kind = "StringValue", value = v, block = k == "BlockString", loc = loc }
    elseif k == "Name" then
      local v = value
      advance()
      if v == "true" or v == "false" then return { kind = "BooleanValue", value = v == "true", loc = loc } end
      if v == "null" then return { kind = "NullValue", loc = loc } end
      return { kind = "EnumValue", value = v, loc = loc }
    elseif k == "$" then
      advance()
      if const then
        if kind == "Name" then fail('Unexpected variable "$' .. value .. '" in constant value.', loc) end
        unexpected()
      end
      return { kind = "Variable", name = name(), loc = loc }
    end
    unexpected()
  end

  local function parse_arguments(const)
    local args = {}
    if kind ~= "(" then return args end
    advance()
    repeat
      local loc = start
      local n = name()
      expect(":")
      args[#args + 1] = { kind = "Argument", name = n, value = parse_value(const), loc = loc }
    until optional(")")
    return args
  end

  local function parse_directives(const)
    local dirs = {}
    while kind == "@" do
      local loc = start
      advance()
      local n = name()
      dirs[#dirs + 1] = { kind = "Directive", name = n, arguments = parse_arguments(const), loc = loc }
    end
    return dirs
  end

  function parse_type()
    local loc = start
    local t
    if optional("[") then
      enter()
      t = { kind = "ListType", type = parse_type(), loc = loc }
      expect("]")
      leave()
    else
      t = { kind = "NamedType", name = name(), loc = loc }
    end
    if optional("!") then t = { kind = "NonNullType", type = t, loc = loc } end
    return t
  end

  local function parse_selection()
    local loc = start
    if optional("...") then
      if kind == "Name" and value ~= "on" then
        local n = name()
        return { kind = "FragmentSpread", name = n, directives = parse_directives(false), loc = loc }
      end
      local cond
      if kind == "Name" then advance(); cond = name() end
      local dirs = parse_directives(false)
      return { kind = "InlineFragment", type_condition = cond, directives = dirs,
        selection_set = parse_selection_set(), loc = loc }
    end
    local alias, n = nil, name()
    if optional(":") then alias, n = n, name() end
    local args = parse_arguments(false)
    local dirs = parse_directives(false)
    local sel = kind == "{" and parse_selection_set() or nil
    return { kind = "Field", alias = alias, name = n, arguments = args, directives = dirs,
      selection_set = sel, loc = loc }
  end

  function parse_selection_set()
    local loc = start
    expect("{")
    enter()
    local selections = {}
    repeat selections[#selections + 1] = parse_selection() until optional("}")
    leave()
    return { kind = "SelectionSet", selections = selections, loc = loc }
  end

  local function parse_variable_definitions()
    local defs = {}
    if not optional("(") then return defs end
    repeat
      local loc = start
      expect("$")
      local n = name()
      expect(":")
      local t = parse_type()
      local default
      if optional("=") then default = parse_value(true) end
      defs[#defs + 1] = { kind = "VariableDefinition", variable = n, type = t, default_value = default,
        directives = parse_directives(true), loc = loc }
    until optional(")")
    return defs
  end

  local function parse_operation()
    local loc = start
    if kind == "{" then
      return { kind = "OperationDefinition", operation = "query", variable_definitions = {},
        directives = {}, selection_set = parse_selection_set(), loc = loc }
    end
    local op = value
    advance()
    local n
    if kind == "Name" then n = name() end
    local vars = parse_variable_definitions()
    local dirs = parse_directives(false)
    return { kind = "OperationDefinition", operation = op, name = n, variable_definitions = vars,
      directives = dirs, selection_set = parse_selection_set(), loc = loc }
  end

  local function parse_fragment()
    local loc = start
    expect_keyword("fragment")
    if kind == "Name" and value == "on" then unexpected() end
    local n = name()
    expect_keyword("on")
    local cond = name()
    local dirs = parse_directives(false)
    return { kind = "FragmentDefinition", name = n, type_condition = cond, directives = dirs,
      selection_set = parse_selection_set(), loc = loc }
  end

  -- Type system -------------------------------------------------------------

  local function parse_description()
    if kind == "String" or kind == "BlockString" then
      local v = value
      advance()
      return v
    end
  end

  local function parse_input_values(open, close)
    local list = {}
    if not optional(open) then return list end
    while not optional(close) do
      local loc = start
      local d = parse_description()
      local n = name()
      expect(":")
      local t = parse_type()
      local default
      if optional("=") then default = parse_value(true) end
      list[#list + 1] = { kind = "InputValueDefinition", name = n, description = d, type = t,
        default_value = default, directives = parse_directives(true), loc = loc }
    end
    return list
  end

  local function parse_fields()
    local list = {}
    if not optional("{") then return list end
    while not optional("}") do
      local loc = start
      local d = parse_description()
      local n = name()
      local args = parse_input_values("(", ")")
      expect(":")
      list[#list + 1] = { kind = "FieldDefinition", name = n, description = d, arguments = args,
        type = parse_type(), directives = parse_directives(true), loc = loc }
    end
    return list
  end

  local function parse_implements()
    local list = {}
    if kind ~= "Name" or value ~= "implements" then return list end
    advance()
    optional("&")
    repeat list[#list + 1] = name() until not optional("&")
    return list
  end

  local function parse_type_system(extend)
    local loc = start
    local description = not extend and parse_description() or nil
    if kind ~= "Name" then unexpected() end
    local word = value
    local suffix = extend and "Extension" or "Definition"
    if word == "schema" then
      advance()
      local dirs = parse_directives(true)
      local ops = {}
      if optional("{") then
        repeat
          local op = name()
          if not OPERATIONS[op] then fail('Unexpected Name "' .. op .. '".', start) end
          expect(":")
          ops[op] = name()
        until optional("}")
      end
      return { kind = "Schema" .. suffix, description = description, directives = dirs,
        operation_types = ops, loc = loc }
    elseif word == "scalar" then
      advance()
      local n = name()
      return { kind = "ScalarType" .. suffix, name = n, description = description,
        directives = parse_directives(true), loc = loc }
    elseif word == "type" or word == "interface" then
      advance()
      local n = name()
      local ifaces = parse_implements()
      local dirs = parse_directives(true)
      return { kind = (word == "type" and "ObjectType" or "InterfaceType") .. suffix, name = n,
        description = description, interfaces = ifaces, directives = dirs, fields = parse_fields(), loc = loc }
    elseif word == "union" then
      advance()
      local n = name()
      local dirs = parse_directives(true)
      local types = {}
      if optional("=") then
        optional("|")
        repeat types[#types + 1] = name() until not optional("|")
      end
      return { kind = "UnionType" .. suffix, name = n, description = description, directives = dirs,
        types = types, loc = loc }
    elseif word == "enum" then
      advance()
      local n = name()
      local dirs = parse_directives(true)
      local values = {}
      if optional("{") then
        while not optional("}") do
          local vloc = start
          local d = parse_description()
          local v = name()
          if v == "true" or v == "false" or v == "null" then
            fail('Name "' .. v .. '" is reserved and cannot be used for an enum value.', vloc)
          end
          values[#values + 1] = { kind = "EnumValueDefinition", name = v, description = d,
            directives = parse_directives(true), loc = vloc }
        end
      end
      return { kind = "EnumType" .. suffix, name = n, description = description, directives = dirs,
        values = values, loc = loc }
    elseif word == "input" then
      advance()
      local n = name()
      local dirs = parse_directives(true)
      return { kind = "InputObjectType" .. suffix, name = n, description = description,
        directives = dirs, fields = parse_input_values("{", "}"), loc = loc }
    elseif word == "directive" and not extend then
      advance()
      expect("@")
      local n = name()
      local args = parse_input_values("(", ")")
      local repeatable = false
      if kind == "Name" and value == "repeatable" then advance(); repeatable = true end
      expect_keyword("on")
      optional("|")
      local locs = {}
      repeat locs[#locs + 1] = name() until not optional("|")
      return { kind = "DirectiveDefinition", name = n, description = description, arguments = args,
        repeatable = repeatable, locations = locs, loc = loc }
    end
    unexpected()
  end

  local function parse_definition()
    if kind == "{" then return parse_operation() end
    if kind == "String" or kind == "BlockString" then return parse_type_system(false) end
    if kind == "Name" then
      if OPERATIONS[value] then return parse_operation() end
      if value == "fragment" then return parse_fragment() end
      if TYPE_KEYWORDS[value] then return parse_type_system(false) end
      if value == "extend" then advance(); return parse_type_system(true) end
    end
    unexpected()
  end

  local ok, res = pcall(function()
    advance()
    local defs = {}
    repeat defs[#defs + 1] = parse_definition() until kind == "<EOF>"
    return defs
  end)
  if not ok then
    if type(res) == "table" and res.syntax then
      local line, column = location(src, res.offset, {})
      return nil, { message = res.message, locations = { { line = line, column = column } } }
    end
    error(res, 0)
  end
  return { kind = "Document", definitions = res, source = src }
end

-- { line = , column = } of a node's loc within doc (line table cached on doc).
function M.location(doc, offset)
  local cache = doc._lines
  if not cache then cache = {}; doc._lines = cache end
  local line, column = location(doc.source, offset or 1, cache)
  return { line = line, column = column }
end

return M
