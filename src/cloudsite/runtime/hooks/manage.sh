#!/usr/bin/env bash
# cloudsite manage: one Django management command on this instance, in a new container from the
# release the site serves here, with the web container's settings and secrets (docs/operating.md).
# Run Command runs it through the stack's ManageDocument, Session Manager through
# ManageSessionDocument (interactive), `cloudsite local manage` from the instance's own copy:
# the same script on every path. The web container is not touched.
#
# Reads (from the environment):
#   CLOUDSITE_MANAGE_ARGS         base64 of a JSON array of strings: manage.py's arguments
#   CLOUDSITE_MANAGE_RUN_ID       the run's id (r-YYYYMMDDtHHMMSS-XXXXXXXX): the container is
#                                 cloudsite-run-<id>
#   CLOUDSITE_MANAGE_PARAMETER    optional: the SecureString parameter /cloudsite/STACK/oneoff/<id>,
#                                 a JSON object of DJANGO_SUPERUSER_* values, handed to the
#                                 container with the other secrets through the pipe
#   CLOUDSITE_MANAGE_SECRETS_FILE optional, `cloudsite local`: the same object in a 0600 file
#   CLOUDSITE_MANAGE_TIMEOUT      seconds before the container is removed (default 3600)
#   CLOUDSITE_SCHEDULE_NAME, CLOUDSITE_SCHEDULE_AT   optional: a [schedule] entry's run for the
#                                 time it was scheduled for; the arguments are then its command,
#                                 run through manage.py cloudsite_scheduled (once per time)
#   CLOUDSITE_MANAGE_INTERACTIVE  1: with a terminal (docker run -it); the secrets then go
#                                 through `start secrets`, as a web container's do
#   CLOUDSITE_ENV_FILE            the instance's env file, as every hook: on AWS it also holds
#                                 CLOUDSITE_MANAGE_LOG_GROUP and CLOUDSITE_INSTANCE_ID
# Exit status: the command's own; 124 when it timed out; 125 when this script could not run it.
# stdout is the command's; stderr is the command's and this script's `==>` lines. At the end one
# JSON line records the run: in CLOUDSITE_MANAGE_LOG_GROUP's stream runs/INSTANCE on AWS,
# in $CLOUDSITE_STATE_DIR/runs.jsonl elsewhere (`cloudsite status` lists them).
set -euo pipefail
# shellcheck source=src/cloudsite/runtime/hooks/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Every failure of this script, common.sh's too, is 125: a command's own status stays its own.
fail() {
  printf 'error: %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf 'hint: %s\n' "$2" >&2
  exit 125
}

run_id=${CLOUDSITE_MANAGE_RUN_ID:-}
[[ "$run_id" =~ ^[a-z0-9-]{1,64}$ ]] || fail "CLOUDSITE_MANAGE_RUN_ID: '$run_id' is not a run id" \
  "cloudsite manage makes one: r-YYYYMMDDtHHMMSS-XXXXXXXX"
timeout=${CLOUDSITE_MANAGE_TIMEOUT:-3600}
[[ "$timeout" =~ ^[1-9][0-9]{0,5}$ ]] || fail "CLOUDSITE_MANAGE_TIMEOUT: '$timeout' is not a number of seconds"

