-- octopus.cli.parser: the command line's one definition, with lua-argparse: every
-- subcommand with its options, --help text and examples. Shell completion (bash, zsh,
-- fish) is generated from the same definition, so the two never disagree.
--
--   local parser = require("octopus.cli.parser").new()   -- fresh per run
--   local args = parser:parse(argv)  (errors go to parser.error, set by the caller)
local argparse = require "argparse"

local M = {}

M.EXIT_STATUS = [[
Exit status: 0 ok; 1 the API refused (credentials, forbidden, not found, validation);
2 a usage or configuration error; 3 network, TLS or timeout (or the service is down);
130 interrupted (Ctrl-C).]]

M.ENVIRONMENT = [[
Environment: OCTOPUS_API_KEY, or OCTOPUS_EMAIL and OCTOPUS_PASSWORD (credentials are
read from the environment only, never from the command line); OCTOPUS_URL,
OCTOPUS_GRAPHQL_URL, OCTOPUS_CA_FILE; NO_COLOR; OCTOPUS_CONFIG (default
$XDG_CONFIG_HOME/octopus/config, `key = value` lines: rest_url, graphql_url, ca_file,
account, timezone).]]

-- "2026-10-01" or an ISO 8601 datetime; nil, message otherwise
local function date(flag)
  return function(v)
    local ok = v:match("^%d%d%d%d%-%d%d%-%d%d$") or v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d")
    if ok then
      local parsed = pcall(require("octopus.pipeline.time").parse, v, "Asia/Tokyo")
      if parsed then return v end
    end
    return nil, ("option '%s': not a date: %s (use YYYY-MM-DD, JST)"):format(flag, v)
  end
end

local function count(flag, lo, hi)
  return function(v)
    local n = tonumber(v)
    if n and n == math.floor(n) and n >= lo and n <= hi then return n end
    return nil, ("option '%s': expected a whole number from %d to %d, got %s"):format(flag, lo, hi, v)
  end
end

local function number(flag)
  return function(v)
    local n = tonumber(v)
    if n and n >= 0 then return n end
    return nil, ("option '%s': expected a non-negative number, got %s"):format(flag, v)
  end
end

