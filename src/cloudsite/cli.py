"""The command line: verbs only. Each parses its options, calls a service module and prints.

Heavy imports (boto3, rich) happen inside the commands, so `cloudsite --help` stays fast.
"""

import click

from cloudsite import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cloudsite")
def cli() -> None:
    """Deploy a Django site to AWS with one command, and remove every trace of it with one more."""


def main() -> None:
    cli()


# ---------------------------------------------------------------- verify (issue 6)
@cli.command()
@click.argument("url", required=False)
@click.option(
    "--stack",
    envvar="CLOUDSITE_NAME",
    help="Stack to read SiteUrl and the AWS facts from [env: CLOUDSITE_NAME].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--timeout",
    default=4.0,
    show_default=True,
    type=click.FloatRange(0.1, 60),
    help="Seconds per network operation.",
)
@click.option(
    "--http-port",
    default=80,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the plain-HTTP listener.",
)
@click.option(
    "--resolve",
    "resolves",
    multiple=True,
    metavar="HOST:ADDRESS",
    help="Connect to ADDRESS for HOST, like curl --resolve (repeatable).",
)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    help="Extra CA certificates to trust (PEM).",
)
def verify(
    url: str | None,
    stack: str | None,
    as_json: bool,
    timeout: float,
    http_port: int,
    resolves: tuple[str, ...],
    ca_bundle: str | None,
) -> None:
    """Check over the network that a deployed site is secure and healthy."""
    from cloudsite.verify.command import run_verify

    raise SystemExit(
        run_verify(
            url,
            stack=stack,
            as_json=as_json,
            timeout=timeout,
            http_port=http_port,
            resolves=resolves,
            ca_bundle=ca_bundle,
        )
    )
