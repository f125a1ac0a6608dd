"""`cloudsite down`: a complete teardown, checked at the end.

1. turn deletion protection off (the stack's, the load balancer's, the database's);
2. empty the versioned buckets (every version and delete marker), delete the ECR images, and
   delete the stack's secrets with no recovery window (a secret waiting out its window still
   exists). The database's password secret belongs to RDS, which deletes it with the
   database; step 5 checks that it did;
3. delete the stack, streaming its events; on DELETE_FAILED, redo step 2 and retry, then name
   the resource that still blocks and why;
4. delete the certificates cloudsite made (and their DNS validation records), the template
   bucket, and any one-off parameter /cloudsite/<stack>/oneoff/* a crashed `cloudsite manage`
   left (it holds createsuperuser's values; the stack does not own it);
5. the data: the database's final snapshot (CloudFormation takes it) and the media bucket
   (which the stack leaves, and step 2 does not empty) are kept and listed with their monthly
   cost; with `delete_data` they are deleted too, with the snapshots and media buckets earlier
   downs kept (aws/data.py);
6. list whatever still carries the stack's tag and is not kept on purpose, and any RDS-managed
   secret of the stack's database (RDS tags it with the database, not with the stack), with
   their monthly cost.
Running it again finds nothing new and says so: it is idempotent.
"""

from dataclasses import dataclass, field
from typing import Any, Final

from cloudsite import cost, names
from cloudsite.aws import Aws, buckets, error_code
from cloudsite.aws.certs import certificates_delete, certificates_owned
from cloudsite.aws.data import data_delete, kept_data, kept_items
from cloudsite.aws.manage import oneoff_delete, oneoff_left
from cloudsite.aws.stack import (
    Follow,
    StackState,
    events_latest,
    first_failure,
    stack_delete,
    stack_describe,
    stack_resources,
)
from cloudsite.errors import Cancelled, StackError
from cloudsite.outputs import STACK_TAG, Param

DELETE_ATTEMPTS: Final = 3
# The tagging index lags real deletes by a minute or so: a non-empty answer is asked again
# this many times, SETTLE_POLLS poll intervals apart (90 s with the default 5 s poll).
SETTLE_CHECKS: Final = 6
SETTLE_POLLS: Final = 3


@dataclass
class Report:
    stack: str
    existed: bool = False
    emptied: dict[str, int] = field(default_factory=dict)
    images: int = 0
    secrets: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    oneoff: list[str] = field(default_factory=list)  # parameters crashed manage runs left
    left: list[cost.Item] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)  # their RDS-managed secrets must go too
    media_buckets: list[str] = field(default_factory=list)  # never emptied without delete_data
    kept: list[cost.Item] = field(default_factory=list)  # the data, kept on purpose
    data_deleted: list[str] = field(default_factory=list)


def _physical(resources: list[dict[str, Any]], rtype: str) -> list[str]:
    return [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == rtype
        and r.get("PhysicalResourceId")
        and r.get("ResourceStatus") != "DELETE_COMPLETE"
    ]


def teardown(
    aws: Aws, *, stack: str, follow: Follow, yes: bool, token: str, delete_data: bool = False
) -> Report:
    """Steps 1-6 of the module docstring; returns what was done, kept, and is left."""
    cfn = aws.client("cloudformation")
    report = Report(stack=stack)
    state = stack_describe(cfn, stack)
    bucket = names.template_bucket(stack, account=aws.account, region=aws.region)
    owned = certificates_owned(aws.client("acm"), stack)
    earlier = kept_data(aws, stack) if delete_data and state is None else None
    gone = state is None and not owned and not buckets.bucket_exists(aws.client("s3"), bucket)
    if gone and not earlier:
        follow.ui.info(f"stack {stack} does not exist; nothing to delete")
    elif gone and earlier:  # only what an earlier down kept is left: asked once, for it
        question = f"Delete the data {stack} kept ({_listed(earlier)}), which cannot be undone?"
        if not follow.ui.confirm(question, yes=yes):
            raise Cancelled("down", "nothing was deleted", hint="rerun with --yes")
    else:
        _confirm(
            follow, stack=stack, state=state, certificates=len(owned), yes=yes, data=delete_data
        )
    if state is not None:
        report.existed = True
        if state.busy:
            follow.ui.info(f"stack {stack} is {state.status}; waiting for that first")
            after = events_latest(cfn, state.stack_id)
            state, _ = follow.run(state.stack_id, after=after, what=f"waiting for {state.status}")
        if state.status != "DELETE_COMPLETE":
            _delete_stack(aws, state, report=report, follow=follow, token=token, data=delete_data)
    report.certificates = certificates_delete(aws, stack, ui=follow.ui)
    if buckets.bucket_delete(aws.client("s3"), bucket):
        follow.ui.info(f"deleted the template bucket {bucket}")
    report.oneoff = oneoffs_delete(aws, stack, ui=follow.ui)
    kept = kept_data(aws, stack, also_buckets=tuple(report.media_buckets))
    if delete_data:
        report.data_deleted = data_delete(aws, kept, ui=follow.ui)
    else:
        report.kept = kept_items(aws, kept)
    report.left = leftovers(aws, stack, follow=follow, kept=kept.arns if not delete_data else set())
    report.left += [cost.arn_estimate(arn) for arn in database_secrets(aws, report.databases)]
    return report


