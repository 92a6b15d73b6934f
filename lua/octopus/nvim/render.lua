-- octopus.nvim.render: results -> the lines a float shows. Pure Lua (no editor API), one
-- small renderer per subcommand, so each can change with its result's shape alone.
--
--   render.usage(account, days, opts) -> lines   days: readings by_day buckets
--   render.balance(account)           -> lines   account: client:account(number)
--   render.bill(bill) / render.compare(cmp) / render.sync(report) -> lines
--
-- Invariants: every line is a plain string without newlines; yen are shown rounded to
-- whole yen, kWh to 3 decimals (the numbers behind them are not changed).
local type, ipairs, pairs, tostring, tonumber, floor, max = type, ipairs, pairs, tostring, tonumber, math.floor, math.max
local concat, sort, rep, fmt = table.concat, table.sort, string.rep, string.format

local M = {}

M.BAR_WIDTH = 30
M.BAR = "█"

local function yen(v)
  v = tonumber(v)
  if not v then return "-" end
  local n = floor(v + 0.5)
  local s = fmt("%.0f", n < 0 and -n or n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (n < 0 and "-" or "") .. out
end
M.yen = yen

-- usage: a daily bar chart, one line per day: "YYYY-MM-DD <bar> 12.345 kWh   1,234 yen"
function M.usage(account, days, opts)
  opts = opts or {}
  local lines = { fmt("Usage %s, %s (%d days)", account, opts.range or "", #days) }
  if #days == 0 then
    lines[#lines + 1] = "no readings in this period"
    return lines
  end
  local most, kwh, cost = 0, 0, 0
  for _, d in ipairs(days) do
    if d.value > most then most = d.value end
    kwh, cost = kwh + d.value, cost + (d.cost_estimate or 0)
  end
  local width = opts.width or M.BAR_WIDTH
  for _, d in ipairs(days) do
    local n = most > 0 and floor(d.value / most * width + 0.5) or 0
    lines[#lines + 1] = fmt("%s %s%s %8.3f kWh %8s yen", d.key, rep(M.BAR, n), rep(" ", width - n),
      d.value, yen(d.cost_estimate))
  end
  lines[#lines + 1] = fmt("%-10s %s %8.3f kWh %8s yen", "total", rep(" ", width), kwh, yen(cost))
  return lines
end

function M.balance(a)
  local lines = { fmt("Account %s (%s)", tostring(a.number), tostring(a.status)),
    fmt("Balance: %s yen", yen(a.balance)) }
  if type(a.billingName) == "string" then lines[#lines + 1] = "Billing name: " .. a.billingName end
  return lines
end

-- a value of unknown shape as "key: value" lines (sorted keys, nested tables indented)
local function dump(v, indent, lines, depth)
  if depth > 4 then lines[#lines + 1] = indent .. "..." return lines end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local x = v[k]
    if type(x) == "table" then
      lines[#lines + 1] = indent .. tostring(k) .. ":"
      dump(x, indent .. "  ", lines, depth + 1)
    elseif type(x) ~= "function" and type(x) ~= "userdata" then
      lines[#lines + 1] = indent .. tostring(k) .. ": " .. tostring(x)
    end
  end
  return lines
end
M.dump = dump

local function label_of(e)
  return e.label or e.name or e.description or e.kind or e.product or e.code or "?"
end

local function amount_of(e)
  return e.yen or e.amount or e.total or e.cost
end

-- rows of { label, amount } as aligned "label  1,234 yen" lines
local function table_lines(title, rows, total)
  local lines, w = { title }, 0
  for _, r in ipairs(rows) do w = max(w, #r[1]) end
  for _, r in ipairs(rows) do lines[#lines + 1] = r[1] .. rep(" ", w - #r[1]) .. "  " .. fmt("%10s yen", yen(r[2])) end
  if total ~= nil then
    lines[#lines + 1] = rep("-", w + 16)
    lines[#lines + 1] = "total" .. rep(" ", max(w - 5, 0)) .. "  " .. fmt("%10s yen", yen(total))
  end
  return lines
end

-- bill: { lines = { {label=, yen=} | "text", ... }, total = } (other shapes: dumped)
function M.bill(b)
  if type(b) ~= "table" then return { tostring(b) } end
  if type(b.lines) ~= "table" then return dump(b, "", { "Bill" }, 0) end
  local rows, extra = {}, {}
  for _, e in ipairs(b.lines) do
    if type(e) == "table" then rows[#rows + 1] = { tostring(label_of(e)), amount_of(e) }
    else extra[#extra + 1] = tostring(e) end
  end
  local title = "Bill" .. (b.period and type(b.period) ~= "table" and (" " .. tostring(b.period)) or "")
  local lines = table_lines(title, rows, amount_of(b))
  for _, x in ipairs(extra) do lines[#lines + 1] = x end
  return lines
end

-- compare: an array of products (or { products = array }) with their yen
function M.compare(c)
  if type(c) ~= "table" then return { tostring(c) } end
  local list = c.products or c.results or c
  if type(list) ~= "table" or #list == 0 then return dump(c, "", { "Comparison" }, 0) end
  local rows = {}
  for _, e in ipairs(list) do
    if type(e) == "table" then
      local diff = e.difference or e.diff
      local label = tostring(label_of(e))
      if tonumber(diff) then label = label .. fmt(" (%s%s yen)", tonumber(diff) > 0 and "+" or "", yen(diff)) end
      rows[#rows + 1] = { label, amount_of(e) }
    end
  end
  return table_lines("Comparison", rows)
end

-- sync: a report of what happened ({ added =, revised =, unchanged =, windows = , ... })
function M.sync(r)
  if type(r) ~= "table" then return { "Sync: " .. tostring(r) } end
  local parts = {}
  for _, k in ipairs { "added", "revised", "unchanged", "windows" } do
    if r[k] ~= nil then parts[#parts + 1] = k .. " " .. tostring(r[k]) end
  end
  local lines = { "Sync" .. (#parts > 0 and (": " .. concat(parts, ", ")) or "") }
  return dump(r, "  ", lines, 0)
end

return M
