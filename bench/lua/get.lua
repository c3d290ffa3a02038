-- GET one path with extra headers given after "--": wrk ... -s get.lua URL -- "Name: value" ...
-- Each wrk thread comes from an address of its own (forwarded.lua): no GET is rate limited.
local forwarded = require "forwarded"
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  for _, header in ipairs(args) do
    local name, value = header:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
  forwarded.next(id, 0)
end
