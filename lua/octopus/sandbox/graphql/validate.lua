-- GraphQL document validation (the core rules of the spec, graphql-js wording).
--
-- validate(schema, doc [, { max_depth = N, max_errors = 100 }]) -> errors (possibly empty)
--   error = { message, locations = { { line, column } } [, extensions] }
--   After max_errors errors it stops, adding graphql-js's "Too many validation errors,
--   error limit reached. Validation aborted." (no locations), so a crafted document
--   costs at most that many errors (and their locations).
-- Rules: executable definitions, unique operation/fragment/variable/argument/
-- input-field names, lone anonymous operation, known operation types, fields on
-- correct type, scalar leafs, known/unique/provided arguments, values of correct
-- type, known types, variables are input types, variables defined/used/allowed
-- position, known/unused fragments, no fragment cycles, possible fragment
-- spreads, fragments on composite types, known/unique directives and their
-- locations, simple overlapping-field conflicts, optional depth limit
-- (extensions { errorCode = "KT-CT-1188", errorType = "VALIDATION" }).
-- Invariant: never raises on any parsed document; works with unknown types.
local S = require "octopus.sandbox.graphql.schema"
local values = require "octopus.sandbox.graphql.values"
local parser = require "octopus.sandbox.graphql.parser"

local ts, named_type, print_value = values.type_string, S.named_type, values.print

local function q(s) return '"' .. s .. '"' end

-- Can objects of composite types a and b ever be the same object?
local function overlap(a, b)
  if a == b then return true end
  local pa = a.kind == "OBJECT" and { [a.name] = a } or a.possible_types or {}
  local pb = b.kind == "OBJECT" and { [b.name] = b } or b.possible_types or {}
  for name in pairs(pa) do if pb[name] then return true end end
  return false
end

-- Is variable type a usable where type b is expected (spec IsTypeSubTypeOf)?
local function subtype(a, b)
  if a == b then return true end
  if b.kind == "NON_NULL" then return a.kind == "NON_NULL" and subtype(a.of_type, b.of_type) end
  if a.kind == "NON_NULL" then return subtype(a.of_type, b) end
  if b.kind == "LIST" then return a.kind == "LIST" and subtype(a.of_type, b.of_type) end
  if a.kind == "LIST" then return false end
  return b.possible_types ~= nil and a.kind == "OBJECT" and b.possible_types[a.name] ~= nil
end

local function args_key(args)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = a.name .. ":" .. print_value(a.value) end
  table.sort(parts)
  return table.concat(parts, ",")
end

local M = {}

-- Field nesting depth of an operation ({ a { b } } is 2); fragment cycles are cut.
function M.depth(op, frags)
  local visiting, memo = {}, {}
  local function depth(set)
    local max = 0
    for _, sel in ipairs(set.selections) do
      local d = 0
      if sel.kind == "Field" then
        d = 1 + (sel.selection_set and depth(sel.selection_set) or 0)
      elseif sel.kind == "InlineFragment" then
        d = depth(sel.selection_set)
      else
        local f = frags[sel.name]
        if memo[sel.name] then
          d = memo[sel.name]
        elseif f and not visiting[sel.name] then
          visiting[sel.name] = true
          d = depth(f.selection_set)
          visiting[sel.name] = nil
          memo[sel.name] = d
        end
      end
      if d > max then max = d end
    end
    return max
  end
  return depth(op.selection_set)
end

M.max_errors = 100
local ABORT = {}   -- raised by report once the error list is full

