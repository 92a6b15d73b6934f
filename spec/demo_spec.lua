-- spec/demo_spec.lua: `make demo`'s workflow (examples/demo.lua, Lua 5.4) runs to the
-- end against a sandbox it starts itself, and prints what it fetched.
local helper = require "helper"

describe("the examples", function()
  it("runs the whole workflow against the sandbox and exits 0", function()
    local out, rc = helper.run("timeout 120 lua5.4 examples/demo.lua")
    assert.are.equal(0, rc, out)
    assert.matches("demo: ok", out, 1, true)
    assert.matches("Hanako Yamada", out, 1, true)               -- GraphQL viewer
    assert.matches("supply point %d+ %(ON_SUPPLY%)", out)       -- account and agreements
    assert.matches("%d+ rows from", out)                        -- a month of readings
    assert.matches("%d+ yen so far", out)                      -- money: the bill so far
    assert.matches("projected to the end of the period: [%d.]+ kWh, %d+ yen", out)
    assert.matches("(today's product)", out, 1, true)          -- the comparison
    assert.is_nil(out:find("octopus-hanako-1", 1, true))       -- the password never shows
  end)

  it("quickstart logs in from the environment and prints last week's days", function()
    local sandbox = require("octopus.sandbox.spawn").start { tls = false }
    local cred = sandbox.credentials
    local out, rc = helper.run(("OCTOPUS_URL=%s OCTOPUS_EMAIL=%s OCTOPUS_PASSWORD=%s timeout 60 lua5.4 examples/quickstart.lua")
      :format(helper.quote(sandbox.http .. "/v1/"), helper.quote(cred.email), helper.quote(cred.password)))
    sandbox:stop()
    assert.are.equal(0, rc, out)
    assert.matches("Hanako Yamada", out, 1, true)
    local days = 0
    for _ in out:gmatch("%d%d%d%d%-%d%d%-%d%d +[%d.]+ kWh") do days = days + 1 end
    assert.are.equal(7, days)
  end)
end)
