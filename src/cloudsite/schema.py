"""The configuration's keys: the frozen Config, each key's default and the line the docs show,
and where a value came from. The bottom of the configuration modules: config reads the layers
into it, validate and project.keys check it, and none of them is imported here."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _key(default: Any, doc: str) -> Any:
    """A configuration key: its default and the one-line description the docs show."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Process:
    """One entry of [processes]: a command run as `count` containers on every instance, from
    the web's release image, with its settings and secrets (docs/background.md)."""

    name: str
    command: str
    count: int = 1


@dataclass(frozen=True)
class Scheduled:
    """One entry of [schedule]: a management command (or a process's command) run once at
    each time of `cron` (five fields, UTC, or EventBridge's six) or `rate` ("5 minutes")."""

    name: str
    command: str
    cron: str = ""
    rate: str = ""
    timeout_minutes: int = 60

    @property
    def expression(self) -> str:
        return f"cron({self.cron})" if self.cron else f"rate({self.rate})"


@dataclass(frozen=True)
class Config:
    """The whole configuration. Field order is the order of the docs and the example file."""

    # -- the site
    name: str = _key("", "site name = stack name; default: the project folder's name")
    source_dir: str = _key(".", "folder to package and ship, relative to cloudsite.toml")
    # -- the Django project (detected: set one only to settle what detection cannot)
    manage_py: str = _key("", "manage.py, relative to source_dir; default: detected")
    settings_module: str = _key("", "the production settings module; default: detected")
    application: str = _key(
        "", "the WSGI (or ASGI) application, module:attribute; default: detected"
    )
    requirements: str = _key(
        "", "the dependency manifest, relative to source_dir; default: detected"
    )
    python_version: str = _key("", "the Python the image runs; default: the project's own pin")
    environment: tuple[str, ...] = _key(
        (), "NAME=value settings the site reads (not secrets: they are baked into the image)"
    )
    content_security_policy: str = _key("", "the Content-Security-Policy header; default: none")
    build_command: str = _key("", "a command the build runs in the image, e.g. your tests")
    system_packages: tuple[str, ...] = _key((), "Debian packages the site loads at run time")
    build_packages: tuple[str, ...] = _key((), "Debian packages only the build needs (compilers)")
    include_files: tuple[str, ...] = _key(
        (), "secret-looking files (.env, keys) to ship on purpose, by path in source_dir"
    )
    dockerfile: str = _key(
        "", "your own Dockerfile (relative to source_dir) instead of cloudsite's"
    )
    # -- AWS
    region: str = _key("", "AWS region; default: the standard chain (AWS_REGION, profile)")
    profile: str = _key("", "AWS profile; default: the standard chain (AWS_PROFILE)")
    # -- TLS and the domain
    certificate_arn: str = _key("", "an ACM certificate in the stack's region to use as is")
    domain: str = _key("", "the site's domain; with a hosted zone, cloudsite gets a certificate")
    hosted_zone_id: str = _key("", "the Route 53 zone of `domain`; default: looked up")
    tls_policy: str = _key("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "HTTPS listener policy")
    # -- who may connect
    allowed_cidrs: tuple[str, ...] = _key(
        ("0.0.0.0/0",), "client networks allowed to reach the site"
    )
    ssh_cidrs: tuple[str, ...] = _key((), "networks allowed to SSH to instances ('my-ip' = yours)")
    # -- compute
    instance_type: str = _key("t3.small", "EC2 instance type of the web servers")
    min_size: int = _key(2, "fewest instances")
    max_size: int = _key(4, "most instances")
    desired_capacity: int = _key(2, "instances to start with")
    scaling_cpu_percent: int = _key(50, "average CPU the fleet is scaled to keep (10-90)")
    scaling_requests_per_instance: int = _key(
        3000, "requests per instance per minute the fleet is scaled to keep"
    )
    app_port: int = _key(8000, "port the container publishes on each instance")
    # -- network
    vpc_id: str = _key("", "an existing VPC; default: the stack creates its own")
    public_subnet_ids: tuple[str, ...] = _key((), "public subnets of vpc_id (two AZs)")
    private_subnet_ids: tuple[str, ...] = _key((), "private subnets of vpc_id (two AZs)")
    private_subnets: bool = _key(False, "put instances in private subnets behind a NAT gateway")
    # -- data and operations
    database: bool = _key(False, "create an RDS PostgreSQL database (init turns it on)")
    media: str = _key(
        "auto", "uploads: 'auto' (an S3 bucket if the project stores files), 's3', 'none'"
    )
    database_instance_class: str = _key("db.t4g.micro", "RDS instance class")
    # -- background work (docs/background.md)
    broker: str = _key(
        "auto",
        "the task broker: 'auto' (with processes: redis if used, else sqs), 'sqs', 'redis', 'none'",
    )
    redis: str = _key(
        "auto", "a Valkey server for REDIS_URL: 'auto' (when the settings read it), 'on', 'off'"
    )
    redis_node_type: str = _key("cache.t4g.micro", "ElastiCache node type of the Valkey server")
    task_timeout_seconds: int = _key(
        1800, "longest a task runs; the queue redelivers one unacknowledged this long"
    )
    deletion_protection: bool = _key(True, "protect the load balancer (and database)")
    alarm_email: str = _key("", "email address that receives alarm notifications")
    log_retention_days: int = _key(365, "days CloudWatch keeps logs")
    # -- source
    source_mode: str = _key("upload", "'upload' (this folder) or 'github' (a connection)")
    github_connection_arn: str = _key("", "CodeConnections connection ARN (github mode)")
    github_repository: str = _key("", "owner/name of the repository (github mode)")
    github_branch: str = _key("main", "branch the pipeline follows (github mode)")
    # -- bounded waits
    stack_timeout_minutes: int = _key(45, "longest wait for a stack operation")
    pipeline_timeout_minutes: int = _key(30, "longest wait for the pipeline")
    certificate_timeout_minutes: int = _key(20, "longest wait for DNS validation")
    # -- tables, at the end of cloudsite.toml (docs/background.md)
    processes: tuple[Process, ...] = _key(
        (), '[processes] name = "command" (or {command, count}): e.g. Celery workers'
    )
    schedule: tuple[Scheduled, ...] = _key(
        (), "[schedule] name = {cron or rate, command}: commands run once at each time"
    )
    # -- not keys: where the configuration was read from
    project_dir: Path = field(default=Path("."), metadata={"key": False}, compare=False)
    sources: Mapping[str, str] = field(
        default_factory=dict, metadata={"key": False}, compare=False, repr=False
    )

    @property
    def source_path(self) -> Path:
        return (self.project_dir / self.source_dir).resolve()


def source_of(config: Config, key: str) -> str:
    """Where a key's value came from, for error messages."""
    return config.sources.get(key, "default")
