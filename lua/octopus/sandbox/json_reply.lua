-- octopus.sandbox.json_reply: the sandbox's JSON responses (the one place that builds them).
--
--   json_reply.json                          octopus.core.json
--   json_reply.reply(status, value [, headers]) -> res (JSON body)
--   json_reply.detail(status, message [, headers]) -> res ({"detail": message})
--   json_reply.json_body(req) -> table | nil, 400 res ("JSON parse error - ...")
local M = {}

local json
do
  local ok, core = pcall(require, "octopus.core")
  json = ok and type(core) == "table" and core.json
  if not json then error("octopus.sandbox needs octopus.core with json (run make)", 0) end
end
M.json = json

local JSON_TYPE = "application/json"

-- s with every invalid UTF-8 sequence replaced by U+FFFD
local function scrub(s)
  local out, i = {}, 1
  while true do
    local n, bad = utf8.len(s, i)
    if n then out[#out + 1] = s:sub(i) break end
    out[#out + 1] = s:sub(i, bad - 1)
    out[#out + 1] = "\u{FFFD}"
    i = bad + 1
  end
  return table.concat(out)
end

-- a copy of v whose strings are valid UTF-8 (keeps json.array/json.object marks)
local function scrubbed(v)
  if type(v) == "string" then return scrub(v) end
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[scrubbed(k)] = scrubbed(x) end
  return setmetatable(t, getmetatable(v))
end

-- A reply echoes request text (a query value in an error message, say), and
-- octopus.core.json rightly refuses invalid UTF-8: such text is scrubbed rather than
-- turned into a 500.
function M.reply(status, value, headers)
  local h = { ["Content-Type"] = JSON_TYPE }
  for k, v in pairs(headers or {}) do h[k] = v end
  local ok, body = pcall(json.encode, value)
  if not ok then body = json.encode(scrubbed(value)) end
  return { status = status, headers = h, body = body }
end

function M.detail(status, message, headers)
  return M.reply(status, { detail = message }, headers)
end

-- The request body decoded as a JSON object.
function M.json_body(req)
  local body = req.body or ""
  local v, err = json.decode(body)
  if v == nil then
    local msg = err and err.message or "invalid JSON"
    return nil, M.detail(400, "JSON parse error - " .. msg)
  end
  if type(v) ~= "table" or getmetatable(v) == json.array_mt then
    return nil, M.reply(400, { non_field_errors = json.array{
      "Invalid data. Expected a dictionary, but got " .. (type(v) == "table" and "list" or type(v)) .. "." } })
  end
  return v
end

return M
