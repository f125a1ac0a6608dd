"""moto's server on loopback: real HTTP, so boto3 (and the CLI in a subprocess) take the same
code path they take against AWS. Credentials are fake and the endpoint is 127.0.0.1 only."""

import os
from collections.abc import Iterator
from contextlib import contextmanager


def aws_env(endpoint: str, *, region: str = "us-east-1") -> dict[str, str]:
    """The environment that points boto3 and the AWS CLI at the emulator (and nowhere else)."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's ThreadedMotoServer on a free loopback port; yields its endpoint URL.

    It runs in this process, so resource models a test teaches moto (tests/support/moto_models)
    apply to it once imported.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def moto_environment() -> Iterator[dict[str, str]]:
    """moto's server, with this process's environment pointing boto3 at it (as the CLI and
    Lambda code see it) until the block ends; yields that environment."""
    with moto_server() as endpoint:
        env = aws_env(endpoint)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
