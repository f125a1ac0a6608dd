"""The launch template's user data, rendered as an instance receives it (Fn::Sub filled in)."""

import re

from tests.template.cfn import Json

SAMPLE_VALUES = {
    "AWS::StackName": "site",
    "AWS::Region": "us-east-1",
    "AWS::URLSuffix": "amazonaws.com",
    "AppPort": "8000",
    "AppLogGroup": "/cloudsite/site/app",
    "DeployLogGroup": "/cloudsite/site/deploy",
    "BootstrapLogGroup": "/cloudsite/site/bootstrap",
    "ManageLogGroup": "/cloudsite/site/manage",
    "DjangoSecretKey": "arn:aws:secretsmanager:us-east-1:111111111111:secret:site-Key-AbCdEf",
    "TargetGroup": "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/site-Ta/0123",
    "TaskTimeoutSeconds": "1800",
}
DATABASE_SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:rds!db-0123-4567-AbCdEf"
MEDIA_BUCKET = "site-mediabucket-0abc1def2ghi"
SITE_ROLE = "arn:aws:iam::111111111111:role/site-SiteRole-0ABC1DEF2GHI"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/111111111111/site-TaskQueue-0ABC1DEF2GHI"
REDIS_ADDRESS = "master.site-redis-0abc.abcdef.use1.cache.amazonaws.com:6379"
REDIS_SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:RedisAuthSecret-AbCdEf"


def source(template: Json) -> tuple[str, Json]:
    """The script as written in the template, and its Fn::Sub variable map."""
    data = template["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    script, variables = data["UserData"]["Fn::Base64"]["Fn::Sub"]
    return script, variables


def render_user_data(
    template: Json, *, database: bool, media: bool = False, broker: str = "", redis: bool = False
) -> str:
    """`broker` is sqs, redis or empty (TaskBroker none); `redis`: a Valkey server runs."""
    script, variables = source(template)
    values = {
        **SAMPLE_VALUES,
        "DatabaseSecretArn": DATABASE_SECRET if database else "",
        "MediaBucketInUse": MEDIA_BUCKET if media else "",
        "SiteRoleArn": SITE_ROLE if media or broker == "sqs" else "",
        "TaskBrokerInUse": broker,
        "QueueUrlInUse": QUEUE_URL if broker == "sqs" else "",
        "RedisAddress": REDIS_ADDRESS if redis else "",
        "RedisSecretArn": REDIS_SECRET if redis else "",
    }
    assert set(variables) <= set(values)

    def value(match: re.Match[str]) -> str:
        return values[match[1]]

    rendered = re.sub(r"\$\{([^}!]+)\}", value, script)
    return rendered.replace("${!", "${")
