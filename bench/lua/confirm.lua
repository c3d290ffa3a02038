-- Confirming signings by their emailed links: each request presses the button of another
-- waiting signing, never one already confirmed.
-- wrk -tTHREADS ... -s confirm.lua URL -- COOKIE TOKEN PATH SECRETS CURSOR THREADS
--   PATH    the confirmation path up to its secret, /c/<slug>/confirm/
--   SECRETS a file of link secrets, one a line
--   CURSOR  a file that keeps how many of each thread's secrets earlier runs used
-- Each request comes from another address (forwarded.lua).
local forwarded = require "forwarded"
local threads = {}

local function read_cursor(name)
  local file = io.open(name, "r")
  if not file then return 0 end
  local used = tonumber(file:read("*l") or "0") or 0
  file:close()
  return used
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  cookie, token, path, secrets_file, cursor = args[1], args[2], args[3], args[4], args[5]
  local stripes = tonumber(args[6])
  -- This thread's share: every line whose number gives its id, after those used before.
  secrets, used = {}, 0
  local skip, n = read_cursor(cursor), 0
  for line in io.lines(secrets_file) do
    n = n + 1
    if n % stripes == id - 1 then
      if skip > 0 then skip = skip - 1 else table.insert(secrets, line) end
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = cookie
end

function request()
  used = used + 1
  forwarded.next(id, used)
  -- Past the end of the file a secret comes round again (confirmed already): the run needs
  -- more secrets, which the benchmark checks against the number of requests.
  local secret = secrets[(used - 1) % #secrets + 1]
  return wrk.format("POST", path .. secret, nil, "csrf_token=" .. token)
end

function done(summary, latency, requests)
  -- done() runs apart from the threads: it knows the cursor's file from them.
  local cursor = threads[1]:get("cursor")
  local most = 0
  for _, thread in ipairs(threads) do
    most = math.max(most, thread:get("used") or 0)
  end
  local file = io.open(cursor, "w")
  file:write(tostring(read_cursor(cursor) + most) .. "\n")
  file:close()
end
