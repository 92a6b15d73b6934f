-- spec/hosts/love/conf.lua: a headless LÖVE game for the octopus host spec: no window,
-- no graphics, no audio; only the modules the frame loop needs (event, timer).
function love.conf(t)
  t.identity = "octopus-host-spec"
  t.window = false
  t.console = false
  for _, m in ipairs { "audio", "data", "font", "graphics", "image", "joystick", "keyboard",
                       "math", "mouse", "physics", "sound", "system", "thread", "touch",
                       "video", "window" } do
    t.modules[m] = false
  end
  t.modules.event = true
  t.modules.timer = true
end