local function formats(cmd, which)
  which = which or { "json", "csv", "ndjson" }
  local flags = {}
  local text = { json = "One JSON document (keys sorted).", csv = "CSV with a header row (RFC 4180).",
                 ndjson = "One JSON object per line." }
  for _, f in ipairs(which) do flags[#flags + 1] = cmd:flag("--" .. f, text[f]) end
  if #flags > 1 then cmd:mutex(table.unpack and table.unpack(flags) or unpack(flags)) end
end

local function connection(cmd)
  cmd:option("--url", "REST base URL (GraphQL: URL/graphql/ unless --graphql-url).")
    :argname "<url>"
  cmd:option("--graphql-url", "GraphQL URL."):argname "<url>"
  cmd:option("--ca-file", "Trust this CA (PEM), e.g. the sandbox's."):argname "<file>"
end

local function tokens(cmd)
  cmd:option("--token-file", "Keep the token state here (default $XDG_STATE_HOME/octopus/token.json).")
    :argname "<file>"
  cmd:flag("--no-token-file", "Keep no token state on disk.")
end

local function account_arg(cmd)
  cmd:argument("account", "Account number (A-1234ABCD); optional when the credentials see one "
    .. "account or the config names one."):args "?"
end

local function epilog(examples)
  return "Examples:\n" .. examples .. "\n\n" .. M.EXIT_STATUS
end

function M.new()
  local p = argparse("octopus", "Octopus Energy Japan from the command line: usage, prices, bills, "
    .. "a local history and reports.")
    :epilog(M.ENVIRONMENT .. "\n\n" .. M.EXIT_STATUS)
    :command_target "command"
    :require_command(false)
    :help_max_width(88)
  p:flag("--version", "Print the version and exit.")
  p:add_help_command()
  p:add_complete_command()

  local c = p:command("products", "Products on sale, with filters.")
  c:flag("--green", "Only green products.")
  c:flag("--variable", "Only variable-price products.")
  c:flag("--business", "Only business products.")
  c:option("--available-at", "On sale at this date."):argname("<date>"):convert(date("--available-at"))
  c:option("--brand", "Only this brand."):argname "<brand>"
  connection(c)
  formats(c)
  c:epilog(epilog("  octopus products\n  octopus products --green --csv > products.csv"))

  c = p:command("tariff", "A product's prices in one grid area: steps, standing charge, "
    .. "fuel-cost adjustment, levy, validity.")
  c:argument("product", "Product code (JPN_KK_OCTOPUS_MAY_26).")
  c:option("--area", "Grid area 01 (Hokkaido) .. 10 (Okinawa).", "03"):argname("<nn>")
    :convert(function(v)
      if v:match("^_?%d%d$") then return (v:gsub("^_", "")) end
      return nil, "option '--area': expected a grid area 01..10, got " .. v
    end)
  connection(c)
  formats(c)
  c:epilog(epilog("  octopus tariff JPN_KK_OCTOPUS_MAY_26 --area 06"))

  c = p:command("usage readings", "Your use over a period: half hours, days, weeks or months, "
    .. "with charts on a terminal.")
  account_arg(c)
  c:option("--from", "First day (YYYY-MM-DD, JST)."):argname("<date>"):convert(date("--from")):count(1)
  c:option("--to", "Day after the last (exclusive)."):argname("<date>"):convert(date("--to")):count(1)
  c:option("--by", "Granularity.", "day"):choices { "halfhour", "day", "week", "month" }
  c:option("--supply-point", "SPIN, when the account has several."):argname "<spin>"
  c:flag("--heatmap", "Show a half-hour x day heat map (table view).")
  connection(c)
  tokens(c)
  formats(c)
  c:epilog(epilog("  octopus usage --from 2026-11-01 --to 2026-12-01\n"
    .. "  octopus usage A-1234ABCD --from 2026-11-01 --to 2026-12-01 --heatmap\n"
    .. "  octopus usage --from 2026-01-01 --to 2027-01-01 --by month --csv"))

  c = p:command("account", "An account: status, balance, properties, supply points, products.")
  account_arg(c)
  connection(c)
  tokens(c)
  formats(c)
  c:epilog(epilog("  octopus account\n  octopus account A-1234ABCD --json"))

  c = p:command("viewer", "Who the credentials belong to, and their accounts.")
  connection(c)
  tokens(c)
  formats(c)
  c:epilog(epilog("  octopus viewer"))

  c = p:command("bills", "Your statements with their amounts.")
  account_arg(c)
  connection(c)
  tokens(c)
  formats(c)
  c:epilog(epilog("  octopus bills\n  octopus bills --csv"))

  c = p:command("bill", "A bill computed line by line: this period so far (with a projection), "
    .. "the previous one, or any dates; on your product or another.")
  account_arg(c)
  c:option("--period", "current, previous, or FROM..TO (YYYY-MM-DD..YYYY-MM-DD).", "current")
    :argname("<period>")
    :convert(function(v)
      if v == "current" or v == "previous" then return v end
      local a, b = v:match("^(%d%d%d%d%-%d%d%-%d%d)%.%.(%d%d%d%d%-%d%d%-%d%d)$")
      if a then return { from = a, to = b } end
      return nil, "option '--period': expected current, previous or FROM..TO, got " .. v
    end)
  c:option("--product", "Price on this product instead (what-if)."):argname "<code>"
  c:option("--supply-point", "SPIN, when the account has several."):argname "<spin>"
  connection(c)
  tokens(c)
  formats(c)
  c:epilog(epilog("  octopus bill\n  octopus bill --period previous\n"
    .. "  octopus bill --period 2026-10-01..2026-11-01 --product JPN_KK_SIMPLE_OCTOPUS_24"))

  c = p:command("compare", "Your own half hours priced on every product, cheapest first.")
  account_arg(c)
  c:option("--product", "Compare only these products (repeatable)."):argname("<code>"):count "*"
  c:option("--months", "Months of history to price.", "12"):convert(count("--months", 1, 36))
  connection(c)
  tokens(c)
  formats(c)
  c:epilog(epilog("  octopus compare\n  octopus compare --months 6 --json"))

  c = p:command("quote", "A quote for a postcode and a yearly or monthly use (REST; needs "
    .. "OCTOPUS_API_KEY).")
  c:argument("postcode", "Postcode (100-0001).")
  c:option("--kwh-per-year", "Yearly use in kWh.", "3600"):convert(number("--kwh-per-year"))
  c:option("--kwh-per-month", "Monthly use in kWh (instead of yearly)."):convert(number("--kwh-per-month"))
  c:option("--product", "Quote only these products (repeatable)."):argname("<code>"):count "*"
  connection(c)
  formats(c)
  c:epilog(epilog("  octopus quote 100-0001\n  octopus quote 530-0001 --kwh-per-month 300 --json"))

  c = p:command("rate-limit", "The GraphQL points budget: used, remaining, reset.")
  connection(c)
  tokens(c)
  formats(c, { "json" })
  c:epilog(epilog("  octopus rate-limit"))

  c = p:command("login", "Log in now and keep the token state for the next commands.")
  connection(c)
  tokens(c)
  formats(c, { "json" })
  c:epilog(epilog("  OCTOPUS_EMAIL=... OCTOPUS_PASSWORD=... octopus login"))

  c = p:command("logout", "Forget the kept token state.")
  tokens(c)
  formats(c, { "json" })
  c:epilog(epilog("  octopus logout"))

  c = p:command("sync", "Bring the local history (SQLite) up to date: the first run backfills, "
    .. "later runs fetch what can still change.")
  account_arg(c)
  c:option("--from", "Backfill from this day."):argname("<date>"):convert(date("--from"))
  c:option("--supply-point", "SPIN, when the account has several."):argname "<spin>"
  c:option("--db", "History file (default under $XDG_DATA_HOME/octopus/)."):argname "<file>"
  connection(c)
  tokens(c)
  formats(c, { "json" })
  c:epilog(epilog("  octopus sync\n  octopus sync --from 2025-01-01"))

  c = p:command("history", "Use from the local history, offline.")
  account_arg(c)
  c:option("--from", "First day."):argname("<date>"):convert(date("--from"))
  c:option("--to", "Day after the last."):argname("<date>"):convert(date("--to"))
  c:option("--by", "Granularity.", "day"):choices { "day", "month" }
  c:option("--supply-point", "SPIN, when the history holds several."):argname "<spin>"
  c:option("--db", "History file."):argname "<file>"
  formats(c)
  c:epilog(epilog("  octopus history --by month\n  octopus history --from 2026-11-01 --csv"))

  c = p:command("export", "Stream the local history as CSV (default) or NDJSON.")
  account_arg(c)
  c:option("--from", "First day."):argname("<date>"):convert(date("--from"))
  c:option("--to", "Day after the last."):argname("<date>"):convert(date("--to"))
  c:option("--supply-point", "SPIN, when the history holds several."):argname "<spin>"
  c:option("--db", "History file."):argname "<file>"
  formats(c, { "csv", "ndjson" })
  c:epilog(epilog("  octopus export --csv > halfhours.csv\n  octopus export --ndjson --from 2026-01-01"))

  c = p:command("report", "One self-contained HTML file: charts of daily and monthly use, "
    .. "costs and the comparison of products.")
  account_arg(c)
  c:option("--months", "Months to cover.", "3"):convert(count("--months", 1, 24))
  c:option("-o --output", "The HTML file to write."):argname("<file>"):count(1)
  connection(c)
  tokens(c)
  formats(c, { "json" })
  c:epilog(epilog("  octopus report --months 6 -o report.html"))

  c = p:command("sandbox", "Run the local Kraken-compatible server on 127.0.0.1 (the "
    .. "octopus-sandbox rock); its own options follow (octopus sandbox --help).")
  c:handle_options(false)
  c:argument("args", "Options for the sandbox."):args "*"
  return p
end

return M
