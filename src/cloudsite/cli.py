"""The command line: verbs only. Each parses its options, calls a service module and prints.

Heavy imports (boto3, rich, the service modules) happen inside the commands, so
`cloudsite --help` stays fast.
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from cloudsite import __version__

HELP_EPILOG = """\b
Configuration is read in layers, each overriding the one before:
  defaults < cloudsite.toml < CLOUDSITE_* environment variables < flags
(--set KEY=VALUE, --name, --region, --profile). Unknown keys are errors.
AWS credentials, profile and region come the standard way; AWS_ENDPOINT_URL
points every call at another endpoint (tested against moto, as `make emulator`
runs it: docs/emulators.md).

\b
Exit codes: 0 ok, 1 the operation failed, 2 bad input or usage, 130 interrupted.
Data goes to stdout, progress and messages to stderr; --json for machines.
"""

INTERRUPTED = {
    "stack": "the stack operation goes on in CloudFormation; rerun `cloudsite up` to wait "
    "for it and carry on",
    "ship": "the source may not be shipped; rerun `cloudsite deploy`",
    "pipeline": "the pipeline goes on; follow it with `cloudsite status --watch`",
    "smoke": "the site is deployed; `cloudsite status` shows it",
    "verify": "the site is deployed; `cloudsite verify` checks it again",
    "down": "rerun `cloudsite down` to finish; it carries on from where this stopped",
    "manage": "the command was cancelled and its container removed; what it had done stays "
    "done (`cloudsite status` lists the run)",
    "local": "`cloudsite local up` carries on from what was made; `cloudsite local down` "
    "removes it all",
}


class Cli(click.Group):
    """Usage errors in our own format (`error: usage: ...` + a hint), exit code 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.UsageError as err:
            command = err.ctx.command_path if err.ctx else "cloudsite"
            click.echo(f"error: usage: {err.format_message()}", err=True)
            click.echo(f"hint: see `{command} --help`", err=True)
            sys.exit(2)
        except click.exceptions.Abort:
            sys.exit(130)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that reads the configuration takes."""
    options = [
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            help="Configuration file (default: ./cloudsite.toml, or CLOUDSITE_CONFIG).",
        ),
        click.option(
            "--set",
            "settings",
            multiple=True,
            metavar="KEY=VALUE",
            help="Set a configuration key; repeatable. Overrides file and environment.",
        ),
        click.option("--name", help="Site name (the stack name); same as --set name=..."),
        click.option("--region", help="AWS region; same as --set region=..."),
        click.option("--profile", help="AWS profile; same as --set profile=..."),
        click.option("--json", "json_output", is_flag=True, help="Print machine-readable JSON."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _run(opts: dict[str, Any], body: Callable[[Any], int | None], *, verb: str) -> NoReturn:
    """Load and check the configuration, run `body(ctx)`, and turn every failure into
    `error: what: why` + `hint:` and an exit code."""
    from cloudsite.errors import CloudsiteError
    from cloudsite.ui import Ui

    ui = Ui(json_output=opts["json_output"])
    ctx = None
    try:
        ctx = _context(opts, ui)
        from cloudsite.aws import calling

        with calling(verb):
            code = body(ctx)
    except CloudsiteError as err:
        _traceback(opts)
        ui.error(err)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        phase = ctx.phase if ctx else ""
        if phase == "watch":  # Ctrl-C is how --watch and --follow end
            sys.exit(0)
        ui.info("\ninterrupted: " + INTERRUPTED.get(phase, "nothing was left half-done"))
        sys.exit(130)
    except Exception as err:
        if opts["debug"]:
            raise
        ui.error(
            CloudsiteError(
                "internal error",
                f"{type(err).__name__}: {err}",
                hint="rerun with --debug for the traceback, and report it",
            )
        )
        sys.exit(1)
    sys.exit(code or 0)


def _traceback(opts: dict[str, Any]) -> None:
    if opts["debug"]:
        import traceback

        traceback.print_exc()


def _context(opts: dict[str, Any], ui: Any) -> Any:
    from cloudsite import config
    from cloudsite.aws.waits import clock_from_env
    from cloudsite.context import Context

    overrides = config.parse_set(tuple(opts["settings"]))
    for key in ("name", "region", "profile"):
        if opts.get(key):
            overrides[key] = opts[key]
    cfg = config.load(path=opts["config_path"], env=os.environ, overrides=overrides, warn=ui.warn)
    return Context(cfg=cfg, ui=ui, clock=clock_from_env(), env=dict(os.environ))


@click.group(
    cls=Cli,
    context_settings={"help_option_names": ["-h", "--help"], "terminal_width": 100},
    epilog=HELP_EPILOG,
)
@click.version_option(__version__, prog_name="cloudsite")
def cli() -> None:
    """Deploy a Django site to AWS with one command, and remove every trace of it with one more."""


@cli.command()
@config_options
@click.option("--yes", "-y", is_flag=True, help="Apply changes without asking.")
@click.option("--detach", is_flag=True, help="Stop after shipping the source; print how to follow.")
@click.option(
    "--no-wait", is_flag=True, help="If the stack is busy, say so and stop instead of waiting."
)
def up(yes: bool, detach: bool, no_wait: bool, **opts: Any) -> None:
    """Create or update the stack, ship the source, and wait until the site is live."""
    from cloudsite.commands import stack

    _run(opts, lambda ctx: stack.up(ctx, yes=yes, detach=detach, no_wait=no_wait), verb="up")


@cli.command()
@config_options
@click.option("--detach", is_flag=True, help="Stop after shipping the source; print how to follow.")
def deploy(detach: bool, **opts: Any) -> None:
    """Ship the current source without touching the infrastructure."""
    from cloudsite.commands import stack

    _run(opts, lambda ctx: stack.deploy(ctx, detach=detach), verb="deploy")


@cli.command()
@config_options
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
@click.option(
    "--delete-data",
    is_flag=True,
    help="Also delete the data down keeps: the database's snapshots and the media bucket.",
)
def down(yes: bool, delete_data: bool, **opts: Any) -> None:
    """Delete the stack and all cloudsite made but the data, then check that nothing is left."""
    from cloudsite.commands import stack

    _run(opts, lambda ctx: stack.down(ctx, yes=yes, delete_data=delete_data), verb="down")


@cli.command()
@config_options
@click.option("--watch", is_flag=True, help="Refresh until interrupted (Ctrl-C).")
@click.option(
    "--interval",
    type=click.IntRange(2, 3600),
    default=10,
    show_default=True,
    help="Seconds between refreshes with --watch.",
)
def status(watch: bool, interval: int, **opts: Any) -> None:
    """Show the stack, the pipeline's stages, target health, alarms and the URL."""
    from cloudsite.commands import operations

    _run(opts, lambda ctx: operations.status(ctx, watch=watch, interval=interval), verb="status")


