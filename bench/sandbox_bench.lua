-- bench/sandbox_bench.lua: the loopback server under concurrent keep-alive load.
--
-- Usage (from the repo root): lua5.4 bench/sandbox_bench.lua [clients=100] [delay=0.05] [rounds=3]
-- Starts `bin/octopus sandbox --app echo`, opens N keep-alive connections, and per round
-- sends GET /delay/<delay> on all of them at once, waiting (select) until every response
-- has arrived. Target: 100 clients with 50 ms latency all answered within 0.5 s per round.
-- Then the hostile cases of issue 15: the time to answer a 10k-unused-fragment GraphQL
-- document (389 KB; 27 s before the token cap and linear locations) and a 1000-error one,
-- and a new client's request while 1000 idle connections are open.
-- It measures and prints; it asserts nothing. Bounded: each round gives up after 10 s.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local helper = require "helper"
local socket = require "socket"

local clients = tonumber(arg[1]) or 100
local delay = tonumber(arg[2]) or 0.05
local rounds = tonumber(arg[3]) or 3

local srv = helper.start_server{ app = "echo", tls = false, ttl = 120 }
local ok, err = pcall(function()
  local conns = {}
  for i = 1, clients do
    conns[i] = helper.connect(srv.http)
    conns[i]:settimeout(0)
  end
  local request = ("GET /delay/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):format(delay)
  print(("sandbox bench: %d keep-alive clients, %g s server delay, %d rounds")
    :format(clients, delay, rounds))
  for round = 1, rounds do
    local t0 = socket.gettime()
    local pending, bufs = {}, {}
    for _, c in ipairs(conns) do
      assert(c:send(request))
      pending[c], bufs[c] = true, ""
    end
    local left = clients
    while left > 0 and socket.gettime() - t0 < 10 do
      local list = {}
      for c in pairs(pending) do list[#list + 1] = c end
      local ready = socket.select(list, nil, 1)
      for _, c in ipairs(ready) do
        local data, rerr, partial = c:receive(65536)
        bufs[c] = bufs[c] .. (data or partial or "")
        local head_end = bufs[c]:find("\r\n\r\n", 1, true)
        if head_end then
          local len = tonumber(bufs[c]:match("[Cc]ontent%-[Ll]ength: (%d+)"))
          if len and #bufs[c] >= head_end + 3 + len then
            assert(bufs[c]:match("^HTTP/1%.1 200"), "unexpected response")
            pending[c], left = nil, left - 1
          end
        end
        if rerr == "closed" then error("server closed a keep-alive connection") end
      end
    end
    local dt = socket.gettime() - t0
    print(("round %d: %d/%d answered in %.3f s (%.0f req/s; serial would take %.1f s)")
      :format(round, clients - left, clients, dt, (clients - left) / dt, clients * delay))
  end
  for _, c in ipairs(conns) do c:close() end
end)
srv:stop()
if not ok then error(err, 0) end

-- hostile documents against the sandbox app (each request bounded by a 5 s socket timeout)
local cjson = require "cjson"
local sb = helper.start_server{ app = "sandbox", tls = false, ttl = 120 }
ok, err = pcall(function()
  local function frags(n, pad)
    local parts = { "{ __typename }" }
    for i = 1, n do parts[#parts + 1] = ("fragment F%s%d on Query { __typename }"):format(pad, i) end
    return table.concat(parts, " ")
  end
  for _, case in ipairs{ { "10k unused fragments (token cap)", frags(10000, "") },
                         { "1000 errors on one 330 KB line (error cap)", frags(1000, ("x"):rep(300)) } } do
    local body = cjson.encode{ query = case[2] }
    local t0 = socket.gettime()
    local status = helper.request(sb.http .. "/v1/graphql/", "POST", body,
      { ["Content-Type"] = "application/json" })
    print(("graphql %s, %d bytes: HTTP %s in %.3f s"):format(case[1], #body, tostring(status),
      socket.gettime() - t0))
  end
  local idle = {}
  for i = 1, 1000 do idle[i] = helper.connect(sb.http) end
  local t0 = socket.gettime()
  local status = helper.request(sb.http .. "/v1/products/")
  print(("GET /v1/products/ with 1000 idle connections open: HTTP %s in %.3f s")
    :format(tostring(status), socket.gettime() - t0))
  for _, c in ipairs(idle) do c:close() end
end)
sb:stop()
if not ok then error(err, 0) end
