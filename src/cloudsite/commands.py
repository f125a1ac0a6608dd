"""What each verb does, in order, and what it prints. cli.py parses; the steps live in the
service modules (infra, deploy, teardown, status, logs)."""

import json
from typing import Any

from cloudsite.context import Context
from cloudsite.errors import TeardownIncomplete


def up(ctx: Context, *, yes: bool, detach: bool, no_wait: bool) -> int:
    """1. validate (done: the config loaded); preflight; 2. identity and region;
    3-4. certificate and stack; 5. ship; 6. follow the pipeline; 7. smoke check and verify,
    print the URL."""
    from cloudsite.aws import deploy, infra

    ctx.open()
    ctx.preflight()
    if ctx.cfg.source_mode == "upload":
        _data_warnings(ctx, ctx.project())
    ctx.connect()
    applied = infra.stack_apply(ctx, yes=yes, no_wait=no_wait)
    shipped = deploy.source_ship(ctx, applied.state)
    result = deploy.summary(applied.state, shipped) | {
        "certificate": {"arn": applied.certificate.arn, "kind": applied.certificate.kind},
        "changes": applied.changes,
    }
    if detach:
        _detached(ctx, result)
        return 0
    deploy.delivery_follow(ctx, applied.state, shipped, certificate_arn=applied.certificate.arn)
    _finish(ctx, result | {"live": True})
    return 0


def _detached(ctx: Context, result: dict[str, Any]) -> None:
    ctx.ui.info(
        f"detached: pipeline {result['pipeline']} runs execution {result['execution']}; "
        "follow it with `cloudsite status --watch` and `cloudsite logs build --follow`"
    )
    _finish(ctx, result | {"live": False})


def _finish(ctx: Context, result: dict[str, Any]) -> None:
    if ctx.ui.json_output:
        ctx.ui.emit_json(result)
    else:
        ctx.ui.data(str(result["url"]))


def deploy(ctx: Context, *, detach: bool) -> int:
    """Ship the source to the existing stack, then follow it (unless detached)."""
    from cloudsite.aws import deploy as delivery

    ctx.connect()
    state = delivery.stack_ready(ctx)
    shipped = delivery.source_ship(ctx, state)
    result = delivery.summary(state, shipped)
    if detach:
        _detached(ctx, result)
        return 0
    from cloudsite.outputs import Param

    # delivery_follow trusts the certificate only when the stack owns it (deploy._trust).
    certificate = state.parameters.get(Param.CERTIFICATE_ARN, "")
    delivery.delivery_follow(ctx, state, shipped, certificate_arn=certificate)
    _finish(ctx, result | {"live": True})
    return 0


def down(ctx: Context, *, yes: bool, delete_data: bool = False) -> int:
    """The verified teardown; exits 1 when anything not kept on purpose still carries the
    stack's tag. The data (final snapshot, media bucket) stays unless `delete_data`."""
    from cloudsite import cost
    from cloudsite.aws import teardown

    aws = ctx.connect()
    ctx.phase = "down"
    report = teardown.teardown(
        aws,
        stack=ctx.stack,
        follow=ctx.follow(),
        yes=yes,
        token=ctx.token("down"),
        delete_data=delete_data,
    )
    left = [item.as_dict() for item in report.left]
    monthly = cost.total(report.left)
    if ctx.ui.json_output:
        ctx.ui.emit_json(
            {
                "stack": report.stack,
                "existed": report.existed,
                "emptied": report.emptied,
                "images_deleted": report.images,
                "secrets_deleted": report.secrets,
                "certificates_deleted": report.certificates,
                "left": left,
                "left_monthly": monthly,
                "kept": [item.as_dict() for item in report.kept],
                "kept_monthly": cost.total(report.kept),
                "data_deleted": report.data_deleted,
            }
        )
    else:
        for item in report.left:
            price = "?" if item.monthly is None else f"${item.monthly:.2f}/month"
            ctx.ui.data(f"{item.resource}  {price}  {item.note}".rstrip())
        for item in report.kept:
            ctx.ui.data(f"kept  {item.resource}  ${item.monthly or 0:.2f}/month  {item.note}")
    if report.left:
        raise TeardownIncomplete(
            "down",
            f"{len(left)} resource(s) of {ctx.stack} are still there: they carry the tag "
            f"cloudsite:stack={ctx.stack}, or are its database's secret "
            f"(at least ${monthly:.2f}/month)",
            hint="they are listed on stdout; delete them (or what keeps them), then rerun down",
        )
    if report.kept:
        ctx.ui.done(
            f"nothing else carries the tag cloudsite:stack={ctx.stack}: only the data is kept, "
            f"at ${cost.total(report.kept):.2f}/month (`cloudsite up` restores the site from it; "
            "`cloudsite down --delete-data` deletes it)"
        )
        return 0
    ctx.ui.done(f"nothing carries the tag cloudsite:stack={ctx.stack}: nothing is left to pay for")
    return 0


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


