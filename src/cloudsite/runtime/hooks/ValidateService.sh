#!/usr/bin/env bash
# CodeDeploy ValidateService: the new version must answer /healthz (alive) and /readyz (its
# database answers) on the instance's port within CLOUDSITE_VALIDATE_TIMEOUT seconds, and its
# [processes] must keep running for CLOUDSITE_PROCESS_SETTLE seconds.
# Otherwise this hook exits non-zero: the deployment fails on this instance, it never gets
# AllowTraffic, and CodeDeploy rolls back to the last good revision (docs/deploy.md).
#
# Reads:
#   CLOUDSITE_ENV_FILE   the instance's env file (default /etc/cloudsite/env):
#                        CLOUDSITE_APP_PORT, CLOUDSITE_CONTAINER, CLOUDSITE_VALIDATE_TIMEOUT
#   image-uri            (bundle file) the image the container must be running
#   LIFECYCLE_EVENT, DEPLOYMENT_ID   set by the CodeDeploy agent (logged)
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

msg "${LIFECYCLE_EVENT:-ValidateService} of deployment ${DEPLOYMENT_ID:-?}"
load_instance_env
image=$(bundle_image_uri)
field='{{.Config.Image}}'
[[ "$image" == sha256:* ]] && field='{{.Image}}'  # `cloudsite local`: the image by its id
running=$(docker container inspect --format "$field" "$CLOUDSITE_CONTAINER" 2>/dev/null) \
  || fail "$CLOUDSITE_CONTAINER: no such container" "ApplicationStart should have started it"
[[ "$image" == sha256:* ]] && running="sha256:${running#sha256:}"
[ "$running" = "$image" ] \
  || fail "$CLOUDSITE_CONTAINER runs $running, not this revision's $image"

# A container that is no longer running (it crashed, and may be restarting) fails at once.
if ! wait_ready "$CLOUDSITE_APP_PORT" "$CLOUDSITE_VALIDATE_TIMEOUT" "$CLOUDSITE_CONTAINER"; then
  msg "$CLOUDSITE_CONTAINER: $(docker container inspect --format '{{.State.Status}}, restarted {{.RestartCount}} times' "$CLOUDSITE_CONTAINER" 2>&1)"
  docker logs --tail 30 "$CLOUDSITE_CONTAINER" >&2 2>&1 || true
  fail "$CLOUDSITE_CONTAINER: /healthz and /readyz did not both answer 200 within ${CLOUDSITE_VALIDATE_TIMEOUT} s" \
    "the container's last log lines are above; CodeDeploy rolls back to the last good revision"
fi
msg "$CLOUDSITE_CONTAINER: healthy and ready on port $CLOUDSITE_APP_PORT"
# The [processes] must run this revision and keep running (a crash loop fails the deployment).
bundle_processes
validate_processes
