"""The CLI against moto's server on loopback (real HTTP, the real template): `up --detach` on a
fresh account, `status`, `plan`, `logs`, `down`, and `down` again."""

import io
import json
import os
import zipfile
from pathlib import Path

import boto3
import pytest
from click.testing import Result

from cloudsite.outputs import SOURCE_OBJECT_KEY, STACK_TAG, Output
from cloudsite.project.detect import detect
from cloudsite.project.shipment import extra_entries
from cloudsite.project.source import Package, package_build
from tests.cli.conftest import invoke
from tests.cli.snapshots import assert_snapshot
from tests.support.corpus import startproject
from tests.support.layer import project_config as load_config

pytestmark = pytest.mark.emulator
STACK = "wanderpage"


@pytest.fixture
def site(tmp_path: Path, aws: str, clean_env: pytest.MonkeyPatch) -> Path:
    """A startproject, the same in every run (its zip, and so the output, is stable)."""
    root = startproject(tmp_path / "wanderpage", stable=True)
    files = {
        "cloudsite.toml": f'name = "{STACK}"\nregion = "us-east-1"\n',
        ".gitignore": "*.log\n.venv/\n",
        ".dockerignore": ".git\n**/__pycache__\n",
        "debug.log": "left out\n",
        "mysite/__pycache__/x.pyc": "left out\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    clean_env.chdir(root)
    return root


def shipped_zip(root: Path) -> Package:
    """The zip `up` ships for root: the tree, the runtime layer and project.json."""
    cfg = load_config(root)
    return package_build(root, extra=extra_entries(detect(root), cfg))


def both(result: Result) -> str:
    return f"$ exit {result.exit_code}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def outputs() -> dict[str, str]:
    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def tagged() -> list[str]:
    pages = (
        boto3.client("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(TagFilters=[{"Key": STACK_TAG, "Values": [STACK]}])
    )
    return [m["ResourceARN"] for page in pages for m in page["ResourceTagMappingList"]]


def up() -> Result:
    result = invoke("up", "--yes", "--detach")
    assert result.exit_code == 0, result.stderr
    return result


def test_up_detach_on_a_fresh_account_makes_certificate_stack_and_source(site: Path) -> None:
    result = up()
    found = outputs()
    assert result.stdout == found[Output.SITE_URL] + "\n"
    # the self-signed certificate, imported and tagged, is the listener's
    acm = boto3.client("acm")
    [summary] = acm.list_certificates()["CertificateSummaryList"]
    tags = {
        t["Key"]: t["Value"]
        for t in acm.list_tags_for_certificate(CertificateArn=summary["CertificateArn"])["Tags"]
    }
    assert tags == {STACK_TAG: STACK, "cloudsite:certificate": "self-signed"}
    listener = boto3.client("elbv2").describe_listeners(
        ListenerArns=[found[Output.HTTPS_LISTENER_ARN]]
    )
    assert (
        listener["Listeners"][0]["Certificates"][0]["CertificateArn"] == summary["CertificateArn"]
    )
    # the stack is complete, and the source is the deterministic zip of the project
    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    body = (
        boto3.client("s3")
        .get_object(Bucket=found[Output.SOURCE_BUCKET_NAME], Key=SOURCE_OBJECT_KEY)["Body"]
        .read()
    )
    assert body == shipped_zip(site).data
    names = sorted(zipfile.ZipFile(io.BytesIO(body)).namelist())
    assert [n for n in names if not n.startswith(".cloudsite/")] == [
        ".dockerignore",
        ".gitignore",
        "cloudsite.toml",
        "manage.py",
        "mysite/__init__.py",
        "mysite/asgi.py",
        "mysite/settings.py",
        "mysite/urls.py",
        "mysite/wsgi.py",
    ]
    # with the runtime layer the build needs, and what detection found
    runtime = [
        n.removeprefix(".cloudsite/runtime/") for n in names if n.startswith(".cloudsite/runtime/")
    ]
    assert {"buildspec.yml", "build.py", "Dockerfile", "appspec.yml", "bin/start"} <= set(runtime)
    shipped = json.loads(zipfile.ZipFile(io.BytesIO(body)).read(".cloudsite/project.json"))
    assert (shipped["settings"], shipped["application"]) == (
        "mysite.settings",
        "mysite.wsgi:application",
    )
    # and the pipeline was started on it
    executions = boto3.client("codepipeline").list_pipeline_executions(
        pipelineName=found[Output.PIPELINE_NAME]
    )
    assert len(executions["pipelineExecutionSummaries"]) == 1
    assert_snapshot("up_detach.txt", both(result))


def test_up_again_changes_nothing_and_ships_a_new_source_version(site: Path) -> None:
    up()
    (site / "mysite" / "urls.py").write_text("urlpatterns = []\n")
    result = up()
    assert "is up to date: no changes" in result.stderr
    bucket = outputs()[Output.SOURCE_BUCKET_NAME]
    versions = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=SOURCE_OBJECT_KEY)[
        "Versions"
    ]
    assert len(versions) == 2
    assert_snapshot("up_again.txt", both(result))


def test_up_json_reports_what_it_did(site: Path) -> None:
    result = invoke("up", "--yes", "--detach", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "CREATE_COMPLETE" and report["live"] is False
    assert report["certificate"]["kind"] == "self-signed"
    assert report["source"]["sha256"] == shipped_zip(site).sha256
    assert_snapshot("up_detach.json", result.stdout)


def test_status_shows_stack_targets_alarms_and_url(site: Path) -> None:
    up()
    human = invoke("status")
    assert human.exit_code == 0, human.stderr
    assert f"url       {outputs()[Output.SITE_URL]}" in human.stdout
    assert_snapshot("status.txt", both(human))
    machine = invoke("status", "--json")
    report = json.loads(machine.stdout)
    assert report["status"] == "CREATE_COMPLETE"
    assert report["outputs"] == dict(sorted(outputs().items()))
    assert_snapshot("status.json", machine.stdout)


def test_status_of_a_missing_stack_says_so_and_exits_1(site: Path) -> None:
    result = invoke("status")
    assert result.exit_code == 1
    assert result.stdout.startswith(f"stack     {STACK}  NOT_FOUND")


def test_plan_on_a_fresh_account_previews_and_prices_then_leaves_nothing(site: Path) -> None:
    result = invoke("plan")
    assert result.exit_code == 0, result.stderr
    assert "plan for stack wanderpage (create):" in result.stdout
    assert "  add            LoadBalancer" in result.stdout
    cfn = boto3.client("cloudformation")
    assert [
        s for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"
    ] == []
    assert boto3.client("acm").list_certificates()["CertificateSummaryList"] == []
    assert boto3.client("s3").list_buckets()["Buckets"] == []  # not even the template bucket
    assert_snapshot("plan_create.txt", both(result))


def test_plan_lists_the_symlinks_it_stores_as_what_they_point_to(site: Path) -> None:
    (site / "shared").mkdir()
    (site / "shared" / "notes.txt").write_text("kept\n")
    os.symlink("shared", site / "docs")
    os.symlink("mysite/urls.py", site / "urls_alias.py")
    result = invoke("plan")
    assert result.exit_code == 0, result.stderr
    assert (
        "  symlinks       stored as what they point to: docs -> shared, "
        "urls_alias.py -> mysite/urls.py\n"
    ) in result.stdout


def test_plan_on_the_deployed_stack_shows_no_changes_and_the_monthly_cost(site: Path) -> None:
    up()
    result = invoke("plan", "--json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["kind"] == "UPDATE" and plan["changes"] == []
    items = {i["what"]: i for i in plan["cost"]["items"]}
    assert items["instances"]["monthly"] == 30.37
    assert plan["cost"]["monthly_total"] > 50
    change_sets = boto3.client("cloudformation").list_change_sets(StackName=STACK)["Summaries"]
    assert [c for c in change_sets if c["ChangeSetName"].startswith("cloudsite-plan")] == []
    assert_snapshot("plan_update.json", result.stdout)
    assert_snapshot("plan_update.txt", both(invoke("plan")))


def test_plan_says_a_new_instance_type_replaces_the_instances_one_at_a_time(site: Path) -> None:
    up()
    result = invoke("plan", "--set", "instance_type=t3.medium")
    assert result.exit_code == 0, result.stderr
    assert "  change         LaunchTemplate" in result.stdout
    assert (
        "  instances will be replaced one at a time (rolling update): LaunchTemplate changes\n"
        in result.stdout
    )
    machine = json.loads(invoke("plan", "--json", "--set", "instance_type=t3.medium").stdout)
    assert machine["instance_replacement"]["how"] == "rolling update"
    # A change that leaves the launch template alone replaces nothing.
    alarms_only = json.loads(invoke("plan", "--json", "--set", "log_retention_days=30").stdout)
    assert alarms_only["changes"] and alarms_only["instance_replacement"] is None


def test_logs_prints_the_app_log_group(site: Path) -> None:
    up()
    logs = boto3.client("logs")
    group = outputs()[Output.APP_LOG_GROUP_NAME]
    logs.create_log_stream(logGroupName=group, logStreamName="i-0a1b2c3d4e5f60718")
    import time

    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="i-0a1b2c3d4e5f60718",
        logEvents=[
            {
                "timestamp": now - 2000,
                "message": '{"level": "INFO", "method": "GET", "path": "/", "status": 200}',
            },
            {
                "timestamp": now - 1000,
                "message": '{"level": "INFO", "method": "GET", "path": "/readyz", "status": 200}',
            },
        ],
    )
    result = invoke("logs", "app", "--since", "5m")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("i-0a1b2c3d4e5f60718") == 2
    assert_snapshot("logs_app.txt", both(result))


def _fill(found: dict[str, str]) -> None:
    """What a running site leaves: object versions, delete markers and an image."""
    s3 = boto3.client("s3")
    bucket = found[Output.SOURCE_BUCKET_NAME]
    s3.put_object(Bucket=bucket, Key="source/old.zip", Body=b"old")
    s3.delete_object(Bucket=bucket, Key="source/old.zip")  # a delete marker
    s3.put_object(Bucket=found[Output.ACCESS_LOG_BUCKET_NAME], Key="AWSLogs/log.gz", Body=b"log")
    boto3.client("ecr").put_image(
        repositoryName=found[Output.ECR_REPOSITORY_NAME],
        imageManifest=json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "digest": "sha256:" + "1" * 64,
                    "size": 1,
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                },
                "layers": [],
            }
        ),
        imageTag="3hl4kqtj",
    )


