-- octopus.cli.format: how a command's result reaches stdout — an aligned table (the
-- default), --json (one document, keys sorted), --csv (RFC 4180, header row) or
-- --ndjson (one sorted-key object per row).
--
-- A result is { columns = { { key, title, align = "right", fmt = f(v, row) } ... },
-- rows = { ... }, json = value (default: rows), before = { lines }, after = { lines } }.
-- `before`/`after` (headings, charts, summaries) appear in table mode only, so the
-- machine formats stay clean. Colour only when stdout is a terminal and NO_COLOR is unset.
local width = require "octopus.cli.width"

local concat, rep, fmt = table.concat, string.rep, string.format
local floor = math.floor

local M = {}

local tty_cache = {}
-- true when file descriptor fd (1 or 2) is a terminal; `test -t` through the shell,
-- since neither Lua nor the core exposes isatty. OCTOPUS_TTY=0|1 overrides (specs).
function M.is_tty(fd)
  if tty_cache[fd] == nil then
    local ok = os.execute("test -t " .. tostring(fd))
    tty_cache[fd] = (ok == true or ok == 0)
  end
  return tty_cache[fd]
end

function M.color_enabled()
  local nc = os.getenv("NO_COLOR")
  if nc and nc ~= "" then return false end
  return M.is_tty(1)
end

-- true when the locale (LC_ALL, else LC_CTYPE, else LANG) names UTF-8
function M.utf8_locale()
  for _, name in ipairs { "LC_ALL", "LC_CTYPE", "LANG" } do
    local v = os.getenv(name)
    if v and v ~= "" then return v:lower():find("utf%-?8") ~= nil end
  end
  return false
end

local SGR = { bold = "1", dim = "2", red = "31", green = "32", yellow = "33", cyan = "36" }
function M.paint(s, style, on)
  if not on or not SGR[style] then return s end
  return "\27[" .. SGR[style] .. "m" .. s .. "\27[0m"
end

---------------------------------------------------------------------------
-- numbers

-- 1234567.891, 2 -> "1,234,567.89"
function M.group(n, decimals)
  if type(n) ~= "number" then return n == nil and "" or tostring(n) end
  local s = fmt("%." .. (decimals or 0) .. "f", n)
  local sign, int, frac = s:match("^(-?)(%d+)(.*)$")
  if not int then return s end
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. frac
end

function M.yen(n) return n == nil and "" or (M.group(n, floor(n) == n and 0 or 2)) end
function M.kwh(n) return n == nil and "" or fmt("%.3f", n) end

-- a scalar as CSV / plain text: numbers without float noise
function M.scalar(v)
  if v == nil then return "" end
  local t = type(v)
  if t == "number" then
    if v == floor(v) and v > -2^53 and v < 2^53 then return fmt("%d", v) end
    return (fmt("%.10f", v):gsub("0+$", ""):gsub("%.$", ""))
  elseif t == "boolean" then return v and "true" or "false"
  elseif t == "table" then return require("octopus.core").json.encode(v, { sort_keys = true })
  elseif t == "userdata" then return ""            -- json.null
  end
  return tostring(v)
end

---------------------------------------------------------------------------
-- renderers

local function cell_text(col, row)
  local v = row[col.key]
  if col.fmt then return tostring(col.fmt(v, row) or "") end
  return M.scalar(v)
end

-- lines of an aligned table (no trailing spaces)
function M.table_lines(columns, rows, opts)
  opts = opts or {}
  local color = opts.color
  local widths, cells = {}, {}
  for i, col in ipairs(columns) do widths[i] = width.width(col.title or col.key) end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for i, col in ipairs(columns) do
      local s = cell_text(col, row):gsub("[\r\n\t]", " ")
      cells[r][i] = s
      local w = width.width(s)
      if w > widths[i] then widths[i] = w end
    end
  end
  local function line(texts, header)
    local parts = {}
    for i, col in ipairs(columns) do
      local s = width.pad(texts[i], widths[i], col.align)
      if i == #columns and col.align ~= "right" then s = texts[i] end
      parts[i] = s
    end
    local l = concat(parts, "  "):gsub("%s+$", "")
    return header and M.paint(l, "bold", color) or l
  end
  local out = {}
  local titles = {}
  for i, col in ipairs(columns) do titles[i] = col.title or col.key end
  out[1] = line(titles, true)
  for r = 1, #rows do out[#out + 1] = line(cells[r]) end
  return out
end

-- RFC 4180: quote fields holding a comma, quote, CR or LF; CRLF line ends
local function csv_field(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

function M.csv(columns, rows)
  local out = {}
  local head = {}
  for i, col in ipairs(columns) do head[i] = csv_field(col.csv_title or col.key) end
  out[1] = concat(head, ",")
  for _, row in ipairs(rows) do
    local f = {}
    for i, col in ipairs(columns) do
      local v = row[col.key]
      if col.raw then v = col.raw(v, row) end
      f[i] = csv_field(M.scalar(v))
    end
    out[#out + 1] = concat(f, ",")
  end
  return concat(out, "\r\n") .. "\r\n"
end

function M.json(value)
  return require("octopus.core").json.encode(value, { sort_keys = true })
end

-- writes a result in mode "table" | "json" | "csv" | "ndjson" to out (default io.stdout)
function M.emit(result, mode, out)
  out = out or io.stdout
  local rows = result.rows or {}
  if mode == "json" then
    local v = result.json
    if v == nil then v = require("octopus.core").json.array(rows) end
    out:write(M.json(v), "\n")
  elseif mode == "ndjson" then
    for _, row in ipairs(result.ndjson or rows) do out:write(M.json(row), "\n") end
  elseif mode == "csv" then
    if not result.columns then error("this command has no CSV form", 0) end
    out:write(M.csv(result.csv_columns or result.columns, rows))
  else
    local lines = {}
    for _, l in ipairs(result.before or {}) do lines[#lines + 1] = l end
    if result.columns and (#rows > 0 or result.show_empty) then
      for _, l in ipairs(M.table_lines(result.columns, rows, { color = M.color_enabled() })) do
        lines[#lines + 1] = l
      end
    end
    for _, l in ipairs(result.after or {}) do lines[#lines + 1] = l end
    if #lines > 0 then out:write(concat(lines, "\n"), "\n") end
  end
  out:flush()
end

M.rep = rep
return M
