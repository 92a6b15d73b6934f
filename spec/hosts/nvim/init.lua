-- spec/hosts/nvim/init.lua: the init file of the plugin specs (nvim --headless -u this).
-- Puts the checkout first on 'runtimepath' the way a plugin manager does (so
-- plugin/octopus.lua loads at startup and the core comes from lua/octopus/core.so,
-- nothing on package.cpath), then runs scenario $OCTOPUS_SCENARIO of scenarios.lua
-- once the editor has started. The scenario writes its observations as JSON to
-- $OCTOPUS_OUT and quits; the busted side judges them (spec/nvim_plugin_spec.lua).
-- OCTOPUS_ROOT may be a copy of the plugin (e.g. one without core.so); the scenarios
-- then come from OCTOPUS_SPEC_DIR.
local root = assert(os.getenv("OCTOPUS_ROOT"), "OCTOPUS_ROOT is not set")
vim.opt.runtimepath:prepend(root)
vim.opt.swapfile = false

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    local here = os.getenv("OCTOPUS_SPEC_DIR") or (root .. "/spec/hosts/nvim")
    local lib = dofile(here .. "/lib.lua")
    local scenarios = dofile(here .. "/scenarios.lua")
    local name = os.getenv("OCTOPUS_SCENARIO") or "?"
    local run = scenarios[name]
    if not run then return lib.finish({ error = "no scenario " .. name }) end
    lib.deadline(tonumber(os.getenv("OCTOPUS_DEADLINE_MS") or "") or 30000)
    local ok, err = pcall(run, lib)
    if not ok then lib.finish({ error = "scenario raised: " .. tostring(err) }) end
  end,
})
