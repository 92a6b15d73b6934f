-- bench/json_bench.lua -- decode/encode throughput of core.json vs lua-cjson
-- and dkjson on two generated payloads (a REST consumption page and a
-- GraphQL half-hourly readings response). Runs under lua5.4 and luajit from
-- the repository root: `lua5.4 bench/json_bench.lua`, `luajit bench/json_bench.lua`.
-- Prints MB/s (median of several runs) and the ratio to cjson (> 1 = faster).
-- A benchmark measures; it asserts nothing.
local out = jit and "build/luajit" or ("build/" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = out .. "/?.so;" .. package.cpath

local unpack = table.unpack or unpack
local json = require("octopus.core").json
local ok_cjson, cjson = pcall(require, "cjson")
local ok_dk, dkjson = pcall(require, "dkjson")

local ROWS = tonumber(os.getenv("BENCH_ROWS")) or 17520
local REPS = tonumber(os.getenv("BENCH_REPS")) or 9

local function stamp(i, zone)
  local m = math.floor(i / 48) % (31 * 12)
  local day, hh = m % 28 + 1, (i % 48)
  return string.format("2026-%02d-%02dT%02d:%02d:00%s", math.floor(m / 28) % 12 + 1, day,
    math.floor(hh / 2), (hh % 2) * 30, zone)
end

local function rest_payload(n)
  local rows = {}
  for i = 1, n do
    rows[i] = string.format('{"consumption":%s,"interval_start":"%s","interval_end":"%s"}',
      string.format("%.3f", (i * 37 % 1000) / 1000), stamp(i, "+09:00"), stamp(i + 1, "+09:00"))
  end
  return '{"count":' .. n .. ',"next":"https://api.octopus.energy/v1/electricity-meter-points/'
    .. 'x/consumption/?page=2","previous":null,"results":[' .. table.concat(rows, ",") .. "]}"
end

local function graphql_payload(n)
  local rows = {}
  for i = 1, n do
    rows[i] = string.format('{"startAt":"%s","endAt":"%s","value":"%.2f","costEstimate":"%.2f",'
      .. '"version":"LATEST","consumptionRateBand":"CONSUMPTION_STEPPED_03_01","consumptionStep":%d}',
      stamp(i, "+00:00"), stamp(i + 1, "+00:00"), (i % 97) / 100, (i % 613) / 100, i % 3 + 1)
  end
  return '{"data":{"account":{"properties":[{"electricitySupplyPoints":[{"halfHourlyReadings":['
    .. table.concat(rows, ",") .. "]}]}]}}}"
end

local function median(f, reps)
  local times = {}
  for r = 1, reps do
    collectgarbage("collect")
    local t0 = os.clock()
    f()
    times[r] = os.clock() - t0
  end
  table.sort(times)
  return times[math.floor((reps + 1) / 2)]
end

local libs = { { "octopus", json.decode, json.encode, REPS } }
if ok_cjson then libs[#libs + 1] = { "cjson", cjson.decode, cjson.encode, REPS } end
if ok_dk then libs[#libs + 1] = { "dkjson", function(s) return dkjson.decode(s) end, dkjson.encode, 3 } end

print(string.format("json bench on %s (%s rows, median of %d)", jit and jit.version or _VERSION, ROWS, REPS))
for _, case in ipairs { { "REST page", rest_payload(ROWS) }, { "GraphQL readings", graphql_payload(ROWS) } } do
  local name, text = unpack(case)
  local mb = #text / 1e6
  print(string.format("%s: %.2f MB", name, mb))
  local res = {}
  for _, lib in ipairs(libs) do
    local lname, dec, enc, reps = unpack(lib)
    local v = dec(text)
    res[lname] = { median(function() dec(text) end, reps), median(function() enc(v) end, reps) }
  end
  local c = res.cjson
  for _, lib in ipairs(libs) do
    local r = res[lib[1]]
    print(string.format("  %-8s decode %7.1f MB/s%s   encode %7.1f MB/s%s", lib[1], mb / r[1],
      c and string.format(" (x%.2f cjson)", c[1] / r[1]) or "", mb / r[2],
      c and string.format(" (x%.2f cjson)", c[2] / r[2]) or ""))
  end
end
