-- spec/cli_terminal_spec.lua: the `octopus` command in a real terminal — a tmux pane
-- (120x40) running bash — against the sandbox over TLS with latency injected, read back
-- with capture-pane as a person would see it: the progress bar appears and clears,
-- tables align with Japanese text, charts render, colour follows NO_COLOR, Ctrl-C
-- exits 130 with one line. Every wait is bounded; the tmux server is killed in teardown.
local helper = require "helper"
local socket = require "socket"
local width = require "octopus.cli.width"

describe("#terminal the octopus command in tmux", function()
  local srv, dir, sock, account, seq = nil, nil, nil, nil, 0

  local function tmux(args)
    -- -u and a UTF-8 locale whatever the caller's: wide characters reach capture-pane intact
    return helper.run(("LANG=C.UTF-8 LC_ALL=C.UTF-8 tmux -u -S %s %s"):format(helper.quote(sock), args))
  end
  local function screen(escapes)
    return (tmux("capture-pane -p -J " .. (escapes and "-e " or "") .. "-S - -t main"))
  end
  -- waits (at most `limit` s) until the screen matches the Lua pattern -> screen | nil
  local function wait_for(pattern, limit, escapes)
    local deadline = socket.gettime() + (limit or 20)
    repeat
      local s = screen(escapes)
      if s:find(pattern) then return s end
      socket.sleep(0.05)
    until socket.gettime() > deadline
    return nil
  end
  local function clear()
    tmux("send-keys -t main -l " .. helper.quote('clear; echo __""cleared' .. seq))
    tmux("send-keys -t main Enter")
    assert(wait_for("__cleared" .. seq .. "%f[%D]", 10), "the screen did not clear:\n" .. screen())
    tmux("clear-history -t main")
  end
  -- types a command line -> the pattern its exit status prints as ("__rc7=0"; the typed
  -- line reads __""rc7= so it never matches itself)
  local function type_line(cmd)
    seq = seq + 1
    tmux("send-keys -t main -l " .. helper.quote(cmd .. '; echo "__""rc' .. seq .. '=$?"'))
    tmux("send-keys -t main Enter")
    return "__rc" .. seq .. "=(%d+)"
  end
  -- runs a command to the end -> screen, exit status
  local function run(cmd, limit)
    clear()
    local marker = type_line(cmd)
    local s = wait_for(marker, limit or 30)
    assert(s, "no exit status on the screen within the limit:\n" .. screen())
    return s, tonumber(s:match(marker))
  end

  lazy_setup(function()
    srv = helper.start_server { app = "sandbox", tls = true }
    account = srv.credentials.accounts[1]
    dir = helper.run("mktemp -d /tmp/octopus-tty.XXXXXXXX"):gsub("%s+$", "")
    sock = dir .. "/tmux.sock"                 -- this run's own server, removed with dir
    local env = { OCTOPUS_EMAIL = srv.credentials.email, OCTOPUS_PASSWORD = srv.credentials.password,
      OCTOPUS_URL = srv.https .. "/v1/", OCTOPUS_CA_FILE = srv.ca_file, XDG_STATE_HOME = dir .. "/state",
      XDG_CONFIG_HOME = dir .. "/config", LANG = "C.UTF-8", TERM = "xterm-256color", PS1 = "$ " }
    local parts = {}
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. helper.quote(v) end
    local cmd = "env -u NO_COLOR -u LC_ALL -u LC_CTYPE " .. table.concat(parts, " ")
      .. " bash --norc --noprofile"
    local out, rc = tmux("new-session -d -x 120 -y 40 -s main " .. helper.quote(cmd))
    assert(rc == 0, out)
    assert(wait_for("%$", 10), "no shell prompt in tmux")
  end)
  lazy_teardown(function()
    if sock then tmux("kill-server") end
    if srv then srv:stop() end
    if dir then os.execute("rm -rf " .. helper.quote(dir)) end
  end)
  before_each(function() srv:admin("POST", "/_sandbox/reset") end)

  it("shows a progress bar with counts while readings windows arrive, then clears it", function()
    srv:fault { match = { operation = "HalfHourlyReadings" }, times = 40, action = { delay = 0.3 } }
    clear()
    local marker = type_line("lua5.4 bin/octopus usage " .. account .. " --from 2026-08-01 --to 2026-10-01")
    local during = wait_for("readings %[[█░]+%] %d+/%d+ +%d+%%", 20)
    assert(during, "no progress bar:\n" .. screen())
    local s = wait_for(marker, 60)
    assert(s, "the command did not finish:\n" .. screen())
    assert.are.equal("0", s:match(marker))
    assert.is_nil(s:find("readings [", 1, true), s)                -- cleared
    assert.matches("2026-09-30", s, 1, true)
    assert.matches("total %d+%.%d+ kWh", s)
  end)

  it("aligns the account table with Japanese addresses on the screen, in colour unless NO_COLOR", function()
    local s, rc = run("lua5.4 bin/octopus account " .. account)
    assert.are.equal(0, rc, s)
    local head, row
    for l in s:gmatch("[^\n]+") do
      if l:find("Supply point", 1, true) then head = l end
      if l:find("東京都", 1, true) then row = l end
    end
    assert(head and row, s)
    local col = width.width(head:sub(1, head:find("Product", 1, true) - 1))
    assert.are.equal(col, width.width(row:sub(1, row:find("Green Octopus", 1, true) - 1)))
    local coloured = screen(true)
    assert.matches("\27[1m", coloured, 1, true)                    -- a bold header
    clear()
    local marker = type_line("NO_COLOR=1 lua5.4 bin/octopus account " .. account)
    local plain = wait_for(marker, 20, true)
    assert(plain, screen())
    local table_part = plain:match("Supply point.-\n.-\n")
    assert.is_nil(table_part:find("\27[", 1, true))
  end)

  it("draws daily bars with the yen beside them, the heat map and the sparkline", function()
    local s, rc = run("lua5.4 bin/octopus usage " .. account .. " --from 2026-10-01 --to 2026-10-08 --heatmap")
    assert.are.equal(0, rc, s)
    local bars = 0
    for l in s:gmatch("[^\n]+") do
      if l:match("^2026%-10%-0%d +%d+%.%d+ +[%d,]+%.?%d* +48 +█") then bars = bars + 1 end
    end
    assert.are.equal(7, bars, s)
    local heat = 0
    for l in s:gmatch("[^\n]+") do
      if l:match("^10%-0%d  ") and (l:find("▓", 1, true) or l:find("█", 1, true)) then heat = heat + 1 end
    end
    assert.are.equal(7, heat, s)
    local summary = s:match("total [^\n]+")
    assert.matches("over 7 days  [▁▂▃▄▅▆▇█]+", summary)
  end)

  it("exits 130 on Ctrl-C with one line and no traceback", function()
    srv:fault { match = { operation = "HalfHourlyReadings" }, times = 60, action = { delay = 0.4 } }
    clear()
    local marker = type_line("lua5.4 bin/octopus usage " .. account .. " --from 2026-01-01 --to 2026-07-01")
    assert(wait_for("readings %[.-%] %d+/%d+", 20), "no progress bar before Ctrl-C:\n" .. screen())
    tmux("send-keys -t main C-c")
    local s = wait_for(marker, 20)
    assert(s, "no exit after Ctrl-C:\n" .. screen())
    assert.are.equal("130", s:match(marker))
    assert.matches("octopus: interrupted", s, 1, true)
    assert.is_nil(s:find("traceback", 1, true), s)
    assert.is_nil(s:find("%.lua:%d+:"), s)
    assert.is_nil(s:find("readings [", 1, true), s)                -- the bar was erased
  end)

  it("stops `octopus sandbox` on Ctrl-C with exit 130 and one line", function()
    clear()
    local marker = type_line("lua5.4 bin/octopus sandbox --no-tls --ttl 60")
    assert(wait_for("stop with Ctrl%-C", 20), "the sandbox did not start:\n" .. screen())
    tmux("send-keys -t main C-c")
    local s = wait_for(marker, 20)
    assert(s, "no exit after Ctrl-C:\n" .. screen())
    assert.are.equal("130", s:match(marker))
    assert.matches("interrupted", s, 1, true)
    assert.is_nil(s:find("%.lua:%d+:"), s)
  end)

  it("shows sync's progress over its windows and clears it", function()
    if not pcall(require, "octopus.history.sync") then
      local s, rc = run("lua5.4 bin/octopus sync " .. account)
      assert.are.equal(2, rc, s)
      assert.matches("not available in this version", s, 1, true)
      return
    end
    srv:fault { match = { operation = "HalfHourlyReadings" }, times = 40, action = { delay = 0.3 } }
    clear()
    local db = dir .. "/history.sqlite"
    local marker = type_line("lua5.4 bin/octopus sync " .. account .. " --from 2026-05-01 --db " .. helper.quote(db))
    assert(wait_for("sync %[[█░]+%] %d+/%d+", 30), "no sync progress:\n" .. screen())
    local s = wait_for(marker, 60)
    assert(s, "sync did not finish:\n" .. screen())
    assert.are.equal("0", s:match(marker))
    assert.is_nil(s:find("sync [", 1, true), s)
    assert.matches("Added", s, 1, true)
  end)
end)
