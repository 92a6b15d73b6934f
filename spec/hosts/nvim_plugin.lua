-- spec/hosts/nvim_plugin.lua: a plugin-shaped script run inside real Neovim (LuaJIT):
--   OCTOPUS_URL=http://127.0.0.1:N OCTOPUS_OUT=/tmp/result \
--     nvim --headless -u NONE -i NONE -c 'luafile spec/hosts/nvim_plugin.lua'
-- (from the repo root; the sandbox must delay GET /v1/products/ so transfers overlap).
-- Issues 20 concurrent requests through require("octopus.nvim") (all 20 in flight at
-- once), while an editor timer (timer_start) keeps ticking during the transfers; each
-- result is appended to a scratch buffer from on_done (the API works there); then
-- client:close() must leave no uv poll handle open (the adapter detaches). Writes
-- "ok ..." or "fail <why>" to OCTOPUS_OUT and exits 0 (qa!) or 1 (cq).
local root = os.getenv("OCTOPUS_ROOT") or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/luajit/?.so;" .. package.cpath

local N = 20
local out_path = os.getenv("OCTOPUS_OUT") or "/tmp/octopus-nvim-result"

local function finish(ok, msg)
  local f = io.open(out_path, "w")
  if f then f:write((ok and "ok " or "fail ") .. msg .. "\n") f:close() end
  vim.cmd(ok and "qa!" or "cq")
end

local ok, err = pcall(function()
  local octopus = require "octopus"
  local url = assert(os.getenv("OCTOPUS_URL"), "OCTOPUS_URL is not set")
  local client = octopus.new{ rest_url = url .. "/v1/", retries = 0 }
  -- records the uv handles the adapter makes (its timer at attach, its socket polls)
  local uv = vim.uv or vim.loop
  local made, new_timer, new_poll = {}, uv.new_timer, uv.new_socket_poll
  uv.new_timer = function() local x = new_timer(); made[#made + 1] = x; return x end
  uv.new_socket_poll = function(fd) local x = new_poll(fd); made[#made + 1] = x; return x end
  local h = require("octopus.nvim").attach(client)
  uv.new_timer = new_timer
  local buf = vim.api.nvim_create_buf(false, true)
  local multi = require("octopus.async").scheduler(client).multi
  local ticks, done, most = 0, 0, 0
  -- the editor's own timer: counts its ticks while transfers are in flight
  local timer = vim.fn.timer_start(10, function()
    local n = multi:count()
    if n > 0 then ticks = ticks + 1 end
    if n > most then most = n end
  end, { ["repeat"] = -1 })
  vim.defer_fn(function() finish(false, "deadline: " .. done .. " of " .. N .. " done") end, 20000)
  local ticks_at_start = ticks
  for i = 1, N do
    client:spawn(function()
      local page = assert(client:request{ path = { "products" }, auth = "none" })
      return i, page.count
    end):on_done(function(task)
      local k, count = task:result()
      -- touching a buffer here would raise in a fast (libuv) context
      vim.api.nvim_buf_set_lines(buf, -1, -1, false, { ("request %s: %s products"):format(tostring(k), tostring(count)) })
      done = done + 1
      if task.err then finish(false, "task failed: " .. tostring(task.err)) return end
      if done == N then
        vim.fn.timer_stop(timer)
        local lines = vim.api.nvim_buf_line_count(buf) - 1   -- a new buffer has one empty line
        local ticked = ticks - ticks_at_start
        client:close()   -- detaches too: every uv handle of the adapter closes now
        local open = 0
        for _, x in ipairs(made) do if not x:is_closing() then open = open + 1 end end
        if not h.detached then return finish(false, "client:close() left the adapter attached") end
        if #made < 2 then return finish(false, "saw only " .. #made .. " uv handles of the adapter") end
        if open > 0 then return finish(false, open .. " uv handles still open after close") end
        if lines ~= N then return finish(false, "buffer has " .. lines .. " result lines") end
        if ticked < 5 then return finish(false, "editor timer ticked only " .. ticked .. " times") end
        if most ~= N then return finish(false, "at most " .. most .. " transfers were in flight at once") end
        if h.stats.flushes > 2000 then return finish(false, "busy polling: " .. h.stats.flushes .. " flushes") end
        finish(true, ("lines=%d in_flight=%d ticks=%d flushes=%d socket_events=%d timer_events=%d"):format(
          lines, most, ticked, h.stats.flushes, h.stats.socket_events, h.stats.timer_events))
      end
    end)
  end
end)
if not ok then finish(false, "error: " .. tostring(err)) end
