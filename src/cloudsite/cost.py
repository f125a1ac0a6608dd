"""Monthly cost estimates, item by item, from the price table in prices.py.

`stack_estimate` prices the resources a stack will hold (for `cloudsite plan`);
`arn_estimate` prices something `cloudsite down` found left behind; `kept_estimate` prices the
data `cloudsite down` keeps on purpose (the database's final snapshot, the media bucket).
Usage-based charges (requests, data, log volume, build minutes) are listed with their unit
price rather than guessed.
"""

import datetime
from dataclasses import asdict, dataclass
from typing import Any, Final

from cloudsite import cron, prices
from cloudsite.config import Config
from cloudsite.outputs import DATA_TAG
from cloudsite.schema import Scheduled

DEFAULT_ROOT_GB: Final = 30
DEFAULT_DB_GB: Final = 20
DEFAULT_NONCURRENT_DAYS: Final = 30
REDIS_TYPE: Final = "AWS::ElastiCache::ReplicationGroup"
# The month a cron schedule's runs are counted in: 31 days, each weekday four or five times.
CRON_MONTH: Final = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
# What kept data costs a month, USD per GB, by kind (kept_estimate).
KEPT_GB_MONTH: Final = {
    "snapshot": prices.RDS_SNAPSHOT_GB_MONTH,  # an RDS DB snapshot
    "s3": prices.S3_STANDARD_GB_MONTH,  # a bucket's objects (every version) in S3 Standard
}
USAGE_NOTES: Final = {
    "AWS::S3::Bucket": f"storage ${prices.S3_STANDARD_GB_MONTH}/GB-month, requests extra",
    "AWS::Logs::LogGroup": "ingestion $0.50/GB, storage $0.03/GB-month",
    "AWS::ECR::Repository": "image storage $0.10/GB-month",
    "AWS::CodeBuild::Project": "about $0.005-0.01 per build minute",
    "AWS::CodePipeline::Pipeline": "V2: $0.002 per action minute, 100 minutes a month free",
    "AWS::SNS::Topic": "email notifications: first 1,000 a month free",
}


@dataclass(frozen=True)
class Item:
    what: str
    resource: str
    monthly: float | None  # None: no fixed price (see note)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def total(items: list[Item]) -> float:
    return round(sum(i.monthly for i in items if i.monthly is not None), 2)


