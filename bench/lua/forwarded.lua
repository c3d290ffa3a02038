-- The client's address as the proxy in front (nginx, `deploy/nginx.conf`) reports it:
-- X-Forwarded-For, which the server trusts from 127.0.0.1 only (`--forwarded-allow-ips`).
-- Spreading the load over many addresses keeps each under the per-address rate limits,
-- which stay on at their defaults: 4,096 addresses a wrk thread, 10.<thread>.<n>.<n>.
local forwarded = {}

function forwarded.address(thread, n)
  return string.format("10.%d.%d.%d", thread % 256, math.floor(n / 256) % 16, n % 256)
end

-- Before each request of a script that builds its own: the next address of this thread.
function forwarded.next(thread, n)
  wrk.headers["X-Forwarded-For"] = forwarded.address(thread, n)
end

return forwarded
