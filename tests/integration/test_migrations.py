"""Migrations run once per deployment: two instances run AfterInstall for the same deployment
at the same moment, against one PostgreSQL database, and exactly one of them migrates."""

import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests.integration.conftest import SITE_HOST, AwsStandIn, Releases
from tests.integration.test_image import http_get
from tests.integration.test_rollout import (
    assert_secret_only_in_the_site,
    instance_env,
    site_environment,
)
from tests.support.codedeploy import (
    Deployment,
    DeploymentGroup,
    HookFailed,
    Instance,
    new_deployment_id,
    write_env_file,
)
from tests.support.engine import Engine
from tests.support.load import LoadGenerator
from tests.support.servers import free_port, fresh_database, postgres_url

pytestmark = [pytest.mark.engine, pytest.mark.emulator, pytest.mark.postgres]


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh, empty database on the project's PostgreSQL cluster; its URL."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def database_group(
    engine: Engine, aws: AwsStandIn, database: str, tmp_path: Path
) -> Iterator[tuple[DeploymentGroup, str]]:
    """Two instances whose settings point at the database (host network: it is on loopback)."""
    url = urlsplit(database)
    password = "cstest-" + secrets.token_urlsafe(24)  # the cluster trusts loopback: any works
    client = aws.client("ssm")
    path = f"/cloudsite/cstest-db-{secrets.token_hex(3)}/"
    settings = {
        "DJANGO_ALLOWED_HOSTS": SITE_HOST,
        "WEB_CONCURRENCY": "2",
        "DATABASE_HOST": url.hostname or "",
        "DATABASE_PORT": str(url.port),
        "DATABASE_NAME": url.path.lstrip("/"),
        "DATABASE_SSLMODE": "disable",  # the test cluster has no TLS; RDS gets `require`
    }
    for name, value in settings.items():
        client.put_parameter(Name=f"{path}{name}", Value=value, Type="String")
    arn = aws.client("secretsmanager").create_secret(
        Name=f"{path}database",
        SecretString=json.dumps({"username": url.username, "password": password}),
    )["ARN"]
    group = DeploymentGroup(
        application="cstest", name="cstest-db", env=engine.script_env(**aws.env)
    )
    for name in ("db-a", "db-b"):
        port = free_port()
        values = instance_env(engine, aws, name=name, port=port, root=tmp_path / name)
        values.update(
            CLOUDSITE_PARAMETER_PATH=path,
            CLOUDSITE_DATABASE_SECRET_ARN=arn,
            CLOUDSITE_DOCKER_NETWORK="host",
            # ApplicationStart installs the secrets timer here instead of in systemd's folders.
            CLOUDSITE_SYSTEMD_DIR=str(tmp_path / name / "etc" / "systemd" / "system"),
            CLOUDSITE_LIB_DIR=str(tmp_path / name / "usr" / "local" / "lib" / "cloudsite"),
        )
        env_file = write_env_file(tmp_path / name / "etc" / "cloudsite" / "env", values)
        group.add(Instance(name=name, root=tmp_path / name, port=port, env_file=env_file))
    try:
        yield group, password
    finally:
        for instance in group.instances:
            for suffix in ("", "-migrate"):
                engine.docker("rm", "--force", engine.name(instance.name) + suffix, check=False)


