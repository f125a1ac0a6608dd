"""Bad input: each kind gives exit code 2 and a one-line error naming the bad value, and the
loopback endpoint the CLI is pointed at receives no request at all."""

from pathlib import Path

import pytest

from tests.cli.conftest import CREDENTIALS, Recorder, invoke
from tests.support.servers import free_port

CASES = [
    ('name = "My Site"', "name", "'My Site'"),
    ('name = "a-very-long-site-name-beyond-limits"', "name", "is 35 characters long"),
    ('region = "us-middle-9"', "region", "'us-middle-9' is not an AWS region"),
    ('instance_type = "t3.smal"', "instance_type", "'t3.smal' is not an EC2 instance type"),
    ('allowed_cidrs = ["10.0.0.0/33"]', "allowed_cidrs", "'10.0.0.0/33' is not a CIDR block"),
    ('allowed_cidrs = ["10.0.0.1/8"]', "allowed_cidrs", "'10.0.0.1/8' is not a CIDR block"),
    ('ssh_cidrs = ["0.0.0.0/0"]', "ssh_cidrs", "'0.0.0.0/0' opens SSH to the whole internet"),
    ('ssh_cidrs = ["my-ip", "office"]', "ssh_cidrs", "'office' is not a CIDR block"),
    ('domain = "exa mple.com"', "domain", "'exa mple.com' is not a domain name"),
    ('domain = "localhost"', "domain", "'localhost' is not a domain name"),
    ('alarm_email = "ops-at-example.com"', "alarm_email", "'ops-at-example.com' is not an email"),
    (
        'certificate_arn = "arn:aws:acm:us-east-1:123:certificate/x"',
        "certificate_arn",
        "is not an ACM certificate ARN",
    ),
    (
        'certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/'
        '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"',
        "certificate_arn",
        "is in eu-west-1, not the stack's region us-east-1",
    ),
    ('hosted_zone_id = "Z0123456789ABC"', "hosted_zone_id", "is set without a domain"),
    ("min_size = 3\ndesired_capacity = 2", "desired_capacity", "2 is not between min_size (3)"),
    ("max_size = 2", "max_size", "2 must be larger than min_size (2)"),
    ("min_size = 0", "min_size", "0 is outside 1..20"),
    ("scaling_cpu_percent = 95", "scaling_cpu_percent", "95 is outside 10..90"),
    ("scaling_requests_per_instance = 10", "scaling_requests_per_instance", "outside 100..1000000"),
    ("log_retention_days = 31", "log_retention_days", "is not a CloudWatch retention period"),
    ('source_mode = "github"', "github_connection_arn", "is not a CodeConnections connection"),
    ('tls_policy = "TLS-1.0"', "tls_policy", "'TLS-1.0' is not an ELB security policy"),
    ('vpc_id = "vpc-123"', "vpc_id", "'vpc-123' is not a VPC id"),
    ('profile = "nosuchprofile"', "profile", "'nosuchprofile' is not a profile"),
    ('media = "bucket"', "media", "'bucket' is not 'auto', 's3' or 'none'"),
    # background work (docs/background.md)
    ('[processes]\nworker = ""', "processes.worker", "its command is empty"),
    ('[processes]\nworker = "  "', "processes.worker", "its command is empty"),
    ('[processes]\n"my-worker" = "celery worker"', "processes.my-worker", "is not a name"),
    ('[processes]\n2nd = "celery worker"', "processes.2nd", "is not a name"),
    ('[processes]\nweb = "gunicorn x"', "processes.web", "is a name cloudsite uses itself"),
    ('[processes]\nbeat = "celery -A x beat"', "processes.beat", "runs Celery beat"),
    ('[processes]\nw = { command = "x", count = 0 }', "processes.w", "count = 0 is outside"),
    ('[processes]\nw = { cmd = "x" }', "processes.w", "'cmd' is not one of its fields"),
    (
        'database = true\n[schedule]\na = { cron = "61 * * * *", command = "manage.py check" }',
        "schedule.a",
        "minute 61 is outside 0-59",
    ),
    (
        'database = true\n[schedule]\na = { cron = "0 3 1 * 1", command = "manage.py check" }',
        "schedule.a",
        "which EventBridge cannot do",
    ),
    (
        'database = true\n[schedule]\na = { cron = "0 3 * * * * *", command = "manage.py check" }',
        "schedule.a",
        "has 7 fields",
    ),
    (
        'database = true\n[schedule]\na = { cron = "0 3 ? * ? *", command = "manage.py check" }',
        "schedule.a",
        "exactly one of day-of-month and day-of-week",
    ),
    (
        'database = true\n[schedule]\na = { rate = "1 minutes", command = "manage.py check" }',
        "schedule.a",
        "EventBridge wants '1 minute'",
    ),
    (
        'database = true\n[schedule]\na = { rate = "0 hours", command = "manage.py check" }',
        "schedule.a",
        "is not 'N minutes'",
    ),
    (
        'database = true\n[schedule]\na = { cron = "0 3 * * *", command = "rm -rf /tmp/x" }',
        "schedule.a",
        "is neither a management command nor a process",
    ),
    (
        'database = true\n[schedule]\na = { cron = "0 3 * * *", '
        'command = "manage.py clearsesions" }',
        "schedule.a",
        "is not a Django command",
    ),
    (
        '[schedule]\na = { cron = "0 3 * * *", command = "manage.py clearsessions" }',
        "schedule.a",
        "needs database = true",
    ),
    ('broker = "rabbitmq"', "broker", "'rabbitmq' is not 'auto', 'sqs', 'redis' or 'none'"),
    ('broker = "redis"\nredis = "off"', "broker", "needs a Valkey server"),
    ("task_timeout_seconds = 50000", "task_timeout_seconds", "is outside 30..43000"),
]


