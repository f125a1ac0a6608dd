"""`up` ends by running every verify check (deploy.site_verify): against the HAProxy edge in
front of the site, with the stack's AWS side in moto."""

import io
from pathlib import Path

import boto3
import pytest

from cloudsite import config
from cloudsite.aws import Aws, deploy
from cloudsite.aws.stack import StackState, stack_describe
from cloudsite.context import Context
from cloudsite.errors import VerifyFailed
from cloudsite.ui import Ui
from tests.cli.stubs import FakeClock
from tests.verify.conftest import HOST
from tests.verify.edge import Edge, EdgeConfig
from tests.verify.fake_stack import Faults, build_stack
from tests.verify.pki import Pki

pytestmark = [pytest.mark.emulator, pytest.mark.network]


def live(
    name: str, *, edge: Edge, faults: Faults, tmp_path: Path
) -> tuple[Context, StackState, str]:
    balancer = build_stack(name, site_url=edge.url, faults=faults)
    state = stack_describe(boto3.client("cloudformation"), name)
    assert state is not None
    (tmp_path / "cloudsite.toml").write_text(f'name = "{name}"\nregion = "us-east-1"\n')
    cfg = config.load(path=tmp_path / "cloudsite.toml", env={}, overrides={})
    ctx = Context(cfg=cfg, ui=Ui(out=io.StringIO(), err=io.StringIO(), interactive=False),
                  clock=FakeClock())  # fmt: skip
    ctx.aws = Aws(session=boto3.Session(), region="us-east-1")
    return ctx, state, balancer


def test_up_verifies_a_live_site_and_prints_the_checklist(
    endpoint: str, edge: Edge, pki: Pki, tmp_path: Path
) -> None:
    edge.apply(EdgeConfig(cert=pki.good))
    ctx, state, balancer = live("up-verified", edge=edge, faults=Faults(), tmp_path=tmp_path)
    report = deploy.site_verify(
        ctx, state, url=edge.url, http_port=edge.http_port,
        resolve_overrides={HOST: "127.0.0.1", balancer: "127.0.0.1"}, ca_file=pki.ca,
    )  # fmt: skip
    assert report.ok, [(c.id, c.value) for c in report.checks]
    err = ctx.ui.err.getvalue()  # type: ignore[attr-defined]
    assert "2/2 healthy" in err
    assert "A+" in err
    assert "0 failed" in err


def test_up_fails_when_the_live_site_fails_a_check(
    endpoint: str, edge: Edge, pki: Pki, tmp_path: Path
) -> None:
    edge.apply(EdgeConfig(cert=pki.good))
    faults = Faults(lb_cidrs=("0.0.0.0/0",))
    ctx, state, balancer = live("up-open-lb", edge=edge, faults=faults, tmp_path=tmp_path)
    with pytest.raises(VerifyFailed) as failed:
        deploy.site_verify(
            ctx, state, url=edge.url, http_port=edge.http_port,
            resolve_overrides={HOST: "127.0.0.1", balancer: "127.0.0.1"}, ca_file=pki.ca,
        )  # fmt: skip
    assert failed.value.why.endswith("1 verify check(s) failed: lb-firewall")
    assert "open to 0.0.0.0/0" in ctx.ui.err.getvalue()  # type: ignore[attr-defined]
