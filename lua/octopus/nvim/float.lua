-- octopus.nvim.float: show lines in a floating window (Neovim 0.7 API), the way the
-- plugin shows every result. `q` or <Esc> closes it; a new result replaces the float
-- the previous one opened.
--
--   local win, buf = float.open(lines [, { border = "rounded", filetype = "octopus" }])
--   float.close()
--
-- Invariants: the buffer is a scratch buffer (nofile, wiped when hidden, not
-- modifiable); the window fits the editor (lines wider or more than it are cut by the
-- window, not by us); call only from the main loop (not a fast uv callback).
local api = vim.api

local M = {}

local current   -- the window the last open made

function M.close()
  if current and api.nvim_win_is_valid(current) then api.nvim_win_close(current, true) end
  current = nil
end

function M.open(lines, opts)
  opts = opts or {}
  M.close()
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  api.nvim_buf_set_option(buf, "bufhidden", "wipe")
  api.nvim_buf_set_option(buf, "modifiable", false)
  api.nvim_buf_set_option(buf, "filetype", opts.filetype or "octopus")
  local width = 1
  for _, l in ipairs(lines) do
    local w = vim.fn.strdisplaywidth(l)
    if w > width then width = w end
  end
  local cols, rows = vim.o.columns, vim.o.lines - vim.o.cmdheight
  width = math.max(1, math.min(width, cols - 4))
  local height = math.max(1, math.min(#lines, rows - 4))
  local win = api.nvim_open_win(buf, true, {
    relative = "editor", style = "minimal", border = opts.border or "rounded",
    width = width, height = height,
    row = math.max(0, math.floor((rows - height) / 2) - 1), col = math.max(0, math.floor((cols - width) / 2)),
  })
  for _, key in ipairs { "q", "<Esc>" } do
    api.nvim_buf_set_keymap(buf, "n", key, "<cmd>close<CR>", { noremap = true, silent = true, nowait = true })
  end
  current = win
  return win, buf
end

return M
