"""Five real Django projects this repository did not write, through the whole path a user's
project takes, each on the Python it pins (tests/corpus/README.md has their sources and
licences):

    detect -> `cloudsite build` with podman, as a user runs it -> the pipeline's build (the
    shipped tree's build.py, pushed, bundled) -> the deploy hooks on an instance, with the
    secrets pipe -> /healthz, /readyz and / as the project intends -> check --deploy in the image

    startproject          Django's own layout; no manifest at all (its header names Django)
    wagtail               `wagtail start` from a pinned Wagtail: a settings package, unpinned
                          requirements.txt, a Dockerfile of its own (not used)
    lithium               pyproject.toml + uv.lock (generated here), requirements.txt beside it
    cookiecutter-django   today's template: requires-python ==3.14.*, uv.lock (generated here
                          by uv on a Python 3.14, as this machine has none), settings package
                          base/production, PostgreSQL required, psycopg[c] compiled at build,
                          a variable the settings require (DJANGO_ADMIN_URL)
    cookiecutter-django-311  the template's last Python 3.11 release: runtime.txt 3.11.8, pip
                          requirements/production.txt, psycopg[c] compiled, on Debian 12
"""

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cloudsite.project.detect import Project, detect
from tests.integration.conftest import SITE_HOST, AwsStandIn
from tests.integration.test_image import http_get
from tests.integration.test_rollout import instance_env
from tests.support.codedeploy import Deployment, DeploymentGroup, Instance, write_env_file
from tests.support.corpus import startproject, uv_lock, uv_lock_in, vendored, wagtail_start
from tests.support.engine import Engine, python_env
from tests.support.images import build
from tests.support.servers import ROOT, free_port, fresh_database

pytestmark = [pytest.mark.engine, pytest.mark.emulator, pytest.mark.network]
SIZE_BUDGET = 130 * 1000 * 1000  # a startproject's image, uncompressed
MEDIA_BUCKET = "cstest-{name}-media"


@dataclass(frozen=True)
class Case:
    make: Callable[[Path, Engine], object]
    config: str  # the cloudsite.toml the project gets (what `cloudsite init` would settle)
    settings: str
    kind: str  # the dependency manifest's kind
    home: int  # what GET / answers with DEBUG off, as the project intends
    admin: str  # the Django admin's login page
    database: bool = False
    media: bool = False  # it stores files: its uploads go to the stack's bucket (docs/data.md)
    python: str = "3.13"  # the Python its own files pin (3.13: the default's base)

    @property
    def server(self) -> bool:
        """It gets a PostgreSQL server: it needs one, or its configuration asks for one."""
        return self.database or "database = true" in self.config


def _on_314(dest: Path, engine: Engine) -> None:
    """Today's cookiecutter-django with its uv.lock, made by uv on Python 3.14's stand-in."""
    uv_lock_in(vendored("cookiecutter-django", dest), python_env("3.14")["BASE_IMAGE_3_14"], engine)


CASES = {
    "startproject": Case(
        lambda dest, _: startproject(dest), 'name = "startproject"\n', "mysite.settings",
        "startproject", 404, "/admin/login/",
    ),
    # database = true, as init writes it for Wagtail (it writes): the same dependency layer
    # as test_local.py's Wagtail rehearsal, which then reuses it
    "wagtail": Case(
        lambda dest, _: wagtail_start(dest), 'name = "wagtail"\ndatabase = true\n',
        "mysite.settings.production", "requirements", 200, "/django-admin/login/",
        media=True,
    ),
    "lithium": Case(
        lambda dest, _: uv_lock(vendored("lithium", dest)), 'name = "lithium"\n',
        "django_project.settings", "uv", 200, "/admin/login/",
    ),
    "cookiecutter-django": Case(
        _on_314,
        'name = "cookiecutter"\ndatabase = true\nenvironment = ["DJANGO_ADMIN_URL=admin/"]\n',
        "config.settings.production", "uv", 200, "/admin/login/", database=True, media=True,
        python="3.14",
    ),
    "cookiecutter-django-311": Case(
        lambda dest, _: vendored("cookiecutter-django-311", dest),
        'name = "cookiecutter311"\ndatabase = true\n'
        'environment = ["DJANGO_ADMIN_URL=admin/", "REDIS_URL=redis://127.0.0.1:9/0"]\n',
        "config.settings.production", "requirements", 200, "/admin/login/", database=True,
        media=True, python="3.11",
    ),
}  # fmt: skip


@dataclass
class Deployed:
    name: str
    case: Case
    project: Project
    image: str  # what `cloudsite build` made
    build_log: str
    build_seconds: float
    instance: Instance
    deployment: Deployment
    database_url: str


def cloudsite_build(engine: Engine, source: Path, env: dict[str, str]) -> tuple[str, str, float]:
    """`cloudsite build`, run in the project as a user does, with podman; (image, log, s)."""
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cloudsite"), "build", "--tag", "corpus"],
        cwd=source, env=engine.script_env(**env, CLOUDSITE_ENGINE="podman"),
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    log = (source / ".cloudsite" / "local" / "build.log").read_text()
    assert result.returncode == 0, result.stderr[-3000:] + log[-3000:]
    return result.stdout.strip(), log, seconds


