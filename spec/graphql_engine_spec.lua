-- Spec for octopus.sandbox.graphql: lexer, parser, schema (incl. the OEJP SDL),
-- validation rules (message text asserted) and execution. Pure Lua: no server needed.
local gql = require "octopus.sandbox.graphql"
local lexer = require "octopus.sandbox.graphql.lexer"

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function arg_value(doc, i)
  return doc.definitions[1].selection_set.selections[1].arguments[i or 1].value
end

local function parse_error(text)
  local doc, err = gql.parse(text)
  assert.is_nil(doc)
  return err
end

local TEST_SDL = [[
"""
A small schema for execution tests.
"""
schema { query: Query mutation: Mutation }

"An ISO 8601 datetime"
scalar DateTime

enum Color { RED GREEN BLUE @deprecated(reason: "gone") }

interface Named { name: String! }

type Person implements Named {
  name: String!
  age: Int
  color: Color
  friends: [Person!]
  born: DateTime
}

type Pet implements Named { name: String! species: String }

union Thing = Person | Pet

input Filter { color: Color = RED, names: [String!], min: Int! }

type Wrapper { inner: Inner }
type Inner { strict: String! other: String }

type Query {
  hello(name: String = "world"): String
  person(id: ID!): Person
  things: [Thing]
  named: [Named!]!
  echo(filter: Filter, n: Int, f: Float, b: Boolean, list: [Int], when: DateTime, s: String): String
  wrapper: Wrapper
  strict: String!
  failing: String
  boom: String
  numbers: [Int]
  badInt: Int
  badColor: Color
}

type Mutation { rename(id: ID!, name: String!): Person }

extend type Query { extra: String }
]]

