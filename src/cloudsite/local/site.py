"""`cloudsite local`: the production deployment, rehearsed on this machine.

    up      1. the engine and the edge (HAProxy, or nginx when that is what is installed),
               checked first (one line each when missing)
            2. the state folder .cloudsite/local/ (gitignored): secrets (a generated
               DJANGO_SECRET_KEY, 0600), settings, the edge's certificate, the instances
            3. with a database: PostgreSQL in a container, migrations once per release
            4. the TLS edge on 127.0.0.1 (edge.py): HTTP redirected to HTTPS, health checks
               on /healthz with the instance's address as Host
            5. the release: `cloudsite build`'s image, and a deploy bundle of the runtime
               layer's appspec and hooks naming it by id
            6. the rollout: every instance through the hooks in CodeDeploy's order, one at
               a time, health-gated; a release that fails ValidateService is rolled back
    deploy  steps 5 and 6 again with the current source (up does too, when run again)
    status  the instances, their release and their health at the edge
    logs    the instances' logs
    down    everything up made goes but the data, then a check (local/teardown.py)

Instances are containers named cloudsite-local-<name>-<n>, each with an "instance" folder
(its env file, as user data writes /etc/cloudsite/env, and its deployment root).
"""

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import UsageError
from cloudsite.local import broker as broker_mod
from cloudsite.local import database, edge
from cloudsite.local import media as media_mod
from cloudsite.local.codedeploy import Deployment, DeploymentGroup, Instance, write_env_file
from cloudsite.local.engine import LocalEngine, local_engine, port_free
from cloudsite.local.haproxy import HAProxy
from cloudsite.local.nginx import Nginx
from cloudsite.local.tls import edge_certificate
from cloudsite.project.shipment import BUILT_IN

FOLDER: Final = Path(".cloudsite") / "local"
SECRETS_FILE: Final = "secrets.json"  # the secrets, and the keys of the kept data
LIB: Final = Path("usr") / "local" / "lib" / "cloudsite"  # in an instance's folder, as on EC2
DRAIN: Final = 10  # seconds the edge waits for an instance's requests before it is stopped
GITIGNORE: Final = (
    "# cloudsite's local state (cloudsite local, build logs) is never committed.\nlocal/\n"
)


@dataclass
class State:
    """What `local up` made, in .cloudsite/local/state.json."""

    name: str
    port: int  # HTTPS on 127.0.0.1
    http_port: int  # plain HTTP, redirected
    instances: list[dict[str, Any]] = field(default_factory=list)  # name, port, revision
    last_good: str = ""  # the bundle of the last successful release
    releases: list[str] = field(default_factory=list)  # image tags made
    database: bool = False
    media: bool = False  # S3's stand-in runs (media.py)
    media_port: int = 0  # its port, the same on 127.0.0.1 and in its container
    edge: str = "haproxy"  # which edge runs: haproxy or nginx (edge.KINDS)
    broker: str = ""  # the tasks' broker: sqs (moto's server), redis (Valkey) or ''
    redis: bool = False  # Valkey's stand-in runs (REDIS_URL)
    sqs_port: int = 0  # the SQS stand-in's port, the same on 127.0.0.1 and in its container
    task_timeout: int = 1800  # task_timeout_seconds: the queue's visibility timeout less 60

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"


