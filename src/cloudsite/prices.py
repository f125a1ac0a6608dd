"""Prices the cost estimates use, in one place, with their date and source.

Source: AWS's public price pages for us-east-1 (N. Virginia), on-demand, Linux, no free tier:
  https://aws.amazon.com/ec2/pricing/on-demand/     https://aws.amazon.com/rds/postgresql/pricing/
  https://aws.amazon.com/ebs/pricing/               https://aws.amazon.com/elasticloadbalancing/pricing/
  https://aws.amazon.com/vpc/pricing/ (NAT, public IPv4)   https://aws.amazon.com/cloudwatch/pricing/
  https://aws.amazon.com/secrets-manager/pricing/   https://aws.amazon.com/kms/pricing/
  https://aws.amazon.com/s3/pricing/ (S3 Standard; the gateway endpoint is free)
  https://aws.amazon.com/sqs/pricing/               https://aws.amazon.com/eventbridge/pricing/
  https://aws.amazon.com/elasticache/pricing/ (on-demand nodes)
Recorded: 2025-06-01. Other regions cost roughly 0-30% more. These figures were not re-checked
when this file was written (the build machine has no internet): re-check them before relying on
an estimate, and update RECORDED when you do.
"""

from typing import Final

RECORDED: Final = "2025-06-01"
REGION: Final = "us-east-1"
HOURS_PER_MONTH: Final = 730  # AWS's own convention for monthly estimates

# EC2 on-demand, Linux, USD per hour.
EC2_HOURLY: Final = {
    "t3.nano": 0.0052,
    "t3.micro": 0.0104,
    "t3.small": 0.0208,
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "t3.xlarge": 0.1664,
    "t3a.micro": 0.0094,
    "t3a.small": 0.0188,
    "t3a.medium": 0.0376,
    "t3a.large": 0.0752,
    "t4g.micro": 0.0084,
    "t4g.small": 0.0168,
    "t4g.medium": 0.0336,
    "t4g.large": 0.0672,
    "t2.micro": 0.0116,
    "t2.small": 0.023,
    "t2.medium": 0.0464,
    "m5.large": 0.096,
    "m6i.large": 0.096,
    "m7i.large": 0.1008,
    "m7g.large": 0.0816,
    "c5.large": 0.085,
    "c6i.large": 0.085,
    "c7i.large": 0.08925,
    "c7g.large": 0.0725,
    "r6i.large": 0.126,
    "r7i.large": 0.1323,
}

# RDS for PostgreSQL, single-AZ, USD per hour.
RDS_HOURLY: Final = {
    "db.t4g.micro": 0.016,
    "db.t4g.small": 0.032,
    "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129,
    "db.t3.micro": 0.018,
    "db.t3.small": 0.036,
    "db.t3.medium": 0.072,
    "db.m7g.large": 0.168,
    "db.m6g.large": 0.159,
}

EBS_GP3_GB_MONTH: Final = 0.08
RDS_STORAGE_GB_MONTH: Final = 0.115
RDS_SNAPSHOT_GB_MONTH: Final = 0.095
ALB_HOURLY: Final = 0.0225
ALB_LCU_HOURLY: Final = 0.008
NAT_HOURLY: Final = 0.045
PUBLIC_IPV4_HOURLY: Final = 0.005
CLOUDWATCH_ALARM_MONTH: Final = 0.10
CLOUDWATCH_DASHBOARD_MONTH: Final = 3.00
SECRET_MONTH: Final = 0.40
KMS_KEY_MONTH: Final = 1.00
ROUTE53_ZONE_MONTH: Final = 0.50
SECRETS_API_PER_10K: Final = 0.05  # Secrets Manager API calls, USD per 10,000
# S3 Standard, the media bucket's class: storage, and requests per 1,000 (PUT, COPY, POST and
# LIST; GET and the other reads). Deleting is free. These three were noted again on 2026-12-07,
# unchanged, and not re-checked here either.
S3_STANDARD_GB_MONTH: Final = 0.023
S3_PUT_PER_1K: Final = 0.005
S3_GET_PER_1K: Final = 0.0004

# Background work (issue 24), noted on 2026-12-07 and not re-checked here either. SQS
# standard queues and EventBridge Scheduler have a free allowance every month (not only in an
# account's first year), shared by the whole account: requests beyond it, USD per million.
SQS_PER_MILLION: Final = 0.40  # each 64 KB of a message is one request
SQS_FREE_REQUESTS: Final = 1_000_000
SCHEDULER_PER_MILLION: Final = 1.00
SCHEDULER_FREE_INVOCATIONS: Final = 14_000_000
# ElastiCache nodes, on demand, USD per hour. AWS prices a Valkey node 20% below the same
# Redis OSS node; the Redis OSS prices of the t4g family (each size twice the one below, as
# AWS prices it), whose cache.t4g.micro was noted at about 0.016. Other types are not priced.
VALKEY_DISCOUNT: Final = 0.20
REDIS_OSS_NODE_HOURLY: Final = {
    "cache.t4g.micro": 0.016,
    "cache.t4g.small": 0.032,
    "cache.t4g.medium": 0.065,
}
VALKEY_NODE_HOURLY: Final = {
    node: round(hourly * (1 - VALKEY_DISCOUNT), 4) for node, hourly in REDIS_OSS_NODE_HOURLY.items()
}
# An idle Celery (kombu) worker on SQS long-polls, task or no task: one ReceiveMessage every
# 10-11 s (the queue's 10 s wait, then kombu's 1 s pause), counted here as every 10 s.
SQS_IDLE_POLL_SECONDS: Final = 10

# The instances' secrets timer (site/hooks/refresh-secrets.sh) reads every 5 minutes the
# Django key's three versions (AWSCURRENT, AWSPENDING, AWSPREVIOUS), and the database's secret
# when there is one.
SECRETS_TIMER_RUNS_PER_MONTH: Final = 12 * HOURS_PER_MONTH


def monthly(hourly: float) -> float:
    return round(hourly * HOURS_PER_MONTH, 2)
