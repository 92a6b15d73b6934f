-- bench/sandbox_bench.lua: the loopback server under concurrent keep-alive load.
--
-- Usage (from the repo root): lua5.4 bench/sandbox_bench.lua [clients=100] [delay=0.05] [rounds=3]
-- Starts `bin/octopus sandbox --app echo`, opens N keep-alive connections, and per round
-- sends GET /delay/<delay> on all of them at once, waiting (select) until every response
-- has arrived. Target: 100 clients with 50 ms latency all answered within 0.5 s per round.
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
    for i, c in ipairs(conns) do
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
