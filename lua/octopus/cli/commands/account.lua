-- octopus.cli.commands.account: who you are and what you have — viewer, account —
-- and the kept login state (login, logout). function(args, ctx) -> result | nil, err.
local format = require "octopus.cli.format"

local M = {}

local function is_null(v) return v == nil or type(v) == "userdata" end

function M.viewer(_, ctx)
  local client = ctx.client("any")
  local me, err = client:viewer()
  if not me then return nil, err end
  local rows = {}
  for i, a in ipairs(me.accounts or {}) do rows[i] = { number = a.number } end
  return {
    before = { ("%s %s <%s>"):format(tostring(me.givenName or ""), tostring(me.familyName or ""),
      tostring(me.email or "")) },
    columns = { { key = "number", title = "Account" } },
    rows = rows,
    json = { viewer = me },
  }
end

function M.account(args, ctx)
  local client = ctx.client("any")
  local number, nerr = ctx.account(client, args.account)
  if not number then return nil, nerr end
  local a, err = client:account(number)
  if not a then return nil, err end
  local rows = {}
  for _, prop in ipairs(a.properties or {}) do
    for _, sp in ipairs(prop.electricitySupplyPoints or {}) do
      local ag = type(sp.agreements) == "table" and sp.agreements[1]
      local product = type(ag) == "table" and type(ag.product) == "table" and ag.product or nil
      rows[#rows + 1] = { spin = sp.spin, status = sp.status, address = prop.address,
        postcode = prop.postcode, product = product and product.code or nil,
        product_name = product and product.displayName or nil,
        since = ag and not is_null(ag.validFrom) and ag.validFrom or nil }
    end
  end
  return {
    before = { ("%s  %s  balance %s yen  billing name %s"):format(a.number, tostring(a.status),
      format.yen(a.balance), tostring(a.billingName)) },
    columns = {
      { key = "spin", title = "Supply point" }, { key = "status", title = "Status" },
      { key = "address", title = "Address" }, { key = "product_name", title = "Product" },
      { key = "since", title = "Since", fmt = function(v) return v and v:sub(1, 10) or "" end },
    },
    csv_columns = { { key = "spin" }, { key = "status" }, { key = "postcode" }, { key = "address" },
      { key = "product" }, { key = "product_name" }, { key = "since" } },
    rows = rows,
    json = { account = a },
  }
end

function M.login(_, ctx)
  local client = ctx.client("any")
  local ok, err = client:login()
  if not ok then return nil, err end
  return { after = { "logged in" }, json = { ok = true } }
end

function M.logout(args)
  if args.no_token_file then
    error({ cli_usage = "logout forgets a token file: --no-token-file leaves nothing to do" }, 0)
  end
  local tf = require "octopus.graphql.token_file"
  local path = args.token_file or tf.default_path()
  if path then tf.new(path):clear() end
  return { after = { "token state forgotten" }, json = { ok = true } }
end

return M