describe("octopus.sandbox.graphql", function()
  describe("lexer", function()
    it("reads block strings with common indentation removed and escaped triple quotes kept", function()
      local doc = assert(gql.parse('{ f(s: """\n    first\n      second \\""" end\n\n  """) }'))
      local v = arg_value(doc)
      assert.equal("StringValue", v.kind)
      assert.is_true(v.block)
      assert.equal('first\n  second """ end', v.value)
    end)

    it("decodes unicode escapes, surrogate pairs and braced code points to UTF-8", function()
      local doc = assert(gql.parse('{ f(s: "caf\\u00e9 \\uD83D\\uDE00 \\u{1F600} \\n\\t\\"\\\\\\/") }'))
      assert.equal("caf\195\169 \240\159\152\128 \240\159\152\128 \n\t\"\\/", arg_value(doc).value)
    end)

    it("skips comments, commas and a byte order mark", function()
      local doc = assert(gql.parse("\239\187\191# leading comment\n{ a, b # trailing\n ,, c }"))
      local sels = doc.definitions[1].selection_set.selections
      assert.equal(3, #sels)
      assert.equal("c", sels[3].name)
    end)

    it("reads ints, floats and negative numbers as distinct tokens", function()
      local doc = assert(gql.parse("{ f(a: -12, b: 1.5e3, c: 0, d: -0.25) }"))
      assert.same({ "IntValue", "-12" }, { arg_value(doc, 1).kind, arg_value(doc, 1).value })
      assert.same({ "FloatValue", "1.5e3" }, { arg_value(doc, 2).kind, arg_value(doc, 2).value })
      assert.same({ "FloatValue", "-0.25" }, { arg_value(doc, 4).kind, arg_value(doc, 4).value })
    end)

    it("reports line and column of a token through lexer.location", function()
      local src = "{\n  a\n  b }"
      local kind, value, start = lexer.read(src, 5)
      assert.same({ "Name", "a" }, { kind, value })
      assert.same({ 2, 3 }, { lexer.location(src, start) })
    end)

    it("rejects an invalid escape sequence", function()
      local err = parse_error('{ f(s: "a\\qb") }')
      assert.equal('Syntax Error: Invalid character escape sequence: "\\q".', err.message)
      assert.same({ { line = 1, column = 10 } }, err.locations)
    end)

    it("rejects a lone surrogate escape", function()
      assert.equal('Syntax Error: Invalid Unicode escape sequence: "\\uD83D".', parse_error('{ f(s: "\\uD83D") }').message)
    end)

    it("rejects an unterminated string at the line end", function()
      local err = parse_error('{ f(s: "abc\n") }')
      assert.equal("Syntax Error: Unterminated string.", err.message)
      assert.same({ { line = 1, column = 12 } }, err.locations)
    end)

    it("rejects an unterminated block string", function()
      assert.equal("Syntax Error: Unterminated string.", parse_error('{ f(s: """abc) }').message)
    end)

    it("rejects a leading zero and a dangling decimal point", function()
      assert.equal('Syntax Error: Invalid number, unexpected digit after 0: "1".', parse_error("{ f(a: 01) }").message)
      assert.equal('Syntax Error: Invalid number, expected digit but got: ")".', parse_error("{ f(a: 1.) }").message)
      assert.equal('Syntax Error: Invalid number, expected digit but got: "x".', parse_error("{ f(a: 1x) }").message)
    end)

    it("rejects unexpected characters with their position", function()
      local err = parse_error("{\n  a %\n}")
      assert.equal('Syntax Error: Unexpected character: "%".', err.message)
      assert.same({ { line = 2, column = 5 } }, err.locations)
      assert.equal("Syntax Error: Unexpected single quote character ('), did you mean to use a double quote (\")?",
        parse_error("{ f(s: 'x') }").message)
    end)
  end)

  describe("parser", function()
    it("parses operations, variables with defaults, directives, aliases and all literal kinds", function()
      local doc = assert(gql.parse([[
        query Q($id: ID! = "1", $list: [Int!] = [1, 2], $o: Filter = { min: 1, names: ["a"] }) @live {
          me: person(id: $id) @include(if: true) {
            name
            ... on Person { age }
            ... @skip(if: false) { color }
            ...Frag
          }
          echo(n: 1, f: 2.5, b: false, s: null, e: RED, list: [1, $x], filter: { color: BLUE })
        }
        fragment Frag on Person { friends { name } }
        mutation { rename(id: 1, name: "x") { name } }
        subscription S { hello }
      ]]))
      assert.equal(4, #doc.definitions)
      local q = doc.definitions[1]
      assert.same({ "OperationDefinition", "query", "Q" }, { q.kind, q.operation, q.name })
      assert.equal(3, #q.variable_definitions)
      assert.equal("NonNullType", q.variable_definitions[1].type.kind)
      assert.equal("ListType", q.variable_definitions[2].type.kind)
      assert.equal("ObjectValue", q.variable_definitions[3].default_value.kind)
      assert.equal("live", q.directives[1].name)
      local me = q.selection_set.selections[1]
      assert.same({ "me", "person" }, { me.alias, me.name })
      local sels = me.selection_set.selections
      assert.same({ "Field", "InlineFragment", "InlineFragment", "FragmentSpread" },
        { sels[1].kind, sels[2].kind, sels[3].kind, sels[4].kind })
      assert.equal("Person", sels[2].type_condition)
      assert.is_nil(sels[3].type_condition)
      local kinds = {}
      for i, a in ipairs(q.selection_set.selections[2].arguments) do kinds[i] = a.value.kind end
      assert.same({ "IntValue", "FloatValue", "BooleanValue", "NullValue", "EnumValue", "ListValue", "ObjectValue" }, kinds)
      assert.equal("Variable", q.selection_set.selections[2].arguments[6].value.values[2].kind)
      assert.equal("FragmentDefinition", doc.definitions[2].kind)
      assert.same({ "mutation", nil }, { doc.definitions[3].operation, doc.definitions[3].name })
      assert.equal("subscription", doc.definitions[4].operation)
    end)

    it("parses the anonymous shorthand as a query", function()
      local doc = assert(gql.parse("{ hello }"))
      assert.same({ "query", nil }, { doc.definitions[1].operation, doc.definitions[1].name })
    end)

    it("reports a missing name at end of input", function()
      local err = parse_error("{")
      assert.equal("Syntax Error: Expected Name, found <EOF>.", err.message)
      assert.same({ { line = 1, column = 2 } }, err.locations)
    end)

    it("reports an unexpected token and an expected punctuator", function()
      assert.equal('Syntax Error: Expected ":", found Int "1".', parse_error("{ f(a 1) }").message)
      assert.equal('Syntax Error: Unexpected "}".', parse_error("{ f(a: }").message)
      assert.equal('Syntax Error: Unexpected Name "foo".', parse_error("foo { a }").message)
      assert.equal("Syntax Error: Unexpected <EOF>.", parse_error("").message)
    end)

    it("rejects variables in constant values", function()
      assert.equal('Syntax Error: Unexpected variable "$y" in constant value.',
        parse_error("query ($x: Int = $y) { a }").message)
    end)

    it("rejects documents nested deeper than the limit instead of exhausting the stack", function()
      local deep = "{ f(a: " .. string.rep("[", 100000) .. ") }"
      local err = parse_error(deep)
      assert.equal("Syntax Error: Document is nested too deeply (limit 256).", err.message)
      assert.same({ { line = 1, column = 263 } }, err.locations)
      assert.truthy(gql.parse("{ f(a: " .. string.rep("[", 200) .. string.rep("]", 200) .. ") }"))
    end)

    it("parses SDL: descriptions, implements lists, unions, enums, inputs, directives and extensions", function()
      local doc = assert(gql.parse([[
        """Block description"""
        type A implements & B & C @key(f: "id") { "field" f(x: Int = 1 @deprecated): [String!]! }
        union U = | A | D
        enum E { X Y @deprecated }
        input I { a: Int = 3, b: [E] = [X] }
        directive @key(f: String!) repeatable on OBJECT | INTERFACE
        extend type A { g: Int }
        scalar S @specifiedBy(url: "https://example.com")
      ]]))
      local a = doc.definitions[1]
      assert.same({ "ObjectTypeDefinition", "Block description", { "B", "C" } }, { a.kind, a.description, a.interfaces })
      assert.equal("field", a.fields[1].description)
      assert.equal("IntValue", a.fields[1].arguments[1].default_value.kind)
      assert.same({ "A", "D" }, doc.definitions[2].types)
      assert.is_true(doc.definitions[5].repeatable)
      assert.same({ "OBJECT", "INTERFACE" }, doc.definitions[5].locations)
      assert.equal("ObjectTypeExtension", doc.definitions[6].kind)
    end)

    it("reports the line and column of an error on a later line", function()
      local err = parse_error("query {\n  a\n  b(x: )\n}")
      assert.equal('Syntax Error: Unexpected ")".', err.message)
      assert.same({ { line = 3, column = 8 } }, err.locations)
    end)
  end)

  describe("schema", function()
    local oejp
    setup(function()
      oejp = assert(gql.schema(read_file("spec/data/oejp-schema.graphql")))
    end)

    it("builds the OEJP schema with its root types", function()
      assert.equal("Query", oejp.query_type.name)
      assert.equal("Mutation", oejp.mutation_type.name)
      assert.equal("OBJECT", oejp.types.Account.kind)
      assert.equal("OBJECT", oejp.types.ElectricitySupplyPoint.kind)
      assert.equal("Account", gql.type_string(oejp.query_type.fields.account.type))
      assert.equal("String!", gql.type_string(oejp.query_type.fields.account.args.accountNumber.type))
    end)

    it("has the obtainKrakenToken mutation taking a non-null input object", function()
      local f = oejp.mutation_type.fields.obtainKrakenToken
      assert.equal("ObtainJSONWebTokenInput!", gql.type_string(f.args.input.type))
      assert.equal("INPUT_OBJECT", f.args.input.type.of_type.kind)
      assert.truthy(f.args.input.type.of_type.fields.APIKey)
    end)

    it("models the agreement product as a union of the tariff product types", function()
      local agreements = oejp.types.ElectricitySupplyPoint.fields.agreements
      assert.equal("[Agreement]!", gql.type_string(agreements.type))
      local product = gql.named_type(oejp.types.Agreement.fields.product.type)
      assert.equal("Product", product.name)
      assert.equal("UNION", product.kind)
      assert.truthy(product.possible_types.ElectricitySteppedProduct)
      assert.truthy(product.possible_types.ElectricitySingleStepProduct)
    end)

    it("records interface implementations, enum values and deprecations", function()
      local s = assert(gql.schema(TEST_SDL))
      assert.truthy(s.types.Named.possible_types.Person)
      assert.truthy(s.types.Person.implements.Named)
      assert.same({ "RED", "GREEN", "BLUE" }, s.types.Color.value_names)
      assert.equal("gone", s.types.Color.values.BLUE.deprecation_reason)
      assert.equal("A small schema for execution tests.", s.description)
      assert.equal("An ISO 8601 datetime", s.types.DateTime.description)
      assert.truthy(s.query_type.fields.extra)
      assert.equal("StringValue", s.query_type.fields.hello.args.name.default_value.kind)
      assert.truthy(s.directives.include and s.directives.skip and s.directives.deprecated)
    end)

    it("defaults the root types to Query and Mutation without a schema definition", function()
      local s = assert(gql.schema("type Query { a: Int } type Mutation { b: Int }"))
      assert.equal("Query", s.query_type.name)
      assert.equal("Mutation", s.mutation_type.name)
    end)

    it("fails on an unknown type reference", function()
      local s, err = gql.schema("type Query { a: Nope }")
      assert.is_nil(s)
      assert.equal('Unknown type "Nope".', err.message)
      assert.same({ { line = 1, column = 17 } }, err.locations)
    end)

    it("fails on a duplicate type and on SDL syntax errors", function()
      local _, err = gql.schema("type Query { a: Int } type Query { b: Int }")
      assert.equal('There can be only one type named "Query".', err.message)
      _, err = gql.schema("type Query { a Int }")
      assert.equal('Syntax Error: Expected ":", found Name "Int".', err.message)
    end)
  end)

  describe("validation", function()
    local s, oejp
    setup(function()
      s = assert(gql.schema(TEST_SDL))
      oejp = assert(gql.schema(read_file("spec/data/oejp-schema.graphql")))
    end)

    local function messages(text, opts, schema)
      local doc = assert(gql.parse(text))
      local out = {}
      for i, e in ipairs(gql.validate(schema or s, doc, opts)) do out[i] = e.message end
      return out
    end

    local function only(text, opts)
      local errs = gql.validate(s, assert(gql.parse(text)), opts)
      assert.equal(1, #errs, #errs > 0 and errs[1].message or "no errors")
      return errs[1]
    end

    it("accepts a document the client ships against the OEJP schema", function()
      local ok, errs = gql.validate_document_text(oejp, [[
        query Account($accountNumber: String!, $active: Boolean = true) {
          account(accountNumber: $accountNumber) {
            number status balance billingName
            properties { electricitySupplyPoints { spin status
              agreements(onlyActive: $active) { validFrom validTo product {
                __typename
                ... on ElectricitySteppedProduct { code displayName standingChargePricePerDay
                  consumptionCharges { band pricePerUnitIncTax stepStart stepEnd } }
                ... on ElectricitySingleStepProduct { code displayName }
              } }
            } }
          }
        }
        mutation Token($input: ObtainJSONWebTokenInput!) {
          obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn }
        }
      ]])
      assert.is_nil(errs and errs[1].message)
      assert.is_true(ok)
    end)

    it("returns the syntax error from validate_document_text", function()
      local ok, errs = gql.validate_document_text(s, "{ hello")
      assert.is_false(ok)
      assert.equal("Syntax Error: Expected Name, found <EOF>.", errs[1].message)
    end)

    it("rejects type-system definitions in an executable document", function()
      assert.equal('The "Foo" definition is not executable.', only("{ hello } type Foo { a: Int }").message)
    end)

    it("requires unique operation names and a lone anonymous operation", function()
      assert.same({ 'There can be only one operation named "A".' }, messages("query A { hello } query A { hello }"))
      assert.same({ "This anonymous operation must be the only defined operation." },
        messages("{ hello } query B { hello }"))
    end)

    it("rejects an operation the schema has no root type for", function()
      local bare = assert(gql.schema("type Query { a: Int }"))
      assert.same({ "The mutation operation is not supported by the schema." }, messages("mutation { a }", nil, bare))
    end)

    it("rejects fields that do not exist on the type, with the location of the field", function()
      local e = only("{\n  person(id: 1) { nope }\n}")
      assert.equal('Cannot query field "nope" on type "Person".', e.message)
      assert.same({ { line = 2, column = 19 } }, e.locations)
      assert.equal('Cannot query field "name" on type "Thing".', only("{ things { name } }").message)
    end)

    it("allows __typename everywhere", function()
      assert.same({}, messages("{ __typename things { __typename ... on Pet { __typename } } }"))
    end)

    it("requires leaf fields without and composite fields with a selection", function()
      assert.equal('Field "hello" must not have a selection since type "String" has no subfields.',
        only("{ hello { a } }").message)
      assert.equal('Field "person" of type "Person" must have a selection of subfields. Did you mean "person { ... }"?',
        only("{ person(id: 1) }").message)
    end)

    it("rejects unknown and duplicate arguments", function()
      assert.equal('Unknown argument "nme" on field "Query.hello".', only('{ hello(nme: "x") }').message)
      assert.equal('There can be only one argument named "name".', only('{ hello(name: "a", name: "b") }').message)
      assert.equal('Unknown argument "when" on directive "@skip".', messages("{ hello @skip(if: true, when: 1) }")[1])
    end)

    it("requires non-null arguments without defaults", function()
      assert.equal('Field "person" argument "id" of type "ID!" is required, but it was not provided.',
        only("{ person { name } }").message)
      assert.equal('Directive "@include" argument "if" of type "Boolean!" is required, but it was not provided.',
        only("{ hello @include }").message)
    end)

    it("checks literal values against argument types", function()
      assert.same({
        'Int cannot represent non-integer value: "x"',
        "Float cannot represent non numeric value: true",
        "Boolean cannot represent a non boolean value: 1",
        "String cannot represent a non string value: 5",
        "Int cannot represent non 32-bit signed integer value: 3000000000",
      }, messages('{ echo(n: "x", f: true, b: 1, s: 5) a: echo(n: 3000000000) }'))
      assert.same({ "ID cannot represent a non-string and non-integer value: 1.5" }, messages("{ person(id: 1.5) { name } }"))
      assert.same({ 'Expected value of type "ID!", found null.' }, messages("{ person(id: null) { name } }"))
      assert.same({}, messages('{ echo(f: 1, list: 3, when: "2026-01-01T00:00:00+09:00", n: null) }'))
    end)

    it("checks enum literals", function()
      assert.same({ 'Value "PINK" does not exist in "Color" enum.' }, messages("{ echo(filter: { min: 1, color: PINK }) }"))
      assert.same({ 'Enum "Color" cannot represent non-enum value: "RED".' },
        messages('{ echo(filter: { min: 1, color: "RED" }) }'))
    end)

    it("checks input objects: required, unknown and duplicate fields, non-object values", function()
      assert.same({ 'Field "Filter.min" of required type "Int!" was not provided.' }, messages("{ echo(filter: {}) }"))
      assert.same({ 'Field "max" is not defined by type "Filter".' }, messages("{ echo(filter: { min: 1, max: 2 }) }"))
      assert.same({ 'There can be only one input field named "min".' }, messages("{ echo(filter: { min: 1, min: 2 }) }"))
      assert.same({ 'Expected value of type "Filter", found 3.' }, messages("{ echo(filter: 3) }"))
      assert.same({ 'Expected value of type "String!", found null.' },
        messages('{ echo(filter: { min: 1, names: ["a", null] }) }'))
    end)

    it("checks variable default values", function()
      assert.same({ 'Int cannot represent non-integer value: "x"' }, messages('query ($n: Int = "x") { echo(n: $n) }'))
    end)

    it("requires variables to be defined, used and unique", function()
      local e = only("query Q { echo(n: $n) }")
      assert.equal('Variable "$n" is not defined by operation "Q".', e.message)
      assert.equal(2, #e.locations)
      assert.same({ 'Variable "$n" is not defined.' }, messages("{ echo(n: $n) }"))
      assert.same({ 'Variable "$n" is never used in operation "Q".' }, messages("query Q($n: Int) { hello }"))
      assert.same({ 'Variable "$n" is never used.' }, messages("query ($n: Int) { hello }"))
      assert.same({ 'There can be only one variable named "$n".' }, messages("query ($n: Int, $n: Int) { echo(n: $n) }"))
    end)

    it("follows fragments when checking variable definitions", function()
      assert.same({}, messages("query Q($n: Int) { ...F } fragment F on Query { echo(n: $n) }"))
      assert.same({ 'Variable "$m" is not defined by operation "Q".' },
        messages("query Q { ...F } fragment F on Query { echo(n: $m) }"))
    end)

    it("requires variables to be of known input types", function()
      assert.same({ 'Unknown type "Nope".', 'Variable "$p" is never used.' }, messages("query ($p: Nope) { hello }"))
      assert.same({ 'Variable "$p" cannot be non-input type "Person".' }, messages("query ($p: Person) { hello(name: $p) }"))
    end)

    it("requires variable types compatible with their positions", function()
      assert.same({ 'Variable "$id" of type "ID" used in position expecting type "ID!".' },
        messages("query ($id: ID) { person(id: $id) { name } }"))
      assert.same({ 'Variable "$n" of type "String" used in position expecting type "Int".' },
        messages("query ($n: String) { echo(n: $n) }"))
      assert.same({}, messages('query ($id: ID = "1", $n: Int!, $l: [Int!]!) { person(id: $id) { name } echo(n: $n, list: $l) }'))
      assert.same({}, messages("query ($n: Int) { echo(list: [$n]) }"))
    end)

    it("rejects unknown, unused and cyclic fragments", function()
      assert.same({ 'Unknown fragment "F".' }, messages("{ ...F }"))
      assert.same({ 'Fragment "G" is never used.' }, messages("{ hello } fragment G on Query { hello }"))
      assert.same({ 'There can be only one fragment named "F".' },
        messages("{ ...F } fragment F on Query { hello } fragment F on Query { hello }"))
      assert.same({ 'Cannot spread fragment "A" within itself via "B".' },
        messages("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"))
      assert.same({ 'Cannot spread fragment "A" within itself.' }, messages("{ ...A } fragment A on Query { ...A }"))
    end)

    it("rejects fragments on unknown, non-composite and impossible types", function()
      assert.same({ 'Unknown type "Nope".' }, messages("{ things { ... on Nope { name } } }"))
      assert.same({ 'Fragment "F" cannot condition on non composite type "Color".', 'Fragment "F" is never used.' },
        messages("{ hello } fragment F on Color { a }"))
      assert.same({ 'Fragment cannot condition on non composite type "String".' },
        messages("{ ... on String { hello } }"))
      assert.same({ 'Fragment cannot be spread here as objects of type "Person" can never be of type "Pet".' },
        messages("{ person(id: 1) { ... on Pet { species } } }"))
      assert.same({ 'Fragment "P" cannot be spread here as objects of type "Pet" can never be of type "Person".' },
        messages("{ things { ... on Pet { ...P } } } fragment P on Person { age }"))
      assert.same({}, messages("{ named { ... on Pet { species } ... on Thing { __typename } } }"))
    end)

    it("rejects unknown, misplaced and repeated directives", function()
      assert.same({ 'Unknown directive "@foo".' }, messages("{ hello @foo }"))
      assert.same({ 'Directive "@skip" may not be used on QUERY.' }, messages("query @skip(if: true) { hello }"))
      assert.same({ 'The directive "@skip" can only be used once at this location.' },
        messages("{ hello @skip(if: true) @skip(if: false) }"))
    end)

    it("rejects conflicting fields under one response key", function()
      assert.same({ 'Fields "a" conflict because "hello" and "strict" are different fields. ' ..
        "Use different aliases on the fields to fetch both if this was intentional." }, messages("{ a: hello a: strict }"))
      assert.same({ 'Fields "hello" conflict because they have differing arguments. ' ..
        "Use different aliases on the fields to fetch both if this was intentional." },
        messages('{ hello(name: "a") hello(name: "b") }'))
      assert.same({}, messages("{ hello hello things { ... on Person { n: name } ... on Pet { n: species } } }"))
    end)

    it("limits the query depth with error code KT-CT-1188", function()
      local text = "{ person(id: 1) { friends { friends { name } } } }"
      assert.same({}, messages(text, { max_depth = 4 }))
      local e = only(text, { max_depth = 3 })
      assert.equal("Query is too complex: depth 4 exceeds the maximum depth of 3.", e.message)
      assert.same({ errorCode = "KT-CT-1188", errorType = "VALIDATION" }, e.extensions)
      assert.equal(4, gql.depth(assert(gql.parse(text))))
    end)
  end)

  describe("execution", function()
    local s, people, resolvers, ARRAY
    setup(function()
      s = assert(gql.schema(TEST_SDL))
      ARRAY = {}
      people = {
        ["1"] = { name = "Ada", age = 36, color = "RED", born = "1815-12-10T00:00:00+00:00" },
        ["2"] = { name = "Bob", age = 7 },
      }
      people["1"].friends = { people["2"] }
      resolvers = {
        Query = {
          hello = function(_, args) return "hello " .. args.name end,
          person = function(_, args) return people[args.id] end,
          things = function() return { people["1"], { name = "Rex", species = "dog" } } end,
          named = function() return { people["2"], { name = "Tom", species = "cat", kind = "pet" } } end,
          echo = function(_, args, ctx)
            ctx.args = args
            return "ok"
          end,
          failing = function() return nil, { message = "Account not found.", extensions = { errorCode = "KT-CT-4177" } } end,
          boom = function() error("secret stack trace") end,
          strict = function() return nil end,
          wrapper = function() return { inner = { other = "x" } } end,
          numbers = function() return { 1, 2, 3 } end,
          badInt = function() return 1.5 end,
          badColor = function() return "PINK" end,
        },
        Mutation = {
          rename = function(_, args)
            local p = people[args.id]
            p.name = args.name
            return p
          end,
        },
        __resolve_type = {
          Thing = function(obj) return obj.species and "Pet" or "Person" end,
          Named = function(obj) return obj.kind == "pet" and "Pet" or "Person" end,
        },
      }
    end)

    local function run(text, opts)
      opts = opts or {}
      opts.schema = s
      opts.document = assert(gql.parse(text))
      opts.resolvers = opts.resolvers or resolvers
      opts.context = opts.context or {}
      return gql.execute(opts)
    end

    it("resolves fields with aliases, argument defaults and __typename", function()
      local r = run('{ hello a: hello(name: "Lua") __typename p: person(id: "1") { name age color born __typename } }')
      assert.is_nil(r.errors)
      assert.same({ hello = "hello world", a = "hello Lua", __typename = "Query",
        p = { name = "Ada", age = 36, color = "RED", born = "1815-12-10T00:00:00+00:00", __typename = "Person" } }, r.data)
    end)

    it("applies named fragments and inline fragments on a union", function()
      local r = run([[
        { things { __typename ...P ... on Pet { name species } } }
        fragment P on Person { name friends { name } }
      ]])
      assert.is_nil(r.errors)
      assert.same({ things = {
        { __typename = "Person", name = "Ada", friends = { { name = "Bob" } } },
        { __typename = "Pet", name = "Rex", species = "dog" },
      } }, r.data)
    end)

    it("resolves interface types and merges fields with the same response key", function()
      local r = run("{ named { name ... on Named { name } ... on Pet { species } } }")
      assert.is_nil(r.errors)
      assert.same({ named = { { name = "Bob" }, { name = "Tom", species = "cat" } } }, r.data)
    end)

    it("coerces variables with defaults and passes arguments to resolvers", function()
      local ctx = {}
      local r = run([[query ($f: Filter = { min: 2 }, $n: Int, $l: [Int] = 7, $s: String) {
        echo(filter: $f, n: $n, list: $l, s: $s, b: true, when: "2026-01-01") }]],
        { variables = { n = 3, s = gql.null }, context = ctx })
      assert.is_nil(r.errors)
      assert.equal("ok", r.data.echo)
      assert.same({ min = 2, color = "RED" }, ctx.args.filter)
      assert.same({ 7 }, ctx.args.list)
      assert.equal(3, ctx.args.n)
      assert.equal(gql.null, ctx.args.s)
      assert.is_true(ctx.args.b)
      assert.equal("2026-01-01", ctx.args.when)
      assert.is_nil(ctx.args.f)
    end)

    it("fails the request when a required variable is missing", function()
      local r = run("query ($id: ID!) { person(id: $id) { name } }", { variables = {} })
      assert.is_nil(r.data)
      assert.equal('Variable "$id" of required type "ID!" was not provided.', r.errors[1].message)
      assert.same({ { line = 1, column = 8 } }, r.errors[1].locations)
    end)

    it("fails the request when a variable has the wrong type", function()
      local r = run("query ($n: Int) { echo(n: $n) }", { variables = { n = "x" } })
      assert.is_nil(r.data)
      assert.equal('Variable "$n" got invalid value "x"; Int cannot represent non-integer value: "x"', r.errors[1].message)
      r = run("query ($f: Filter) { echo(filter: $f) }", { variables = { f = { min = 1, color = "PINK" } } })
      assert.equal('Variable "$f" got invalid value "PINK" at "f.color"; Value "PINK" does not exist in "Color" enum.',
        r.errors[1].message)
      r = run("query ($id: ID!) { person(id: $id) { name } }", { variables = { id = gql.null } })
      assert.equal('Variable "$id" of non-null type "ID!" must not be null.', r.errors[1].message)
    end)

    it("selects the operation by name and reports a missing or unknown one", function()
      local text = "query A { hello } query B { h: hello }"
      assert.same({ h = "hello world" }, run(text, { operation_name = "B" }).data)
      local r = run(text)
      assert.is_nil(r.data)
      assert.equal("Must provide operation name if query contains multiple operations.", r.errors[1].message)
      assert.equal('Unknown operation named "C".', run(text, { operation_name = "C" }).errors[1].message)
      local op = gql.operation(assert(gql.parse(text)), "B")
      assert.equal("B", op.name)
      local none, err = gql.operation(assert(gql.parse(text)), "Z")
      assert.is_nil(none)
      assert.equal('Unknown operation named "Z".', err)
    end)

    it("honours @include and @skip with literals and variables", function()
      local r = run([[query ($yes: Boolean!) {
        a: hello @include(if: $yes) b: hello @skip(if: $yes) c: hello @include(if: false)
        ... @skip(if: true) { d: hello } ...F @include(if: true) }
        fragment F on Query { e: hello }]], { variables = { yes = true } })
      assert.same({ a = "hello world", e = "hello world" }, r.data)
    end)

    it("propagates a null in a non-null field to the nearest nullable parent, keeping partial data", function()
      local r = run("{ hello wrapper { inner { strict other } } }")
      assert.same({ hello = "hello world", wrapper = { inner = gql.null } }, r.data)
      assert.equal(1, #r.errors)
      assert.equal("Cannot return null for non-nullable field Inner.strict.", r.errors[1].message)
      assert.same({ "wrapper", "inner", "strict" }, r.errors[1].path)
      assert.same({ { line = 1, column = 27 } }, r.errors[1].locations)
    end)

    it("nulls the whole data when a non-null root field is null", function()
      local r = run("{ hello strict }")
      assert.equal(gql.null, r.data)
      assert.same({ "strict" }, r.errors[1].path)
    end)

    it("uses zero-based list indexes in error paths and nulls the list for non-null items", function()
      people["3"] = { name = "Cy", friends = { people["2"], { age = 1 } } }
      local r = run('{ person(id: "3") { name friends { name } } }')
      people["3"] = nil
      assert.same({ person = { name = "Cy", friends = gql.null } }, r.data)
      assert.same({ "person", "friends", 1, "name" }, r.errors[1].path)
    end)

    it("keeps a resolver's error message and extensions at the field's path", function()
      local r = run("{ hello failing }")
      assert.same({ hello = "hello world", failing = gql.null }, r.data)
      assert.equal("Account not found.", r.errors[1].message)
      assert.same({ errorCode = "KT-CT-4177" }, r.errors[1].extensions)
      assert.same({ "failing" }, r.errors[1].path)
    end)

    it("turns gql.error raised by a resolver into a GraphQL error", function()
      local r = run("{ hello }", { resolvers = { Query = { hello = function()
        gql.error{ message = "Too many requests.", extensions = { errorCode = "KT-CT-1199", errorType = "APPLICATION" } }
      end } } })
      assert.equal(gql.null, r.data.hello)
      assert.equal("Too many requests.", r.errors[1].message)
      assert.same({ errorCode = "KT-CT-1199", errorType = "APPLICATION" }, r.errors[1].extensions)
    end)

    it("hides raised Lua errors behind Internal server error", function()
      local seen
      local r = run("{ boom }", { on_error = function(e) seen = e end })
      assert.equal("Internal server error", r.errors[1].message)
      assert.same({ errorType = "APPLICATION" }, r.errors[1].extensions)
      assert.same({ "boom" }, r.errors[1].path)
      assert.truthy(tostring(seen):find("secret stack trace", 1, true))
      assert.is_nil(r.errors[1].message:find("secret", 1, true))
    end)

    it("reports scalar and enum serialization failures as field errors", function()
      local r = run("{ badInt badColor numbers }")
      assert.same({ badInt = gql.null, badColor = gql.null, numbers = { 1, 2, 3 } }, r.data)
      assert.equal("Int cannot represent non-integer value: 1.5", r.errors[1].message)
      assert.equal('Enum "Color" cannot represent value: "PINK"', r.errors[2].message)
    end)

    it("passes every result list through the array callback", function()
      local function array(t) return setmetatable(t, ARRAY) end
      local r = run("{ numbers things { __typename } strict }", { array = array, null = "NULL" })
      assert.equal("NULL", r.data)
      assert.equal(ARRAY, getmetatable(r.errors))
      assert.equal(ARRAY, getmetatable(r.errors[1].path))
      r = run("{ numbers things { __typename } }", { array = array })
      assert.equal(ARRAY, getmetatable(r.data.numbers))
      assert.equal(ARRAY, getmetatable(r.data.things))
      local empty = run("{ numbers }", { array = array, resolvers = { Query = { numbers = function() return {} end } } })
      assert.equal(ARRAY, getmetatable(empty.data.numbers))
    end)

    it("answers minimal introspection through __schema and __type", function()
      local r = run([[{
        __schema { queryType { name } mutationType { name } directives { name } }
        c: __type(name: "Color") { kind enumValues { name } all: enumValues(includeDeprecated: true) { name isDeprecated } }
        t: __type(name: "Thing") { kind possibleTypes { name } }
        p: __type(name: "Person") { fields { name type { kind name ofType { name } } } interfaces { name } }
        f: __type(name: "Filter") { inputFields { name defaultValue } }
        none: __type(name: "Nope") { name }
      }]])
      assert.is_nil(r.errors)
      local d = r.data
      assert.equal("Query", d.__schema.queryType.name)
      assert.equal("Mutation", d.__schema.mutationType.name)
      assert.same({ "ENUM", { { name = "RED" }, { name = "GREEN" } } }, { d.c.kind, d.c.enumValues })
      assert.same({ name = "BLUE", isDeprecated = true }, d.c.all[3])
      assert.same({ { name = "Person" }, { name = "Pet" } }, d.t.possibleTypes)
      assert.same({ name = "name", type = { kind = "NON_NULL", name = gql.null, ofType = { name = "String" } } }, d.p.fields[1])
      assert.same({ { name = "Named" } }, d.p.interfaces)
      assert.same({ name = "color", defaultValue = "RED" }, d.f.inputFields[1])
      assert.equal(gql.null, d.none)
    end)

    it("passes every selection-set object through the object callback", function()
      local OBJECT = {}
      local r = run('{ p: person(id: "1") { name } }', { object = function(t) return setmetatable(t, OBJECT) end })
      assert.equal(OBJECT, getmetatable(r.data))
      assert.equal(OBJECT, getmetatable(r.data.p))
    end)

    it("runs mutations with the default resolver for object fields", function()
      local r = run('mutation { rename(id: "2", name: "Bo") { name age } }')
      assert.is_nil(r.errors)
      assert.same({ rename = { name = "Bo", age = 7 } }, r.data)
      people["2"].name = "Bob"
    end)

    it("gives resolvers info about the field being resolved", function()
      local info
      run("{ person(id: \"1\") { n: name } }", { resolvers = { Person = { name = function(p, _, _, i)
        info = i
        return p.name
      end }, Query = resolvers.Query } })
      assert.equal("name", info.field_name)
      assert.equal("Person", info.parent_type.name)
      assert.equal("String!", gql.type_string(info.return_type))
      assert.same({ "person", "n" }, info.path)
      assert.equal("query", info.operation.operation)
    end)
  end)
end)

describe("octopus.sandbox.graphql under hostile documents (issue 15, item 4)", function()
  local parser = require "octopus.sandbox.graphql.parser"
  local schema = assert(gql.schema("type Query { a: Int }"))

  it("locates every offset as a byte walk does, across lines, CRLF and multi-byte text", function()
    local parts = {}
    local pieces = { "\n", "\r\n", "\r", "\195\169", "\230\151\165\230\156\172", "\240\159\144\153" }
    for i = 1, 2000 do    -- a deterministic mix, long runs crossing the 256-byte blocks
      parts[i] = i % 7 == 0 and pieces[i % 6 + 1] or string.rep("x", i % 300)
    end
    local src = table.concat(parts)
    -- the reference: one walk over every byte, compared at each character start
    local cache, checked, line, col = {}, 0, 1, 1
    for off = 1, #src + 1 do
      local b = src:byte(off)
      local in_crlf = b == 10 and src:byte(off - 1) == 13
      if off % 5 == 0 and (not b or b < 128 or b >= 192) and not in_crlf then
        local l2, c2 = lexer.location(src, off, cache)
        if l2 ~= line or c2 ~= col then
          error(("offset %d: expected %d:%d, got %d:%d"):format(off, line, col, l2, c2))
        end
        checked = checked + 1
      end
      if b == 13 or (b == 10 and not in_crlf) then line, col = line + 1, 1
      elseif b and not in_crlf and (b < 128 or b >= 192) then col = col + 1 end
    end
    assert.is_true(checked > 10000)
    assert.same({ 1, 4 }, { lexer.location("ab\195\169c", 5) })   -- no cache, non-ASCII
  end)

  it("refuses more than 15000 tokens with a located syntax error", function()
    local ok_doc = "{" .. string.rep(" a", 14998) .. " }"      -- exactly 15000 tokens
    assert.truthy(gql.parse(ok_doc))
    local err = parse_error("{" .. string.rep(" a", 14999) .. " }")
    assert.equal("Syntax Error: Document contains more than 15000 tokens. Parsing aborted.", err.message)
    assert.same({ { line = 1, column = 30001 } }, err.locations)
  end)

  it("refuses a document over 1 MiB before lexing it", function()
    local err = parse_error("{ a }" .. string.rep(" ", 1024 * 1024))
    assert.equal("Syntax Error: Document is larger than 1048576 bytes. Parsing aborted.", err.message)
  end)

  it("lets the schema's own SDL past both limits", function()
    local big = { "type Query {" }
    for i = 1, 6000 do big[#big + 1] = ("  f%d: Int"):format(i) end   -- 18000 tokens
    big[#big + 1] = "}"
    local s = assert(gql.schema(table.concat(big, "\n")))
    assert.truthy(s.query_type.fields.f6000)
    assert.truthy(parser.parse("{" .. string.rep(" a", 20000) .. " }", false))
  end)

  it("stops validation after 100 errors (or max_errors) with graphql-js's message", function()
    local parts = { "{ a }" }
    for i = 1, 500 do parts[#parts + 1] = ("fragment F%d on Query { a }"):format(i) end
    local doc = assert(gql.parse(table.concat(parts, "\n")))
    local errors = gql.validate(schema, doc)
    assert.equal(101, #errors)
    assert.equal('Fragment "F100" is never used.', errors[100].message)
    assert.same({ { line = 101, column = 1 } }, errors[100].locations)
    assert.equal("Too many validation errors, error limit reached. Validation aborted.", errors[101].message)
    assert.is_nil(errors[101].locations)
    assert.equal(4, #gql.validate(schema, doc, { max_errors = 3 }))
    assert.equal(0, #gql.validate(schema, assert(gql.parse("{ a }"))))
  end)
end)