def test_two_instances_migrating_one_deployment_at_once_migrate_exactly_once(
    database_group: tuple[DeploymentGroup, str],
    releases: Releases,
    database: str,
    engine: Engine,
) -> None:
    group, password = database_group
    deployment = Deployment(id=new_deployment_id(), revision=releases.bundle("v1"))
    for instance in group.instances:
        for event in ("DownloadBundle", "BeforeInstall"):
            group.run_event(deployment, instance, event)

    failures: list[HookFailed] = []

    def after_install(instance: Instance) -> None:
        try:
            group.run_event(deployment, instance, "AfterInstall")
        except HookFailed as failure:
            failures.append(failure)

    threads = [threading.Thread(target=after_install, args=(i,)) for i in group.instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not failures, failures[0].detail

    outcomes = sorted(_outcome(i) for i in group.instances)
    assert outcomes == ["migrated", "skipped"]
    with psycopg.connect(database) as db:
        rows = db.execute(
            "SELECT deployment_id, applied FROM cloudsite_deployment_migration"
        ).fetchall()
        duplicates = db.execute(
            "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1"
        ).fetchall()
    assert [row[0] for row in rows] == [deployment.id]
    assert (
        "travel.0001_initial" in rows[0][1] and "cloudsite_deployments.0001_initial" in rows[0][1]
    )
    assert duplicates == []

    # The new version then starts on the migrated database and is ready (/readyz runs a query).
    first = group.instances[0]
    for event in ("ApplicationStart", "ValidateService"):
        group.run_event(deployment, first, event)
    assert http_get(f"http://127.0.0.1:{first.port}/readyz")[0] == 200
    # The credentials of the RDS-managed secret ({"username", "password"}) took the secret
    # key's path: composed into DATABASE_URL by the hook, piped into the site, and nowhere else.
    url = urlsplit(site_environment(engine, engine.name(first.name))["DATABASE_URL"])
    assert (url.password, url.hostname) == (password, urlsplit(database).hostname)
    assert_secret_only_in_the_site(engine, first, password)


def _outcome(instance: Instance) -> str:
    """What migrate_once logged on this instance (its JSON line in the agent log)."""
    for line in instance.agent_log.read_text().splitlines():
        if line.startswith("{") and '"outcome"' in line:
            return str(json.loads(line)["outcome"])
    raise AssertionError(f"{instance.name}: migrate_once logged no outcome")


def test_rotated_database_credentials_reach_the_running_site_and_no_request_fails(
    database_group: tuple[DeploymentGroup, str],
    releases: Releases,
    database: str,
    engine: Engine,
    aws: AwsStandIn,
    tmp_path: Path,
    figures: list[str],
) -> None:
    """RDS rotates the managed secret (every 7 days by default) and the old password stops
    working. The instance's timer runs refresh-secrets.sh: it sees the change and hands the
    new credentials to the running container, whose new workers connect with them. Here the
    rotation also changes the user name, so the database itself shows who connects."""
    group, _ = database_group
    site = group.instances[0]
    group.deploy_instance(Deployment(id=new_deployment_id(), revision=releases.bundle("v1")), site)
    env_values = dict(
        line.split("=", 1) for line in site.env_file.read_text().splitlines() if "=" in line
    )
    arn = env_values["CLOUDSITE_DATABASE_SECRET_ARN"]
    # ApplicationStart installed the timer, and the copy of the script it runs.
    units = site.root / "etc" / "systemd" / "system"
    refresh = site.root / "usr" / "local" / "lib" / "cloudsite" / "refresh-secrets.sh"
    service = (units / "cloudsite-secrets.service").read_text()
    assert f"ExecStart={refresh}\n" in service and "Type=oneshot" in service
    timer = (units / "cloudsite-secrets.timer").read_text()
    assert "OnUnitActiveSec=5min" in timer and "WantedBy=timers.target" in timer
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", units / "cloudsite-secrets.timer",
         units / "cloudsite-secrets.service"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    env = engine.script_env(**aws.env, CLOUDSITE_ENV_FILE=str(site.env_file))

    def run_refresh() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(refresh)], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    unchanged = run_refresh()
    assert unchanged.returncode == 0, unchanged.stderr
    assert "secrets: unchanged" in unchanged.stderr

    role, password = f"cstest_rotated_{secrets.token_hex(3)}", "cstest-" + secrets.token_urlsafe(24)
    server = postgres_url()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    try:
        aws.client("secretsmanager").put_secret_value(
            SecretId=arn, SecretString=json.dumps({"username": role, "password": password})
        )
        # Straight to the instance: no load balancer adds the scheme it would forward.
        https = {"X-Forwarded-Proto": "https"}
        with LoadGenerator(port=site.port, host=SITE_HOST, headers=https) as load:
            time.sleep(1)
            changed = run_refresh()
            time.sleep(2)
        assert changed.returncode == 0, changed.stderr
        assert "secrets: reloaded" in changed.stderr
        figures.append(f"database credentials rotated under load: {load.report.summary()}")
        assert load.report.failures == 0, load.report.failure_samples
        assert http_get(f"http://127.0.0.1:{site.port}/readyz")[0] == 200  # a query, as `role`
        name = urlsplit(database).path.lstrip("/")
        with psycopg.connect(server, autocommit=True) as admin:
            users = admin.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
        assert users == [(role,)], "every connection of the site is the rotated user's"
        again = run_refresh()
        assert again.returncode == 0 and "secrets: unchanged" in again.stderr, again.stderr
        assert_secret_only_in_the_site(engine, site, password)

        # Docker restarts the container (a crash, a reboot): it waits for its secrets as at a
        # first start, and the timer's next run hands them over.
        container = engine.name(site.name)
        engine.docker("restart", "--time", "10", container)
        deadline = time.monotonic() + 30
        while engine.docker("exec", container, "test", "-p", FIFO, check=False).returncode:
            assert time.monotonic() < deadline, "the restarted site is not waiting for secrets"
            time.sleep(0.2)
        revived = run_refresh()
        assert revived.returncode == 0, revived.stderr
        assert "restarted by Docker and waiting for its secrets" in revived.stderr
        deadline = time.monotonic() + 30
        while not ready(site.port):
            assert time.monotonic() < deadline, "the restarted site never became ready"
            time.sleep(0.5)
        fingerprint = site.root / "run" / "cloudsite" / f"{engine.name(site.name)}.secrets.sha256"
        assert fingerprint.stat().st_mode & 0o777 == 0o600
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(urlsplit(database).path.lstrip("/"))
                )
            )
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# Where the image's bin/start waits for secrets (a FIFO) until the deploy host hands them over.
FIFO = "/tmp/cloudsite/secrets.fifo"


def ready(port: int) -> bool:
    try:
        return http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200
    except OSError:  # not listening yet
        return False
