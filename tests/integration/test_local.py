"""`cloudsite local`, run as a user runs it, on projects this repository did not write and
behind each edge: a startproject without a database (SQLite in each container, sessions in
signed cookies) behind HAProxy, the reference site with PostgreSQL in a container behind
HAProxy, and a `wagtail start` project with PostgreSQL and its uploads in S3's stand-in behind
nginx (for a machine that has only nginx):

    local up      prints an https://127.0.0.1:PORT URL that serves the project, behind the
                  edge with TLS, two instances deployed through the hooks; HTTP redirects
    verify        passes its checks against that URL (AWS ones: not applicable locally)
    local deploy  a changed release switches instances one at a time, no request fails
    a release that fails ValidateService is rolled back, and the site keeps serving
    data          a login holds for 20 requests spread over both instances; a row written
                  through one instance is read through the other, and is still there after
                  a deploy, a rollback and `local down` + `local up`; an image uploaded through
                  Wagtail's admin is served from the bucket by both instances, and after a
                  deploy (docs/data.md)
    local down    removes everything but the data, which --delete-data removes too
"""

import io
import json
import re
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tests.support.corpus import startproject, wagtail_start
from tests.support.edges import available
from tests.support.engine import Engine
from tests.support.images import DEFECT, MARKER, source_tree
from tests.support.load import LoadGenerator
from tests.support.run_command import run_command_on
from tests.support.servers import ROOT
from tests.support.webclient import Client, fetch_signed

pytestmark = [pytest.mark.engine, pytest.mark.network]
CLOUDSITE = str(ROOT / ".venv" / "bin" / "cloudsite")