local function run(schema, doc, opts, errors)
  local max_errors = opts and opts.max_errors or M.max_errors
  local function report(msg, nodes, ext)
    if #errors >= max_errors then
      errors[#errors + 1] = { message = "Too many validation errors, error limit reached. Validation aborted." }
      error(ABORT, 0)
    end
    local locs = {}
    for _, n in ipairs(nodes) do
      if n and n.loc then locs[#locs + 1] = parser.location(doc, n.loc) end
    end
    errors[#errors + 1] = { message = msg, locations = locs, extensions = ext }
  end

  local ops, frags, frag_list = {}, {}, {}
  for _, d in ipairs(doc.definitions) do
    if d.kind == "OperationDefinition" then
      ops[#ops + 1] = d
    elseif d.kind == "FragmentDefinition" then
      if frags[d.name] then
        report("There can be only one fragment named " .. q(d.name) .. ".", { frags[d.name], d })
      else
        frags[d.name] = d
        frag_list[#frag_list + 1] = d
      end
    elseif d.kind == "SchemaDefinition" or d.kind == "SchemaExtension" then
      report("The schema definition is not executable.", { d })
    else
      report("The " .. q(d.name) .. " definition is not executable.", { d })
    end
  end

  local names = {}
  for _, op in ipairs(ops) do
    if op.name then
      if names[op.name] then
        report("There can be only one operation named " .. q(op.name) .. ".", { names[op.name], op })
      else
        names[op.name] = op
      end
    elseif #ops > 1 then
      report("This anonymous operation must be the only defined operation.", { op })
    end
  end

  local check_value
  local function walk_untyped(node, ctx)
    if node.kind == "Variable" then
      ctx.usages[#ctx.usages + 1] = { name = node.name, node = node }
    elseif node.kind == "ListValue" then
      for _, v in ipairs(node.values) do walk_untyped(v, ctx) end
    elseif node.kind == "ObjectValue" then
      for _, f in ipairs(node.fields) do walk_untyped(f.value, ctx) end
    end
  end

  function check_value(node, t, ctx, has_default)
    if node.kind == "Variable" then
      ctx.usages[#ctx.usages + 1] = { name = node.name, type = t, has_default = has_default, node = node }
      return
    end
    if not t then return walk_untyped(node, ctx) end
    if t.kind == "NON_NULL" then
      if node.kind == "NullValue" then
        return report("Expected value of type " .. q(ts(t)) .. ", found null.", { node })
      end
      return check_value(node, t.of_type, ctx, has_default)
    end
    if node.kind == "NullValue" then return end
    if t.kind == "LIST" then
      if node.kind == "ListValue" then
        for _, v in ipairs(node.values) do check_value(v, t.of_type, ctx, false) end
      else
        check_value(node, t.of_type, ctx, false)
      end
      return
    end
    if t.kind == "INPUT_OBJECT" then
      if node.kind ~= "ObjectValue" then
        report("Expected value of type " .. q(t.name) .. ", found " .. print_value(node) .. ".", { node })
        return walk_untyped(node, ctx)
      end
      local given = {}
      for _, f in ipairs(node.fields) do
        if given[f.name] then
          report("There can be only one input field named " .. q(f.name) .. ".", { given[f.name], f })
        end
        given[f.name] = f
        local def = t.fields[f.name]
        if not def then
          report("Field " .. q(f.name) .. " is not defined by type " .. q(t.name) .. ".", { f })
          walk_untyped(f.value, ctx)
        else
          check_value(f.value, def.type, ctx, def.default_value ~= nil)
        end
      end
      for _, name in ipairs(t.field_names) do
        local def = t.fields[name]
        if not given[name] and def.type.kind == "NON_NULL" and def.default_value == nil then
          report("Field " .. q(t.name .. "." .. name) .. " of required type " .. q(ts(def.type)) ..
            " was not provided.", { node })
        end
      end
      return
    end
    local msg = values.leaf_literal_error(t, node)
    if msg then report(msg, { node }) end
    walk_untyped(node, ctx)
  end

  -- arguments against defs (nil defs: unknown field/directive, just walk values)
  local function check_args(arg_nodes, defs, arg_names, ctx, unknown_suffix, owner, owner_label)
    local given = {}
    for _, a in ipairs(arg_nodes) do
      if given[a.name] then
        report("There can be only one argument named " .. q(a.name) .. ".", { given[a.name], a })
      end
      given[a.name] = a
      local def = defs and defs[a.name]
      if defs and not def then report("Unknown argument " .. q(a.name) .. " on " .. unknown_suffix .. ".", { a }) end
      check_value(a.value, def and def.type, ctx, def and def.default_value ~= nil)
    end
    if not defs then return end
    for _, name in ipairs(arg_names) do
      local def = defs[name]
      if not given[name] and def.type.kind == "NON_NULL" and def.default_value == nil then
        report(owner_label .. " argument " .. q(name) .. " of type " .. q(ts(def.type)) ..
          " is required, but it was not provided.", { owner })
      end
    end
  end

  local function check_directives(dirs, location, ctx)
    local seen = {}
    for _, d in ipairs(dirs or {}) do
      local def = schema.directives[d.name]
      local label = q("@" .. d.name)
      if not def then
        report("Unknown directive " .. label .. ".", { d })
        check_args(d.arguments, nil, nil, ctx)
      else
        if not def.locations[location] then
          report("Directive " .. label .. " may not be used on " .. location .. ".", { d })
        end
        if not def.repeatable then
          if seen[d.name] then
            report("The directive " .. label .. " can only be used once at this location.", { seen[d.name], d })
          end
          seen[d.name] = d
        end
        check_args(d.arguments, def.args, def.arg_names, ctx, "directive " .. label, d, "Directive " .. label)
      end
    end
  end

  local TYPENAME = { name = "__typename", type = { kind = "NON_NULL", of_type = schema.types.String },
    args = {}, arg_names = {} }

  local walk
  -- fields of one selection set by response key (inline fragments flattened)
  local function check_conflicts(set, parent, seen)
    for _, sel in ipairs(set.selections) do
      if sel.kind == "Field" then
        local key = sel.alias or sel.name
        local prev = seen[key]
        if not prev then
          seen[key] = { node = sel, parent = parent }
        elseif prev.parent == parent or (parent and parent.kind ~= "OBJECT") or
          (prev.parent and prev.parent.kind ~= "OBJECT") then
          local reason
          if prev.node.name ~= sel.name then
            reason = q(prev.node.name) .. " and " .. q(sel.name) .. " are different fields"
          elseif args_key(prev.node.arguments) ~= args_key(sel.arguments) then
            reason = "they have differing arguments"
          end
          if reason then
            report("Fields " .. q(key) .. " conflict because " .. reason ..
              ". Use different aliases on the fields to fetch both if this was intentional.", { prev.node, sel })
          end
        end
      elseif sel.kind == "InlineFragment" then
        local t = sel.type_condition and schema.types[sel.type_condition] or parent
        check_conflicts(sel.selection_set, t, seen)
      end
    end
  end

  -- inline: set belongs to an inline fragment (already conflict-checked with its parent set)
  function walk(set, parent, ctx, inline)
    if not inline then check_conflicts(set, parent, {}) end
    for _, sel in ipairs(set.selections) do
      if sel.kind == "Field" then
        check_directives(sel.directives, "FIELD", ctx)
        local def
        if sel.name == "__typename" then
          def = TYPENAME
        elseif parent then
          def = parent.fields and parent.fields[sel.name]
          if not def and parent == schema.query_type and schema.meta_fields then
            def = schema.meta_fields[sel.name]
          end
          if not def then
            report("Cannot query field " .. q(sel.name) .. " on type " .. q(parent.name) .. ".", { sel })
          end
        end
        check_args(sel.arguments, def and def.args, def and def.arg_names, ctx,
          "field " .. q((parent and parent.name or "?") .. "." .. sel.name), sel, "Field " .. q(sel.name))
        local named = def and named_type(def.type)
        if named then
          if S.is_leaf(named) then
            if sel.selection_set then
              report("Field " .. q(sel.name) .. " must not have a selection since type " .. q(ts(def.type)) ..
                " has no subfields.", { sel.selection_set })
            end
          elseif not sel.selection_set then
            report("Field " .. q(sel.name) .. " of type " .. q(ts(def.type)) ..
              " must have a selection of subfields. Did you mean " .. q(sel.name .. " { ... }") .. "?", { sel })
          end
        end
        if sel.selection_set then
          walk(sel.selection_set, named and S.is_composite(named) and named or nil, ctx)
        end
      elseif sel.kind == "InlineFragment" then
        check_directives(sel.directives, "INLINE_FRAGMENT", ctx)
        local t = parent
        if sel.type_condition then
          t = schema.types[sel.type_condition]
          if not t then
            report("Unknown type " .. q(sel.type_condition) .. ".", { sel })
          elseif not S.is_composite(t) then
            report("Fragment cannot condition on non composite type " .. q(t.name) .. ".", { sel })
            t = nil
          elseif parent and not overlap(parent, t) then
            report("Fragment cannot be spread here as objects of type " .. q(parent.name) ..
              " can never be of type " .. q(t.name) .. ".", { sel })
          end
        end
        walk(sel.selection_set, t, ctx, true)
      else -- FragmentSpread
        check_directives(sel.directives, "FRAGMENT_SPREAD", ctx)
        local f = frags[sel.name]
        if not f then
          report("Unknown fragment " .. q(sel.name) .. ".", { sel })
        else
          ctx.spreads[#ctx.spreads + 1] = sel
          local t = schema.types[f.type_condition]
          if parent and t and S.is_composite(t) and not overlap(parent, t) then
            report("Fragment " .. q(sel.name) .. " cannot be spread here as objects of type " .. q(parent.name) ..
              " can never be of type " .. q(t.name) .. ".", { sel })
          end
        end
      end
    end
  end

  local op_ctx, frag_ctx = {}, {}
  for _, op in ipairs(ops) do
    local ctx = { usages = {}, spreads = {}, var_defs = {}, var_types = {} }
    op_ctx[op] = ctx
    local root = schema[op.operation .. "_type"]
    if not root then report("The " .. op.operation .. " operation is not supported by the schema.", { op }) end
    check_directives(op.directives, op.operation:upper(), ctx)
    local dctx = { usages = {}, spreads = {} }
    for _, vd in ipairs(op.variable_definitions) do
      if ctx.var_defs[vd.variable] then
        report("There can be only one variable named " .. q("$" .. vd.variable) .. ".",
          { ctx.var_defs[vd.variable], vd })
      else
        ctx.var_defs[vd.variable] = vd
      end
      local vt = S.type_from_ast(schema, vd.type)
      if not vt then
        local n = vd.type
        while n.type do n = n.type end
        report("Unknown type " .. q(n.name) .. ".", { n })
      elseif not S.is_input_type(vt) then
        report("Variable " .. q("$" .. vd.variable) .. " cannot be non-input type " .. q(ts(vt)) .. ".", { vd.type })
        vt = nil
      end
      ctx.var_types[vd.variable] = vt
      if vd.default_value then check_value(vd.default_value, vt, dctx) end
      check_directives(vd.directives, "VARIABLE_DEFINITION", dctx)
    end
    walk(op.selection_set, root, ctx)
  end

  for _, f in ipairs(frag_list) do
    local ctx = { usages = {}, spreads = {} }
    frag_ctx[f.name] = ctx
    local t = schema.types[f.type_condition]
    if not t then
      report("Unknown type " .. q(f.type_condition) .. ".", { f })
    elseif not S.is_composite(t) then
      report("Fragment " .. q(f.name) .. " cannot condition on non composite type " .. q(t.name) .. ".", { f })
      t = nil
    end
    check_directives(f.directives, "FRAGMENT_DEFINITION", ctx)
    walk(f.selection_set, t, ctx)
  end

  -- fragment cycles
  local visited, index_of, path = {}, {}, {}
  local function detect(name)
    if visited[name] then return end
    visited[name] = true
    local spreads = frag_ctx[name].spreads
    if #spreads == 0 then return end
    index_of[name] = #path + 1
    for _, sp in ipairs(spreads) do
      local cycle_at = index_of[sp.name]
      path[#path + 1] = sp
      if not cycle_at then
        if frag_ctx[sp.name] then detect(sp.name) end
      else
        local cycle, via = {}, {}
        for i = cycle_at, #path do cycle[#cycle + 1] = path[i] end
        for i = 1, #cycle - 1 do via[i] = q(cycle[i].name) end
        report("Cannot spread fragment " .. q(sp.name) .. " within itself" ..
          (#via > 0 and (" via " .. table.concat(via, ", ") .. ".") or "."), cycle)
      end
      path[#path] = nil
    end
    index_of[name] = nil
  end
  for _, f in ipairs(frag_list) do detect(f.name) end

  -- per operation: transitive fragments, variables
  local used_frags = {}
  for _, op in ipairs(ops) do
    local ctx = op_ctx[op]
    local usages, seen, queue = {}, {}, {}
    for _, u in ipairs(ctx.usages) do usages[#usages + 1] = u end
    for _, sp in ipairs(ctx.spreads) do queue[#queue + 1] = sp.name end
    local i = 1
    while queue[i] do
      local name = queue[i]
      i = i + 1
      if not seen[name] and frag_ctx[name] then
        seen[name] = true
        used_frags[name] = true
        for _, u in ipairs(frag_ctx[name].usages) do usages[#usages + 1] = u end
        for _, sp in ipairs(frag_ctx[name].spreads) do queue[#queue + 1] = sp.name end
      end
    end
    local used = {}
    for _, u in ipairs(usages) do
      local vd = ctx.var_defs[u.name]
      if not vd then
        report("Variable " .. q("$" .. u.name) .. " is not defined" ..
          (op.name and (" by operation " .. q(op.name)) or "") .. ".", { u.node, op })
      else
        used[u.name] = true
        local vt = ctx.var_types[u.name]
        if vt and u.type then
          local ok
          if u.type.kind == "NON_NULL" and vt.kind ~= "NON_NULL" then
            local has_default = vd.default_value and vd.default_value.kind ~= "NullValue"
            ok = (has_default or u.has_default) and subtype(vt, u.type.of_type)
          else
            ok = subtype(vt, u.type)
          end
          if not ok then
            report("Variable " .. q("$" .. u.name) .. " of type " .. q(ts(vt)) ..
              " used in position expecting type " .. q(ts(u.type)) .. ".", { vd, u.node })
          end
        end
      end
    end
    for _, vd in ipairs(op.variable_definitions) do
      if not used[vd.variable] then
        report("Variable " .. q("$" .. vd.variable) .. " is never used" ..
          (op.name and (" in operation " .. q(op.name)) or "") .. ".", { vd })
      end
    end
  end
  for _, f in ipairs(frag_list) do
    if not used_frags[f.name] then report("Fragment " .. q(f.name) .. " is never used.", { f }) end
  end

  local max_depth = opts and opts.max_depth
  if max_depth then
    for _, op in ipairs(ops) do
      local d = M.depth(op, frags)
      if d > max_depth then
        report("Query is too complex: depth " .. d .. " exceeds the maximum depth of " .. max_depth .. ".", { op },
          { errorCode = "KT-CT-1188", errorType = "VALIDATION" })
      end
    end
  end
  return errors
end

function M.validate(schema, doc, opts)
  local errors = {}
  local ok, err = pcall(run, schema, doc, opts, errors)
  if not ok and err ~= ABORT then error(err, 0) end
  return errors
end

return M
