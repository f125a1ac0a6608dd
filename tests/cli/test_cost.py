"""The monthly estimate: item by item from the price table, usage-based charges listed."""

import re
from dataclasses import replace

import pytest

from cloudsite import cost, prices
from cloudsite.config import Config
from cloudsite.project.background import Choice
from cloudsite.schema import Process, Scheduled

RESOURCES = [
    ("WebAutoScalingGroup", "AWS::AutoScaling::AutoScalingGroup"),
    ("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ("Alarm5xx", "AWS::CloudWatch::Alarm"),
    ("AlarmLatency", "AWS::CloudWatch::Alarm"),
    ("Dashboard", "AWS::CloudWatch::Dashboard"),
    ("SecretKey", "AWS::SecretsManager::Secret"),
    ("SourceBucket", "AWS::S3::Bucket"),
    ("Vpc", "AWS::EC2::VPC"),
    ("Subnet1", "AWS::EC2::Subnet"),
]
TEMPLATE = {
    "Resources": {
        "Launch": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20}}]
                }
            },
        }
    }
}


def by_what(items: list[cost.Item]) -> dict[str, cost.Item]:
    return {i.what: i for i in items}


def test_the_default_stack_is_priced_item_by_item() -> None:
    items = by_what(cost.stack_estimate(RESOURCES, Config(name="x"), template=TEMPLATE))
    assert items["instances"].monthly == round(2 * 0.0208 * 730, 2) == 30.37
    assert items["instances"].note == "2 x t3.small, scales 2-4"
    assert items["instance volumes (gp3)"].monthly == round(
        2 * 20 * 0.08, 2
    )  # size from the template
    assert items["public IPv4 (instances)"].monthly == 7.3
    # The secrets timer: 3 reads every 5 minutes on each of 2 instances.
    timer = items["secrets timer (API calls)"]
    assert timer.note == f"{2 * 3 * 12 * 730:,} GetSecretValue calls"
    assert timer.monthly == round(2 * 3 * 12 * 730 / 10_000 * 0.05, 2) == 0.26
    with_database = by_what(
        cost.stack_estimate(RESOURCES, replace(Config(name="x"), database=True), template={})
    )
    assert with_database["secrets timer (API calls)"].monthly == round(
        2 * 4 * 12 * 730 / 10_000 * 0.05, 2
    )
    assert items["load balancer"].monthly == 16.43
    assert items["public IPv4 (load balancer)"].monthly == 7.3
    assert items["alarm"].monthly == 0.10
    assert items["dashboard"].monthly == 3.0
    assert items["secret"].monthly == 0.40
    assert items["S3::Bucket"].monthly is None and "$0.023/GB" in items["S3::Bucket"].note
    assert items["other resources"].resource == "2 resources"


def test_private_subnets_drop_instance_addresses_and_a_nat_gateway_costs_its_hours() -> None:
    cfg = replace(Config(name="x"), private_subnets=True)
    items = by_what(
        cost.stack_estimate([*RESOURCES, ("Nat", "AWS::EC2::NatGateway")], cfg, template={})
    )
    assert "public IPv4 (instances)" not in items
    assert items["NAT gateway"].monthly == prices.monthly(prices.NAT_HOURLY) == 32.85
    assert items["instance volumes (gp3)"].note == "2 x 30 GB"  # the default without a template


def test_an_instance_type_missing_from_the_table_is_said_not_guessed() -> None:
    cfg = replace(Config(name="x"), instance_type="m7i.48xlarge")
    items = by_what(cost.stack_estimate(RESOURCES, cfg, template={}))
    assert items["instances"].monthly is None
    assert "not in the price table" in items["instances"].note


def test_the_total_is_the_sum_of_priced_items() -> None:
    items = cost.stack_estimate(RESOURCES, Config(name="x"), template=TEMPLATE)
    assert cost.total(items) == round(sum(i.monthly for i in items if i.monthly), 2)


