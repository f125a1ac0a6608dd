# shellcheck shell=bash
# Shared helpers for the project's shell scripts. Source it; don't run it.
#   msg TEXT...   progress to stderr
#   fail TEXT...  error to stderr, exit 1
#   as_root CMD   run CMD as root (directly when already root, else via sudo)
#   in_ci         true when CI=true
#   stamp_matches STAMP HASH   true when the file STAMP holds HASH (nothing to reinstall)
#   stamp_write STAMP HASH     record HASH in STAMP, after a successful install
msg() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
in_ci() { [ "${CI:-}" = "true" ]; }
stamp_matches() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
stamp_write() { echo "$2" >"$1"; }
