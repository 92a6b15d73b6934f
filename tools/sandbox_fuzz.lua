-- tools/sandbox_fuzz.lua -- random and mutated HTTP requests and GraphQL documents against
-- a running sandbox: no crash, no 500 from malformed input, no request slower than a bound.
--
--   lua5.4 tools/sandbox_fuzz.lua [SECONDS] [SEED]    (make fuzz-sandbox; starts its own sandbox)
--   local fuzz = dofile("tools/sandbox_fuzz.lua")      (spec/sandbox_fuzz_spec.lua: a short run)
--   fuzz.run{ http = "http://127.0.0.1:PORT", seconds = 10, count = 400, seed = 1 }
--     -> { sent, by_status = { [status] = n }, closed, slowest, failures = { "why", ... } }
--
-- Each case goes over its own loopback connection (Connection: close), so a framing
-- mutation cannot spill into the next case. A case fails when the answer is a 500 (the
-- sandbox has no fault installed, so a 500 is a crash inside a handler), when no answer
-- and no close comes within BOUND seconds (measured here, from the first byte sent),
-- or when the server stops answering a plain probe. Bounded by count and time.
local socket = require "socket"

local M = {}
local BOUND = 2            -- seconds: the server is not hanging on one request

local ROUTES = { "/v1/products/", "/v1/products/JPN_KK_OCTOPUS_MAY_26/", "/v1/graphql/",
  "/v1/quotes/", "/v1/industry/grid-supply-points/?postcode=100-0001", "/v1/accounts/A-1/",
  "/v1/electricity-meter-points/", "/", "/v1/products/?is_green=true&page=2" }