def _toml(setting: str) -> str:
    """A valid base configuration with `setting` replacing or adding keys."""
    given = {line.split("=")[0].strip() for line in setting.splitlines()}
    base = [
        f"{k} = {v}"
        for k, v in {"name": '"wanderpage"', "region": '"us-east-1"'}.items()
        if k not in given
    ]
    return "\n".join([*base, setting]) + "\n"


def _assert_one_line_error(stderr: str, key: str, text: str) -> None:
    lines = stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {key}: "), stderr
    assert text in lines[0], stderr
    assert len(lines) == 2 and lines[1].startswith("hint: "), stderr


@pytest.mark.parametrize(
    ("setting", "key", "text"), CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)]
)
def test_bad_configuration_exits_2_naming_the_value_without_calling_aws(
    project: Path, recorder: Recorder, setting: str, key: str, text: str
) -> None:
    (project / "cloudsite.toml").write_text(_toml(setting))
    result = invoke("up", "--yes", env=recorder.env)
    assert result.exit_code == 2, result.stderr
    _assert_one_line_error(result.stderr, key, text)
    assert recorder.requests == []


def test_bad_flag_value_exits_2_without_calling_aws(project: Path, recorder: Recorder) -> None:
    result = invoke(
        "down",
        "--yes",
        "--set",
        "min_size=abc",
        env=recorder.env,
    )
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "min_size", "'abc' is not an integer (in flag)")
    assert recorder.requests == []


def test_bad_environment_value_exits_2_without_calling_aws(
    project: Path, recorder: Recorder
) -> None:
    env = {"CLOUDSITE_INSTANCE_TYPE": "huge", **recorder.env}
    result = invoke("status", env=env)
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "instance_type", "(from CLOUDSITE_INSTANCE_TYPE)")
    assert recorder.requests == []


def test_missing_region_exits_2_without_calling_aws(project: Path, recorder: Recorder) -> None:
    (project / "cloudsite.toml").write_text('name = "wanderpage"\n')
    result = invoke("status", env=recorder.env)
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "region", "no region is configured")
    assert recorder.requests == []


def test_missing_credentials_exit_2_without_calling_aws(project: Path, recorder: Recorder) -> None:
    result = invoke("status", env={"AWS_ENDPOINT_URL": recorder.url})
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "credentials", "no AWS credentials were found")
    assert recorder.requests == []


def test_unreachable_endpoint_exits_1_with_one_line(project: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_MAX_ATTEMPTS": "1", **CREDENTIALS}
    result = invoke("status", env=env)
    assert result.exit_code == 1
    _assert_one_line_error(result.stderr, "identity", f"cannot reach the AWS endpoint {endpoint}")


def test_usage_error_exits_2_in_the_same_format(project: Path, recorder: Recorder) -> None:
    result = invoke("up", "--no-such-flag")
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "usage", "No such option '--no-such-flag'")


def test_profile_and_region_come_from_the_aws_configuration(
    project: Path, recorder: Recorder, tmp_path: Path
) -> None:
    """The standard chain: the profile's region and keys sign the first request."""
    (tmp_path / "aws-config").write_text("[profile dev]\nregion = eu-west-1\n")
    (tmp_path / "aws-credentials").write_text(
        "[dev]\naws_access_key_id = AKIADEVEXAMPLE\naws_secret_access_key = secret\n"
    )
    (project / "cloudsite.toml").write_text('name = "wanderpage"\n')
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_ENDPOINT_URL": recorder.url,
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = invoke("status", "--profile", "dev", env=env)
    assert result.exit_code == 1  # the stand-in endpoint answers 500
    assert "Credential=AKIADEVEXAMPLE/" in recorder.authorizations[0]
    assert "/eu-west-1/sts/aws4_request" in recorder.authorizations[0]


def test_media_s3_over_a_storage_of_the_projects_own_exits_2_without_calling_aws(
    project: Path, recorder: Recorder
) -> None:
    settings = project / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + '\nSTORAGES = {"default": {"BACKEND": "storages.backends.gcloud.GoogleCloudStorage"},'
        ' "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}\n'
    )
    (project / "cloudsite.toml").write_text(_toml('media = "s3"'))
    for verb in (["up", "--yes"], ["plan"], ["local", "up"]):
        result = invoke(*verb, env=recorder.env)
        assert result.exit_code == 2, result.stderr
        _assert_one_line_error(
            result.stderr,
            "media",
            'media = "s3", and the settings store files with '
            "storages.backends.gcloud.GoogleCloudStorage, not S3",
        )
    assert recorder.requests == []


def test_a_table_key_in_the_environment_exits_2_without_calling_aws(
    project: Path, recorder: Recorder
) -> None:
    env = {"CLOUDSITE_PROCESSES": "worker=celery", **recorder.env}
    result = invoke("status", env=env)
    assert result.exit_code == 2
    _assert_one_line_error(result.stderr, "processes", "is a table")
    assert recorder.requests == []
