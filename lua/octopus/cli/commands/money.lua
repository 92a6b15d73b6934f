-- octopus.cli.commands.money: bill, bills and compare, over the money layer's client
-- methods (client:bill, client:projected_bill, client:bills, client:compare). When the
-- client lacks a method the command fails cleanly (exit 2, "not available in this
-- version"). The renderers read the documented result shapes loosely (a field that is
-- absent prints empty) and live apart from the fetching so they can follow the shapes.
local format = require "octopus.cli.format"

local M = {}
local array = function(t) return require("octopus.core").json.array(t) end

local function need(client, name)
  if type(client[name]) ~= "function" then
    error({ cli_usage = "client:" .. name .. " is not available in this version of octopus" }, 0)
  end
end
M.need = need

local function pick(t, ...)
  if type(t) ~= "table" then return nil end
  for i = 1, select("#", ...) do
    local v = t[select(i, ...)]
    if v ~= nil and type(v) ~= "userdata" then return v end
  end
end
M.pick = pick

local function when(v)
  if type(v) == "number" then return os.date("!%Y-%m-%d", v + 9 * 3600) end
  return v and tostring(v):sub(1, 10) or ""
end

-- a bill (octopus.money.bill's result: lines of { kind, label, quantity(_text), unit,
-- unit_price(_text), yen(_text) }, total, kwh, period { from_date, to_date }, product,
-- missing, assumptions) -> result: one row per line, the total and assumptions after;
-- projected (bill.project's projection: total, method.description) adds a line
function M.render_bill(bill, projected)
  local rows = {}
  for i, l in ipairs(pick(bill, "lines") or {}) do
    rows[i] = { kind = pick(l, "kind"), item = pick(l, "label", "kind"), band = pick(l, "band"),
      quantity = pick(l, "quantity_text", "quantity"), unit = pick(l, "unit"),
      unit_price = pick(l, "unit_price_text", "unit_price"), yen = pick(l, "yen"),
      yen_text = pick(l, "yen_text") }
  end
  local period = pick(bill, "period") or {}
  local from = pick(period, "from_date") or when(pick(period, "from") or pick(bill, "from"))
  local to = pick(period, "to_date") or when(pick(period, "to") or pick(bill, "to"))
  local head = { ("bill %s .. %s (inclusive)  %s  %s kWh"):format(tostring(from or ""), tostring(to or ""),
    tostring(pick(bill, "product") or ""), tostring(pick(bill, "kwh_text", "kwh") or "")) }
  local after = { ("total %s yen"):format(format.yen(pick(bill, "total"))) }
  if projected then
    local method = pick(projected, "method") or {}
    after[#after + 1] = ("projected to the end of the period: %s yen (%s)"):format(
      format.yen(pick(projected, "total")), tostring(pick(method, "description", "name") or "projection"))
  end
  local missing = pick(bill, "missing")
  if type(missing) == "number" and missing > 0 then
    after[#after + 1] = ("%d half hours missing from the readings"):format(missing)
  end
  for _, a in ipairs(pick(bill, "assumptions") or {}) do after[#after + 1] = "assumes: " .. tostring(a) end
  return {
    before = head,
    columns = { { key = "item", title = "Item" },
      { key = "quantity", title = "Quantity", align = "right" }, { key = "unit", title = "Unit" },
      { key = "unit_price", title = "Unit price", align = "right" },
      { key = "yen", title = "Yen", align = "right", fmt = function(v) return format.group(v, 2) end } },
    csv_columns = { { key = "kind" }, { key = "item", csv_title = "label" }, { key = "band" },
      { key = "quantity" }, { key = "unit" }, { key = "unit_price" },
      { key = "yen", raw = function(v, r) return r.yen_text or v end } },
    rows = rows, after = after,
    json = { bill = bill, projected = projected },
  }
end

function M.bill(args, ctx)
  local client = ctx.client("any")
  need(client, "bill")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local opts = { period = args.period, product = args.product, supply_point = args.supply_point }
  local bill, err = client:bill(number, opts)
  if not bill then return nil, err end
  local projected
  if args.period == "current" and type(client.projected_bill) == "function" then
    projected = client:projected_bill(number, opts)
  end
  return M.render_bill(bill, projected)
end

-- statements (octopus.money.statement: id, status, consumption_start_date/_end_date,
-- total_charges/total_credits = { net, tax, gross }, closing_balance, payment_due_date)
function M.render_bills(list)
  local rows = {}
  local function gross(v) return type(v) == "table" and pick(v, "gross", "net") or v end
  for i, s in ipairs(list or {}) do
    rows[i] = { id = pick(s, "id"), from = pick(s, "consumption_start_date", "from_date"),
      to = pick(s, "consumption_end_date", "to_date"), charges = gross(pick(s, "total_charges")),
      credits = gross(pick(s, "total_credits")), closing = pick(s, "closing_balance"),
      status = pick(s, "status"), due = pick(s, "payment_due_date") }
  end
  return {
    columns = { { key = "id", title = "Statement" }, { key = "from", title = "From", fmt = when },
      { key = "to", title = "To", fmt = when },
      { key = "charges", title = "Charges", align = "right", fmt = format.yen },
      { key = "credits", title = "Credits", align = "right", fmt = format.yen },
      { key = "closing", title = "Balance", align = "right", fmt = format.yen },
      { key = "status", title = "Status" }, { key = "due", title = "Due", fmt = when } },
    rows = rows, json = { bills = array(list or {}) }, show_empty = true,
  }
end

function M.bills(args, ctx)
  local client = ctx.client("any")
  need(client, "bills")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local list, err = client:bills(number)
  if not list then return nil, err end
  return M.render_bills(list)
end

-- a comparison (octopus.money.bill.compare: entries cheapest first, each { code,
-- display_name, total, difference, current, err })
function M.render_compare(cmp)
  local list = pick(cmp, "entries") or cmp
  local rows = {}
  for i, p in ipairs(type(list) == "table" and list or {}) do
    local e = pick(p, "err")
    rows[i] = { code = pick(p, "code"), name = pick(p, "display_name", "label"), yen = pick(p, "total"),
      difference = pick(p, "difference"), current = pick(p, "current") == true,
      error = e and tostring(e) or nil }
  end
  return {
    columns = { { key = "name", title = "Product" }, { key = "code", title = "Code" },
      { key = "yen", title = "Yen", align = "right", fmt = format.yen },
      { key = "difference", title = "vs yours", align = "right", fmt = function(v)
        if type(v) ~= "number" then return "" end
        return (v > 0 and "+" or "") .. format.yen(v) end },
      { key = "current", title = "", fmt = function(v, r) return v and "(yours)" or (r.error or "") end } },
    csv_columns = { { key = "code" }, { key = "name", csv_title = "display_name" },
      { key = "yen", csv_title = "total" },
      { key = "difference" }, { key = "current" }, { key = "error" } },
    rows = rows, json = { compare = cmp },
  }
end

function M.compare(args, ctx)
  local client = ctx.client("any")
  need(client, "compare")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local bar = ctx.progress("compare")
  local cmp, err = client:compare(number, { products = #args.product > 0 and args.product or nil,
    months = args.months, progress = bar:callback() })
  bar:done()
  if not cmp then return nil, err end
  return M.render_compare(cmp)
end

return M
