# shellcheck shell=bash
# The one helper file the CodeDeploy hooks source (deploy/docker-deploy.sh sources it too, for msg and
# fail). Sourcing defines functions and nothing else; it is never run on its own.
#
#   msg TEXT...             progress, on stderr (CodeDeploy keeps it in the deployment log)
#   fail WHAT [HINT]        "error: WHAT" and "hint: HINT" on stderr, then exit 1
#   load_instance_env       source the instance's env file (docs/interfaces.md, 4) + defaults
#   instance_defaults       the defaults alone, for a hook that runs without an env file
#   bundle_image_uri        the image of the revision being deployed (the bundle's image-uri)
#   registry_login URI      `docker login` to URI's registry with an ECR token
#   read_settings           the SSM parameters under CLOUDSITE_PARAMETER_PATH: only DJANGO_*
#                           and a few listed names pass; never exported, they go to SETTING
#                           (name -> value), SETTINGS (names) and a 0600 env file for docker
#   read_secrets            Secrets Manager -> SECRETS, "NAME=VALUE" records that go to the
#                           container through a pipe only (never argv, env of docker, a file or a log):
#                           DJANGO_SECRET_KEY, DJANGO_SECRET_KEY_FALLBACKS during a rotation,
#                           DATABASE_URL with a database
#   hardening_flags SECONDS RUN_FLAGS: the hardening flags alone, SECONDS for --stop-timeout
#   container_flags         RUN_FLAGS: the hardening, logging, network and settings flags
#   container_stop NAME     graceful stop and removal; nothing to do when NAME does not exist
#   wait_ready PORT TIMEOUT [CONTAINER]   true once /healthz and /readyz answer 200 on
#                           127.0.0.1:PORT; false after TIMEOUT seconds, or once CONTAINER
#                           (when given) is no longer running
#   site_credentials        the site role's short-lived credentials (media), in a folder the
#                           containers mount read-only; renewed when under 40 minutes are left
#   hand_secrets COMMAND    pipe SECRETS to the container's `start COMMAND` (`secrets` at start,
#                           `reload` while it runs), then remember their fingerprint
#   secrets_changed         true when SECRETS differ from what the container was last handed
#   lock_secrets            hold the instance's secrets lock until this script exits, so the
#                           timer never hands secrets to a container that is just starting
#   bundle_processes        PROCESS_RECORDS: the revision's [processes] (background.json)
#   start_processes IMAGE   their containers, CONTAINER-NAME-N, each handed the secrets
#   stop_processes          all of the instance's process containers, gracefully, at once
#   validate_processes      fail unless every process keeps running CLOUDSITE_PROCESS_SETTLE s
#   install_lib DIR         common.sh, refresh-secrets.sh and manage.sh into DIR (the timer's
#                           and `cloudsite manage`'s copy, from the release deployed last)
#   install_refresh_timer   install_lib, and the systemd timer that runs refresh-secrets.sh
#                           every 5 minutes
#
# Reads (from the environment, or the env file it loads):
#   CLOUDSITE_ENV_FILE          the env file (default /etc/cloudsite/env; tests point elsewhere)
#   AWS_REGION, CLOUDSITE_APP_PORT, CLOUDSITE_APP_LOG_GROUP, CLOUDSITE_PARAMETER_PATH,
#   CLOUDSITE_SECRET_KEY_ARN, CLOUDSITE_DATABASE_SECRET_ARN   what user data writes
#   CLOUDSITE_CONTAINER         optional: the container name (default cloudsite-web)
#   CLOUDSITE_LOG_DRIVER        optional: docker log driver (default awslogs; json-file locally)
#   CLOUDSITE_BIND_ADDRESS      optional: host address the port is published on (default: all)
#   CLOUDSITE_DOCKER_NETWORK    optional: docker network (default: the engine's bridge); `host`
#                               only with an env file other than /etc/cloudsite/env (tests)
#   CLOUDSITE_VALIDATE_TIMEOUT  optional: seconds ValidateService waits (default 120)
#   CLOUDSITE_STOP_TIMEOUT      optional: seconds a stop waits for in-flight requests (default 30)
#   CLOUDSITE_STATE_DIR         optional: where the secrets' fingerprints are kept (default
#                               /run/cloudsite, a tmpfs that a reboot empties)
#   CLOUDSITE_SYSTEMD_DIR, CLOUDSITE_LIB_DIR   optional: where the timer's units and its copy of
#                               the scripts go (defaults /etc/systemd/system, /usr/local/lib/cloudsite)
#   CLOUDSITE_SETTINGS_FILE     optional, `cloudsite local`: a JSON object {NAME: value} of
#                               settings, read instead of SSM
#   CLOUDSITE_SECRETS_FILE      optional, `cloudsite local`: a JSON object {NAME: value} of
#                               secrets (mode 0600), read instead of Secrets Manager
#   CLOUDSITE_MEDIA_BUCKET      the media bucket (empty: no media); with it, one of:
#   CLOUDSITE_SITE_ROLE_ARN       the role the containers' AWS calls use (assumed here, every
#                                 hour, with the instance's own credentials), or
#   CLOUDSITE_SITE_CREDENTIALS_FILE  `cloudsite local`: credentials in credential_process's
#                                 JSON form, copied as they are
#   CLOUDSITE_MEDIA_ENDPOINT_URL, CLOUDSITE_MEDIA_ADD_HOST   optional, `cloudsite local`: the S3
#                               stand-in's URL and the NAME:ADDRESS the containers reach it at

