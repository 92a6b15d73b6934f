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
  local lines = { fmt("Usage %s%s (%d days)", account, opts.range and (", " .. opts.range) or "", #days) }
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

-- display columns of a UTF-8 string, roughly: 3- and 4-byte sequences (CJK, kana) are
-- 2 columns, everything else 1 (enough to align Japanese product names)
local function width(str)
  local n = 0
  for i = 1, #str do
    local b = str:byte(i)
    if b < 0x80 or (b >= 0xC0 and b < 0xE0) then n = n + 1
    elseif b >= 0xE0 then n = n + 2 end
  end
  return n
end
M.width = width

-- rows of { label, amount } as aligned "label  1,234 yen" lines
local function table_lines(title, rows, total)
  local lines, w = { title }, 0
  for _, r in ipairs(rows) do w = max(w, width(r[1])) end
  for _, r in ipairs(rows) do
    lines[#lines + 1] = r[1] .. (r[2] ~= nil and (rep(" ", w - width(r[1])) .. "  " .. fmt("%10s yen", yen(r[2]))) or "")
  end
  if total ~= nil then
    lines[#lines + 1] = rep("-", w + 16)
    lines[#lines + 1] = "total" .. rep(" ", max(w - 5, 0)) .. "  " .. fmt("%10s yen", yen(total))
  end
  return lines
end

-- one billing period of octopus.money.bill's result: its lines, then its total
local function period_lines(p, out)
  local title = ("Bill %s .. %s"):format(tostring(p.from_date or p.from or "?"), tostring(p.to_date or p.to or "?"))
  if p.days then title = title .. (" (%s days"):format(tostring(p.days)) .. (p.kwh and fmt(", %s kWh)", tostring(p.kwh_text or p.kwh)) or ")") end
  if p.complete == false then title = title .. ", so far" end
  local rows = {}
  for _, e in ipairs(type(p.lines) == "table" and p.lines or {}) do
    if type(e) == "table" then rows[#rows + 1] = { tostring(label_of(e)), amount_of(e) }
    else rows[#rows + 1] = { tostring(e), nil } end
  end
  for _, l in ipairs(table_lines(title, rows, p.total)) do out[#out + 1] = l end
  return out
end

-- bill: octopus.money.bill's result { total, periods = { { from_date, to_date, days, kwh,
-- lines = { {label, yen} }, total } }, assumptions } or a bare period { lines, total };
-- other shapes are dumped
function M.bill(b)
  if type(b) ~= "table" then return { tostring(b) } end
  local out = {}
  if type(b.periods) == "table" and #b.periods > 0 then
    for i, p in ipairs(b.periods) do
      if i > 1 then out[#out + 1] = "" end
      period_lines(p, out)
    end
    if #b.periods > 1 and b.total ~= nil then out[#out + 1] = fmt("all periods: %s yen", yen(b.total)) end
  elseif type(b.lines) == "table" then
    period_lines(b, out)
  else
    return dump(b, "", { "Bill" }, 0)
  end
  for _, a in ipairs(type(b.assumptions) == "table" and b.assumptions or {}) do out[#out + 1] = "note: " .. tostring(a) end
  return out
end

-- compare: octopus.money.bill's comparison { entries = { {code, display_name, total,
-- difference, current, err} } } (cheapest first), or a bare array of such entries
function M.compare(c)
  if type(c) ~= "table" then return { tostring(c) } end
  local list = c.entries or c.products or c
  if type(list) ~= "table" or #list == 0 then return dump(c, "", { "Comparison" }, 0) end
  local title = "Comparison"
  if c.from_date or c.from then title = title .. " " .. tostring(c.from_date or c.from) .. " .. " .. tostring(c.to_date or c.to) end
  local rows = {}
  for _, e in ipairs(list) do
    if type(e) == "table" then
      local label = tostring(e.display_name or label_of(e))
      if e.code and e.display_name then label = label .. " (" .. tostring(e.code) .. ")" end
      if e.current then label = label .. " *" end
      local diff = tonumber(e.difference)
      if e.err then label = label .. ": " .. tostring(e.err)
      elseif diff and not e.current then label = label .. fmt(" %s%s", diff > 0 and "+" or "", yen(diff)) end
      rows[#rows + 1] = { label, not e.err and amount_of(e) or nil }
    end
  end
  local out = table_lines(title, rows)
  out[#out + 1] = "* your product now; +/- yen: the difference to it"
  return out
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
