-- octopus.money.statement: an account's bill (the GraphQL BillInterface node, with the
-- StatementType fields selected by an inline fragment) as plain numbers, and the range
-- it bills, so the engine's own bill for the same half hours can be set beside it.
--
-- statement = { id, typename, bill_type ("STATEMENT" | ...), status ("OPEN" | "CLOSED"),
--   is_final, issued_date, from_date, to_date, payment_due_date, consumption_start_date,
--   consumption_end_date ("YYYY-MM-DD" text as the API gives it; nil when absent),
--   consumption_from, consumption_to (epoch s: 00:00 of the start date, 00:00 of the day
--   after the end date, in opts.zone: bill.price's opts.from / opts.to),
--   opening_balance, closing_balance (yen), total_charges, total_credits = { net, tax, gross }
--   (yen; the schema's netTotal / taxTotal / grossTotal, minor units = yen),
--   transactions = { { id, kind ("Charge" | "Payment" | "Refund" | "Credit"), title,
--   posted_date, amount, net, tax, gross, is_reversed } } (only when selected) }
-- Pure: no I/O.
local core = require "octopus.core"
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"

local null = core.json.null
local type, ipairs, tostring, error, pcall, floor = type, ipairs, tostring, error, pcall, math.floor

---@class octopus.money.statement
local M = {}

local function absent(v) return v == nil or v == null end
local function opt(v) if absent(v) then return nil end return v end

local function decode_error(msg)
  return errors.new { code = "DECODE", kind = "decode", retryable = false, message = msg }
end

local function int(v, where)
  if absent(v) then return nil end
  if type(v) ~= "number" or v ~= floor(v) then
    error(where .. " is not a whole number of yen (" .. tostring(v) .. ")", 0)
  end
  return v
end

local function totals(t, where)
  if absent(t) then return nil end
  return { net = int(t.netTotal, where .. ".netTotal"), tax = int(t.taxTotal, where .. ".taxTotal"),
    gross = int(t.grossTotal, where .. ".grossTotal") }
end

local function date(v, zone, where)
  if absent(v) then return nil end
  local ok, t = pcall(time.parse, v, zone)
  if not ok or type(v) ~= "string" or not v:match("^%d%d%d%d%-%d%d%-%d%d$") then
    error(where .. " is not a date (" .. tostring(v) .. ")", 0)
  end
  return t
end

local function from_graphql(n, zone)
  local s = { id = opt(n.id), typename = opt(n.__typename), bill_type = opt(n.billType), status = opt(n.status),
    is_final = opt(n.isFinal), issued_date = opt(n.issuedDate), from_date = opt(n.fromDate), to_date = opt(n.toDate),
    payment_due_date = opt(n.paymentDueDate), consumption_start_date = opt(n.consumptionStartDate),
    consumption_end_date = opt(n.consumptionEndDate),
    opening_balance = int(n.openingBalance, "openingBalance"), closing_balance = int(n.closingBalance,
      "closingBalance"),
    total_charges = totals(n.totalCharges, "totalCharges"), total_credits = totals(n.totalCredits, "totalCredits") }
  for _, k in ipairs { "issuedDate", "fromDate", "toDate", "paymentDueDate" } do date(n[k], zone, k) end
  s.consumption_from = date(n.consumptionStartDate, zone, "consumptionStartDate")
  local last = date(n.consumptionEndDate, zone, "consumptionEndDate")
  s.consumption_to = last and last + 86400 or nil
  local tr = n.transactions
  if not absent(tr) then
    s.transactions = {}
    local edges = type(tr) == "table" and tr.edges
    for i, e in ipairs(type(edges) == "table" and edges or {}) do
      local x = type(e) == "table" and e.node
      if type(x) ~= "table" then error("transactions.edges[" .. i .. "] has no node", 0) end
      local w = "transactions[" .. i .. "]"
      local am = not absent(x.amounts) and x.amounts or {}
      s.transactions[#s.transactions + 1] = { id = opt(x.id), kind = opt(x.__typename), title = opt(x.title),
        posted_date = opt(x.postedDate), amount = int(x.amount, w .. ".amount"), net = int(am.net, w .. ".amounts.net"),
        tax = int(am.tax, w .. ".amounts.tax"), gross = int(am.gross, w .. ".amounts.gross"),
        is_reversed = opt(x.isReversed) }
    end
  end
  return s
end

-- M.from_graphql(node [, { zone = }]) -> statement | nil, DECODE error
---@param node table a BillInterface node (StatementType fields)
---@param opts? { zone?: octopus.ZoneSpec }
---@return octopus.Statement|nil statement
---@return octopus.Error|nil err DECODE
function M.from_graphql(node, opts)
  if type(node) ~= "table" then
    error("statement.from_graphql: 'node' must be a bill node table (got " .. type(node) .. ")", 2)
  end
  local zone = time.zone(opts and opts.zone)
  local ok, s = pcall(from_graphql, node, zone)
  if not ok then return nil, decode_error("statement " .. tostring(opt(node.id)) .. ": " .. tostring(s)) end
  return s
end

-- M.period(statement) -> { from, to } for bill.price's opts.period | nil when the
-- statement has no consumption dates
---@param s octopus.Statement
---@return { from: number, to: number }|nil period for bill.price's opts.period; nil without consumption dates
function M.period(s)
  if type(s) ~= "table" then
    error("statement.period: 'statement' must be a statement table (got " .. type(s) .. ")", 2)
  end
  if not s.consumption_from or not s.consumption_to then return nil end
  return { from = s.consumption_from, to = s.consumption_to }
end

-- M.difference(statement, result) -> result.total - the statement's gross charges (yen),
-- or nil when the statement carries no total charges
---@param s octopus.Statement
---@param res octopus.BillResult
---@return integer|nil yen res.total - the statement's gross charges; nil without them
function M.difference(s, res)
  if type(s) ~= "table" then error("statement.difference: 'statement' must be a statement table", 2) end
  if type(res) ~= "table" or type(res.total) ~= "number" then
    error("statement.difference: 'result' must be a bill.price result", 2)
  end
  local g = s.total_charges and s.total_charges.gross
  if g == nil then return nil end
  return res.total - g
end

return M
