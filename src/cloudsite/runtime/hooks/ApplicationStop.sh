#!/usr/bin/env bash
# CodeDeploy ApplicationStop: stop the running site container and its [processes], gracefully.
# It runs from the PREVIOUS successful revision's bundle (CodeDeploy's rule), after
# BlockTraffic has drained this instance from the target group, so nothing is cut off.
# Idempotent: with nothing deployed yet, or the container already gone, it has nothing to do.
#
# Reads:
#   CLOUDSITE_ENV_FILE      the instance's env file (default /etc/cloudsite/env); without one
#                           (nothing ever deployed) the default container name is used
#   CLOUDSITE_CONTAINER     (env file, optional) the container name (default cloudsite-web)
#   CLOUDSITE_STOP_TIMEOUT  (env file, optional) seconds for in-flight requests (default 30)
#   LIFECYCLE_EVENT, DEPLOYMENT_ID   set by the CodeDeploy agent (logged)
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

msg "${LIFECYCLE_EVENT:-ApplicationStop} of deployment ${DEPLOYMENT_ID:-?}"
if [ -r "${CLOUDSITE_ENV_FILE:-/etc/cloudsite/env}" ]; then
  load_instance_env
else
  instance_defaults
fi
container_stop "$CLOUDSITE_CONTAINER-migrate"  # a migration cut short by a failed deployment
# The [processes] first: each worker finishes the task in hand (docs/background.md).
docker info >/dev/null 2>&1 || fail "docker: the daemon does not answer" "systemctl status docker"
stop_processes
container_stop "$CLOUDSITE_CONTAINER"
