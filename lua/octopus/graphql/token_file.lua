-- octopus.token_file: a client's token state kept in a file only its owner can
-- read, so a CLI or a plugin survives restarts without logging in again.
--
--   octopus.new{ email =, password =, token_file = path }     -- the usual way, or by hand:
--   local store = require("octopus.graphql.token_file").new(path)
--   store:load(graphql_url [, credential]) -> state | nil [, err]
--   store:save(state, graphql_url [, credential]) -> true | nil, err
--   (credential: M.credential_id(opts), the identity of the login the state belongs to)
--   store:clear()
--   M.default_path() -> $XDG_STATE_HOME/octopus/token.json (~/.local/state/octopus/token.json)
--
-- Invariants: the file is written through core.write_private (0600 in a 0700
-- directory, atomic rename); a file that group or others may read, or a
-- symbolic link, is refused (load returns nil and the reason, so the client logs
-- in afresh and the next save replaces it with a private file); a state saved
-- for another GraphQL URL or another credential (another API key or email: the
-- file keeps a fingerprint, never the credential) is not used. Errors name the
-- path, never the token.
local core = require "octopus.core"
local errors = require "octopus.pipeline.errors"
local private = require "octopus.pipeline.private"
local usage = require "octopus.pipeline.usage"

local json = core.json
local type, setmetatable, tostring = type, setmetatable, tostring
local os_getenv, os_remove = os.getenv, os.remove

local M = {}

---A token state kept in a file only its owner can read.
---@class octopus.TokenFile
---@field path string
local Store = { __name = "octopus.TokenFile" }
Store.__index = Store

---@return string|nil path $XDG_STATE_HOME/octopus/token.json (~/.local/state/...); nil without HOME
function M.default_path()
  local base = os_getenv("XDG_STATE_HOME")
  if not base or base == "" then
    local home = os_getenv("HOME")
    if not home or home == "" then return nil end
    base = home .. "/.local/state"
  end
  return base .. "/octopus/token.json"
end

-- M.credential_id(opts) -> fingerprint of the primary credential in client options
-- (the order octopus.auth logs in with), or nil when there is none (a bare refresh token)
---@param opts octopus.Options|octopus.Credentials
---@return string|nil id fingerprint of the primary credential (never the credential); nil when none
function M.credential_id(opts)
  local id
  if opts.api_key and opts.api_key ~= "" then id = "api_key:" .. opts.api_key
  elseif opts.email and opts.password then id = "email:" .. opts.email:lower()
  elseif opts.organization_secret_key then id = "organization:" .. opts.organization_secret_key
  elseif opts.pre_signed_key then id = "pre_signed:" .. opts.pre_signed_key end
  return id and core.fingerprint(id) or nil
end

---@param path? string "~/" is HOME; default M.default_path() (raises when there is none)
---@return octopus.TokenFile store
function M.new(path)
  if path == nil then path = M.default_path() end
  if type(path) ~= "string" or path == "" then
    usage.raise("octopus.token_file: 'path' must be a file path (no default: HOME is not set)")
  end
  if path:sub(1, 2) == "~/" then
    local home = os_getenv("HOME")
    if not home then usage.raise("octopus.token_file: 'path' starts with ~ but HOME is not set") end
    path = home .. path:sub(2)
  end
  return setmetatable({ path = path }, Store)
end

local function file_error(message)
  return errors.new { code = "FILE", kind = "io", retryable = false, message = message }
end

-- the directory holding the file must be its owner's alone (0700): in a directory others
-- can write, the file could be swapped or replaced behind the client's back
local function check_dir(path)
  local dir = path:match("^(.*)/[^/]*$")
  if not dir or dir == "" then return true end
  local mode = core.file_mode(dir)
  if mode and mode % 64 ~= 0 then
    return nil, file_error(("the token file's directory %s is open to others (mode %o): refused;" ..
      " run chmod 700 %s"):format(dir, mode, dir))
  end
  return true
end

---Errors (FILE): a file or directory others can read or write, a symlink, a file that is
---not a saved state. No file, or one saved for another URL or credential: nil alone.
---@param url? string the GraphQL URL the state must be for
---@param credential? string M.credential_id of the login it must be for
---@return octopus.TokenState|nil state
---@return octopus.Error|nil err
function Store:load(url, credential)
  local dok, derr = check_dir(self.path)
  if not dok then return nil, derr end
  local mode = core.file_mode(self.path)
  if not mode then
    local f = io.open(self.path, "rb")
    if not f then return nil end                      -- no file yet: not an error
    f:close()
    return nil, file_error("cannot check the mode of " .. self.path)
  end
  if mode % 64 ~= 0 then                              -- any group/other bit (mode & 077)
    return nil, file_error(("token file %s is readable or writable by others (mode %o): ignored;" ..
      " it will be rewritten with mode 600"):format(self.path, mode))
  end
  local f = io.open(self.path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  local doc = json.decode(text)
  if type(doc) ~= "table" or type(doc.state) ~= "table" then
    return nil, file_error("token file " .. self.path .. " is not a saved token state: ignored")
  end
  if url ~= nil and doc.url ~= url then return nil end                      -- another endpoint
  if credential ~= nil and doc.credential ~= credential then return nil end  -- another login
  return doc.state
end

---Writes 0600 in a 0700 directory, atomically.
---@param state octopus.TokenState
---@param url? string
---@param credential? string
---@return true|nil ok
---@return octopus.Error|nil err FILE
function Store:save(state, url, credential)
  if type(state) ~= "table" then usage.raise("token_file:save: 'state' must be a table") end
  local dok, derr = check_dir(self.path)
  if not dok then return nil, derr end
  return core.write_private(self.path, json.encode { url = url, credential = credential, state = state })
end

---Removes the file (no error when there is none).
function Store:clear()
  os_remove(self.path)
end

---@return string
function Store:__tostring() return "octopus.TokenFile (" .. tostring(self.path) .. ")" end

-- M.attach(client, path, opts): octopus.new's token_file option. Restores the token
-- state from the file (unless token_state is given, or the file was saved for another
-- endpoint or credential) and saves every new one to it. A file others can read is not
-- used; the reason goes to the log as { event = "token_file", error = err }.
---octopus.new's token_file option: restores the state from the file and saves every new one.
---@param client octopus.Client
---@param path string
---@param opts octopus.Options
function M.attach(client, path, opts)
  local p = private.of(client)
  local store, credential = M.new(path), M.credential_id(opts)
  if not p.token_state then
    local state, err = store:load(client.graphql_url, credential)
    p.token_state = state
    if err and p.log then p.log { event = "token_file", error = err } end
  end
  local user_hook = p.on_token
  p.on_token = function(state)
    local ok, err = store:save(state, client.graphql_url, credential)
    if not ok and p.log then p.log { event = "token_file", error = err } end
    if user_hook then user_hook(state) end
  end
end

return M