def test_leftovers_are_priced_by_their_arn() -> None:
    alb = cost.arn_estimate(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"
    )
    assert alb.monthly == prices.monthly(prices.ALB_HOURLY + 2 * prices.PUBLIC_IPV4_HOURLY)
    snapshot = cost.arn_estimate("arn:aws:rds:us-east-1:123456789012:snapshot:wanderpage-final")
    assert snapshot.monthly is None and "$0.095/GB-month" in snapshot.note
    assert cost.arn_estimate("arn:aws:secretsmanager:us-east-1:1:secret:key-AbCdEf").monthly == 0.40
    assert cost.arn_estimate("arn:aws:s3:::wanderpage-source").monthly == 0.0
    assert cost.arn_estimate("arn:aws:weird:us-east-1:1:thing/x").note == "unknown"


def test_the_price_table_states_its_date_and_source() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", prices.RECORDED)
    assert f"Recorded: {prices.RECORDED}." in (prices.__doc__ or "")
    assert "aws.amazon.com/ec2/pricing" in (prices.__doc__ or "")


def _active(media: bool = False, media_bucket: str = "", **settings: object) -> set[str]:
    from cloudsite.conditions import active_resources
    from cloudsite.template import stack_parameters, template_parse, template_text

    cfg = replace(Config(name="x"), **settings)  # type: ignore[arg-type]
    params = stack_parameters(
        cfg,
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x",
        hosted_zone_id=cfg.hosted_zone_id,
        ssh_cidrs=cfg.ssh_cidrs,
        media=media,
        media_bucket=media_bucket,
    )
    return active_resources(template_parse(template_text()), params, region="us-east-1")


def test_the_estimate_prices_only_resources_whose_condition_holds() -> None:
    default = _active()
    assert "LoadBalancer" in default and "Vpc" in default
    assert {"NatGateway", "Database"}.isdisjoint(default)
    assert not any(r.startswith("Ssh") for r in default)
    grown = _active(private_subnets=True, database=True, ssh_cidrs=("10.0.0.0/8",))
    assert {"NatGateway", "Database", "Ssh1"} <= grown
    assert "Ssh2" not in grown  # one CIDR: one slot


def test_each_target_tracking_policy_costs_the_two_alarms_it_creates() -> None:
    template = {
        "Resources": {
            "CpuScaling": {
                "Type": "AWS::AutoScaling::ScalingPolicy",
                "Properties": {"PolicyType": "TargetTrackingScaling"},
            },
            "StepScaling": {
                "Type": "AWS::AutoScaling::ScalingPolicy",
                "Properties": {"PolicyType": "StepScaling"},
            },
        }
    }
    resources = [
        ("CpuScaling", "AWS::AutoScaling::ScalingPolicy"),
        ("StepScaling", "AWS::AutoScaling::ScalingPolicy"),
    ]
    items = cost.stack_estimate(resources, Config(name="x"), template=template)
    priced = {i.resource: i.monthly for i in items if i.what == "scaling alarms"}
    assert priced == {"CpuScaling": round(2 * prices.CLOUDWATCH_ALARM_MONTH, 2)}
    assert by_what(items)["other resources"].resource == "1 resources"


def _template_estimate(active: set[str]) -> list[cost.Item]:
    from cloudsite.template import template_parse, template_text

    template = template_parse(template_text())
    resources = [(r, template["Resources"][r]["Type"]) for r in active]
    return cost.stack_estimate(resources, Config(name="x"), template=template)


def test_the_media_bucket_is_its_own_usage_priced_line() -> None:
    items = _template_estimate(_active(media=True))
    (media,) = [i for i in items if i.what == "media bucket (S3)"]
    assert (media.resource, media.monthly) == ("MediaBucket", None)
    assert media.note == (
        "storage $0.023/GB-month, PUT $0.005 and GET $0.0004 per 1,000;"
        " replaced and deleted files kept 30 days"  # the template's NoncurrentDays
    )
    # The other buckets keep the generic line; the endpoint and the roles cost nothing.
    buckets = {i.resource for i in items if i.what == "S3::Bucket"}
    assert buckets == {"AccessLogBucket", "ArtifactBucket", "SourceBucket"}
    priced = {i.resource for i in items}
    assert {"S3GatewayEndpoint", "SiteRole", "InstanceAssumesSiteRole"}.isdisjoint(priced)
    without = _template_estimate(_active())
    assert cost.total(items) == cost.total(without)  # no fixed cost: nothing added before use
    assert "media bucket (S3)" not in {i.what for i in without}


