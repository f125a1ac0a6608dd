"""Checks for every configuration key, run before the first AWS call.

Each check raises ConfigError naming the key, the bad value and where it came from
(`error: instance_type: 't3.smal' is not an EC2 instance type (from cloudsite.toml)`).
"""

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

from cloudsite import names, prices
from cloudsite.errors import ConfigError
from cloudsite.project import keys as project_keys
from cloudsite.schema import Config, source_of

MY_IP: Final = "my-ip"
MEDIA: Final = ("auto", "s3", "none")  # where uploads go (docs/data.md)
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS: Final = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557}
    | {2922, 3288, 3653}
)
ACM_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$"
)
CONNECTION_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/"
    r"[0-9a-f-]{36}$"
)
REGION: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _fail(config: Config, key: str, why: str, hint: str) -> None:
    value = getattr(config, key)
    shown = ", ".join(value) if isinstance(value, tuple) else value
    raise ConfigError(key, f"{shown!r} {why} (from {source_of(config, key)})", hint=hint)


def config(cfg: Config) -> Config:
    """Check every key and the rules between keys; returns the config with derived values."""
    cfg = _name(cfg)
    for check in _CHECKS:
        check(cfg)
    cfg = _background(cfg)
    if cfg.region:  # else the AWS chain gives it, checked when the session opens
        check_region(cfg, cfg.region)
    return replace(cfg, domain=cfg.domain.lower().rstrip("."))


def _name(cfg: Config) -> Config:
    if not cfg.name:
        derived = re.sub(r"[^a-z0-9]+", "-", cfg.project_dir.name.lower()).strip("-")
        derived = re.sub(r"^[^a-z]+", "", derived)[: names.NAME_MAX].rstrip("-")
        if names.name_problem(derived) is None:
            return replace(cfg, name=derived)
        raise ConfigError(
            "name",
            f"cannot derive a site name from the folder {cfg.project_dir.name!r}",
            hint='set one in cloudsite.toml, e.g. name = "mysite"',
        )
    problem = names.name_problem(cfg.name)
    if problem:
        _fail(cfg, "name", problem, "use a short lowercase name such as 'wanderpage'")
    return cfg


def _source_dir(cfg: Config) -> None:
    if cfg.source_mode == "upload" and not cfg.source_path.is_dir():
        _fail(cfg, "source_dir", "is not a folder", "point it at the folder to ship, e.g. '.'")


def check_region(cfg: Config, region: str) -> None:
    """The region, once resolved (from the config or the standard AWS chain), must exist."""
    if not region:
        raise ConfigError(
            "region",
            "no region is configured",
            hint="set region in cloudsite.toml, CLOUDSITE_REGION, --region or AWS_REGION",
        )
    if not REGION.match(region) or region not in known_regions():
        where = source_of(cfg, "region") if cfg.region else "the AWS configuration"
        raise ConfigError(
            "region",
            f"{region!r} is not an AWS region (from {where})",
            hint="use a region code such as us-east-1 or eu-west-1",
        )
    match = ACM_ARN.match(cfg.certificate_arn)
    if match and match["region"] != region:
        _fail(
            cfg,
            "certificate_arn",
            f"is in {match['region']}, not the stack's region {region}",
            "a load balancer can only use a certificate from its own region",
        )


def _certificate(cfg: Config) -> None:
    if cfg.certificate_arn and not ACM_ARN.match(cfg.certificate_arn):
        _fail(
            cfg,
            "certificate_arn",
            "is not an ACM certificate ARN",
            "copy it from the ACM console: arn:aws:acm:REGION:ACCOUNT:certificate/ID",
        )