def oneoffs_delete(aws: Aws, stack: str, *, ui: Any) -> list[str]:
    """The one-off parameters of `cloudsite manage` runs that never reached their `finally`."""
    ssm = aws.client("ssm")
    deleted = oneoff_delete(ssm, oneoff_left(ssm, stack))
    for name in deleted:
        ui.info(f"deleted the one-off parameter {name} (a `cloudsite manage` run left it)")
    return deleted


def _listed(kept: Any) -> str:
    parts = [f"{len(kept.snapshots)} database snapshot(s)"] if kept.snapshots else []
    parts += [f"media bucket {b}" for b in kept.buckets]
    return ", ".join(parts)


def _confirm(
    follow: Follow,
    *,
    stack: str,
    state: StackState | None,
    certificates: int,
    yes: bool,
    data: bool,
) -> None:
    what = f"stack {stack} and everything in it (buckets, images, logs, database)"
    if state is None:
        what = f"what is left of {stack}"
    if certificates:
        what += f", and {certificates} certificate(s) cloudsite made"
    keeps = state is not None and "true" in (
        state.parameters.get(Param.ENABLE_DATABASE),
        state.parameters.get(Param.ENABLE_MEDIA),
    )
    if data:
        what += ", and its data (database snapshots, the media bucket), which cannot be undone"
    elif keeps:
        follow.ui.info(
            "the data stays: the database as a final snapshot, and the media bucket "
            "(`cloudsite down --delete-data` deletes them too)"
        )
    if not follow.ui.confirm(f"Delete {what}?", yes=yes):
        raise Cancelled("down", "nothing was deleted", hint="rerun with --yes to skip the question")


def _delete_stack(
    aws: Aws, state: StackState, *, report: Report, follow: Follow, token: str, data: bool
) -> None:
    cfn = aws.client("cloudformation")
    protection_off(aws, state, ui=follow.ui)
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        resources = stack_resources(cfn, state.stack_id)
        databases = _physical(resources, "AWS::RDS::DBInstance")
        report.databases += [db for db in databases if db not in report.databases]
        media = [r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == MEDIA]
        report.media_buckets += [b for b in media if b and b not in report.media_buckets]
        _empty_and_purge(aws, resources, report=report, ui=follow.ui, data=data)
        final, events = stack_delete(cfn, state, follow=follow, token=f"{token}-{attempt}")
        if final.status == "DELETE_COMPLETE":
            follow.ui.done(f"stack {state.name} deleted")
            return
        failure = first_failure(events, stack_name=state.name)
        why = failure.describe() if failure else final.reason
        if attempt < DELETE_ATTEMPTS:
            retry = f"{attempt + 1}/{DELETE_ATTEMPTS}"
            follow.ui.warn(f"delete failed ({why}); emptying again and retrying ({retry})")
        state = final
    blocker = failure.logical_id if failure else "a resource"
    raise StackError(
        f"stack {state.name}",
        f"DELETE_FAILED after {DELETE_ATTEMPTS} attempts: {why}",
        hint=f"{blocker} blocks the delete: remove what holds it (see the reason), then run "
        "`cloudsite down` again",
    )


def protection_off(aws: Aws, state: StackState, *, ui: Any) -> None:
    """Stack termination protection, load balancer and database deletion protection: off."""
    cfn = aws.client("cloudformation")
    raw = cfn.describe_stacks(StackName=state.stack_id)["Stacks"][0]
    if raw.get("EnableTerminationProtection"):
        cfn.update_termination_protection(
            EnableTerminationProtection=False, StackName=state.stack_id
        )
        ui.info(f"termination protection off: stack {state.name}")
    resources = stack_resources(cfn, state.stack_id)
    for arn in _physical(resources, "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        aws.client("elbv2").modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
        )
        ui.info(f"deletion protection off: load balancer {arn.rsplit('/', 2)[-2]}")
    for db in _physical(resources, "AWS::RDS::DBInstance"):
        aws.client("rds").modify_db_instance(
            DBInstanceIdentifier=db, DeletionProtection=False, ApplyImmediately=True
        )
        ui.info(f"deletion protection off: database {db}")


