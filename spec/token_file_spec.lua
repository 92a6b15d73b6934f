-- spec/token_file_spec.lua: token state on disk. core.write_private / file_mode
-- (csrc/file.c) and octopus.token_file, then octopus.new{ token_file = } against the
-- sandbox: a second process-like client reuses the saved token without a login.
local helper = require "helper"
local octopus = require "octopus"
local core = require "octopus.core"
local token_file = require "octopus.graphql.token_file"

local function tmpdir()
  return (helper.run("mktemp -d /tmp/octopus-tokens.XXXXXXXX"):gsub("%s+$", ""))
end

describe("#core private files", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. helper.quote(dir)) end)

  it("writes a secret with mode 600 in new directories with mode 700", function()
    local path = dir .. "/a/b/token.json"
    assert.is_true(core.write_private(path, "secret"))
    assert.are.equal("secret", helper.read_file(path))
    assert.are.equal(tonumber("600", 8), core.file_mode(path))
    assert.are.equal(tonumber("700", 8), core.file_mode(dir .. "/a"))
    assert.are.equal(tonumber("700", 8), core.file_mode(dir .. "/a/b"))
  end)

  it("replaces a file others could read with a private one, leaving no temporary file", function()
    local path = dir .. "/token.json"
    local f = assert(io.open(path, "w"))
    f:write("old")
    f:close()
    os.execute("chmod 644 " .. helper.quote(path))
    assert.are.equal(tonumber("644", 8), core.file_mode(path))
    assert.is_true(core.write_private(path, "new"))
    assert.are.equal("new", helper.read_file(path))
    assert.are.equal(tonumber("600", 8), core.file_mode(path))
    local listing = helper.run("ls -A " .. helper.quote(dir))
    assert.are.equal("token.json\n", listing)
  end)

  it("returns FILE errors naming the path, never the data", function()
    local v, err = core.write_private("/proc/nonexistent/x/token.json", "sk_live_secret")
    assert.is_nil(v)
    assert.are.equal("FILE", err.code)
    assert.are.equal("io", err.kind)
    assert.matches("/proc/nonexistent/x/token.json", err.message, 1, true)
    assert.is_nil(tostring(err):find("sk_live_secret", 1, true))
    v, err = core.file_mode(dir .. "/missing")
    assert.is_nil(v)
    assert.are.equal("FILE", err.code)
  end)

  it("refuses a symbolic link", function()
    os.execute(("ln -s /etc/passwd %s"):format(helper.quote(dir .. "/link")))
    local v, err = core.file_mode(dir .. "/link")
    assert.is_nil(v)
    assert.matches("symbolic link", err.message, 1, true)
  end)

  it("fingerprints credentials without revealing them", function()
    local a, b = core.fingerprint("api_key:sk_live_one"), core.fingerprint("api_key:sk_live_two")
    assert.matches("^%x+$", a)
    assert.are.equal(16, #a)
    assert.are_not.equal(a, b)
    assert.are.equal(a, core.fingerprint("api_key:sk_live_one"))
  end)

  it("raises on bad arguments, naming them", function()
    assert.has_error(function() core.write_private("", "x") end)
    assert.has_error(function() core.write_private(dir .. "/x", nil) end)
    assert.has_error(function() core.file_mode(nil) end)
  end)
end)

describe("token files", function()
  local srv, dir, creds

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = false }
    creds = srv.credentials
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function()
    dir = tmpdir()
    srv:admin("POST", "/_sandbox/reset")
  end)
  after_each(function() os.execute("rm -rf " .. helper.quote(dir)) end)

  local function logins() return srv:count("operations", "ObtainKrakenToken") end

  local function client(path, extra)
    local o = { rest_url = srv.http .. "/v1/", graphql_url = srv.http .. "/v1/graphql/",
                email = creds.email, password = creds.password, token_file = path }
    for k, v in pairs(extra or {}) do o[k] = v or nil end
    return octopus.new(o)
  end

  it("saves the token privately and lets the next client start without a login", function()
    local path = dir .. "/state/token.json"
    assert.are.equal(creds.email, assert(client(path):viewer()).email)
    assert.are.equal(1, logins())
    assert.are.equal(tonumber("600", 8), core.file_mode(path))
    local later = client(path)
    assert.are.equal(creds.email, assert(later:viewer()).email)
    assert.are.equal(1, logins())
    assert.is_nil(tostring(later):find("token", 1, true))
  end)

  it("ignores a token file others can read, says why in the log, and rewrites it privately", function()
    local path = dir .. "/token.json"
    assert(client(path):viewer())
    os.execute("chmod 644 " .. helper.quote(path))
    local seen = {}
    local c = client(path, { log = function(e) seen[#seen + 1] = e end })
    assert(c:viewer())
    assert.are.equal(2, logins())
    local event = seen[1]
    assert.are.equal("token_file", event.event)
    assert.are.equal("FILE", event.error.code)
    assert.matches("readable or writable by others", event.error.message, 1, true)
    assert.are.equal(tonumber("600", 8), core.file_mode(path))
  end)

  it("refuses a token file in a directory others can open, neither reading nor writing it", function()
    local shared = dir .. "/shared"
    local path = shared .. "/token.json"
    assert(client(path):viewer())                       -- creates shared/ 0700 and the file
    os.execute("chmod 777 " .. helper.quote(shared))
    local seen = {}
    local c = client(path, { log = function(e) if e.event then seen[#seen + 1] = e end end })
    assert(c:viewer())
    assert.are.equal(2, logins())                       -- the saved state was not trusted
    assert.are.equal("FILE", seen[1].error.code)
    assert.matches("directory " .. shared .. " is open to others (mode 777): refused; run chmod 700",
      seen[1].error.message, 1, true)
    assert.are.equal("FILE", seen[2].error.code)        -- nor was a new one written there
    os.execute("chmod 700 " .. helper.quote(shared))
    assert(client(path):viewer())
    assert.are.equal(2, logins())                       -- the first file is still the good one
  end)

  it("does not use a state saved for another GraphQL endpoint", function()
    local path = dir .. "/token.json"
    local store = token_file.new(path)
    assert.is_true(store:save({ token = "x.y.z", refresh_token = "r" }, "https://elsewhere.example/v1/graphql/"))
    assert.is_nil(store:load(srv.http .. "/v1/graphql/"))
    assert(client(path):viewer())
    assert.are.equal(1, logins())
  end)

  it("does not use a state saved for another credential", function()
    local path = dir .. "/token.json"
    assert(client(path):viewer())                                 -- email + password
    assert.are.equal(1, logins())
    local by_key = client(path, { email = false, password = false, api_key = creds.api_key })
    assert(by_key:viewer())                                        -- another login: not reused
    assert.are.equal(2, logins())
    assert(client(path, { email = false, password = false, api_key = creds.api_key }):viewer())
    assert.are.equal(2, logins())                                  -- but its own state is
    assert.is_nil(helper.read_file(path):find(creds.api_key, 1, true))
  end)

  it("still calls the user's on_token hook", function()
    local got
    assert(client(dir .. "/t.json", { on_token = function(s) got = s end }):viewer())
    assert.is_string(got.token)
  end)

  it("raises naming the path argument when it is not a path", function()
    assert.has_error(function() token_file.new(42) end,
      "octopus.token_file: 'path' must be a file path (no default: HOME is not set)")
  end)
end)
