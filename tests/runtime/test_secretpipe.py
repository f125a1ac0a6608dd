"""New secrets reach a running site (cloudsite.runtime.secretpipe, and gunicorn_conf's on_reload
and post_fork): the records' format, the pipe the master reads them from, and gunicorn serving
the reference site through the layer, switching databases under load when it is handed a new
DATABASE_URL, with no failed request."""

import os
import secrets
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudsite.runtime.secretpipe import SecretsError, parse, receive
from tests.site.served import Served, get, gunicorn_site
from tests.support.load import LoadGenerator

pytestmark = pytest.mark.network
HEADERS = {"Host": "www.example.com", "X-Forwarded-Proto": "https"}
RENAMED = "Reloaded Harbour"


def test_records_are_complete_only_with_the_empty_record_that_ends_them() -> None:
    assert parse(b"DATABASE_URL=sqlite:///x\0DJANGO_SECRET_KEY=k=v") is None
    assert parse(b"DATABASE_URL=sqlite:///x\0DJANGO_SECRET_KEY=k=v\0") is None
    assert parse(b"DATABASE_URL=sqlite:///x\0DJANGO_SECRET_KEY=k=v\0\0") == {
        "DATABASE_URL": "sqlite:///x",
        "DJANGO_SECRET_KEY": "k=v",
    }
    assert parse(b"\0") == {}


def test_a_malformed_record_is_named_by_position_never_by_value() -> None:
    with pytest.raises(SecretsError, match="record 2 is not NAME=VALUE") as raised:
        parse(b"A=1\0lower=hunter2\0\0")
    assert "hunter2" not in str(raised.value)


def test_receive_reads_a_writers_records_and_removes_the_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "secrets.fifo"

    def write() -> None:
        while not fifo.exists():
            time.sleep(0.01)
        assert fifo.stat().st_mode & 0o777 == 0o600
        with open(fifo, "wb") as pipe:  # two writes, as a shell pipe may deliver them
            pipe.write(b"DJANGO_SECRET_KEY=new")
            pipe.flush()
            time.sleep(0.1)
            pipe.write(b"\0\0")

    writer = threading.Thread(target=write)
    writer.start()
    assert receive(str(fifo), timeout=10) == {"DJANGO_SECRET_KEY": "new"}
    writer.join()
    assert not fifo.exists()


def test_receive_gives_up_after_its_timeout_and_removes_the_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "secrets.fifo"
    started = time.monotonic()
    with pytest.raises(SecretsError, match=r"none arrived within 0\.5 s"):
        receive(str(fifo), timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 5
    assert not fifo.exists()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> Iterator[Served]:
    """gunicorn as `bin/start` runs it in the image when secrets come through a pipe, on an
    SQLite database of its own (whatever the suite's DATABASE_URL)."""
    workdir = tmp_path_factory.mktemp("reload")
    with gunicorn_site(
        workdir,
        static_root=production_static,
        DATABASE_URL=f"sqlite:///{workdir / 'first.sqlite3'}",
        GUNICORN_PIDFILE=str(workdir / "gunicorn.pid"),
        CLOUDSITE_RELOAD_FIFO=str(workdir / "secrets.fifo"),
        CLOUDSITE_RELOAD_WAIT="2",
        WEB_CONCURRENCY="2",
    ) as served:
        yield served


def hand_over(fifo: Path, records: bytes) -> None:
    """What `start reload` does once it has signalled the master: wait for its pipe, write."""
    deadline = time.monotonic() + 10
    while not fifo.exists():
        assert time.monotonic() < deadline, "the master made no pipe after SIGHUP"
        time.sleep(0.02)
    with open(fifo, "wb") as pipe:
        pipe.write(records)


def test_new_secrets_reach_new_workers_and_no_request_fails(site: Served) -> None:
    workdir = Path(site.env["GUNICORN_PIDFILE"]).parent
    first = Path(site.env["DATABASE_URL"].removeprefix("sqlite:///"))
    second = workdir / "second.sqlite3"
    shutil.copy(first, second)
    with sqlite3.connect(second) as db:
        db.execute("UPDATE travel_destination SET name = ? WHERE id = 1", (RENAMED,))
    status, _, body = get(site.port, "/destinations/", HEADERS)
    assert status == 200 and RENAMED.encode() not in body

    master = int(Path(site.env["GUNICORN_PIDFILE"]).read_text())
    assert master == site.proc.pid
    new_key = secrets.token_urlsafe(48)
    # Kept-alive connections, as a load balancer holds them, to a page that queries the database.
    with LoadGenerator(
        port=site.port, host=HEADERS["Host"], headers=HEADERS, page="/destinations/", marker=False
    ) as load:
        time.sleep(0.5)
        os.kill(master, signal.SIGHUP)
        hand_over(
            Path(site.env["CLOUDSITE_RELOAD_FIFO"]),
            f"DATABASE_URL=sqlite:///{second}\0DJANGO_SECRET_KEY={new_key}\0\0".encode(),
        )
        deadline = time.monotonic() + 30
        while RENAMED.encode() not in get(site.port, "/destinations/", HEADERS)[2]:
            assert time.monotonic() < deadline, "the new workers never used the new database"
            time.sleep(0.2)
        time.sleep(1)
    assert load.report.requests > 100, load.report.summary()
    assert load.report.failures == 0, load.report.failure_samples
    # Only new workers answer now: every answer comes from the second database.
    assert all(RENAMED.encode() in get(site.port, "/destinations/", HEADERS)[2] for _ in range(10))
    log = site.log.read_text()
    assert "secrets: 2 received; new workers take them" in log
    assert new_key not in log
    assert not Path(site.env["CLOUDSITE_RELOAD_FIFO"]).exists()


def test_a_reload_that_gets_no_secrets_keeps_the_ones_the_site_has(site: Served) -> None:
    before = get(site.port, "/destinations/", HEADERS)
    os.kill(site.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 15
    while "secrets: not reloaded: none arrived within 2 s" not in site.log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(1)  # the new workers start with the secrets the master kept
    status, _, body = get(site.port, "/destinations/", HEADERS)
    assert (status, body.count(RENAMED.encode())) == (200, before[2].count(RENAMED.encode()))
    assert not Path(site.env["CLOUDSITE_RELOAD_FIFO"]).exists()