def _template_number(
    template: dict[str, Any], rtype: str, path: tuple[str, ...], default: int
) -> int:
    """A literal number from the first resource of `rtype` in the template (else default)."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != rtype:
            continue
        value: Any = resource.get("Properties", {})
        for step in path:
            if isinstance(value, list) and step.isdigit() and int(step) < len(value):
                value = value[int(step)]
            elif isinstance(value, dict):
                value = value.get(step)
            else:
                value = None
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    return default


def stack_estimate(
    resources: list[tuple[str, str]], cfg: Config, *, template: dict[str, Any]
) -> list[Item]:
    """(logical id, type) pairs of the resulting stack -> priced items, biggest first."""
    items: list[Item] = []
    free = 0
    types = {rtype for _, rtype in resources}
    for logical_id, rtype in sorted(resources):
        priced = _resource_items(logical_id, rtype, cfg, template, types)
        if priced:
            items.extend(priced)
        elif rtype in USAGE_NOTES:
            items.append(Item(rtype.split("::", 1)[1], logical_id, None, USAGE_NOTES[rtype]))
        else:
            free += 1
    items.sort(key=lambda i: -(i.monthly or 0))
    if free:
        items.append(Item("other resources", f"{free} resources", 0.0, "no charge of their own"))
    return items


def _resource_items(
    logical_id: str, rtype: str, cfg: Config, template: dict, types: set[str]
) -> list[Item]:
    if rtype == "AWS::AutoScaling::AutoScalingGroup":
        return _fleet(logical_id, cfg, template, redis=REDIS_TYPE in types)
    if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        return [
            Item("load balancer", logical_id, prices.monthly(prices.ALB_HOURLY), "hourly charge"),
            Item(
                "load balancer LCUs",
                logical_id,
                prices.monthly(prices.ALB_LCU_HOURLY),
                "1 LCU average (a small site); more with traffic",
            ),
            Item(
                "public IPv4 (load balancer)",
                logical_id,
                prices.monthly(2 * prices.PUBLIC_IPV4_HOURLY),
                "2 addresses, one per zone",
            ),
        ]
    if rtype == "AWS::EC2::NatGateway":
        return [
            Item(
                "NAT gateway",
                logical_id,
                prices.monthly(prices.NAT_HOURLY),
                "plus $0.045/GB processed",
            )
        ]
    if rtype == "AWS::EC2::EIP":
        return [
            Item("public IPv4 (elastic IP)", logical_id, prices.monthly(prices.PUBLIC_IPV4_HOURLY))
        ]
    if rtype == "AWS::RDS::DBInstance":
        return _database(logical_id, cfg, template)
    if rtype == "AWS::S3::Bucket" and _is_media_bucket(template, logical_id):
        return [_media_bucket(logical_id, template)]
    if rtype == "AWS::SQS::Queue" and _has_property(template, logical_id, "RedrivePolicy"):
        return [_task_queue(logical_id, cfg)]  # the dead-letter queue costs only its redrives
    if rtype == REDIS_TYPE:
        return [_valkey(logical_id, cfg)]
    if rtype == "AWS::Scheduler::ScheduleGroup":
        return [_schedules(logical_id, cfg)]
    if rtype == "AWS::AutoScaling::ScalingPolicy":
        policy = template.get("Resources", {}).get(logical_id, {}).get("Properties", {})
        if policy.get("PolicyType") == "TargetTrackingScaling":
            # Target tracking creates and owns two CloudWatch alarms (high and low), billed
            # as any other alarm.
            return [
                Item(
                    "scaling alarms",
                    logical_id,
                    round(2 * prices.CLOUDWATCH_ALARM_MONTH, 2),
                    "2 alarms that target tracking creates",
                )
            ]
        return []
    fixed = {
        "AWS::CloudWatch::Alarm": ("alarm", prices.CLOUDWATCH_ALARM_MONTH),
        "AWS::CloudWatch::Dashboard": ("dashboard", prices.CLOUDWATCH_DASHBOARD_MONTH),
        "AWS::SecretsManager::Secret": ("secret", prices.SECRET_MONTH),
        "AWS::KMS::Key": ("KMS key", prices.KMS_KEY_MONTH),
    }
    if rtype in fixed:
        what, amount = fixed[rtype]
        return [Item(what, logical_id, amount)]
    return []


def _fleet(logical_id: str, cfg: Config, template: dict[str, Any], *, redis: bool) -> list[Item]:
    n = cfg.desired_capacity
    hourly = prices.EC2_HOURLY.get(cfg.instance_type)
    size_note = f"{n} x {cfg.instance_type}, scales {cfg.min_size}-{cfg.max_size}"
    items = [
        Item(
            "instances",
            logical_id,
            prices.monthly(n * hourly) if hourly is not None else None,
            size_note if hourly is not None else f"{size_note}; not in the price table",
        )
    ]
    root_gb = _template_number(
        template,
        "AWS::EC2::LaunchTemplate",
        ("LaunchTemplateData", "BlockDeviceMappings", "0", "Ebs", "VolumeSize"),
        DEFAULT_ROOT_GB,
    )
    items.append(
        Item(
            "instance volumes (gp3)",
            logical_id,
            round(n * root_gb * prices.EBS_GP3_GB_MONTH, 2),
            f"{n} x {root_gb} GB",
        )
    )
    # The Django key's three versions, and the database's and the Valkey server's secrets.
    calls = n * prices.SECRETS_TIMER_RUNS_PER_MONTH * (3 + cfg.database + redis)
    items.append(
        Item(
            "secrets timer (API calls)",
            logical_id,
            round(calls / 10_000 * prices.SECRETS_API_PER_10K, 2),
            f"{calls:,} GetSecretValue calls",
        )
    )
    if not cfg.private_subnets:
        items.append(
            Item(
                "public IPv4 (instances)",
                logical_id,
                prices.monthly(n * prices.PUBLIC_IPV4_HOURLY),
                f"{n} addresses",
            )
        )
    return items


def _database(logical_id: str, cfg: Config, template: dict[str, Any]) -> list[Item]:
    hourly = prices.RDS_HOURLY.get(cfg.database_instance_class)
    gb = _template_number(template, "AWS::RDS::DBInstance", ("AllocatedStorage",), DEFAULT_DB_GB)
    return [
        Item(
            "database",
            logical_id,
            prices.monthly(hourly) if hourly is not None else None,
            cfg.database_instance_class + ("" if hourly else "; not in the price table"),
        ),
        Item(
            "database storage",
            logical_id,
            round(gb * prices.RDS_STORAGE_GB_MONTH, 2),
            f"{gb} GB, backups up to that size free",
        ),
    ]


def _has_property(template: dict[str, Any], logical_id: str, name: str) -> bool:
    resource = template.get("Resources", {}).get(logical_id, {})
    return name in resource.get("Properties", {})


def _task_queue(logical_id: str, cfg: Config) -> Item:
    """The task queue: its idle workers' long polls, which cost requests with no task at
    all, against the million a month that SQS gives every account."""
    per_instance = sum(p.count for p in cfg.processes)
    workers = per_instance * cfg.desired_capacity
    seconds = prices.HOURS_PER_MONTH * 3600
    polls = workers * seconds // prices.SQS_IDLE_POLL_SECONDS
    billed = max(0, polls - prices.SQS_FREE_REQUESTS)
    note = (
        f"{workers} idle workers ({per_instance} per instance) poll about {polls:,} times a "
        f"month; 1M requests free, then ${prices.SQS_PER_MILLION:.2f}/M; 3 more a task"
    )
    return Item(
        "task queue (SQS)", logical_id, round(billed / 1e6 * prices.SQS_PER_MILLION, 2), note
    )


def _valkey(logical_id: str, cfg: Config) -> Item:
    hourly = prices.VALKEY_NODE_HOURLY.get(cfg.redis_node_type)
    note = f"{cfg.redis_node_type}, one node; its one daily snapshot free"
    if hourly is None:
        return Item("Valkey (ElastiCache)", logical_id, None, note + "; not in the price table")
    return Item("Valkey (ElastiCache)", logical_id, prices.monthly(hourly), note)


def _schedules(logical_id: str, cfg: Config) -> Item:
    """EventBridge Scheduler: an invocation per run of each schedule, against the 14 million
    a month that every account gets free (Run Command itself is free)."""
    runs = sum(runs_per_month(entry) for entry in cfg.schedule)
    billed = max(0, runs - prices.SCHEDULER_FREE_INVOCATIONS)
    note = (
        f"{len(cfg.schedule)} schedules, about {runs:,} runs a month; 14M free, "
        f"then ${prices.SCHEDULER_PER_MILLION:.2f}/M"
    )
    return Item(
        "schedules (EventBridge Scheduler)",
        logical_id,
        round(billed / 1e6 * prices.SCHEDULER_PER_MILLION, 2),
        note,
    )


def runs_per_month(entry: Scheduled) -> int:
    """How often a [schedule] entry runs in a month: a rate's 730 hours, or a cron's runs in
    a 31-day month (CRON_MONTH)."""
    if entry.rate:
        return prices.HOURS_PER_MONTH * 60 // cron.rate_minutes(entry.rate)
    minute, hour = entry.cron.split()[:2]
    # The times of a day on which it runs (every day, for this), then the days it runs on at
    # the first of them: some 1,500 matches instead of one for each minute of the month.
    every_day = f"{minute} {hour} * * ? *"
    start = CRON_MONTH
    times = [
        start + datetime.timedelta(minutes=m)
        for m in range(1440)
        if cron.matches(every_day, start + datetime.timedelta(minutes=m))
    ]
    if not times:
        return 0
    first = times[0] - start
    dates = [start + datetime.timedelta(days=d) for d in range(31)]
    return len(times) * sum(cron.matches(entry.cron, date + first) for date in dates)


def _is_media_bucket(template: dict[str, Any], logical_id: str) -> bool:
    """The bucket that holds the site's uploads carries the data tag (cloudsite:data=media)."""
    props = template.get("Resources", {}).get(logical_id, {}).get("Properties", {})
    return any(
        isinstance(tag, dict) and tag.get("Key") == DATA_TAG and tag.get("Value") == "media"
        for tag in props.get("Tags", [])
    )


