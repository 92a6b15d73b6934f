-- async_spec: tasks, poll, map, cancellation, timeouts, the shared KT-CT-1199 backoff and
-- the token single flight (lua/octopus/async.lua), on real loopback servers: the echo app
-- for latency and the sandbox for GraphQL. Every drive loop is bounded in count.
local octopus = require "octopus"
local async = require "octopus.async"
local helper = require "helper"
local cjson = require "cjson"

-- polls until pred() or `rounds` polls of 20 ms; -> number of polls it took
local function poll_until(client, pred, rounds)
  for i = 1, rounds or 500 do
    if pred() then return i end
    client:poll(20)
  end
  assert.is_true(pred(), "still waiting after the poll budget")
end

local raises = helper.raises

describe("async tasks", function()
  local echo, c

  lazy_setup(function() echo = helper.start_server{ app = "echo" } end)
  lazy_teardown(function() if echo then echo:stop() end end)
  before_each(function() c = octopus.new{ rest_url = echo.http .. "/", retries = 0 } end)
  after_each(function() c:close() end)

  local function delay(s) return c:request{ url = echo.http .. "/delay/" .. s } end

  it("#realtime runs many tasks at once while poll keeps returning", function()
    local tasks = {}
    for i = 1, 30 do tasks[i] = c:spawn(function(k) return delay(0.2).delay, k end, i) end
    local polls = poll_until(c, function()
      for _, t in ipairs(tasks) do if not t:done() then return false end end
      return true
    end)
    assert.is_true(polls > 2)
    for i, t in ipairs(tasks) do
      local d, k = t:wait()
      assert.are.equal(0.2, d)
      assert.are.equal(i, k)
      assert.are.equal("ok", t.status)
    end
    assert.are.equal(0, c:poll(0))
  end)

  it("uses the client's TLS settings in tasks (ca_file)", function()
    local tc = octopus.new{ rest_url = echo.https .. "/", ca_file = echo.ca_file }
    local doc = assert(tc:spawn(function() return tc:request{ url = echo.https .. "/echo" } end):wait())
    assert.is_true(doc.tls)
    tc:close()
  end)

  it("keeps the blocking API outside tasks, also inside a user's own coroutine", function()
    assert.are.equal(0, delay(0).delay)
    local t = c:spawn(function()
      local co = coroutine.wrap(function() return delay(0).delay end)
      return co()   -- not a task coroutine: a blocking call, no yield to the scheduler
    end)
    assert.is_true(t:done())
    assert.are.equal(0, t:wait())
    assert.are.equal(0, delay(0).delay)
  end)

  it("limits the transfers a client has in flight", function()
    local sched = async.attach(c, { concurrency = 3 })
    local tasks, most = {}, 0
    for i = 1, 10 do tasks[i] = c:spawn(function() return delay(0.1).delay end) end
    poll_until(c, function()
      most = math.max(most, sched.multi:count())
      for _, t in ipairs(tasks) do if not t:done() then return false end end
      return true
    end)
    assert.are.equal(3, most)
    for _, t in ipairs(tasks) do assert.are.equal(0.1, t:wait()) end
  end)

  it("delivers on_done from poll, not from spawn", function()
    local seen = {}
    local t = c:spawn(function() return 42 end)
    t:on_done(function(task) seen[#seen + 1] = task:result() end)
    assert.is_true(t:done())
    assert.are.same({}, seen)
    c:poll(0)
    assert.are.same({ 42 }, seen)
  end)

  it("cancels a task mid-transfer: the transfer is removed and wait returns CANCELLED", function()
    local sched = async.attach(c)
    local t = c:spawn(function() return delay(5) end)
    c:poll(20)
    assert.are.equal(1, sched.multi:count())
    assert.is_true(t:cancel())
    assert.is_false(t:cancel())
    assert.are.equal(0, sched.multi:count())
    local v, err = t:wait()
    assert.is_nil(v)
    assert.are.equal("CANCELLED", err.code)
    assert.are.equal("usage", err.kind)
    assert.are.equal("task cancelled", err.message)
    assert.are.equal("cancelled", t.status)
    assert.are.equal(0, c:poll(0))
  end)

  it("unwinds a cancelled task: its handlers run, and it can start no new request", function()
    local seen = {}
    local t = c:spawn(function()
      local _, e = async.pcall(delay, 5)   -- pcall itself, except on PUC 5.1
      seen.first = e
      local _, e2 = async.pcall(delay, 0)
      seen.second = e2
      return "never returned"
    end)
    c:poll(20)
    assert.is_true(t:cancel())
    assert.are.equal("CANCELLED", seen.first.code)
    assert.are.equal("CANCELLED", seen.second.code)
    assert.are.equal("task cancelled", seen.second.message)
    assert.are.equal(0, async.scheduler(c).multi:count())
    assert.are.equal("CANCELLED", select(2, t:wait()).code)
  end)

  it("cancels the running tasks when the client closes", function()
    local t = c:spawn(function() return delay(5) end)
    c:poll(20)
    c:close()
    local v, err = t:wait()
    assert.is_nil(v)
    assert.are.equal("CANCELLED", err.code)
    assert.are.equal("the client was closed", err.message)
    raises("client:spawn: the client is closed", c.spawn, c, print)
  end)

  it("ends a request at its per-request timeout with TIMEOUT", function()
    local t = c:spawn(function() return c:request{ url = echo.http .. "/delay/5", timeout = 0.2 } end)
    local v, err = t:wait()
    assert.is_nil(v)
    assert.are.equal("TIMEOUT", err.code)
    assert.are.equal("network", err.kind)
    assert.matches("timed out after %d+ milliseconds", err.message)
    assert.are.equal(0, async.scheduler(c).multi:count())
  end)

  it("ends a task past its deadline with TIMEOUT and stops its transfer", function()
    local t = c:spawn(function() return delay(5) end):set_timeout(0.2)
    local v, err = t:wait()
    assert.is_nil(v)
    assert.are.equal("TIMEOUT", err.code)
    assert.are.equal("task timed out after 0.2 s", err.message)
    assert.are.equal(0, async.scheduler(c).multi:count())
  end)

  it("turns a raise inside a task into its error", function()
    local v, err = c:spawn(function() error("kaput", 0) end):wait()
    assert.is_nil(v)
    assert.are.equal("TASK_ERROR", err.code)
    assert.are.equal("kaput", err.message)
    local e = octopus.errors.new{ code = "MINE", kind = "usage", message = "as raised" }
    local _, err2 = c:spawn(function() error(e) end):wait()
    assert.are.equal(e, err2)
  end)

  it("lets a task wait for another, and sleep backoff never blocks other tasks", function()
    local order = {}
    local slow = c:spawn(function()
      c.transport:sleep(0.5)   -- what the retry backoff calls: a timer, not a blocking sleep
      order[#order + 1] = "slow"
      return c:request{ url = echo.http .. "/status/503" }
    end)
    local fast = c:spawn(function()
      local d = delay(0.05).delay
      order[#order + 1] = "fast"
      return d
    end)
    local waiter = c:spawn(function()
      local _, err = slow:wait()
      return err.code, fast:wait()
    end)
    local code, d = waiter:wait()
    assert.are.equal("HTTP_503", code)
    assert.are.equal(0.05, d)
    assert.are.same({ "fast", "slow" }, order)
  end)

  it("maps items with a concurrency bound, results in order, errors by index", function()
    local running, most = 0, 0
    local results, errs = c:map({ 0.05, 0.05, "x", 0.05, 0.05 }, function(s, i)
      running = running + 1
      most = math.max(most, running)
      local d, err = c:request{ url = echo.http .. (type(s) == "number" and ("/delay/" .. s) or "/status/404") }
      running = running - 1
      if not d then return nil, err end
      return d.delay * 10 + i
    end, { concurrency = 2 })
    assert.are.equal(2, most)
    assert.are.same({ [1] = 1.5, [2] = 2.5, [4] = 4.5, [5] = 5.5 }, results)
    assert.are.equal("NOT_FOUND", errs[3].code)
    assert.are.equal("not found (HTTP 404)", errs[3].message)
    assert.is_nil(errs[1])
  end)

  it("maps inside a task by yielding", function()
    local t = c:spawn(function()
      return c:map({ 1, 2, 3 }, function(x) return delay(0).delay + x end, { concurrency = 3 })
    end)
    assert.is_false(t:done())
    assert.are.same({ 1, 2, 3 }, (t:wait()))
  end)

  it("cancels the items of a map when the task running it is cancelled", function()
    local sched = async.attach(c)
    local t = c:spawn(function()
      return c:map({ 1, 2, 3 }, function(x) return delay(5) end, { concurrency = 3 })
    end)
    c:poll(20)
    assert.are.equal(3, sched.multi:count())
    assert.is_true(t:cancel())
    assert.are.equal(0, sched.multi:count())
    assert.are.equal(0, c:poll(0))
  end)

  local function twenty() local t = {} for i = 1, 20 do t[i] = i end return t end

  it("stops a map when the task running it is cancelled: no item starts again", function()
    local sched = async.attach(c)
    local started = 0
    local t = c:spawn(function()
      return c:map(twenty(), function(i) started = started + 1; return delay(0.3) end, { concurrency = 2 })
    end)
    c:poll(20)
    assert.are.equal(2, started)
    assert.is_true(t:cancel())
    for _ = 1, 10 do c:poll(50) end   -- past the items' 0.3 s: nothing restarts them
    assert.are.equal(2, started)
    assert.are.equal(0, sched.multi:count())
    assert.is_nil(next(sched.tasks))
    assert.are.equal(0, c:poll(0))
    local v, err = t:wait()
    assert.is_nil(v)
    assert.are.equal("CANCELLED", err.code)
    assert.are.equal("task cancelled", err.message)
  end)

  it("ends every task of a map in a task when the client closes, firing on_done once", function()
    local sched = async.attach(c)
    local started, fired = 0, {}
    local t = c:spawn(function()
      return c:map(twenty(), function(i) started = started + 1; return delay(5) end, { concurrency = 2 })
    end):on_done(function(task) fired[#fired + 1] = task.err end)
    c:poll(20)
    c:close()
    assert.are.equal(2, started)
    assert.are.equal(1, #fired)
    assert.are.equal("CANCELLED", fired[1].code)
    assert.are.equal("the client was closed", fired[1].message)
    assert.are.equal("cancelled", t.status)
    assert.is_nil(next(sched.tasks))
    assert.are.equal(0, sched.live)
    assert.are.equal(0, c:poll(0))
    assert.are.equal(1, #fired)
  end)

  it("returns from a blocking map when the client closes, its items CANCELLED", function()
    local started = 0
    c:spawn(function() return delay(0.1) end):on_done(function() c:close() end)
    local results, errs = c:map(twenty(), function(i) started = started + 1; return delay(5) end,
                                { concurrency = 2 })
    assert.are.same({}, results)
    assert.are.equal(2, started)
    for i = 1, 20 do
      assert.are.equal("CANCELLED", errs[i].code)
      assert.are.equal("the client was closed", errs[i].message)
    end
    assert.are.equal(0, async.scheduler(c).live)
  end)

  it("runs an on_done given after the task ended exactly once", function()
    local calls = 0
    local t = c:spawn(function() return 1 end)
    c:poll(0)
    t:on_done(function() calls = calls + 1 end)
    t:on_done(function() calls = calls + 1 end)   -- replaces the first, not queued again
    c:poll(0)
    c:poll(0)
    assert.are.equal(1, calls)
    t:on_done(function() calls = calls + 10 end)  -- a new one after delivery runs once too
    c:poll(0)
    c:poll(0)
    assert.are.equal(11, calls)
  end)

  it("closes octopus.nvim's uv handles when the client closes", function()
    local scheduled, handles = {}, {}
    local function handle(kind)
      local h = { kind = kind }
      function h:start(...) self.active = true; self.cb = select(select("#", ...), ...) end
      function h:stop() self.active = false end
      function h:close() self.closed = true end
      function h:is_closing() return self.closed == true end
      handles[#handles + 1] = h
      return h
    end
    local function run_scheduled()
      local q = scheduled
      scheduled = {}
      for _, f in ipairs(q) do f() end
    end
    _G.vim = { uv = { new_timer = function() return handle("timer") end,
                      new_socket_poll = function(fd) return handle("poll " .. fd) end },
               schedule = function(f) scheduled[#scheduled + 1] = f end }
    local ok, err = pcall(function()
      local h = require("octopus.nvim").attach(c)
      local t = c:spawn(function() return delay(5) end)
      for _ = 1, 20 do
        run_scheduled()
        for _, x in ipairs(handles) do if x.active and x.kind ~= "timer" then x.cb(nil, "w") end end
      end
      assert.is_true(#handles >= 2, "a timer and a socket poll")
      c:close()
      run_scheduled()
      assert.is_true(h.detached)
      for _, x in ipairs(handles) do
        assert.is_true(x.closed, x.kind .. " is still open")
        assert.is_falsy(x.active)
      end
      assert.are.equal("CANCELLED", select(2, t:wait()).code)
    end)
    _G.vim = nil
    assert(ok, err)
  end)

  it("raises on usage errors, naming the argument", function()
    raises("client:spawn: expected a function", c.spawn, c, 42)
    raises("octopus.async.attach: unknown option 'bogus'", async.attach, c, { bogus = 1 })
    raises("option 'concurrency' must be a positive integer", async.attach, c, { concurrency = 0 })
    raises("client:map: fn must be a function", c.map, c, {}, nil)
    raises("client:map: concurrency must be >= 1", c.map, c, {}, print, { concurrency = 0 })
    raises("octopus.nvim: not running inside Neovim", require("octopus.nvim").attach, c)
    raises("octopus.love: not running inside LÖVE", require("octopus.love").attach, c)
    local t = c:spawn(function() return pcall(c.poll, c, 0) end)
    local ok, msg = t:wait()
    assert.is_false(ok)
    assert.matches("client:poll: called from inside a task (use task:wait)", msg, 1, true)
    local me
    me = c:spawn(function()
      coroutine.yield()   -- a plain yield: resumed by the next poll
      return pcall(me.wait, me)
    end)
    local ok2, msg2 = me:wait()
    assert.is_false(ok2)
    assert.matches("task:wait: a task cannot wait for itself", msg2, 1, true)
    raises("task:result: the task is still running", function()
      local slow = c:spawn(function() return delay(1) end)
      local r = { pcall(slow.result, slow) }
      slow:cancel()
      error(r[2], 0)
    end)
  end)
end)

describe("async memory", function()
  it("keeps nothing of a finished task it is not asked to (LuaJIT and 5.1 too)", function()
    local transport = require "octopus.async.transport"
    local c = octopus.new { rest_url = "http://127.0.0.1:9/v1/" }
    local function entries()
      collectgarbage("collect"); collectgarbage("collect")
      local n = 0
      for _ in pairs(transport.task_of) do n = n + 1 end
      return n
    end
    local before = entries()
    for _ = 1, 3000 do c:spawn(function() return 1 end) end
    local kept = c:spawn(function() return 2 end)
    c:poll(0)
    assert.is_true(entries() - before <= 1, "finished tasks are collected")
    assert.are.equal(2, kept:result())                   -- one the caller holds still works
    c:close()
  end)
end)

describe("async GraphQL", function()
  local srv, c

  lazy_setup(function()
    srv = helper.start_server{ app = "sandbox", tls = false, args = { "--access-ttl", "2" } }
  end)
  lazy_teardown(function() if srv then srv:stop() end end)
  before_each(function()
    assert.are.equal(200, (srv:admin("POST", "/_sandbox/reset")))
    c = octopus.new{ rest_url = srv.http .. "/v1/", graphql_url = srv.http .. "/v1/graphql/",
                     email = srv.credentials.email, password = srv.credentials.password,
                     clock = octopus.clock.fake() }
    helper.advance_to(srv, c, c.clock.wall())   -- the sandbox's clock held at the client's from the start
  end)
  after_each(function() c:close() end)


  it("shares one token login, then one refresh, between concurrent tasks", function()
    local tasks = {}
    for i = 1, 10 do tasks[i] = c:spawn(function() return c:viewer() end) end
    for _, t in ipairs(tasks) do
      local v, err = t:wait()
      assert.is_truthy(v, tostring(err))
    end
    assert.are.equal(1, srv:count("operations", "ObtainKrakenToken"))
    helper.advance_to(srv, c, c.clock.wall() + 1.5)   -- past half the 2 s token lifetime: the next call refreshes
    for i = 1, 10 do tasks[i] = c:spawn(function() return c:viewer() end) end
    for _, t in ipairs(tasks) do assert.is_truthy((t:wait())) end
    assert.are.equal(2, srv:count("operations", "ObtainKrakenToken"))
    assert.are.equal(20, srv:count("operations", "Viewer"))
  end)

  it("lets the waiters of a login go on when the task running it is cancelled", function()
    srv:fault({
      match = { operation = "ObtainKrakenToken" }, times = 1, action = { delay = 0.5 } })
    local first = c:spawn(function() return c:viewer() end)
    local second = c:spawn(function() return c:viewer() end)
    c:poll(20)
    first:cancel()
    assert.are.equal("CANCELLED", select(2, first:wait()).code)
    local me, err = second:wait()   -- not stranded, not failed: it logs in itself
    assert.is_nil(err)
    assert.are.equal(srv.credentials.email, me.email)
    assert.is_truthy((c:spawn(function() return c:viewer() end):wait()))
  end)

  local function refuse_1199(retry_after)
    local body = cjson.encode{ data = cjson.null, errors = { {
      message = "Too many requests.",
      extensions = { errorType = "SERVICE_AVAILABILITY", errorCode = "KT-CT-1199", retryAfter = retry_after } } } }
    srv:fault({
      match = { route = "POST /v1/graphql/" }, times = 1, action = { status = 200, body = body } })
  end

  local function gql(query)
    return c:graphql(query, nil, { auth = false })
  end

  it("backs every task off after KT-CT-1199, failing fast when the wait is too long", function()
    refuse_1199(3600)
    local first = c:spawn(function() return gql("query { __typename }") end)
    local _, ferr = first:wait()
    assert.are.equal("KT-CT-1199", ferr.graphql_code)
    local others = {}
    for i = 1, 3 do others[i] = c:spawn(function() return gql("query { __typename }") end) end
    for _, t in ipairs(others) do
      local v, err = t:wait()
      assert.is_nil(v)
      assert.are.equal("RATE_LIMITED", err.code)
      assert.are.equal("rate_limit", err.kind)
      assert.are.equal("KT-CT-1199", err.graphql_code)
      assert.are.equal(3600, err.retry_after)
      assert.are.equal(false, err.sent)
      assert.matches("^held back without sending: an earlier answer asked to wait 3600 s more %(Too many requests%.",
                     err.message)
    end
    assert.are.equal(1, srv:count("requests", "POST /v1/graphql/"))
    local rest = c:spawn(function() return c:request{ path = { "products" }, auth = "none" } end)
    assert.is_truthy((rest:wait()))
  end)

  it("takes the KT-CT-1199 wait from retryAfter, else the ttl by the client's clock, else 60 s", function()
    local gerrors = require "octopus.graphql.errors"
    local fc = octopus.new { rest_url = srv.http .. "/v1/", clock = octopus.clock.fake(1000) }
    local function wait_of(ext)
      ext.errorCode = "KT-CT-1199"
      return gerrors.error(fc, { { message = "Too many requests.", extensions = ext } }, nil, 200).retry_after
    end
    assert.are.equal(5, wait_of{ retryAfter = 5, ttl = 1030 })
    assert.are.equal(30, wait_of{ ttl = 1030 })
    assert.are.equal(0, wait_of{ ttl = 990 })
    assert.are.equal(60, wait_of{})
  end)

  it("blocks every task's GraphQL until a KT-CT-1199 ttl when no retryAfter is given", function()
    local body = cjson.encode{ data = cjson.null, errors = { {
      message = "Too many requests.",
      extensions = { errorType = "SERVICE_AVAILABILITY", errorCode = "KT-CT-1199", ttl = os.time() + 3600 } } } }
    srv:fault({
      match = { route = "POST /v1/graphql/" }, times = 1, action = { status = 200, body = body } })
    local _, ferr = c:spawn(function() return gql("query { __typename }") end):wait()
    assert.are.equal("KT-CT-1199", ferr.graphql_code)
    local v, err = c:spawn(function() return gql("query { __typename }") end):wait()
    assert.is_nil(v)
    assert.are.equal("RATE_LIMITED", err.code)
    assert.are.equal("KT-CT-1199", err.graphql_code)
    assert.is_true(err.retry_after > 60, "the ttl, not the 60 s default")
    assert.are.equal(1, srv:count("requests", "POST /v1/graphql/"))
  end)

  it("waits out a short KT-CT-1199 backoff, then sends", function()
    refuse_1199(1)
    local _, ferr = c:spawn(function() return gql("query { __typename }") end):wait()
    assert.are.equal("KT-CT-1199", ferr.graphql_code)
    local t = c:spawn(function() return gql("query { __typename }") end)
    assert.is_false(t:done())
    local data = assert(t:wait())
    assert.are.equal("Query", data.__typename)
    assert.are.equal(2, srv:count("requests", "POST /v1/graphql/"))
  end)
end)
