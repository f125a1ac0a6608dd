"""What the tree says about background work (project/background.py): the Celery app a
project makes, other task queues, REDIS_URL; and the broker and Valkey server chosen."""

from dataclasses import replace
from pathlib import Path

import pytest

from cloudsite.project.background import Choice, Tasks, choose
from cloudsite.project.detect import detect
from cloudsite.schema import Config, Process
from tests.support.corpus import CORPUS, celery_project, startproject


def test_cookiecutter_django_s_celery_app_and_its_redis_are_found() -> None:
    tasks = detect(CORPUS / "cookiecutter-django").tasks
    assert tasks.celery_app == "config.celery_app"
    assert tasks.reads_redis_url
    assert tasks.proposed == (("worker", "celery -A config.celery_app worker --loglevel=INFO"),)


def test_a_startproject_has_no_background_work(tmp_path: Path) -> None:
    tasks = detect(startproject(tmp_path / "p")).tasks
    assert (tasks.celery_app, tasks.queues, tasks.proposed) == ("", (), ())
    assert tasks.describe() == "none found"


def test_a_celery_app_in_a_package_s_module_is_found(tmp_path: Path) -> None:
    tasks = detect(celery_project(tmp_path / "p")).tasks
    assert tasks.celery_app == "mysite.celery_app"
    assert not tasks.reads_redis_url


def test_another_queue_library_s_app_proposes_its_worker(tmp_path: Path) -> None:
    root = startproject(tmp_path / "p")
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + '\nINSTALLED_APPS += ["django_rq"]\n')
    tasks = detect(root).tasks
    assert tasks.queues == ("rq",)
    assert tasks.proposed == (("worker", "python manage.py rqworker default"),)


WORKER = (Process("worker", "celery -A x worker"),)
REDIS_PROJECT = Tasks("x", (), (), reads_redis_url=True, reads_broker_url=False)
PLAIN_PROJECT = Tasks("x", (), (), reads_redis_url=False, reads_broker_url=False)


@pytest.mark.parametrize(
    ("tasks", "keys", "broker", "redis"),
    [
        (PLAIN_PROJECT, {"processes": WORKER}, "sqs", False),  # no server to pay for
        (REDIS_PROJECT, {"processes": WORKER}, "redis", True),  # the server is there anyway
        (REDIS_PROJECT, {}, "none", True),  # its cache still gets Valkey
        (PLAIN_PROJECT, {}, "none", False),
        (REDIS_PROJECT, {"processes": WORKER, "broker": "sqs"}, "sqs", True),
        (PLAIN_PROJECT, {"processes": WORKER, "broker": "redis"}, "redis", True),
        (REDIS_PROJECT, {"processes": WORKER, "redis": "off"}, "sqs", False),
        (PLAIN_PROJECT, {"processes": WORKER, "redis": "on"}, "redis", True),
    ],
)
def test_the_broker_and_valkey_are_chosen_from_the_keys_and_the_project(
    tasks: Tasks, keys: dict, broker: str, redis: bool
) -> None:
    choice = choose(tasks, replace(Config(), **keys))
    assert isinstance(choice, Choice)
    assert (choice.broker, choice.redis) == (broker, redis)
    assert choice.why
