#!/usr/bin/env bash
# The tests' /usr/local/lib/cloudsite/manage.sh (tests/support/ssm_agent.py runs it in its
# place): hooks/manage.sh's contract (its inputs, exit statuses, output and run record) around
# fake_manage.py here instead of a container of the site's image.
#
# Reads: CLOUDSITE_MANAGE_ARGS, CLOUDSITE_MANAGE_RUN_ID, CLOUDSITE_MANAGE_PARAMETER,
# CLOUDSITE_MANAGE_TIMEOUT, CLOUDSITE_MANAGE_INTERACTIVE (the contract); CLOUDSITE_STACK,
# CLOUDSITE_INSTANCE_ID, CLOUDSITE_MANAGE_LOG_GROUP (the instance's env file on AWS); PYTHON
# (with boto3, pointed at moto), CLOUDSITE_TEST_DIR (fake_manage.py, and where the pid goes).
set -euo pipefail
run_id=${CLOUDSITE_MANAGE_RUN_ID:-}
[[ "$run_id" =~ ^[a-z0-9-]{1,64}$ ]] || { echo "error: '$run_id' is not a run id" >&2; exit 125; }
timeout=${CLOUDSITE_MANAGE_TIMEOUT:-3600}
mapfile -d '' ARGS < <("$PYTHON" -c '
import base64, json, shlex, sys
args = json.loads(base64.b64decode(sys.argv[1], validate=True))
sys.stdout.write("".join(a + "\0" for a in args) + shlex.join(args) + "\0")' "${CLOUDSITE_MANAGE_ARGS:-}")
command_line=${ARGS[-1]}
unset 'ARGS[-1]'
oneoff=""
if [ -n "${CLOUDSITE_MANAGE_PARAMETER:-}" ]; then
  [ "$CLOUDSITE_MANAGE_PARAMETER" = "/cloudsite/$CLOUDSITE_STACK/oneoff/$run_id" ] || exit 125
  oneoff=$("$PYTHON" -c 'import boto3, sys
print(boto3.client("ssm").get_parameter(Name=sys.argv[1], WithDecryption=True)["Parameter"]["Value"])' \
    "$CLOUDSITE_MANAGE_PARAMETER") || exit 125
fi
started=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
echo "==> cloudsite-run-$run_id: manage.py $command_line (terminal: ${CLOUDSITE_MANAGE_INTERACTIVE:-0})" >&2
echo $$ >"$CLOUDSITE_TEST_DIR/pid"
status=0
# `timeout` puts the command in a process group of its own, which a stop of this script's
# group (Run Command's cancel) does not reach: the trap passes the signal on, as manage.sh's
# cleanup removes its container.
timeout "$timeout" "$PYTHON" "$CLOUDSITE_TEST_DIR/fake_manage.py" "${ARGS[@]}" <<<"$oneoff" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; exit 143' TERM INT
wait "$child" || status=$?
echo "==> cloudsite-run-$run_id: exit $status" >&2
[ ! -e "$CLOUDSITE_TEST_DIR/no-record" ] || exit "$status"
"$PYTHON" -c 'import boto3, json, os, sys, time
record = {"run": sys.argv[1], "instance": os.environ["CLOUDSITE_INSTANCE_ID"], "command": sys.argv[2],
          "started": sys.argv[3], "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
          "exit": int(sys.argv[4])}
logs, group = boto3.client("logs"), os.environ["CLOUDSITE_MANAGE_LOG_GROUP"]
stream = "runs/" + record["instance"]
try:
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
except logs.exceptions.ResourceAlreadyExistsException:
    pass
event = {"timestamp": int(time.time() * 1000), "message": json.dumps(record)}
logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[event])' \
  "$run_id" "$command_line" "$started" "$status"
exit "$status"
