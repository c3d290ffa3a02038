-- Signing with a valid CSRF token and a new contact on every request.
-- wrk ... -s sign.lua URL -- COOKIE TOKEN PATH PREFIX
-- Each request comes from another address (forwarded.lua).
local forwarded = require "forwarded"
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  cookie, token, path, prefix = args[1], args[2], args[3], args[4]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = cookie
end

function request()
  counter = counter + 1
  forwarded.next(id, counter)
  local body = "csrf_token=" .. token
    .. "&name=Pendukung+Bench&contact=" .. prefix .. id .. "-" .. counter .. "%40contoh.id"
    .. "&province=ID-JK&age_ok=on&consent=on"
    .. "&pledges=tolak-politik-uang&pledges=lawan-hoaks&website="
  return wrk.format("POST", path, nil, body)
end
