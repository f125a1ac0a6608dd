"""S3's stand-in for `cloudsite local` (cloudsite.local.media): rclone's S3 server in a
container, run through the `docker` CLI (as `cloudsite local` runs it in these suites) and,
where the engine is podman, through `podman` itself (as it runs on a machine with no Docker):

    an object put through the published port is served by a SigV4 presigned GET for
        http://s3.localhost:PORT; a URL signed for another host name is refused (403)
    a container on the rehearsal's network with --add-host s3.localhost:ADDRESS fetches that
        same URL, and lists the bucket with the key pair
    the secret key is in no container configuration, log, image layer or command line
    the object outlives a restart of the server (which keeps its address), a new key pair,
        and media_down(delete_data=False) + media_up; delete_data=True removes the volume
    a port another program holds is a one-line error
"""

import dataclasses
import http.client
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudsite.errors import OperationError
from cloudsite.local.database import database_names
from cloudsite.local.engine import LocalEngine
from cloudsite.local.media import Media, media_down, media_names, media_up
from tests.support.engine import Engine

pytestmark = [pytest.mark.engine, pytest.mark.network]
KEY = "uploads/photo.png"
BODY = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(2048)


@dataclass
class Standin:
    engine: LocalEngine
    name: str
    folder: Path
    port: int
    access_key: str
    secret_key: str
    media: Media | None = None

    def up(self, *, port: int = 0) -> Media:
        self.media = media_up(
            self.engine,
            name=self.name,
            folder=self.folder,
            access_key=self.access_key,
            secret_key=self.secret_key,
            port=port or self.port,
        )
        return self.media

    @property
    def names(self) -> dict[str, str]:
        return media_names(self.name)

    def exists(self, kind: str) -> bool:
        found = self.engine.run(kind, "inspect", self.names[kind], check=False)
        return found.returncode == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keys() -> tuple[str, str]:
    return "AKCS" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)


@pytest.fixture(scope="module", params=["docker", "podman"])
def standin(
    request: pytest.FixtureRequest,
    engine: Engine,
    build_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    figures: list[str],
) -> Iterator[Standin]:
    """The stand-in through `docker` (podman's API or a Docker daemon), and through `podman`."""
    if request.param == "podman" and engine.kind != "podman":
        pytest.skip("the engine is Docker: no podman CLI path to check")
    env = engine.script_env(**build_env)
    if request.param == "podman":
        # podman itself, on the same storage: no API socket, and no docker client's config
        # (podman reads DOCKER_CONFIG for registry logins, and the suite's has no file).
        env.pop("DOCKER_HOST", None)
        env.pop("DOCKER_CONFIG", None)
    local = LocalEngine(kind=request.param, env=env)
    access, secret = _keys()
    site = Standin(
        local,
        engine.name(f"media-{request.param}"),
        tmp_path_factory.mktemp(f"media-{request.param}"),
        _free_port(),
        access,
        secret,
    )
    try:
        started = time.monotonic()
        site.up()
        took = time.monotonic() - started
        figures.append(f"media_up ({request.param}), image built or cached: {took:.1f} s")
        yield site
    finally:
        media_down(local, name=site.name, delete_data=True)
        local.run("network", "rm", database_names(site.name)["network"], check=False)


@pytest.fixture
def on_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """s3.localhost as a browser and curl resolve it: to loopback. Python's resolver (glibc's,
    without nss-myhostname here) does not, so for this test alone every lookup of a
    *.localhost name answers 127.0.0.1. The request still carries Host: s3.localhost:PORT,
    and the SigV4 signature covers that name."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def s3(site: Standin, endpoint: str | None = None, *, secret: str | None = None) -> Any:
    assert site.media is not None
    return boto3.client(
        "s3",
        endpoint_url=endpoint or site.media.endpoint_url,
        aws_access_key_id=site.access_key,
        aws_secret_access_key=secret or site.secret_key,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, proxies={}),
    )


def presigned(site: Standin, host: str = "s3.localhost") -> str:
    """A presigned GET, as django-storages makes it for a page: signed for `host`."""
    client = s3(site, f"http://{host}:{site.port}")
    url: str = client.generate_presigned_url(
        "get_object", Params={"Bucket": "media", "Key": KEY}, ExpiresIn=300
    )
    return url


def browser_get(site: Standin, url: str) -> tuple[int, bytes]:
    """What a browser on this machine does with the URL: to 127.0.0.1:PORT, Host as written."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    try:
        conn.request("GET", "/" + path, headers={"Host": host_port})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_names_are_one_for_the_browser_and_the_containers(standin: Standin) -> None:
    media = standin.media
    assert media is not None
    assert media.endpoint_url == f"http://s3.localhost:{standin.port}"
    assert (media.host, media.port, media.bucket) == ("s3.localhost", standin.port, "media")
    assert media.add_host == f"s3.localhost:{media.address}"
    assert media.address.count(".") == 3
    ports = standin.engine.run("port", standin.names["container"]).stdout
    assert f"127.0.0.1:{standin.port}" in ports, ports
    assert f"{standin.port}/tcp" in ports, ports  # the same number inside