# The arguments: NUL-separated on stdout, then the command as one line for the record.
mapfile -d '' ARGS < <(python3 -c '
import base64, binascii, json, shlex, sys
try:
    args = json.loads(base64.b64decode(sys.argv[1], validate=True))
except (binascii.Error, ValueError):
    sys.exit("error: CLOUDSITE_MANAGE_ARGS: not base64 of a JSON array")
if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
    sys.exit("error: CLOUDSITE_MANAGE_ARGS: not a non-empty JSON array of strings")
if any("\0" in a for a in args):
    sys.exit("error: CLOUDSITE_MANAGE_ARGS: an argument holds a NUL character")
sys.stdout.write("".join(a + "\0" for a in args) + shlex.join(args) + "\0")
' "${CLOUDSITE_MANAGE_ARGS:-}")
wait $! || fail "the command to run did not arrive whole (see above)" "cloudsite manage encodes it"
command_line=${ARGS[-1]}
unset 'ARGS[-1]'

# A [schedule] run (the stack's ScheduleDocument, `cloudsite local`'s scheduler): the command
# goes through manage.py cloudsite_scheduled, which lets one instance run it for its time.
if [ -n "${CLOUDSITE_SCHEDULE_NAME:-}" ]; then
  [[ "$CLOUDSITE_SCHEDULE_NAME" =~ ^[A-Za-z_][A-Za-z0-9_]{0,31}$ ]] \
    || fail "CLOUDSITE_SCHEDULE_NAME: '$CLOUDSITE_SCHEDULE_NAME' is not a schedule's name"
  [[ "${CLOUDSITE_SCHEDULE_AT:-}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$ ]] \
    || fail "CLOUDSITE_SCHEDULE_AT: '${CLOUDSITE_SCHEDULE_AT:-}' is not a UTC time (YYYY-MM-DDTHH:MM:SSZ)"
  ARGS=(cloudsite_scheduled --name "$CLOUDSITE_SCHEDULE_NAME" --at "$CLOUDSITE_SCHEDULE_AT" \
    --timeout "$timeout" -- "${ARGS[@]}")
  command_line="[schedule] $CLOUDSITE_SCHEDULE_NAME at $CLOUDSITE_SCHEDULE_AT: $command_line"
fi

load_instance_env
web=$CLOUDSITE_CONTAINER
state=$(docker container inspect --format '{{.State.Status}} {{.Image}}' "$web" 2>/dev/null) || state=""
[[ "$state" == running\ * ]] || fail "no site runs on this instance ($web: ${state%% *}${state:+, not running}${state:-no such container})" \
  "cloudsite status shows the healthy instances; cloudsite manage picks one of them"
image=${state#running }
name="cloudsite-run-$run_id"
started=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)

# The one-off's own files (its settings env file, the site role's credentials) are named after
# it, beside the web container's, and go when it does.
CLOUDSITE_CONTAINER=$name
# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
  docker rm --force "$name" >/dev/null 2>&1 || true
  rm -rf "$(_settings_env_file)" "$(_site_aws_dir)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read_settings
read_secrets
# createsuperuser's DJANGO_SUPERUSER_* values: from the one-off parameter (or, locally, its file)
# into SECRETS, so they reach the container through the pipe, like the secret key.
oneoff=""
if [ -n "${CLOUDSITE_MANAGE_PARAMETER:-}" ]; then
  [ "$CLOUDSITE_MANAGE_PARAMETER" = "/cloudsite/${CLOUDSITE_STACK:-}/oneoff/$run_id" ] \
    || fail "CLOUDSITE_MANAGE_PARAMETER: not this run's parameter (/cloudsite/${CLOUDSITE_STACK:-STACK}/oneoff/$run_id)"
  oneoff=$(aws ssm get-parameter --region "$AWS_REGION" --name "$CLOUDSITE_MANAGE_PARAMETER" \
    --with-decryption --query Parameter.Value --output text) \
    || fail "SSM: cannot read $CLOUDSITE_MANAGE_PARAMETER" "cloudsite manage writes it just before the command; does the instance role read /cloudsite/STACK/*?"
elif [ -n "${CLOUDSITE_MANAGE_SECRETS_FILE:-}" ]; then
  oneoff=$(cat "$CLOUDSITE_MANAGE_SECRETS_FILE") || fail "$CLOUDSITE_MANAGE_SECRETS_FILE: unreadable"
fi
if [ -n "$oneoff" ]; then
  mapfile -d '' records < <(python3 -c '
import json, re, sys
doc = json.loads(sys.stdin.read())
if not isinstance(doc, dict):
    sys.exit("error: the one-off values are not a JSON object")
for name, value in sorted(doc.items()):
    if not re.fullmatch(r"DJANGO_SUPERUSER_[A-Z0-9_]+", name) or "\0" in str(value):
        sys.exit("error: the one-off values hold %r: only DJANGO_SUPERUSER_* pass" % name)
    sys.stdout.write("%s=%s\0" % (name, value))
' <<<"$oneoff")
  wait $! || fail "the one-off values are not usable (see above)"
  SECRETS+=("${records[@]}")
  msg "one-off values: ${#records[@]} (values never printed)"
fi
container_flags
instance=${CLOUDSITE_INSTANCE_ID:-$(cat /var/lib/cloud/data/instance-id 2>/dev/null || hostname)}
RUN_FLAGS+=(-e "CLOUDSITE_INSTANCE_ID=$instance")

status=0
msg "$name: manage.py $command_line (release ${image:0:19}, timeout ${timeout} s)"
if [ "${CLOUDSITE_MANAGE_INTERACTIVE:-}" = 1 ]; then
  # The terminal is the container's stdin, so the secrets take the web container's path: the
  # container waits on its pipe, and `start secrets` fills it once the container runs.
  (
    for _ in $(seq 1 300); do
      [ "$(docker container inspect --format '{{.State.Status}}' "$name" 2>/dev/null)" = running ] && break
      sleep 0.2
    done
    printf '%s\0' "${SECRETS[@]}" "" \
      | docker exec --interactive "$name" /opt/cloudsite/bin/start secrets >/dev/null 2>&1 \
      || msg "$name: the secrets did not reach the container"
  ) &
  timeout --foreground "$timeout" docker run --interactive --tty --name "$name" "${RUN_FLAGS[@]}" \
    -e CLOUDSITE_SECRETS=pipe -e CLOUDSITE_SECRETS_WAIT=60 "$image" manage "${ARGS[@]}" || status=$?
  wait || true
else
  # The records come first on stdin (CLOUDSITE_SECRETS=stdin); the command then reads an end of
  # file, as a command run without a terminal should.
  printf '%s\0' "${SECRETS[@]}" "" \
    | timeout "$timeout" docker run --interactive --name "$name" "${RUN_FLAGS[@]}" \
      -e CLOUDSITE_SECRETS=stdin "$image" manage "${ARGS[@]}" \
    || status=$?
fi
[ "$status" != 124 ] || msg "$name: stopped after $timeout s (CLOUDSITE_MANAGE_TIMEOUT)"
msg "$name: exit $status"

# The record of the run: what ran, where, when and how it ended (never a value).
record=$(python3 -c 'import json, sys
print(json.dumps({"run": sys.argv[1], "instance": sys.argv[2], "command": sys.argv[3],
                  "started": sys.argv[4], "ended": sys.argv[5], "exit": int(sys.argv[6])}))' \
  "$run_id" "$instance" "$command_line" "$started" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$status")
if [ -n "${CLOUDSITE_MANAGE_LOG_GROUP:-}" ]; then
  stream="runs/$instance"
  aws logs create-log-stream --region "$AWS_REGION" --log-group-name "$CLOUDSITE_MANAGE_LOG_GROUP" \
    --log-stream-name "$stream" >/dev/null 2>&1 || true
  events=$(python3 -c 'import json, sys, time
print(json.dumps([{"timestamp": int(time.time() * 1000), "message": sys.argv[1]}]))' "$record")
  aws logs put-log-events --region "$AWS_REGION" --log-group-name "$CLOUDSITE_MANAGE_LOG_GROUP" \
    --log-stream-name "$stream" --log-events "$events" >/dev/null \
    || msg "the run's record did not reach $CLOUDSITE_MANAGE_LOG_GROUP"
else
  (umask 077 && mkdir -p "$CLOUDSITE_STATE_DIR" && printf '%s\n' "$record" >>"$CLOUDSITE_STATE_DIR/runs.jsonl")
fi
exit "$status"
