-- tools/valgrind_core.lua: exercises every part of octopus.core once, for
-- `make valgrind` (the process under valgrind is this one; the echo server it
-- talks to is a separate, unchecked process). Exits non-zero if a step fails.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (os.getenv("OCTOPUS_CPATH") or "build/5.4/?.so") .. ";" .. package.cpath

local helper = require "helper"
local core = require "octopus.core"
local json = core.json

-- JSON: round trips and every error path.
local doc = json.decode('{"a":[1,2.5,"x\\u00e9\\ud83d\\ude00",true,false,null,{"b":{}}],"n":-1e300}')
assert(json.decode(json.encode(doc)).a[2] == 2.5)
for _, bad in ipairs { "", "[1,", '{"a"}', '"\\ud800"', "01", "[" .. ("["):rep(2000) } do
  assert(not json.decode(bad))
end
assert(not pcall(json.encode, { 1, nil, 3 }))
assert(not pcall(json.encode, 0 / 0))

-- Auth primitives.
assert(core.base64_decode(core.base64_encode("secret\0bytes")) == "secret\0bytes")
assert(core.base64url_decode(core.base64url_encode("\255\254")) == "\255\254")
assert(not core.jwt_claims("not.a.jwt"))
assert(core.basic_auth("sk_live_x"):match("^Basic "))

-- Private files (token state).
local tmp = os.tmpname()
os.remove(tmp)
assert(core.write_private(tmp .. "/d/token.json", "secret"))
assert(core.file_mode(tmp .. "/d/token.json") == 384)
assert(not core.write_private("/proc/nonexistent/x", "secret"))
assert(not core.file_mode(tmp .. "/missing"))
os.execute("rm -rf '" .. tmp .. "'")

-- HTTP over plain and TLS loopback, success and failure, with a progress callback.
local srv = helper.start_server { app = "echo", tls = true }
local ok, err = pcall(function()
  for _, base in ipairs { srv.http, srv.https } do
    local s = core.session { ca_file = srv.ca_file, max_body = 4096 }
    for _ = 1, 3 do
      local status, _, body = s:request { url = base .. "/echo", method = "POST", body = '{"x":1}',
        headers = { ["Content-Type"] = "application/json" } }
      assert(status == 200 and #body > 0, "echo")
    end
    assert(select(2, s:request { url = base .. "/bytes/100000" }).code == "TOO_LARGE")
    assert(select(2, s:request { url = base .. "/delay/2", timeout = 0.2 }).code == "TIMEOUT")
    assert(select(2, s:request { url = base .. "/stream/50000", max_body = 1e6,
      on_progress = function() error("stop") end }).code == "CALLBACK")
    s:close()
  end
  local s = core.session {}
  assert(select(2, s:request { url = "http://127.0.0.1:1/" }).code == "CONNECT")
  assert(select(2, s:request { url = srv.https .. "/echo" }).code == "TLS") -- unknown CA
  -- A session dropped without close: __gc frees it.
  s = nil -- luacheck: ignore 311 (dropped for __gc)
  collectgarbage()
  collectgarbage()
end)
srv:stop()
if not ok then
  io.stderr:write("valgrind_core: ", tostring(err), "\n")
  os.exit(1)
end
print("valgrind_core: ok")