msg() { printf '==> %s\n' "$*" >&2; }
fail() {
  printf 'error: %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf 'hint: %s\n' "$2" >&2
  exit 1
}

load_instance_env() {
  local file=${CLOUDSITE_ENV_FILE:-/etc/cloudsite/env}
  [ -r "$file" ] || fail "$file: missing or unreadable" \
    "user data writes it before the CodeDeploy agent starts; see /var/log/cloud-init-output.log"
  # shellcheck source=/dev/null
  source "$file"
  instance_defaults
  local name
  local required=(AWS_REGION CLOUDSITE_APP_PORT CLOUDSITE_SECRET_KEY_ARN)
  [ -z "${CLOUDSITE_SECRETS_FILE:-}" ] || required=(CLOUDSITE_APP_PORT)  # `cloudsite local`
  for name in "${required[@]}"; do
    [ -n "${!name:-}" ] || fail "$file: $name is not set" "user data writes it; compare with docs/interfaces.md"
  done
  if [ -n "${AWS_REGION:-}" ]; then export AWS_REGION AWS_DEFAULT_REGION="$AWS_REGION"; fi
}

instance_defaults() {
  CLOUDSITE_CONTAINER=${CLOUDSITE_CONTAINER:-cloudsite-web}
  CLOUDSITE_LOG_DRIVER=${CLOUDSITE_LOG_DRIVER:-awslogs}
  CLOUDSITE_BIND_ADDRESS=${CLOUDSITE_BIND_ADDRESS:-}
  CLOUDSITE_DOCKER_NETWORK=${CLOUDSITE_DOCKER_NETWORK:-}
  CLOUDSITE_VALIDATE_TIMEOUT=${CLOUDSITE_VALIDATE_TIMEOUT:-120}
  CLOUDSITE_STOP_TIMEOUT=${CLOUDSITE_STOP_TIMEOUT:-30}
  CLOUDSITE_STATE_DIR=${CLOUDSITE_STATE_DIR:-/run/cloudsite}
}

bundle_image_uri() {
  local file uri
  file="$(dirname "${BASH_SOURCE[0]}")/../image-uri"
  [ -r "$file" ] || fail "image-uri: not in the deploy bundle" "the build writes it; see .cloudsite/runtime/build.py --bundle"
  uri=$(head -n 1 "$file")
  # By digest in a registry, or (`cloudsite local`) by the id of an image the engine holds:
  # either names exactly one content, which nothing can move.
  [[ "$uri" =~ ^[a-z0-9.:-]+/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$ || "$uri" =~ ^sha256:[0-9a-f]{64}$ ]] \
    || fail "image-uri: '$uri' is not an image by digest" "expected REGISTRY/REPOSITORY@sha256:DIGEST"
  echo "$uri"
}