def domain_problem(domain: str) -> str | None:
    """Why `domain` is not a usable DNS name, or None."""
    name = domain.lower().rstrip(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(LABEL.match(x) for x in labels):
        return "is not a domain name"
    if not re.match(r"^([a-z]{2,63}|xn--[a-z0-9-]+)$", labels[-1]):
        return "does not end in a top-level domain"
    return None


def _domain(cfg: Config) -> None:
    hint = "use a name you control, such as www.example.com"
    if cfg.domain and (problem := domain_problem(cfg.domain)):
        _fail(cfg, "domain", problem, hint)
    if cfg.hosted_zone_id and not re.match(r"^Z[A-Z0-9]{1,31}$", cfg.hosted_zone_id):
        _fail(cfg, "hosted_zone_id", "is not a Route 53 hosted zone id", "e.g. Z0123456789ABC")
    if cfg.hosted_zone_id and not cfg.domain:
        _fail(cfg, "hosted_zone_id", "is set without a domain", "set domain too, or remove it")


def _tls_policy(cfg: Config) -> None:
    if not re.match(r"^ELBSecurityPolicy-[A-Za-z0-9-]+$", cfg.tls_policy):
        _fail(cfg, "tls_policy", "is not an ELB security policy", "keep the default")


def _cidrs(cfg: Config) -> None:
    if not cfg.allowed_cidrs:
        _fail(cfg, "allowed_cidrs", "is empty", 'use ["0.0.0.0/0"] for a public site')
    for key in ("allowed_cidrs", "ssh_cidrs"):
        for item in getattr(cfg, key):
            if key == "ssh_cidrs" and item == MY_IP:
                continue
            _cidr(cfg, key, item)


def _cidr(cfg: Config, key: str, item: str) -> None:
    hint = "use a form like 203.0.113.0/24, or 0.0.0.0/0 for everyone"
    try:
        network = ipaddress.ip_network(item, strict=True)
    except ValueError:
        raise ConfigError(
            key, f"{item!r} is not a CIDR block (from {source_of(cfg, key)})", hint=hint
        ) from None
    if network.version != 4:
        raise ConfigError(key, f"{item!r} is not an IPv4 CIDR block", hint=hint)
    if key == "ssh_cidrs" and network.prefixlen == 0:
        raise ConfigError(
            key,
            f"{item!r} opens SSH to the whole internet (from {source_of(cfg, key)})",
            hint="use 'my-ip' or your own network; without SSH, use SSM Session Manager",
        )


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition, from botocore's own endpoint data (no request)."""
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(
        r
        for p in session.get_available_partitions()
        for r in session.get_available_regions("cloudformation", partition_name=p)
    )


@functools.cache
def known_instance_types() -> frozenset[str]:
    """EC2's list of instance types, from botocore's service model (no request)."""
    import botocore.session

    shape = botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType")
    return frozenset(getattr(shape, "enum", []))


def _instance_type(cfg: Config) -> None:
    # Every type the price table knows (the default among them) is a real one: no need to load
    # EC2's service model (about 0.2 s) for those.
    if cfg.instance_type in prices.EC2_HOURLY:
        return
    if cfg.instance_type not in known_instance_types():
        _fail(cfg, "instance_type", "is not an EC2 instance type", "e.g. t3.small or m7i.large")


def _sizes(cfg: Config) -> None:
    for key in ("min_size", "max_size", "desired_capacity"):
        if not 1 <= getattr(cfg, key) <= 20:
            _fail(cfg, key, "is outside 1..20", "cloudsite runs between 1 and 20 instances")
    if cfg.max_size <= cfg.min_size:
        # CloudFormation's rolling update keeps min_size in service while it adds a new
        # instance before it removes an old one, so it needs room for one more.
        _fail(
            cfg,
            "max_size",
            f"must be larger than min_size ({cfg.min_size})",
            "a rolling update starts a new instance before it stops an old one: "
            f"make max_size {cfg.min_size + 1} or more",
        )
    if not cfg.min_size <= cfg.desired_capacity <= cfg.max_size:
        _fail(
            cfg,
            "desired_capacity",
            f"is not between min_size ({cfg.min_size}) and max_size ({cfg.max_size})",
            "keep min_size <= desired_capacity <= max_size",
        )
    if not 10 <= cfg.scaling_cpu_percent <= 90:
        _fail(
            cfg,
            "scaling_cpu_percent",
            "is outside 10..90",
            "keep headroom for the minutes a new instance takes to join; 50 is the default",
        )
    if not 100 <= cfg.scaling_requests_per_instance <= 1_000_000:
        _fail(
            cfg,
            "scaling_requests_per_instance",
            "is outside 100..1000000 (requests per instance per minute)",
            "3000 (50 a second) is the default; see docs/operations.md, Scaling",
        )
    if not 1024 <= cfg.app_port <= 65535:
        _fail(cfg, "app_port", "is not a port in 1024..65535", "keep the default, 8000")


def _network(cfg: Config) -> None:
    if cfg.vpc_id and not re.match(r"^vpc-[0-9a-f]{8,17}$", cfg.vpc_id):
        _fail(cfg, "vpc_id", "is not a VPC id", "e.g. vpc-0123456789abcdef0")
    for key in ("public_subnet_ids", "private_subnet_ids"):
        for item in getattr(cfg, key):
            if not re.match(r"^subnet-[0-9a-f]{8,17}$", item):
                raise ConfigError(key, f"{item!r} is not a subnet id", hint="e.g. subnet-0a1b2c3d")
        if getattr(cfg, key) and not cfg.vpc_id:
            _fail(cfg, key, "is set without vpc_id", "set vpc_id, or remove the subnets")
    if cfg.vpc_id and len(cfg.public_subnet_ids) < 2:
        _fail(cfg, "public_subnet_ids", "needs two subnets", "list subnets in two zones")
    if cfg.vpc_id and cfg.private_subnets and len(cfg.private_subnet_ids) < 2:
        _fail(cfg, "private_subnet_ids", "needs two subnets", "list subnets in two zones")


def _database(cfg: Config) -> None:
    if not re.match(r"^db\.[a-z0-9]+\.[a-z0-9]+$", cfg.database_instance_class):
        _fail(cfg, "database_instance_class", "is not an RDS class", "e.g. db.t4g.micro")
    if cfg.media not in MEDIA:
        _fail(
            cfg,
            "media",
            "is not 'auto', 's3' or 'none'",
            "auto (the default) makes an S3 bucket when the project stores files",
        )


BROKERS: Final = ("auto", "sqs", "redis", "none")
REDIS: Final = ("auto", "on", "off")
NAME_MAX: Final = 32  # a process's or schedule's name, in container and schedule names
# start's own commands (runtime/bin/start): a process cannot take one of their names.
RESERVED_NAMES: Final = ("web", "migrate", "manage", "secrets", "reload", "process", "scheduled")
# Django's own management commands, so that a schedule naming one misspelt is caught here;
# the project's and its apps' own commands are checked when the command runs.
DJANGO_COMMANDS: Final = frozenset(
    [
        "changepassword",
        "check",
        "clearsessions",
        "collectstatic",
        "compilemessages",
        "createcachetable",
        "createsuperuser",
        "dbshell",
        "diffsettings",
        "dumpdata",
        "findstatic",
        "flush",
        "inspectdb",
        "loaddata",
        "makemessages",
        "makemigrations",
        "migrate",
        "optimizemigration",
        "remove_stale_contenttypes",
        "sendtestemail",
        "shell",
        "showmigrations",
        "sqlflush",
        "sqlmigrate",
        "sqlsequencereset",
        "squashmigrations",
        "test",
    ]
)


def _background(cfg: Config) -> Config:
    """[processes], [schedule] and the broker; returns the config with each schedule's cron
    in the six-field form EventBridge takes."""
    if cfg.broker not in BROKERS:
        _fail(cfg, "broker", "is not 'auto', 'sqs', 'redis' or 'none'", "leave it at auto")
    if cfg.redis not in REDIS:
        _fail(cfg, "redis", "is not 'auto', 'on' or 'off'", "leave it at auto")
    if cfg.broker == "redis" and cfg.redis == "off":
        _fail(cfg, "broker", "needs a Valkey server, and redis = off", 'set redis = "auto"')
    if not re.match(r"^cache\.[a-z0-9]+\.[a-z0-9]+$", cfg.redis_node_type):
        _fail(cfg, "redis_node_type", "is not an ElastiCache node type", "e.g. cache.t4g.micro")
    if not 30 <= cfg.task_timeout_seconds <= 43_000:
        _fail(
            cfg,
            "task_timeout_seconds",
            "is outside 30..43000",
            "SQS hides a message for at most 12 hours; a longer job belongs in steps",
        )
    for process in cfg.processes:
        _process(cfg, process)
    names = {p.name for p in cfg.processes}
    schedule = tuple(_scheduled(cfg, entry, names) for entry in cfg.schedule)
    return replace(cfg, schedule=schedule)


def _entry_name(key: str, name: str) -> None:
    if not (name.isascii() and name.isidentifier()) or len(name) > NAME_MAX:
        raise ConfigError(
            f"{key}.{name}",
            f"{name!r} is not a name cloudsite can give "
            f"{'a process' if key == 'processes' else 'a schedule'} (from cloudsite.toml)",
            hint=f"use letters, digits and _, starting with a letter, at most {NAME_MAX}: "
            "e.g. worker, send_digest",
        )


def _words(where: str, command: str) -> list[str]:
    import shlex

    try:
        words = shlex.split(command)
    except ValueError as err:
        raise ConfigError(
            where,
            f"{command!r} is not a command line: {err} (from cloudsite.toml)",
            hint="check its quotes",
        ) from None
    if not words:
        raise ConfigError(
            where,
            "its command is empty (from cloudsite.toml)",
            hint='give the command it runs, e.g. "celery -A config.celery_app worker -l info"',
        )
    return words


def _process(cfg: Config, process: Any) -> None:
    where = f"processes.{process.name}"
    _entry_name("processes", process.name)
    if process.name in RESERVED_NAMES:
        raise ConfigError(
            where,
            f"'{process.name}' is a name cloudsite uses itself (from cloudsite.toml)",
            hint="name it after what it does, e.g. worker",
        )
    words = _words(where, process.command)
    if not 1 <= process.count <= 16:
        raise ConfigError(
            where,
            f"count = {process.count} is outside 1..16 (from cloudsite.toml)",
            hint="it is the number of containers on each instance",
        )
    beat = "beat" in words or "-B" in words or "--beat" in words
    if beat and any(w == "celery" or w.endswith("/celery") for w in words):
        raise ConfigError(
            where,
            "runs Celery beat, which would run once on every instance and repeat each task "
            "(from cloudsite.toml)",
            hint="put the periodic tasks in [schedule], which runs each once (docs/background.md)",
        )


def _scheduled(cfg: Config, entry: Any, processes: set[str]) -> Any:
    from cloudsite import cron

    where = f"schedule.{entry.name}"
    _entry_name("schedule", entry.name)
    if bool(entry.cron) == bool(entry.rate):
        raise ConfigError(
            where,
            "needs either cron or rate, not both or neither (from cloudsite.toml)",
            hint='e.g. { cron = "0 3 * * *", command = "manage.py clearsessions" }',
        )
    try:
        expression = cron.eventbridge(entry.cron) if entry.cron else entry.rate
        if entry.rate:
            cron.rate_minutes(entry.rate)
    except cron.CronError as err:
        shown = entry.cron or entry.rate
        raise ConfigError(
            where,
            f"{'cron' if entry.cron else 'rate'} {shown!r} {err} (from cloudsite.toml)",
            hint='e.g. cron = "0 3 * * *" (03:00 UTC daily) or rate = "15 minutes"',
        ) from None
    words = _words(where, entry.command)
    if words[:2] == ["python", "manage.py"]:
        words = words[1:]
    if words[0] == "manage.py":
        _management_command(where, words[1:])
    elif len(words) > 1 or words[0] not in processes:
        raise ConfigError(
            where,
            f"{entry.command!r} is neither a management command nor a process "
            "(from cloudsite.toml)",
            hint='write "manage.py COMMAND ARGS", or the name of a [processes] entry',
        )
    if not 1 <= entry.timeout_minutes <= 720:
        raise ConfigError(
            where,
            f"timeout_minutes = {entry.timeout_minutes} is outside 1..720 (from cloudsite.toml)",
            hint="a run longer than this is stopped",
        )
    if not cfg.database:
        raise ConfigError(
            where,
            "needs database = true: the row that lets one instance run it, and only one, is "
            "kept there (from cloudsite.toml)",
            hint="set database = true",
        )
    return replace(entry, cron=expression if entry.cron else "")


def _management_command(where: str, args: list[str]) -> None:
    from difflib import get_close_matches

    name = args[0] if args else ""
    if not re.match(r"^[a-z_][a-z0-9_]*$", name):
        raise ConfigError(
            where,
            f"manage.py {name!r} is not a management command's name (from cloudsite.toml)",
            hint='e.g. "manage.py clearsessions"',
        )
    close = get_close_matches(name, DJANGO_COMMANDS, n=1, cutoff=0.85)
    if name not in DJANGO_COMMANDS and close:
        raise ConfigError(
            where,
            f"manage.py {name} is not a Django command (from cloudsite.toml)",
            hint=f"did you mean '{close[0]}'?",
        )


def _operations(cfg: Config) -> None:
    if cfg.alarm_email and (len(cfg.alarm_email) > 254 or not EMAIL.match(cfg.alarm_email)):
        _fail(cfg, "alarm_email", "is not an email address", "e.g. ops@example.com")
    if cfg.log_retention_days not in LOG_RETENTION_DAYS:
        _fail(
            cfg,
            "log_retention_days",
            "is not a CloudWatch retention period",
            "use one of " + ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS)[:12]) + ", ...",
        )
    limits = {
        "stack_timeout_minutes": 360,
        "pipeline_timeout_minutes": 480,
        "certificate_timeout_minutes": 120,
    }
    for key, most in limits.items():
        if not 1 <= getattr(cfg, key) <= most:
            _fail(cfg, key, f"is outside 1..{most}", "use a number of minutes")


def _source(cfg: Config) -> None:
    if cfg.source_mode not in {"upload", "github"}:
        _fail(cfg, "source_mode", "is not 'upload' or 'github'", "use upload (the default)")
    if cfg.source_mode != "github":
        return
    if not CONNECTION_ARN.match(cfg.github_connection_arn):
        _fail(
            cfg,
            "github_connection_arn",
            "is not a CodeConnections connection ARN",
            "create a connection in the console (Developer Tools > Connections), copy its ARN",
        )
    if not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", cfg.github_repository):
        _fail(cfg, "github_repository", "is not owner/name", "e.g. octocat/mysite")
    if not re.match(r"^(?!.*\.\.)[A-Za-z0-9._/-]{1,255}$", cfg.github_branch):
        _fail(cfg, "github_branch", "is not a branch name", "e.g. main")


_CHECKS: Final[list[Callable[[Config], Any]]] = [
    _source_dir,
    _certificate,
    _domain,
    _tls_policy,
    _cidrs,
    _instance_type,
    _sizes,
    _network,
    _database,
    _operations,
    _source,
    project_keys.check,
]
