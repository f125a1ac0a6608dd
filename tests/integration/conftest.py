"""Session fixtures for the engine suites: one registry, one engine, one package index and the
images built from this working tree, shared by every test that needs them."""

import dataclasses
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

import tests.support.moto_secretsmanager  # noqa: F401  (rotation as AWS does it)
from tests.conftest import require
from tests.support.engine import Engine, start_engine
from tests.support.images import build, source_tree
from tests.support.layer import WANDERPAGE
from tests.support.moto import aws_env, moto_server
from tests.support.registry import local_registry, registry_available

FIGURES = pytest.StashKey[list[str]]()
SITE_HOST = "www.example.test"
REGION = "us-east-1"
STACK = "cstest"


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> list[str]:
    """Lines the engine suites report (timings, sizes, request counts); printed at the end."""
    return request.config.stash.setdefault(FIGURES, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("container and deploy figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """ECR's stand-in: "localhost:PORT"."""
    require(registry_available(), "an image registry (Debian's docker-registry)")
    with local_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory, registry: str) -> Iterator[Engine]:
    with start_engine(tmp_path_factory.mktemp("engine"), insecure_registries=[registry]) as found:
        require(found is not None, "a container engine (Docker, or podman via scripts/podman.sh)")
        assert found is not None
        yield found


@pytest.fixture(scope="session")
def build_env(engine: Engine) -> dict[str, str]:
    """What build.py needs here: the local Debian base (no registry answers). The package
    index is PyPI itself, through this machine's TLS-inspecting proxy, whose CA bundle
    (PIP_CERT) build.py hands to the build stage only."""
    return {"BASE_IMAGE": engine.base_image}


@dataclass(frozen=True)
class Release:
    name: str
    source: Path
    image: str  # the locally built tag
    seconds: float  # how long build.py took


class Releases:
    """A project (Wanderpage by default) as named releases, each built (and pushed, bundled)
    once a session."""

    def __init__(
        self,
        engine: Engine,
        *,
        env: dict[str, str],
        registry: str,
        tmp: Path,
        figures: list[str],
        project: Path = WANDERPAGE,
    ) -> None:
        self.engine, self.env, self.registry, self.tmp = engine, env, registry, tmp
        self.figures, self.project = figures, project
        self._built: dict[str, Release] = {}
        self._bundles: dict[str, Path] = {}

    def source(self, name: str, *, broken: bool = False) -> Path:
        path = self.tmp / name / "repo"
        if not path.exists():
            source_tree(path, release=name, broken=broken, project=self.project)
        return path

    def __call__(self, name: str, *, broken: bool = False) -> Release:
        if name not in self._built:
            source = self.source(name, broken=broken)
            started = time.monotonic()
            image = build(
                self.engine,
                source,
                image=f"{self.engine.name('web-' + self.project.name)}:{name}",
                env=self.env,
            )
            self._built[name] = Release(name, source, image, time.monotonic() - started)
            self.figures.append(f"build.py {name}: {self._built[name].seconds:.1f} s")
        return self._built[name]

    def bundle(self, name: str, *, broken: bool = False) -> Path:
        """The deploy bundle of a release, as the buildspec makes it: pushed, by digest."""
        if name not in self._bundles:
            bundle = self.tmp / name / "bundle"
            repository = f"{self.registry}/{self.engine.name('web-' + self.project.name)}"
            build(
                self.engine, self.source(name, broken=broken), image=f"{repository}:{name}",
                env=self.env, push=True, bundle=bundle, revision=name,
            )  # fmt: skip
            self._bundles[name] = bundle
        return self._bundles[name]


@pytest.fixture(scope="session")
def releases(
    engine: Engine,
    build_env: dict[str, str],
    registry: str,
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> Releases:
    tmp = tmp_path_factory.mktemp("rel")
    return Releases(engine, env=build_env, registry=registry, tmp=tmp, figures=figures)


@dataclass(frozen=True)
class AwsStandIn:
    """moto's server with what user data and the template would have created."""

    env: dict[str, str]
    parameter_path: str
    secret_key_arn: str
    secret_key: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=REGION,
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def aws() -> Iterator[AwsStandIn]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    with moto_server() as endpoint:
        standin = AwsStandIn(aws_env(endpoint, region=REGION), f"/cloudsite/{STACK}/", "", "")
        ssm, path = standin.client("ssm"), standin.parameter_path
        for name, value in {
            "DJANGO_ALLOWED_HOSTS": SITE_HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{SITE_HOST}",
            # Two workers boot faster than gunicorn's 2 x CPUs + 1 on a shared test machine.
            "WEB_CONCURRENCY": "2",
        }.items():
            ssm.put_parameter(Name=f"{path}{name}", Value=value, Type="String")
        key = "cstest-" + secrets.token_urlsafe(40)
        secret = standin.client("secretsmanager").create_secret(
            Name=f"{STACK}/django-secret-key", SecretString=key
        )
        yield dataclasses.replace(standin, secret_key_arn=secret["ARN"], secret_key=key)
