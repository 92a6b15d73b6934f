-- octopus.history.export: stream a store's readings as CSV or NDJSON, for spreadsheets
-- and dashboards, in constant memory (a decade of half hours is 175,000 rows).
--
--   export.csv(store, spin, out [, { from, to, zone }]) -> rows written | nil, err
--   export.ndjson(store, spin, out [, { from, to, zone }]) -> rows written | nil, err
--     out: a file handle (anything with :write) or a function(chunk) -> truthy | nil, err
--
-- CSV: a header row "start,end,kwh,yen,version", then one row per half hour, oldest
-- first: ISO 8601 times with the zone's offset (default the store's zone, JST), kWh and
-- yen exactly as the API gave them (yen empty when it gave none), the version.
-- NDJSON: one object per line {"start","end","kwh","yen","version"} with kwh/yen as JSON
-- numbers written from the API's Decimal text (null when absent).
--
-- Invariants: rows come from store:rows (one statement, stepped); output is written in
-- chunks of CHUNK lines, so memory does not grow with the range. A write failure stops
-- the export and is returned as err (kind io, code FILE).
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"
local raise = require("octopus.pipeline.usage").raise

local type, tostring = type, tostring
local floor, fmt, concat = math.floor, string.format, table.concat
local _ENV = nil -- luacheck: ignore (no globals below; a plain local on 5.1)

---@class octopus.history.export
---@field CHUNK integer
---@field CSV_HEADER string
local M = {}
M.CHUNK = 512
M.CSV_HEADER = "start,end,kwh,yen,version\n"

-- a fast ISO formatter for whole seconds: the date part is cached per zone day
local function iso_formatter(zone)
  local off = zone.offset
  local suffix = time.format(0, zone):sub(20)
  local cached_day, prefix = nil, nil
  return function(t)
    local lt = t + off
    local day = floor(lt / 86400)
    if day ~= cached_day then
      cached_day, prefix = day, time.format(day * 86400 - off, zone):sub(1, 11)
    end
    local s = lt - day * 86400
    if s ~= floor(s) then return time.format(t, zone) end
    return fmt("%s%02d:%02d:%02d%s", prefix, floor(s / 3600), floor(s % 3600 / 60), s % 60, suffix)
  end
end

local function writer(out)
  if type(out) == "function" then return out end
  if (type(out) == "userdata" or type(out) == "table") and out.write then
    return function(chunk) return out:write(chunk) end
  end
  raise("export: 'out' must be a file handle or a function(chunk)")
end

local function write_error(err)
  return errors.new { code = "FILE", kind = "io", retryable = false,
    message = "export: write failed: " .. tostring(err) }
end

-- the JSON number text for a Decimal string, or a formatted number
local function json_number(text, n)
  if type(text) == "string" and text:match("^%-?%d+%.?%d*$") and not text:match("^%-?0%d") then return text end
  if n == nil then return "null" end
  return fmt("%.17g", n)
end

local function csv_field(s)
  if s == nil then return "" end
  s = tostring(s)
  if s:find('[,"\n\r]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function run(store, spin, out, opts, header, line_of)
  local write = writer(out)
  opts = opts or {}
  local zone = opts.zone and time.zone(opts.zone) or store.zone
  local iso = iso_formatter(zone)
  local buf, n, total = {}, 0, 0
  if header then buf[1], n = header, 1 end
  local function flush()
    if n == 0 then return true end
    local ok, err = write(concat(buf, "", 1, n))
    n = 0
    if not ok then return nil, write_error(err) end
    return true
  end
  for r in store:rows(spin, { from = opts.from, to = opts.to, zone = opts.zone }) do
    n = n + 1
    buf[n] = line_of(r, iso)
    total = total + 1
    if n >= M.CHUNK then
      local ok, err = flush()
      if not ok then return nil, err end
    end
  end
  local ok, err = flush()
  if not ok then return nil, err end
  return total
end

---@param store octopus.history.Store
---@param spin string
---@param out file*|fun(chunk: string): any
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue, zone?: string }
---@return integer|nil rows
---@return octopus.Error|nil err FILE, the storage codes
function M.csv(store, spin, out, opts)
  return run(store, spin, out, opts, M.CSV_HEADER, function(r, iso)
    return iso(r.start_at) .. "," .. iso(r.end_at) .. "," .. r.value_text .. "," ..
      csv_field(r.cost_estimate_text) .. "," .. csv_field(r.version) .. "\n"
  end)
end

---@param store octopus.history.Store
---@param spin string
---@param out file*|fun(chunk: string): any
---@param opts? { from?: octopus.TimeValue, to?: octopus.TimeValue, zone?: string }
---@return integer|nil rows
---@return octopus.Error|nil err FILE, the storage codes
function M.ndjson(store, spin, out, opts)
  return run(store, spin, out, opts, nil, function(r, iso)
    return '{"start":"' .. iso(r.start_at) .. '","end":"' .. iso(r.end_at) .. '","kwh":' ..
      json_number(r.value_text, r.value) .. ',"yen":' ..
      (r.cost_estimate_text and json_number(r.cost_estimate_text, r.cost_estimate) or "null") ..
      ',"version":' .. (r.version and ('"' .. r.version:gsub('[%c"\\]', "") .. '"') or "null") .. "}\n"
  end)
end

return M
