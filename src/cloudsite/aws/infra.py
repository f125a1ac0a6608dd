"""The infrastructure half of `up`, and `plan`: certificate, change set, execution.

`up` (steps 3-4):
    1. obtain the certificate (certs.py);
    2. recover the stack from any stuck state (recovery.py);
    3. create a change set, show it, confirm (--yes skips), execute it and stream its events.
`plan` creates the same change set, prices the resulting stack, and deletes the change set.
"""

from dataclasses import dataclass
from typing import Any

from cloudsite import conditions, cost, names, prices, template
from cloudsite.aws import buckets, certs
from cloudsite.aws.changeset import (
    ChangeSet,
    change_set_create,
    change_set_discard,
    change_set_execute,
    change_summary,
    instance_replacement,
)
from cloudsite.aws.recovery import FAILED_CREATE, stack_prepare
from cloudsite.aws.stack import StackState, stack_describe, stack_resources
from cloudsite.context import PLACEHOLDER_CERTIFICATE, Context
from cloudsite.errors import Cancelled, StackBusy, StackError
from cloudsite.outputs import Param


@dataclass(frozen=True)
class Applied:
    state: StackState
    certificate: certs.Certificate
    changes: int


def _template_argument(ctx: Context, text: str) -> dict[str, str]:
    aws = ctx.aws
    assert aws is not None

    def upload(body: bytes, key: str) -> str:
        bucket = names.template_bucket(ctx.stack, account=aws.account, region=aws.region)
        s3 = aws.client("s3")
        buckets.bucket_ensure(s3, bucket, region=aws.region, stack=ctx.stack)
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        return buckets.bucket_url(bucket, region=aws.region, key=key)

    argument, how = template.template_argument(text, upload=upload)
    if how != "inline":
        size = len(text.encode())
        ctx.ui.info(f"template: {size} bytes is over CloudFormation's inline limit; sent {how}")
    return argument


def _data_parameters(ctx: Context, *, kind: str, state: StackState | None) -> dict[str, Any]:
    """media, media_bucket and database_snapshot for stack_parameters: a new stack whose
    name an earlier `down` kept data for starts from that data (aws/data.py)."""
    from cloudsite.aws.data import Kept, kept_data, restore

    aws = ctx.aws
    assert aws is not None
    media = ctx.media_on()
    wanted = ctx.cfg.database or media  # only then is there data to come back to
    kept = kept_data(aws, ctx.stack) if kind == "CREATE" and wanted else Kept()
    snapshot, bucket = restore(kept, state, database=ctx.cfg.database, media=media)
    if kind == "CREATE" and snapshot:
        ctx.ui.info(f"database: restored from {snapshot.rsplit(':', 1)[-1]}, kept by a down")
    if kind == "CREATE" and bucket:
        ctx.ui.info(f"media: the bucket {bucket}, kept by a down, with its files")
    return {"media": media, "media_bucket": bucket, "database_snapshot": snapshot}


def _change_set(
    ctx: Context,
    *,
    verb: str,
    kind: str,
    certificate_arn: str,
    zone: str,
    state: StackState | None,
) -> tuple[ChangeSet, list[dict[str, str]]]:
    aws = ctx.aws
    assert aws is not None
    text = template.template_text()
    params = template.stack_parameters(
        ctx.cfg,
        certificate_arn=certificate_arn,
        hosted_zone_id=zone,
        ssh_cidrs=ctx.ssh_cidrs,
        background=ctx.background(),
        **_data_parameters(ctx, kind=kind, state=state),
    )
    template.parameters_check(params, template.template_parse(text))
    change_set = change_set_create(
        aws.client("cloudformation"),
        stack=ctx.stack,
        kind=kind,
        name=names.change_set_name(verb, now=ctx.clock.wall()),
        template=_template_argument(ctx, text),
        parameters=params,
        tags=template.stack_tags(ctx.stack),
        follow=ctx.follow(),
    )
    return change_set, params