def _media_bucket(logical_id: str, template: dict[str, Any]) -> Item:
    """Usage-priced: what it costs is how much the site stores and serves."""
    days = DEFAULT_NONCURRENT_DAYS
    props = template["Resources"][logical_id]["Properties"]
    for rule in props.get("LifecycleConfiguration", {}).get("Rules", []):
        kept = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        if isinstance(kept, int):
            days = kept
    note = (
        f"storage ${prices.S3_STANDARD_GB_MONTH}/GB-month, PUT ${prices.S3_PUT_PER_1K}"
        f" and GET ${prices.S3_GET_PER_1K} per 1,000; replaced and deleted files kept {days} days"
    )
    return Item("media bucket (S3)", logical_id, None, note)


def kept_estimate(kind: str, *, gigabytes: float) -> float:
    """What `gigabytes` of kept data cost a month, in USD: kind "snapshot" (an RDS DB
    snapshot; once its database is gone, all of it is billed) or "s3" (a bucket's objects in
    S3 Standard, every version counted).
    `cloudsite down` lists what it kept with these figures. Raises ValueError for another kind."""
    if kind not in KEPT_GB_MONTH:
        raise ValueError(f"{kind!r} is not a kind of kept data: {', '.join(KEPT_GB_MONTH)}")
    return round(gigabytes * KEPT_GB_MONTH[kind], 2)


