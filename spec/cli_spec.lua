-- spec/cli_spec.lua: the `octopus` command's API subcommands, run as processes
-- (bin/octopus, Lua 5.4) against the sandbox with credentials in the environment.
local helper = require "helper"
local cjson = require "cjson"

describe("the octopus command", function()
  local srv, dir

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false }
    dir = helper.run("mktemp -d /tmp/octopus-cli.XXXXXXXX"):gsub("%s+$", "")
  end)
  lazy_teardown(function()
    srv:stop()
    os.execute("rm -rf " .. helper.quote(dir))
  end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  -- runs bin/octopus with the sandbox's credentials -> output, exit status
  local function octopus(args, env)
    local vars = { OCTOPUS_EMAIL = srv.credentials.email, OCTOPUS_PASSWORD = srv.credentials.password,
                   OCTOPUS_API_KEY = "", XDG_STATE_HOME = dir .. "/state" }
    for k, v in pairs(env or {}) do vars[k] = v end
    local parts = {}
    for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. helper.quote(v) end
    return helper.run(("env %s lua5.4 bin/octopus %s --url %s"):format(table.concat(parts, " "), args,
      helper.quote(srv.http .. "/v1/")))
  end

  local function logins() return srv:count("operations", "ObtainKrakenToken") end

  it("shows the viewer, keeping the token state privately for the next command", function()
    local out, rc = octopus("viewer")
    assert.are.equal(0, rc, out)
    assert.matches(srv.credentials.email, out, 1, true)
    assert.matches(srv.credentials.accounts[1], out, 1, true)
    assert.are.equal(384, require("octopus.core").file_mode(dir .. "/state/octopus/token.json"))
    out, rc = octopus("account " .. srv.credentials.accounts[1])
    assert.are.equal(0, rc, out)
    assert.matches("ACTIVE", out, 1, true)
    assert.are.equal(1, logins())
  end)

  it("prints daily totals as JSON", function()
    local out, rc = octopus("readings " .. srv.credentials.accounts[1] ..
      " --from 2026-10-01 --to 2026-10-04 --by day --json")
    assert.are.equal(0, rc, out)
    local doc = cjson.decode(out)
    assert.are.equal(3, #doc.days)
    assert.are.equal("2026-10-01", doc.days[1].key)
    assert.are.equal(48, doc.days[1].count)
  end)

  it("fails with exit 1 and AUTH_INVALID on a wrong password, without echoing it", function()
    local out, rc = octopus("login --no-token-file", { OCTOPUS_PASSWORD = "not-the-password-42" })
    assert.are.equal(1, rc)
    assert.matches("AUTH_INVALID", out, 1, true)
    assert.is_nil(out:find("not-the-password-42", 1, true))
  end)

  it("fails with exit 2 on a usage error, naming it", function()
    local out, rc = octopus("readings " .. srv.credentials.accounts[1] .. " --from nonsense --to 2026-10-01")
    assert.are.equal(2, rc)
    assert.matches("option 'from'", out, 1, true)
    out, rc = octopus("account")
    assert.are.equal(2, rc)
    assert.matches("account needs an account number", out, 1, true)
  end)
end)