@dataclass
class Local:
    """One project's rehearsal: its folder, engine and state."""

    root: Path  # the project (where cloudsite.toml is)
    name: str
    engine: LocalEngine
    progress: Callable[[str], None]
    state: State | None = None
    edge_kind: str = "haproxy"  # the edge up starts (or finds running)

    @property
    def folder(self) -> Path:
        return self.root / FOLDER

    @property
    def socket(self) -> Path:
        """HAProxy's runtime API. A Unix socket's path has a limit (108 bytes) that a project
        folder can pass, so it lives in a folder of its own under the temporary folder."""
        import hashlib
        import tempfile

        digest = hashlib.sha256(str(self.folder.resolve()).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"cloudsite-local-{digest}" / "haproxy.sock"

    def container(self, instance: str) -> str:
        return f"cloudsite-local-{self.name}-{instance}"

    # -- the state file
    def load(self) -> State | None:
        path = self.folder / "state.json"
        if path.is_file():
            self.state = State(**json.loads(path.read_text()))
        return self.state

    def save(self) -> None:
        assert self.state is not None
        (self.folder / "state.json").write_text(json.dumps(asdict(self.state), indent=2) + "\n")


def open_local(
    root: Path,
    *,
    name: str,
    progress: Callable[[str], None],
    port: int = 0,
    edge_kind: str | None = "auto",
) -> Local:
    """Step 1 (and the folder): the engine and the edge, or one line naming what to install;
    a --port another server holds. Nothing is made before these pass. `edge_kind`: auto,
    haproxy or nginx for a command that starts the edge; None for one that only reads or
    removes what is there (status, logs, down)."""
    folder = root / FOLDER
    state = folder / "state.json"
    saved = json.loads(state.read_text()) if state.is_file() else {}
    kind = _edge_kind(edge_kind, saved)
    engine = local_engine(folder)  # before anything is made
    ours = saved.get("port")
    if port and port != ours and not port_free(port):
        raise UsageError(
            "--port",
            f"{port} is already in use on 127.0.0.1 (another server listens there)",
            hint=f"pass another, e.g. --port {port + 1}, or leave --port out for a free one",
        )
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE)
    if engine.shim:
        engine.install_shim(folder)
    local = Local(root=root, name=name, engine=engine, progress=progress, edge_kind=kind)
    local.load()
    return local


def _edge_kind(requested: str | None, saved: dict[str, Any]) -> str:
    """The edge to use: the one asked for, the one the rehearsal already runs, or the first
    installed of HAProxy and nginx; a UsageError naming what to install or do otherwise."""
    current = saved.get("edge", "haproxy") if saved else ""
    if requested is None:
        return current or "haproxy"
    installed = edge.installed()
    if requested == "auto":
        requested = current if current in installed else (installed or [""])[0]
        if not requested:
            raise UsageError(
                "local",
                "no TLS edge: neither HAProxy nor nginx is installed",
                hint="install one (apt-get install haproxy, or nginx; brew install haproxy): "
                "it stands in for the load balancer",
            )
    if requested not in installed:
        raise UsageError(
            "--edge",
            f"{edge.LABELS[requested]} is not installed, so it cannot be the TLS edge",
            hint=f"install it (apt-get install {requested}), or pass --edge auto",
        )
    if current and requested != current:  # its edge may run, on the rehearsal's ports
        raise UsageError(
            "--edge",
            f"this rehearsal's edge is {edge.LABELS[current]}; it does not change while "
            "the rehearsal is up",
            hint=f"run `cloudsite local down`, then `cloudsite local up --edge {requested}`",
        )
    return requested


