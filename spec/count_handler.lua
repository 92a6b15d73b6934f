-- busted output handler: the usual terminal output, plus busted's own counts
-- appended to build/counts as "passed failed" (errors count as failed), so
-- `make test` and .ci/run can sum the runs.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.utfTerminal")(options)
  busted.subscribe({ "suite", "end" }, function()
    local failed = handler.failuresCount + handler.errorsCount
    os.execute("mkdir -p build")
    local f = assert(io.open("build/counts", "a"))
    f:write(handler.successesCount, " ", failed, "\n")
    f:close()
    return nil, true
  end)
  return handler
end
