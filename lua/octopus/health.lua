-- octopus.health: `:checkhealth octopus`. Checks what the plugin needs: the C core
-- loads and was built for this LuaJIT, libcurl and its TLS backend, credentials (their
-- source, never their values), the token file's permissions, and, when configured
-- (setup{ health_check_url = true | url }), that the API answers.
--
-- Works with Neovim 0.7 (health#report_* functions), 0.8/0.9 (vim.health.report_*)
-- and 0.10+ (vim.health.start/ok/warn/error/info).
local config = require "octopus.nvim.config"

local M = {}

local function reporter()
  local h = vim.health
  if type(h) == "table" and type(h.start) == "function" then
    return { start = h.start, ok = h.ok, warn = h.warn, error = h.error, info = h.info }
  end
  if type(h) == "table" and type(h.report_start) == "function" then
    return { start = h.report_start, ok = h.report_ok, warn = h.report_warn,
             error = h.report_error, info = h.report_info }
  end
  local fn = vim.fn
  return {
    start = function(m) fn["health#report_start"](m) end,
    ok = function(m) fn["health#report_ok"](m) end,
    warn = function(m, advice) fn["health#report_warn"](m, advice or {}) end,
    error = function(m, advice) fn["health#report_error"](m, advice or {}) end,
    info = function(m) fn["health#report_info"](m) end,
  }
end

local BUILD = "run `make nvim` in the plugin's directory (the plugin manager's build step)"

local function check_core(r)
  r.start("octopus: C core")
  if not jit then
    r.warn("this Neovim runs PUC Lua, not LuaJIT: the core must be built for its Lua 5.1 ABI")
  end
  local found = vim.api.nvim_get_runtime_file("lua/octopus/core.so", false)[1]
  local ok, core = pcall(require, "octopus.core")
  if not ok then
    local msg = tostring(core)
    if msg:find("lua_getiuservalue", 1, true) or msg:find("undefined symbol", 1, true) then
      r.error("octopus.core was built for another Lua (" .. msg:gsub("\n.*", "") .. ")", { BUILD })
    else
      r.error("octopus.core does not load: " .. msg:gsub("\n.*", ""), { BUILD })
    end
    return nil
  end
  local shadow = package.searchpath and package.searchpath("octopus.core", package.cpath)
  r.ok(("octopus.core %s loads under %s (%s)"):format(tostring(core.version),
    jit and jit.version or _VERSION, found or shadow or "package.cpath"))
  if shadow and found and vim.loop.fs_realpath(shadow) ~= vim.loop.fs_realpath(found) then
    r.warn("package.cpath also finds a core at " .. shadow .. " (not used: runtimepath comes first)")
  end
  local curl = tostring(core.curl_version or "")
  local cv = curl:match("libcurl/([%d%.]+)")
  local tls
  for _, name in ipairs { "OpenSSL", "BoringSSL", "LibreSSL", "GnuTLS", "mbedTLS", "wolfSSL", "NSS",
                          "rustls", "Schannel", "SecureTransport", "BearSSL" } do
    tls = tls or curl:match("(" .. name .. "/?[%w%.%-]*)")
  end
  if not cv then r.error("libcurl version unknown: '" .. curl .. "'") return core end
  if tls then
    r.ok(("libcurl %s, TLS backend %s"):format(cv, tls))
  else
    r.error(("libcurl %s has no TLS backend: the API needs https"):format(cv),
      { "install a libcurl built with TLS (Debian: libcurl4-openssl-dev) and rebuild" })
  end
  return core
end

local function check_credentials(r, cfg)
  r.start("octopus: credentials")
  local creds, where = config.credentials(cfg)
  if creds then
    local kinds = {}
    for _, k in ipairs(config.CREDENTIAL_KEYS) do if creds[k] then kinds[#kinds + 1] = k end end
    r.ok(("credentials present (%s) from %s"):format(table.concat(kinds, ", "), where))
  else
    r.warn(where, { "export OCTOPUS_EMAIL and OCTOPUS_PASSWORD (or OCTOPUS_API_KEY) before starting nvim",
      "or setup{ credentials = function() return { email = ..., password = ... } end }" })
  end
end

local function mode_of(path)
  local st = vim.loop.fs_lstat(path)
  if not st then return nil end
  return st.mode % 4096, st.type
end

local function check_token_file(r, cfg)
  r.start("octopus: token file")
  local path = config.token_file(cfg)
  if not path then r.info("no token file (setup{ token_file = false } or HOME unset): every session logs in") return end
  local mode, kind = mode_of(path)
  if not mode then
    r.ok("no token state yet (written at the first login): " .. path)
  elseif kind == "link" then
    r.error(path .. " is a symbolic link: the client refuses it", { "remove it; :Octopus login writes a private file" })
  elseif mode % 64 ~= 0 then
    r.error(("%s has mode %o: readable or writable by others, so the client ignores it"):format(path, mode),
      { "chmod 600 " .. path .. " (or :Octopus logout, then :Octopus login)" })
  else
    r.ok(("%s: mode %o (private)"):format(path, mode))
  end
  local dir = path:match("^(.*)/[^/]+$")
  local dmode = dir and mode_of(dir)
  if dmode and dmode % 64 ~= 0 then
    r.warn(("%s has mode %o: the token directory should be 700"):format(dir, dmode), { "chmod 700 " .. dir })
  end
end

local function check_reachable(r, cfg)
  r.start("octopus: reachability")
  local target = cfg.health_check_url
  if not target then
    r.info("not checked (setup{ health_check_url = true } checks the API at each :checkhealth)")
    return
  end
  local rest = config.urls(cfg)
  local octopus = require "octopus"
  local ok, client = pcall(octopus.new, { rest_url = rest, ca_file = cfg.ca_file, timeout = 5,
    connect_timeout = 5, retries = 0 })
  if not ok then r.error("cannot make a client: " .. tostring(client)) return end
  local req = type(target) == "string" and { url = target, auth = "none" }
    or { path = { "products" }, auth = "none" }
  local res, err = client:request(req)
  client:close()
  local shown = octopus.errors.redact_url(type(target) == "string" and target or client.rest_url)
  if res then
    r.ok("the API answers at " .. shown)
  else
    r.error(("%s does not answer: %s"):format(shown, tostring(err)))
  end
end

---:checkhealth octopus: the core (and its Lua), libcurl and TLS, credentials present (never
---shown), the token file's permissions, and optionally whether the API answers.
function M.check()
  local r = reporter()
  local core = check_core(r)
  local ok, cfg = pcall(require("octopus.nvim").config)
  if not ok then r.error("octopus.nvim does not load: " .. tostring(cfg)) return end
  check_credentials(r, cfg)
  check_token_file(r, cfg)
  if core then check_reachable(r, cfg) end
end

return M