@pytest.fixture(scope="module", params=list(CASES))
def deployed(
    request: pytest.FixtureRequest,
    engine: Engine,
    aws: AwsStandIn,
    registry: str,
    build_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> Iterator[Deployed]:
    name, case = request.param, CASES[request.param]
    tmp = tmp_path_factory.mktemp(name)
    source = tmp / "project"
    case.make(source, engine)
    (source / "cloudsite.toml").write_text(case.config)
    if case.python != "3.13":
        build_env = {**build_env, **python_env(case.python)}
    # A file of this run's own: the project's layer is built, not taken from an earlier run's
    # cache, so this run's build log holds the build's checks.
    (source / "cstest-run.txt").write_text(f"{time.time_ns()}\n")
    image, log, seconds = cloudsite_build(engine, source, build_env)
    figures.append(f"corpus {name}: cloudsite build {seconds:.1f} s")
    repository = f"{registry}/{engine.name('corpus-' + name)}"
    bundle = tmp / "bundle"
    build(engine, source, image=f"{repository}:v1", env=build_env, push=True, bundle=bundle)
    with ExitStack() as stack:
        database = stack.enter_context(fresh_database()) if case.server else ""
        instance, group = _instance(
            engine, aws, tmp, name=f"corpus-{name}", database=database, media=case.media
        )
        try:
            deployment = group.deploy(bundle)
            yield Deployed(
                name, case, detect(source), image, log, seconds, instance, deployment, database
            )
        finally:
            for suffix in ("", "-migrate"):
                engine.docker("rm", "--force", engine.name(instance.name) + suffix, check=False)


def _instance(
    engine: Engine, aws: AwsStandIn, root: Path, *, name: str, database: str, media: bool
) -> tuple[Instance, DeploymentGroup]:
    """One instance, set up as user data sets one up; with a database, its settings in SSM and
    the RDS-style secret in Secrets Manager, reached over the host's network (loopback); with
    media, the bucket and the site role the hooks assume (moto's STS) for the containers."""
    port = free_port()
    values = instance_env(engine, aws, name=name, port=port, root=root / "instance")
    if media:
        aws.client("s3").create_bucket(Bucket=MEDIA_BUCKET.format(name=name))
        role = aws.client("iam").create_role(RoleName=f"{name}-site", AssumeRolePolicyDocument="{}")
        values.update(
            CLOUDSITE_MEDIA_BUCKET=MEDIA_BUCKET.format(name=name),
            CLOUDSITE_SITE_ROLE_ARN=role["Role"]["Arn"],
        )
    if database:
        url = urlsplit(database)
        path = f"/cloudsite/{name}/"
        settings = {
            "DJANGO_ALLOWED_HOSTS": SITE_HOST, "WEB_CONCURRENCY": "2",
            "DATABASE_HOST": url.hostname or "", "DATABASE_PORT": str(url.port),
            "DATABASE_NAME": url.path.lstrip("/"), "DATABASE_SSLMODE": "disable",
        }  # fmt: skip
        for key, value in settings.items():
            aws.client("ssm").put_parameter(Name=f"{path}{key}", Value=value, Type="String")
        secret = json.dumps({"username": url.username, "password": "cstest-any"})
        arn = aws.client("secretsmanager").create_secret(Name=f"{name}/db", SecretString=secret)
        values.update(
            CLOUDSITE_PARAMETER_PATH=path,
            CLOUDSITE_DATABASE_SECRET_ARN=arn["ARN"],
            CLOUDSITE_DOCKER_NETWORK="host",
        )
    env_file = write_env_file(root / "instance" / "etc" / "cloudsite" / "env", values)
    instance = Instance(name=name, root=root / "instance", port=port, env_file=env_file)
    group = DeploymentGroup(application="cstest", name=name, env=engine.script_env(**aws.env))
    group.add(instance)
    return instance, group


def test_detection_finds_what_the_project_is(deployed: Deployed) -> None:
    project, case = deployed.project, deployed.case
    assert project.python.version == case.python
    assert f"(Python {case.python}, {case.kind} dependencies)" in deployed.build_log
    assert project.settings == case.settings
    assert project.dependencies.kind == case.kind
    assert project.database.needed is case.database
    assert project.server == "wsgi"


def test_the_build_reports_its_checks_and_the_layer_s_changes(deployed: Deployed) -> None:
    log = deployed.build_log
    assert "check --deploy: 0 issue(s)" in log, log[-3000:]
    assert re.search(r"settings: \S+ through the production layer \(\d+ changes\)", log)
    assert "DEBUG = False: off in production" in log or "DEBUG" not in log
    if not deployed.case.server:  # a database server's site is not asked for / at build time
        assert f"first requests: GET / {deployed.case.home}" in log
    stored = "STORAGES['default'] = S3Storage in cloudsite-build" in log
    assert stored is deployed.case.media, log[-3000:]


def test_its_uploads_go_to_the_bucket_with_the_site_roles_refreshable_credentials(
    deployed: Deployed, engine: Engine
) -> None:
    if not deployed.case.media:
        pytest.skip("it stores no files")
    code = (
        "import django, boto3; django.setup(); "
        "from django.core.files.storage import storages; s = storages['default']; "
        "c = boto3.Session().get_credentials(); "
        "print(type(s).__name__, s.bucket_name, c.method, c.refresh_needed() is False)"
    )
    found = engine.docker(
        "exec", "-e", "DJANGO_SECRET_KEY=cstest-" + "k" * 60,
        *(["-e", f"DATABASE_URL={deployed.database_url}"] if deployed.database_url else []),
        engine.name(deployed.instance.name), "python", "-c", code,
    )  # fmt: skip
    bucket = MEDIA_BUCKET.format(name=f"corpus-{deployed.name}")
    assert found.stdout.split() == ["S3Storage", bucket, "custom-process", "True"], found


def test_the_deploy_hooks_start_it_with_its_secrets_through_the_pipe(deployed: Deployed) -> None:
    assert deployed.deployment.status == "Succeeded", deployed.deployment.failure


def test_it_answers_health_before_host_validation_and_its_pages_as_it_intends(
    deployed: Deployed,
) -> None:
    base = f"http://127.0.0.1:{deployed.instance.port}"
    assert http_get(f"{base}/healthz", host="10.0.3.7")[0] == 200  # the ALB's Host: an IP
    assert http_get(f"{base}/readyz", host="10.0.3.7")[0] == 200
    status, _ = http_get(f"{base}/", host=SITE_HOST)
    assert status == deployed.case.home
    status, body = http_get(f"{base}{deployed.case.admin}", host=SITE_HOST)
    assert status == 200 and b"csrfmiddlewaretoken" in body
    css = re.search(rb'href="(/static/[^"]+\.css)"', body)
    assert css, "the admin page links a stylesheet"
    assert http_get(f"{base}{css.group(1).decode()}", host=SITE_HOST)[0] == 200  # whitenoise


def test_a_form_post_passes_the_csrf_check_behind_the_tls_proxy(deployed: Deployed) -> None:
    """Django's "Origin checking failed" is what users of TLS-terminating proxies hit: the
    layer trusts X-Forwarded-Proto and the site's own origin."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", deployed.instance.port, timeout=10)
    headers = {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}
    connection.request("GET", deployed.case.admin, headers=headers)
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token and "Secure" in cookie
    form = f"csrfmiddlewaretoken={token.group(1)}&username=nobody&password=wrong"
    connection.request("POST", deployed.case.admin, body=form, headers={
        **headers, "Cookie": cookie.split(";")[0], "Origin": f"https://{SITE_HOST}",
        "Referer": f"https://{SITE_HOST}{deployed.case.admin}",
        "Content-Type": "application/x-www-form-urlencoded",
    })  # fmt: skip
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200  # the login form again, with its error: not 403


def test_check_deploy_reports_no_issue_in_the_image_at_run_time(
    deployed: Deployed, engine: Engine
) -> None:
    """What the instance runs, with a real key through the same pipe the migration uses."""
    records = ["DJANGO_SECRET_KEY=cstest-" + "k" * 60, f"DJANGO_ALLOWED_HOSTS={SITE_HOST}"]
    if deployed.database_url:
        records.append(f"DATABASE_URL={deployed.database_url}")
    if deployed.case.media:
        bucket = MEDIA_BUCKET.format(name=f"corpus-{deployed.name}")
        records.append(f"AWS_STORAGE_BUCKET_NAME={bucket}")
    network = ["--network", "host"] if deployed.database_url else []
    result = engine.run_once(
        "--interactive", *network, "-e", "CLOUDSITE_SECRETS=stdin", deployed.image,
        "manage", "check", "--deploy", "--fail-level", "WARNING",
        input="".join(f"{r}\0" for r in records) + "\0",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_a_startproject_image_is_within_its_size_budget(
    deployed: Deployed, engine: Engine, figures: list[str]
) -> None:
    size = int(engine.docker("image", "inspect", "--format", "{{.Size}}", deployed.image).stdout)
    figures.append(f"corpus {deployed.name}: image {size / 1e6:.1f} MB")
    if deployed.name == "startproject":
        assert size <= SIZE_BUDGET


def test_the_image_runs_the_runtime_layer_even_beside_a_dockerfile_of_the_project_s(
    deployed: Deployed, engine: Engine
) -> None:
    """Wagtail's template ships a Dockerfile; cloudsite notices it and builds its own unless
    the configuration says otherwise."""
    config = json.loads(engine.docker("image", "inspect", deployed.image).stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/usr/bin/tini", "--", "/opt/cloudsite/bin/start"]
    assert config["User"] == "10001:10001"
    assert deployed.project.dockerfile is (deployed.name in ("wagtail", "lithium"))
