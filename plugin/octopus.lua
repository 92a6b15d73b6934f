-- plugin/octopus.lua: the :Octopus command (Neovim 0.7+). Loads nothing else until the
-- command runs; configure with require("octopus.nvim").setup{...} (see :help octopus).
-- The C core must be built first: `make nvim` (the plugin manager's build step).
if vim.g.loaded_octopus then return end
vim.g.loaded_octopus = 1

if vim.fn.has("nvim-0.7") == 0 then
  vim.api.nvim_echo({ { "octopus: needs Neovim 0.7 or later", "WarningMsg" } }, true, {})
  return
end

vim.api.nvim_create_user_command("Octopus", function(o)
  require("octopus.nvim").run(o.fargs)
end, {
  nargs = "*",
  desc = "Octopus Energy: usage, bill, compare, balance, sync, login, logout",
  complete = function(arglead, cmdline, cursorpos)
    return require("octopus.nvim").complete(arglead, cmdline, cursorpos)
  end,
})

-- close the plugin's client (its transfers and uv handles) when the editor exits
vim.api.nvim_create_autocmd("VimLeavePre", {
  group = vim.api.nvim_create_augroup("octopus", { clear = true }),
  callback = function()
    local m = package.loaded["octopus.nvim"]
    if m then m.reset() end
  end,
})
