"""cloudsite local (issue 12): the rehearsal on this machine (local up, deploy, status, logs,
down), through cloudsite.local's site and teardown."""

from typing import Any

from cloudsite.commands.site import _data_warnings
from cloudsite.context import Context


def _local(ctx: Context, *, port: int = 0, edge: str | None = None) -> Any:
    """The rehearsal here. `edge`: auto, haproxy or nginx for a command that starts the edge;
    None for one that reads or removes what is there."""
    from cloudsite.local.site import open_local

    ctx.phase = "local"
    return open_local(
        ctx.cfg.project_dir, name=ctx.cfg.name, progress=ctx.ui.info, port=port, edge_kind=edge
    )


def local_up(
    ctx: Context, *, instances: int, port: int, no_cache: bool = False, edge: str = "auto"
) -> int:
    """The rehearsal: build, the TLS edge, the instances through the hooks; prints the URL."""
    from cloudsite.local import site

    project = ctx.project()  # detection first: a project it cannot build stops here
    local = _local(ctx, port=port, edge=edge)  # then the engine, the edge, the port
    _data_warnings(ctx, project)
    deployment = site.up(
        local,
        package=ctx.package(),
        database_on=_database_on(ctx, project),
        media_on=_media_on(ctx, project),
        instances=instances,
        port=port,
        no_cache=no_cache,
        tasks=_tasks(ctx, project),
    )
    return _rolled_out(ctx, local, deployment)


def local_deploy(ctx: Context) -> int:
    """A new release of the current source: one instance at a time, health-gated."""
    from cloudsite.local import site

    project = ctx.project()
    local = _local(ctx, edge="auto")
    deployment = site.deploy(
        local,
        package=ctx.package(),
        database_on=_database_on(ctx, project),
        media_on=_media_on(ctx, project),
        tasks=_tasks(ctx, project),
    )
    return _rolled_out(ctx, local, deployment)


def _database_on(ctx: Context, project: Any) -> bool:
    return bool(ctx.cfg.database or project.database.needed)


def _tasks(ctx: Context, project: Any) -> Any:
    from cloudsite.local.site import Tasks
    from cloudsite.project.checks import background

    choice = background(project, ctx.cfg)
    return Tasks(broker=choice.broker, redis=choice.redis, timeout=ctx.cfg.task_timeout_seconds)


def _media_on(ctx: Context, project: Any) -> bool:
    from cloudsite.project.checks import media

    return media(project, ctx.cfg)[0] == "s3"


def _rolled_out(ctx: Context, local: Any, deployment: Any) -> int:
    from cloudsite.errors import OperationError

    if deployment.status != "Succeeded":
        failure = deployment.failure
        rolled = deployment.rollback
        back = (
            "rolled back to the last good release"
            if rolled and rolled.status == "Succeeded"
            else "not rolled back"
        )
        raise OperationError(
            "local deploy",
            f"{failure.instance.name}: {failure.event} failed; {back}, and the site kept serving",
            details=failure.detail.splitlines()[-15:],
            hint="the hook's output is above; `cloudsite local logs` has the containers' logs",
        )
    ca = local.folder / "tls" / "ca.pem"
    ctx.ui.done(f"serving {local.state.url} ({len(local.state.instances)} instances)")
    http = local.state.http_port
    ctx.ui.info(f"check it: cloudsite verify {local.state.url} --ca-bundle {ca} --http-port {http}")
    if ctx.ui.json_output:
        ctx.ui.emit_json(
            {"url": local.state.url, "ca_bundle": str(ca), "http_port": local.state.http_port}
        )
    else:
        ctx.ui.data(local.state.url)
    return 0


def local_status(ctx: Context) -> int:
    from cloudsite import runs
    from cloudsite.local import site
    from cloudsite.local.manage import history

    local = _local(ctx)
    rows = site.status(local)
    oneoffs = history(local)
    if ctx.ui.json_output:
        state = local.state
        ctx.ui.emit_json(
            {
                "url": state.url if state else "",
                "edge": state.edge if state else "",
                "instances": rows,
                "runs": oneoffs,
            }
        )
        return 0
    if not rows:
        ctx.ui.info("nothing runs here: `cloudsite local up` starts the rehearsal")
        return 0
    ctx.ui.data(f"url       {local.state.url}")
    ctx.ui.data(f"edge      {local.state.edge}")
    for row in rows:
        where = f"release {row['release']}  port {row['port']}"
        ctx.ui.data(f"{row['instance']:<9} {row['container']:<8} {row['edge']:<14} {where}")
        for process, state in row["processes"].items():
            ctx.ui.data(f"{row['instance'] + '/' + process:<18} {state}")
    for record in oneoffs:  # the one-off commands, newest first
        ctx.ui.data(f"run       {runs.record_line(record)}")
    return 0


