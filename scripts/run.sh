#!/usr/bin/env bash
# `make run`: installs everything, migrates an embedded SQLite database, loads the sample
# content (a data migration), collects static files and serves the site with gunicorn.
#
# Reads:
#   PORT       the port on 127.0.0.1 (default 8000)
#   DJANGO_ENV development (default) or production
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

scripts/bootstrap.sh
export DJANGO_ENV=${DJANGO_ENV:-development}
cd site
../.venv/bin/python manage.py migrate --no-input >/dev/null
../.venv/bin/python manage.py collectstatic --no-input >/dev/null
msg "serving http://127.0.0.1:${PORT:-8000} (Ctrl-C stops)"
exec ../.venv/bin/gunicorn --config gunicorn.conf.py --bind "127.0.0.1:${PORT:-8000}" config.wsgi
