-- examples/love/conf.lua: an 800x480 window; OCTOPUS_LOVE_HEADLESS=1 runs the same game
-- with no window and no graphics (the spec does: it checks the layout it would draw).
function love.conf(t)
  t.identity = "octopus-dashboard"
  t.window.title = "octopus: usage, bill and balance"
  t.window.width, t.window.height = 800, 480
  for _, m in ipairs { "audio", "sound", "joystick", "physics", "video" } do t.modules[m] = false end
  if os.getenv("OCTOPUS_LOVE_HEADLESS") == "1" then
    t.window = false
    for _, m in ipairs { "data", "font", "graphics", "image", "keyboard", "math", "mouse", "system",
                         "thread", "touch", "window" } do
      t.modules[m] = false
    end
  end
end
