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
