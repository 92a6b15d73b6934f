-- spec/documents_spec.lua: every shipped GraphQL document (lua/octopus/graphql/*.graphql)
-- validates against the reconstructed OEJP schema (spec/data/oejp-schema.graphql, a copy
-- of shared/api/oejp-schema.graphql) and against the sandbox's subset schema, so the
-- sandbox can answer each one. Pure Lua (the sandbox's GraphQL engine): no server.
local gql = require "octopus.sandbox.graphql"
local graphql = require "octopus.graphql"
local helper = require "helper"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function messages(errs)
  local out = {}
  for _, e in ipairs(errs or {}) do out[#out + 1] = tostring(e.message) end
  return table.concat(out, "; ")
end

describe("shipped GraphQL documents", function()
  local oejp, subset, files
  lazy_setup(function()
    oejp = assert(gql.schema(read("spec/data/oejp-schema.graphql")))
    subset = assert(gql.schema(read("lua/octopus/sandbox/schema.graphql")))
    files = {}
    local out = helper.run("ls lua/octopus/graphql/*.graphql")
    for path in out:gmatch("[^\n]+") do files[#files + 1] = path end
  end)

  it("are all loaded at require time, one per file", function()
    assert.is_true(#files >= 8)
    for _, path in ipairs(files) do
      local name = path:match("([^/]+)%.graphql$")
      assert.equal(read(path), graphql.documents[name], "not loaded: " .. name)
    end
    local n = 0
    for _ in pairs(graphql.documents) do n = n + 1 end
    assert.equal(#files, n)
  end)

  it("each validate against the OEJP schema", function()
    for _, path in ipairs(files) do
      local ok, errs = gql.validate_document_text(oejp, read(path))
      assert.is_true(ok, path .. ": " .. messages(errs))
    end
  end)

  it("each validate against the sandbox's subset schema", function()
    for _, path in ipairs(files) do
      local ok, errs = gql.validate_document_text(subset, read(path))
      assert.is_true(ok, path .. ": " .. messages(errs))
    end
  end)

  it("each hold exactly one named operation", function()
    for name, text in pairs(graphql.documents) do
      local doc = assert(gql.parse(text))
      local ops = 0
      for _, d in ipairs(doc.definitions) do
        if d.kind == "OperationDefinition" then
          ops = ops + 1
          assert.is_string(d.name, name .. " has an anonymous operation")
        end
      end
      assert.equal(1, ops, name)
    end
  end)

  it("would fail validation if one asked for a field the schema lacks", function()
    local broken = graphql.documents.viewer:gsub("givenName", "givenNickname")
    local ok, errs = gql.validate_document_text(oejp, broken)
    assert.is_false(ok)
    assert.equal('Cannot query field "givenNickname" on type "AccountUser".', errs[1].message)
  end)
end)
