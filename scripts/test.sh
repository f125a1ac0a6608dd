#!/usr/bin/env bash
# `make test`: every test. Installs and starts whatever the suites need, then runs:
#   1. lint     ruff (lint and format), mypy, shellcheck on every shell script
#   2. pytest   everything under tests/, the site on embedded SQLite
#   3. pytest   the site's tests again on a PostgreSQL cluster of the project's own
#
#   scripts/test.sh          all of it
#   scripts/test.sh lint     step 1 only
#   scripts/test.sh -- ARGS  steps 2-3 with extra pytest arguments (for example -k health);
#                            step 3 keeps only the paths under tests/site
#
# Reads:
#   CI  when "true", a suite whose prerequisite is missing fails instead of being skipped
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

mode=all
case "${1:-}" in
  lint) mode=lint; shift ;;
  --) shift ;;
  "") ;;
  *) fail "test.sh: '$1' is not a mode; use lint, or -- followed by pytest arguments" ;;
esac
py=.venv/bin

scripts/bootstrap.sh

lint() {
  msg "lint: ruff, mypy, shellcheck"
  "$py/ruff" check .
  "$py/ruff" format --check .
  "$py/mypy"
  git ls-files -co --exclude-standard -- '*.sh' '.ci/run' 'src/cloudsite/runtime/hooks/*' \
    'src/cloudsite/runtime/bin/*' 'deploy/*' ':!tests/corpus' \
    | sort -u | xargs -r "$py/shellcheck" --external-sources --severity=style
}

lint
[ "$mode" = lint ] && exit 0
scripts/system-packages.sh
scripts/podman.sh setup

msg "pytest: every suite (the site on SQLite)"
"$py/pytest" "$@"

# The PostgreSQL run takes the same options, and of the paths given only those in tests/site;
# with paths given and none of them there, it has nothing to run.
pg_args=() named_paths=false site_paths=false
for arg in "$@"; do
  if [ -e "${arg%%::*}" ]; then
    named_paths=true
    case "$arg" in tests/site | tests/site/*) site_paths=true && pg_args+=("$arg") ;; esac
  else
    pg_args+=("$arg")
  fi
done
if "$named_paths" && ! "$site_paths"; then
  msg "pytest: no site tests named, so no PostgreSQL run"
  exit 0
fi
"$site_paths" || pg_args=(tests/site "${pg_args[@]}")
msg "pytest: the site on PostgreSQL"
database_url=$(scripts/postgres.sh start)
DATABASE_URL=$database_url CLOUDSITE_EXPECT_DATABASE=postgresql "$py/pytest" "${pg_args[@]}"
