-- octopus.sandbox: launcher for the loopback server (Lua 5.4 only).
--
--   require("octopus.sandbox").start{ app = "sandbox" | "echo" | module name | path.lua,
--     port = 0, tls_port = 0, tls = true, wrong_host_tls = false, ttl = nil,
--     app_opts = {...}, on_ready = function(info) end, log = function(msg) end|nil }
--
-- Binds the listeners first (127.0.0.1, ports 0 = ephemeral), then builds the app with
-- app_opts plus app_opts.urls = { http =, https =, wrong_host = } so it can form absolute
-- links, calls on_ready(info) with info = { http, https, wrong_host, ca_file, pid,
-- credentials, rest_url, graphql_url, rest_url_http, graphql_url_http } (rest_url and
-- graphql_url are the HTTPS ones when TLS is on, else the HTTP ones), and serves until
-- POST /_sandbox/shutdown or ttl seconds. The throwaway certificate directory is removed
-- when it returns (also when it raises, e.g. on Ctrl-C).
local server = require "octopus.sandbox.server"

local M = {}

-- The apps `--app NAME` advertises (octopus-sandbox --help lists them).
M.APPS = { sandbox = "octopus.sandbox.app", echo = "octopus.sandbox.apps.echo" }
M.APP_NAMES = { "sandbox", "echo" }

function M.pid()
  local f = io.open("/proc/self/stat")
  if not f then return nil end
  local pid = tonumber(f:read("l"):match("^(%d+)"))
  f:close()
  return pid
end

-- Resolves an app spec to its module table ({ new = function(opts) -> handler, info }).
function M.load_app(spec)
  spec = spec or "sandbox"
  if M.APPS[spec] then return require(M.APPS[spec]) end
  if spec:find("/", 1, true) or spec:match("%.lua$") then return dofile(spec) end
  return require(spec)
end

-- Everything after the listeners exist: certs, app, serve. Returns info.
local function serve(opts, srv, state)
  local app = M.load_app(opts.app)
  assert(type(app) == "table" and type(app.new) == "function",
    "sandbox: app module must export new(opts) -> handler, info")
  local urls, ca_file = {}, nil
  urls.http = "http://127.0.0.1:" .. srv:listen{ port = opts.port or 0 }
  if opts.tls ~= false then
    local set = require("octopus.sandbox.certs").generate()
    state.certs, ca_file = set, set.ca_file
    local p = srv:listen{ port = opts.tls_port or 0,
                          tls = { key = set.key_file, certificate = set.cert_file } }
    urls.https = "https://127.0.0.1:" .. p
    if opts.wrong_host_tls then
      local w = srv:listen{ port = 0,
                            tls = { key = set.wrong_key_file, certificate = set.wrong_cert_file } }
      urls.wrong_host = "https://127.0.0.1:" .. w
    end
  end
  local app_opts = {}
  for k, v in pairs(opts.app_opts or {}) do app_opts[k] = v end
  app_opts.urls = urls
  local handler, app_info = app.new(app_opts)
  assert(type(handler) == "function", "sandbox: app.new must return a handler function")
  srv.handler = handler
  local info = { http = urls.http, https = urls.https, wrong_host = urls.wrong_host,
                 ca_file = ca_file, pid = M.pid(),
                 credentials = app_info and app_info.credentials or {},
                 rest_url_http = urls.http .. "/v1/", graphql_url_http = urls.http .. "/v1/graphql/" }
  local base = urls.https or urls.http
  info.rest_url, info.graphql_url = base .. "/v1/", base .. "/v1/graphql/"
  if opts.on_ready then opts.on_ready(info) end
  srv:run{ ttl = opts.ttl }
  return info
end

function M.start(opts)
  opts = opts or {}
  local srv = server.new{ handler = function() end, log = opts.log }
  local state = {}
  local ok, res = pcall(serve, opts, srv, state)
  srv:close()
  if state.certs then require("octopus.sandbox.certs").remove(state.certs) end
  if not ok then error(res, 0) end
  return res
end

return M