def test_a_stack_given_a_kept_bucket_prices_no_bucket_of_its_own() -> None:
    active = _active(media=True, media_bucket="x-mediabucket-0abc1def2ghi")
    assert "MediaBucket" not in active and "SiteRole" in active
    assert "media bucket (S3)" not in {i.what for i in _template_estimate(active)}


def test_the_s3_gateway_endpoint_exists_by_default_and_is_free() -> None:
    active = _active()
    assert "S3GatewayEndpoint" in active
    assert "S3GatewayEndpoint" not in _active(
        vpc_id="vpc-0123456789abcdef0",
        public_subnet_ids=("subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"),
    )
    items = cost.stack_estimate(
        [("S3GatewayEndpoint", "AWS::EC2::VPCEndpoint")], Config(name="x"), template={}
    )
    assert [(i.what, i.monthly) for i in items] == [("other resources", 0.0)]


def test_kept_data_is_priced_by_the_gigabyte() -> None:
    assert (
        cost.kept_estimate("snapshot", gigabytes=20)
        == round(20 * prices.RDS_SNAPSHOT_GB_MONTH, 2)
        == 1.90
    )
    assert cost.kept_estimate("s3", gigabytes=10) == round(10 * 0.023, 2) == 0.23
    assert cost.kept_estimate("s3", gigabytes=0.001) == 0.0
    with pytest.raises(ValueError, match="'ebs' is not a kind of kept data"):
        cost.kept_estimate("ebs", gigabytes=1)


# ------------------------------------------------------------------ background work (issue 24)

WORKER = Process("worker", "celery -A config.celery_app worker", 1)
NIGHTLY = Scheduled("nightly", "manage.py clearsessions", cron="0 3 * * ? *")
OFTEN = Scheduled("often", "manage.py send_digest", rate="5 minutes")


def _background_estimate(choice: Choice, **settings: object) -> list[cost.Item]:
    from cloudsite.conditions import active_resources
    from cloudsite.template import stack_parameters, template_parse, template_text

    cfg = replace(Config(name="x"), **settings)  # type: ignore[arg-type]
    params = stack_parameters(
        cfg,
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x",
        hosted_zone_id="",
        ssh_cidrs=(),
        background=choice,
    )
    template = template_parse(template_text())
    active = active_resources(template, params, region="us-east-1")
    resources = [(r, template["Resources"][r]["Type"]) for r in active]
    return cost.stack_estimate(resources, cfg, template=template)


NONE = Choice(broker="none", redis=False, why="")


def test_without_background_work_there_is_no_queue_valkey_or_schedule_line() -> None:
    items = by_what(_background_estimate(NONE))
    whats = {"task queue (SQS)", "Valkey (ElastiCache)", "schedules (EventBridge Scheduler)"}
    assert whats.isdisjoint(items)


