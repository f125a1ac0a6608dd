#!/usr/bin/env bash
# CodeDeploy ApplicationStart: start the new version as the container `cloudsite-web`, and
# the release's [processes] as `cloudsite-web-NAME-N` beside it
# (docs/interfaces.md, 5): read-only, a tmpfs /tmp, no capabilities, no privilege gain,
# restarted by Docker unless stopped, logging to CloudWatch through the awslogs driver.
# Non-secret settings come from SSM (DJANGO_* and the database's address only) through a 0600
# env file, never through the hook's own environment. The secrets come from Secrets
# Manager and travel through a pipe into the running container (`docker exec -i`), so they
# never appear in `docker inspect`, a command line, a file or a log line.
#
# Reads:
#   CLOUDSITE_ENV_FILE   the instance's env file (default /etc/cloudsite/env): AWS_REGION,
#                        CLOUDSITE_APP_PORT, CLOUDSITE_APP_LOG_GROUP, CLOUDSITE_PARAMETER_PATH,
#                        CLOUDSITE_SECRET_KEY_ARN, CLOUDSITE_DATABASE_SECRET_ARN, and the
#                        optional CLOUDSITE_* overrides listed in common.sh
#   image-uri            (bundle file) the image to run
#   LIFECYCLE_EVENT, DEPLOYMENT_ID   set by the CodeDeploy agent (logged, and a container label)
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

msg "${LIFECYCLE_EVENT:-ApplicationStart} of deployment ${DEPLOYMENT_ID:-?}"
load_instance_env
image=$(bundle_image_uri)
lock_secrets
read_settings
read_secrets
container_flags
# ApplicationStop normally removed it; a deployment that failed half-way may have left one.
container_stop "$CLOUDSITE_CONTAINER"

if [ "$CLOUDSITE_DOCKER_NETWORK" = host ]; then
  publish=(-e "PORT=$CLOUDSITE_APP_PORT")
else
  publish=(--publish "${CLOUDSITE_BIND_ADDRESS:+$CLOUDSITE_BIND_ADDRESS:}$CLOUDSITE_APP_PORT:8000")
fi
msg "$CLOUDSITE_CONTAINER: starting $image on port $CLOUDSITE_APP_PORT"
# A container that Docker restarts (a crash, a reboot) waits up to 600 s for its secrets:
# longer than the secrets timer's longest interval, so the timer's next run hands them over.
docker run --detach --name "$CLOUDSITE_CONTAINER" --restart unless-stopped "${RUN_FLAGS[@]}" \
  "${publish[@]}" -e CLOUDSITE_SECRETS=pipe -e CLOUDSITE_SECRETS_WAIT=600 \
  --label "cloudsite.deployment-id=${DEPLOYMENT_ID:-}" "$image" web >/dev/null \
  || fail "$CLOUDSITE_CONTAINER: docker run failed" "the log above has the reason"
hand_secrets secrets
# [processes] (background.json): beside the web, from the same image, flags and secrets.
bundle_processes
stop_processes  # what a deployment that failed half-way may have left
start_processes "$image"
install_refresh_timer

# Images of this repository that no container uses any more (older revisions) go; locally
# tagged images and other repositories are left alone.
[[ "$image" == sha256:* ]] && exit 0  # `cloudsite local` keeps its releases until local down
repository=${image%@*}
docker image ls --format '{{.ID}} {{.Tag}}' "$repository" | while read -r id tag; do
  [ "$tag" = "<none>" ] && docker image rm "$id" >/dev/null 2>&1 || true
done
