"""The broker's and Valkey's stand-ins for `cloudsite local` (docs/background.md), each a real
server in a container of its own on the rehearsal's network:

- Valkey (ElastiCache's stand-in): Debian's valkey-server, from the same pinned base as the
  site's image. Its password is made by the caller and kept in secrets.json; it reaches the
  server's configuration file in the volume through a one-off container's stdin (never an
  image, a command line or a log), and the site as REDIS_URL, through the pipe. Append-only
  persistence in the volume: queued tasks outlive a restart and `local down`.
- SQS: moto's server (moto, flask and flask-cors from PyPI, hash-locked in
  requirements/moto.txt), with the queue made as the template makes it (the visibility
  timeout above the longest task and its stop grace). moto keeps it in memory: it outlives
  deploys and rollbacks (the server is not restarted by them), not `local down`.

The site reaches Valkey at its fixed address on the network and SQS by a name given with
--add-host (sqs.cloudsite.test); SQS is also published on 127.0.0.1:PORT.

    valkey_up(engine, name=..., folder=..., password=...) -> REDIS_URL
    sqs_up(engine, name=..., folder=..., port=..., visibility=...) -> Queue
    broker_down(engine, name=..., delete_data=...)
    broker_names(name) -> the containers, volume and images it makes (for down)
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cloudsite.errors import OperationError
from cloudsite.local import standin
from cloudsite.local.database import network_up, run_fixed
from cloudsite.local.engine import LocalEngine, port_free

# Not a *.localhost name: libcurl (kombu's SQS transport polls with pycurl) resolves every one
# of those to loopback itself, whatever --add-host says. .test is reserved for this (RFC 2606).
SQS_HOST: Final = "sqs.cloudsite.test"
QUEUE: Final = "celery"  # Celery's default queue, the one the settings layer maps to the URL
LOCK: Final = Path(__file__).parent / "requirements" / "moto.txt"
LABEL: Final = "cloudsite.local.broker"  # on an image: its recipe
VALKEY_DOCKERFILE: Final = """\
# Valkey for `cloudsite local`: Debian's own, as the site's image is.
ARG BASE_IMAGE={base}
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends valkey-server \\
    && rm -rf /var/lib/apt/lists/* && install -d -o valkey -g valkey -m 0700 /data
COPY valkey.sh /usr/local/bin/valkey.sh
USER valkey
ENTRYPOINT ["/bin/sh", "/usr/local/bin/valkey.sh"]
CMD ["serve"]
"""
VALKEY_SCRIPT: Final = """\
#!/bin/sh
# valkey.sh init: the password (one line on stdin) into the server's configuration, in the
# volume (0600); valkey.sh serve: the server, with that configuration.
set -eu
if [ "$1" = init ]; then
  umask 077
  IFS= read -r password
  printf 'requirepass %s\\nbind * -::*\\nport 6379\\ndir /data\\nappendonly yes\\nsave ""\\n' \\
    "$password" > /data/valkey.conf.new
  mv /data/valkey.conf.new /data/valkey.conf
  exit 0
fi
exec valkey-server /data/valkey.conf
"""
MOTO_DOCKERFILE: Final = """\
# SQS for `cloudsite local`: moto's server, checked against the hashes in moto.txt.
ARG BASE_IMAGE={base}
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
ARG PIP_INDEX_URL
COPY moto.txt ca.pem /tmp/fetch/
RUN if [ -s /tmp/fetch/ca.pem ]; then export PIP_CERT=/tmp/fetch/ca.pem; fi \\
    && python3 -m venv /opt/moto \\
    && /opt/moto/bin/pip install --quiet --no-cache-dir --disable-pip-version-check \\
       --only-binary=:all: --require-hashes -r /tmp/fetch/moto.txt \\
    && rm -rf /tmp/fetch
USER 10001:10001
ENTRYPOINT ["/opt/moto/bin/python", "-m", "moto.server", "--host", "0.0.0.0"]
"""


@dataclass(frozen=True)
class Queue:
    """Where the site's Celery finds the SQS stand-in's queue."""

    url: str  # the queue's URL, as SQS names it (http://SQS_HOST:PORT/ACCOUNT/celery)
    broker_url: str  # CELERY_BROKER_URL: kombu's SQS transport at the stand-in
    add_host: str  # the containers' --add-host: SQS_HOST to the server's address
    port: int  # published on 127.0.0.1 with the same number


def broker_names(name: str) -> dict[str, str]:
    base = f"cloudsite-local-{name}"
    return {
        "valkey": f"{base}-valkey",
        "valkey_volume": f"{base}-valkey",
        "valkey_image": f"{base}-valkey:debian",
        "sqs": f"{base}-sqs",
        "sqs_image": f"{base}-sqs:moto",
    }


def valkey_up(engine: LocalEngine, *, name: str, folder: Path, password: str) -> str:
    """Start (or find running) the Valkey server; returns the site's REDIS_URL."""
    names = broker_names(name)
    network = network_up(engine, name)
    files: dict[str, str | bytes] = {"valkey.sh": VALKEY_SCRIPT}
    image = standin.image(
        engine, names["valkey_image"], folder / "valkey", VALKEY_DOCKERFILE, files, label=LABEL
    )
    container = names["valkey"]
    probe = ["exec", "-e", f"REDISCLI_AUTH={password}", container, "valkey-cli", "ping"]
    answers = _running(engine, container) and engine.run(*probe, check=False).stdout.strip()
    if answers != "PONG":  # not running, or with another password (the state was remade)
        engine.run("rm", "--force", container, check=False)
        volume = f"{names['valkey_volume']}:/data"
        engine.run(
            "run", "--rm", "--interactive", "-v", volume, image, "init", input=password + "\n"
        )
        run = ["run", "--detach", "--name", container, "--network", network, "-v", volume]
        run += ["--restart", "unless-stopped"]
        run_fixed(engine, run, [image, "serve"], network=network, offset=3)
    deadline = time.monotonic() + 60
    while engine.run(*probe, check=False).stdout.strip() != "PONG":
        if time.monotonic() > deadline:
            raise OperationError(
                "local valkey",
                f"{container} did not answer within 60 s",
                hint=f"its log: {engine.kind} logs {container}",
            )
        time.sleep(0.3)
    return f"redis://:{password}@{standin.address(engine, container)}:6379/0"


def sqs_up(engine: LocalEngine, *, name: str, folder: Path, port: int, visibility: int) -> Queue:
    """Start (or find running) moto's server on `port`, and the queue in it."""
    names = broker_names(name)
    network = network_up(engine, name)
    files: dict[str, str | bytes] = {"moto.txt": LOCK.read_text(), "ca.pem": standin.ca_pem()}
    image = standin.image(
        engine, names["sqs_image"], folder / "sqs", MOTO_DOCKERFILE, files, label=LABEL
    )
    container = names["sqs"]
    if not _running(engine, container) or _client(port) is None:
        engine.run("rm", "--force", container, check=False)
        if not port_free(port):
            raise OperationError(
                "local sqs",
                f"port {port} on 127.0.0.1 is taken by another program",
                hint=f"stop it (`ss -ltnp 'sport = :{port}'` names it)",
            )
        run = ["run", "--detach", "--name", container, "--network", network]
        run += ["--publish", f"127.0.0.1:{port}:{port}", "--restart", "unless-stopped"]
        run_fixed(engine, run, [image, "--port", str(port)], network=network, offset=4)
    client = _wait_client(port, container=container, kind=engine.kind)
    client.create_queue(
        QueueName=QUEUE,
        Attributes={"VisibilityTimeout": str(visibility), "ReceiveMessageWaitTimeSeconds": "10"},
    )
    path = client.get_queue_url(QueueName=QUEUE)["QueueUrl"].split("/", 3)[3]
    return Queue(
        url=f"http://{SQS_HOST}:{port}/{path}",
        broker_url=f"sqs://{SQS_HOST}:{port}",
        add_host=f"{SQS_HOST}:{standin.address(engine, container)}",
        port=port,
    )


def sqs_client(port: int) -> Any:
    """A boto3 SQS client for the stand-in's published port (tests, the benchmark)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="cloudsite-local",
        aws_secret_access_key="cloudsite-local",  # noqa: S106 (moto checks no key)
        region_name="us-east-1",
        config=Config(proxies={}, connect_timeout=2, read_timeout=15, retries={"max_attempts": 1}),
    )


def broker_down(engine: LocalEngine, *, name: str, delete_data: bool) -> None:
    """Remove the servers and their images; Valkey's volume only with `delete_data`."""
    names = broker_names(name)
    for key in ("valkey", "sqs"):
        engine.run("rm", "--force", names[key], check=False)
    for key in ("valkey_image", "sqs_image"):
        engine.run("image", "rm", "--force", names[key], check=False)
    if delete_data:
        engine.run("volume", "rm", "--force", names["valkey_volume"], check=False)


def _running(engine: LocalEngine, container: str) -> bool:
    found = engine.run(
        "container", "inspect", "--format", "{{.State.Running}}", container, check=False
    )
    return found.stdout.strip() == "true"


def _client(port: int) -> Any:
    """The stand-in's client when it answers on `port`, else None."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = sqs_client(port)
    try:
        client.list_queues()
    except (BotoCoreError, ClientError):
        return None
    return client


def _wait_client(port: int, *, container: str, kind: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while (client := _client(port)) is None:
        if time.monotonic() > deadline:
            raise OperationError(
                "local sqs",
                f"{container} did not answer on 127.0.0.1:{port} within {timeout:.0f} s",
                hint=f"its log: {kind} logs {container}",
            )
        time.sleep(0.3)
    return client