def test_idle_workers_polls_are_counted_against_the_free_million() -> None:
    sqs = Choice(broker="sqs", redis=False, why="")
    items = by_what(_background_estimate(sqs, processes=(WORKER,)))
    queue = items["task queue (SQS)"]
    # 1 worker on each of 2 instances, a poll every 10 s: 525,600 requests, under 1M.
    polls = 2 * 730 * 3600 // 10
    assert polls == 525_600
    assert (queue.resource, queue.monthly) == ("TaskQueue", 0.0)
    assert queue.note == (
        "2 idle workers (1 per instance) poll about 525,600 times a month; 1M requests free, "
        "then $0.40/M; 3 more a task"
    )
    # 4 processes of 4 containers on 4 instances: 64 pollers, 16.8M requests.
    many = tuple(Process(f"w{i}", "celery worker", 4) for i in range(4))
    busy = by_what(_background_estimate(sqs, processes=many, desired_capacity=4, max_size=4))
    expected = round((64 * 730 * 3600 // 10 - 1_000_000) / 1e6 * 0.40, 2)
    assert busy["task queue (SQS)"].monthly == expected == 6.33
    assert "64 idle workers (16 per instance)" in busy["task queue (SQS)"].note
    # The dead-letter queue and the queue policy cost nothing of their own; the two alarms do.
    alarms = [i for i in _background_estimate(sqs, processes=(WORKER,)) if i.what == "alarm"]
    assert {"TaskDeadLettersAlarm", "TaskBacklogAlarm"} <= {i.resource for i in alarms}


def test_the_valkey_node_is_priced_by_its_type_20_percent_below_redis_oss() -> None:
    redis = Choice(broker="redis", redis=True, why="")
    items = by_what(_background_estimate(redis, processes=(WORKER,)))
    node = items["Valkey (ElastiCache)"]
    assert prices.VALKEY_NODE_HOURLY["cache.t4g.micro"] == round(0.016 * 0.8, 4) == 0.0128
    assert (node.resource, node.monthly) == ("Redis", round(0.0128 * 730, 2)) == ("Redis", 9.34)
    assert node.note == "cache.t4g.micro, one node; its one daily snapshot free"
    assert "task queue (SQS)" not in items  # the broker is the Valkey server
    # Its AUTH token is a secret of its own, which the secrets timer reads too.
    secrets = [i for i in _background_estimate(redis) if i.what == "secret"]
    assert {i.resource for i in secrets} == {"DjangoSecretKey", "RedisAuthSecret"}
    timer = items["secrets timer (API calls)"]
    assert timer.note == f"{2 * 4 * 12 * 730:,} GetSecretValue calls"
    other = by_what(_background_estimate(redis, redis_node_type="cache.r7g.large"))
    assert other["Valkey (ElastiCache)"].monthly is None
    assert "not in the price table" in other["Valkey (ElastiCache)"].note


def test_schedules_are_counted_against_the_free_14_million_invocations() -> None:
    items = by_what(_background_estimate(NONE, database=True, schedule=(NIGHTLY, OFTEN)))
    line = items["schedules (EventBridge Scheduler)"]
    runs = 31 + 730 * 60 // 5
    assert (line.resource, line.monthly) == ("ScheduleGroup", 0.0)
    assert line.note == f"2 schedules, about {runs:,} runs a month; 14M free, then $1.00/M"


@pytest.mark.parametrize(
    ("entry", "runs"),
    [
        (Scheduled("a", "manage.py x", cron="0 3 * * ? *"), 31),  # daily, in a 31-day month
        (Scheduled("a", "manage.py x", cron="0 9 ? * 2-6 *"), 21),  # weekdays at 09:00
        (Scheduled("a", "manage.py x", cron="30 */2 * * ? *"), 12 * 31),
        (Scheduled("a", "manage.py x", cron="0 0 1 * ? *"), 1),
        (Scheduled("a", "manage.py x", cron="0 0 1 1 ? 2030"), 0),  # not in the month counted
        (Scheduled("a", "manage.py x", rate="1 hour"), 730),
        (Scheduled("a", "manage.py x", rate="15 minutes"), 730 * 4),
    ],
)
def test_runs_a_month_follow_the_expression(entry: Scheduled, runs: int) -> None:
    assert cost.runs_per_month(entry) == runs


def test_the_cost_doc_shows_the_valkey_price_table() -> None:
    from tests.support.servers import ROOT

    text = (ROOT / "docs" / "cost.md").read_text()
    for node, hourly in prices.VALKEY_NODE_HOURLY.items():
        redis = prices.REDIS_OSS_NODE_HOURLY[node]
        assert f"| `{node}` | {redis} | {hourly} | {prices.monthly(hourly):.2f} |" in text, node
