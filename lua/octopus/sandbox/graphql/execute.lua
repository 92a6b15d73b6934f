-- GraphQL execution (spec section 6) over a schema from schema.lua.
--
-- execute.execute{ schema, document, variables, operation_name, root_value, context,
--                  resolvers, null, array, object, on_error } -> { data = ..., errors = {...} | nil }
-- Invariants:
--  * GraphQL null in results and in resolver args is `null` (default execute.null);
--    Lua nil from a resolver also means null. Absent optional args are nil.
--  * Every list in the result (data lists, errors, locations, paths) goes through `array`,
--    every selection-set object in data through `object` (both default to identity).
--  * A field error is recorded once, at its origin path; a null in a non-null
--    position propagates to the nearest nullable parent (data may become null).
--  * Resolver failures: `return nil, { message, extensions }` or `error(execute.error_value{...})`
--    become that error; any other Lua error becomes "Internal server error"
--    { errorType = "APPLICATION" } (the raw error goes only to opts.on_error).
--  * Request errors (operation selection, variable coercion) give no `data` key.
local S = require "octopus.sandbox.graphql.schema"
local values = require "octopus.sandbox.graphql.values"
local parser = require "octopus.sandbox.graphql.parser"

local ts, from_ast, INVALID = values.type_string, values.from_ast, values.INVALID

local M = {}

M.null = setmetatable({}, { __tostring = function() return "null" end, __name = "graphql.null" })

local ERROR_MT = { __tostring = function(e) return "GraphQL error: " .. tostring(e.message) end }
local LOCATED_MT = {}
M.error_mt = ERROR_MT

-- A GraphQL error value (raise it with error()).
function M.error_value(t)
  if type(t) ~= "table" then t = { message = tostring(t) } end
  return setmetatable({ message = t.message ~= nil and tostring(t.message) or "Unknown error",
    extensions = t.extensions }, ERROR_MT)
end

local function fail(msg) error(M.error_value{ message = msg }, 0) end

function M.get_operation(doc, name)
  local found, count = nil, 0
  for _, d in ipairs(doc.definitions) do
    if d.kind == "OperationDefinition" then
      count = count + 1
      if name == nil then
        found = found or d
      elseif d.name == name then
        return d
      end
    end
  end
  if name ~= nil then return nil, 'Unknown operation named "' .. tostring(name) .. '".' end
  if count == 0 then return nil, "Must provide an operation." end
  if count > 1 then return nil, "Must provide operation name if query contains multiple operations." end
  return found
end

local function path_array(path)
  local rev, n = {}, 0
  while path do n = n + 1; rev[n] = path.key; path = path.prev end
  local out = {}
  for i = 1, n do out[i] = rev[n - i + 1] end
  return out
end

-- Turn anything raised under a field into a located error (once).
local function located(exe, e, node, path)
  if getmetatable(e) == LOCATED_MT then return e end
  local msg, ext
  if getmetatable(e) == ERROR_MT then
    msg, ext = e.message, e.extensions
  else
    if exe.on_error then pcall(exe.on_error, e, path_array(path)) end
    msg, ext = "Internal server error", { errorType = "APPLICATION" }
  end
  return setmetatable({ message = msg, locations = { parser.location(exe.doc, node.loc) },
    path = path_array(path), extensions = ext }, LOCATED_MT)
end

