-- spec/hosts/multi_valgrind.lua: core.multi under valgrind -- transfers in flight
-- (with bodies, headers and on_progress refs) at close and at __gc, pooled handles,
-- cancel. Run from the repo root:
--   valgrind --keep-debuginfo=yes --suppressions=tools/valgrind.supp --leak-check=full \
--     --errors-for-leak-kinds=definite,indirect --error-exitcode=9 lua5.4 spec/hosts/multi_valgrind.lua
-- Exits 0 when everything ran; valgrind's exit code reports memory errors.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (os.getenv("OCTOPUS_CPATH") or "build/5.4/?.so") .. ";" .. package.cpath
local core = require "octopus.core"
local helper = require "helper"

local srv = helper.start_server{ app = "echo", tls = false }
local ok, err = pcall(function()
  assert(not pcall(core.multi, { user_agent = "ua", ca_file = "/nonexistent/ca.pem" }))  -- raises half-way
  local m = core.multi{ max_connections = 4 }
  local done = 0
  for i = 1, 6 do m:add{ url = srv.http .. "/echo?i=" .. i, method = "POST", body = ("b"):rep(i * 100) } end
  for _ = 1, 200 do
    done = done + #m:poll(20)
    if done == 6 then break end
  end
  assert(done == 6, "echo transfers did not finish")
  for _ = 1, 4 do m:add{ url = srv.http .. "/delay/5", headers = { ["X-A"] = "1" },
                         on_progress = function() end } end
  local id = m:add{ url = srv.http .. "/delay/5" }
  for _ = 1, 5 do m:poll(10) end
  assert(m:cancel(id))
  m:close()                               -- in flight at close
  local m2 = core.multi()
  for _ = 1, 3 do m2:add{ url = srv.http .. "/delay/5", body = "x", method = "PUT" } end
  for _ = 1, 5 do m2:poll(10) end
  m2 = nil -- luacheck: ignore (in flight at __gc)
  collectgarbage(); collectgarbage()
end)
srv:stop()
if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
print("multi_valgrind: ok")
