#!/usr/bin/env bash
# Creates .venv and installs the locked dependencies plus the cloudsite package (editable).
# Re-running is cheap: it reinstalls only when a lock file or pyproject.toml changed.
#
#   scripts/bootstrap.sh            .venv (everything make run and make test need)
#   scripts/bootstrap.sh checkov    .venv-checkov (checkov pins libraries of its own)
#   scripts/bootstrap.sh awscli     .venv-awscli (the AWS CLI the hooks call, for the tests)
#
# Reads:
#   PYTHON  the interpreter to build the virtualenv from (default: python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

python=${PYTHON:-python3}
which=${1:-dev}
case "$which" in
  dev) venv=.venv; lock=requirements/dev.txt ;;
  checkov) venv=.venv-checkov; lock=requirements/checkov.txt ;;
  awscli) venv=.venv-awscli; lock=requirements/awscli.txt ;;
  *) fail "bootstrap.sh: '$which' is not a virtualenv; use dev, checkov or awscli" ;;
esac

stamp=$venv/.installed
current=$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)
if stamp_matches "$stamp" "$current"; then
  exit 0
fi
msg "installing the locked dependencies into $venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -qq --upgrade pip
"$venv/bin/python" -m pip install -qq --require-hashes -r "$lock"
if [ "$which" = dev ]; then
  "$venv/bin/python" -m pip install -qq --no-deps --no-build-isolation -e .
fi
stamp_write "$stamp" "$current"
