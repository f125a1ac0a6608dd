"""moto's server as the CLI's tests and benchmarks use it: taught the stack's resource types
(the shared models in tests/support), change-set execution (tests/cli/moto_changesets), and
TLS-only bucket policies on the buckets the CLI creates itself."""

import functools
import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _buckets_see_tls() -> None:
    """Buckets the CLI creates through the API judge their TLS-only policies as AWS does (the
    requests reach AWS over TLS; they reach moto over loopback HTTP), as the stack's own
    buckets already do in the shared moto models."""
    from moto.s3.models import S3Backend

    from tests.support.moto_s3_overrides import evaluate_policy_conditions

    create = S3Backend.create_bucket

    def create_bucket(self: Any, *args: Any, **kwargs: Any) -> Any:
        bucket = create(self, *args, **kwargs)
        evaluate_policy_conditions(bucket)
        return bucket

    S3Backend.create_bucket = create_bucket  # type: ignore[method-assign]


@functools.cache
def teach() -> None:
    """Teach moto, in this process, what the CLI's runs need (once)."""
    importlib.import_module("tests.support.moto_models")
    _buckets_see_tls()
    importlib.import_module("tests.cli.moto_changesets")
    importlib.import_module("tests.cli.moto_teardown")
    importlib.import_module("tests.support.moto_ssm_overrides")  # Run Command, sessions


@contextmanager
def emulator() -> Iterator[str]:
    """Start the taught moto server on a free loopback port; yields its endpoint."""
    teach()
    from tests.support.moto import moto_server

    # The server thread logs each request to stderr, which would mix with the CLI's own.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with moto_server() as endpoint:
        yield endpoint