def plan(ctx: Context) -> int:
    from cloudsite.aws import infra

    ctx.open()
    ctx.preflight()
    ctx.connect()
    result = infra.plan(ctx)
    if ctx.ui.json_output:
        if ctx.cfg.source_mode == "upload":
            from cloudsite.project.shipment import runtime_in_use

            project = ctx.project()
            result["project"] = project.as_json() | {
                "ejected": [f.name for f in runtime_in_use(project.root) if f.ejected]
            }
        ctx.ui.emit_json(result)
        return 0
    _plan_project(ctx)
    ctx.ui.data(f"plan for stack {result['stack']} ({result['kind'].lower()}):")
    for change in result["changes"] or [{"action": "none", "resource": "no changes", "type": ""}]:
        ctx.ui.data(f"  {change['action']:<14} {change['resource']:<36} {change['type']}".rstrip())
    if result["instance_replacement"]:
        ctx.ui.data(f"  {result['instance_replacement']['summary']}")
    estimate = result["cost"]
    ctx.ui.data("")
    ctx.ui.data(
        f"monthly cost estimate (USD, {estimate['prices']['region']} prices of "
        f"{estimate['prices']['recorded']}):"
    )
    for item in estimate["items"]:
        price = "usage" if item["monthly"] is None else f"{item['monthly']:>8.2f}"
        ctx.ui.data(
            f"  {price:>8}  {item['what']:<28} {item['resource']:<28} {item['note']}".rstrip()
        )
    ctx.ui.data(f"  {estimate['monthly_total']:>8.2f}  total (plus usage-based charges)")
    return 0


def source_summary(package: Any) -> str:
    """The zip's file count and size, and its largest files."""
    largest = ", ".join(f"{name} ({size / 1000:.0f} KB)" for name, size in package.largest(3))
    return f"{len(package.files)} files, {len(package.data) / 1e6:.1f} MB; largest: {largest}"


def _plan_project(ctx: Context) -> None:
    """What ships: the detection, and which runtime files are the project's own."""
    if ctx.cfg.source_mode != "upload":
        ctx.ui.data("source: the repository's own tree, with its ejected .cloudsite/ (github mode)")
        ctx.ui.data("")
        return
    from cloudsite.project.shipment import runtime_in_use

    project = ctx.project()
    _project_summary(ctx, project)
    _data_warnings(ctx, project)
    ejected = [f.name for f in runtime_in_use(project.root) if f.ejected]
    package = ctx.package()
    ctx.ui.data(f"  source zip     {source_summary(package)}")
    if package.links:
        shown = ", ".join(package.links[:5])
        more = f" (and {len(package.links) - 5} more)" if len(package.links) > 5 else ""
        ctx.ui.data(f"  symlinks       stored as what they point to: {shown}{more}")
    if ejected:
        ctx.ui.data(f"  runtime layer  cloudsite's, except the project's own: {', '.join(ejected)}")
    else:
        ctx.ui.data("  runtime layer  cloudsite's built-in (`cloudsite init --eject` to change it)")
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


