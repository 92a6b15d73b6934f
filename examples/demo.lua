-- examples/demo.lua: `make demo`. Starts the local sandbox (a Kraken look-alike
-- on 127.0.0.1 with its own throwaway CA) and runs the workflow a customer's
-- script would, over TLS: REST products and tariffs, GraphQL login, the account
-- and its tariff, last month's half-hourly readings (more rows than one API
-- response may carry) totalled by day, a few accounts fetched concurrently, and money:
-- this month's bill so far, its projection and a 12-month comparison of products.
--
-- Usage: lua5.4 examples/demo.lua   (from the repository root, after `make`)
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/5.4/?.so;" .. package.cpath
local octopus = require "octopus"
local sandbox = require "octopus.sandbox.spawn"   -- runs `octopus sandbox` as a child process

local function section(title) print(("\n== %s"):format(title)) end

local function workflow(srv)
  local cred = srv.credentials
  -- Against production you would only give the credentials; the URLs and the
  -- CA bundle default to the real API.
  local client = octopus.new {
    rest_url = srv.https .. "/v1/", graphql_url = srv.https .. "/v1/graphql/",
    ca_file = srv.ca_file,
    api_key = cred.api_key, email = cred.email, password = cred.password,
  }
  print(tostring(client))                 -- never shows a secret

  section("REST: products and today's tariff for area 03 (Tokyo)")
  local first
  for p in client.products:list {} do
    print(("  %-28s %s"):format(p.code, p.display_name))
    first = first or p
  end
  local product = assert(client.products:get(first.code))
  local tariff = assert(client.products.tariff_for(product, "03"))
  print(("  %s: tariff %s, standing charge %s yen/day"):format(
    product.code, tariff.code, tostring(tariff.standing_charge_inc_vat)))

  section("GraphQL: log in (lazily), who am I")
  local me = assert(client:viewer())
  print(("  %s %s <%s>, accounts:"):format(me.givenName, me.familyName, me.email))
  for _, a in ipairs(me.accounts) do print("    " .. a.number) end

  section("The first account and the product it is on")
  local number = me.accounts[1].number
  local account = assert(client:account(number))
  print(("  %s %s, billing name %s, balance %s yen"):format(
    account.number, account.status, account.billingName, tostring(account.balance)))
  for _, prop in ipairs(account.properties) do
    for _, sp in ipairs(prop.electricitySupplyPoints) do
      local agreement = sp.agreements[1]
      local p = agreement and agreement.product
      print(("  supply point %s (%s): %s, %s yen/day"):format(sp.spin, sp.status,
        p and p.displayName or "-", p and tostring(p.standingChargePricePerDay) or "-"))
      for _, step in ipairs(p and p.consumptionCharges or {}) do
        print(("    %4s-%-4s kWh  %s yen/kWh"):format(tostring(step.stepStart),
          step.stepEnd == octopus.null and "" or tostring(step.stepEnd), step.pricePerUnitIncTax))
      end
    end
  end

  section("Last month's half-hourly readings (JST), in 7-day windows")
  local from, to = octopus.time.add_months(octopus.time.this_month(), -1), octopus.time.this_month()
  local readings = client:readings(number, { from = from, to = to, progress = function(done, total)
    io.write(("\r  windows %d/%d"):format(done, total)) io.flush()
  end })
  local rows = assert(readings:all())
  print(("\n  %d rows from %s to %s (one API response may hold only 1488)"):format(
    #rows, rows[1].start_iso, rows[#rows].end_iso))
  local days = octopus.readings.by_day(rows, client.zone)
  local kwh, yen = 0, 0
  for i, d in ipairs(days) do
    kwh, yen = kwh + d.value, yen + d.cost_estimate
    if i <= 3 then print(("  %s  %7.3f kWh  %8.2f yen"):format(d.key, d.value, d.cost_estimate)) end
  end
  print(("  ... %d days, %.3f kWh, %.2f yen in total"):format(#days, kwh, yen))

  section("Both accounts at once (tasks over curl multi)")
  local results = assert(client:map(me.accounts, function(a)
    return assert(client:account(a.number))
  end, { concurrency = 4 }))
  for _, a in ipairs(results) do print(("  %s balance %s yen"):format(a.number, tostring(a.balance))) end

  section("Money: this month's bill so far, the projection, and would another product be cheaper?")
  local so_far = assert(client:bill(number))          -- the current billing period, up to now
  print(("  %s .. %s (read on day %s, %s A): %s kWh so far, %d yen so far"):format(so_far.period.from_date,
    so_far.period.to_date, tostring(so_far.supply.reading_day), tostring(so_far.supply.capacity.value),
    so_far.kwh_text, so_far.total))
  for _, l in ipairs(so_far.lines) do
    print(("    %-26s %10s %-6s x %8s = %10s yen"):format(l.label, l.quantity_text, l.unit, l.unit_price_text,
      l.yen_text))
  end
  local projection = assert(client:projected_bill(number))
  print(("  projected to the end of the period: %s kWh, %d yen (%s)"):format(projection.projected.kwh_text,
    projection.total, projection.method.name))
  local cmp = assert(client:compare(number, { months = 12 }))
  print(("  the last %d billing periods on each product of the area:"):format(cmp.months))
  for _, e in ipairs(cmp.entries) do
    print(("    %-26s %9s yen %s"):format(e.code, e.total and tostring(e.total) or tostring(e.err),
      e.current and "(today's product)" or e.difference and ("%+d"):format(e.difference) or ""))
  end

  section("Rate-limit budget after all that")
  local rl = assert(client:rate_limit())
  print(("  used %d of %d points"):format(rl.usedPoints, rl.limit))
  client:close()
end

local srv = sandbox.start {}
local ok, err = pcall(workflow, srv)
srv:stop()
if not ok then
  io.stderr:write("demo failed: ", tostring(err), "\n")
  os.exit(1)
end
print("\ndemo: ok")
