#!/usr/bin/env bash
# Not a CodeDeploy hook: the instance's timer (cloudsite-secrets.timer, which ApplicationStart
# installs with a copy of this script and common.sh) runs it every 5 minutes. It reads the
# secrets as ApplicationStart does and, when they differ from what the running site was
# handed, hands it the new set (`start reload`): gunicorn replaces its workers gracefully and
# no request fails. A container that Docker restarted (a crash, a reboot) waits for its
# secrets as at a first start: it gets them. Nothing happens when the secrets are the same.
#
# Reads: what ApplicationStart reads (CLOUDSITE_ENV_FILE and the parameters and secrets it
# names), except the bundle. Exits 0 when there is nothing to do (no container, no change).
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

load_instance_env
lock_secrets
if [ "$(docker container inspect --format '{{.State.Running}}' "$CLOUDSITE_CONTAINER" 2>/dev/null)" != true ]; then
  msg "$CLOUDSITE_CONTAINER: not running; the next deployment hands it its secrets"
  exit 0
fi
# The site role's credentials last an hour: renewed here once under 40 minutes are left.
[ -z "${CLOUDSITE_MEDIA_BUCKET:-}${CLOUDSITE_QUEUE_URL:-}" ] || site_credentials
read_settings
read_secrets
# Docker restarted the container (it crashed, or the instance rebooted): the site waits for
# its secrets as at a first start, and only they bring it back.
# The [processes]: one that Docker restarted waits for its secrets, and gets them; one handed
# secrets that changed since is restarted (gracefully, as a deployment stops it) with the new.
mapfile -t processes < <(process_containers)
for process in "${processes[@]}"; do
  [ "$(docker container inspect --format '{{.State.Running}}' "$process" 2>/dev/null)" = true ] || continue
  if docker exec "$process" test -p /tmp/cloudsite/secrets.fifo; then
    msg "$process: restarted by Docker and waiting for its secrets; handing them over"
    hand_secrets secrets "$process"
  elif secrets_changed "$process"; then
    msg "secrets: changed; restarting $process with them"
    docker restart --time "$CLOUDSITE_STOP_TIMEOUT" "$process" >/dev/null
    hand_secrets secrets "$process"
  fi
done
if docker exec "$CLOUDSITE_CONTAINER" test -p /tmp/cloudsite/secrets.fifo; then
  msg "$CLOUDSITE_CONTAINER: restarted by Docker and waiting for its secrets; handing them over"
  hand_secrets secrets
  exit 0
fi
if ! secrets_changed; then
  msg "secrets: unchanged"
  exit 0
fi
msg "secrets: changed; handing them to $CLOUDSITE_CONTAINER, whose workers restart gracefully"
hand_secrets reload
msg "secrets: reloaded"
