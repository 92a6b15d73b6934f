-- octopus.money.engine: the bill engine's inner loop and arithmetic (internal to
-- octopus.money; octopus.money.bill is the public face and documents the rules).
--
-- prepare(): one pass over the rows: checks them, converts kWh to exact units and
-- keeps prefix sums, so pricing the same rows on many tariffs (compare) costs a few
-- binary searches per billing period instead of a pass per tariff.
-- run(): billing periods -> cells (maximal spans where the agreement, steps,
-- standing charges and per-kWh rates are all constant) -> segments (cells with one
-- set of steps and standing charges) -> lines -> rounded totals.
local time = require "octopus.pipeline.time"
local errors = require "octopus.pipeline.errors"
local yen = require "octopus.money.yen"
local period = require "octopus.money.period"
local compile = require "octopus.money.compile"

local type, pairs, ipairs, tostring, floor, sort =
  type, pairs, ipairs, tostring, math.floor, table.sort
local KWH, PRICE, AMOUNT = yen.KWH, yen.PRICE, yen.AMOUNT
local div, mul, muldiv, check = yen.div, yen.mul, yen.muldiv, yen.check

local M = {}
local HH, DAY = 1800, 86400
M.KIND = "money" -- errors' kind for missing data (the data lacks what a bill needs)

-- the bill engine's stable codes, in the one table (octopus.pipeline.errors.CODES)
errors.define("NO_PRICE", "money", "no price for part of the period", false)
errors.define("NO_CAPACITY", "money", "a per-capacity charge without the contracted capacity", false)
errors.define("UNSUPPORTED_UNIT", "money", "a standing-charge unit type the bill engine cannot price", false)
errors.define("GAPS", "money", "half hours without a reading", false)
errors.define("NO_DATA", "money", "no readings to project from", false)
errors.define("OVERFLOW", "money", "beyond the exact range of this Lua", false)

local function fail(code, message, extra)
  local t = { code = code, kind = M.KIND, retryable = false, message = message }
  for k, v in pairs(extra or {}) do t[k] = v end
  return errors.new(t)
end
M.fail = fail

---------------------------------------------------------------------------
-- rows

