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
