"""The data a site keeps (docs/data.md), through the CLI against moto's server: `down` keeps
the database's final snapshot and the media bucket, lists and prices them, and proves that
nothing else is left; `up` of the same name brings the site back on them, and keeps them on
every later update; `down --delete-data` asks once, then leaves nothing."""

from pathlib import Path

import boto3
import pytest

from cloudsite.outputs import Output, Param
from tests.cli.conftest import invoke
from tests.cli.test_emulator import STACK, outputs, tagged
from tests.cli.test_emulator import site as site  # the fixture: a startproject, here

pytestmark = pytest.mark.emulator
DATA = ("--set", "database=true", "--set", "media=s3")


def up(*extra: str) -> str:
    result = invoke("up", "--yes", "--detach", *DATA, *extra)
    assert result.exit_code == 0, result.stderr
    return result.stderr


def parameters() -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def tagged_now() -> list[str]:
    """What carries the stack's tag, but terminated instances (moto lists them, as AWS does
    for an hour; `down` does not count them)."""
    return sorted(arn for arn in tagged() if ":instance/" not in arn)


def snapshots() -> list[str]:
    found = boto3.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    return sorted(s["DBSnapshotArn"] for s in found)


def test_down_keeps_the_data_up_restores_it_and_delete_data_leaves_nothing(site: Path) -> None:
    said = up()
    assert "restored" not in said  # nothing kept yet: a new, empty database and bucket
    bucket = outputs()[Output.MEDIA_BUCKET_NAME]
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="original_images/cstest.png", Body=b"an upload")

    # 1. down keeps the final snapshot and the bucket, lists them with a price, and exits 0
    down = invoke("down", "--yes")
    assert down.exit_code == 0, down.stderr
    (snapshot,) = snapshots()
    kept = [line.split("  ") for line in down.stdout.splitlines() if line.startswith("kept  ")]
    assert [row[1] for row in kept] == [snapshot, f"arn:aws:s3:::{bucket}"]
    assert all(row[2].startswith("$") and row[2].endswith("/month") for row in kept)
    assert "the data stays: the database as a final snapshot, and the media bucket" in down.stderr
    assert "only the data is kept" in down.stderr
    assert s3.get_object(Bucket=bucket, Key="original_images/cstest.png")["Body"].read() == (
        b"an upload"
    )
    assert tagged_now() == sorted([snapshot, f"arn:aws:s3:::{bucket}"])

    # 2. up of the same name starts from them: the snapshot restores the database, the kept
    #    bucket is used instead of a new one, and an update keeps both values
    said = up()
    assert f"database: restored from {snapshot.rsplit(':', 1)[-1]}, kept by a down" in said
    assert f"media: the bucket {bucket}, kept by a down, with its files" in said
    assert parameters()[Param.DATABASE_SNAPSHOT] == snapshot
    assert parameters()[Param.MEDIA_BUCKET_NAME] == bucket
    assert outputs()[Output.MEDIA_BUCKET_NAME] == bucket
    up()  # an update: CloudFormation would empty a restored database if the value went
    assert parameters()[Param.DATABASE_SNAPSHOT] == snapshot

    # 3. --delete-data without --yes and without a terminal deletes nothing
    refused = invoke("down", "--delete-data")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-2].startswith("error: confirmation: ")
    assert boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]

    # 4. down --delete-data --yes: the stack, both snapshots (the first down's and this
    #    one's final) and the bucket with every version go; nothing carries the tag
    gone = invoke("down", "--delete-data", "--yes")
    assert gone.exit_code == 0, gone.stderr
    assert "nothing carries the tag cloudsite:stack=wanderpage" in gone.stderr
    assert snapshots() == []
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert tagged_now() == []


def test_delete_data_after_a_plain_down_deletes_what_that_down_kept(site: Path) -> None:
    up()
    bucket = outputs()[Output.MEDIA_BUCKET_NAME]
    assert invoke("down", "--yes").exit_code == 0
    assert snapshots()
    later = invoke("down", "--delete-data", "--yes")
    assert later.exit_code == 0, later.stderr
    assert f"deleted media bucket {bucket}" in later.stderr
    assert snapshots() == [] and tagged_now() == []
