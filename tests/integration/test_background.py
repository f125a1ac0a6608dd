"""Background work under `cloudsite local` (issue 24, docs/background.md), with real servers:
moto's SQS server and Debian's Valkey as the brokers, PostgreSQL, two instances behind HAProxy.

    cookiecutter-django   the corpus project's own Celery app, Redis (Valkey) as its broker,
                          result backend and cache: a task enqueued through a web request runs
                          in a worker container, and its result is read back through the site
    a Celery project      the tests' own (tests/support/corpus.py), on SQS: 200 tasks enqueued
                          while `local deploy` replaces every worker each run exactly once; a
                          [schedule] entry runs once per time on one of the two instances, by
                          the scheduler and by `local schedule run`; a release whose worker
                          cannot start is rolled back, and the old workers keep working
"""

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.integration.test_local import Rehearsal
from tests.support.corpus import celery_project, uv_lock_in, vendored
from tests.support.edges import available
from tests.support.engine import Engine, python_env
from tests.support.run_command import run_command_on

pytestmark = [pytest.mark.engine, pytest.mark.network]

TICK = "manage.py shell -c \"from tally.models import Ran; Ran.objects.create(key='tick')\""
SQS_CONFIG = f"""\
name = "cstasks"
database = true
task_timeout_seconds = 30

[processes]
worker = {{ command = "celery -A mysite.celery_app worker --loglevel=INFO --concurrency=2" }}

[schedule]
tick = {{ cron = "* * * * *", command = '''{TICK}''' }}
"""
BROKEN_WORKER = "celery -A mysite.no_such_module worker --loglevel=INFO"


def _request(site: Rehearsal, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(site.url.rstrip("/") + path, timeout=30, context=site.tls) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error).encode()


def _counts(site: Rehearsal) -> dict[str, int]:
    status, body = _request(site, "/counts/")
    assert status == 200, body[:500]
    return {k: int(v) for k, v in json.loads(body).items()}


