"""Running a deployed site: status, logs (read what the stack is doing; they change nothing)."""

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
