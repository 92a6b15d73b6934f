-- examples/love/conf.lua: an 800x480 window; OCTOPUS_LOVE_HEADLESS=1 runs the same game
-- with no window and no graphics (the spec does: it checks the layout it would draw).
function love.conf(t)
  t.identity = "octopus-dashboard"
  t.window.title = "octopus: usage and balance"
  t.window.width, t.window.height = 800, 480
  t.modules.audio, t.modules.sound, t.modules.joystick, t.modules.physics, t.modules.video = false, false, false, false, false
  if os.getenv("OCTOPUS_LOVE_HEADLESS") == "1" then
    t.window = false
    for _, m in ipairs { "data", "font", "graphics", "image", "keyboard", "math", "mouse", "system",
                         "thread", "touch", "window" } do
      t.modules[m] = false
    end
  end
end