@dataclass
class Rehearsal:
    name: str
    root: Path
    env: dict[str, str]
    page: str  # a page the project answers 200 on
    wsgi: str  # its WSGI module's file, for a broken release
    edge: str = "haproxy"
    url: str = ""
    written: dict[str, str] = field(default_factory=dict)  # what the data tests wrote

    @property
    def django_admin(self) -> str:
        """Where Django's own admin is: Wagtail's project moves it for Wagtail's."""
        return "/django-admin/" if self.name == "behind-nginx" else "/admin/"

    def cli(
        self, *args: str, timeout: float = 1200, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLOUDSITE, *args],
            cwd=self.root,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    @property
    def state(self) -> dict:
        return json.loads((self.root / ".cloudsite" / "local" / "state.json").read_text())

    @property
    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(
            cafile=str(self.root / ".cloudsite" / "local" / "tls" / "ca.pem")
        )

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(
                self.url.rstrip("/") + path, timeout=10, context=self.tls
            ) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def release(self, name: str) -> None:
        # Wagtail's .dockerignore leaves out /static/ (collectstatic's output there), so its
        # marker goes in the project package's own static folder
        marker = f"mysite/{MARKER}" if self.name == "behind-nginx" else MARKER
        (self.root / marker).write_text(f"{name}\n")

    @property
    def database(self) -> bool:
        return bool(self.state.get("database"))

    def edge_client(self) -> Client:
        return Client(self.state["port"], tls=self.tls)

    def instance_client(self, instance: str) -> Client:
        """One instance's port, as the edge forwards to it (the site's own host name)."""
        port = next(i["port"] for i in self.state["instances"] if i["name"] == instance)
        return Client(port, host=f"127.0.0.1:{self.state['port']}")

    def manage_shell(self, engine: Engine, instance: str, code: str) -> str:
        """Python in `manage.py shell` of one instance's running container, with the secrets
        the hooks hand it (the tests read them from the state folder: `cloudsite manage`, the
        user's way, is the next issue's)."""
        secrets = json.loads((self.root / ".cloudsite" / "local" / "secrets.json").read_text())
        env = ["-e", f"DJANGO_SECRET_KEY={secrets['DJANGO_SECRET_KEY']}"]
        if self.database:
            env += ["-e", f"DATABASE_URL={secrets['DATABASE_URL']}"]
        container = f"cloudsite-local-{self.name}-{instance}"
        found = engine.docker(
            "exec", *env, container, "python", "manage.py", "shell", "-c", code, check=False
        )
        assert found.returncode == 0, found.stdout + found.stderr
        return found.stdout.strip()

    def superuser(self, engine: Engine) -> None:
        """admin/PASSWORD. With a database server, the user's way: `cloudsite local manage
        createsuperuser --noinput` with DJANGO_SUPERUSER_* in the environment, watched for the
        password (leaks). Without one, each SQLite copy gets the same password hash, so a
        session signed for it holds on every instance (a one-off's container has a copy of
        its own, whose writes go with it)."""
        if self.database:
            self.superuser_by_manage(engine)
            return
        make = "from django.contrib.auth.hashers import make_password as m; print(m(%r))"
        hashed = self.manage_shell(engine, "i1", make % PASSWORD).splitlines()[-1]
        create = (
            "from django.contrib.auth import get_user_model as g; U = g(); "
            f"U.objects.filter(username='admin').exists() or U.objects.create(username='admin', "
            f"email='admin@example.com', password={hashed!r}, is_staff=True, is_superuser=True)"
        )
        for instance in ["i1"] if self.database else ["i1", "i2"]:
            self.manage_shell(engine, instance, create)

    def superuser_by_manage(self, engine: Engine) -> None:
        out, err = self.superuser_watched(
            engine, ["local", "manage", "createsuperuser", "--noinput"], self.env, "admin", PASSWORD
        )
        state = self.root / ".cloudsite" / "local"
        files = [p for p in state.rglob("*") if p.is_file() and not p.is_socket()]
        leaked = [str(p) for p in files if PASSWORD.encode() in _bytes(p)]
        assert leaked == []  # not the one-off file (gone), the run record or a hook's log
        assert PASSWORD not in out + err + self.cli("local", "logs", "--tail", "1000").stdout

    def superuser_watched(
        self, engine: Engine, args: list[str], env: dict[str, str], username: str, password: str
    ) -> tuple[str, str]:
        """`cloudsite ARGS` making a superuser with DJANGO_SUPERUSER_* in its environment,
        with every process and the one-off container watched for the password (no leak);
        its stdout and stderr."""
        process = subprocess.Popen(
            [CLOUDSITE, *args],
            cwd=self.root,
            env=env
            | {
                "DJANGO_SUPERUSER_USERNAME": username,
                "DJANGO_SUPERUSER_EMAIL": f"{username}@example.com",
                "DJANGO_SUPERUSER_PASSWORD": password,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = _watch_for(password, process, engine)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        assert "Superuser created successfully." in out
        assert seen["inspected"] > 0  # the one-off container was caught running, and inspected
        assert seen["leaks"] == [], seen["leaks"]
        return out, err


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _watch_for(secret: str, process: subprocess.Popen[str], engine: Engine) -> dict[str, Any]:
    """While `process` runs: every command line and environment of the processes it and the
    engine start (all of /proc this user can read), and the engine's inspect output of each
    one-off container, searched for `secret`."""
    seen: dict[str, Any] = {"inspected": 0, "leaks": []}
    while process.poll() is None:
        for proc in Path("/proc").glob("[0-9]*"):
            if proc.name == str(process.pid):  # the operator's own environment is the input
                continue
            # The one-off's own command must hold them: Django reads DJANGO_SUPERUSER_* from
            # its environment. Its command line, and every other process, must not.
            command = _bytes(proc / "cmdline")
            own = command.startswith(b"python\x00manage.py\x00createsuperuser\x00")
            for part in ("cmdline",) if own else ("cmdline", "environ"):
                if secret.encode() in _bytes(proc / part):
                    seen["leaks"].append(f"{proc.name}/{part}: {_bytes(proc / 'cmdline')[:80]!r}")
        names = engine.docker(
            "ps",
            "--all",
            "--filter",
            "name=cloudsite-run-",
            "--format",
            "{{.Names}}",
            check=False,
        ).stdout.split()
        for name in names:
            found = engine.docker("container", "inspect", name, check=False)
            if found.returncode == 0:
                seen["inspected"] += 1
                if secret in found.stdout:
                    seen["leaks"].append(f"inspect {name}")
        time.sleep(0.05)
    return seen


def foreign(root: Path) -> tuple[Path, str, str]:
    """startproject, and the user's one edit: a static folder (for the release marker)."""
    startproject(root)
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nSTATICFILES_DIRS = [BASE_DIR / "static"]\n')
    (root / "static").mkdir()
    return root, "/admin/login/", "mysite/wsgi.py"


PASSWORD = "cstest-" + "pw-for-the-admin"  # a test user's, in a throwaway rehearsal


def wagtail(root: Path) -> tuple[Path, str, str]:
    """`wagtail start`, with the database init turns on for it (Wagtail writes) and its uploads
    in S3's stand-in (media = "auto": wagtail.images is installed); its mysite/static/ holds
    the release marker."""
    wagtail_start(root)
    (root / "cloudsite.toml").write_text('name = "behind-nginx"\ndatabase = true\n')
    return root, "/admin/login/", "mysite/wsgi.py"


def reference(root: Path) -> tuple[Path, str, str]:
    """Wanderpage, with its database on PostgreSQL (RDS's stand-in, in a container)."""
    source_tree(root, release="v1")
    with open(root / "cloudsite.toml", "a") as config:
        config.write("database = true\n")
    return root, "/destinations/", "config/wsgi.py"


def only_on(rehearsal: "Rehearsal", *names: str, why: str) -> None:
    """Skip a test whose path is the same on the other rehearsals: each claim is proven where
    it differs (the edge, the data kept), once where it does not, to keep the suite short."""
    if rehearsal.name not in names:
        pytest.skip(why)


@pytest.fixture(scope="module", params=["startproject", "wanderpage", "behind-nginx"])
def rehearsal(
    request: pytest.FixtureRequest,
    engine: Engine,
    build_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Rehearsal]:
    """startproject and wanderpage behind HAProxy; Wagtail behind nginx."""
    kind = "nginx" if request.param == "behind-nginx" else "haproxy"
    require(available(kind), f"{kind} (Debian's {kind})")
    make = {"wanderpage": reference, "behind-nginx": wagtail}.get(request.param, foreign)
    root, page, wsgi = make(tmp_path_factory.mktemp(request.param) / request.param)
    site = Rehearsal(request.param, root, engine.script_env(**build_env), page, wsgi, kind)
    site.release("v1")
    try:
        yield site
    finally:
        site.cli("local", "down", "--delete-data", "--yes")


def test_local_up_prints_an_https_url_that_serves_the_project(
    rehearsal: Rehearsal, figures: list[str]
) -> None:
    started = time.monotonic()
    result = rehearsal.cli("local", "up", "--edge", rehearsal.edge)
    figures.append(f"local up ({rehearsal.name}): {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr[-3000:]
    rehearsal.url = result.stdout.strip()
    assert rehearsal.url == f"https://127.0.0.1:{rehearsal.state['port']}/"
    status, _ = rehearsal.get(rehearsal.page)
    assert status == 200
    assert rehearsal.get("/static/cstest-release.txt") == (200, b"v1\n")
    assert [i["revision"] for i in rehearsal.state["instances"]] == [
        rehearsal.state["releases"][0]
    ] * 2
    assert (rehearsal.root / ".cloudsite" / ".gitignore").read_text().endswith("local/\n")
    label = {"haproxy": "HAProxy", "nginx": "nginx"}[rehearsal.edge]
    for line in (f"edge: {label} with TLS", "build: ", "rollout: "):
        assert line in result.stderr  # progress for each step


def test_plain_http_is_redirected_to_https(rehearsal: Rehearsal) -> None:
    state = rehearsal.state
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(f"http://127.0.0.1:{state['http_port']}/admin/?q=1", timeout=10)
    assert answer.value.code == 301
    assert answer.value.headers["Location"] == f"https://127.0.0.1:{state['port']}/admin/?q=1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_secret_key_reaches_the_site_through_the_pipe_only(
    rehearsal: Rehearsal, engine: Engine
) -> None:
    secrets = json.loads((rehearsal.root / ".cloudsite" / "local" / "secrets.json").read_text())
    key = secrets["DJANGO_SECRET_KEY"]
    assert len(key) >= 50
    assert (
        (rehearsal.root / ".cloudsite" / "local" / "secrets.json").stat().st_mode & 0o777
    ) == 0o600
    for instance in ("i1", "i2"):
        container = f"cloudsite-local-{rehearsal.name}-{instance}"
        assert key not in engine.docker("inspect", container).stdout
        assert key not in engine.docker("logs", container).stdout


def test_verify_passes_its_local_checks(rehearsal: Rehearsal) -> None:
    ca = rehearsal.root / ".cloudsite" / "local" / "tls" / "ca.pem"
    http_port = str(rehearsal.state["http_port"])
    result = rehearsal.cli(
        "verify", rehearsal.url, "--ca-bundle", str(ca), "--http-port", http_port
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "note: AWS checks (targets, firewalls, listener policy): not applicable locally"
        in result.stdout
    )
    statuses = {
        line.split()[0]
        for line in result.stdout.splitlines()
        if line.startswith("  ") and line.split()[0] in ("pass", "warn", "fail")
    }
    assert "fail" not in statuses


def test_local_status_shows_two_healthy_instances_and_their_release(rehearsal: Rehearsal) -> None:
    result = rehearsal.cli("local", "status", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["edge"] == rehearsal.edge
    rows = shown["instances"]
    release = rehearsal.state["releases"][-1]
    assert [(r["instance"], r["container"], r["edge"], r["release"]) for r in rows] == [
        ("i1", "running", "UP", release),
        ("i2", "running", "UP", release),
    ]


# ---------------------------------------------------------------- data that lasts (docs/data.md)
ROUNDS = 20


def test_a_login_holds_for_every_request_whichever_instance_answers(
    rehearsal: Rehearsal, engine: Engine
) -> None:
    # Without a database the session is a signed cookie; with one, a row every instance reads.
    rehearsal.superuser(engine)
    browser = rehearsal.edge_client()
    browser.login("/admin/login/", "admin", PASSWORD)
    statuses = [browser.get("/admin/").status for _ in range(ROUNDS)]
    assert statuses == [200] * ROUNDS
    engine_name = json.loads(rehearsal.cli("local", "status", "--json").stdout)["instances"]
    assert [r["edge"] for r in engine_name] == ["UP", "UP"]  # both took their share


def test_a_row_written_through_one_instance_is_read_through_the_other(
    rehearsal: Rehearsal, engine: Engine
) -> None:
    one, two = rehearsal.instance_client("i1"), rehearsal.instance_client("i2")
    for client in (one, two):
        client.login("/admin/login/", "admin", PASSWORD)
    name = f"cstest-row-{rehearsal.name}"
    groups = f"{rehearsal.django_admin}auth/group/"
    added = one.post(f"{groups}add/", {"name": name})
    assert added.status == 302, added.text[:500]
    assert name in one.get(groups).text
    seen = name in two.get(groups).text
    # Each container's own SQLite copy without a database: what the warning says.
    assert seen == rehearsal.database
    rehearsal.written["row"] = name


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _image_urls(client: Client, image: str) -> list[str]:
    """The signed URLs of an image's files on its admin page (the original and renditions)."""
    page = client.get(f"/admin/images/{image}/")
    assert page.status == 200, page.status
    return sorted(set(re.findall(r'(http://s3\.localhost:\d+/media/[^"\s]+)', page.text)))


def test_an_image_uploaded_through_the_admin_is_in_the_bucket_and_both_instances_serve_it(
    rehearsal: Rehearsal, engine: Engine
) -> None:
    if rehearsal.name != "behind-nginx":
        pytest.skip("Wagtail's image upload: the Wagtail rehearsal")
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(picture, "PNG")
    browser = rehearsal.edge_client()
    browser.login("/admin/login/", "admin", PASSWORD)
    added = browser.post(
        "/admin/images/add/",
        {"title": "cstest red", "tags": ""},
        files={"file": ("cstest-red.png", "image/png", picture.getvalue())},
    )
    assert added.status == 302, added.text[:800]
    listing = browser.get("/admin/images/").text
    image = re.findall(r"/admin/images/(\d+)/", listing)[0]
    rehearsal.written["image"] = image
    for instance in ("i1", "i2"):
        client = rehearsal.instance_client(instance)
        client.login("/admin/login/", "admin", PASSWORD)
        urls = _image_urls(client, image)
        assert urls, f"{instance}: no media URL on the image's page"
        for url in urls:
            fetched = fetch_signed(url.replace("&amp;", "&"))
            assert fetched.status == 200, (instance, url, fetched.text[:300])
            assert fetched.body.startswith(PNG_SIGNATURE)
    # in the stand-in's bucket (its volume), and nowhere in a container's writable /tmp
    stand_in = f"cloudsite-local-{rehearsal.name}-s3"
    files = engine.docker("exec", stand_in, "sh", "-c", "ls -R /data/root/media").stdout
    assert "cstest-red" in files and "original_images" in files, files
    for instance in ("i1", "i2"):
        left = engine.docker(
            "exec",
            f"cloudsite-local-{rehearsal.name}-{instance}",
            "python",
            "-c",
            "import pathlib; print([str(p) for p in pathlib.Path('/tmp').rglob('*.png')])",
        ).stdout
        assert left.strip() == "[]", left


# ------------------------------------------------------- one-off commands (docs/operating.md)
def test_local_manage_runs_a_command_on_the_site_with_its_exit_status(rehearsal: Rehearsal) -> None:
    checked = rehearsal.cli("local", "manage", "check", "--deploy")
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "System check identified" in checked.stdout + checked.stderr
    warned = [line for line in checked.stderr.splitlines() if line.startswith("warning: no data")]
    assert len(warned) == (0 if rehearsal.database else 1)
    if rehearsal.name != "wanderpage":
        return  # the rest is the same path on every project: once is enough
    failed = rehearsal.cli("local", "manage", "migrate", "cstestnosuchapp")
    assert failed.returncode == 1
    assert "No installed app with label 'cstestnosuchapp'" in failed.stderr
    code = "import sys; sys.stdout.write(''.join(chr(97 + i % 26) for i in range(100000)))"
    big = rehearsal.cli("local", "manage", "--", "shell", "-c", code)
    assert big.returncode == 0, big.stderr[-3000:]
    # Django 5.2's shell may first say what it imported, on a line of its own.
    assert big.stdout.endswith("\n" + "".join(chr(97 + i % 26) for i in range(100000))) or (
        big.stdout == "".join(chr(97 + i % 26) for i in range(100000))
    )
    exited = rehearsal.cli("local", "manage", "shell", "-c", "import sys; sys.exit(7)")
    assert exited.returncode == 7
    empty = rehearsal.cli("local", "manage")
    assert empty.returncode == 2
    assert empty.stderr.startswith("error: local manage: no command to run")
    status = rehearsal.cli("local", "status").stdout
    runs = [line for line in status.splitlines() if line.startswith("run ")]  # newest first
    assert len(runs) >= 4, status
    assert " i1 " in runs[0] and "exit 7" in runs[0] and "shell -c" in runs[0], status
    assert " ok " in runs[1], status
    assert "exit 1" in runs[2] and "migrate cstestnosuchapp" in runs[2], status


def test_local_manage_opens_a_terminal_for_the_shell(rehearsal: Rehearsal) -> None:
    if rehearsal.name != "wanderpage":
        pytest.skip("the same path on every project: run on one")
    import os
    import pty
    import select

    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [CLOUDSITE, "local", "manage", "shell"],
        cwd=rehearsal.root,
        env=rehearsal.env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 120
    os.write(main, b"print(6 * 7, 'cstest-answer')\n")
    while b"42 cstest-answer" not in seen and time.monotonic() < deadline:
        if select.select([main], [], [], 1)[0]:
            try:
                seen += os.read(main, 65536)
            except OSError:  # the terminal closed: the command ended
                break
    os.write(main, b"exit()\n")
    assert process.wait(timeout=60) == 0
    os.close(main)
    assert b"42 cstest-answer" in seen, seen[-2000:]


OPERATOR_PASSWORD = "cstest-" + "pw-through-run-command"  # a test user's, in a throwaway rehearsal


def test_cloudsite_manage_on_aws_runs_the_instances_own_script_for_real(
    rehearsal: Rehearsal, engine: Engine, tmp_path: Path
) -> None:
    """AWS's path (tests/support/run_command.py): `cloudsite manage` sends the stack's
    ManageDocument to one healthy instance; the agent's stand-in runs that document with an
    instance's own manage.sh, which reads the one-off parameter and writes the run's record
    with the AWS CLI, and starts the real one-off container on the real database."""
    if rehearsal.name != "wanderpage":
        pytest.skip("the same path on every project: run on one")
    instance = rehearsal.root / ".cloudsite" / "local" / "instances" / "i1"
    with run_command_on(rehearsal.root, instance, env=rehearsal.env, workdir=tmp_path) as aws:
        args = ["manage", "createsuperuser", "--noinput"]
        out, err = rehearsal.superuser_watched(engine, args, aws.env, "operator", OPERATOR_PASSWORD)
        started = r"==> r-[0-9t-]+-[0-9a-f]+: manage.py createsuperuser --noinput on i-"
        assert re.search(started, err), err[-3000:]
        assert [p for p in aws.parameters() if "/oneoff/" in p] == []  # gone after the run
        [command] = aws.commands()
        assert OPERATOR_PASSWORD not in json.dumps(command, default=str)  # kept 30 days
        assert OPERATOR_PASSWORD not in aws.log_events() + out + err
        checked = rehearsal.cli("manage", "check", "--deploy", env=aws.env)
        assert checked.returncode == 0, checked.stderr[-3000:]
        assert "System check identified" in checked.stdout + checked.stderr
        code = "import sys; sys.exit(7)"
        exited = rehearsal.cli("manage", "--", "shell", "-c", code, env=aws.env)
        assert exited.returncode == 7, exited.stderr[-3000:]
        status = rehearsal.cli("status", "--json", env=aws.env)
        found = json.loads(status.stdout)["runs"]["items"]  # newest first
        assert [(r["command"], r["exit"]) for r in found] == [
            ("shell -c 'import sys; sys.exit(7)'", 7),
            ("check --deploy", 0),
            ("createsuperuser --noinput", 0),
        ]
    browser = rehearsal.edge_client()  # the user it made logs in, on both instances
    browser.login("/admin/login/", "operator", OPERATOR_PASSWORD)
    assert [browser.get("/admin/").status for _ in range(ROUNDS)] == [200] * ROUNDS


def _what_was_written_is_there(rehearsal: Rehearsal) -> None:
    """The data tests' row and image, read again through the edge."""
    browser = rehearsal.edge_client()
    browser.login("/admin/login/", "admin", PASSWORD)
    if rehearsal.database:
        groups = f"{rehearsal.django_admin}auth/group/"
        assert rehearsal.written["row"] in browser.get(groups).text
    if "image" in rehearsal.written:
        for url in _image_urls(browser, rehearsal.written["image"]):
            assert fetch_signed(url.replace("&amp;", "&")).status == 200, url


def test_local_deploy_switches_releases_one_instance_at_a_time_failing_no_request(
    rehearsal: Rehearsal, figures: list[str]
) -> None:
    only_on(rehearsal, "wanderpage", "behind-nginx", why="each edge once: wanderpage's HAProxy")
    rehearsal.release("v2")
    with LoadGenerator(
        port=rehearsal.state["port"], host="127.0.0.1", page=rehearsal.page, tls=rehearsal.tls
    ) as load:
        time.sleep(1)
        started = time.monotonic()
        result = rehearsal.cli("local", "deploy")
        seconds = time.monotonic() - started
        time.sleep(1)
    figures.append(
        f"local deploy ({rehearsal.name}) under load: {seconds:.1f} s, {load.report.summary()}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert load.report.failures == 0, load.report.failure_samples
    assert load.report.requests > 100
    assert load.report.releases["v1"] > 0 and load.report.releases["v2"] > 0
    assert rehearsal.get("/static/cstest-release.txt") == (200, b"v2\n")
    # A one-off runs the release the site serves now.
    code = (
        "from django.contrib.staticfiles import finders; "
        "print(open(finders.find('cstest-release.txt')).read())"
    )
    ran = rehearsal.cli("local", "manage", "shell", "-c", code)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.strip().splitlines()[-1] == "v2"


def test_a_release_that_cannot_start_is_rolled_back_and_the_site_keeps_serving(
    rehearsal: Rehearsal,
) -> None:
    only_on(rehearsal, "wanderpage", why="the edge puts an instance back as in a deploy: once")
    wsgi = rehearsal.root / rehearsal.wsgi
    good = wsgi.read_text()
    wsgi.write_text(good + "\nimport os\n" + DEFECT)
    rehearsal.release("v3")
    try:
        with LoadGenerator(
            port=rehearsal.state["port"], host="127.0.0.1", page=rehearsal.page, tls=rehearsal.tls
        ) as load:
            result = rehearsal.cli("local", "deploy")
    finally:
        wsgi.write_text(good)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: local deploy: i1: ValidateService failed; rolled back to the last good "
        "release, and the site kept serving"
    ]
    assert load.report.failures == 0, load.report.failure_samples
    assert "v3" not in load.report.releases
    assert rehearsal.get("/static/cstest-release.txt") == (200, b"v2\n")


def status_rows(rehearsal: Rehearsal) -> list[tuple[str, str, str]]:
    result = rehearsal.cli("local", "status", "--json")
    assert result.returncode == 0, result.stderr
    return [
        (r["instance"], r["container"], r["edge"]) for r in json.loads(result.stdout)["instances"]
    ]


def test_an_instance_that_died_is_out_of_service_and_the_next_deploy_brings_it_back(
    rehearsal: Rehearsal, engine: Engine
) -> None:
    only_on(rehearsal, "wanderpage", "behind-nginx", why="each edge once: wanderpage's HAProxy")
    engine.docker("stop", "--time", "2", f"cloudsite-local-{rehearsal.name}-i2")
    deadline = time.monotonic() + 10
    while (rows := status_rows(rehearsal))[1][2] == "UP":  # HAProxy's checks: 2 x 0.5 s
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)
    assert rows == [("i1", "running", "UP"), ("i2", "exited", "DOWN")]
    rehearsal.release("v2")  # the source as it was before the failed release
    result = rehearsal.cli("local", "deploy")
    assert result.returncode == 0, result.stderr[-3000:]
    assert status_rows(rehearsal) == [("i1", "running", "UP"), ("i2", "running", "UP")]
    assert rehearsal.get("/static/cstest-release.txt") == (200, b"v2\n")


def test_what_was_written_outlives_a_deploy_a_rollback_and_a_dead_instance(
    rehearsal: Rehearsal,
) -> None:
    if not rehearsal.database:
        pytest.skip("without a database, each new container starts from the build's SQLite")
    _what_was_written_is_there(rehearsal)


def test_local_up_again_is_an_update_not_a_second_set(rehearsal: Rehearsal, engine: Engine) -> None:
    only_on(rehearsal, "wanderpage", "behind-nginx", why="each edge once: wanderpage's HAProxy")
    rehearsal.release("v2")
    before = rehearsal.state
    result = rehearsal.cli("local", "up")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "built already from this very source" in result.stderr  # v2's image, reused
    after = rehearsal.state
    assert (after["port"], after["edge"], [i["name"] for i in after["instances"]]) == (
        before["port"],
        rehearsal.edge,  # without --edge, up keeps the edge that runs (HAProxy is preferred)
        ["i1", "i2"],
    )
    names = engine.docker("ps", "--all", "--format", "{{.Names}}").stdout.split()
    mine = sorted(n for n in names if n.startswith(f"cloudsite-local-{rehearsal.name}-"))
    stand_ins = ["db"] * after["database"] + ["s3"] * after["media"]
    expected = sorted(f"cloudsite-local-{rehearsal.name}-{i}" for i in ["i1", "i2", *stand_ins])
    assert mine == expected


def test_the_edge_does_not_change_while_the_rehearsal_is_up(rehearsal: Rehearsal) -> None:
    other = "haproxy" if rehearsal.edge == "nginx" else "nginx"
    if not available(other):
        pytest.skip(f"{other} is not installed")
    result = rehearsal.cli("local", "up", "--edge", other)
    assert result.returncode == 2
    label = {"haproxy": "HAProxy", "nginx": "nginx"}[rehearsal.edge]
    assert result.stderr.splitlines()[0] == (
        f"error: --edge: this rehearsal's edge is {label}; it does not change while "
        "the rehearsal is up"
    )
    assert rehearsal.state["edge"] == rehearsal.edge


def _rehearsal_is_gone(rehearsal: Rehearsal, engine: Engine, *, volumes: bool) -> None:
    names = engine.docker("ps", "--all", "--format", "{{.Names}}").stdout
    assert f"cloudsite-local-{rehearsal.name}" not in names
    images = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    assert f"{rehearsal.name}:release-" not in images
    networks = engine.docker("network", "ls", "--format", "{{.Name}}").stdout
    assert f"cloudsite-local-{rehearsal.name}" not in networks
    kept = engine.docker("volume", "ls", "--format", "{{.Name}}").stdout
    assert (f"cloudsite-local-{rehearsal.name}" in kept) == volumes, kept
    with pytest.raises(OSError):  # the edge is gone: nothing answers the URL any more
        urllib.request.urlopen(rehearsal.url, timeout=3, context=rehearsal.tls)


def test_local_down_keeps_the_data_and_local_up_brings_it_back(
    rehearsal: Rehearsal, engine: Engine
) -> None:
    had = rehearsal.state
    result = rehearsal.cli("local", "down")
    assert result.returncode == 0, result.stdout + result.stderr
    if not (had["database"] or had["media"]):  # nothing to keep: nothing is left
        assert "nothing of the rehearsal is left" in result.stderr
        assert not (rehearsal.root / ".cloudsite").exists()
        _rehearsal_is_gone(rehearsal, engine, volumes=False)
        return
    kept = [line.split()[2] for line in result.stdout.splitlines() if line.startswith("kept  ")]
    volumes = [f"cloudsite-local-{rehearsal.name}-pgdata"] * had["database"]
    volumes += [f"cloudsite-local-{rehearsal.name}-media"] * had["media"]
    assert kept[: len(volumes)] == volumes, result.stdout
    assert "its data is kept" in result.stderr
    assert sorted(p.name for p in (rehearsal.root / ".cloudsite" / "local").iterdir()) == [
        "secrets.json"  # the keys of the kept data, and nothing else
    ]
    _rehearsal_is_gone(rehearsal, engine, volumes=True)
    if not had["media"]:
        return  # the Wagtail rehearsal (database and media) comes back up: one is enough
    again = rehearsal.cli("local", "up", "--edge", rehearsal.edge)
    assert again.returncode == 0, again.stderr[-3000:]
    rehearsal.url = again.stdout.strip()
    _what_was_written_is_there(rehearsal)


def test_local_down_delete_data_leaves_nothing_behind(rehearsal: Rehearsal, engine: Engine) -> None:
    result = rehearsal.cli("local", "down", "--delete-data", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing of the rehearsal is left" in result.stderr
    assert not (rehearsal.root / ".cloudsite").exists()
    _rehearsal_is_gone(rehearsal, engine, volumes=False)


def test_ctrl_c_during_local_up_says_how_to_clear_it_and_local_down_does(
    engine: Engine, build_env: dict[str, str], tmp_path: Path
) -> None:
    import os
    import signal

    require(available("haproxy"), "HAProxy (Debian's haproxy)")
    root, _, _ = foreign(tmp_path / "interrupted")
    site = Rehearsal("interrupted", root, engine.script_env(**build_env), "/admin/login/", "")
    site.release("v1")
    proc = subprocess.Popen(
        [CLOUDSITE, "local", "up"],
        cwd=root,
        env=site.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # Ctrl-C once the build runs: the edge is up, no release yet
        seen.append(line)
        if line.startswith("build: "):
            os.killpg(proc.pid, signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, "".join(seen) + rest
    said = "interrupted: `cloudsite local up` carries on from what was made; "
    assert said + "`cloudsite local down` removes it all" in rest
    down = site.cli("local", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (root / ".cloudsite").exists()
    names = engine.docker("ps", "--all", "--format", "{{.Names}}").stdout
    assert "cloudsite-local-interrupted" not in names
