-- octopus.cli.chart: terminal charts — horizontal bars, a half-hour x day heat map and
-- a sparkline — in Unicode block characters, or plain ASCII when the locale is not
-- UTF-8 (opts.ascii). Pure functions from numbers to lines; no colour, no I/O.
local width = require "octopus.cli.width"

local floor, max, rep, concat = math.floor, math.max, string.rep, table.concat

local M = {}

local EIGHTHS = { "▏", "▎", "▍", "▌", "▋", "▊", "▉" }
local SPARK = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }
local SPARK_ASCII = { "_", ".", "-", "~", "=", "+", "*", "#" }
local SHADES = { " ", "░", "▒", "▓", "█" }
local SHADES_ASCII = { " ", ".", ":", "*", "#" }

local function peak(values)
  local m = 0
  for _, v in ipairs(values) do if type(v) == "number" and v > m then m = v end end
  return m
end

-- a bar of value/top over `cols` columns
function M.bar(value, top, cols, ascii)
  if not value or top <= 0 or value <= 0 then return "" end
  local eighths = floor(value / top * cols * 8 + 0.5)
  if ascii then return rep("#", floor(eighths / 8 + 0.5)) end
  local full, part = floor(eighths / 8), eighths % 8
  local s = rep("█", full)
  if part > 0 then s = s .. EIGHTHS[part] end
  return s
end

-- items { { label =, value =, note = } }, opts { width = 40, ascii = } -> lines
-- "label  ████▌  note"; the notes line up after the longest bar.
function M.bars(items, opts)
  opts = opts or {}
  local cols = opts.width or 40
  local values, lw = {}, 0
  for i, it in ipairs(items) do
    values[i] = it.value
    lw = max(lw, width.width(it.label))
  end
  local top = peak(values)
  local out = {}
  for _, it in ipairs(items) do
    local b = M.bar(it.value, top, cols, opts.ascii)
    local line = width.pad(it.label, lw) .. "  " .. width.pad(b, cols) .. "  " .. (it.note or "")
    out[#out + 1] = (line:gsub("%s+$", ""))
  end
  return out
end

-- values -> one line of block heights (min..max of the values)
function M.sparkline(values, opts)
  local marks = (opts and opts.ascii) and SPARK_ASCII or SPARK
  local lo, hi
  for _, v in ipairs(values) do
    if type(v) == "number" then
      lo = (lo == nil or v < lo) and v or lo
      hi = (hi == nil or v > hi) and v or hi
    end
  end
  local out = {}
  for i, v in ipairs(values) do
    if type(v) ~= "number" then out[i] = " "
    elseif hi == lo then out[i] = marks[4]
    else out[i] = marks[floor((v - lo) / (hi - lo) * (#marks - 1) + 0.5) + 1] end
  end
  return concat(out)
end

-- grid { { label = "11-01", cells = { [1..48] = kWh or nil } } }, opts { ascii = } -> lines
-- one row per day, one column per half hour (48), shade by value relative to the peak;
-- a missing half hour is "?" (or "·"); a header marks every third hour.
function M.heatmap(grid, opts)
  opts = opts or {}
  local shades = opts.ascii and SHADES_ASCII or SHADES
  local missing = opts.ascii and "?" or "·"
  local all = {}
  local lw = 0
  for _, row in ipairs(grid) do
    lw = max(lw, width.width(row.label))
    for s = 1, 48 do if row.cells[s] then all[#all + 1] = row.cells[s] end end
  end
  local top = peak(all)
  local head = {}
  for h = 0, 23, 3 do head[#head + 1] = width.pad(tostring(h), 6) end
  local out = { rep(" ", lw + 2) .. (concat(head):gsub("%s+$", "")) }
  for _, row in ipairs(grid) do
    local cells = {}
    for s = 1, 48 do
      local v = row.cells[s]
      if v == nil then cells[s] = missing
      elseif top <= 0 or v <= 0 then cells[s] = shades[1]
      else cells[s] = shades[math.min(#shades, floor(v / top * (#shades - 1) + 0.999) + 1)] end
    end
    out[#out + 1] = width.pad(row.label, lw) .. "  " .. concat(cells) .. "  " .. (row.note or "")
    out[#out] = out[#out]:gsub("%s+$", "")
  end
  out[#out + 1] = rep(" ", lw + 2) .. "scale: " .. concat(shades, "", 2) .. " low to high (peak "
    .. (opts.peak_text or ("%.3f kWh"):format(top)) .. ")" .. "  " .. missing .. " missing"
  return out
end

return M
