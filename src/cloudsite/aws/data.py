"""The data a site keeps when its stack goes (docs/data.md): the database's final snapshots,
which CloudFormation takes on delete (the Database's DeletionPolicy), and the media bucket,
which it leaves (DeletionPolicy Retain). Both carry the stack's tag, so they are found again
by name after the stack is gone.

    kept_data(aws, stack, *, also_buckets=()) -> Kept   what a `down` left, newest first
    restore(kept, state, *, database, media) -> (snapshot, bucket)
                                 what `up` passes as DatabaseSnapshot and MediaBucketName
    kept_items(aws, kept) -> [cost.Item]                 each, with its monthly cost
    data_delete(aws, kept, *, ui) -> [str]               `down --delete-data`
"""

from dataclasses import dataclass, field
from typing import Any

from cloudsite import cost
from cloudsite.aws import buckets, error_code
from cloudsite.aws.stack import StackState
from cloudsite.outputs import DATA_TAG, STACK_TAG, Param

MEDIA: str = "media"  # the DATA_TAG value of a media bucket


@dataclass
class Snapshot:
    id: str
    arn: str
    created: str  # ISO 8601, as RDS gives it
    gigabytes: int


@dataclass
class Kept:
    snapshots: list[Snapshot] = field(default_factory=list)  # newest first
    buckets: list[str] = field(default_factory=list)
    partition: str = "aws"  # of the region, for the buckets' ARNs

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    @property
    def arns(self) -> set[str]:
        """What the tag check must not count as left behind: it is kept on purpose."""
        return {s.arn for s in self.snapshots} | {self.bucket_arn(b) for b in self.buckets}

    def __bool__(self) -> bool:
        return bool(self.snapshots or self.buckets)


def kept_data(aws: Any, stack: str, *, also_buckets: tuple[str, ...] = ()) -> Kept:
    """The stack's manual DB snapshots and media buckets. `also_buckets`: a media bucket the
    stack itself names (while it exists, the tag index may not list it yet)."""
    return Kept(
        snapshots=_snapshots(aws, stack),
        buckets=_buckets(aws, stack, also_buckets),
        partition=buckets.partition(aws.region),
    )


def _tags(items: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items}


def _snapshots(aws: Any, stack: str) -> list[Snapshot]:
    pages = aws.client("rds").get_paginator("describe_db_snapshots").paginate(SnapshotType="manual")
    found = [
        Snapshot(
            id=s["DBSnapshotIdentifier"],
            arn=s["DBSnapshotArn"],
            created=str(s.get("SnapshotCreateTime", "")),
            gigabytes=int(s.get("AllocatedStorage", 0)),
        )
        for page in pages
        for s in page["DBSnapshots"]
        if _tags(s.get("TagList", [])).get(STACK_TAG) == stack
    ]
    return sorted(found, key=lambda s: s.created, reverse=True)


def _buckets(aws: Any, stack: str, also: tuple[str, ...]) -> list[str]:
    pages = (
        aws.client("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(
            TagFilters=[
                {"Key": STACK_TAG, "Values": [stack]},
                {"Key": DATA_TAG, "Values": [MEDIA]},
            ],
            ResourceTypeFilters=["s3"],
        )
    )
    tagged = [
        m["ResourceARN"].rsplit(":", 1)[-1] for p in pages for m in p["ResourceTagMappingList"]
    ]
    s3 = aws.client("s3")
    return sorted({b for b in (*also, *tagged) if b and buckets.bucket_exists(s3, b)})


def restore(
    kept: Kept, state: StackState | None, *, database: bool, media: bool
) -> tuple[str, str]:
    """(DatabaseSnapshot, MediaBucketName) for `up`. A stack that exists keeps the values it
    was made with: CloudFormation replaces a restored database with an empty one when
    DBSnapshotIdentifier is dropped. A new stack takes the newest kept snapshot and the kept
    bucket, so `down` then `up` brings the site back with its data."""
    if state is not None and state.status != "REVIEW_IN_PROGRESS":
        return (
            state.parameters.get(Param.DATABASE_SNAPSHOT, "") if database else "",
            state.parameters.get(Param.MEDIA_BUCKET_NAME, "") if media else "",
        )
    snapshot = kept.snapshots[0].arn if database and kept.snapshots else ""
    bucket = kept.buckets[0] if media and kept.buckets else ""
    return snapshot, bucket


def bucket_gigabytes(s3: Any, bucket: str) -> float:
    """Every version's size, in GB (S3 bills each version kept)."""
    total = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        total += sum(v.get("Size", 0) for v in page.get("Versions", []))
    return total / 1e9


def kept_items(aws: Any, kept: Kept) -> list[cost.Item]:
    """Each kept thing with what it costs a month to keep."""
    items = [
        cost.Item(
            "database snapshot",
            s.arn,
            cost.kept_estimate("snapshot", gigabytes=s.gigabytes),
            f"{s.gigabytes} GB, taken {s.created[:19]}",
        )
        for s in kept.snapshots
    ]
    s3 = aws.client("s3")
    for bucket in kept.buckets:
        size = bucket_gigabytes(s3, bucket)
        items.append(
            cost.Item(
                "media bucket",
                kept.bucket_arn(bucket),
                cost.kept_estimate("s3", gigabytes=size),
                f"{size:.3f} GB in every version",
            )
        )
    return items


def data_delete(aws: Any, kept: Kept, *, ui: Any) -> list[str]:
    """Delete the kept snapshots and buckets (every version); returns what went."""
    import botocore.exceptions

    rds, s3 = aws.client("rds"), aws.client("s3")
    deleted = []
    for snapshot in kept.snapshots:
        try:
            rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot.id)
        except botocore.exceptions.ClientError as err:
            if error_code(err) != "DBSnapshotNotFound":
                raise
        ui.info(f"deleted database snapshot {snapshot.id}")
        deleted.append(snapshot.arn)
    for bucket in kept.buckets:
        s3.delete_bucket_policy(Bucket=bucket)  # the kept policy goes with its bucket
        count = buckets.bucket_empty(s3, bucket)
        buckets.bucket_delete(s3, bucket)
        ui.info(f"deleted media bucket {bucket} ({count} object versions and delete markers)")
        deleted.append(kept.bucket_arn(bucket))
    return deleted
