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

-- a bill -> result: one row per line (standing, each step, fuel-cost adjustment, levy,
-- discounts) with quantity, unit price and yen; the total and assumptions after
function M.render_bill(bill, projected)
  local rows = {}
  for i, l in ipairs(pick(bill, "lines") or {}) do
    rows[i] = { item = pick(l, "label", "description", "kind", "name"),
      quantity = pick(l, "quantity", "kwh", "days"), unit = pick(l, "unit"),
      unit_price = pick(l, "unit_price", "price"), yen = pick(l, "yen", "amount", "total") }
  end
  local period = pick(bill, "period") or {}
  local head = { ("bill %s .. %s  %s"):format(when(pick(period, "from") or pick(bill, "from")),
    when(pick(period, "to") or pick(bill, "to")), tostring(pick(bill, "product", "product_code") or "")) }
  local after = { ("total %s yen"):format(format.yen(pick(bill, "total", "yen"))) }
  if projected then
    after[#after + 1] = ("projected to the end of the period: %s yen (%s)"):format(
      format.yen(pick(projected, "total", "projected_total", "yen")),
      tostring(pick(projected, "method") or "recent daily average x remaining days"))
  end
  for _, a in ipairs(pick(bill, "assumptions") or {}) do after[#after + 1] = "assumes: " .. tostring(a) end
  local missing = pick(bill, "missing_halfhours", "missing")
  if type(missing) == "number" and missing > 0 then
    after[#after + 1] = ("%d half hours missing from the readings"):format(missing)
  end
  return {
    before = head,
    columns = { { key = "item", title = "Item" },
      { key = "quantity", title = "Quantity", align = "right" }, { key = "unit", title = "Unit" },
      { key = "unit_price", title = "Unit price", align = "right" },
      { key = "yen", title = "Yen", align = "right", fmt = format.yen } },
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

function M.render_bills(list)
  local rows = {}
  for i, s in ipairs(list or {}) do
    rows[i] = { id = pick(s, "id", "identifier"), from = pick(s, "consumption_start", "from"),
      to = pick(s, "consumption_end", "to"), charges = pick(s, "total_charges", "charges"),
      credits = pick(s, "total_credits", "credits"), closing = pick(s, "closing_balance"),
      status = pick(s, "status"), due = pick(s, "due_date", "payment_due_date") }
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

function M.render_compare(cmp)
  local list = pick(cmp, "products", "results") or cmp
  local rows = {}
  for i, p in ipairs(type(list) == "table" and list or {}) do
    rows[i] = { code = pick(p, "code", "product"), name = pick(p, "display_name", "name"),
      yen = pick(p, "total", "yen"), difference = pick(p, "difference", "delta"),
      current = pick(p, "current") == true }
  end
  return {
    columns = { { key = "name", title = "Product" }, { key = "code", title = "Code" },
      { key = "yen", title = "Yen", align = "right", fmt = format.yen },
      { key = "difference", title = "vs yours", align = "right", fmt = function(v)
        if type(v) ~= "number" then return "" end
        return (v > 0 and "+" or "") .. format.yen(v) end },
      { key = "current", title = "", fmt = function(v) return v and "(yours)" or "" end } },
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