-- M.prepare(rows, from, to, now, spin) -> prep | nil, message (usage, naming rows[i]) | nil, nil, err
-- prep = { starts = {}, cum = { [0] = 0, ... }, n, spin, ignored, inexact, gaps = { {from, to} } }
function M.prepare(rows, from, to, now, spin)
  if type(rows) ~= "table" then return nil, "'rows' must be an array of reading rows (got " .. type(rows) .. ")" end
  local starts, cum = {}, { [0] = 0 }
  local n, acc, prev, ignored, inexact = 0, 0, -1 / 0, 0, 0
  local spin_i
  local gaps, expect = {}, from
  local stop = (now and now < to) and now or to
  for i = 1, #rows do
    local r = rows[i]
    if type(r) ~= "table" then return nil, "rows[" .. i .. "] must be a reading row table (got " .. type(r) .. ")" end
    local s = r.start_at
    if type(s) ~= "number" or s % HH ~= 0 then
      return nil, "rows[" .. i .. "].start_at must be epoch seconds on a half hour (got " .. tostring(s) .. ")"
    end
    local e = r.end_at
    if e ~= nil and e ~= s + HH then
      return nil, "rows[" .. i .. "] is not a half hour (end_at - start_at = " .. tostring(e and e - s) .. " s)"
    end
    if s <= prev then
      if s == prev then
        return nil, "rows[" .. i .. "] duplicates the half hour of rows[" .. (i - 1) .. "] (" .. time.format(s) ..
          "): keep one row per half hour (octopus.graphql.readings.dedup)"
      end
      return nil, "rows[" .. i .. "] is earlier than rows[" .. (i - 1) .. "]: rows must be sorted by start_at"
    end
    prev = s
    local sp = r.spin
    if sp ~= nil then
      if spin == nil then spin, spin_i = sp, i
      elseif sp ~= spin then
        return nil, "rows[" .. i .. "].spin is " .. tostring(sp) .. " but " ..
          (spin_i and ("rows[" .. spin_i .. "].spin") or "opts.supply_point") .. " is " .. tostring(spin) ..
          ": price one supply point at a time"
      end
    end
    if s >= from and s < to then
      local v = r.value
      local u
      if type(v) == "number" then
        local x = v * KWH
        local y = x + 0.5
        u = y - y % 1 -- floor without a call (the hot loop); NaN for a non-finite value
        if u ~= u then
          return nil, "rows[" .. i .. "].value must be a finite number of kWh (got " .. tostring(v) .. ")"
        end
        local d = x - u
        if d > 1e-6 or d < -1e-6 then inexact = inexact + 1 end
      else
        local ok
        u, ok = yen.units(r.value_text or v, KWH)
        if not u then return nil, "rows[" .. i .. "].value must be a number of kWh (got " .. tostring(v) .. ")" end
        if not ok then inexact = inexact + 1 end
      end
      if u < 0 then return nil, "rows[" .. i .. "].value must not be negative (got " .. tostring(v) .. ")" end
      n = n + 1
      starts[n] = s
      acc = acc + u
      cum[n] = acc
      if s < stop then
        if s > expect then gaps[#gaps + 1] = { from = expect, to = s } end
        expect = s + HH
      end
    else
      ignored = ignored + 1
    end
  end
  if expect < stop then gaps[#gaps + 1] = { from = expect, to = stop } end
  if acc >= yen.MAX then
    return nil, nil, fail("OVERFLOW", "the rows' total kWh is beyond the exact range of this Lua (2^53 units)")
  end
  return { starts = starts, cum = cum, n = n, spin = spin, ignored = ignored, inexact = inexact, gaps = gaps }
end

-- first index k in 1..n+1 with starts[k] >= t
local function lower(starts, n, t)
  local lo, hi = 1, n + 1
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if starts[mid] < t then lo = mid + 1 else hi = mid end
  end
  return lo
end
M.lower = lower

---------------------------------------------------------------------------
-- cells and segments

local function uniq_inside(out, list, a, b)
  for _, t in ipairs(list) do if t > a and t < b then out[#out + 1] = t end end
end

local function same(x, y)
  if #x ~= #y then return false end
  for i = 1, #x do if x[i] ~= y[i] then return false end end
  return true
end

local function cells_of(p, bf, bt, cp, o)
  local b = { p.from, p.to }
  if bf > p.from then b[#b + 1] = bf end
  if bt < p.to then b[#b + 1] = bt end
  uniq_inside(b, cp.bounds, p.from, p.to)
  uniq_inside(b, cp.rate_bounds, p.from, p.to)
  sort(b)
  local cells, last = {}, nil
  for k = 1, #b - 1 do
    local a, z = b[k], b[k + 1]
    if a ~= last and z > a then
      last = a
      local c = { from = a, to = z, billed = a >= bf and z <= bt, ag = compile.agreement_at(cp, a) }
      if c.ag then
        local t = c.ag.tariff
        c.steps, c.standing = compile.active(t.steps, a), compile.active(t.standing, a)
        local at = o.rates_at == "reading" and p.to or a
        c.fca, c.levy = compile.rate_at(t.fca, at), compile.rate_at(t.levies, at)
        c.discounts = compile.active(t.discounts, a)
        c.credit = compile.rate_at(t.credits, a)
      end
      cells[#cells + 1] = c
    end
  end
  local segs = {}
  for _, c in ipairs(cells) do
    local s = segs[#segs]
    if s and s.ag == c.ag and c.ag and same(s.steps, c.steps) and same(s.standing, c.standing) then
      s.to = c.to
      s.cells[#s.cells + 1] = c
    else
      segs[#segs + 1] = { from = c.from, to = c.to, ag = c.ag, steps = c.steps, standing = c.standing, cells = { c } }
    end
  end
  return segs
end

---------------------------------------------------------------------------
-- lines

local function iso(t, o) return time.format(t, o.zone) end
-- a count of days or hours as text: "15", "14.5" (never "15.0" on 5.4)
local function n2s(x) if x == floor(x) then return ("%d"):format(x) end return ("%.10g"):format(x) end

local function price_text(x) return x.src.price_text or yen.text(x.price, PRICE) end

local function kwh_line(kind, label, x, units, sign, o, from, to, code)
  local amount = mul(units, x.price, label)
  local up = x.price
  local upt = price_text(x)
  if sign < 0 then amount, up, upt = -amount, -up, yen.negate_text(upt) end
  return { kind = kind, label = label, band = x.band, code = code, from = from, to = to,
    quantity = units / KWH, quantity_text = yen.text(units, KWH), unit = o.unit or "kWh",
    unit_price = up / PRICE, unit_price_text = upt, yen = amount / AMOUNT, yen_text = yen.text(amount, AMOUNT),
    amount = amount }
end

local function kwh_text(u) return yen.text(u, KWH) end

-- standing charges of one segment -> lines appended, or nil, err
local function standing(seg, usage, billed_secs, plen, o, lines, code, notes)
  local list = seg.standing
  local labelled, plain = {}, {}
  for _, c in ipairs(list) do
    if c.tier_from or c.tier_to then
      local lo, hi = c.tier_from or 0, c.tier_to
      local inside = (usage > lo or (lo == 0 and usage >= 0)) and (hi == nil or usage <= hi)
      if inside then plain[#plain + 1] = c end
    elseif c.capacity then labelled[#labelled + 1] = c
    else plain[#plain + 1] = c end
  end
  if #labelled > 0 then
    if not o.capacity then
      return nil, fail("NO_CAPACITY", "product " .. tostring(code) .. " prices its standing charge by contracted " ..
        "capacity (" .. tostring(labelled[1].label or labelled[1].capacity_unit) .. " ...): pass opts.capacity")
    end
    local hit
    for _, c in ipairs(labelled) do
      if c.capacity == o.capacity and c.capacity_unit == o.capacity_unit then hit = c end
    end
    if not hit then
      return nil, fail("NO_PRICE", "product " .. tostring(code)
        .. " has no standing charge for a contracted capacity of " ..
        yen.text(o.capacity, 10) .. " " .. o.capacity_unit)
    end
    plain[#plain + 1] = hit
  end
  local days = floor((billed_secs + DAY - 1) / DAY)
  for _, c in ipairs(plain) do
    if c.kind ~= "day" and c.kind ~= "month" then
      return nil, fail("UNSUPPORTED_UNIT", "product " .. tostring(code) .. ": standing charge unit type " ..
        tostring(c.unit_type) .. " is not one the engine can price")
    end
  end
  for _, c in ipairs(plain) do
    local cap, capu = 10, nil -- capacity in tenths
    if c.per then
      if not o.capacity then
        return nil, fail("NO_CAPACITY", "product " .. tostring(code) .. " charges per " .. c.per ..
          " of contracted capacity: pass opts.capacity (the supply point's contractedCapacity)")
      end
      if o.capacity_unit ~= c.per then
        return nil, fail("NO_CAPACITY", "product " .. tostring(code) .. " charges per " .. c.per ..
          " but the contracted capacity is in " .. o.capacity_unit)
      end
      cap, capu = o.capacity, c.per
    end
    local size = c.per and c.per_size or 1 -- a price per 10 A is a price per block of 10
    local blocks = capu and (size > 1 and (size .. capu) or capu) or nil
    local q_text, q, amount, unit
    if c.kind == "day" then
      amount = muldiv(mul(mul(c.price, days, "a standing charge") * 1000, cap, "a standing charge"), 1, size, "half_up")
      q = days * cap / 10 / size
      q_text = size == 1 and yen.text(days * cap, 10) or n2s(q)
      unit = blocks and (blocks .. "·day") or "day"
    else
      local whole = muldiv(mul(c.price * 1000, cap, "a standing charge"), 1, size, "half_up")
      local pdays = floor(plen / DAY)
      if days >= pdays then
        amount, q = whole, cap / 10 / size
        q_text = size == 1 and yen.text(cap, 10) or n2s(q)
      else -- 日割: the billed share of the period's days
        amount = muldiv(whole, days, pdays, "half_up", "a standing charge")
        notes[#notes + 1] = "a monthly standing charge of " .. tostring(code) .. " was charged pro rata (" ..
          days .. " of " .. pdays .. " days)"
        q = cap / 10 / size * days / pdays
        q_text = n2s(q)
      end
      unit = blocks and (blocks .. "·month") or "month"
    end
    local label = c.label or (c.threshold and ("minimum charge (up to " .. kwh_text(c.threshold) .. " kWh)")) or
      (c.per and ("standing charge per " .. (size > 1 and size .. " " or "") .. c.per) or "standing charge")
    lines[#lines + 1] = { kind = c.threshold and "minimum" or "standing", label = label, band = c.band, code = code,
      from = seg.from, to = seg.to, quantity = q, quantity_text = q_text, unit = unit,
      unit_price = c.price / PRICE, unit_price_text = price_text(c), capacity = capu and cap / 10 or nil,
      yen = amount / AMOUNT, yen_text = yen.text(amount, AMOUNT), amount = amount }
  end
  return true
end

-- energy of one segment -> lines appended, or nil, err
local function energy(seg, usage, offset, num, den, o, lines, code, unit)
  local function scaled(u)
    if u == nil or num == den then return u end
    local s = muldiv(u, num, den, "half_up", "a step bound")
    if o.kwh_rounding == "whole" then s = div(s, KWH, "half_up") * KWH end
    return s
  end
  local min_cover = 0
  for _, c in ipairs(seg.standing) do
    if c.threshold then
      local th = scaled(c.threshold)
      if th > min_cover then min_cover = th end
    end
  end
  local steps = seg.steps
  if #steps == 0 then
    if usage > 0 then
      return nil, fail("NO_PRICE", "product " .. tostring(code) .. " has no unit rate from " .. iso(seg.from, o) ..
        " (" .. kwh_text(usage) .. " kWh used)", { from = seg.from, to = seg.to })
    end
    return true
  end
  if seg.ag.tariff.tier then -- whole-volume tiers (gas): the tier the total falls in prices all of it
    if usage == 0 then return true end
    for _, s in ipairs(steps) do
      local lo, hi = scaled(s.from), scaled(s.to)
      if (usage > lo or lo == 0) and (hi == nil or usage <= hi) then
        lines[#lines + 1] = kwh_line("energy", "tier " .. kwh_text(lo) .. "-" .. (hi and kwh_text(hi) or "") .. " " ..
          unit, s, usage, 1, { unit = unit }, seg.from, seg.to, code)
        return true
      end
    end
    return nil, fail("NO_PRICE", "product " .. tostring(code) .. " has no tier for " .. kwh_text(usage) .. " " .. unit)
  end
  local a, b = offset, offset + usage
  local cover = a > min_cover and a or min_cover
  local single = #steps == 1 and steps[1].from == 0 and steps[1].to == nil
  for k, s in ipairs(steps) do
    local lo, hi = scaled(s.from), scaled(s.to)
    if lo < min_cover then lo = min_cover end
    if lo > cover and cover < b then break end
    local x, y = (lo > cover) and lo or cover, (hi == nil or hi > b) and b or hi
    if y > x then
      local label = single and "unit rate" or ("step " .. k .. " (" .. kwh_text(lo) .. "-" ..
        (hi and kwh_text(hi) or "") .. " kWh)")
      lines[#lines + 1] = kwh_line("energy", label, s, y - x, 1, o, seg.from, seg.to, code)
    end
    if hi == nil then cover = b elseif hi > cover then cover = hi end
  end
  if cover < b then
    return nil, fail("NO_PRICE", "product " .. tostring(code) .. " has no unit rate for usage from "
      .. kwh_text(cover) ..
      " kWh in the period from " .. iso(seg.from, o), { from = seg.from, to = seg.to })
  end
  return true
end

-- per-kWh rates of a period (fuel-cost adjustment, levy, discounts, FIT credits), grouped by rate
local function bucket(groups, order, x, units, c)
  local g = groups[x]
  if not g then
    g = { rate = x, units = 0, from = c.from, to = c.to, code = c.ag.tariff.code }
    groups[x] = g
    order[#order + 1] = g
  end
  g.units = g.units + units
  g.to = c.to
end

local function round_kwh(u, o)
  if o.kwh_rounding == "whole" then return div(u, KWH, "half_up") * KWH end
  return u
end

---------------------------------------------------------------------------
-- one billing period

local function price_period(p, prep, cp, o)
  local bf = p.from > o.from and p.from or o.from
  local bt = p.to < o.to and p.to or o.to
  local plen = p.to - p.from
  local r = { from = p.from, to = p.to, from_date = p.from_date, to_date = p.to_date, days = p.days,
    billed_from = bf, billed_to = bt, lines = {}, assumptions = {}, readings = 0, expected = 0, missing = 0,
    pending = 0, products = {} }
  local notes = r.assumptions
  local starts, cum, n = prep.starts, prep.cum, prep.n
  local now = o.now
  local main, levy, credit = 0, 0, 0
  local usage_total = 0
  local fca_g, fca_o, levy_g, levy_o, disc_g, disc_o, cred_g, cred_o = {}, {}, {}, {}, {}, {}, {}, {}
  local offset, seen = 0, {}
  local segs = cells_of(p, bf, bt, cp, o)
  for _, seg in ipairs(segs) do
    local usage, secs = 0, 0
    for _, c in ipairs(seg.cells) do
      if c.billed then
        local i0, i1 = lower(starts, n, c.from), lower(starts, n, c.to)
        local u, cnt = cum[i1 - 1] - cum[i0 - 1], i1 - i0
        if not seg.ag then
          if cnt > 0 then
            return nil, fail("NO_PRICE", "readings from " .. iso(starts[i0], o)
              .. " fall outside every agreement of the plan",
              { from = c.from, to = c.to })
          end
        else
          usage, secs = usage + u, secs + (c.to - c.from)
          r.readings = r.readings + cnt
          local stop = (now and now < c.to) and now or c.to
          if stop > c.from then
            local expected = floor((stop - c.from) / HH)
            local present = lower(starts, n, stop) - i0
            r.expected = r.expected + expected
            r.missing = r.missing + (expected - present)
          end
          if now and now < c.to then
            local from_ = now > c.from and now or c.from
            r.pending = r.pending + floor((c.to - from_ + HH - 1) / HH)
          end
          if u > 0 then
            local t = seg.ag.tariff
            local at = iso(o.rates_at == "reading" and p.to or c.from, o)
            if t.kind == "fit" then
              if not c.credit then
                return nil, fail("NO_PRICE", "FIT product " .. tostring(t.code) .. " has no credit rate for " ..
                  iso(c.from, o), { from = c.from, to = c.to })
              end
              bucket(cred_g, cred_o, c.credit, u, c)
            else
              for _, adj in ipairs { { c.fca, fca_g, fca_o, "fuel-cost adjustment" },
                                     { c.levy, levy_g, levy_o, "renewable-energy levy" } } do
                if adj[1] then bucket(adj[2], adj[3], adj[1], u, c)
                elseif o.missing_adjustments == "zero" then
                  notes[#notes + 1] = "no " .. adj[4] .. " for " .. kwh_text(u) .. " kWh from " .. iso(c.from, o) ..
                    ": priced at 0"
                else
                  return nil, fail("NO_PRICE", "product " .. tostring(t.code) .. " has no " .. adj[4] .. " for "
                    .. at ..
                    " (add its rates with tariff.with, or pass opts.missing_adjustments = \"zero\")",
                    { from = c.from, to = c.to })
                end
              end
              for _, d in ipairs(c.discounts) do bucket(disc_g, disc_o, d, u, c) end
            end
          end
        end
      end
    end
    if seg.ag and secs > 0 then
      local t = seg.ag.tariff
      if not seen[t] then
        seen[t] = true
        r.products[#r.products + 1] = t.code
        for _, x in ipairs(t.notes) do notes[#notes + 1] = x end
      end
      usage_total = usage_total + usage
      if t.kind ~= "fit" then
        local ur = round_kwh(usage, o)
        local num, den = seg.to - seg.from, plen
        if o.split == "continuous" then num = den end
        if num ~= den then
          notes[#notes + 1] = "the step bounds of " .. tostring(t.code) .. " were pro-rated by days (" ..
            n2s((seg.to - seg.from) / DAY) .. " of " .. n2s(plen / DAY) .. ") for a change inside the period"
        end
        if #t.standing == 0 then notes[#notes + 1] = "product " .. tostring(t.code) .. " has no standing charge"
        elseif #seg.standing == 0 then
          return nil, fail("NO_PRICE", "product " .. tostring(t.code) .. " has no standing charge valid from " ..
            iso(seg.from, o), { from = seg.from, to = seg.to })
        end
        local first = #r.lines + 1
        local ok, err = standing(seg, ur, secs, plen, o, r.lines, t.code, notes)
        if not ok then return nil, err end
        ok, err = energy(seg, ur, offset, num, den, o, r.lines, t.code, t.unit)
        if not ok then return nil, err end
        if o.split == "continuous" then offset = offset + ur end
        for k = first, #r.lines do main = check(main + r.lines[k].amount, "the period's charges") end
      end
    end
  end
  local function emit(order, kind, label, sign, sum)
    local total = 0
    for _, g in ipairs(order) do
      local q = round_kwh(g.units, o)
      if q > 0 then
        local l = kwh_line(kind, g.rate.name or label, g.rate, q, sign, o, g.from, g.to, g.code)
        r.lines[#r.lines + 1] = l
        total = check(total + l.amount, "the period's " .. label)
      end
    end
    return sum + total
  end
  main = emit(fca_o, "fuel_cost_adjustment", "fuel-cost adjustment", 1, main)
  main = emit(disc_o, "discount", "discount", -1, main)
  levy = emit(levy_o, "levy", "renewable-energy levy", 1, levy)
  credit = emit(cred_o, "credit", "generation credit", 1, credit)
  r.kwh, r.kwh_text = usage_total / KWH, kwh_text(usage_total)
  r.kwh_billed = round_kwh(usage_total, o) / KWH
  r.charges = div(main, AMOUNT, "trunc")
  r.levy = div(levy, AMOUNT, "trunc")
  if #cred_o > 0 then r.credit = div(credit, AMOUNT, "trunc") end
  r.total = r.charges + r.levy - (r.credit or 0)
  r.consumption_tax = r.total > 0 and div(r.total * o.tax_rate, 100 + o.tax_rate, "trunc") or 0
  r.complete = bf == p.from and bt == p.to and (now == nil or p.to <= now)
  -- gaps while on supply and billed (a day before the agreement starts is no gap)
  r.gaps = {}
  for _, g in ipairs(prep.gaps) do
    for _, seg in ipairs(segs) do
      for _, c in ipairs(seg.cells) do
        if c.billed and c.ag and g.to > c.from and g.from < c.to then
          local a, z = g.from > c.from and g.from or c.from, g.to < c.to and g.to or c.to
          local last = r.gaps[#r.gaps]
          if last and last.to == a then last.to = z else r.gaps[#r.gaps + 1] = { from = a, to = z } end
        end
      end
    end
  end
  if r.missing > 0 then
    notes[#notes + 1] = r.missing .. " half hours have no reading (" .. n2s(r.missing / 2)
      .. " h): they are not priced, " ..
      "so this total is lower than the bill for the same period will be"
  end
  for _, l in ipairs(r.lines) do l.amount = nil end
  return r, nil, usage_total
end

-- M.run(prep, compiled_plan, o) -> result | nil, err  (o: normalised options, see bill.lua)
function M.run(prep, cp, o)
  local periods = period.list(o.from, o.to, o.reading_day, o.zone)
  local res = { from = o.from, to = o.to, periods = {}, total = 0, kwh = 0, readings = 0, missing = 0, pending = 0,
    assumptions = {}, spin = prep.spin, reading_day = o.reading_day }
  local seen = {}
  local function note(s) if not seen[s] then seen[s] = true; res.assumptions[#res.assumptions + 1] = s end end
  local sum = 0
  for i, p in ipairs(periods) do
    local r, err, used = price_period(p, prep, cp, o)
    if not r then
      err.period = p.from_date .. ".." .. p.to_date
      err.message = err.message .. " (billing period " .. err.period .. ")"
      return nil, err
    end
    res.periods[i] = r
    res.total = res.total + r.total
    sum = sum + used
    res.readings, res.missing, res.pending = res.readings + r.readings, res.missing + r.missing, res.pending + r.pending
    for _, s in ipairs(r.assumptions) do note(s) end
  end
  res.kwh, res.kwh_text = sum / KWH, kwh_text(sum)
  -- the whole range at a glance: every period's lines in order, the products priced,
  -- and the period itself when there is one (a bill)
  res.lines, res.products = {}, {}
  local codes = {}
  for _, r in ipairs(res.periods) do
    for _, l in ipairs(r.lines) do res.lines[#res.lines + 1] = l end
    for _, code in ipairs(r.products) do
      if not codes[code] then codes[code] = true; res.products[#res.products + 1] = code end
    end
  end
  res.product = res.products[1]
  if #res.periods == 1 then
    local r = res.periods[1]
    res.period = { from = r.from, to = r.to, from_date = r.from_date, to_date = r.to_date, days = r.days,
      complete = r.complete }
  end
  if prep.inexact > 0 then
    note(prep.inexact .. " readings had more than 4 decimals of kWh: rounded to 0.0001 kWh")
  end
  if prep.ignored > 0 then note(prep.ignored .. " rows outside the billed range were ignored") end
  return res
end

return M
