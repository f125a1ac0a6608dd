#!/usr/bin/env bash
# Deploys a Django project to one Docker host, without the AWS pipeline (docs/deploy.md,
# "Standalone"): the same image `cloudsite up` ships.
#
#   deploy/docker-deploy.sh [--repo URL] [--ref REF] [--name NAME] [--port PORT] [--bind ADDR]
#
#   --repo URL   the git repository of the project to deploy (default: the one this script is in)
#   --ref REF    branch, tag or commit (default: HEAD of that repository)
#   --name NAME  the container and image name (default: cloudsite-web)
#   --port PORT  the host port (default: 8000)
#   --bind ADDR  the host address (default: 127.0.0.1, for a TLS proxy in front; 0.0.0.0 for all)
#
#   1. check out URL at REF;  2. build the image with `cloudsite build` (the buildspec's script);
#   3. start it as a candidate on a spare loopback port and wait for /healthz and /readyz;
#   4. swap it in: stop the old container, start the new one on PORT with a restart policy;
#   5. print the URL on stdout.
# A failed build or an unhealthy candidate leaves the old container serving, untouched. The
# swap itself leaves a gap of a few seconds; the AWS pipeline's rollout has none.
#
# Reads, from this environment only:
#   DJANGO_SECRET_KEY      required: the site's secret key (keep the same one across deploys)
#   DJANGO_ALLOWED_HOSTS   required: the host names the site answers, comma-separated
#   DATABASE_URL, DJANGO_SECRET_KEY_FALLBACKS   optional secrets
#   DJANGO_*, WEB_CONCURRENCY, GUNICORN_THREADS   optional site settings (`docker run -e`)
#   AWS_STORAGE_BUCKET_NAME, AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL   a bucket of yours, for a
#                          project that stores files (docs/data.md); required for one
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   optional secrets, for it
# The secrets never reach `docker run -e`, where `docker inspect` shows them: they go to a
# 0600 file in the volume NAME-secrets, which the site reads at every start (a restart too).
#   CLOUDSITE_HEALTH_TIMEOUT  seconds to wait for a healthy container (default 60)
#   CLOUDSITE              the cloudsite command (default: cloudsite on PATH)
#   BASE_IMAGE, PIP_INDEX_URL   passed on to the build
#   DOCKER_HOST            the engine, as the docker CLI reads it
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$here/src/cloudsite/runtime/hooks/common.sh"

repo="" ref=HEAD name=cloudsite-web port=8000 bind=127.0.0.1
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) repo=${2:-}; shift 2 ;;
    --ref) ref=${2:-}; shift 2 ;;
    --name) name=${2:-}; shift 2 ;;
    --port) port=${2:-}; shift 2 ;;
    --bind) bind=${2:-}; shift 2 ;;
    -h | --help) sed -n '2,30p' "${BASH_SOURCE[0]}" | cut -c3-; exit 0 ;;
    *) fail "docker-deploy: '$1' is not an option" "see deploy/docker-deploy.sh --help" ;;
  esac
done
repo=${repo:-$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || true)}
timeout=${CLOUDSITE_HEALTH_TIMEOUT:-60}
[ -n "$repo" ] || fail "docker-deploy: no repository" "pass --repo URL"
[[ "$name" =~ ^[a-z0-9][a-z0-9_.-]*$ ]] || fail "docker-deploy: --name '$name' is not a container name" \
  "use lower-case letters, digits, '.', '_' and '-'"
[[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] \
  || fail "docker-deploy: --port '$port' is not a port" "use 1 to 65535"
[ -n "${DJANGO_SECRET_KEY:-}" ] || fail "DJANGO_SECRET_KEY is not set" \
  "export DJANGO_SECRET_KEY=\$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), once, and keep it"
[ -n "${DJANGO_ALLOWED_HOSTS:-}" ] || fail "DJANGO_ALLOWED_HOSTS is not set" \
  "export DJANGO_ALLOWED_HOSTS=www.example.com (the names the site answers)"
docker info >/dev/null 2>&1 || fail "docker: the engine does not answer" "is Docker running? (DOCKER_HOST)"

# ---------------------------------------------------------------- 1. check out
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
msg "checking out $ref of $repo"
# `--`, and the ref resolved to a commit first: neither can be taken for a git option.
git clone --quiet -- "$repo" "$work/src" 2>"$work/git.log" \
  || fail "git clone $repo failed: $(tail -n 1 "$work/git.log")" "is the URL right and reachable?"
commit=$(git -C "$work/src" rev-parse --quiet --verify "$ref^{commit}" 2>/dev/null \
  || git -C "$work/src" rev-parse --quiet --verify "origin/$ref^{commit}" 2>/dev/null) \
  || fail "git checkout $ref failed: no such branch, tag or commit" "is '$ref' a branch, tag or commit there?"
git -C "$work/src" -c advice.detachedHead=false checkout --quiet "$commit" 2>"$work/git.log" \
  || fail "git checkout $ref failed: $(tail -n 1 "$work/git.log")" "is the working tree clean?"

# ---------------------------------------------------------------- 2. build
image="$name:${commit:0:12}"
built=$(cd "$work/src" && "${CLOUDSITE:-cloudsite}" build --tag "${commit:0:12}") \
  || fail "the build of $ref (${commit:0:12}) failed; the running site was not touched" \
    "the error above says why"
docker tag "$built" "$image"
# A project that stores files keeps them in S3 (the image is read-only): one of yours here.
media=$(docker run --rm --network none --entrypoint python3 "$image" -c \
  'import json; print(json.load(open("/opt/cloudsite/project.json")).get("media", ""))') || media=""
if [ "$media" = s3 ] && [ -z "${AWS_STORAGE_BUCKET_NAME:-}" ]; then
  fail "the project stores files (media = s3) and AWS_STORAGE_BUCKET_NAME is not set; the running site was not touched" \
    "export AWS_STORAGE_BUCKET_NAME and AWS_S3_REGION_NAME (and credentials) for a bucket of yours, or set media = \"none\" in cloudsite.toml"
fi

# ---------------------------------------------------------------- 3. a candidate, checked first
hardening_flags 30
secret_names=(DJANGO_SECRET_KEY DJANGO_SECRET_KEY_FALLBACKS DATABASE_URL
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN)
SECRETS=()
for var in "${secret_names[@]}"; do
  [ -z "${!var:-}" ] || SECRETS+=("$var=${!var}")
done
while IFS='=' read -r var _; do
  case " ${secret_names[*]} " in *" $var "*) continue ;; esac
  case "$var" in
    DJANGO_* | WEB_CONCURRENCY | GUNICORN_THREADS | AWS_STORAGE_BUCKET_NAME | AWS_S3_REGION_NAME \
      | AWS_S3_ENDPOINT_URL) RUN_FLAGS+=(-e "$var") ;;
  esac
