-- spec/cli_units_spec.lua: the CLI's pure parts on every Lua — display width of
-- Japanese text, table alignment, CSV quoting, charts in Unicode and ASCII, the progress
-- line, the config file's rules, exit statuses.
local helper = require "helper"
local width = require "octopus.cli.width"
local format = require "octopus.cli.format"
local chart = require "octopus.cli.chart"
local progress = require "octopus.cli.progress"
local config = require "octopus.cli.config"
local cli = require "octopus.cli"
local errors = require "octopus.pipeline.errors"

describe("octopus.cli parts", function()
  it("counts East Asian wide characters as two columns, combining marks as none", function()
    assert.are.equal(3, width.width("abc"))
    assert.are.equal(6, width.width("東京都"))                 -- CJK ideographs
    assert.are.equal(10, width.width("サンポート"))            -- katakana, with the long mark
    assert.are.equal(4, width.width("ＡＢ"))                   -- fullwidth forms
    assert.are.equal(1, width.width("e\204\129"))              -- e + U+0301
    assert.are.equal(2, width.width("😀"))
    assert.are.equal(1, width.width("\255"))                    -- a stray byte: one column
    assert.are.equal("東京  |", width.pad("東京", 6) .. "|")
    assert.are.equal("  東京|", width.pad("東京", 6, "right") .. "|")
    assert.are.equal("東京~", width.truncate("東京都千代田区", 5))
    assert.is_true(width.width(width.truncate("東京都千代田区", 6)) <= 6)
  end)

  it("aligns table columns by display width", function()
    local lines = format.table_lines({ { key = "a", title = "Name" }, { key = "n", title = "kWh", align = "right" },
      { key = "z", title = "End" } },
      { { a = "東京都千代田区", n = 1.5, z = "x" }, { a = "Osaka", n = 12.25, z = "y" } })
    local col
    for i, l in ipairs(lines) do
      local p = l:find("%S+$")
      local c = width.width(l:sub(1, p - 1))
      col = col or c
      assert.are.equal(col, c, "line " .. i .. ": " .. l)
    end
    assert.is_nil(lines[1]:find("\27", 1, true))
    assert.matches("\27[1m", format.table_lines({ { key = "a" } }, {}, { color = true })[1], 1, true)
  end)

  it("writes CSV per RFC 4180 and numbers without float noise", function()
    local csv = format.csv({ { key = "a" }, { key = "b" } }, { { a = 'say "hi", then', b = 0.1 + 0.2 },
      { a = "two\nlines", b = 3 } })
    assert.are.equal('a,b\r\n"say ""hi"", then",0.3\r\n"two\nlines",3\r\n', csv)
    assert.are.equal("1,234,567.89", format.group(1234567.891, 2))
    assert.are.equal("-1,000", format.group(-1000, 0))
  end)

  it("sorts JSON keys, so the same value prints the same text", function()
    assert.are.equal('{"a":1,"b":{"c":2,"d":3},"z":[1,2]}', format.json({ z = { 1, 2 }, b = { d = 3, c = 2 }, a = 1 }))
  end)

  it("draws bars in eighths, a sparkline and a heat map, or ASCII", function()
    assert.are.equal("████", chart.bar(10, 10, 4))
    assert.are.equal("██▌", chart.bar(5, 10, 5))
    assert.are.equal("##", chart.bar(5, 10, 4, true))
    assert.are.equal("▁▅█", chart.sparkline { 1, 2, 3 })          -- (2-1)/(3-1) of 7 steps, rounded
    assert.are.equal("_=#", chart.sparkline({ 1, 2, 3 }, { ascii = true }))
    assert.are.equal("▁▁█", chart.sparkline { 0, 0.1, 10 })
    local squeeze = require("octopus.cli.commands.usage").squeeze
    assert.are.same({ 1.5, 3.5 }, squeeze({ 1, 2, 3, 4 }, 2))
    local year = {}
    for i = 1, 365 do year[i] = i end
    local line = squeeze(year, 60)
    assert.are.equal(60, #line)
    assert.is_true(line[1] < line[60])
    local cells = {}
    for s = 1, 48 do cells[s] = s end
    cells[10] = nil
    local map = chart.heatmap({ { label = "11-01", cells = cells } })
    assert.matches("^11%-01  ", map[2])
    assert.matches("·", map[2], 1, true)                        -- the missing half hour
    assert.matches("█$", map[2])                                -- the peak
    local ascii = chart.heatmap({ { label = "11-01", cells = cells } }, { ascii = true })
    for _, l in ipairs(ascii) do assert.is_nil(l:find("[\128-\255]"), l) end
    local bars = chart.bars({ { label = "東京", value = 2, note = "20 yen" },
      { label = "Osaka", value = 4, note = "40 yen" } },
      { width = 8 })
    assert.are.equal(width.width(bars[1]:match("^(.-)20 yen")), width.width(bars[2]:match("^(.-)40 yen")))
  end)

  it("draws the progress line with counts and ETA only when enabled, and erases it", function()
    local buf = {}
    local out = { write = function(_, ...) for _, s in ipairs { ... } do buf[#buf + 1] = s end end,
      flush = function() end }
    local now = 100
    local p = progress.new("sync", { out = out, enabled = true, ascii = true, width = 10,
      clock = function() return now end })
    now = 104
    p:update(2, 4)
    local text = table.concat(buf)
    assert.matches("sync [#####-----] 2/4  50% ETA 4s", text, 1, true)
    p:done()
    local all = table.concat(buf)
    assert.are.equal("\r\27[K", all:sub(-4))
    local quiet = {}
    local q = progress.new("x", { out = { write = function(_, s) quiet[#quiet + 1] = s end, flush = function() end },
      enabled = false })
    q:update(1, 2)
    q:done()
    assert.are.equal(0, #quiet)
  end)

  it("reads the config file, refusing secrets and unknown keys", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("# comment\nrest_url = https://example.test/v1/\naccount = A-1234ABCD\n")
    f:close()
    local conf = config.read(path)
    assert.are.equal("https://example.test/v1/", conf.rest_url)
    assert.are.equal("A-1234ABCD", conf.account)
    for _, line in ipairs { "api_key = sk_live_x", "password = x", "refresh_token = y" } do
      f = assert(io.open(path, "w")) f:write(line, "\n") f:close()
      local ok, err = pcall(config.read, path)
      assert.is_false(ok)
      assert.matches("secret", err.cli_usage, 1, true)
      assert.is_nil(err.cli_usage:find("sk_live_x", 1, true))
    end
    f = assert(io.open(path, "w")) f:write("colour = yes\n") f:close()
    local ok, err = pcall(config.read, path)
    assert.is_false(ok)
    assert.matches("unknown key `colour`", err.cli_usage, 1, true)
    os.remove(path)
    helper.raises("OCTOPUS_API_KEY", function()
      local okc, e = pcall(config.check_credentials, {}, "any")
      error(okc and "no error" or e.cli_usage)
    end)
  end)

  it("maps errors to exit statuses: 1 the API refused, 2 usage, 3 network, 130 interrupted", function()
    local function st(code, kind) return cli.status_of(errors.new { code = code, kind = kind, message = "m" }) end
    assert.are.equal(1, st("AUTH_INVALID", "auth"))
    assert.are.equal(1, st("FORBIDDEN", "auth"))
    assert.are.equal(1, st("NOT_FOUND", "http"))
    assert.are.equal(1, st("VALIDATION", "http"))
    assert.are.equal(3, st("TLS", "network"))
    assert.are.equal(3, st("TIMEOUT", "network"))
    assert.are.equal(3, st("HTTP_503", "http"))
    assert.are.equal(2, st("UNSUPPORTED", "usage"))
    assert.are.equal(130, st("CANCELLED", "usage"))
  end)
end)