def _terminated(arn: str) -> bool:
    if ":instance/" not in arn:
        return False
    found = boto3.client("ec2").describe_instances(InstanceIds=[arn.rsplit("/", 1)[-1]])
    return bool(found["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated")


def test_down_deletes_everything_and_proves_nothing_is_left(site: Path) -> None:
    up()
    found = outputs()
    _fill(found)
    assert tagged()  # the scan sees the stack's resources while they exist
    result = invoke("down", "--yes")
    assert result.exit_code == 0, both(result)
    cfn = boto3.client("cloudformation")
    assert [
        s for s in cfn.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"
    ] == []
    names = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert not names & {
        found[Output.SOURCE_BUCKET_NAME],
        found[Output.ACCESS_LOG_BUCKET_NAME],
        found[Output.ARTIFACT_BUCKET_NAME],
    }
    assert boto3.client("ecr").describe_repositories()["repositories"] == []
    assert boto3.client("acm").list_certificates()["CertificateSummaryList"] == []
    # Terminated instances stay listed (as on AWS, for an hour or so); nothing else may.
    assert [arn for arn in tagged() if not _terminated(arn)] == []
    assert "deleted 1 image from" in result.stderr
    assert_snapshot("down.txt", both(result))


def test_down_leaves_no_secret_behind_the_key_nor_the_databases(site: Path) -> None:
    result = invoke("up", "--yes", "--detach", "--set", "database=true")
    assert result.exit_code == 0, result.stderr
    secrets = boto3.client("secretsmanager")
    names = sorted(s["Name"] for s in secrets.list_secrets()["SecretList"])
    assert len(names) == 2, names
    assert names[0].startswith("rds!db-")  # kept by RDS, deleted by RDS with the database
    assert names[1].startswith(f"{STACK}-DjangoSecretKey-")
    down = invoke("down", "--yes", "--json")
    assert down.exit_code == 0, down.stderr
    assert len(json.loads(down.stdout)["secrets_deleted"]) == 1
    # Deleted, not scheduled for deletion: a listing that includes those finds nothing.
    assert secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []


def test_down_reports_a_database_secret_that_outlived_its_database(site: Path) -> None:
    invoke("up", "--yes", "--detach", "--set", "database=true")
    (db,) = boto3.client("rds").describe_db_instances()["DBInstances"]
    # As if RDS had failed to delete its secret: one more, tagged with the database.
    stray = boto3.client("secretsmanager").create_secret(
        Name="rds!db-stray",
        SecretString='{"username": "cloudsite", "password": "x"}',
        Tags=[{"Key": "aws:rds:primaryDBInstanceArn", "Value": db["DBInstanceArn"]}],
    )
    result = invoke("down", "--yes")
    assert result.exit_code == 1
    assert stray["ARN"] in result.stdout and "$0.40/month" in result.stdout
    assert "error: down: 1 resource(s) of wanderpage are still there" in result.stderr


def test_down_twice_is_fine(site: Path) -> None:
    up()
    assert invoke("down", "--yes").exit_code == 0
    again = invoke("down", "--yes")
    assert again.exit_code == 0, again.stderr
    assert "stack wanderpage does not exist; nothing to delete" in again.stderr
    assert_snapshot("down_again.txt", both(again))
    machine = invoke("down", "--yes", "--json")
    assert json.loads(machine.stdout) == {
        "stack": STACK,
        "existed": False,
        "emptied": {},
        "images_deleted": 0,
        "secrets_deleted": [],
        "certificates_deleted": [],
        "left": [],
        "left_monthly": 0.0,
        "kept": [],
        "kept_monthly": 0,
        "data_deleted": [],
        "oneoff_deleted": [],
    }


def test_down_without_yes_and_without_a_terminal_deletes_nothing(site: Path) -> None:
    up()
    result = invoke("down")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2].startswith("error: confirmation: ")
    assert boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]


