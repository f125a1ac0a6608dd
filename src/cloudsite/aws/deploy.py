"""The delivery half of `up`, and all of `cloudsite deploy`:

1. ship: package the tree, upload it, start the pipeline on that object version (in GitHub
   mode: follow the execution a push started, or start one);
2. follow the pipeline stage by stage (skipped with --detach);
3. smoke-check the site over HTTPS (bounded wait until it answers);
4. verify it: TLS, redirect, headers, health, and through the API its targets and firewalls
   (the checks of `cloudsite verify`; a failed check fails `up`).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudsite.aws import certs, pipeline, ship, smoke
from cloudsite.aws.stack import StackState, stack_describe
from cloudsite.context import Context
from cloudsite.errors import StackError, VerifyFailed
from cloudsite.outputs import SOURCE_OBJECT_KEY, Output

if TYPE_CHECKING:
    from cloudsite.verify import Report


@dataclass(frozen=True)
class Shipped:
    pipeline: str
    execution_id: str
    version_id: str = ""
    sha256: str = ""
    files: int = 0


def output(state: StackState, key: str) -> str:
    value = state.outputs.get(key, "")
    if not value:
        raise StackError(
            f"stack {state.name}",
            f"it has no {key} output",
            hint="the stack is older than this cloudsite; run `cloudsite up` to update it",
        )
    return value


def stack_ready(ctx: Context) -> StackState:
    """The stack `deploy` ships to: it must exist and be usable."""
    assert ctx.aws is not None
    state = stack_describe(ctx.aws.client("cloudformation"), ctx.stack)
    if state is None or state.status not in {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
    }:
        shown = state.status if state else "missing"
        raise StackError(
            f"stack {ctx.stack}",
            f"is {shown}",
            hint="run `cloudsite up` first; it creates or repairs it",
        )
    return state


def source_ship(ctx: Context, state: StackState) -> Shipped:
    """Step 1 of the module docstring."""
    aws = ctx.aws
    assert aws is not None
    cp = aws.client("codepipeline")
    name = output(state, Output.PIPELINE_NAME)
    ctx.phase = "ship"
    if ctx.cfg.source_mode == "github":
        running = ship.pipeline_running(cp, name)
        if running:
            ctx.ui.info(
                f"pipeline {name} is already running execution {running} (a push); following it"
            )
            return Shipped(pipeline=name, execution_id=running)
        execution = ship.pipeline_start(cp, name, version_id="", token=ctx.token("ship"))
        ctx.ui.info(
            f"started pipeline {name} on {ctx.cfg.github_repository}@{ctx.cfg.github_branch}"
        )
        return Shipped(pipeline=name, execution_id=execution)
    package = ctx.package()
    project = ctx.project()
    ctx.ui.info(project_line(project))
    size = f"{len(package.data) / 1e6:.1f} MB"
    own = [name for name in package.files if not name.startswith(".cloudsite/")]
    ctx.ui.info(
        f"packaged {len(own)} project files and the runtime layer "
        f"({len(package.files)} files, {size}, sha256 {package.sha256[:12]})"
    )
    largest = ", ".join(f"{n} ({b / 1000:.0f} KB)" for n, b in package.largest(3))
    ctx.ui.info(f"largest files: {largest}")
    bucket = output(state, Output.SOURCE_BUCKET_NAME)
    version = ship.package_upload(aws.client("s3"), package, bucket=bucket)
    ctx.ui.info(f"uploaded to s3://{bucket}/{SOURCE_OBJECT_KEY} (version {version or 'none'})")
    # The same version gives the same token, so a retried start does not start twice.
    token = (
        "cloudsite-"
        + hashlib.sha256(f"{name}/{version or package.sha256}".encode()).hexdigest()[:40]
    )
    execution = ship.pipeline_start(cp, name, version_id=version, token=token)
    ctx.ui.done(f"started pipeline {name}: execution {execution}")
    return Shipped(
        name, execution, version_id=version, sha256=package.sha256, files=len(package.files)
    )


def project_line(project: Any) -> str:
    """One line on what ships: the settings, the application, Python, and the runtime layer."""
    from cloudsite.project.shipment import runtime_in_use

    ejected = [f.name for f in runtime_in_use(project.root) if f.ejected]
    layer = f"ejected: {', '.join(ejected)}" if ejected else "built-in"
    return (
        f"project: {project.settings}, {project.application} ({project.server.upper()}), "
        f"Python {project.python.version}; runtime layer: {layer}"
    )


def delivery_follow(
    ctx: Context, state: StackState, shipped: Shipped, *, certificate_arn: str
) -> str:
    """Steps 2 to 4: follow the pipeline, then check the site. Returns the site URL."""
    aws = ctx.aws
    assert aws is not None
    ctx.phase = "pipeline"
    clients = pipeline.Clients(
        codepipeline=aws.client("codepipeline"),
        codebuild=aws.client("codebuild"),
        codedeploy=aws.client("codedeploy"),
        logs=aws.client("logs"),
    )
    pipeline.pipeline_follow(
        clients,
        shipped.pipeline,
        shipped.execution_id,
        ui=ctx.ui,
        clock=ctx.clock,
        timeout=ctx.cfg.pipeline_timeout_minutes * 60,
    )
    ctx.ui.done(f"pipeline {shipped.pipeline} succeeded")
    url = output(state, Output.SITE_URL)
    ctx.phase = "smoke"
    smoke.smoke_check(
        url, cadata=_trust(ctx, certificate_arn), ui=ctx.ui, clock=ctx.clock, timeout=300
    )
    ctx.ui.done(f"{url} answers over HTTPS")
    site_verify(ctx, state, url=url)
    return url


def site_verify(
    ctx: Context,
    state: StackState,
    *,
    url: str,
    http_port: int = 80,
    resolve_overrides: dict[str, str] | None = None,
    ca_file: Path | None = None,
) -> "Report":
    """Step 4: every check of `cloudsite verify`, the checklist on stderr, VerifyFailed on a
    failed check. (http_port, resolve_overrides and ca_file exist for edges that are not on
    the standard ports or in public DNS, as in the tests.)"""
    from cloudsite.verify import AwsClients, StackFacts, VerifyError, render_text, verify_site

    assert ctx.aws is not None
    ctx.phase = "verify"
    facts = StackFacts.from_outputs(state.name, outputs=state.outputs, parameters=state.parameters)
    clients = AwsClients(ec2=ctx.aws.client("ec2"), elbv2=ctx.aws.client("elbv2"))
    try:
        report = verify_site(
            url,
            stack_facts=facts,
            http_port=http_port,
            resolve_overrides=resolve_overrides,
            ca_file=ca_file,
            aws_clients=clients,
        )
    except VerifyError as err:
        raise VerifyFailed(err.what, err.why, hint=err.hint) from None
    ctx.ui.info(render_text(report, colour=False))
    if not report.ok:
        failed = sorted(report.failed_ids())
        raise VerifyFailed(
            url,
            f"the site is live, but {len(failed)} verify check(s) failed: {', '.join(failed)}",
            hint="each failed line above says what to fix; docs/operations.md explains every "
            "check; rerun `cloudsite verify` after fixing",
        )
    return report


def _trust(ctx: Context, certificate_arn: str) -> str | None:
    """The self-signed certificate to trust, or None (public authorities)."""
    assert ctx.aws is not None
    acm = ctx.aws.client("acm")
    for owned in certs.certificates_owned(acm, ctx.stack):
        if owned.arn == certificate_arn and owned.kind == certs.SELF_SIGNED:
            return certs.certificate_pem(acm, certificate_arn)
    return None


def summary(state: StackState, shipped: Shipped) -> dict[str, Any]:
    return {
        "stack": state.name,
        "status": state.status,
        "url": state.outputs.get(Output.SITE_URL),
        "pipeline": shipped.pipeline,
        "execution": shipped.execution_id,
        "source": {"version": shipped.version_id, "sha256": shipped.sha256, "files": shipped.files},
    }
