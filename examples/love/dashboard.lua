-- examples/love/dashboard.lua: the dashboard's picture as data. layout(model, w, h)
-- returns what to draw (rectangles and texts in pixels), so main.lua's love.draw is a
-- plain loop and the headless spec can check the picture without a window.
--   model = { status = "loading" | "ready" | "error", account, days = { {key, value, cost_estimate}, ... },
--             balance, error, bill (when the library prices bills: this period so far,
--             { total, from_date, to_date, kwh_text, lines = { { label, yen } } }) }
-- With a bill the chart leaves the right BILL_WIDTH pixels to it: one text per bill line
-- (exact yen, two decimals) and the total (whole yen, as billed).
local M = {}

local fmt, max, floor = string.format, math.max, math.floor

M.BILL_WIDTH = 260

-- this period's bill so far, line by line, in the column at x
local function bill_panel(bill, x, y, text)
  text(fmt("bill %s .. %s so far: %s kWh", bill.from_date:sub(6), bill.to_date:sub(6), bill.kwh_text), x, y,
    { 1, 0.85, 0.5 })
  for i, l in ipairs(bill.lines) do
    text(fmt("%s  %.2f yen", l.label, l.yen), x, y + 18 * i, { 0.9, 0.9, 0.9 })
  end
  text(fmt("total  %d yen", bill.total), x, y + 18 * (#bill.lines + 1), { 1, 0.85, 0.5 })
end

function M.layout(model, w, h)
  local items = {}
  local function text(s, x, y, color) items[#items + 1] = { kind = "text", text = s, x = x, y = y, color = color } end
  local function rect(x, y, rw, rh, color)
    items[#items + 1] = { kind = "rect", x = x, y = y, w = rw, h = rh, color = color }
  end
  text("octopus: " .. (model.account or "..."), 20, 16, { 1, 1, 1 })
  if model.status == "error" then
    text("error: " .. tostring(model.error), 20, 48, { 1, 0.4, 0.4 })
    return items
  end
  if model.balance ~= nil then text(fmt("balance %d yen", model.balance), w - 220, 16, { 0.6, 1, 0.6 }) end
  if model.bill ~= nil then text(fmt("bill so far %d yen", model.bill.total), w - 220, 36, { 1, 0.85, 0.5 }) end
  local days = model.days
  if not days then
    text("loading" .. ("."):rep(floor((model.frames or 0) / 20) % 4), 20, 48, { 0.8, 0.8, 0.8 })
    return items
  end
  local top, bottom, left, right = 60, h - 60, 20, w - 20
  if model.bill ~= nil then
    right = w - M.BILL_WIDTH
    bill_panel(model.bill, right + 20, top, text)
  end
  local most = 0
  for _, d in ipairs(days) do most = max(most, d.value) end
  local slot = (right - left) / max(#days, 1)
  local bar_w = max(2, floor(slot * 0.7))
  for i, d in ipairs(days) do
    local bh = most > 0 and floor(d.value / most * (bottom - top) + 0.5) or 0
    local x = floor(left + (i - 1) * slot)
    rect(x, bottom - bh, bar_w, bh, { 0.35, 0.6, 1 })
    text(d.key:sub(6), x, bottom + 6, { 0.8, 0.8, 0.8 })
    text(fmt("%.1f", d.value), x, bottom - bh - 16, { 1, 1, 1 })
  end
  local kwh, yen = 0, 0
  for _, d in ipairs(days) do kwh, yen = kwh + d.value, yen + (d.cost_estimate or 0) end
  text(fmt("%d days: %.1f kWh, %d yen", #days, kwh, floor(yen + 0.5)), 20, 36, { 1, 1, 1 })
  return items
end

return M
