"""Running a deployed site: status and logs (they read what the stack is doing and change
nothing), and manage and createsuperuser (a one-off command on one healthy instance)."""

from cloudsite.context import Context


def status(ctx: Context, *, watch: bool, interval: int) -> int:
    from cloudsite.aws.status import status_gather, status_lines

    aws = ctx.connect()
    ctx.phase = "watch" if watch else ""
    while True:
        report = status_gather(aws, ctx.stack)
        if ctx.ui.json_output:
            ctx.ui.emit_json(report, lines=watch)
        else:
            for line in status_lines(report):
                ctx.ui.data(line)
        if not watch:
            return 0 if report["status"] != "NOT_FOUND" else 1
        ctx.clock.sleep(interval)
        if not ctx.ui.json_output:
            ctx.ui.data("")


def logs(ctx: Context, *, kind: str, since: str, follow: bool, pattern: str) -> int:
    from cloudsite.aws import logs as logs_mod
    from cloudsite.aws.deploy import output, stack_ready

    start = logs_mod.since_parse(since, now=ctx.clock.wall())
    aws = ctx.connect()
    group = output(stack_ready(ctx), logs_mod.KINDS[kind])

    def emit(record: dict[str, str]) -> None:
        if ctx.ui.json_output:
            ctx.ui.emit_json(record, lines=True)
        else:
            ctx.ui.data(f"{record['time']} {record['stream']} {record['message']}")

    ctx.phase = "watch" if follow else ""
    count = logs_mod.logs_read(
        aws.client("logs"),
        group,
        start=start,
        pattern=pattern,
        follow=follow,
        clock=ctx.clock,
        emit=emit,
    )
    if not count:
        ctx.ui.info(f"no events in {group} since {start:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def manage(
    ctx: Context,
    *,
    args: tuple[str, ...],
    interactive: bool | None,
    timeout: int,
    values: dict[str, str] | None = None,
) -> int:
    """manage.py ARGS once on one healthy instance (aws/manage.py); the command's exit status."""
    import sys

    from cloudsite import runs
    from cloudsite.aws import manage as remote
    from cloudsite.outputs import Param

    args_list = runs.checked(args, verb="manage")  # before any AWS call
    if values is None:
        values = runs.superuser_values(args_list, ctx.env)
    runs.forget_superuser_values()  # no process this one starts inherits them
    terminal = runs.wants_terminal(args_list, flag=interactive, stdin_tty=sys.stdin.isatty())
    aws = ctx.connect()
    state = remote.site_ready(aws, ctx.stack)
    if state.parameters.get(Param.ENABLE_DATABASE, "false") != "true":
        ctx.ui.warn(runs.NO_DATABASE)
    ctx.phase = "manage"
    if terminal:
        return remote.session(
            aws,
            state,
            args_list,
            secrets=values,
            timeout=timeout,
            profile=ctx.cfg.profile,
            clock=ctx.clock,
        )
    return remote.run(
        aws,
        state,
        args_list,
        secrets=values,
        timeout=timeout,
        out=sys.stdout,
        err=sys.stderr,
        clock=ctx.clock,
    )


def createsuperuser(ctx: Context, *, username: str, email: str, timeout: int) -> int:
    """The first superuser: asked for here (nothing is asked when no instance could run it),
    made by `createsuperuser --noinput` on the site with the values in a one-off parameter."""
    from cloudsite.aws import manage as remote

    remote.pick_instance(ctx.connect(), remote.site_ready(ctx.connect(), ctx.stack))
    values = superuser_asked(ctx, username=username, email=email)
    return manage(
        ctx,
        args=("createsuperuser", "--noinput"),
        interactive=False,
        timeout=timeout,
        values=values,
    )


def superuser_asked(ctx: Context, *, username: str, email: str) -> dict[str, str]:
    """createsuperuser's values, asked on the operator's terminal (the password twice, not
    echoed), or taken from DJANGO_SUPERUSER_* in the environment: never from a command line."""
    import sys

    import click

    from cloudsite.errors import UsageError
    from cloudsite.runs import SUPERUSER_PREFIX

    values = {k: v for k, v in ctx.env.items() if k.startswith(SUPERUSER_PREFIX) and v}
    if username:
        values[f"{SUPERUSER_PREFIX}USERNAME"] = username
    if email:
        values[f"{SUPERUSER_PREFIX}EMAIL"] = email
    if f"{SUPERUSER_PREFIX}PASSWORD" in values:
        return values
    if not sys.stdin.isatty():
        raise UsageError(
            "createsuperuser",
            "the password needs a terminal to be asked on, and stdin is not one",
            hint="set DJANGO_SUPERUSER_PASSWORD (and _USERNAME, _EMAIL) in the environment, "
            "or run it in a terminal",
        )
    if f"{SUPERUSER_PREFIX}USERNAME" not in values:
        name = click.prompt(
            "Username (blank when the user model logs in by e-mail)",
            default="",
            show_default=False,
            err=True,
        )
        if name:
            values[f"{SUPERUSER_PREFIX}USERNAME"] = name
    if f"{SUPERUSER_PREFIX}EMAIL" not in values:
        mail = click.prompt("E-mail address", default="", show_default=False, err=True)
        if mail:
            values[f"{SUPERUSER_PREFIX}EMAIL"] = mail
    values[f"{SUPERUSER_PREFIX}PASSWORD"] = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, err=True
    )
    return values
