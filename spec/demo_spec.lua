-- spec/demo_spec.lua: `make demo`'s workflow (examples/demo.lua, Lua 5.4) runs to the
-- end against a sandbox it starts itself, and prints what it fetched.
local helper = require "helper"

describe("the demo", function()
  it("runs the whole workflow against the sandbox and exits 0", function()
    local out, rc = helper.run("timeout 120 lua5.4 examples/demo.lua")
    assert.are.equal(0, rc, out)
    assert.matches("demo: ok", out, 1, true)
    assert.matches("Hanako Yamada", out, 1, true)               -- GraphQL viewer
    assert.matches("supply point %d+ %(ON_SUPPLY%)", out)       -- account and agreements
    assert.matches("%d+ rows from", out)                        -- a month of readings
    assert.is_nil(out:find("octopus-hanako-1", 1, true))       -- the password never shows
  end)
end)
