#!/usr/bin/env bash
# `make run`: installs everything, migrates an embedded SQLite database, loads the sample
# content (a data migration), collects static files and serves the reference site with
# gunicorn, behind the runtime layer's front (health probes, headers, the JSON request log).
#
# Reads:
#   PORT       the port on 127.0.0.1 (default 8000)
#   DJANGO_ENV development (default) or production
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

port=${PORT:-8000}
if ! python3 -c "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  printf 'error: port %s: already in use on 127.0.0.1 (another server listens there)\n' "$port" >&2
  printf 'hint: PORT=%s make run, or stop what listens on %s\n' "$((port + 1))" "$port" >&2
  exit 2
fi
scripts/bootstrap.sh
export DJANGO_ENV=${DJANGO_ENV:-development}
cd examples/wanderpage
../../.venv/bin/python manage.py migrate --no-input >/dev/null
../../.venv/bin/python manage.py collectstatic --no-input >/dev/null
msg "serving http://127.0.0.1:$port (Ctrl-C stops)"
CLOUDSITE_APPLICATION=config.wsgi:application exec ../../.venv/bin/gunicorn \
  --bind "127.0.0.1:$port" --workers 2 --threads 4 --no-control-socket \
  'cloudsite.runtime.wsgi:development()'
