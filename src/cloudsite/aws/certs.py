"""The certificate for the HTTPS listener, in the order the docs give:

1. `certificate_arn` is used as it is;
2. with `domain` and a Route 53 hosted zone, an ACM certificate validated through DNS (the
   validation records are created here; the alias record is the template's);
3. otherwise a self-signed certificate imported into ACM.

Certificates cloudsite made carry the stack tag and a kind tag, so a rerun reuses them and
`cloudsite down` deletes them (with the validation records it created).
"""

from typing import Any, Final

from cloudsite import names
from cloudsite.aws import Aws, error_code, selfsigned
from cloudsite.aws.acm import REQUESTED, Certificate, certificates_owned
from cloudsite.aws.dnscert import certificate_request, validation_records_delete
from cloudsite.aws.waits import Clock
from cloudsite.config import Config
from cloudsite.errors import CertificateError
from cloudsite.outputs import STACK_TAG
from cloudsite.ui import Ui

SELF_SIGNED: Final = "self-signed"
SELF_SIGNED_HINT: Final = (
    "for a certificate browsers trust, set `domain` (a name in a Route 53 hosted zone) or "
    "`certificate_arn` in cloudsite.toml and run `cloudsite up` again"
)


def certificate_obtain(aws: Aws, cfg: Config, *, stack: str, ui: Ui, clock: Clock) -> Certificate:
    """The certificate for the listener (see the module docstring for the order)."""
    if cfg.certificate_arn:
        certificate_check(aws.client("acm"), cfg.certificate_arn)
        ui.info(f"certificate: {cfg.certificate_arn} (from the configuration)")
        return Certificate(arn=cfg.certificate_arn, kind="given")
    if cfg.domain:
        return certificate_request(aws, cfg, stack=stack, ui=ui, clock=clock)
    return certificate_self_signed(
        aws.client("acm"), stack=stack, region=aws.region, ui=ui, clock=clock
    )


def certificate_check(acm: Any, arn: str) -> None:
    """A given certificate must exist and be issued, or the listener would fail mid-deploy."""
    import botocore.exceptions

    try:
        status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
    except botocore.exceptions.ClientError as err:
        if error_code(err) != "ResourceNotFoundException":
            raise
        raise CertificateError(
            "certificate_arn",
            f"{arn} does not exist in this account and region",
            hint="check the ARN in the ACM console, or remove certificate_arn to let cloudsite "
            "obtain one",
        ) from None
    if status != "ISSUED":
        raise CertificateError(
            "certificate_arn",
            f"{arn} is {status}, not ISSUED",
            hint="finish its validation in ACM, or remove certificate_arn",
        )


def certificate_self_signed(
    acm: Any, *, stack: str, region: str, ui: Ui, clock: Clock
) -> Certificate:
    """Import (or reuse, or renew in place) the stack's self-signed certificate."""
    now = clock.wall()
    existing = [c for c in certificates_owned(acm, stack) if c.kind == SELF_SIGNED]
    current = existing[0] if existing else None
    if current is not None:
        not_after = acm.describe_certificate(CertificateArn=current.arn)["Certificate"]["NotAfter"]
        if not selfsigned.needs_renewal(not_after, now=now):
            ui.info(f"certificate: self-signed, reusing {current.arn}")
            _warn_self_signed(ui)
            return Certificate(arn=current.arn, kind=SELF_SIGNED)
    pair = selfsigned.self_signed_create(stack, region=region, now=now)
    args: dict[str, Any] = {"Certificate": pair.certificate_pem, "PrivateKey": pair.private_key_pem}
    if current is not None:
        args["CertificateArn"] = current.arn  # re-import keeps the ARN the listener uses
    else:
        args["Tags"] = [
            {"Key": STACK_TAG, "Value": stack},
            {"Key": names.certificate_kind_tag(), "Value": SELF_SIGNED},
        ]
    arn = acm.import_certificate(**args)["CertificateArn"]
    ui.info(f"certificate: self-signed, imported into ACM as {arn}")
    _warn_self_signed(ui)
    return Certificate(arn=arn, kind=SELF_SIGNED)


def _warn_self_signed(ui: Ui) -> None:
    ui.warn(
        "the site uses a self-signed certificate: browsers will warn that the connection is "
        "not private until you use a real domain",
        hint=SELF_SIGNED_HINT,
    )


def certificate_pem(acm: Any, arn: str) -> str:
    """The certificate (public part) in PEM, for the smoke check to trust."""
    return str(acm.get_certificate(CertificateArn=arn)["Certificate"])


def certificates_delete(aws: Aws, stack: str, *, ui: Ui) -> list[str]:
    """Delete every certificate cloudsite made for the stack, and the DNS validation records
    of the requested ones; returns the deleted ARNs. A certificate still in use (the stack's
    delete failed) raises with the resource that holds it."""
    acm = aws.client("acm")
    deleted = []
    for owned in certificates_owned(acm, stack):
        if owned.kind == REQUESTED and owned.zone:
            validation_records_delete(aws, owned, ui=ui)
        _delete(acm, owned.arn)
        ui.info(f"deleted certificate {owned.arn} ({owned.kind})")
        deleted.append(owned.arn)
    return deleted


def _delete(acm: Any, arn: str) -> None:
    import botocore.exceptions

    try:
        acm.delete_certificate(CertificateArn=arn)
    except botocore.exceptions.ClientError as err:
        if error_code(err) == "ResourceNotFoundException":
            return
        if error_code(err) == "ResourceInUseException":
            users = acm.describe_certificate(CertificateArn=arn)["Certificate"].get("InUseBy", [])
            raise CertificateError(
                f"certificate {arn}",
                "still in use by " + (", ".join(users) or "another resource"),
                hint="delete what uses it (the stack's load balancer), then rerun cloudsite down",
            ) from None
        raise
