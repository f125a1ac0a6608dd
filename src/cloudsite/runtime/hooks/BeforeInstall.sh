#!/usr/bin/env bash
# CodeDeploy BeforeInstall: fetch the new revision's image, by digest, from ECR.
# A digest cannot be moved to other content, so every instance runs exactly the image the
# build pushed. The registry login is dropped again once the pull is done.
#
# Reads:
#   CLOUDSITE_ENV_FILE   the instance's env file (default /etc/cloudsite/env): AWS_REGION, ...
#   image-uri            (bundle file) REGISTRY/REPOSITORY@sha256:DIGEST
#   LIFECYCLE_EVENT, DEPLOYMENT_ID   set by the CodeDeploy agent (logged)
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

msg "${LIFECYCLE_EVENT:-BeforeInstall} of deployment ${DEPLOYMENT_ID:-?}"
load_instance_env
image=$(bundle_image_uri)
if [[ "$image" == sha256:* ]]; then  # `cloudsite local`: the engine built it, nothing to pull
  docker image inspect "$image" >/dev/null 2>&1 || fail "image $image is not in the engine" \
    "cloudsite local deploy builds it first"
  msg "image $image is in the engine already"
  exit 0
fi
registry_login "$image"
msg "pulling $image"
pulled=true
docker pull --quiet "$image" >/dev/null || pulled=false
docker logout "${image%%/*}" >/dev/null 2>&1 || true
$pulled || fail "docker pull $image failed" "is the image still in the repository (lifecycle rule)?"