def stack_apply(ctx: Context, *, yes: bool, no_wait: bool) -> Applied:
    """Steps 1-3 of the module docstring; returns the stack once it is up to date."""
    aws = ctx.aws
    assert aws is not None
    cfn = aws.client("cloudformation")
    ctx.phase = "certificate"
    certificate = certs.certificate_obtain(
        aws, ctx.cfg, stack=ctx.stack, ui=ctx.ui, clock=ctx.clock
    )
    prepared = stack_prepare(
        cfn, ctx.stack, follow=ctx.follow(), yes=yes, no_wait=no_wait, token=ctx.token("recover")
    )
    ctx.phase = "change set"
    change_set, _ = _change_set(
        ctx,
        verb="up",
        kind=prepared.kind,
        certificate_arn=certificate.arn,
        zone=certificate.hosted_zone_id or ctx.cfg.hosted_zone_id,
        state=prepared.state,
    )
    try:
        if change_set.empty:
            ctx.ui.done(f"stack {ctx.stack} is up to date: no changes")
            change_set_discard(cfn, change_set)
            state = stack_describe(cfn, ctx.stack)
            assert state is not None
            return Applied(state=state, certificate=certificate, changes=0)
        ctx.ui.info(f"changes to stack {ctx.stack}:")
        for line in change_summary(change_set.changes):
            ctx.ui.info(line)
        if not ctx.ui.confirm(f"Apply these changes to {ctx.stack}?", yes=yes):
            raise Cancelled(
                "up", "no changes were made", hint="rerun with --yes to skip the question"
            )
    except BaseException:  # a no, Ctrl-C or an error: leave nothing half-made
        change_set_discard(cfn, change_set)
        if prepared.kind == "CREATE" and certificate.kind != "given":
            certs.certificates_delete(aws, ctx.stack, ui=ctx.ui)  # no stack will use it
        raise
    ctx.phase = "stack"
    state = change_set_execute(
        cfn, change_set, stack=ctx.stack, token=ctx.token("execute"), follow=ctx.follow()
    )
    ctx.ui.done(f"stack {ctx.stack} is {state.status}")
    return Applied(state=state, certificate=certificate, changes=len(change_set.changes))


def _plan_certificate(ctx: Context, state: StackState | None) -> str:
    """The certificate ARN `up` would use, found without making one."""
    aws = ctx.aws
    assert aws is not None
    if ctx.cfg.certificate_arn:
        return ctx.cfg.certificate_arn
    kind = certs.REQUESTED if ctx.cfg.domain else certs.SELF_SIGNED
    for owned in certs.certificates_owned(aws.client("acm"), ctx.stack):
        if owned.kind == kind:
            return owned.arn
    if state and state.parameters.get(Param.CERTIFICATE_ARN):
        return state.parameters[Param.CERTIFICATE_ARN]
    return PLACEHOLDER_CERTIFICATE.format(region=aws.region)


def _resulting(cfn: Any, change_set: ChangeSet) -> dict[str, str]:
    """logical id -> type of the resources the stack holds once the change set executes."""
    current = [] if change_set.kind == "CREATE" else stack_resources(cfn, change_set.stack_id)
    resources = {r["LogicalResourceId"]: r["ResourceType"] for r in current}
    for change in change_set.changes:
        if change.action == "Remove":
            resources.pop(change.logical_id, None)
        else:
            resources[change.logical_id] = change.resource_type
    return resources


def plan(ctx: Context) -> dict[str, Any]:
    """The change set preview and the monthly cost of the resulting stack; changes nothing."""
    aws = ctx.aws
    assert aws is not None
    cfn = aws.client("cloudformation")
    state = stack_describe(cfn, ctx.stack)
    if state is not None and state.busy:
        raise StackBusy(f"stack {ctx.stack}", f"{state.status}", hint="plan again once it is done")
    if state is not None and (state.status in FAILED_CREATE or "FAILED" in state.status):
        raise StackError(
            f"stack {ctx.stack}",
            f"{state.status}: nothing can be planned against it",
            hint="`cloudsite up` recovers the stack first (it asks before deleting anything)",
        )
    kind = "CREATE" if state is None or state.status == "REVIEW_IN_PROGRESS" else "UPDATE"
    zone = ctx.cfg.hosted_zone_id
    if ctx.cfg.domain and not zone and not ctx.cfg.certificate_arn:
        from cloudsite.aws.dnscert import zone_find

        zone = zone_find(aws.client("route53"), ctx.cfg.domain)
    bucket = names.template_bucket(ctx.stack, account=aws.account, region=aws.region)
    had_bucket = buckets.bucket_exists(aws.client("s3"), bucket)
    change_set, params = _change_set(
        ctx,
        verb="plan",
        kind=kind,
        certificate_arn=_plan_certificate(ctx, state),
        zone=zone,
        state=state,
    )
    try:
        resources = _resulting(cfn, change_set)
    finally:
        change_set_discard(cfn, change_set)
        if not had_bucket:  # plan changes nothing: not even the template bucket stays
            buckets.bucket_delete(aws.client("s3"), bucket)
    parsed = template.template_parse(template.template_text())
    active = conditions.active_resources(parsed, params, region=aws.region)
    declared = parsed.get("Resources", {})
    priced = sorted((k, v) for k, v in resources.items() if k in active or k not in declared)
    items = cost.stack_estimate(priced, ctx.cfg, template=parsed)
    replacement = instance_replacement(change_set.changes)
    return {
        "stack": ctx.stack,
        "kind": kind,
        "changes": [
            {"action": c.verb, "resource": c.logical_id, "type": c.resource_type}
            for c in change_set.changes
        ],
        "instance_replacement": replacement.as_dict() if replacement else None,
        "cost": {
            "items": [i.as_dict() for i in items],
            "monthly_total": cost.total(items),
            "currency": "USD",
            "prices": {"region": prices.REGION, "recorded": prices.RECORDED},
        },
    }
