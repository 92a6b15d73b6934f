-- octopus.cli.report: one self-contained HTML page (inline CSS and SVG; no scripts, no
-- network, no fonts or images fetched) with charts of daily and monthly use, and, when
-- given, the cost breakdown of a bill and the comparison of products.
--
--   report.html{ title =, account =, from =, to =, days = buckets, months = buckets,
--                total = { kwh, yen }, total_text =, bill = result?, compare = result? }
local format = require "octopus.cli.format"

local concat, fmt, floor = table.concat, string.format, math.floor

local M = {}

local function esc(s)
  return (tostring(s == nil and "" or s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;",
    [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end
M.escape = esc

-- an SVG bar chart of buckets { key, value, cost_estimate }: one bar per bucket with a
-- <title> tooltip; axis labels every `label_every` bars
function M.svg_bars(buckets, opts)
  opts = opts or {}
  local W, H, left, bottom, top_pad = opts.width or 1100, opts.height or 270, 56, 34, 26
  local n = math.max(#buckets, 1)
  local peak = 0
  for _, b in ipairs(buckets) do if b.value > peak then peak = b.value end end
  if peak <= 0 then peak = 1 end
  local plot_w, plot_h = W - left - 10, H - bottom - top_pad
  local step = plot_w / n
  local bw = math.max(step * 0.8, 1)
  local out = { fmt('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s" '
    .. 'viewBox="0 0 %d %d" width="%d" height="%d">',
    esc(opts.label or "chart"), W, H, W, H) }
  out[#out + 1] = fmt('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', W, H)
  for i = 0, 4 do
    local y = top_pad + plot_h - plot_h * i / 4
    out[#out + 1] = fmt('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>', left, y, W - 10, y)
    out[#out + 1] = fmt('<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#555">%s</text>',
      left - 6, y + 4, esc(fmt("%.1f", peak * i / 4)))
  end
  local every = opts.label_every or math.max(1, floor(n / 12 + 0.5))
  for i, b in ipairs(buckets) do
    local h = plot_h * b.value / peak
    local x = left + (i - 1) * step + (step - bw) / 2
    out[#out + 1] = fmt('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
      .. '<title>%s: %s kWh, %s yen</title></rect>',
      x, top_pad + plot_h - h, bw, h, opts.color or "#1f77b4", esc(b.key), format.kwh(b.value),
      format.yen(b.cost_estimate))
    if (i - 1) % every == 0 then
      out[#out + 1] = fmt('<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#333">%s</text>',
        x + bw / 2, H - bottom + 16, esc(opts.short and opts.short(b.key) or b.key))
    end
  end
  out[#out + 1] = fmt('<text x="%d" y="%d" font-size="11" fill="#555">kWh</text>', 8, 14)
  out[#out + 1] = "</svg>"
  return concat(out, "\n")
end

local function table_html(columns, rows)
  local out = { "<table><thead><tr>" }
  for _, c in ipairs(columns) do
    out[#out + 1] = fmt('<th class="%s">%s</th>', c.align == "right" and "num" or "", esc(c.title or c.key))
  end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for _, c in ipairs(columns) do
      local v = r[c.key]
      local s = c.fmt and c.fmt(v, r) or format.scalar(v)
      out[#out + 1] = fmt('<td class="%s">%s</td>', c.align == "right" and "num" or "", esc(s))
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return concat(out)
end
M.table_html = table_html

local CSS = [[
body { font-family: sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
.totals { font-size: 18px; padding: 10px 14px; background: #e8f1fa; display: inline-block; }
table { border-collapse: collapse; margin-top: 8px; background: #fff; }
th, td { border: 1px solid #ccc; padding: 3px 8px; } td.num, th.num { text-align: right; }
svg { background: #fff; border: 1px solid #ddd; display: block; }
]]

function M.html(r)
  local out = { "<!DOCTYPE html>", '<html lang="ja"><head><meta charset="utf-8">',
    "<title>" .. esc(r.title) .. "</title>", "<style>" .. CSS .. "</style></head><body>",
    "<h1>" .. esc(r.title) .. "</h1>",
    ('<p>%s, %s .. %s (JST, end exclusive)</p>'):format(esc(r.account), esc(r.from), esc(r.to)),
    '<p class="totals" id="totals">' .. esc(r.total_text) .. "</p>",
    "<h2>Daily use</h2>",
    M.svg_bars(r.days, { label = "daily use", short = function(k) return k:sub(6) end }),
    "<h2>Monthly use</h2>",
    M.svg_bars(r.months, { label = "monthly use", width = 600, color = "#2ca02c", label_every = 1 }),
  }
  local month_cols = {
    { key = "key", title = "Month" },
    { key = "value", title = "kWh", align = "right", fmt = format.kwh },
    { key = "cost_estimate", title = "Yen (estimate)", align = "right", fmt = format.yen },
    { key = "count", title = "Half hours", align = "right" },
  }
  out[#out + 1] = table_html(month_cols, r.months)
  for _, section in ipairs { { "Cost breakdown", r.bill }, { "Products compared", r.compare } } do
    local res = section[2]
    if res then
      out[#out + 1] = "<h2>" .. esc(section[1]) .. "</h2>"
      for _, l in ipairs(res.before or {}) do out[#out + 1] = "<p>" .. esc(l) .. "</p>" end
      out[#out + 1] = table_html(res.columns, res.rows or {})
      for _, l in ipairs(res.after or {}) do out[#out + 1] = "<p>" .. esc(l) .. "</p>" end
    end
  end
  out[#out + 1] = "<p><small>octopus " .. esc(r.version or "") .. "</small></p></body></html>"
  return concat(out, "\n") .. "\n"
end

return M