def _shell(site: Rehearsal, code: str) -> str:
    """Python in `manage.py shell` on the site, the user's way (`cloudsite local manage`)."""
    result = site.cli("local", "manage", "shell", "-c", code, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _up(site: Rehearsal) -> Iterator[Rehearsal]:
    """`local up` the site for a module's tests; `local down --delete-data` after them, and
    after a failed `local up` too: nothing of it is left for the next run."""
    try:
        result = site.cli("local", "up", "--edge", "haproxy")
        assert result.returncode == 0, result.stderr[-4000:]
        site.url = result.stdout.strip()
        yield site
    finally:
        if (site.root / ".cloudsite" / "local").exists():
            site.cli("local", "down", "--delete-data", "--yes")


@pytest.fixture(scope="module")
def tasks_site(
    engine: Engine, build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rehearsal]:
    require(available("haproxy"), "HAProxy (Debian's haproxy)")
    root = celery_project(tmp_path_factory.mktemp("tasks") / "tasks")
    (root / "cloudsite.toml").write_text(SQS_CONFIG)
    site = Rehearsal("cstasks", root, engine.script_env(**build_env), "/admin/login/", "")
    yield from _up(site)


def test_local_up_runs_a_worker_beside_each_instance_on_sqs(tasks_site: Rehearsal) -> None:
    assert tasks_site.state["broker"] == "sqs"
    status = tasks_site.cli("local", "status")
    assert status.returncode == 0, status.stderr
    for instance in ("i1", "i2"):
        assert re.search(rf"^{instance}/worker-1\s+running$", status.stdout, re.M), status.stdout
    logs = tasks_site.cli("local", "logs", "--tail", "200").stdout
    assert re.search(r"^i1/worker-1 .*Connected to sqs://", logs, re.M), logs[-2000:]


def test_a_task_enqueued_through_the_site_runs_once_in_a_worker(tasks_site: Rehearsal) -> None:
    status, body = _request(tasks_site, "/enqueue/first/")
    assert status == 200, body[:500]
    deadline = time.monotonic() + 60
    while _counts(tasks_site).get("first", 0) == 0 and time.monotonic() < deadline:
        time.sleep(1)
    assert _counts(tasks_site).get("first") == 1
    workers = _shell(
        tasks_site,
        "from tally.models import Ran; print(Ran.objects.get(key='first').worker)",
    )
    # it ran in a worker container (its hostname is a container id), not in the web's
    assert re.fullmatch(r"[0-9a-f]{12}", workers), workers


def test_200_tasks_enqueued_during_a_deploy_each_run_exactly_once(
    tasks_site: Rehearsal, figures: list[str]
) -> None:
    keys = [f"d{n:03d}" for n in range(200)]
    failed: list[str] = []

    def enqueue() -> None:
        for key in keys:  # spread over the whole rollout: one every 0.2 s
            status, _ = _request(tasks_site, f"/enqueue/{key}/?seconds=0.3")
            if status != 200:
                failed.append(f"{key}: {status}")
            time.sleep(0.2)

    (tasks_site.root / "release.txt").write_text("v2\n")  # a new release
    sender = threading.Thread(target=enqueue)
    sender.start()
    started = time.monotonic()
    deploy = tasks_site.cli("local", "deploy")
    sender.join()
    assert deploy.returncode == 0, deploy.stderr[-3000:]
    assert failed == []
    deadline = time.monotonic() + 240  # a prefetched, unstarted task waits out its visibility
    counts = _counts(tasks_site)
    while any(k not in counts for k in keys) and time.monotonic() < deadline:
        time.sleep(2)
        counts = _counts(tasks_site)
    figures.append(
        f"200 tasks during local deploy: all ran {time.monotonic() - started:.0f} s after it began"
    )
    assert {k: counts.get(k, 0) for k in keys} == dict.fromkeys(keys, 1)
    # and nothing waits in the queue to run a second time
    from cloudsite.local.broker import sqs_client

    client = sqs_client(tasks_site.state["sqs_port"])
    url = client.get_queue_url(QueueName="celery")["QueueUrl"]
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert attributes["VisibilityTimeout"] == "90"  # task_timeout_seconds + the stop grace
    time.sleep(5)
    assert {k: v for k, v in _counts(tasks_site).items() if k in keys} == dict.fromkeys(keys, 1)


def test_a_scheduled_command_runs_once_on_one_instance_not_once_per_instance(
    tasks_site: Rehearsal,
) -> None:
    before = _counts(tasks_site).get("tick", 0)
    # Away from the minute, when the scheduler sends `tick` itself: a run of it that is still
    # going makes this one "skipped" (on purpose: it is never started twice).
    while not 10 <= time.gmtime().tm_sec <= 40:
        time.sleep(1)
    result = tasks_site.cli("local", "schedule", "run", "tick")
    assert result.returncode == 0, result.stderr[-3000:]
    ran = re.search(r"tick at (\S+): ran on (i[12]), exit 0", result.stderr)
    assert ran, result.stderr[-2000:]
    other = {"i1": "i2", "i2": "i1"}[ran.group(2)]
    assert f"{other}: elsewhere" in result.stderr
    # The scheduler has sent `tick` every minute since `local up` (to both instances)
    log_file = tasks_site.root / ".cloudsite" / "local" / "scheduler.log"
    pattern = r"tick at (\S+): ran on (i[12]), exit 0 \((i[12]): elsewhere\)"
    deadline = time.monotonic() + 75  # its first minute may not have come yet
    while not re.search(pattern, log_file.read_text()) and time.monotonic() < deadline:
        time.sleep(2)
    log = log_file.read_text()
    sent = re.findall(pattern, log)
    assert sent, log[-2000:]
    rows = json.loads(
        _shell(
            tasks_site,
            "import json; from cloudsite.runtime.deployments.models import ScheduledRun as R; "
            "print(json.dumps(list(R.objects.filter(name='tick', status='ok')"
            ".values_list('scheduled_at', 'instance'))))",
        )
    )
    times = [at for at, _ in rows]
    assert len(times) == len(set(times))  # one run per scheduled time
    assert ran.group(1) in times
    assert {at for at, *_ in sent} <= set(times)
    # each run made exactly one row: none ran on both instances
    assert _counts(tasks_site).get("tick", 0) == len(times) >= before + 1


def test_on_aws_a_scheduled_run_reaches_every_instance_and_runs_on_one(
    tasks_site: Rehearsal, tmp_path: Path
) -> None:
    """AWS's path (tests/support/run_command.py): `cloudsite up` against moto puts `tick` in
    the stack's schedule group; what EventBridge Scheduler sends at a time (the schedule's
    target Input, its <aws.scheduler.scheduled-time> filled in) goes to SendCommand as is; the
    agent's stand-in runs the stack's ScheduleDocument on each instance of the group with the
    rehearsal instance's own manage.sh, on the real database: one runs it, the others do not."""
    at = "2026-12-08T05:00:00Z"
    before = _counts(tasks_site).get("tick", 0)
    instance = tasks_site.root / ".cloudsite" / "local" / "instances" / "i1"
    with run_command_on(tasks_site.root, instance, env=tasks_site.env, workdir=tmp_path) as aws:
        [stack] = aws.client("cloudformation").describe_stacks()["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        scheduler = aws.client("scheduler")
        schedule = scheduler.get_schedule(Name="tick", GroupName=outputs["ScheduleGroupName"])
        assert schedule["ScheduleExpression"] == "cron(* * * * ? *)"
        text = schedule["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", at)
        ssm = aws.client("ssm")
        while not 10 <= time.gmtime().tm_sec <= 30:  # away from the local scheduler's `tick`
            time.sleep(1)
        command = ssm.send_command(**json.loads(text))["Command"]
        # moto has no ListCommandInvocations: the command names the instances its targets
        # matched, and each one's invocation is read as `cloudsite manage` reads it
        instances = command["InstanceIds"]
        deadline = time.monotonic() + 180
        while True:
            outputs_by_instance = {
                instance_id: ssm.get_command_invocation(
                    CommandId=command["CommandId"], InstanceId=instance_id
                )
                for instance_id in instances
            }
            statuses = [o["Status"] for o in outputs_by_instance.values()]
            if "InProgress" not in statuses or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert len(outputs_by_instance) >= 2, command  # every instance of the group
    assert {o["Status"] for o in outputs_by_instance.values()} == {"Success"}
    said = {
        instance_id: o["StandardOutputContent"] for instance_id, o in outputs_by_instance.items()
    }
    ran = [i for i, text in said.items() if '"outcome": "ok"' in text]
    elsewhere = [i for i, text in said.items() if '"outcome": "elsewhere"' in text]
    assert len(ran) == 1 and sorted(ran + elsewhere) == sorted(said), said
    rows = json.loads(
        _shell(
            tasks_site,
            "import json; from cloudsite.runtime.deployments.models import ScheduledRun as R; "
            f"print(json.dumps(list(R.objects.filter(name='tick', scheduled_at={at!r})"
            ".values_list('instance', 'status'))))",
        )
    )
    # one row for that time; the instance it names is the one whose run said "ok" (here the
    # rehearsal instance's env file names it i1 for both: one folder plays every instance)
    [(instance_name, status)] = rows
    assert status == "ok"
    assert f'"instance": "{instance_name}"' in said[ran[0]]
    assert _counts(tasks_site).get("tick", 0) >= before + 1


def test_a_release_whose_worker_cannot_start_is_rolled_back(tasks_site: Rehearsal) -> None:
    config = tasks_site.root / "cloudsite.toml"
    good = config.read_text()
    config.write_text(good.replace("celery -A mysite.celery_app worker", BROKEN_WORKER, 1))
    try:
        deploy = tasks_site.cli("local", "deploy")
    finally:
        config.write_text(good)
    assert deploy.returncode != 0
    assert "ValidateService failed; rolled back to the last good release" in deploy.stderr
    assert "the process did not keep running" in deploy.stderr + deploy.stdout
    status = tasks_site.cli("local", "status").stdout
    for instance in ("i1", "i2"):
        assert re.search(rf"^{instance}/worker-1\s+running$", status, re.M), status
    assert _request(tasks_site, "/enqueue/after-rollback/")[0] == 200
    deadline = time.monotonic() + 60
    while "after-rollback" not in _counts(tasks_site) and time.monotonic() < deadline:
        time.sleep(1)
    assert _counts(tasks_site).get("after-rollback") == 1


# ---------------------------------------------------------------------------- cookiecutter
ENQUEUE_VIEWS = """\
from celery.result import AsyncResult
from django.http import JsonResponse
from django.urls import path

from my_site.users.tasks import get_users_count


def enqueue(request):
    return JsonResponse({"id": get_users_count.delay().id})


def result(request, task_id):
    return JsonResponse({"result": AsyncResult(task_id).get(timeout=30)})


urlpatterns = [
    path("cstest/enqueue/", enqueue),
    path("cstest/result/<str:task_id>/", result),
]
"""
COOKIECUTTER_CONFIG = """\
name = "ccworker"
database = true
environment = ["DJANGO_ADMIN_URL=admin/"]

[processes]
worker = "celery -A config.celery_app worker --loglevel=INFO"
"""


@pytest.fixture(scope="module")
def cookiecutter_site(
    engine: Engine, build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rehearsal]:
    require(available("haproxy"), "HAProxy (Debian's haproxy)")
    env314 = python_env("3.14")
    root = vendored("cookiecutter-django", tmp_path_factory.mktemp("cc") / "cc")
    uv_lock_in(root, env314["BASE_IMAGE_3_14"], engine)
    # A view that enqueues the project's own task and one that reads its result back: the test's
    # only addition, beside the project's URLs (its Celery app and task are its own).
    (root / "config" / "cstest_urls.py").write_text(ENQUEUE_VIEWS)
    urls = root / "config" / "urls.py"
    urls.write_text(
        urls.read_text() + '\nurlpatterns += [path("", include("config.cstest_urls"))]\n'
    )
    (root / "cloudsite.toml").write_text(COOKIECUTTER_CONFIG)
    site = Rehearsal("ccworker", root, engine.script_env(**build_env, **env314), "/about/", "")
    yield from _up(site)


def test_cookiecutter_django_s_own_task_runs_in_a_worker_and_its_result_comes_back(
    cookiecutter_site: Rehearsal,
) -> None:
    site = cookiecutter_site
    assert site.state["broker"] == "redis" and site.state["redis"] is True
    users = _shell(
        site,
        "from my_site.users.models import User; "
        "[User.objects.get_or_create(username=f'cstest{n}') for n in range(3)]; "
        "print(User.objects.count())",
    )
    status, body = _request(site, "/cstest/enqueue/")
    assert status == 200, body[:1000]
    task_id = json.loads(body)["id"]
    status, body = _request(site, f"/cstest/result/{task_id}/")
    assert status == 200, body[:1000]
    assert json.loads(body)["result"] == int(users) == 3
    logs = site.cli("local", "logs", "--tail", "300").stdout
    assert re.search(
        rf"^i[12]/worker-1 .*Task my_site.users.tasks.get_users_count\[{task_id}\] succeeded",
        logs,
        re.M,
    ), logs[-3000:]
    # the cache is the same Valkey (django-redis, REDIS_URL): one instance sees what the other set
    _shell(site, "from django.core.cache import cache; cache.set('cstest', 'shared', 300)")
    assert _shell(site, "from django.core.cache import cache; print(cache.get('cstest'))") == (
        "shared"
    )


def test_nothing_of_the_stand_ins_outlives_local_down_delete_data(
    cookiecutter_site: Rehearsal, engine: Engine
) -> None:
    site = cookiecutter_site
    result = site.cli("local", "down", "--delete-data", "--yes")
    assert result.returncode == 0, result.stderr[-2000:]
    names = engine.docker("ps", "--all", "--format", "{{.Names}}").stdout.split()
    assert [n for n in names if n.startswith("cloudsite-local-ccworker-")] == []
    volumes = engine.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert [v for v in volumes if v.startswith("cloudsite-local-ccworker-")] == []
    assert not (Path(site.root) / ".cloudsite" / "local").exists()