def arn_estimate(arn: str) -> Item:
    """What a leftover resource costs a month, as far as its ARN tells."""
    parts = arn.split(":", 5)
    service = parts[2] if len(parts) > 2 else ""
    resource = parts[5] if len(parts) > 5 else arn
    kind = resource.split("/", 1)[0].split(":", 1)[0]
    table: dict[tuple[str, str], tuple[float | None, str]] = {
        ("elasticloadbalancing", "loadbalancer"): (
            prices.monthly(prices.ALB_HOURLY + 2 * prices.PUBLIC_IPV4_HOURLY),
            "plus LCUs",
        ),
        ("ec2", "natgateway"): (prices.monthly(prices.NAT_HOURLY), "plus data processed"),
        ("ec2", "elastic-ip"): (prices.monthly(prices.PUBLIC_IPV4_HOURLY), ""),
        ("ec2", "instance"): (None, "depends on its type"),
        ("ec2", "volume"): (None, f"${prices.EBS_GP3_GB_MONTH}/GB-month"),
        ("rds", "db"): (None, "depends on its class"),
        ("rds", "snapshot"): (None, f"${prices.RDS_SNAPSHOT_GB_MONTH}/GB-month"),
        ("secretsmanager", "secret"): (prices.SECRET_MONTH, ""),
        ("kms", "key"): (prices.KMS_KEY_MONTH, ""),
        ("cloudwatch", "alarm"): (prices.CLOUDWATCH_ALARM_MONTH, ""),
        ("cloudwatch", "dashboard"): (prices.CLOUDWATCH_DASHBOARD_MONTH, ""),
        ("s3", kind): (0.0, f"storage ${prices.S3_STANDARD_GB_MONTH}/GB-month"),
        ("logs", "log-group"): (0.0, "storage $0.03/GB-month"),
        ("acm", "certificate"): (0.0, "no charge"),
        ("ecr", "repository"): (0.0, "storage $0.10/GB-month"),
    }
    monthly, note = table.get((service, kind), (None, "unknown"))
    return Item(f"{service} {kind}".strip(), arn, monthly, note)