def template(ctx: Context, *, parameters: bool) -> int:
    from cloudsite import template as tpl

    if not parameters:
        ctx.ui.data(tpl.template_text().rstrip("\n"))
        return 0
    params = ctx.preflight()
    if not ctx.cfg.certificate_arn:
        ctx.ui.info(
            "CertificateArn: `cloudsite up` fills it in (a certificate it requests or imports)"
        )
    ctx.ui.data(json.dumps(params, indent=2))
    return 0


def init(ctx: Context, *, eject: bool, force: bool) -> int:
    """Detect the project, write cloudsite.toml, optionally eject the runtime layer."""
    from dataclasses import replace

    from cloudsite.project.init import database_reason, database_wanted
    from cloudsite.project.init import init as project_init

    project = ctx.project()
    result = project_init(project, ctx.cfg, eject=eject, force=force)
    _project_summary(ctx, project)
    cfg = ctx.cfg
    if result.config_written:
        cfg = replace(cfg, database=database_wanted(project))  # what the new file says
        state = "true" if cfg.database else "false"
        ctx.ui.info(f"database = {state}: {database_reason(project)}")
    _data_warnings(ctx, project, cfg)
    if result.config_written:
        ctx.ui.done(f"wrote {result.config_written.name}")
    else:
        ctx.ui.info("cloudsite.toml exists: left as it is")
    if result.ejected:
        ctx.ui.done(
            f"ejected {len(result.ejected)} files into .cloudsite/: the project's copies win "
            "from now on (delete one to go back to cloudsite's)"
        )
    ctx.ui.info("next: `cloudsite build` makes the image here; `cloudsite up` deploys it to AWS")
    return 0


def _data_warnings(ctx: Context, project: Any, cfg: Any = None) -> None:
    """One warning for each kind of data that would not last (project.checks.data_warnings)."""
    from cloudsite.project.checks import data_warnings

    for warning in data_warnings(project, cfg or ctx.cfg):
        ctx.ui.warn(warning)


def _project_summary(ctx: Context, project: Any) -> None:
    if ctx.ui.json_output:
        ctx.ui.emit_json({"project": dict(project.summary()), "notes": list(project.notes)})
        return
    ctx.ui.data(f"Django project in {project.root}:")
    for what, found in project.summary():
        ctx.ui.data(f"  {what:<14} {found}")
    for note in project.notes:
        ctx.ui.warn(note)


def build(ctx: Context, *, tag: str, no_cache: bool) -> int:
    """The production image, built here by the script CodeBuild runs."""
    from pathlib import Path

    from cloudsite.project.image import default_tag, image_build

    project = ctx.project()
    package = ctx.package()
    tag = tag or default_tag(package)
    log = Path(ctx.cfg.project_dir) / ".cloudsite" / "local" / "build.log"
    own = len([n for n in package.files if not n.startswith(".cloudsite/")])
    ctx.ui.info(
        f"building {ctx.cfg.name}:{tag}: {own} project files and the runtime layer "
        f"({project.settings}, Python {project.python.version})"
    )
    built = image_build(
        package, name=ctx.cfg.name, tag=tag, no_cache=no_cache, log=log, progress=ctx.ui.info
    )
    ctx.ui.done(
        f"built {built.image}: {built.size / 1e6:.1f} MB in {built.seconds:.1f} s (log: {log})"
    )
    if ctx.ui.json_output:
        ctx.ui.emit_json(
            {"image": built.image, "size": built.size, "seconds": round(built.seconds, 1)}
        )
    else:
        ctx.ui.data(built.image)
    return 0


# ---------------------------------------------------------------- cloudsite local (issue 12)
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
    )
    return _rolled_out(ctx, local, deployment)


def _database_on(ctx: Context, project: Any) -> bool:
    return bool(ctx.cfg.database or project.database.needed)


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
    from cloudsite.local import site

    local = _local(ctx)
    rows = site.status(local)
    if ctx.ui.json_output:
        state = local.state
        ctx.ui.emit_json(
            {
                "url": state.url if state else "",
                "edge": state.edge if state else "",
                "instances": rows,
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
    return 0


def local_logs(ctx: Context, *, tail: int) -> int:
    from cloudsite.local import site

    for instance, line in site.logs(_local(ctx), tail=tail):
        ctx.ui.data(f"{instance} {line}")
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