def local_logs(ctx: Context, *, tail: int) -> int:
    from cloudsite import runs
    from cloudsite.local import site
    from cloudsite.local.manage import history

    local = _local(ctx)
    for instance, line in site.logs(local, tail=tail):
        ctx.ui.data(f"{instance} {line}")
    for record in reversed(history(local, limit=tail)):  # oldest first, as logs read
        ctx.ui.data(f"run {runs.record_line(record)}")
    return 0


def local_down(ctx: Context, *, delete_data: bool = False, yes: bool = False) -> int:
    """Everything `local up` made goes; the data (database, media) stays unless
    --delete-data, which asks once (or takes --yes)."""
    from cloudsite.errors import Cancelled, TeardownIncomplete
    from cloudsite.local import teardown

    local = _local(ctx)
    if delete_data and teardown.kept(local):
        question = f"Delete the rehearsal's data ({', '.join(teardown.kept(local))})?"
        if not ctx.ui.confirm(question, yes=yes):
            raise Cancelled("local down", "nothing was deleted", hint="rerun with --yes")
    left = teardown.down(local, delete_data=delete_data)
    if left:
        for item in left:
            ctx.ui.data(item)
        raise TeardownIncomplete(
            "local down", f"{len(left)} thing(s) are still there", hint="they are listed on stdout"
        )
    kept = teardown.kept(local)
    for item in kept:
        ctx.ui.data(f"kept  {item}")
    if kept:
        ctx.ui.done(
            "the rehearsal is down; its data is kept for the next `cloudsite local up` "
            "(`cloudsite local down --delete-data` removes it)"
        )
        return 0
    ctx.ui.done("nothing of the rehearsal is left: no container, image, volume, network or file")
    return 0


def local_manage(
    ctx: Context,
    *,
    args: tuple[str, ...],
    interactive: bool | None,
    timeout: int,
    values: dict[str, str] | None = None,
) -> int:
    """manage.py ARGS once on a healthy instance of the rehearsal; the command's exit status."""
    import sys

    from cloudsite import runs
    from cloudsite.local import manage

    args_list = runs.checked(args, verb="local manage")  # before anything runs
    if values is None:
        values = runs.superuser_values(args_list, ctx.env)
    runs.forget_superuser_values()  # no process this one starts inherits them
    local = _local(ctx)
    ctx.phase = "manage"
    terminal = runs.wants_terminal(args_list, flag=interactive, stdin_tty=sys.stdin.isatty())
    if local.state is not None and not local.state.database:
        ctx.ui.warn(runs.NO_DATABASE)
    return manage.manage(local, args_list, values=values, interactive=terminal, timeout=timeout)


def local_schedule_run(ctx: Context, *, name: str) -> int:
    """One [schedule] entry now, the way the scheduler sends it: to every instance, run by the
    one whose database row goes in first; its output and exit status."""
    import sys

    from cloudsite.local import schedule

    local = _local(ctx)
    ctx.phase = "schedule"
    outcome = schedule.run(local, name, progress=ctx.ui.info)
    sys.stdout.write(outcome.output)
    for instance, said in outcome.others.items():
        ctx.ui.info(f"{instance}: {said}")
    if not outcome.instance:
        why = (
            "a run of it that is still going holds its lock"
            if "skipped" in outcome.others.values()
            else "see the output above"
        )
        ctx.ui.warn(f"{name} at {outcome.at}: no instance ran it ({why})")
        return 1
    ctx.ui.info(f"{name} at {outcome.at}: ran on {outcome.instance}, exit {outcome.exit}")
    return outcome.exit


def local_createsuperuser(ctx: Context, *, username: str, email: str, timeout: int) -> int:
    """The first superuser: asked for here, made by `createsuperuser --noinput` on the site."""
    from cloudsite.commands.operations import superuser_asked
    from cloudsite.local import manage

    manage.pick(_local(ctx))  # nothing is asked when no instance could run it
    values = superuser_asked(ctx, username=username, email=email)
    return local_manage(
        ctx,
        args=("createsuperuser", "--noinput"),
        interactive=False,
        timeout=timeout,
        values=values,
    )
