-- spec/sandbox_fuzz_spec.lua: a short sandbox fuzz (tools/sandbox_fuzz.lua; `make fuzz-sandbox`
-- runs a longer one). Random and mutated HTTP heads, GraphQL documents, REST bodies and
-- noise, each on its own connection: the sandbox never answers 500 to malformed input,
-- never takes longer than 2 s to answer or close (measured by the harness), keeps
-- answering a plain GET every 50 cases, and is still running at the end.
local helper = require "helper"
local fuzz = dofile("tools/sandbox_fuzz.lua")

describe("the sandbox under a short fuzz", function()
  local srv
  lazy_setup(function() srv = helper.start_server { app = "sandbox", tls = false } end)
  lazy_teardown(function() srv:stop() end)

  for _, seed in ipairs { 1, 2 } do
    it("seed " .. seed .. ": 1500 cases, no 500, none slower than 2 s, still serving", function()
      local res = fuzz.run { http = srv.http, count = 1500, seconds = 20, seed = seed }
      assert.are.same({}, res.failures, fuzz.summary(res))
      assert.is_true(res.sent >= 100, "too few cases ran: " .. fuzz.summary(res))
      for _, kind in ipairs { "graphql", "head", "rest", "noise" } do
        assert.is_true((res.by_kind[kind] or 0) > 0, "no " .. kind .. " case ran")
      end
      assert.is_true(helper.alive(srv.pid))
      local status = helper.request(srv.http .. "/v1/products/", "GET")
      assert.equal(200, status)
    end)
  end
end)