local METHODS = { "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "get", "" }

local DOCS = {
  "query { viewer { email accounts { number } } }",
  "query Q($n: String!) { account(accountNumber: $n) { number balance } }",
  "mutation { obtainKrakenToken(input: {APIKey: \"x\"}) { token refreshToken } }",
  "query { postalAreas(postcode: \"100-0001\") { prefecture city } }",
  "fragment F on Account { number } query { viewer { accounts { ...F } } }",
  "query { __schema { types { name fields { name } } } }",
  "{ __typename }",
}

local function reader(seed)
  local s = seed
  local r = {}
  function r.int(n)
    s = (s * 1103515245 + 12345) % 2147483648
    return 1 + math.floor(s / 2147483648 * n)
  end
  function r.pick(t) return t[r.int(#t)] end
  function r.bytes(n)
    local out = {}
    for i = 1, n do out[i] = string.char(r.int(256) - 1) end
    return table.concat(out)
  end
  return r
end

-- a document mutated at a few random places (delete, duplicate, insert junk, swap)
local function mutate(r, doc)
  for _ = 1, r.int(4) do
    local i = r.int(#doc + 1)
    local k = r.int(6)
    if k == 1 then doc = doc:sub(1, i - 1) .. doc:sub(i + r.int(8))
    elseif k == 2 then doc = doc:sub(1, i) .. doc:sub(i, i + r.int(16)) .. doc:sub(i + 1)
    elseif k == 3 then
      local junk = r.pick { "{", "}", "(", ")", "$", "...", "\"", "\\", "#", "@", ":", "!", "\0", "\255" }
      doc = doc:sub(1, i) .. junk .. doc:sub(i + 1)
    elseif k == 4 then doc = doc:sub(1, i) .. r.bytes(r.int(6)) .. doc:sub(i + 1)
    elseif k == 5 then doc = doc:rep(1 + r.int(3))
    else doc = doc:sub(1, i) .. ("{ a "):rep(r.int(40)) .. doc:sub(i + 1) end
  end
  return doc
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ("\\u%04x"):format(c:byte()) end) .. '"'
end

-- one case: the raw bytes to send
local function make_case(r, host)
  local kind = r.int(10)
  local route = r.pick(ROUTES)
  if kind <= 4 then                          -- a GraphQL document, valid JSON around it
    local doc = mutate(r, r.pick(DOCS))
    local vars = r.int(3) == 1 and ',"variables":{"n":"A-1"}' or ""
    local body = '{"query":' .. json_string(doc) .. vars .. "}"
    if r.int(8) == 1 then body = mutate(r, body) end        -- and sometimes the JSON itself
    return ("POST /v1/graphql/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n" ..
      "Content-Length: %d\r\nConnection: close\r\n\r\n%s"):format(host, #body, body), "graphql"
  elseif kind <= 7 then                      -- a mutated request head
    local head = ("%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\nConnection: close\r\n"):format(
      r.pick(METHODS), route, host)
    local extra = r.int(6)
    if extra == 1 then head = head .. "X-Junk: " .. r.bytes(r.int(200)) .. "\r\n"
    elseif extra == 2 then
      head = head .. "Content-Length: " .. r.pick { "-1", "abc", "99999999999999999999", "5, 6", " 3" } .. "\r\n"
    elseif extra == 3 then head = head .. "Transfer-Encoding: chunked\r\n"
    elseif extra == 4 then head = head .. ("X-A: b\r\n"):rep(r.int(300))
    elseif extra == 5 then
      head = head .. "Authorization: " .. r.pick { "Basic", "Basic !!!", "JWT", "Bearer " .. r.bytes(40) } .. "\r\n"
    end
    local text = mutate(r, head) .. "\r\n"
    if extra == 3 then
      text = text .. r.pick { "zz\r\n", "ffffffffffffffffffff\r\n", "5\r\nhello\r\n0\r\n\r\n", "3\r\nab" }
    end
    return text, "head"
  elseif kind <= 9 then                      -- a REST body, often broken JSON
    local body = mutate(r, '{"postcode":"100-0001","electricity":{"annual_consumption_kwh":3600}}')
    local cl = r.int(4) == 1 and (#body + r.int(10) - 5) or #body
    return ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" ..
      "Connection: close\r\n\r\n%s"):format(route, host, math.max(cl, 0), body), "rest"
  else                                       -- noise
    return r.bytes(r.int(512)), "noise"
  end
end

-- sends one case, reads until the answer is complete or the server closes:
-- status (number | nil), seconds, "closed" | "timeout" | nil
local function exchange(host, port, bytes)
  local c = assert(socket.tcp())
  c:settimeout(BOUND + 1)
  local t0 = socket.gettime()
  if not c:connect(host, port) then c:close() return nil, 0, "connect" end
  c:send(bytes)
  c:shutdown("send")      -- a request cut short ends here: the server sees EOF, not a slow client
  local line, err = c:receive("*l")
  local status, how
  if line then
    status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
    local length
    while true do
      local h, herr = c:receive("*l")
      if not h then err = herr break end
      if h == "" then break end
      length = tonumber(h:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")) or length
    end
    if length and length > 0 then
      local _, berr = c:receive(length)
      err = berr
    elseif not length then
      local _, berr = c:receive("*a")
      err = berr
    end
  end
  local dt = socket.gettime() - t0
  if err == "timeout" then how = "timeout" elseif err then how = "closed" end
  c:close()
  return status, dt, how
end

function M.run(opts)
  local host, port = opts.http:match("^http://([^:/]+):(%d+)")
  port = tonumber(port)
  local r = reader(opts.seed or 1)
  local seconds, count = opts.seconds or 10, opts.count or 1e9
  local res = { sent = 0, by_status = {}, by_kind = {}, closed = 0, slowest = 0, failures = {} }
  local deadline = socket.gettime() + seconds
  local hp = host .. ":" .. port
  while res.sent < count and socket.gettime() < deadline and #res.failures < 10 do
    local bytes, kind = make_case(r, hp)
    local status, dt, how = exchange(host, port, bytes)
    res.sent = res.sent + 1
    res.by_kind[kind] = (res.by_kind[kind] or 0) + 1
    local key = status and tostring(status) or (how or "none")
    res.by_status[key] = (res.by_status[key] or 0) + 1
    if how == "closed" then res.closed = res.closed + 1 end
    if dt > res.slowest then res.slowest = dt end
    local why
    if status == 500 then why = "500"
    elseif how == "timeout" or dt > BOUND then why = ("no answer within %d s (%.2f s)"):format(BOUND, dt)
    elseif how == "connect" then why = "connection refused: the server is gone" end
    if why then
      res.failures[#res.failures + 1] = ("%s case #%d (%s): %q"):format(why, res.sent, kind, bytes:sub(1, 300))
    end
    if res.sent % 50 == 0 then         -- the server still answers a plain request
      local probe = ("GET /v1/products/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"):format(hp)
      local s = exchange(host, port, probe)
      if s ~= 200 then res.failures[#res.failures + 1] = "probe after case #" .. res.sent .. ": " .. tostring(s) end
    end
  end
  return res
end

local function summary(res)
  local keys = {}
  for k in pairs(res.by_status) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. res.by_status[k] end
  return ("%d cases (%s), slowest %.3f s, %d failures"):format(res.sent, table.concat(parts, " "),
    res.slowest, #res.failures)
end
M.summary = summary

-- as a script: starts a sandbox, fuzzes it for SECONDS, exits 1 on a failure
if arg and arg[0] and arg[0]:match("sandbox_fuzz%.lua$") and not M.loaded_as_module then
  package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
  package.cpath = "build/5.4/?.so;" .. package.cpath
  local helper = require "helper"
  local seconds = tonumber(arg[1]) or 60
  local srv = helper.start_server { app = "sandbox", tls = false, ttl = seconds + 120 }
  local ok, res = pcall(M.run, { http = srv.http, seconds = seconds, seed = tonumber(arg[2]) or os.time() })
  local alive = helper.alive(srv.pid)
  srv:stop()
  if not ok then print("sandbox fuzz raised: " .. tostring(res)) os.exit(1) end
  print("sandbox fuzz: " .. summary(res))
  for _, f in ipairs(res.failures) do print("  FAIL " .. f) end
  if not alive then print("  FAIL the sandbox process died") end
  os.exit((#res.failures == 0 and alive) and 0 or 1)
end

return M
