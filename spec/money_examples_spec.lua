-- spec/money_examples_spec.lua: examples/bill.lua, projected.lua and compare.lua run
-- against a sandbox over TLS with the environment `octopus sandbox` prints, exit 0 and
-- print what they are for (a total that is the sum the lines round to, a projection, a
-- sorted comparison).
local helper = require "helper"

describe("the money examples", function()
  local srv, env
  lazy_setup(function()
    srv = require("octopus.sandbox.spawn").start { tls = true }
    env = ("OCTOPUS_URL=%s OCTOPUS_GRAPHQL_URL=%s OCTOPUS_CA_FILE=%s OCTOPUS_API_KEY=%s "):format(
      helper.quote(srv.rest_url), helper.quote(srv.graphql_url), helper.quote(srv.ca_file),
      helper.quote(srv.credentials.api_key))
  end)
  lazy_teardown(function() srv:stop() end)

  local function run(script, args)
    local out, rc = helper.run(env .. "timeout 120 lua5.4 examples/" .. script .. " " .. (args or "") .. " 2>&1")
    assert.equal(0, rc, out)
    return out
  end

  it("bill.lua prints the previous period's lines and total, and a what-if", function()
    local out = run("bill.lua", "previous")
    assert.matches("standing charge", out, 1, true)
    assert.matches("step 2 %(120%-300 kWh%)", out)
    assert.matches("renewable%-energy levy", out)
    local total = out:match("total ([%d,]+) yen")
    assert.is_truthy(total)
    local what_if = run("bill.lua", "previous JPN_KK_SIMPLE_OCTOPUS_24")
    assert.matches("product JPN_KK_SIMPLE_OCTOPUS_24", what_if, 1, true)
    assert.are_not.equal(total, what_if:match("total ([%d,]+) yen"))
  end)

  it("projected.lua prints so far and projected", function()
    local out = run("projected.lua")
    local so_far = tonumber((out:match("so far: +[%d.]+ kWh +([%d,]+) yen"):gsub(",", "")))
    local projected = tonumber((out:match("projected: +[%d.]+ kWh +([%d,]+) yen"):gsub(",", "")))
    assert.is_true(projected >= so_far)
    assert.matches("half hours left in the billing period", out, 1, true)
  end)

  it("compare.lua prints every area product cheapest first, today's marked", function()
    local out = run("compare.lua", "3")
    local totals = {}
    for t in out:gmatch("JPN_KK_[%w_]+ +[^\n]- ([%d,]+) yen") do totals[#totals + 1] = tonumber((t:gsub(",", ""))) end
    assert.equal(3, #totals)
    for i = 2, #totals do assert.is_true(totals[i - 1] <= totals[i]) end
    assert.matches("(today's)", out, 1, true)
  end)

  it("an unknown product fails cleanly", function()
    local out, rc = helper.run(env .. "timeout 120 lua5.4 examples/bill.lua previous JPN_KK_NOPE 2>&1")
    assert.are_not.equal(0, rc)
    assert.matches("UNKNOWN_PRODUCT", out, 1, true)
  end)
end)
