-- GET one path with extra headers given after "--": wrk ... -s get.lua URL -- "Name: value" ...
function init(args)
  for _, header in ipairs(args) do
    local name, value = header:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
end