@cli.command()
@config_options
def plan(**opts: Any) -> None:
    """Preview what `up` would add, change or replace, and the monthly cost; changes nothing."""
    from cloudsite.commands import stack

    _run(opts, stack.plan, verb="plan")


@cli.command()
@config_options
@click.argument(
    "kind", type=click.Choice(["app", "build", "deploy", "bootstrap", "manage"]), default="app"
)
@click.option(
    "--since",
    default="10m",
    show_default=True,
    help="How far back: 90s, 10m, 2h, 3d, 1w, or an ISO 8601 time.",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until interrupted.")
@click.option("--filter", "pattern", default="", help="A CloudWatch Logs filter pattern.")
def logs(kind: str, since: str, follow: bool, pattern: str, **opts: Any) -> None:
    """Print the app, build, deploy, bootstrap or manage logs from CloudWatch."""
    from cloudsite.commands import operations

    _run(
        opts,
        lambda ctx: operations.logs(ctx, kind=kind, since=since, follow=follow, pattern=pattern),
        verb="logs",
    )


@cli.command()
@config_options
@click.option("--parameters", is_flag=True, help="Print the parameters the configuration gives it.")
def template(parameters: bool, **opts: Any) -> None:
    """Print the CloudFormation template, or the parameters cloudsite gives it."""
    from cloudsite.commands import stack

    _run(opts, lambda ctx: stack.template(ctx, parameters=parameters), verb="template")


@cli.command()
@config_options
@click.option(
    "--eject", is_flag=True, help="Write the runtime layer into .cloudsite/ to change it."
)
@click.option("--force", is_flag=True, help="With --eject: replace files the project changed.")
def init(eject: bool, force: bool, **opts: Any) -> None:
    """Find the Django project here, say what was found, and write cloudsite.toml."""
    from cloudsite.commands import site

    _run(opts, lambda ctx: site.init(ctx, eject=eject, force=force), verb="init")


@cli.command()
@config_options
@click.option("--tag", default="", help="The image tag (default: local-<source digest>).")
@click.option("--no-cache", is_flag=True, help="Rebuild every layer.")
def build(tag: str, no_cache: bool, **opts: Any) -> None:
    """Build the production image here, as CodeBuild builds it (Docker or podman)."""
    from cloudsite.commands import site

    _run(opts, lambda ctx: site.build(ctx, tag=tag, no_cache=no_cache), verb="build")


@cli.group()
def local() -> None:
    """Rehearse the production deployment on this machine, behind TLS, with the real hooks."""


@local.command("up")
@config_options
@click.option(
    "--instances",
    type=click.IntRange(1, 4),
    default=2,
    show_default=True,
    help="Instances behind the edge.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="The HTTPS port on 127.0.0.1 (default: a free one).",
)
@click.option("--no-cache", is_flag=True, help="Rebuild every layer of the image.")
@click.option(
    "--edge",
    type=click.Choice(["auto", "haproxy", "nginx"]),
    default="auto",
    show_default=True,
    help="The TLS edge in the load balancer's place (auto: HAProxy if installed, else nginx).",
)
def local_up(instances: int, port: int, no_cache: bool, edge: str, **opts: Any) -> None:
    """Build the image, start the TLS edge and the instances, and print the URL."""
    from cloudsite.commands import local

    _run(
        opts,
        lambda ctx: local.local_up(
            ctx, instances=instances, port=port, no_cache=no_cache, edge=edge
        ),
        verb="local up",
    )


@local.command("deploy")
@config_options
def local_deploy(**opts: Any) -> None:
    """Ship the current source as a new release, one instance at a time; roll back on failure."""
    from cloudsite.commands import local

    _run(opts, local.local_deploy, verb="local deploy")


@local.command("status")
@config_options
def local_status(**opts: Any) -> None:
    """Show the instances, their release and their health at the edge."""
    from cloudsite.commands import local

    _run(opts, local.local_status, verb="local status")


@local.command("logs")
@config_options
@click.option(
    "--tail",
    type=click.IntRange(1, 100000),
    default=50,
    show_default=True,
    help="Lines per instance.",
)
def local_logs(tail: int, **opts: Any) -> None:
    """Print the instances' logs."""
    from cloudsite.commands import local

    _run(opts, lambda ctx: local.local_logs(ctx, tail=tail), verb="local logs")


@local.command("down")
@config_options
@click.option(
    "--delete-data", is_flag=True, help="Also delete the database and media it kept (asks once)."
)
@click.option("--yes", "-y", is_flag=True, help="With --delete-data: delete without asking.")
def local_down(delete_data: bool, yes: bool, **opts: Any) -> None:
    """Remove everything `local up` made but its data, then check that nothing else is left."""
    from cloudsite.commands import local

    _run(
        opts,
        lambda ctx: local.local_down(ctx, delete_data=delete_data, yes=yes),
        verb="local down",
    )


MANAGE_SETTINGS = {"ignore_unknown_options": True, "allow_interspersed_args": False}
MANAGE_EPILOG = """\b
Everything after the first argument is manage.py's, untouched; `--` before it works too:
  cloudsite manage migrate --plan
  cloudsite local manage -- shell -c "print(1 + 1)"
createsuperuser takes DJANGO_SUPERUSER_* from this environment (never an argument).
Exit status: the command's own; 124 when it ran past --timeout, 2 when nothing could run."""


def manage_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """What `manage` and `local manage` take besides manage.py's arguments."""
    options = [
        click.option(
            "--interactive/--no-interactive",
            "-i",
            default=None,
            help="With a terminal (default: when stdin is one and the command asks questions: "
            "shell, dbshell, changepassword, createsuperuser without --noinput).",
        ),
        click.option(
            "--timeout",
            type=click.IntRange(1, 86400),
            default=3600,
            show_default=True,
            help="Seconds before the command is stopped and its container removed.",
        ),
        click.argument("args", nargs=-1, type=click.UNPROCESSED),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def superuser_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--username", default="", help="The username (asked when not given)."),
        click.option("--email", default="", help="The e-mail address (asked when not given)."),
        click.option(
            "--timeout",
            type=click.IntRange(1, 86400),
            default=600,
            show_default=True,
            help="Seconds before the command is stopped.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command("manage", context_settings=MANAGE_SETTINGS, epilog=MANAGE_EPILOG)
@config_options
@manage_options
def manage(args: tuple[str, ...], interactive: bool | None, timeout: int, **opts: Any) -> None:
    """Run a manage.py command once on one healthy instance of the deployed site."""
    from cloudsite.commands import operations

    _run(
        opts,
        lambda ctx: operations.manage(ctx, args=args, interactive=interactive, timeout=timeout),
        verb="manage",
    )


@cli.command("createsuperuser")
@config_options
@superuser_options
def createsuperuser(username: str, email: str, timeout: int, **opts: Any) -> None:
    """Make a superuser on the deployed site, asking for the password here."""
    from cloudsite.commands import operations

    _run(
        opts,
        lambda ctx: operations.createsuperuser(
            ctx, username=username, email=email, timeout=timeout
        ),
        verb="createsuperuser",
    )


@local.command("manage", context_settings=MANAGE_SETTINGS, epilog=MANAGE_EPILOG)
@config_options
@manage_options
def local_manage(
    args: tuple[str, ...], interactive: bool | None, timeout: int, **opts: Any
) -> None:
    """Run a manage.py command once on the rehearsal, as `cloudsite manage` does on AWS."""
    from cloudsite.commands import local

    _run(
        opts,
        lambda ctx: local.local_manage(ctx, args=args, interactive=interactive, timeout=timeout),
        verb="local manage",
    )


@local.command("createsuperuser")
@config_options
@superuser_options
def local_createsuperuser(username: str, email: str, timeout: int, **opts: Any) -> None:
    """Make a superuser on the rehearsal; the password is asked here, never an argument."""
    from cloudsite.commands import local

    _run(
        opts,
        lambda ctx: local.local_createsuperuser(
            ctx, username=username, email=email, timeout=timeout
        ),
        verb="local createsuperuser",
    )


@local.group("schedule")
def local_schedule() -> None:
    """The rehearsal's [schedule]: each entry runs once at its times (docs/background.md)."""


@local_schedule.command("run")
@config_options
@click.argument("entry")
def local_schedule_run(entry: str, **opts: Any) -> None:
    """Run one [schedule] entry now: sent to every instance, run by one (its exit status)."""
    from cloudsite.commands import local

    _run(opts, lambda ctx: local.local_schedule_run(ctx, name=entry), verb="local schedule run")


def main() -> None:
    cli()


# ---------------------------------------------------------------- verify (issue 6)
@cli.command()
@click.argument("url", required=False)
@click.option(
    "--stack",
    help="Stack to read SiteUrl and the AWS facts from (default: the configuration's name).",
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

    region = None
    if not url and not stack:
        # Like every other verb: the stack is the configured site (cloudsite.toml, CLOUDSITE_*).
        from cloudsite import config
        from cloudsite.errors import CloudsiteError
        from cloudsite.ui import Ui

        try:
            cfg = config.load(path=None, env=os.environ, overrides={})
        except CloudsiteError as err:
            Ui(json_output=as_json).error(err)
            raise SystemExit(err.exit_code) from None
        stack, region = cfg.name, cfg.region or None
    raise SystemExit(
        run_verify(
            url,
            stack=stack,
            region=region,
            as_json=as_json,
            timeout=timeout,
            http_port=http_port,
            resolves=resolves,
            ca_bundle=ca_bundle,
        )
    )
