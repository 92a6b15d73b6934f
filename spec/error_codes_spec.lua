-- spec/error_codes_spec.lua: every error code the library builds is a stable code of
-- the one table, octopus.pipeline.errors.CODES (or a layer's errors.define). It reads
-- the sources: Lua `code = "X"` fields, `e.code, ... = "X"` assignments, `fail("X", ...)`
-- helpers and the GraphQL errorCode mapping; C `octopus_push_error(L, "X"`, `code = "X"`
-- and dec_fail(d, "X" ...). A code built nowhere near these shapes escapes the scan; the
-- runtime half (errors.known) is asserted by the specs that meet each error.
local errors = require "octopus.pipeline.errors"

local function files(cmd)
  local out = {}
  local p = assert(io.popen(cmd))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("*a")
  f:close()
  return s
end

-- modules that define codes of their own register them when required
for _, path in ipairs(files("find lua/octopus -name '*.lua' -not -path '*/sandbox/*' | LC_ALL=C sort")) do
  local text = read(path)
  if text:find("errors.define(", 1, true) then
    local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    require(name)
  end
end

local PATTERNS_LUA = {
  '%f[%w_]code%s*=%s*"([%u][%u%d_]+)"',
  '%.code%s*,[^=\n]*=%s*"([%u][%u%d_]+)"',
  '%.code%s*=%s*"([%u][%u%d_]+)"',
  '%f[%w_]fail%(%s*"([%u][%u%d_]+)"',
  '{%s*"([%u][%u%d_]+)"%s*,%s*"[%l_]+"%s*}',          -- graphql errors: { "CODE", "kind" }
}
local PATTERNS_C = {
  'octopus_push_error%(%s*L%s*,%s*"([%u][%u%d_]+)"',
  '%f[%w_]code%s*=%s*"([%u][%u%d_]+)"',
  '%? "([%u][%u%d_]+)" : "([%u][%u%d_]+)"',
  'dec_fail%([^,]+,%s*"([%u][%u%d_]+)"',
}

local function scan(paths, patterns, skip)
  local found = {}
  for _, path in ipairs(paths) do
    local text = read(path)
    for _, pat in ipairs(patterns) do
      for a, b in text:gmatch(pat) do
        for _, code in ipairs { a, b } do
          if code and not (skip and skip(code)) then found[code] = found[code] or path end
        end
      end
    end
  end
  return found
end

describe("error codes", function()
  it("builds in Lua only codes of the one table", function()
    local lua = files("find lua/octopus -name '*.lua' -not -path '*/sandbox/*' | LC_ALL=C sort")
    -- product codes in examples are not error codes
    local found = scan(lua, PATTERNS_LUA, function(c) return c:match("^JPN_") ~= nil or c:match("_$") ~= nil end)
    local unknown = {}
    for code, path in pairs(found) do
      if not errors.known(code) then unknown[#unknown + 1] = code .. " (" .. path .. ")" end
    end
    table.sort(unknown)
    assert.are.same({}, unknown)
    assert.is_truthy(found.DECODE and found.BAD_URL and found.RATE_LIMITED, "the scan sees the sources")
  end)

  it("builds in C only codes of the one table", function()
    local c = files("ls csrc/*.c csrc/sqlite/*.c | LC_ALL=C sort")
    local found = scan(c, PATTERNS_C, function(code)
      return code == "GET" or code == "POST" or code == "PUT" or code == "PATCH" or code == "HEAD" or code == "ERROR"
    end)
    local unknown = {}
    for code, path in pairs(found) do
      if not errors.known(code) then unknown[#unknown + 1] = code .. " (" .. path .. ")" end
    end
    table.sort(unknown)
    assert.are.same({}, unknown)
    assert.is_truthy(found.JSON_SYNTAX and found.CONNECT and found.FILE, "the scan sees the sources")
  end)

  it("gives every code a kind, a default message and a retry default", function()
    for code, c in pairs(errors.CODES) do
      assert.is_string(c[1], code)
      for kind in c[1]:gmatch("%S+") do assert.is_true(errors.KINDS[kind], code .. ": kind " .. kind) end
      assert.is_string(c[2], code)
      assert.is_boolean(c[3], code)
    end
  end)

  it("lists every code in the README's table, under each of its kinds", function()
    local f = assert(io.open("README.md"))
    local readme = f:read("*a")
    f:close()
    local rows = {}
    for kind, codes in readme:gmatch("\n| (%l[%l_]*) | ([^\n]+) |") do rows[kind] = codes end
    local missing = {}
    for code, c in pairs(errors.CODES) do
      for kind in c[1]:gmatch("%S+") do
        if not (rows[kind] and rows[kind]:find("%f[%w_]" .. code .. "%f[^%w_]")) then
          missing[#missing + 1] = kind .. ": " .. code
        end
      end
    end
    table.sort(missing)
    assert.are.same({}, missing)
  end)

  it("knows HTTP_<status> and Kraken's pass-through codes, and nothing made up", function()
    assert.is_true(errors.known("HTTP_418", "http"))
    assert.is_true(errors.known("KT-CT-1201", "graphql"))
    assert.is_false(errors.known("NO_SUCH_CODE"))
    assert.is_false(errors.known("TIMEOUT", "auth"))
    assert.equal("the request timed out", errors.new { code = "TIMEOUT", kind = "network" }.message)
  end)
end)
