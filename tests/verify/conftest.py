"""Session fixtures for verify's network tests: a PKI, the reference site served as the image
serves it (gunicorn through the runtime layer, tests/site/served.py), and HAProxy in front of it
(tests/verify/edge.py)."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.site.served import gunicorn_site
from tests.support.moto import aws_env, moto_server
from tests.verify.edge import Edge
from tests.verify.pki import Pki, make_pki

HOST = "www.cloudsite.test"
WRONG_HOST = "other.cloudsite.test"
# Names map to loopback through verify's own resolver override, never /etc/hosts.
RESOLVE = {HOST: "127.0.0.1"}


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), host=HOST, wrong_host=WRONG_HOST)


def _gunicorn(
    workdir: Path, *, database_url: str, static_root: Path, migrate: bool
) -> Iterator[int]:
    with gunicorn_site(
        workdir,
        static_root=static_root,
        migrate=migrate,
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        DATABASE_URL=database_url,
        WEB_CONCURRENCY="2",
    ) as served:
        yield served.port


@pytest.fixture(scope="session")
def site_port(tmp_path_factory: pytest.TempPathFactory, production_static: Path) -> Iterator[int]:
    """The site on gunicorn, production profile, SQLite in a temporary directory."""
    workdir = tmp_path_factory.mktemp("site")
    database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
    yield from _gunicorn(
        workdir, database_url=database_url, static_root=production_static, migrate=True
    )


@pytest.fixture(scope="session")
def not_ready_port(
    tmp_path_factory: pytest.TempPathFactory, production_static: Path
) -> Iterator[int]:
    """The same site whose database cannot be opened: /healthz 200, /readyz 503."""
    workdir = tmp_path_factory.mktemp("site-no-db")
    missing = workdir / "no-such-directory" / "db.sqlite3"
    yield from _gunicorn(
        workdir, database_url=f"sqlite:///{missing}", static_root=production_static, migrate=False
    )


@pytest.fixture(scope="session")
def edge(tmp_path_factory: pytest.TempPathFactory, site_port: int) -> Iterator[Edge]:
    require(shutil.which("haproxy") is not None, "HAProxy (Debian package haproxy)")
    proxy = Edge(tmp_path_factory.mktemp("edge"), host=HOST, site_port=site_port)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's server on loopback, and the AWS environment pointing at it."""
    with moto_server() as url, pytest.MonkeyPatch.context() as patch:
        for key, value in aws_env(url).items():
            patch.setenv(key, value)
        yield url