def test_deploy_ships_the_source_without_touching_the_stack(site: Path) -> None:
    up()
    cfn = boto3.client("cloudformation")
    before = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
    (site / "mysite" / "urls.py").write_text("urlpatterns = []  # deployed\n")
    result = invoke("deploy", "--detach")
    assert result.exit_code == 0, result.stderr
    assert cfn.describe_stack_events(StackName=STACK)["StackEvents"] == before
    found = outputs()
    body = (
        boto3.client("s3")
        .get_object(Bucket=found[Output.SOURCE_BUCKET_NAME], Key=SOURCE_OBJECT_KEY)["Body"]
        .read()
    )
    assert body == shipped_zip(site).data
    runs = boto3.client("codepipeline").list_pipeline_executions(
        pipelineName=found[Output.PIPELINE_NAME]
    )
    assert len(runs["pipelineExecutionSummaries"]) == 2


def test_deploy_without_a_stack_says_to_run_up(site: Path) -> None:
    result = invoke("deploy", "--detach")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "error: stack wanderpage: is missing",
        "hint: run `cloudsite up` first; it creates or repairs it",
    ]


def test_status_watch_refreshes_until_interrupted(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cloudsite.aws import waits

    up()
    sleeps: list[float] = []

    class TwoRounds(waits.Clock):
        def sleep(self, seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) == 2:
                raise KeyboardInterrupt  # the user's Ctrl-C ends --watch

    monkeypatch.setattr(waits, "clock_from_env", lambda env=None: TwoRounds(poll=0.01))
    result = invoke("status", "--watch", "--interval", "3", "--json")
    assert result.exit_code == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in reports] == ["CREATE_COMPLETE", "CREATE_COMPLETE"]
    assert sleeps == [3, 3]
    assert "interrupted" not in result.stderr
