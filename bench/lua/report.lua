-- Reporting a hoax with a screenshot: a multipart body read once from a file.
-- wrk ... -s report.lua URL -- COOKIE PATH BODY_FILE BOUNDARY
-- Each request comes from another address (forwarded.lua).
local forwarded = require "forwarded"
local threads, sent = 0, 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  local cookie, file, boundary
  cookie, path, file, boundary = args[1], args[2], args[3], args[4]
  local f = assert(io.open(file, "rb"))
  body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Cookie"] = cookie
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
end

function request()
  sent = sent + 1
  forwarded.next(id, sent)
  return wrk.format("POST", path, nil, body)
end