def _empty_and_purge(
    aws: Aws, resources: list[dict[str, Any]], *, report: Report, ui: Any, data: bool
) -> None:
    s3 = aws.client("s3")
    for bucket in _physical(resources, "AWS::S3::Bucket"):
        if bucket in report.media_buckets:
            continue  # the site's uploads: kept, or deleted with the rest of the data after
            # the stack, once nothing can write to it any more (data.data_delete)
        count = buckets.bucket_empty(s3, bucket)
        report.emptied[bucket] = report.emptied.get(bucket, 0) + count
        what = "version or delete marker" if count == 1 else "versions and delete markers"
        ui.info(f"emptied bucket {bucket} ({count} object {what})")
    for repository in _physical(resources, "AWS::ECR::Repository"):
        count = images_delete(aws.client("ecr"), repository)
        report.images += count
        ui.info(f"deleted {count} image{'' if count == 1 else 's'} from {repository}")
    for secret in _physical(resources, "AWS::SecretsManager::Secret"):
        # No recovery window: a secret scheduled for deletion still exists (and still costs)
        # for 7-30 days, and would block a new stack of the same name from creating it.
        secret_delete(aws.client("secretsmanager"), secret)
        report.secrets.append(secret)
        ui.info(f"deleted secret {secret} (no recovery window)")


def images_delete(ecr: Any, repository: str) -> int:
    import botocore.exceptions

    deleted = 0
    try:
        for page in ecr.get_paginator("list_images").paginate(repositoryName=repository):
            ids = page.get("imageIds", [])
            for start in range(0, len(ids), 100):  # BatchDeleteImage takes 100 at most
                result = ecr.batch_delete_image(
                    repositoryName=repository, imageIds=ids[start : start + 100]
                )
                deleted += len(result.get("imageIds", []))
    except botocore.exceptions.ClientError as err:
        if error_code(err) == "RepositoryNotFoundException":
            return deleted
        raise
    return deleted


def secret_delete(sm: Any, secret: str) -> None:
    import botocore.exceptions

    try:
        sm.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
    except botocore.exceptions.ClientError as err:
        if error_code(err) != "ResourceNotFoundException":
            raise


MEDIA: Final = "MediaBucket"  # the template's logical id of the media bucket

# RDS tags the secret it keeps a database's master password in with the database's ARN.
RDS_DATABASE_TAG: Final = "aws:rds:primaryDBInstanceArn"


def database_secrets(aws: Aws, databases: list[str]) -> list[str]:
    """ARNs of the RDS-managed secrets of these (deleted) databases that still exist. RDS
    deletes them with the database; one that survived would still cost, and hold a password."""
    if not databases:
        return []
    pages = (
        aws.client("secretsmanager")
        .get_paginator("list_secrets")
        .paginate(Filters=[{"Key": "tag-key", "Values": [RDS_DATABASE_TAG]}])
    )
    return sorted(
        secret["ARN"]
        for page in pages
        for secret in page["SecretList"]
        for tag in secret.get("Tags", [])
        if tag["Key"] == RDS_DATABASE_TAG and tag["Value"].rsplit(":", 1)[-1] in databases
    )


def tagged(tagging: Any, stack: str) -> list[str]:
    """ARNs of everything that carries the stack's tag (Resource Groups Tagging API)."""
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": STACK_TAG, "Values": [stack]}]
    )
    return sorted(m["ResourceARN"] for page in pages for m in page["ResourceTagMappingList"])


def leftovers(
    aws: Aws, stack: str, *, follow: Follow, kept: set[str] | None = None
) -> list[cost.Item]:
    """What still carries the tag and is not `kept` on purpose. AWS's tag index trails
    deletes, so a non-empty answer is asked again (bounded) before it is believed; terminated
    instances, which stay listed for an hour or so but cost nothing, do not count."""
    kept = kept or set()

    def found_now() -> list[str]:
        arns = tagged(aws.client("resourcegroupstaggingapi"), stack)
        return _existing(aws, [a for a in arns if a not in kept])

    found = found_now()
    interval = follow.clock.poll * SETTLE_POLLS
    if found:
        what = "checking again that nothing carries the stack's tag"
        with follow.ui.waiting(what, timeout=interval * SETTLE_CHECKS) as wait:
            for _ in range(SETTLE_CHECKS):
                wait.status(f"{len(found)} tagged resources")
                follow.clock.sleep(interval)
                found = found_now()
                if not found:
                    break
    return [cost.arn_estimate(arn) for arn in found]


def _existing(aws: Aws, arns: list[str]) -> list[str]:
    """`arns` without the EC2 instances that are already terminated."""
    instances = {arn.rsplit("/", 1)[-1]: arn for arn in arns if ":instance/" in arn}
    if not instances:
        return arns
    pages = (
        aws.client("ec2")
        .get_paginator("describe_instances")
        .paginate(Filters=[{"Name": "instance-id", "Values": sorted(instances)}])
    )
    terminated = {
        instances[i["InstanceId"]]
        for page in pages
        for reservation in page["Reservations"]
        for i in reservation["Instances"]
        if i["State"]["Name"] == "terminated"
    }
    return [arn for arn in arns if arn not in terminated]
