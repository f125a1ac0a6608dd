"""The `cloudsite verify` command's body: options in, checklist out, exit code back.

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 verify could not run
(bad input, unreachable site, unreadable stack), always with a one-line error and a hint.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cloudsite.verify.aws import stack_facts
from cloudsite.verify.model import VerifyError

if TYPE_CHECKING:
    from cloudsite.verify.runner import AwsClients

EXIT_FAILED, EXIT_ERROR = 1, 2


def parse_resolves(resolves: tuple[str, ...]) -> dict[str, str]:
    """HOST:ADDRESS pairs (the address may be IPv6, so split at the first colon)."""
    pairs = {}
    for item in resolves:
        host, sep, address = item.partition(":")
        if not sep or not host or not address:
            raise VerifyError(
                f"--resolve {item}",
                "not HOST:ADDRESS",
                hint="for example www.example.com:203.0.113.7",
            )
        pairs[host] = address.strip("[]")  # verify_site matches names case-insensitively
    return pairs


def run_verify(
    url: str | None,
    *,
    stack: str | None,
    region: str | None = None,
    as_json: bool,
    timeout: float,
    http_port: int,
    resolves: tuple[str, ...],
    ca_bundle: str | None,
) -> int:
    from cloudsite.verify.render import render_json, render_text
    from cloudsite.verify.runner import verify_site

    try:
        if not url and not stack:
            raise VerifyError(
                "verify",
                "no URL and no stack",
                hint="give the URL (cloudsite verify https://www.example.com/) or --stack NAME",
            )
        clients, facts = None, None
        if stack:
            clients = _clients(stack, timeout=timeout, region=region)
            facts = stack_facts(stack, cloudformation=clients.cloudformation)
        report = verify_site(
            url,
            stack_facts=facts,
            timeout=timeout,
            http_port=http_port,
            resolve_overrides=parse_resolves(resolves),
            ca_file=Path(ca_bundle) if ca_bundle else None,
            aws_clients=clients,
        )
    except VerifyError as exc:
        click.echo(f"error: {exc.what}: {exc.why}", err=True)
        click.echo(f"hint: {exc.hint}", err=True)
        return EXIT_ERROR
    if as_json:
        click.echo(render_json(report))
    else:
        click.echo(render_text(report, colour=sys.stdout.isatty()))
    return 0 if report.ok else EXIT_FAILED


def _clients(stack: str, *, timeout: float, region: str | None) -> "AwsClients":
    """The clients for reading the stack and for the API checks, all in the same region."""
    from botocore.exceptions import BotoCoreError

    from cloudsite.verify.runner import AwsClients

    try:
        return AwsClients.from_environment(timeout=timeout, region=region)
    except BotoCoreError as exc:  # no region, an unknown profile: nothing was called yet
        raise VerifyError(
            f"stack {stack}",
            str(exc),
            hint="give a URL, or set the region (region in cloudsite.toml, or AWS_REGION)",
        ) from None
