#!/usr/bin/env bash
# Creates .venv and installs the locked dependencies plus the cloudsite package (editable).
# Re-running is cheap: it reinstalls only when a lock file or pyproject.toml changed.
#
# Reads:
#   PYTHON  the interpreter to build the virtualenv from (default: python3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

python=${PYTHON:-python3}
stamp=.venv/.installed
inputs=(requirements/dev.txt pyproject.toml)
current=$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$current" ]; then
  exit 0
fi
msg "installing the locked dependencies into .venv"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet --require-hashes -r requirements/dev.txt
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
echo "$current" > "$stamp"
