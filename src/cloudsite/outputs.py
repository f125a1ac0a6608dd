"""The stack's interface: every template parameter the CLI sets and every output it reads.

The template (templates/stack.yaml) must declare each of these; tests/template checks that it
does, so renaming one here or there fails the suite instead of a deploy.
"""

from typing import Final


class Param:
    """Template parameters, as the CLI passes them (see docs/interfaces.md)."""

    CERTIFICATE_ARN: Final = "CertificateArn"
    TLS_POLICY: Final = "TlsPolicy"
    ALLOWED_CLIENT_CIDRS: Final = "AllowedClientCidrs"
    SSH_CIDRS: Final = "SshCidrs"
    INSTANCE_TYPE: Final = "InstanceType"
    AMI_PARAMETER: Final = "AmiParameter"
    MIN_SIZE: Final = "MinSize"
    MAX_SIZE: Final = "MaxSize"
    DESIRED_CAPACITY: Final = "DesiredCapacity"
    SCALING_CPU_TARGET: Final = "ScalingCpuTarget"
    SCALING_REQUESTS_PER_TARGET: Final = "ScalingRequestsPerTarget"
    VPC_ID: Final = "VpcId"
    PUBLIC_SUBNET_IDS: Final = "PublicSubnetIds"
    PRIVATE_SUBNET_IDS: Final = "PrivateSubnetIds"
    USE_PRIVATE_SUBNETS: Final = "UsePrivateSubnets"
    DELETION_PROTECTION: Final = "DeletionProtection"
    DOMAIN_NAME: Final = "DomainName"
    HOSTED_ZONE_ID: Final = "HostedZoneId"
    ALARM_EMAIL: Final = "AlarmEmail"
    SOURCE_MODE: Final = "SourceMode"
    CONNECTION_ARN: Final = "ConnectionArn"
    GITHUB_REPOSITORY: Final = "GitHubRepository"
    GITHUB_BRANCH: Final = "GitHubBranch"
    ENABLE_DATABASE: Final = "EnableDatabase"
    DATABASE_INSTANCE_CLASS: Final = "DatabaseInstanceClass"
    DATABASE_SNAPSHOT: Final = "DatabaseSnapshot"
    ENABLE_MEDIA: Final = "EnableMedia"
    MEDIA_BUCKET_NAME: Final = "MediaBucketName"
    LOG_RETENTION_DAYS: Final = "LogRetentionDays"
    APP_PORT: Final = "AppPort"
    # Background work (issue 24): the broker and Valkey server project/background.py chose,
    # the tasks' bound, and the schedule group for [schedule].
    TASK_BROKER: Final = "TaskBroker"
    TASK_TIMEOUT_SECONDS: Final = "TaskTimeoutSeconds"
    TASK_VISIBILITY_TIMEOUT: Final = "TaskVisibilityTimeout"
    ENABLE_REDIS: Final = "EnableRedis"
    REDIS_NODE_TYPE: Final = "RedisNodeType"
    ENABLE_SCHEDULES: Final = "EnableSchedules"


class Output:
    """Stack outputs the CLI and `cloudsite verify` read."""

    SITE_URL: Final = "SiteUrl"
    LOAD_BALANCER_DNS_NAME: Final = "LoadBalancerDnsName"
    LOAD_BALANCER_ARN: Final = "LoadBalancerArn"
    HTTPS_LISTENER_ARN: Final = "HttpsListenerArn"
    TARGET_GROUP_ARN: Final = "TargetGroupArn"
    LOAD_BALANCER_SECURITY_GROUP_ID: Final = "LoadBalancerSecurityGroupId"
    INSTANCE_SECURITY_GROUP_ID: Final = "InstanceSecurityGroupId"
    AUTO_SCALING_GROUP_NAME: Final = "AutoScalingGroupName"
    PIPELINE_NAME: Final = "PipelineName"
    BUILD_PROJECT_NAME: Final = "BuildProjectName"
    CODEDEPLOY_APPLICATION_NAME: Final = "CodeDeployApplicationName"
    DEPLOYMENT_GROUP_NAME: Final = "DeploymentGroupName"
    SOURCE_BUCKET_NAME: Final = "SourceBucketName"
    ARTIFACT_BUCKET_NAME: Final = "ArtifactBucketName"
    ACCESS_LOG_BUCKET_NAME: Final = "AccessLogBucketName"
    ECR_REPOSITORY_NAME: Final = "EcrRepositoryName"
    APP_LOG_GROUP_NAME: Final = "AppLogGroupName"
    BUILD_LOG_GROUP_NAME: Final = "BuildLogGroupName"
    DEPLOY_LOG_GROUP_NAME: Final = "DeployLogGroupName"
    BOOTSTRAP_LOG_GROUP_NAME: Final = "BootstrapLogGroupName"
    ALARM_TOPIC_ARN: Final = "AlarmTopicArn"
    DASHBOARD_NAME: Final = "DashboardName"
    # `cloudsite manage` (issue 22): its two documents, its log group, the operator's policy.
    MANAGE_DOCUMENT_NAME: Final = "ManageDocumentName"
    MANAGE_SESSION_DOCUMENT_NAME: Final = "ManageSessionDocumentName"
    MANAGE_LOG_GROUP_NAME: Final = "ManageLogGroupName"
    OPERATOR_POLICY_ARN: Final = "OperatorPolicyArn"
    # With EnableMedia only.
    MEDIA_BUCKET_NAME: Final = "MediaBucketName"
    # With EnableMedia or TaskBroker sqs.
    SITE_ROLE_ARN: Final = "SiteRoleArn"
    # With TaskBroker sqs only.
    QUEUE_URL: Final = "QueueUrl"
    # With EnableSchedules only: what aws/schedules.py makes the schedules of [schedule] with.
    SCHEDULE_GROUP_NAME: Final = "ScheduleGroupName"
    SCHEDULER_ROLE_ARN: Final = "SchedulerRoleArn"
    SCHEDULE_DOCUMENT_NAME: Final = "ScheduleDocumentName"


# The S3 key the CLI uploads the source zip to, and the pipeline's S3 source action watches.
SOURCE_OBJECT_KEY: Final = "source/source.zip"
# Every resource carries this tag with the stack name as its value.
STACK_TAG: Final = "cloudsite:stack"
# What outlives the stack carries this tag too, naming what it holds ("media" for the media
# bucket): with STACK_TAG, how `cloudsite up` finds the data an earlier `down` kept.
DATA_TAG: Final = "cloudsite:data"
