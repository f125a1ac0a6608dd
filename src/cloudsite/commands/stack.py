"""The infrastructure verbs: up, deploy, down, plan, template. Each opens what it needs (the
project, AWS) and hands the steps to the service modules (infra, deploy, teardown)."""

import json
from typing import Any

from cloudsite.commands.site import _data_warnings, _project_summary, source_summary
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
    _schedules_sync(ctx, applied.state)
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


def _schedules_sync(ctx: Context, state: Any) -> None:
    """[schedule] onto the stack's schedule group (aws/schedules.py); one line of what
    changed, none when there are no schedules."""
    from cloudsite.aws import schedules

    assert ctx.aws is not None
    line = schedules.sync(ctx.aws, state.outputs, ctx.cfg).summary()
    if line:
        ctx.ui.info(line)


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
    _schedules_sync(ctx, state)
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
                "oneoff_deleted": report.oneoff,
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


def _image_note(ctx: Context) -> None:
    """Which base image the pipeline's build starts from, for the project here (when one is)."""
    from cloudsite.errors import CloudsiteError
    from cloudsite.runtime import pythons

    if ctx.cfg.source_mode != "upload":
        return
    try:
        version = ctx.project().python.version
    except CloudsiteError:
        return  # `template` alone needs no project; plan and up say what is wrong with it
    image = pythons.table()[version].image
    ctx.ui.info(f"the pipeline builds the image for Python {version} on {image}")


def template(ctx: Context, *, parameters: bool) -> int:
    from cloudsite import template as tpl

    if not parameters:
        ctx.ui.data(tpl.template_text().rstrip("\n"))
        _image_note(ctx)
        return 0
    params = ctx.preflight()
    _image_note(ctx)
    if not ctx.cfg.certificate_arn:
        ctx.ui.info(
            "CertificateArn: `cloudsite up` fills it in (a certificate it requests or imports)"
        )
    ctx.ui.data(json.dumps(params, indent=2))
    return 0