def test_an_object_put_on_the_host_is_served_by_a_presigned_url_for_s3_localhost(
    standin: Standin, on_host: None
) -> None:
    s3(standin).put_object(Bucket="media", Key=KEY, Body=BODY, ContentType="image/png")
    status, body = browser_get(standin, presigned(standin))
    assert (status, body) == (200, BODY)
    # Signed for another name (the server's address, as a site that reached it there would
    # sign) and opened at s3.localhost, the same request is refused: the names must match.
    assert standin.media is not None
    other = presigned(standin, standin.media.address)
    status, body = browser_get(
        standin, other.replace(f"//{standin.media.address}:", "//s3.localhost:", 1)
    )
    assert status == 403, body[:200]
    assert b"SignatureDoesNotMatch" in body
    # And a wrong secret is refused too: the server checks signatures.
    with pytest.raises(ClientError) as refused:
        s3(standin, secret="not-" + standin.secret_key).head_object(Bucket="media", Key=KEY)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_container_with_add_host_fetches_the_same_url_and_lists_the_bucket(
    standin: Standin,
) -> None:
    assert standin.media is not None
    url = presigned(standin)
    names = media_names(standin.name)
    client = [
        "--network", database_names(standin.name)["network"],
        "--add-host", standin.media.add_host, "--entrypoint", "rclone", names["image"],
    ]  # fmt: skip
    # rclone as the S3 client, the image the stand-in runs (it is there, and has one). The
    # key pair reaches it in its environment (`-e NAME` takes the value from the CLI's).
    env = dict(
        standin.engine.env,
        RCLONE_S3_ACCESS_KEY_ID=standin.access_key,
        RCLONE_S3_SECRET_ACCESS_KEY=standin.secret_key,
    )
    inside = dataclasses.replace(standin.engine, env=env)
    fetched = run_bytes(inside, "run", "--rm", *client, "copyurl", url, "-")
    assert fetched == BODY
    remote = f":s3,provider=Other,endpoint='{standin.media.endpoint_url}':media"
    listed = inside.run(
        "run", "--rm", "-e", "RCLONE_S3_ACCESS_KEY_ID", "-e", "RCLONE_S3_SECRET_ACCESS_KEY",
        *client, "lsf", "--recursive", remote,
    )  # fmt: skip
    assert "uploads/photo.png" in listed.stdout.split(), listed.stdout + listed.stderr


def run_bytes(engine: LocalEngine, *args: str) -> bytes:
    result = subprocess.run(
        [engine.kind, *args], env=engine.env, capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def test_the_secret_key_is_in_no_configuration_log_layer_or_command_line(
    standin: Standin,
) -> None:
    run = standin.engine.run
    container, image = standin.names["container"], standin.names["image"]
    seen = {
        "inspect": run("inspect", container).stdout,
        "logs": (logs := run("logs", container)).stdout + logs.stderr,
        "image": run("image", "inspect", image).stdout,
        "history": run("image", "history", "--no-trunc", image).stdout,
        "ps": subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout,
    }
    assert "rclone serve s3" in seen["ps"]  # the server's command line is visible from here
    for where, text in seen.items():
        assert standin.secret_key not in text, where
    assert standin.access_key not in seen["inspect"] + seen["ps"]


def test_the_object_outlives_a_restart_and_the_server_keeps_its_address(
    standin: Standin, on_host: None
) -> None:
    assert standin.media is not None
    before = standin.media.address
    standin.engine.run("restart", standin.names["container"])
    media = standin.up()  # finds it running
    assert media.address == before
    status, body = browser_get(standin, presigned(standin))
    assert (status, body) == (200, BODY)


def test_a_new_key_pair_restarts_the_server_with_it_and_keeps_the_objects(
    standin: Standin, on_host: None
) -> None:
    old = standin.secret_key
    standin.access_key, standin.secret_key = _keys()
    standin.up()
    assert s3(standin).get_object(Bucket="media", Key=KEY)["Body"].read() == BODY
    with pytest.raises(ClientError) as refused:
        s3(standin, secret=old).head_object(Bucket="media", Key=KEY)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_port_another_program_holds_is_a_one_line_error(standin: Standin) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(OperationError) as raised:
            standin.up(port=port)
    assert f"port {port} on 127.0.0.1 is taken" in str(raised.value)
    assert "\n" not in str(raised.value) and raised.value.hint
    standin.up()  # back on its own port


def test_down_keeps_the_volume_and_up_serves_the_object_again(
    standin: Standin, on_host: None
) -> None:
    media_down(standin.engine, name=standin.name, delete_data=False)
    assert not standin.exists("container") and not standin.exists("image")
    assert standin.exists("volume")
    standin.up()
    status, body = browser_get(standin, presigned(standin))
    assert (status, body) == (200, BODY)


def test_down_with_delete_data_removes_the_volume(standin: Standin) -> None:
    media_down(standin.engine, name=standin.name, delete_data=True)
    assert not standin.exists("container") and not standin.exists("image")
    assert not standin.exists("volume")
