#!/bin/sh
# The container's entrypoint: with no command (or `serve`), migrate the database and serve;
# any other command runs as given, e.g. `pledge users create ...` or `pledge mail send`.
set -eu

if [ "$#" -eq 0 ] || [ "$1" = "serve" ]; then
    [ "$#" -gt 0 ] && shift
    pledge db upgrade
    # exec: uvicorn becomes PID 1 and receives the stop signal itself.
    exec pledge serve \
        --host 0.0.0.0 \
        --port "${PORT:-8000}" \
        --workers "${WORKERS:-2}" \
        --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
        "$@"
fi

exec "$@"
