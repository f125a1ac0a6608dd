#!/usr/bin/env bash
# CodeDeploy AfterInstall: run the database migrations, once per deployment, before the new
# version takes traffic. Every instance runs this hook; `manage.py migrate_once` serialises them
# on a PostgreSQL advisory lock, and only the first one to get it migrates (cloudsite/runtime/deployments).
# Without a database each container migrates nothing: its SQLite copy was migrated at build time.
#
# Reads:
#   CLOUDSITE_ENV_FILE   the instance's env file (default /etc/cloudsite/env):
#                        CLOUDSITE_DATABASE_SECRET_ARN (empty without a database), ...
#   image-uri            (bundle file) the image whose migrations run
#   DEPLOYMENT_ID        set by the CodeDeploy agent: the unit "once" counts in
#   LIFECYCLE_EVENT      set by the CodeDeploy agent (logged)
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

msg "${LIFECYCLE_EVENT:-AfterInstall} of deployment ${DEPLOYMENT_ID:-?}"
load_instance_env
if [ -z "${CLOUDSITE_DATABASE_SECRET_ARN:-}" ]; then
  msg "no database: each container starts from the SQLite database migrated into the image"
  exit 0
fi
[ -n "${DEPLOYMENT_ID:-}" ] || fail "DEPLOYMENT_ID is not set" "the CodeDeploy agent sets it for every hook"
image=$(bundle_image_uri)
read_settings
read_secrets
container_flags
msg "migrations: running once for deployment $DEPLOYMENT_ID"
# The secrets reach the container through this pipe only (CLOUDSITE_SECRETS=stdin).
# Not `docker run --rm`: podman's Docker API reports exit status 0 for a --rm container
# whatever happened, and a failed migration must fail this hook.
migrate="$CLOUDSITE_CONTAINER-migrate"
docker rm --force "$migrate" >/dev/null 2>&1 || true
status=0
printf '%s\0' "${SECRETS[@]}" "" \
  | docker run --interactive --name "$migrate" "${RUN_FLAGS[@]}" -e CLOUDSITE_SECRETS=stdin \
      -e CLOUDSITE_DEPLOYMENT_ID="$DEPLOYMENT_ID" "$image" migrate \
  || status=$?
docker rm "$migrate" >/dev/null 2>&1 || true
[ "$status" = 0 ] || fail "migrations failed for deployment $DEPLOYMENT_ID (exit $status)" \
  "the log above has the reason"