local function record(exe, e)
  if not exe.recorded[e] then
    exe.recorded[e] = true
    exe.errors[#exe.errors + 1] = e
  end
end

-- Raise a located error at path (for completion failures).
local function fail_at(exe, node, path, msg)
  error(located(exe, M.error_value{ message = msg }, node, path), 0)
end

local function if_arg(exe, d)
  for _, a in ipairs(d.arguments) do
    if a.name == "if" then
      if a.value.kind == "Variable" then return exe.variables[a.value.name] end
      return a.value.value
    end
  end
end

local function included(exe, sel)
  for _, d in ipairs(sel.directives) do
    if d.name == "skip" and if_arg(exe, d) == true then return false end
    if d.name == "include" and if_arg(exe, d) ~= true then return false end
  end
  return true
end

local function applies(exe, cond, t)
  local ct = exe.schema.types[cond]
  if not ct then return false end
  if ct == t then return true end
  return ct.possible_types ~= nil and ct.possible_types[t.name] ~= nil
end

local function collect(exe, t, set, keys, groups, visited)
  for _, sel in ipairs(set.selections) do
    if included(exe, sel) then
      local k = sel.kind
      if k == "Field" then
        local key = sel.alias or sel.name
        local g = groups[key]
        if not g then g = {}; groups[key] = g; keys[#keys + 1] = key end
        g[#g + 1] = sel
      elseif k == "InlineFragment" then
        if not sel.type_condition or applies(exe, sel.type_condition, t) then
          collect(exe, t, sel.selection_set, keys, groups, visited)
        end
      elseif not visited[sel.name] then
        visited[sel.name] = true
        local f = exe.fragments[sel.name]
        if f and applies(exe, f.type_condition, t) then
          collect(exe, t, f.selection_set, keys, groups, visited)
        end
      end
    end
  end
end

local function coerce_args(exe, def, node)
  local args = {}
  if #def.arg_names == 0 then return args end
  local given, null = {}, exe.null
  for _, a in ipairs(node.arguments) do given[a.name] = a.value end
  for _, name in ipairs(def.arg_names) do
    local ad = def.args[name]
    local t, vn = ad.type, given[name]
    if vn and vn.kind == "Variable" and exe.variables[vn.name] == nil then vn = nil end
    local v
    if not vn then
      if ad.default_value then
        v = from_ast(ad.default_value, t, nil, null)
      elseif t.kind == "NON_NULL" then
        fail('Argument "' .. name .. '" of required type "' .. ts(t) .. '" was not provided.')
      end
    else
      v = from_ast(vn, t, exe.variables, null)
      if v == INVALID then
        if vn.kind == "Variable" then
          fail('Argument "' .. name .. '" of non-null type "' .. ts(t) .. '" must not be null.')
        end
        fail('Argument "' .. name .. '" has invalid value ' .. values.print(vn) .. ".")
      end
    end
    args[name] = v
  end
  return args
end

local execute_set

local function complete(exe, t, nodes, path, value, parent, def)
  if t.kind == "NON_NULL" then
    local v = complete(exe, t.of_type, nodes, path, value, parent, def)
    if v == exe.null then
      fail_at(exe, nodes[1], path,
        "Cannot return null for non-nullable field " .. parent.name .. "." .. def.name .. ".")
    end
    return v
  end
  if value == nil or value == exe.null then return exe.null end
  local k = t.kind
  if k == "LIST" then
    if type(value) ~= "table" then
      fail_at(exe, nodes[1], path, 'Expected Iterable, but did not find one for field "' ..
        parent.name .. "." .. def.name .. '".')
    end
    local item, out = t.of_type, {}
    local nullable = item.kind ~= "NON_NULL"
    for i = 1, #value do
      local ipath = { prev = path, key = i - 1 }
      if nullable then
        local ok, v = pcall(complete, exe, item, nodes, ipath, value[i], parent, def)
        if not ok then
          record(exe, located(exe, v, nodes[1], ipath))
          v = exe.null
        end
        out[i] = v
      else
        out[i] = complete(exe, item, nodes, ipath, value[i], parent, def)
      end
    end
    return exe.array(out)
  end
  if k == "SCALAR" or k == "ENUM" then
    local v, msg = values.serialize(t, value, exe.null)
    if msg then fail_at(exe, nodes[1], path, msg) end
    return v
  end
  if k == "INTERFACE" or k == "UNION" then
    local fn = exe.resolve_type and exe.resolve_type[t.name]
    local name
    if fn then
      name = fn(value, exe.context)
    elseif type(value) == "table" then
      name = value.__typename
    end
    if type(name) == "table" then name = name.name end
    if name == nil then
      fail_at(exe, nodes[1], path,
        'Abstract type "' .. t.name .. '" must resolve to an Object type at runtime for field "' ..
        parent.name .. "." .. def.name .. '". Either the "' .. t.name ..
        '" type should provide a "resolveType" function or each possible type should provide an "isTypeOf" function.')
    end
    local rt = exe.schema.types[name]
    if not rt or rt.kind ~= "OBJECT" then
      fail_at(exe, nodes[1], path, 'Abstract type "' .. t.name .. '" was resolved to a type "' .. tostring(name) ..
        '" that does not exist inside the schema.')
    end
    if not t.possible_types[name] then
      fail_at(exe, nodes[1], path,
        'Runtime Object type "' .. name .. '" is not a possible type for "' .. t.name .. '".')
    end
    t = rt
  end
  return execute_set(exe, t, value, path, nodes)
end

local function resolve_field(exe, parent, def, source, nodes, path)
  local node = nodes[1]
  local args = coerce_args(exe, def, node)
  local tr = exe.resolvers[parent.name]
  local fn = tr and tr[def.name] or def.resolve
  local value
  if fn then
    local info = { field_name = def.name, parent_type = parent, return_type = def.type, path = path_array(path),
      operation = exe.operation, variables = exe.variables, fragments = exe.fragments, field_nodes = nodes,
      schema = exe.schema, root_value = exe.root_value }
    local err
    value, err = fn(source, args, exe.context, info)
    if value == nil and err ~= nil then error(M.error_value(err), 0) end
  elseif type(source) == "table" then
    value = source[def.name]
  end
  return complete(exe, def.type, nodes, path, value, parent, def)
end

local function execute_field(exe, parent, source, nodes, path)
  local name = nodes[1].name
  if name == "__typename" then return parent.name end
  local def = parent.fields[name]
  if not def then
    local meta = parent == exe.schema.query_type and exe.schema.meta_fields
    def = meta and meta[name]
    if not def then return nil end
  end
  local ok, res = pcall(resolve_field, exe, parent, def, source, nodes, path)
  if ok then return res end
  local e = located(exe, res, nodes[1], path)
  record(exe, e)
  if def.type.kind == "NON_NULL" then error(e, 0) end
  return exe.null
end

function execute_set(exe, t, source, path, nodes)
  local keys, groups, visited = {}, {}, {}
  for _, n in ipairs(nodes) do
    if n.selection_set then collect(exe, t, n.selection_set, keys, groups, visited) end
  end
  local out = {}
  for _, key in ipairs(keys) do
    local v = execute_field(exe, t, source, groups[key], { prev = path, key = key })
    if v ~= nil then out[key] = v end
  end
  return exe.object(out)
end

local function identity(t) return t end

local function request_error(exe, msg, node)
  return { message = msg, locations = node and exe.array{ parser.location(exe.doc, node.loc) } or nil }
end

local function coerce_variables(exe, op, inputs)
  local out, errs, null = {}, {}, exe.null
  inputs = inputs or {}
  for _, vd in ipairs(op.variable_definitions) do
    local name = vd.variable
    local label = 'Variable "$' .. name .. '"'
    local t = S.type_from_ast(exe.schema, vd.type)
    if not t or not S.is_input_type(t) then
      errs[#errs + 1] = request_error(exe, label .. ' expected value of type "' .. S.type_string(vd.type) ..
        '" which cannot be used as an input type.', vd)
    else
      local v = inputs[name]
      if v == nil then
        if vd.default_value then
          out[name] = from_ast(vd.default_value, t, nil, null)
        elseif t.kind == "NON_NULL" then
          errs[#errs + 1] = request_error(exe, label .. ' of required type "' .. ts(t) .. '" was not provided.', vd)
        end
      elseif v == null and t.kind == "NON_NULL" then
        errs[#errs + 1] = request_error(exe, label .. ' of non-null type "' .. ts(t) .. '" must not be null.', vd)
      else
        local c, msg, sub, bad = values.coerce_input(v, t, null)
        if msg then
          errs[#errs + 1] = request_error(exe, label .. " got invalid value " .. values.inspect(bad, null) ..
            (sub ~= "" and (' at "' .. name .. sub .. '"') or "") .. "; " .. msg, vd)
        else
          out[name] = c
        end
      end
    end
  end
  if #errs > 0 then return nil, errs end
  return out
end

local function finish(exe, data, errors)
  local res = { data = data }
  if errors and #errors > 0 then
    for i, e in ipairs(errors) do
      setmetatable(e, nil)
      if e.path then exe.array(e.path) end
      if e.locations then exe.array(e.locations) end
      errors[i] = e
    end
    res.errors = exe.array(errors)
  end
  return res
end

function M.execute(opts)
  local resolvers = opts.resolvers or {}
  local exe = {
    schema = opts.schema, doc = opts.document, context = opts.context, root_value = opts.root_value,
    resolvers = resolvers, resolve_type = resolvers.__resolve_type, null = opts.null or M.null,
    array = opts.array or identity, object = opts.object or identity, on_error = opts.on_error,
    errors = {}, recorded = setmetatable({}, { __mode = "k" }), fragments = {},
  }
  local op, err = M.get_operation(exe.doc, opts.operation_name)
  if not op then return finish(exe, nil, { request_error(exe, err) }) end
  exe.operation = op
  for _, d in ipairs(exe.doc.definitions) do
    if d.kind == "FragmentDefinition" then exe.fragments[d.name] = d end
  end
  local root = exe.schema[op.operation .. "_type"]
  if not root then
    return finish(exe, nil, { request_error(exe, "Schema is not configured to execute " .. op.operation ..
      " operation.", op) })
  end
  local vars, errs = coerce_variables(exe, op, opts.variables)
  if not vars then return finish(exe, nil, errs) end
  exe.variables = vars
  local ok, data = pcall(execute_set, exe, root, opts.root_value, nil, { op })
  if not ok then
    record(exe, located(exe, data, op, nil))
    data = exe.null
  end
  return finish(exe, data, exe.errors)
end

return M
