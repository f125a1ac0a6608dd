"""Logs with retention, the four alarms, the topic and the dashboard."""

from cloudsite.outputs import Param
from tests.template.cfn import Json, Rendered, render
from tests.template.conftest import SCENARIOS

LOG_GROUPS = {
    "AppLogGroup": "app",
    "BuildLogGroup": "build",
    "DeployLogGroup": "deploy",
    "BootstrapLogGroup": "bootstrap",
}


def test_every_log_group_has_a_retention(any_stack: Rendered) -> None:
    groups = any_stack.of_type("AWS::Logs::LogGroup")
    assert set(LOG_GROUPS) <= set(groups)
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": Param.LOG_RETENTION_DAYS}


def test_log_groups_live_under_the_stacks_own_prefix(stack: Rendered) -> None:
    for logical_id, suffix in LOG_GROUPS.items():
        name = stack.props(logical_id)["LogGroupName"]
        assert name == {"Fn::Sub": f"/cloudsite/${{AWS::StackName}}/{suffix}"}


def test_access_logs_expire_with_the_same_retention(stack: Rendered) -> None:
    (rule,) = stack.props("AccessLogBucket")["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": Param.LOG_RETENTION_DAYS}


def test_the_four_alarms_watch_the_load_balancer_and_notify_the_topic(stack: Rendered) -> None:
    alarms = {k: v["Properties"] for k, v in stack.of_type("AWS::CloudWatch::Alarm").items()}
    metrics = {a["MetricName"]: a for a in alarms.values()}
    assert set(metrics) == {
        "HTTPCode_ELB_5XX_Count",
        "HTTPCode_Target_5XX_Count",
        "UnHealthyHostCount",
        "TargetResponseTime",
    }
    assert metrics["TargetResponseTime"]["ExtendedStatistic"] == "p99"
    for alarm in alarms.values():
        assert alarm["Namespace"] == "AWS/ApplicationELB"
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_email_subscription_only_when_an_address_is_given(template: Json, stack: Rendered) -> None:
    assert stack.of_type("AWS::SNS::Subscription") == {}
    with_email = render(template, SCENARIOS["github-domain-ssh"])
    (subscription,) = with_email.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": Param.ALARM_EMAIL}


def test_dashboard_shows_traffic_errors_latency_health_and_fleet(stack: Rendered) -> None:
    body = stack.props("Dashboard")["DashboardBody"]["Fn::Sub"][0]
    for metric in (
        "RequestCount",
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "HealthyHostCount",
        "CPUUtilization",
    ):
        assert metric in body
