-- octopus.nvim.render: results -> the lines a float shows. Pure Lua (no editor API), one
-- small renderer per subcommand, so each can change with its result's shape alone.
--
--   render.usage(account, days, opts) -> lines   days: readings by_day buckets
--   render.balance(account)           -> lines   account: client:account(number)
--   render.bill(bill)                 -> lines   bill: client:bill's result
--   render.compare(cmp [, opts])      -> lines   cmp: client:compare's result
--   render.sync(report [, opts])      -> lines   report: client:sync's
--
-- Invariants: every line is a plain string without newlines; a bill's lines show their
-- exact yen (as the engine computed them), sums and totals whole yen as billed; other
-- yen are rounded to whole yen, kWh to 3 decimals (the numbers behind them unchanged).
local type, ipairs, pairs, tostring, tonumber = type, ipairs, pairs, tostring, tonumber
local floor, max = math.floor, math.max
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

-- an exact decimal amount (a bill line's yen_text, or a number) grouped, with at least
-- two decimals: "6479.2" -> "6,479.20", "-852.28" -> "-852.28"; a longer fraction is
-- kept (the line amounts are exact, never rounded for show)
local function yen_exact(v, text)
  local s = type(text) == "string" and text or (tonumber(v) and fmt("%.2f", tonumber(v))) or nil
  if not s then return "-" end
  local sign, int, frac = s:match("^(%-?)(%d+)%.?(%d*)$")
  if not int then return s end
  frac = frac .. rep("0", max(0, 2 - #frac))
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. int .. "." .. frac
end
M.yen_exact = yen_exact

-- rows of cells as aligned columns (two spaces apart): the first left-aligned, the
-- others right-aligned; a row that is a string is a line of its own
local function columns(rows, out)
  local w = {}
  for _, r in ipairs(rows) do
    if type(r) == "table" then
      for i, c in ipairs(r) do w[i] = max(w[i] or 0, width(c)) end
    end
  end
  for _, r in ipairs(rows) do
    if type(r) == "table" then
      local cells = {}
      for i, c in ipairs(r) do
        local pad = rep(" ", (w[i] or 0) - width(c))
        cells[i] = i == 1 and (c .. pad) or (pad .. c)
      end
      out[#out + 1] = (concat(cells, "  "):gsub("%s+$", ""))
    else
      out[#out + 1] = r
    end
  end
  return out
end

M.NOTE_WIDTH = 78
local NOTE_WIDTH = M.NOTE_WIDTH

-- text as lines of at most `w` columns, cut at spaces (continuations indented by 2)
local function wrap(text, w, out)
  local line = ""
  for word in tostring(text):gmatch("%S+") do
    if line ~= "" and width(line) + 1 + width(word) > w then
      out[#out + 1] = line
      line = "  " .. word
    else
      line = line == "" and word or (line .. " " .. word)
    end
  end
  if line ~= "" then out[#out + 1] = line end
  return out
end
M.wrap = wrap

-- one bill line: { label, "quantity unit x unit price", yen (exact) }
local function line_row(e)
  if type(e) ~= "table" then return tostring(e) end
  local q = e.quantity_text or (e.quantity ~= nil and tostring(e.quantity)) or nil
  local p = e.unit_price_text or (e.unit_price ~= nil and tostring(e.unit_price)) or nil
  local how = ""
  if q and p then how = q .. " " .. tostring(e.unit or "") .. " x " .. p
  elseif q then how = q .. " " .. tostring(e.unit or "") end
  return { tostring(label_of(e)), how, yen_exact(e.yen, e.yen_text) .. " yen" }
end

-- one billing period of octopus.money.bill's result (a period_result, or the result
-- itself when it has no periods): its lines, how they make the total, the total
local function period_lines(p, out, account, current)
  local title = "Bill " .. (account and (tostring(account) .. " ") or "") ..
    tostring(p.from_date or p.from or "?") .. " .. " .. tostring(p.to_date or p.to or "?")
  local bits = {}
  if p.days then bits[#bits + 1] = tostring(p.days) .. " days" end
  if p.complete == false then bits[#bits + 1] = current and "so far" or "partly billed" end
  if #bits > 0 then title = title .. " (" .. concat(bits, ", ") .. ")" end
  if p.kwh_text or p.kwh then title = title .. ": " .. tostring(p.kwh_text or p.kwh) .. " kWh" end
  out[#out + 1] = title
  local rows = {}
  local lines = type(p.lines) == "table" and p.lines or {}
  if #lines == 0 then out[#out + 1] = "no charges in this period" end
  for _, e in ipairs(lines) do rows[#rows + 1] = line_row(e) end
  local n = #rows
  if p.charges ~= nil and p.levy ~= nil then
    rows[#rows + 1] = { "charges (rounded down)", "", yen(p.charges) .. " yen" }
    rows[#rows + 1] = { "levy (rounded down)", "", yen(p.levy) .. " yen" }
    if tonumber(p.credit) and tonumber(p.credit) ~= 0 then
      rows[#rows + 1] = { "credit (rounded down)", "", yen(-tonumber(p.credit)) .. " yen" }
    end
  end
  if p.total ~= nil then rows[#rows + 1] = { "total", "", yen(p.total) .. " yen" } end
  local body = columns(rows, {})
  local w = 0
  for _, l in ipairs(body) do w = max(w, width(l)) end
  for i, l in ipairs(body) do
    if i == n + 1 then out[#out + 1] = rep("-", w) end
    out[#out + 1] = l
  end
  if tonumber(p.consumption_tax) then
    out[#out + 1] = fmt("(consumption tax included: %s yen)", yen(p.consumption_tax))
  end
  return out
end

-- bill: octopus.money.bill.price's result (client:bill's: + .account, .supply): each
-- billing period's lines (label, quantity x unit price, exact yen), its rounded sums and
-- total; several periods end with their sum; then the assumptions. A bare period
-- { lines, total } works too; other shapes are dumped. opts.current: the period is the
-- one running now (an incomplete period is then "so far", else "partly billed").
function M.bill(b, opts)
  opts = opts or {}
  if type(b) ~= "table" then return { tostring(b) } end
  local out = {}
  local account = type(b.account) == "string" and b.account or nil
  if type(b.periods) == "table" and #b.periods > 0 then
    for i, p in ipairs(b.periods) do
      if i > 1 then out[#out + 1] = "" end
      period_lines(p, out, account, opts.current)
    end
    if #b.periods > 1 and b.total ~= nil then
      out[#out + 1] = ""
      out[#out + 1] = fmt("all %d periods: %s yen", #b.periods, yen(b.total))
    end
  elseif type(b.lines) == "table" then
    period_lines(b, out, account, opts.current)
  else
    return dump(b, "", { "Bill" }, 0)
  end
  if tonumber(b.missing) and b.missing > 0 then
    out[#out + 1] = fmt("note: %d half hours without a reading (not priced)", b.missing)
  end
  for _, a in ipairs(type(b.assumptions) == "table" and b.assumptions or {}) do
    wrap("note: " .. tostring(a), NOTE_WIDTH, out)
  end
  return out
end

-- compare: octopus.money.bill.compare's result (client:compare's) { entries = { {code,
-- display_name, total, kwh, difference, current, err} } (cheapest first), months, from,
-- to }, or a bare array of entries. opts: account, range (the dates, shown in the title).
-- One row per product: name (code), total, difference to the current product.
function M.compare(c, opts)
  opts = opts or {}
  if type(c) ~= "table" then return { tostring(c) } end
  local list = c.entries or c
  if type(list) ~= "table" or #list == 0 then return dump(c, "", { "Comparison" }, 0) end
  local title = "Compare" .. (opts.account and (" " .. tostring(opts.account)) or "")
  local bits = {}
  if tonumber(c.months) then bits[#bits + 1] = tostring(c.months) .. " months" end
  if opts.range then bits[#bits + 1] = opts.range end
  local kwh = type(list[1]) == "table" and tonumber(list[1].kwh)
  if kwh then bits[#bits + 1] = fmt("%.3f kWh", kwh) end
  if #bits > 0 then title = title .. ": " .. concat(bits, ", ") end
  local rows, errs = {}, {}
  for _, e in ipairs(list) do
    if type(e) == "table" then
      local label = tostring(e.display_name or label_of(e))
      if e.code and e.display_name then label = label .. " (" .. tostring(e.code) .. ")" end
      if e.err ~= nil then
        errs[#errs + 1] = label .. ": " .. tostring(e.err)
      else
        local diff = tonumber(e.difference)
        local d = e.current and "current" or (diff and ((diff > 0 and "+" or "") .. yen(diff) .. " yen")) or ""
        rows[#rows + 1] = { (e.current and "* " or "  ") .. label, yen(e.total) .. " yen", d }
      end
    end
  end
  local out = columns(rows, { title })
  for _, l in ipairs(errs) do out[#out + 1] = "  " .. l end
  out[#out + 1] = "* your product now; +/- yen: the difference to it over the same half hours"
  return out
end

-- sync: octopus.history.sync's report { spin, from, to, reread_from, added, revised,
-- unchanged, windows, requests }; opts: account, range (from .. to as dates), path (the
-- store). -> { counts line, where line }
function M.sync(r, opts)
  opts = opts or {}
  if type(r) ~= "table" then return { "Sync: " .. tostring(r) } end
  local parts = {}
  for _, k in ipairs { "added", "revised", "unchanged" } do
    if r[k] ~= nil then parts[#parts + 1] = tostring(r[k]) .. " " .. k end
  end
  local first = "Sync" .. (opts.account and (" " .. tostring(opts.account)) or "") .. ": " .. concat(parts, ", ")
  if r.windows ~= nil then
    first = first .. fmt(" (%s windows, %s requests)", tostring(r.windows), tostring(r.requests or "?"))
  end
  local second = {}
  if r.spin then second[#second + 1] = "supply point " .. tostring(r.spin) end
  if opts.range then second[#second + 1] = opts.range end
  if opts.path then second[#second + 1] = "store " .. tostring(opts.path) end
  local lines = { first }
  if #second > 0 then lines[2] = concat(second, ", ") end
  return lines
end

return M