# ---------------------------------------------------------------------------- up and deploy
def up(
    local: Local,
    *,
    package: Any,
    database_on: bool,
    instances: int,
    port: int,
    media_on: bool = False,
    no_cache: bool = False,
    tasks: "Tasks | None" = None,
) -> Deployment:
    """Steps 2 to 6 of the module docstring."""
    state = local.state or State(name=local.name, port=port or _free_port(), http_port=_free_port())
    local.state = state
    state.edge = local.edge_kind
    state.database = database_on
    state.media = media_on
    if media_on and not state.media_port:
        state.media_port = _free_port()
    tasks = tasks or Tasks()
    state.broker = tasks.broker if tasks.broker in ("sqs", "redis") else ""
    state.redis, state.task_timeout = tasks.redis, tasks.timeout
    if state.broker == "sqs" and not state.sqs_port:
        state.sqs_port = _free_port()
    local.save()
    started = time.monotonic()
    secrets_file, settings_file = _secrets(local)
    kept = json.loads(secrets_file.read_text())
    stand_ins = database_on or media_on or state.redis or state.broker == "sqs"
    network = database.network_up(local.engine, local.name) if stand_ins else ""
    if state.database:
        local.progress("database: PostgreSQL in a container (the first time builds its image)")
        url = database.database_up(
            local.engine, name=local.name, folder=local.folder, password=kept["POSTGRES_PASSWORD"]
        )
        _update(secrets_file, DATABASE_URL=url)
    stand_in = None
    if state.media:
        local.progress(f"media: S3's stand-in on 127.0.0.1:{state.media_port} (rclone serve s3)")
        stand_in = media_mod.media_up(
            local.engine,
            name=local.name,
            folder=local.folder,
            access_key=kept["MEDIA_ACCESS_KEY"],
            secret_key=kept["MEDIA_SECRET_KEY"],
            port=state.media_port,
        )
    queue = _tasks_up(local, secrets_file)
    local.progress(
        f"edge: {edge.LABELS[state.edge]} with TLS on 127.0.0.1:{state.port} "
        f"(HTTP {state.http_port} redirects)"
    )
    balancer = _edge_up(local)
    while len(state.instances) < instances:
        number = len(state.instances) + 1
        state.instances.append({"name": f"i{number}", "port": _free_port(), "revision": ""})
    local.save()
    group = _group(
        local, balancer, secrets_file, settings_file, network=network, media=stand_in, queue=queue
    )
    deployment = _release(local, group, package=package, no_cache=no_cache)
    from cloudsite.local import schedule

    if schedule.start(local):
        local.progress(f"schedule: the scheduler sends [schedule] (log: {schedule.LOG_FILE})")
    local.progress(f"done in {time.monotonic() - started:.0f} s")
    return deployment


@dataclass(frozen=True)
class Tasks:
    """What the rehearsal runs for the [processes]' tasks (project/background.py's choice)."""

    broker: str = "none"  # sqs | redis | none
    redis: bool = False
    timeout: int = 1800  # task_timeout_seconds


