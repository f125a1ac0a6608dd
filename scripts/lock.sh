#!/usr/bin/env bash
# Regenerates the hashed lock files in requirements/ from the *.in files.
# The flags keep every registry address and local path out of the lock files.
#
# Reads: nothing. Needs: the dev virtualenv (.venv) with pip-tools.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
compile=(.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras
         --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --resolver=backtracking)
"${compile[@]}" --output-file requirements/site.txt requirements/site.in
"${compile[@]}" --output-file requirements/dev.txt requirements/dev.in
"${compile[@]}" --output-file requirements/checkov.txt requirements/checkov.in
