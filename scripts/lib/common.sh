# shellcheck shell=bash
# Shared helpers for the project's shell scripts. Source it; don't run it.
#   msg TEXT...   progress to stderr
#   fail TEXT...  error to stderr, exit 1
#   as_root CMD   run CMD as root (directly when already root, else via sudo)
#   in_ci         true when CI=true
msg() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
in_ci() { [ "${CI:-}" = "true" ]; }