registry_login() {
  local registry=${1%%/*}
  msg "registry: logging in to $registry"
  aws ecr get-login-password --region "$AWS_REGION" \
    | docker login --username AWS --password-stdin "$registry" >/dev/null \
    || fail "registry: login to $registry failed" "does the instance role allow ecr:GetAuthorizationToken?"
}

# Parses the JSON on stdin into NUL-separated records. Python 3 is on every Amazon Linux host
# (3.9 on AL2023: keep this free of newer syntax).
#
# A setting is handed to the container, never to the hooks (they run as root): only the names
# below pass, so a parameter written on the stack's path cannot reach docker, the dynamic
# loader, the shell or the AWS CLI (docs/security.md, finding 1).
_records() {
  python3 -c '
import json, os, re, sys, urllib.parse
SECRETS = ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FALLBACKS", "DATABASE_URL", "DATABASE_PASSWORD")
ALSO = ("DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SSLMODE",
        "WEB_CONCURRENCY", "GUNICORN_THREADS")
RESERVED = ("CLOUDSITE_", "AWS_", "DOCKER_", "LD_", "BASH_", "PYTHON")
def setting(where, name, value):
    def refuse(reason):
        sys.exit("error: %s: %s" % (where, reason))
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        refuse("%r is not a variable name" % name)
    if name in SECRETS:
        refuse("secrets belong in Secrets Manager")
    if name == "DJANGO_SETTINGS_MODULE":
        refuse("the image sets DJANGO_SETTINGS_MODULE; it cannot be changed")
    if name.startswith(RESERVED) or name in ("PATH", "IFS", "ENV", "SHELLOPTS") or name.endswith("_PROXY"):
        refuse("refused: %s would change how the hooks, docker or Python run" % name)
    if not (name.startswith("DJANGO_") or name in ALSO):
        refuse("not a setting the hooks hand over (only DJANGO_* and %s)" % ", ".join(ALSO))
    if re.search(r"[\0\r\n]", value):
        refuse("the value spans lines, which an env file cannot carry")
    return [name, value]
doc = json.load(sys.stdin)
out = []
if sys.argv[1] == "settings-file":  # cloudsite local: {NAME: value}
    for name, value in sorted(doc.items()):
        out += setting("settings file, " + name, name, str(value))
elif sys.argv[1] == "secrets-file":  # cloudsite local: {NAME: value}
    for name, value in sorted(doc.items()):
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            sys.exit("error: secrets file: %r is not a variable name" % name)
        out += [name, str(value)]
elif sys.argv[1] == "settings":
    for parameter in doc.get("Parameters", []):
        path = parameter["Name"]
        out += setting("SSM parameter " + path, path.rsplit("/", 1)[-1], parameter["Value"])
else:  # the RDS-managed secret holds username and password; the rest comes from the settings
    def quote(value):
        return urllib.parse.quote(str(value), safe="")
    env = os.environ
    out.append("DATABASE_URL=postgres://%s:%s@%s:%s/%s?sslmode=%s" % (
        quote(doc["username"]), quote(doc["password"]), env["DATABASE_HOST"],
        env.get("DATABASE_PORT") or "5432", quote(env.get("DATABASE_NAME") or "postgres"),
        env.get("DATABASE_SSLMODE") or "require"))
sys.stdout.write("".join(field + "\0" for field in out))
' "$1"
}

_settings_env_file() { printf '%s/%s.settings.env' "$CLOUDSITE_STATE_DIR" "$CLOUDSITE_CONTAINER"; }

# Keeps the settings in SETTING (name -> value, not exported: the hooks' own environment
# never changes) and writes them to the 0600 env file that container_flags hands docker.
_keep_settings() {
  local records=("$@") i file
  SETTINGS=()
  declare -gA SETTING=()
  file=$(_settings_env_file)
  (umask 077 && mkdir -p "$CLOUDSITE_STATE_DIR" && rm -f "$file" && : >"$file")
  for ((i = 0; i < ${#records[@]}; i += 2)); do
    SETTINGS+=("${records[i]}")
    SETTING[${records[i]}]=${records[i + 1]}
    printf '%s=%s\n' "${records[i]}" "${records[i + 1]}"
  done >>"$file"
}

read_settings() {
  local json records=() from=${CLOUDSITE_PARAMETER_PATH:-nowhere}
  if [ -n "${CLOUDSITE_SETTINGS_FILE:-}" ]; then  # `cloudsite local`: no SSM
    from=$CLOUDSITE_SETTINGS_FILE
    mapfile -d '' records < <(_records settings-file <"$CLOUDSITE_SETTINGS_FILE")
    wait $! || fail "$CLOUDSITE_SETTINGS_FILE: not a JSON object of settings the hooks accept (see above)"
  elif [ -n "${CLOUDSITE_PARAMETER_PATH:-}" ]; then
    json=$(aws ssm get-parameters-by-path --region "$AWS_REGION" --path "$CLOUDSITE_PARAMETER_PATH" \
      --with-decryption --output json) \
      || fail "SSM: cannot read $CLOUDSITE_PARAMETER_PATH" "does the instance role allow ssm:GetParametersByPath on it?"
    mapfile -d '' records < <(_records settings <<<"$json")
    wait $! || fail "SSM: the parameters under $CLOUDSITE_PARAMETER_PATH are not usable (see above)" \
      "rename or delete that parameter; docs/security.md lists the names the hooks accept"
  fi
  _keep_settings "${records[@]}"
  msg "settings: ${#SETTINGS[@]} from $from (${SETTINGS[*]})"
}

_secret_string() {
  aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" \
    --query SecretString --output text \
    || fail "Secrets Manager: cannot read $1" "does the instance role allow secretsmanager:GetSecretValue on it?"
}

# _secret_stage ARN STAGE: the value of the version that carries STAGE (AWSPENDING,
# AWSPREVIOUS), or nothing when no version does. Only the AWS CLI's error output goes to a
# temporary file, to tell "no such version" from a real failure; the value never does.
_secret_stage() {
  local value errors status=0
  errors=$(mktemp)
  value=$(aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" \
    --version-stage "$2" --query SecretString --output text 2>"$errors") || status=$?
  if [ "$status" != 0 ]; then
    if grep -q ResourceNotFoundException "$errors"; then
      value=""
    else
      cat "$errors" >&2
      rm -f "$errors"
      fail "Secrets Manager: cannot read the $2 version of $1" \
        "does the instance role allow secretsmanager:GetSecretValue on it?"
    fi
  fi
  rm -f "$errors"
  printf '%s' "$value"
}

# The Django key, and during a rotation (docs/deploy.md, "Rotating the secret key") the keys
# that still verify sessions and signatures: the new one waiting (AWSPENDING) and the one
# before (AWSPREVIOUS), as DJANGO_SECRET_KEY_FALLBACKS, a comma-separated list.
# The Valkey server's URL, with its auth token (Secrets Manager), over TLS (ElastiCache's
# in-transit encryption): REDIS_URL, and CELERY_BROKER_URL when it is the broker.
_redis_secrets() {
  [ -n "${CLOUDSITE_REDIS_SECRET_ARN:-}" ] || return 0
  [ -n "${CLOUDSITE_REDIS_ADDRESS:-}" ] || fail "Valkey: CLOUDSITE_REDIS_SECRET_ARN is set, and no CLOUDSITE_REDIS_ADDRESS" \
    "user data writes both; compare with docs/interfaces.md"
  local token url
  token=$(_secret_string "$CLOUDSITE_REDIS_SECRET_ARN")
  [[ "$token" =~ ^[A-Za-z0-9]{16,128}$ ]] || fail "Secrets Manager: $CLOUDSITE_REDIS_SECRET_ARN is not an auth token of 16-128 letters and digits"
  url="rediss://:$token@$CLOUDSITE_REDIS_ADDRESS/0?ssl_cert_reqs=required"
  SECRETS+=("REDIS_URL=$url")
  [ "${CLOUDSITE_BROKER:-}" != redis ] || SECRETS+=("CELERY_BROKER_URL=$url")
}

_secret_keys() {
  local key pending previous fallbacks=() value
  key=$(_secret_string "$CLOUDSITE_SECRET_KEY_ARN")
  [ -n "$key" ] || fail "Secrets Manager: $CLOUDSITE_SECRET_KEY_ARN holds an empty secret key"
  pending=$(_secret_stage "$CLOUDSITE_SECRET_KEY_ARN" AWSPENDING)
  previous=$(_secret_stage "$CLOUDSITE_SECRET_KEY_ARN" AWSPREVIOUS)
  for value in "$key" "$pending" "$previous"; do
    [[ "$value" != *,* ]] || fail "Secrets Manager: a version of $CLOUDSITE_SECRET_KEY_ARN contains a comma" \
      "DJANGO_SECRET_KEY_FALLBACKS is a comma-separated list: make keys without commas (docs/deploy.md)"
  done
  for value in "$pending" "$previous"; do
    if [ -n "$value" ] && [ "$value" != "$key" ]; then
      fallbacks+=("$value")
    fi
  done
  SECRETS+=("DJANGO_SECRET_KEY=$key")
  if [ "${#fallbacks[@]}" -gt 0 ]; then
    SECRETS+=("DJANGO_SECRET_KEY_FALLBACKS=$(IFS=,; printf '%s' "${fallbacks[*]}")")
  fi
  KEY_FALLBACKS=${#fallbacks[@]}
}

read_secrets() {
  SECRETS=()
  local database records=()
  if [ -n "${CLOUDSITE_SECRETS_FILE:-}" ]; then  # `cloudsite local`: no Secrets Manager
    mapfile -d '' records < <(_records secrets-file <"$CLOUDSITE_SECRETS_FILE")
    wait $! || fail "$CLOUDSITE_SECRETS_FILE: not a JSON object of secrets"
    local i
    for ((i = 0; i < ${#records[@]}; i += 2)); do SECRETS+=("${records[i]}=${records[i + 1]}"); done
    KEY_FALLBACKS=0
    msg "secrets: ${#SECRETS[@]} read from $CLOUDSITE_SECRETS_FILE (values never printed)"
    return 0
  fi
  _secret_keys
  if [ -n "${CLOUDSITE_DATABASE_SECRET_ARN:-}" ]; then
    [ -n "${SETTING[DATABASE_HOST]:-}" ] || fail "settings: DATABASE_HOST is not set" \
      "with a database, $CLOUDSITE_PARAMETER_PATH holds DATABASE_HOST, DATABASE_PORT and DATABASE_NAME"
    database=$(_secret_string "$CLOUDSITE_DATABASE_SECRET_ARN")
    mapfile -d '' records < <(DATABASE_HOST=${SETTING[DATABASE_HOST]} \
      DATABASE_PORT=${SETTING[DATABASE_PORT]:-} DATABASE_NAME=${SETTING[DATABASE_NAME]:-} \
      DATABASE_SSLMODE=${SETTING[DATABASE_SSLMODE]:-} _records database <<<"$database")
    wait $! || fail "Secrets Manager: $CLOUDSITE_DATABASE_SECRET_ARN has no username and password"
    SECRETS+=("${records[@]}")
  fi
  _redis_secrets
  msg "secrets: ${#SECRETS[@]} read from Secrets Manager, $KEY_FALLBACKS fallback key(s) (values never printed)"
}

hardening_flags() {
  RUN_FLAGS=(--read-only --tmpfs "/tmp:rw,noexec,nosuid,nodev,size=64m" --cap-drop ALL
    --security-opt no-new-privileges --stop-timeout "$1")
}

container_flags() {
  hardening_flags "$CLOUDSITE_STOP_TIMEOUT"
  if [ "$CLOUDSITE_LOG_DRIVER" = awslogs ]; then
    RUN_FLAGS+=(--log-driver awslogs --log-opt "awslogs-region=$AWS_REGION"
      --log-opt "awslogs-group=${CLOUDSITE_APP_LOG_GROUP:?CLOUDSITE_APP_LOG_GROUP is not set}"
      --log-opt "tag={{.Name}}/{{.ID}}")
  else
    RUN_FLAGS+=(--log-driver "$CLOUDSITE_LOG_DRIVER")
  fi
  if [ "$CLOUDSITE_DOCKER_NETWORK" = host ] && [ "${CLOUDSITE_ENV_FILE:-/etc/cloudsite/env}" = /etc/cloudsite/env ]; then
    fail "CLOUDSITE_DOCKER_NETWORK=host: refused on an instance" \
      "the site would share the instance's network; only a test or rehearsal env file may ask for it"
  fi
  [ -n "$CLOUDSITE_DOCKER_NETWORK" ] && RUN_FLAGS+=(--network "$CLOUDSITE_DOCKER_NETWORK")
  RUN_FLAGS+=(--env-file "$(_settings_env_file)")
  _media_flags
  _broker_flags
}

# The broker of the [processes]' tasks (docs/background.md), under the names projects read.
# SQS: no secret (the site role's credentials sign the calls); the settings layer gives kombu
# the queue by its URL. Valkey: its URL holds the auth token, so REDIS_URL (and, as the broker,
# CELERY_BROKER_URL) are secrets, handed over by read_secrets through the pipe.
_broker_flags() {
  [ -n "${CLOUDSITE_BROKER:-}${CLOUDSITE_REDIS_ADDRESS:-}" ] || return 0
  RUN_FLAGS+=(-e "CLOUDSITE_BROKER=${CLOUDSITE_BROKER:-}" -e "CLOUDSITE_TASK_TIMEOUT=${CLOUDSITE_TASK_TIMEOUT:-1800}")
  [ "${CLOUDSITE_BROKER:-}" = sqs ] || return 0
  [ -n "${CLOUDSITE_QUEUE_URL:-}" ] || fail "broker: CLOUDSITE_BROKER is sqs, and no CLOUDSITE_QUEUE_URL" \
    "user data writes both; compare with docs/interfaces.md"
  [ -n "${CLOUDSITE_MEDIA_BUCKET:-}" ] || _site_aws_flags  # the site role signs the queue's calls
  RUN_FLAGS+=(-e "CLOUDSITE_QUEUE_URL=$CLOUDSITE_QUEUE_URL"
    -e "CELERY_BROKER_URL=${CLOUDSITE_QUEUE_BROKER_URL:-sqs://}")
  [ -z "${CLOUDSITE_QUEUE_ADD_HOST:-}" ] || RUN_FLAGS+=(--add-host "$CLOUDSITE_QUEUE_ADD_HOST")
  [ -z "${CLOUDSITE_QUEUE_INSECURE:-}" ] || RUN_FLAGS+=(-e CLOUDSITE_QUEUE_INSECURE=1)  # local
}

# The site's own AWS calls (django-storages and boto3) use the site role, never the
# instance's: the metadata service's hop limit of 1 keeps the instance role away from the
# containers. botocore runs AWS_CONFIG_FILE's credential_process, which prints the file
# site_credentials keeps; its Expiration makes the credentials refreshable, so a long-running
# worker reads the renewed file before they expire, with no restart (docs/data.md).
_site_aws_flags() {
  site_credentials
  RUN_FLAGS+=(-v "$(_site_aws_dir):/run/cloudsite-aws:ro"
    -e AWS_CONFIG_FILE=/run/cloudsite-aws/config -e AWS_SHARED_CREDENTIALS_FILE=/dev/null
    -e AWS_EC2_METADATA_DISABLED=true -e "AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}")
}

_media_flags() {
  [ -n "${CLOUDSITE_MEDIA_BUCKET:-}" ] || return 0
  _site_aws_flags
  RUN_FLAGS+=(-e "AWS_STORAGE_BUCKET_NAME=$CLOUDSITE_MEDIA_BUCKET" -e "AWS_S3_REGION_NAME=${AWS_REGION:-us-east-1}")
  if [ -n "${CLOUDSITE_MEDIA_ENDPOINT_URL:-}" ]; then
    RUN_FLAGS+=(-e "AWS_S3_ENDPOINT_URL=$CLOUDSITE_MEDIA_ENDPOINT_URL" -e AWS_S3_ADDRESSING_STYLE=path)
  fi
  [ -z "${CLOUDSITE_MEDIA_ADD_HOST:-}" ] || RUN_FLAGS+=(--add-host "$CLOUDSITE_MEDIA_ADD_HOST")
}

_site_aws_dir() { printf '%s/%s.aws' "$CLOUDSITE_STATE_DIR" "$CLOUDSITE_CONTAINER"; }

# Writes credentials.json (credential_process's form: Version, AccessKeyId, SecretAccessKey,
# SessionToken, Expiration) and config into the folder the containers mount, owned by the
# containers' user (10001) and readable by it alone. Without root (a rehearsal on a laptop,
# rootless engines) the files cannot be given to 10001, so they are left readable. The values
# travel from the AWS CLI to the file through a pipe, never through a command line or a log.
site_credentials() {
  local dir file tmp
  dir=$(_site_aws_dir)
  file=$dir/credentials.json
  (umask 077 && mkdir -p "$dir")
  if [ -s "$file" ] && [ -n "${CLOUDSITE_SITE_ROLE_ARN:-}" ] && python3 -c '
import datetime, json, sys
left = datetime.datetime.fromisoformat(json.load(open(sys.argv[1]))["Expiration"].replace("Z", "+00:00"))
sys.exit(0 if left - datetime.datetime.now(datetime.timezone.utc) > datetime.timedelta(minutes=40) else 1)
' "$file" 2>/dev/null; then
    return 0  # still good for 40 minutes or more
  fi
  tmp=$(mktemp "$dir/.credentials.XXXXXX")
  if [ -n "${CLOUDSITE_SITE_ROLE_ARN:-}" ]; then
    aws sts assume-role --region "$AWS_REGION" --role-arn "$CLOUDSITE_SITE_ROLE_ARN" \
      --role-session-name "cloudsite-${CLOUDSITE_STACK:-site}" --duration-seconds 3600 \
      --query Credentials --output json \
      | python3 -c '
import json, sys
c = json.load(sys.stdin)
json.dump({"Version": 1, "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
           "SessionToken": c["SessionToken"], "Expiration": c["Expiration"]}, sys.stdout)
' >"$tmp" || { rm -f "$tmp"; fail "STS: cannot assume the site role $CLOUDSITE_SITE_ROLE_ARN" \
        "does the instance role allow sts:AssumeRole on it? (the stack's InstanceAssumesSiteRole)"; }
    msg "site role: credentials for media and the queue, valid for an hour"
  elif [ -n "${CLOUDSITE_SITE_CREDENTIALS_FILE:-}" ]; then
    cat "$CLOUDSITE_SITE_CREDENTIALS_FILE" >"$tmp"
    msg "site role: the stand-ins' credentials (cloudsite local)"
  else
    rm -f "$tmp"
    fail "site role: the site's own AWS calls (media, the queue) need CLOUDSITE_SITE_ROLE_ARN, and it is not set" "user data writes it with CLOUDSITE_MEDIA_BUCKET or CLOUDSITE_QUEUE_URL; compare with docs/interfaces.md"
  fi
  printf '[default]\ncredential_process = cat /run/cloudsite-aws/credentials.json\n' >"$dir/config"
  if [ "$(id -u)" = 0 ]; then
    chown 10001:10001 "$tmp" "$dir/config" "$dir" && chmod 0400 "$tmp" "$dir/config" && chmod 0500 "$dir"
  else
    chmod 0444 "$tmp" "$dir/config" && chmod 0755 "$dir"
  fi
  mv -f "$tmp" "$file"  # atomic: a reader sees the old file or the new one, never half
}

container_stop() {
  local name=$1
  docker info >/dev/null 2>&1 || fail "docker: the daemon does not answer" "systemctl status docker"
  if ! docker container inspect "$name" >/dev/null 2>&1; then
    msg "$name: no such container, nothing to stop"
    return 0
  fi
  msg "$name: stopping (in-flight requests get up to $CLOUDSITE_STOP_TIMEOUT s)"
  docker stop --time "$CLOUDSITE_STOP_TIMEOUT" "$name" >/dev/null
  docker rm "$name" >/dev/null
}

_probe() { curl --silent --fail --output /dev/null --max-time 3 "http://127.0.0.1:$1$2"; }

wait_ready() {
  local deadline=$((SECONDS + $2)) restarts=""
  [ -z "${3:-}" ] || restarts=$(docker container inspect --format '{{.RestartCount}}' "$3" 2>/dev/null)
  until _probe "$1" /healthz && _probe "$1" /readyz; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    if [ -n "${3:-}" ]; then
      # Gone, stopped, or restarted by the engine since the wait began (it crashed): failed.
      [ "$(docker container inspect --format '{{.State.Status}} {{.RestartCount}}' "$3" 2>/dev/null)" = "running $restarts" ] || return 1
    fi
    sleep 1
  done
}

# The fingerprint of SECRETS: a SHA-256 of the records, so a change is seen without keeping a
# value anywhere. The values are 40 to 64 random characters: the hash does not reveal them.
_secrets_fingerprint() { printf '%s\0' "${SECRETS[@]}" | sha256sum | cut -d ' ' -f 1; }
_fingerprint_file() { printf '%s/%s.secrets.sha256' "$CLOUDSITE_STATE_DIR" "${1:-$CLOUDSITE_CONTAINER}"; }

hand_secrets() {
  local container=${2:-$CLOUDSITE_CONTAINER}
  printf '%s\0' "${SECRETS[@]}" "" \
    | docker exec --interactive "$container" /opt/cloudsite/bin/start "$1" \
    || fail "$container: the secrets did not reach the container ($1)" \
      "docker logs $container"
  (umask 077 && _secrets_fingerprint >"$(_fingerprint_file "$container")")
}

lock_secrets() {
  (umask 077 && mkdir -p "$CLOUDSITE_STATE_DIR")
  exec 9>"$CLOUDSITE_STATE_DIR/secrets.lock"
  flock --wait 300 9 || fail "secrets: another hook or the timer holds $CLOUDSITE_STATE_DIR/secrets.lock" \
    "wait a minute and try again"
}

secrets_changed() {
  [ "$(cat "$(_fingerprint_file "${1:-}")" 2>/dev/null)" != "$(_secrets_fingerprint)" ]
}

# -- [processes]: containers beside the web, from the same image, flags, settings and secrets,
# named CONTAINER-NAME-N and labelled with the instance's web container, so that every hook
# finds them whichever bundle it runs from.
_background_file() { printf '%s/../background.json' "$(dirname "${BASH_SOURCE[0]}")"; }

# PROCESS_RECORDS: NUL-separated NAME, COUNT, the command's words, then an empty record, for
# each process of the revision being deployed. None for a bundle that has no background.json.
bundle_processes() {
  local file
  file=$(_background_file)
  PROCESS_RECORDS=()
  [ -r "$file" ] || return 0
  mapfile -d '' PROCESS_RECORDS < <(python3 -c '
import json, re, sys
out = []
for p in json.load(open(sys.argv[1])).get("processes", []):
    name, count, words = p.get("name", ""), p.get("count"), p.get("words") or []
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", str(name)) or count not in range(1, 17):
        sys.exit("error: background.json: process %r is not one cloudsite writes" % name)
    if not words or not all(isinstance(w, str) and w and "\0" not in w for w in words):
        sys.exit("error: background.json: process %s has no usable command" % name)
    out += [name, str(count)] + words + [""]
sys.stdout.write("".join(f + "\0" for f in out))
' "$file")
  wait $! || fail "$file: not usable (see above)" "the build writes it; rebuild the release"
}

# Calls `$1 CONTAINER NAME WORDS...` for each container the processes ask for.
_each_process() {
  local i=0 name count n words
  while [ "$i" -lt "${#PROCESS_RECORDS[@]}" ]; do
    name=${PROCESS_RECORDS[i]} count=${PROCESS_RECORDS[i + 1]} words=()
    i=$((i + 2))
    while [ -n "${PROCESS_RECORDS[i]}" ]; do words+=("${PROCESS_RECORDS[i]}"); i=$((i + 1)); done
    i=$((i + 1))
    for n in $(seq 1 "$count"); do "$1" "$CLOUDSITE_CONTAINER-$name-$n" "$name" "${words[@]}"; done
  done
}

_start_process() {
  local container=$1 name=$2
  shift 2
  docker rm --force "$container" >/dev/null 2>&1 || true
  msg "$container: starting $*"
  docker run --detach --name "$container" --restart unless-stopped "${RUN_FLAGS[@]}" \
    --no-healthcheck -e CLOUDSITE_SECRETS=pipe -e CLOUDSITE_SECRETS_WAIT=600 -e "CLOUDSITE_PROCESS=$name" \
    --label "cloudsite.instance=$CLOUDSITE_CONTAINER" --label "cloudsite.process=$name" \
    --label "cloudsite.deployment-id=${DEPLOYMENT_ID:-}" "$PROCESS_IMAGE" process "$@" >/dev/null \
    || fail "$container: docker run failed" "the log above has the reason"
  hand_secrets secrets "$container"
}

start_processes() {
  PROCESS_IMAGE=$1
  _each_process _start_process
}

process_containers() {
  docker ps --all --filter "label=cloudsite.instance=$CLOUDSITE_CONTAINER" \
    --filter label=cloudsite.process --format '{{.Names}}'
}

# All at once: each worker gets SIGTERM (Celery's warm shutdown: no new task, the one in hand
# is finished and acknowledged) and CLOUDSITE_STOP_TIMEOUT seconds before it is killed; a task
# killed half-way is not acknowledged, so the broker delivers it again (docs/background.md).
stop_processes() {
  local names=()
  mapfile -t names < <(process_containers)
  [ "${#names[@]}" -gt 0 ] || return 0
  msg "processes: stopping ${names[*]} (each finishes its task within $CLOUDSITE_STOP_TIMEOUT s)"
  docker stop --time "$CLOUDSITE_STOP_TIMEOUT" "${names[@]}" >/dev/null
  docker rm "${names[@]}" >/dev/null
}

_process_state() {
  docker container inspect --format '{{.State.Status}} {{.RestartCount}}' "$1" 2>/dev/null || echo missing
}

_check_process() {
  local state
  state=$(_process_state "$1")
  [ "$state" = "running 0" ] && return 0
  msg "$1: ${state%% *}, restarted ${state##* } times"
  docker logs --tail 30 "$1" >&2 2>&1 || true
  fail "$1: the process did not keep running (${state%% *}, restarted ${state##* } times)" \
    "its last log lines are above; CodeDeploy rolls back to the last good revision"
}

# ValidateService: every process runs, and has not crashed, over CLOUDSITE_PROCESS_SETTLE
# seconds (default 10): a worker that cannot import its app or reach its broker fails here.
validate_processes() {
  local settle=${CLOUDSITE_PROCESS_SETTLE:-10} t
  [ "${#PROCESS_RECORDS[@]}" -gt 0 ] || return 0
  for t in $(seq 0 "$settle"); do
    _each_process _check_process
    [ "$t" = "$settle" ] || sleep 1
  done
  msg "processes: running for ${settle} s without a restart"
}

# The scripts that run between deployments, from the release now deployed: the secrets timer's
# and manage.sh, which Run Command and Session Manager run (the stack's Manage documents).
install_lib() {
  local here
  here=$(dirname "${BASH_SOURCE[0]}")
  install -d -m 0755 "$1"
  install -m 0644 "$here/common.sh" "$1/common.sh"
  install -m 0755 "$here/refresh-secrets.sh" "$1/refresh-secrets.sh"
  install -m 0755 "$here/manage.sh" "$1/manage.sh"
}

# Secrets change while the site runs: RDS rotates the database password (every 7 days by
# default), an operator rotates the Django key. The timer hands the new ones over within
# minutes, so nobody has to redeploy (docs/deploy.md, "Secrets that change").
install_refresh_timer() {
  local units=${CLOUDSITE_SYSTEMD_DIR:-/etc/systemd/system} lib=${CLOUDSITE_LIB_DIR:-/usr/local/lib/cloudsite}
  install_lib "$lib"
  if [ -z "${CLOUDSITE_SYSTEMD_DIR:-}" ] && [ ! -d /run/systemd/system ]; then
    msg "no systemd here: secrets are refreshed only by a deployment"
    return 0
  fi
  install -d -m 0755 "$units"
  cat >"$units/cloudsite-secrets.service" <<UNIT
[Unit]
Description=cloudsite: hand changed secrets to the running site
After=docker.service

[Service]
Type=oneshot
ExecStart=$lib/refresh-secrets.sh
UNIT
  cat >"$units/cloudsite-secrets.timer" <<'UNIT'
[Unit]
Description=cloudsite: look for changed secrets every 5 minutes

[Timer]
OnBootSec=2min
OnActiveSec=5min
OnUnitActiveSec=5min
RandomizedDelaySec=60

[Install]
WantedBy=timers.target
UNIT
  if [ -z "${CLOUDSITE_SYSTEMD_DIR:-}" ]; then
    systemctl daemon-reload
    systemctl enable --now cloudsite-secrets.timer >/dev/null 2>&1 \
      || fail "systemd: cannot start cloudsite-secrets.timer" "systemctl status cloudsite-secrets.timer"
  fi
  msg "secrets: the timer hands changed ones to the site every 5 minutes"
}
