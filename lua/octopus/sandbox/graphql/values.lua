-- GraphQL values: printing literals, literal and runtime input coercion, scalar
-- serialization. Shared by validate.lua and execute.lua.
--
-- A GraphQL null is the caller's `null` sentinel (never Lua nil, which means
-- "absent"). values.INVALID is returned when a literal cannot be coerced.
-- Int is 32-bit signed; on Lua 5.3+ integral numbers come back as integers.
local floor, format, concat = math.floor, string.format, table.concat
local tointeger = math.tointeger or function(n) return n end

local M = {}

local INVALID = setmetatable({}, { __tostring = function() return "INVALID" end })
M.INVALID = INVALID

local MAX_INT, MIN_INT = 2147483647, -2147483648

function M.quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\n" then return "\\n" elseif c == "\r" then return "\\r"
    elseif c == "\t" then return "\\t" end
    return format("\\u%04X", c:byte())
  end) .. '"'
end

local function number_string(n)
  if n ~= n then return "NaN" end
  if n == floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return format("%d", n) end
  if n == math.huge then return "Infinity" elseif n == -math.huge then return "-Infinity" end
  local s = format("%.14g", n)
  if tonumber(s) ~= n then s = format("%.17g", n) end
  return s
end
M.number_string = number_string

-- graphql-js print() of a value AST node.
function M.print(node)
  local k = node.kind
  if k == "IntValue" or k == "FloatValue" or k == "EnumValue" then return node.value end
  if k == "StringValue" then return M.quote(node.value) end
  if k == "BooleanValue" then return tostring(node.value) end
  if k == "NullValue" then return "null" end
  if k == "Variable" then return "$" .. node.name end
  local parts = {}
  if k == "ListValue" then
    for i, v in ipairs(node.values) do parts[i] = M.print(v) end
    return "[" .. concat(parts, ", ") .. "]"
  end
  for i, f in ipairs(node.fields) do parts[i] = f.name .. ": " .. M.print(f.value) end
  return "{" .. concat(parts, ", ") .. "}"
end

