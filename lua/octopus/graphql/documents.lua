-- octopus.graphql.documents: the shipped operations and what a document is.
--
-- Shipped operations are the *.graphql files beside this module, read once at require
-- time into M.documents[name] (name = file name without .graphql); spec/documents_spec.lua
-- validates each against the OEJP schema and the sandbox's subset.
--
--   documents.documents[name] -> text      documents.NAMES      documents.dir
--   documents.operation(text) -> "query" | "mutation" | "subscription", name | nil
--   documents.resolve(document) -> text (a shipped name or GraphQL text; raises otherwise)
local usage = require "octopus.pipeline.usage"

local type, ipairs, error = type, ipairs, error

local M = {}

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
            "rate_limit", "bills", "billing", "statements", "charges",
            "meti_credits" }
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
  local defs, cur = {}, nil -- luacheck: ignore 331 (cur is the last entry of defs)
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

-- resolve(document) -> GraphQL text: the text itself, or the shipped operation it names
function M.resolve(document)
  if type(document) ~= "string" or document == "" then
    usage.raise("client:graphql: 'document' must be a GraphQL document or a shipped operation name")
  end
  if document:match("^[%a_][%w_]*$") then
    local text = M.documents[document]
    if not text then usage.raise("client:graphql: no shipped operation named '" .. document .. "'") end
    return text
  end
  return document
end

return M
