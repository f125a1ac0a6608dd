"""Background work a project already has, read from its tree (nothing of it runs), and the
broker and Valkey server cloudsite gives it (docs/background.md says why):

    tasks_facts(app_dir, facts) -> Tasks        a Celery app, other task queues, REDIS_URL
    choose(tasks, cfg) -> Choice                 broker: sqs | redis | none; redis: bool

The choice, with [processes] and `broker = "auto"`: the Valkey server when the site has one
anyway (its settings read REDIS_URL, as cookiecutter-django's do; or `redis = "on"`), since
it then costs nothing more and keeps Celery's results; SQS otherwise, which has no server to
pay for by the hour.
"""

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cloudsite.project.pysource import SettingsFacts, parse
from cloudsite.schema import Config

# Installed apps of task queues other than Celery, and the worker command each one documents.
QUEUE_APPS: Final = {
    "django_rq": ("rq", "python manage.py rqworker default"),
    "django_dramatiq": ("dramatiq", "python manage.py rundramatiq"),
    "huey.contrib.djhuey": ("huey", "python manage.py run_huey"),
    "django_q": ("django-q2", "python manage.py qcluster"),
    "django_tasks_db": ("django-tasks-db", "python manage.py db_worker"),
    "django_tasks.backends.database": ("django-tasks", "python manage.py db_worker"),
    "procrastinate.contrib.django": ("procrastinate", "python manage.py procrastinate worker"),
}
SKIPPED: Final = {".venv", "venv", "node_modules", ".git", "__pycache__", ".cloudsite", "tests"}


@dataclass(frozen=True)
class Tasks:
    celery_app: str  # the module that makes the Celery app ("config.celery_app"), or ''
    queues: tuple[str, ...]  # other task queues' names, from INSTALLED_APPS
    proposed: tuple[tuple[str, str], ...]  # (name, command) that init writes in [processes]
    reads_redis_url: bool  # the settings read REDIS_URL from the environment
    reads_broker_url: bool  # the settings read CELERY_BROKER_URL

    def describe(self) -> str:
        found = [f"a Celery app in {self.celery_app}"] if self.celery_app else []
        found += list(self.queues)
        return ", ".join(found) or "none found"


@dataclass(frozen=True)
class Choice:
    broker: str  # sqs | redis | none
    redis: bool  # a Valkey server runs (REDIS_URL)
    why: str


def tasks_facts(app_dir: Path, facts: SettingsFacts) -> Tasks:
    """What the tree has: a module that makes a Celery app, other task queues' apps."""
    celery_app = _celery_module(app_dir)
    queues, proposed = [], []
    if celery_app:
        proposed.append(("worker", f"celery -A {celery_app} worker --loglevel=INFO"))
    for app, (label, command) in QUEUE_APPS.items():
        if app in facts.strings:
            queues.append(label)
            if not proposed:
                proposed.append(("worker", command))
    names = {read.name for read in facts.env}
    return Tasks(
        celery_app=celery_app,
        queues=tuple(queues),
        proposed=tuple(proposed),
        reads_redis_url="REDIS_URL" in names,
        reads_broker_url="CELERY_BROKER_URL" in names,
    )


def _celery_module(app_dir: Path) -> str:
    """The dotted module whose top level makes `Celery(...)` (the shallowest, then by name)."""
    found = []
    for path in sorted(app_dir.rglob("*.py")):
        parts = path.relative_to(app_dir).parts
        if len(parts) > 4 or SKIPPED & set(parts):
            continue
        text = path.read_text(errors="replace")
        if "Celery(" not in text:
            continue
        tree = parse(path)
        if tree is not None and any(_makes_celery(node) for node in tree.body):
            module = ".".join(parts)[: -len(".py")].removesuffix(".__init__")
            found.append((len(parts), module))
    return min(found)[1] if found else ""


def _makes_celery(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    return name == "Celery"


def choose(tasks: Tasks, cfg: Config) -> Choice:
    """The broker and the Valkey server, from the keys and the project (module docstring)."""
    if cfg.redis == "on":
        redis, redis_why = True, "redis = on"
    elif cfg.redis == "off":
        redis, redis_why = False, ""
    elif tasks.reads_redis_url:
        redis, redis_why = True, "the settings read REDIS_URL"
    elif cfg.broker == "redis":
        redis, redis_why = True, "broker = redis"
    else:
        redis, redis_why = False, ""
    if cfg.broker != "auto":
        broker, why = cfg.broker, f"broker = {cfg.broker}"
    elif not cfg.processes:
        broker, why = "none", "no [processes] to take tasks"
    elif redis:
        broker, why = "redis", f"the Valkey server is there anyway ({redis_why})"
    else:
        broker, why = "sqs", "no server to pay for by the hour"
    return Choice(
        broker=broker,
        redis=redis,
        why=why + (f"; Valkey: {redis_why}" if redis and broker != "redis" else ""),
    )