done < <(env)

# The secrets, written by the image's own shell into the volume, for the site's user (10001)
# alone. One file per commit: the running version keeps its own until the next deploy.
volume="$name-secrets" secrets_file="secrets-${commit:0:12}"
docker volume create "$volume" >/dev/null
writer="$name-secrets-writer"
docker rm --force "$writer" >/dev/null 2>&1 || true
status=0
printf '%s\0' "${SECRETS[@]}" "" \
  | docker run --interactive --name "$writer" --user 0 --network none --entrypoint /bin/sh \
      --volume "$volume:/s" "$image" -c "umask 077 && cat >/s/$secrets_file.new \
        && chown 10001:10001 /s/$secrets_file.new && mv /s/$secrets_file.new /s/$secrets_file \
        && ls -t /s/secrets-* | tail -n +3 | while read -r old; do rm -f \"\$old\"; done" || status=$?
docker rm "$writer" >/dev/null 2>&1 || true
[ "$status" = 0 ] || fail "the secrets could not be written to the volume $volume (exit $status)" \
  "docker volume inspect $volume; the running site was not touched"
RUN_FLAGS+=(--volume "$volume:/run/cloudsite-secrets:ro" -e CLOUDSITE_SECRETS=file
  -e "CLOUDSITE_SECRETS_PATH=/run/cloudsite-secrets/$secrets_file")

discard() {  # discard NAME: show its last log lines, then remove it
  docker logs --tail 20 "$1" >&2 2>&1 || true
  docker rm --force "$1" >/dev/null 2>&1 || true
}

candidate="$name-candidate"
docker rm --force "$candidate" >/dev/null 2>&1 || true
msg "starting $image as a candidate"
docker run --detach --name "$candidate" "${RUN_FLAGS[@]}" --publish 127.0.0.1::8000 "$image" >/dev/null
spare=$(docker port "$candidate" 8000/tcp | head -n 1 | sed 's/.*://')
if ! wait_ready "$spare" "$timeout" "$candidate"; then
  discard "$candidate"
  fail "the new version ($ref, ${commit:0:12}) exited or did not answer /healthz and /readyz within $timeout s" \
    "its last log lines are above; the running site was not touched"
fi
docker rm --force "$candidate" >/dev/null

# ---------------------------------------------------------------- 4. swap
old=""
if docker container inspect "$name" >/dev/null 2>&1; then
  old="$name-previous"
  docker rm --force "$old" >/dev/null 2>&1 || true
  docker rename "$name" "$old"
  msg "stopping the old version"
  docker stop "$old" >/dev/null
fi
msg "starting $image on $bind:$port"
if ! docker run --detach --name "$name" --restart unless-stopped "${RUN_FLAGS[@]}" \
  --publish "$bind:$port:8000" "$image" >/dev/null || ! wait_ready "$port" "$timeout" "$name"; then
  discard "$name"
  if [ -n "$old" ]; then
    docker rename "$old" "$name" && docker start "$name" >/dev/null
    fail "the new version did not start on port $port; the old one is back" "its log lines are above"
  fi
  fail "the new version did not start on port $port" "its log lines are above"
fi
[ -z "$old" ] || docker rm "$old" >/dev/null

# Older images of this site go; the one running and the one before it stay (newest first).
docker image ls --format '{{.Tag}}' "$name" | grep -v -x -F "${commit:0:12}" | tail -n +2 \
  | sed "s|^|$name:|" | xargs -r docker image rm >/dev/null 2>&1 || true

msg "deployed $ref (${commit:0:12})"
echo "http://${bind/0.0.0.0/localhost}:$port/"