-- graphql-js inspect() of a runtime value, for messages.
function M.inspect(v, null, depth)
  depth = depth or 0
  local t = type(v)
  if v == nil or v == null then return "null" end
  if t == "string" then return M.quote(v) end
  if t == "number" then return number_string(v) end
  if t ~= "table" then return tostring(v) end
  if depth > 2 then return "[Object]" end
  local parts = {}
  if v[1] ~= nil or next(v) == nil then
    for i = 1, #v do parts[i] = M.inspect(v[i], null, depth + 1) end
    return "[" .. concat(parts, ", ") .. "]"
  end
  local keys = {}
  for key in pairs(v) do keys[#keys + 1] = tostring(key) end
  table.sort(keys)
  for i, key in ipairs(keys) do parts[i] = key .. ": " .. M.inspect(v[key], null, depth + 1) end
  return "{ " .. concat(parts, ", ") .. " }"
end

-- Validation of a scalar/enum literal: nil when fine, else the graphql-js message.
function M.leaf_literal_error(t, node)
  local k = node.kind
  if t.kind == "ENUM" then
    if k ~= "EnumValue" then
      return 'Enum "' .. t.name .. '" cannot represent non-enum value: ' .. M.print(node) .. "."
    end
    if not t.values[node.value] then
      return 'Value "' .. node.value .. '" does not exist in "' .. t.name .. '" enum.'
    end
    return nil
  end
  local name = t.name
  if not t.builtin then return nil end
  if name == "Int" then
    if k ~= "IntValue" then return "Int cannot represent non-integer value: " .. M.print(node) end
    local n = tonumber(node.value)
    if n > MAX_INT or n < MIN_INT then
      return "Int cannot represent non 32-bit signed integer value: " .. node.value
    end
  elseif name == "Float" then
    if k ~= "IntValue" and k ~= "FloatValue" then
      return "Float cannot represent non numeric value: " .. M.print(node)
    end
  elseif name == "String" then
    if k ~= "StringValue" then return "String cannot represent a non string value: " .. M.print(node) end
  elseif name == "Boolean" then
    if k ~= "BooleanValue" then return "Boolean cannot represent a non boolean value: " .. M.print(node) end
  elseif name == "ID" then
    if k ~= "StringValue" and k ~= "IntValue" then
      return "ID cannot represent a non-string and non-integer value: " .. M.print(node)
    end
  end
  return nil
end

-- A literal of a custom scalar, as plain Lua data (variables substituted).
local function untyped(node, vars, null)
  local k = node.kind
  if k == "IntValue" then return tointeger(tonumber(node.value)) end
  if k == "FloatValue" then return tonumber(node.value) end
  if k == "StringValue" or k == "EnumValue" or k == "BooleanValue" then return node.value end
  if k == "NullValue" then return null end
  if k == "Variable" then local v = vars and vars[node.name]; if v == nil then return null end; return v end
  local out = {}
  if k == "ListValue" then
    for i, v in ipairs(node.values) do out[i] = untyped(v, vars, null) end
  else
    for _, f in ipairs(node.fields) do out[f.name] = untyped(f.value, vars, null) end
  end
  return out
end

-- Coerce a literal to type t (spec valueFromAST). vars = coerced variables
-- (absent variables are nil). Returns the value, nil for "absent", or INVALID.
function M.from_ast(node, t, vars, null)
  if node.kind == "Variable" then
    local v = vars and vars[node.name]
    if v == nil then return nil end
    if v == null and t.kind == "NON_NULL" then return INVALID end
    return v
  end
  if t.kind == "NON_NULL" then
    if node.kind == "NullValue" then return INVALID end
    local v = M.from_ast(node, t.of_type, vars, null)
    if v == nil or v == null then return INVALID end
    return v
  end
  if node.kind == "NullValue" then return null end
  if t.kind == "LIST" then
    local item = t.of_type
    if node.kind ~= "ListValue" then
      local v = M.from_ast(node, item, vars, null)
      if v == INVALID or v == nil then return INVALID end
      return { v }
    end
    local out = {}
    for i, n in ipairs(node.values) do
      local v = M.from_ast(n, item, vars, null)
      if v == nil then
        if item.kind == "NON_NULL" then return INVALID end
        v = null
      end
      if v == INVALID then return INVALID end
      out[i] = v
    end
    return out
  end
  if t.kind == "INPUT_OBJECT" then
    if node.kind ~= "ObjectValue" then return INVALID end
    local given = {}
    for _, f in ipairs(node.fields) do
      if not t.fields[f.name] then return INVALID end
      given[f.name] = f.value
    end
    local out = {}
    for _, name in ipairs(t.field_names) do
      local def = t.fields[name]
      local fnode = given[name]
      local v
      if fnode then v = M.from_ast(fnode, def.type, vars, null) end
      if v == nil then
        if def.default_value then
          v = M.from_ast(def.default_value, def.type, nil, null)
        elseif def.type.kind == "NON_NULL" then
          return INVALID
        end
      end
      if v == INVALID then return INVALID end
      out[name] = v
    end
    return out
  end
  if t.kind == "ENUM" then
    if node.kind == "EnumValue" and t.values[node.value] then return node.value end
    return INVALID
  end
  if M.leaf_literal_error(t, node) then return INVALID end
  if not t.builtin then return untyped(node, vars, null) end
  local name = t.name
  if name == "Int" then return tointeger(tonumber(node.value)) end
  if name == "Float" then return tonumber(node.value) end
  return node.value -- String, Boolean, ID (string)
end

local function path_suffix(path)
  local s = {}
  for i, p in ipairs(path) do
    s[i] = type(p) == "number" and ("[" .. p .. "]") or ("." .. p)
  end
  return concat(s)
end

-- Coerce a runtime (JSON) input value to type t (spec CoerceInputValue).
-- Returns value or nil, message, path_string (path relative to the value).
function M.coerce_input(v, t, null, path)
  path = path or {}
  if t.kind == "NON_NULL" then
    if v == nil or v == null then
      return nil, 'Expected non-nullable type "' .. M.type_string(t) .. '" not to be null.', path_suffix(path), v
    end
    return M.coerce_input(v, t.of_type, null, path)
  end
  if v == nil or v == null then return null end
  local kind = t.kind
  if kind == "LIST" then
    if type(v) == "table" and (v[1] ~= nil or next(v) == nil) then
      local out = {}
      for i = 1, #v do
        path[#path + 1] = i - 1
        local c, msg, p, bad = M.coerce_input(v[i], t.of_type, null, path)
        path[#path] = nil
        if msg then return nil, msg, p, bad end
        out[i] = c
      end
      return out
    end
    local c, msg, p, bad = M.coerce_input(v, t.of_type, null, path)
    if msg then return nil, msg, p, bad end
    return { c }
  end
  if kind == "INPUT_OBJECT" then
    if type(v) ~= "table" or (v[1] ~= nil) then
      return nil, 'Expected type "' .. t.name .. '" to be an object.', path_suffix(path), v
    end
    for key in pairs(v) do
      if not t.fields[key] then
        return nil, 'Field "' .. tostring(key) .. '" is not defined by type "' .. t.name .. '".', path_suffix(path), v
      end
    end
    local out = {}
    for _, name in ipairs(t.field_names) do
      local def = t.fields[name]
      local fv = v[name]
      if fv == nil then
        if def.default_value then
          out[name] = M.from_ast(def.default_value, def.type, nil, null)
        elseif def.type.kind == "NON_NULL" then
          return nil, 'Field "' .. name .. '" of required type "' .. M.type_string(def.type) .. '" was not provided.',
            path_suffix(path), v
        end
      else
        path[#path + 1] = name
        local c, msg, p, bad = M.coerce_input(fv, def.type, null, path)
        path[#path] = nil
        if msg then return nil, msg, p, bad end
        out[name] = c
      end
    end
    return out
  end
  local sp = path_suffix(path)
  if kind == "ENUM" then
    if type(v) ~= "string" then
      return nil, 'Enum "' .. t.name .. '" cannot represent non-string value: ' .. M.inspect(v, null) .. ".", sp, v
    end
    if not t.values[v] then return nil, 'Value "' .. v .. '" does not exist in "' .. t.name .. '" enum.', sp, v end
    return v
  end
  if not t.builtin then return v end
  local name, tv = t.name, type(v)
  if name == "Int" then
    if tv ~= "number" or v ~= floor(v) then
      return nil, "Int cannot represent non-integer value: " .. M.inspect(v, null), sp, v
    end
    if v > MAX_INT or v < MIN_INT then
      return nil, "Int cannot represent non 32-bit signed integer value: " .. M.inspect(v, null), sp, v
    end
    return tointeger(v)
  elseif name == "Float" then
    if tv ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      return nil, "Float cannot represent non numeric value: " .. M.inspect(v, null), sp, v
    end
    return v
  elseif name == "String" then
    if tv ~= "string" then return nil, "String cannot represent a non string value: " .. M.inspect(v, null), sp, v end
    return v
  elseif name == "Boolean" then
    if tv ~= "boolean" then
      return nil, "Boolean cannot represent a non boolean value: " .. M.inspect(v, null), sp, v
    end
    return v
  else -- ID
    if tv == "string" then return v end
    if tv == "number" and v == floor(v) then return number_string(v) end
    return nil, "ID cannot represent value: " .. M.inspect(v, null), sp, v
  end
end

-- Serialize a resolved leaf value; returns value or nil, message.
function M.serialize(t, v, null)
  local tv = type(v)
  if t.kind == "ENUM" then
    if tv == "string" and t.values[v] then return v end
    return nil, 'Enum "' .. t.name .. '" cannot represent value: ' .. M.inspect(v, null)
  end
  if not t.builtin then return v end
  local name = t.name
  if name == "String" then
    if tv == "string" then return v end
    if tv == "number" then return number_string(v) end
    if tv == "boolean" then return tostring(v) end
    return nil, "String cannot represent value: " .. M.inspect(v, null)
  elseif name == "Int" then
    local n = v
    if tv == "string" then n = tonumber(v) elseif tv == "boolean" then n = v and 1 or 0 end
    if type(n) ~= "number" or n ~= floor(n) then
      return nil, "Int cannot represent non-integer value: " .. M.inspect(v, null)
    end
    if n > MAX_INT or n < MIN_INT then
      return nil, "Int cannot represent non 32-bit signed integer value: " .. M.inspect(v, null)
    end
    return tointeger(n)
  elseif name == "Float" then
    local n = v
    if tv == "string" then n = tonumber(v) elseif tv == "boolean" then n = v and 1 or 0 end
    if type(n) ~= "number" or n ~= n or n == math.huge or n == -math.huge then
      return nil, "Float cannot represent non numeric value: " .. M.inspect(v, null)
    end
    return n
  elseif name == "Boolean" then
    if tv == "boolean" then return v end
    if tv == "number" then return v ~= 0 end
    return nil, "Boolean cannot represent a non boolean value: " .. M.inspect(v, null)
  else -- ID
    if tv == "string" then return v end
    if tv == "number" and v == floor(v) then return number_string(v) end
    return nil, "ID cannot represent value: " .. M.inspect(v, null)
  end
end

function M.type_string(t)
  if t.kind == "NON_NULL" then return M.type_string(t.of_type) .. "!" end
  if t.kind == "LIST" then return "[" .. M.type_string(t.of_type) .. "]" end
  return t.name
end

return M
