-- spec/hosts/love/main.lua: LÖVE drives 20 concurrent requests from love.update while
-- frames keep advancing. Run from the repo root:
--   OCTOPUS_URL=http://127.0.0.1:N OCTOPUS_OUT=/tmp/result love spec/hosts/love
-- (the sandbox delays GET /v1/products/ so the transfers overlap). Writes "ok ..." or
-- "fail <why>" to OCTOPUS_OUT and quits with 0 or 1.
local root = os.getenv("OCTOPUS_ROOT") or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/luajit/?.so;" .. package.cpath

local N = 20
local out_path = os.getenv("OCTOPUS_OUT") or "/tmp/octopus-love-result"
local client, driver, deadline
local tasks, results, frames_during, most = {}, {}, 0, 0 -- luacheck: ignore tasks (keeps the tasks)
local finished = false

local function finish(ok, msg)
  if finished then return end
  finished = true
  local f = io.open(out_path, "w")
  if f then f:write((ok and "ok " or "fail ") .. msg .. "\n") f:close() end
  if client then client:close() end
  love.event.quit(ok and 0 or 1)
end

function love.update(dt)
  if finished then return end
  local in_flight = client and require("octopus.async").scheduler(client).multi:count() or 0
  if in_flight > 0 then frames_during = frames_during + 1 end
  if in_flight > most then most = in_flight end
  if love.timer.getTime() > deadline then return finish(false, "deadline: " .. #results .. " of " .. N .. " done") end
  if #results == N then
    for i = 1, N do
      if results[i] ~= true then return finish(false, "request " .. i .. ": " .. tostring(results[i])) end
    end
    if frames_during < 5 then return finish(false, "only " .. frames_during .. " frames during the transfers") end
    if most ~= N then return finish(false, "at most " .. most .. " transfers were in flight at once") end
    finish(true, ("frames_during=%d in_flight=%d frames=%d"):format(frames_during, most, driver.frames))
  end
end

function love.load()
  local ok, err = pcall(function()
    local octopus = require "octopus"
    local url = assert(os.getenv("OCTOPUS_URL"), "OCTOPUS_URL is not set")
    client = octopus.new{ rest_url = url .. "/v1/", retries = 0 }
    driver = require("octopus.love").attach(client)
    deadline = love.timer.getTime() + 20
    for i = 1, N do
      tasks[i] = client:spawn(function()
        return client:request{ path = { "products" }, auth = "none" }
      end):on_done(function(task)
        local page, e = task:result()
        results[#results + 1] = (page and type(page.count) == "number") or tostring(e)
      end)
    end
  end)
  if not ok then finish(false, "error: " .. tostring(err)) end
end
