-- luacheck configuration (Debian's lua-check): `make lint`, run by `make test`.
-- The same sources run on Lua 5.1-5.4 and LuaJIT, so the standard library is
-- the union of them ("max"); compat shims read table.unpack or unpack and so on.
std = "max"
max_line_length = 120
codes = true
self = false          -- methods need not use self (__tostring and friends)
exclude_files = { "build/", "octopus/", "fuzz/" }

-- `local _ENV = nil` after the requires is our no-globals guard on 5.2+
-- 581: `not (x < y)` is how NaN-safe comparisons are written here
ignore = { "214/_ENV", "581" }

-- specs: data tables and sentences run long, and callbacks ignore arguments
files["spec/"] = { std = "+busted", max_line_length = false, unused_args = false }
files["spec/hosts/"] = { globals = { "vim", "love" } }
files["lua/octopus/nvim.lua"] = { read_globals = { "vim" } }
files["lua/octopus/nvim/"] = { read_globals = { "vim" } }
files["lua/octopus/health.lua"] = { read_globals = { "vim" } }
files["plugin/"] = { read_globals = { "vim" } }
files["lua/octopus/love.lua"] = { read_globals = { "love" } }
files["examples/love/"] = { globals = { "love" } }