def _tasks_up(local: Local, secrets_file: Path) -> "broker_mod.Queue | None":
    """Valkey's and SQS's stand-ins, as the choice asks (local/broker.py); REDIS_URL (and
    CELERY_BROKER_URL on Valkey) in the secrets the hooks hand over."""
    state = local.state
    assert state is not None
    kept = json.loads(secrets_file.read_text())
    urls = {}
    if state.redis:
        local.progress("valkey: Debian's valkey-server in a container (REDIS_URL)")
        url = broker_mod.valkey_up(
            local.engine, name=local.name, folder=local.folder, password=kept["VALKEY_PASSWORD"]
        )
        urls = {"REDIS_URL": url} | ({"CELERY_BROKER_URL": url} if state.broker == "redis" else {})
    current = {k: v for k, v in kept.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    if current | urls != kept:
        _write_private(secrets_file, current | urls)
    if state.broker != "sqs":
        return None
    local.progress(f"sqs: moto's server on 127.0.0.1:{state.sqs_port}, the tasks' queue")
    return broker_mod.sqs_up(
        local.engine,
        name=local.name,
        folder=local.folder,
        port=state.sqs_port,
        visibility=state.task_timeout + 60,
    )


def deploy(
    local: Local,
    *,
    package: Any,
    database_on: bool,
    media_on: bool = False,
    tasks: Tasks | None = None,
) -> Deployment:
    """A new release of the current source, rolled out one instance at a time."""
    if local.state is None or not local.state.instances:
        raise UsageError(
            "local deploy", "nothing is running here", hint="run `cloudsite local up` first"
        )
    count = len(local.state.instances)
    return up(
        local,
        package=package,
        database_on=database_on,
        media_on=media_on,
        instances=count,
        port=local.state.port,
        tasks=tasks,
    )


def _release(local: Local, group: DeploymentGroup, *, package: Any, no_cache: bool) -> Deployment:
    from cloudsite.project.image import image_build

    state = local.state
    assert state is not None
    tag = f"release-{package.sha256[:12]}"
    image = f"{local.name}:{tag}"
    # A release is named by the digest of its source zip (the tree, the runtime layer,
    # project.json): one this rehearsal built already is that very image (--no-cache rebuilds).
    made = tag in state.releases and local.engine.run("image", "inspect", image, check=False)
    if made and made.returncode == 0 and not no_cache:
        local.progress(f"build: {image}, built already from this very source")
    else:
        local.progress(f"build: {image} (cloudsite build)")
        image = image_build(
            package,
            name=local.name,
            tag=tag,
            no_cache=no_cache,
            log=local.folder / "build.log",
            progress=lambda line: local.progress("  " + line),
        ).image
    image_id = local.engine.run("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    image_id = image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"
    bundle = local.folder / "releases" / tag
    _bundle(bundle, image_id, _project_json(package))
    if tag not in state.releases:
        state.releases.append(tag)
    local.progress(f"rollout: {tag} to {len(group.instances)} instance(s), one at a time")
    deployment = group.deploy(bundle)
    if deployment.status == "Succeeded":
        state.last_good = str(bundle)
    for instance in group.instances:
        entry = next(i for i in state.instances if i["name"] == instance.name)
        entry["revision"] = Path(instance.revision).name if instance.revision else ""
    local.save()
    return deployment


def _project_json(package: Any) -> dict[str, Any]:
    """The release's .cloudsite/project.json, from its source zip."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        return dict(json.loads(archive.read(".cloudsite/project.json")))


def _bundle(bundle: Path, image_id: str, project: dict[str, Any]) -> None:
    """appspec.yml, hooks/, image-uri and background.json, as build.py --bundle writes them."""
    import shutil

    from cloudsite.runtime.build import background

    shutil.rmtree(bundle, ignore_errors=True)
    (bundle / "hooks").mkdir(parents=True)
    shutil.copy2(BUILT_IN / "appspec.yml", bundle / "appspec.yml")
    for hook in (BUILT_IN / "hooks").iterdir():
        shutil.copy2(hook, bundle / "hooks" / hook.name)
        (bundle / "hooks" / hook.name).chmod(0o644 if hook.name == "common.sh" else 0o755)
    (bundle / "image-uri").write_text(image_id + "\n")
    (bundle / "background.json").write_text(background(project))


def _secrets(local: Local) -> tuple[Path, Path]:
    """The secrets (0600, made once and kept) and the settings the hooks read."""
    state = local.state
    assert state is not None
    secrets_file = local.folder / SECRETS_FILE
    kept = json.loads(secrets_file.read_text()) if secrets_file.is_file() else {}
    made = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "MEDIA_ACCESS_KEY": "cloudsite" + secrets.token_hex(8),
        "MEDIA_SECRET_KEY": secrets.token_urlsafe(30),
        "VALKEY_PASSWORD": secrets.token_hex(24),
    }
    if set(made) - set(kept):  # made once, and kept by `local down` with the data
        _write_private(secrets_file, made | kept)
    hosts = "127.0.0.1,localhost"
    origins = f"https://127.0.0.1:{state.port},https://localhost:{state.port}"
    settings_file = local.folder / "settings.json"
    settings = {
        "DJANGO_ALLOWED_HOSTS": hosts,
        "DJANGO_CSRF_TRUSTED_ORIGINS": origins,
        "WEB_CONCURRENCY": "2",
    }
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    return secrets_file, settings_file


def _write_private(path: Path, values: dict[str, Any]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle)


def _update(path: Path, **values: str) -> None:
    current = json.loads(path.read_text())
    current.update(values)
    _write_private(path, current)


# The stand-ins' own keys: the site gets the database's inside DATABASE_URL, and the media
# keys as the credentials file its AWS calls use (as the site role's on AWS), not as secrets.
STAND_IN_KEYS: Final = (
    "POSTGRES_PASSWORD",
    "MEDIA_ACCESS_KEY",
    "MEDIA_SECRET_KEY",
    "VALKEY_PASSWORD",
)


def _hook_secrets(secrets_file: Path, folder: Path) -> Path:
    """What the hooks hand the container: the secrets the site reads."""
    values = {
        k: v for k, v in json.loads(secrets_file.read_text()).items() if k not in STAND_IN_KEYS
    }
    target = folder / "hook-secrets.json"
    _write_private(target, values)
    return target


def _site_credentials(secrets_file: Path, folder: Path) -> Path:
    """The media stand-in's keys in credential_process's form (static: no Expiration)."""
    kept = json.loads(secrets_file.read_text())
    target = folder / "site-credentials.json"
    _write_private(
        target,
        {
            "Version": 1,
            "AccessKeyId": kept["MEDIA_ACCESS_KEY"],
            "SecretAccessKey": kept["MEDIA_SECRET_KEY"],
        },
    )
    return target


def _group(
    local: Local,
    balancer: edge.Edge,
    secrets_file: Path,
    settings_file: Path,
    *,
    network: str,
    media: "media_mod.Media | None" = None,
    queue: "broker_mod.Queue | None" = None,
) -> DeploymentGroup:
    """The deployment group the state describes: instances, their last revision, in service."""
    state = local.state
    assert state is not None
    group = DeploymentGroup(
        application=local.name,
        name=f"{local.name}-local",
        env=local.engine.env,
        load_balancer=balancer,
        id=f"local-{local.name}",
    )
    group.last_good = Path(state.last_good) if state.last_good else None
    known = balancer.stats()
    hook_secrets = _hook_secrets(secrets_file, local.folder)
    stand_in: dict[str, str] = {}
    if media is not None or state.broker == "sqs":
        credentials = _site_credentials(secrets_file, local.folder)
        stand_in["CLOUDSITE_SITE_CREDENTIALS_FILE"] = str(credentials)
    if media is not None:
        stand_in |= {
            "CLOUDSITE_MEDIA_BUCKET": media.bucket,
            "CLOUDSITE_MEDIA_ENDPOINT_URL": media.endpoint_url,
            "CLOUDSITE_MEDIA_ADD_HOST": media.add_host,
        }
    if state.broker or state.redis:
        stand_in |= {
            "CLOUDSITE_BROKER": state.broker,
            "CLOUDSITE_TASK_TIMEOUT": str(state.task_timeout),
            "CLOUDSITE_PROCESS_SETTLE": "5",
        }
    if queue is not None:
        stand_in |= {
            "CLOUDSITE_QUEUE_URL": queue.url,
            "CLOUDSITE_QUEUE_BROKER_URL": queue.broker_url,
            "CLOUDSITE_QUEUE_ADD_HOST": queue.add_host,
            "CLOUDSITE_QUEUE_INSECURE": "1",
        }
    for entry in state.instances:
        root = local.folder / "instances" / entry["name"]
        env_file = write_env_file(
            root / "etc" / "cloudsite" / "env",
            {
                "CLOUDSITE_STACK": local.name,
                "CLOUDSITE_APP_PORT": str(entry["port"]),
                "CLOUDSITE_CONTAINER": local.container(entry["name"]),
                "CLOUDSITE_LOG_DRIVER": "json-file",
                "CLOUDSITE_BIND_ADDRESS": "127.0.0.1",
                "CLOUDSITE_DOCKER_NETWORK": network,
                "CLOUDSITE_VALIDATE_TIMEOUT": "60",
                "CLOUDSITE_STOP_TIMEOUT": "10",
                "CLOUDSITE_STATE_DIR": str(root / "run"),
                # The instance's own /usr/local/lib/cloudsite (manage.sh, the secrets timer's
                # scripts) and systemd folder: nothing of the machine's is written.
                "CLOUDSITE_LIB_DIR": str(root / LIB),
                "CLOUDSITE_SYSTEMD_DIR": str(root / "etc" / "systemd" / "system"),
                "CLOUDSITE_INSTANCE_ID": entry["name"],
                "CLOUDSITE_SETTINGS_FILE": str(settings_file),
                "CLOUDSITE_SECRETS_FILE": str(hook_secrets),
                "CLOUDSITE_DATABASE_SECRET_ARN": "local" if state.database else "",
                **stand_in,
            },
        )
        instance = Instance(name=entry["name"], root=root, port=entry["port"], env_file=env_file)
        bundle = local.folder / "releases" / entry["revision"] if entry["revision"] else None
        if bundle is not None and bundle.is_dir():
            instance.revision = bundle
            instance.last_good = _archive(group, instance, bundle)
        if entry["name"] in known:
            group.instances.append(instance)
            status = known[entry["name"]]["status"]  # HAProxy's "UP 1/2" is still up
            instance.in_service = status.startswith("UP")
            if status.startswith("DOWN"):  # failing its checks: out of service, as the ALB's
                balancer.block(entry["name"])  # checks have taken it (nginx still routes to it)
        else:
            group.add(instance)
    return group


def _archive(group: DeploymentGroup, instance: Instance, bundle: Path) -> Path | None:
    """The instance's copy of the last bundle it ran (ApplicationStop runs from it)."""
    root = instance.root / "deployment-root" / group.id
    found = (
        sorted(root.glob("*/deployment-archive"), key=lambda p: p.stat().st_mtime)
        if root.is_dir()
        else []
    )
    for archive in reversed(found):
        if (archive / "image-uri").read_text() == (bundle / "image-uri").read_text():
            return archive
    return found[-1] if found else None


# ---------------------------------------------------------------------------- the edge
def edge_for(local: Local, kind: str = "") -> HAProxy | Nginx:
    """The state's edge (or `kind`'s), running or not: HAProxy's runtime API, or nginx's
    folder."""
    state = local.state or State(name=local.name, port=0, http_port=0)
    served = local.folder / "tls" / "edge.pem"
    if (kind or state.edge) == "nginx":  # its targets come back from its folder
        return Nginx(
            folder=local.folder / "nginx",
            port=state.port,
            deregistration_delay=DRAIN,
            http_port=state.http_port,
            pem=str(served),
        )
    return HAProxy(
        port=state.port,
        socket=local.socket,
        deregistration_delay=DRAIN,
        folder=local.folder,
        http_port=state.http_port,
        pem=served,
    )


def _edge_up(local: Local) -> HAProxy | Nginx:
    balancer = edge_for(local)
    if not balancer.running():
        edge_certificate(local.folder / "tls", project=local.name)
        balancer.start()
    return balancer


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------- status, logs
def status(local: Local) -> list[dict[str, Any]]:
    """One row per instance: its container's state, its release, its health at the edge."""
    state = local.state
    if state is None:
        return []
    balancer = edge_for(local)
    health = balancer.stats() if balancer.running() else {}
    rows = []
    for entry in state.instances:
        found = local.engine.run(
            "container",
            "inspect",
            "--format",
            "{{.State.Status}}",
            local.container(entry["name"]),
            check=False,
        )
        rows.append(
            {
                "instance": entry["name"],
                "port": str(entry["port"]),
                "container": found.stdout.strip() or "missing",
                "release": entry["revision"] or "none",
                "edge": health.get(entry["name"], {}).get("status", "not registered"),
                "processes": {
                    process: state
                    for process, state in processes(local, entry["name"], "{{.State.Status}}")
                },
            }
        )
    return rows


def processes(local: Local, instance: str, field: str = "") -> list[tuple[str, str]]:
    """(NAME-N, `field` of its container) for each [processes] container of an instance."""
    web = local.container(instance)
    found = local.engine.run(
        "ps", "--all", "--filter", f"label=cloudsite.instance={web}",
        "--filter", "label=cloudsite.process", "--format", "{{.Names}}", check=False,
    )  # fmt: skip
    names = sorted(found.stdout.split())
    if not field:
        return [(name.removeprefix(web + "-"), name) for name in names]
    rows = []
    for name in names:
        value = local.engine.run("container", "inspect", "--format", field, name, check=False)
        rows.append((name.removeprefix(web + "-"), value.stdout.strip() or "missing"))
    return rows


def logs(local: Local, *, tail: int) -> list[tuple[str, str]]:
    """(instance, line) for each instance's last `tail` lines, and (instance/NAME-N, line) for
    each of its [processes]' containers."""
    lines: list[tuple[str, str]] = []
    for entry in local.state.instances if local.state else []:
        sources = [(entry["name"], local.container(entry["name"]))]
        sources += [(f"{entry['name']}/{p}", c) for p, c in processes(local, entry["name"])]
        for label, container in sources:
            found = local.engine.run("logs", "--tail", str(tail), container, check=False)
            lines += [(label, line) for line in (found.stdout + found.stderr).splitlines()]
    return lines
