"""Scaling with traffic, new instances that join with the current release, and instance
replacement without downtime: the template's side (the running side is tests/integration)."""

import re

from cloudsite.outputs import Param
from tests.support.servers import ROOT
from tests.template.cfn import Json, Rendered
from tests.template.test_compute import minutes

DOCS = ROOT / "docs"
TARGET_TRACKING = "TargetTrackingScaling"


def policies(stack: Rendered) -> dict[str, Json]:
    """metric type -> the target-tracking configuration of the policy that tracks it."""
    found = {}
    for resource in stack.of_type("AWS::AutoScaling::ScalingPolicy").values():
        props = resource["Properties"]
        assert props["AutoScalingGroupName"] == {"Ref": "AutoScalingGroup"}
        assert props["PolicyType"] == TARGET_TRACKING
        config = props["TargetTrackingConfiguration"]
        found[config["PredefinedMetricSpecification"]["PredefinedMetricType"]] = config
    return found


def test_fleet_tracks_requests_per_instance_and_average_cpu(stack: Rendered) -> None:
    tracked = policies(stack)
    assert set(tracked) == {"ALBRequestCountPerTarget", "ASGAverageCPUUtilization"}
    requests = tracked["ALBRequestCountPerTarget"]
    assert requests["TargetValue"] == {"Ref": Param.SCALING_REQUESTS_PER_TARGET}
    # The label names this load balancer's target group, as app/.../targetgroup/...
    label = requests["PredefinedMetricSpecification"]["ResourceLabel"]
    assert label == {
        "Fn::Sub": "${LoadBalancer.LoadBalancerFullName}/${TargetGroup.TargetGroupFullName}"
    }
    assert tracked["ASGAverageCPUUtilization"]["TargetValue"] == {"Ref": Param.SCALING_CPU_TARGET}
    for config in tracked.values():
        assert config.get("DisableScaleIn", False) is False  # the fleet shrinks again


def test_request_policy_waits_for_the_listener_that_gives_its_metric(template: Json) -> None:
    (policy,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::AutoScaling::ScalingPolicy"
        and "ResourceLabel" in str(r["Properties"]["TargetTrackingConfiguration"])
    ]
    assert policy["DependsOn"] == "HttpsListener"


def test_scaling_targets_are_parameters_with_the_documented_defaults(template: Json) -> None:
    cpu = template["Parameters"][Param.SCALING_CPU_TARGET]
    requests = template["Parameters"][Param.SCALING_REQUESTS_PER_TARGET]
    assert (cpu["Type"], cpu["Default"], cpu["MinValue"], cpu["MaxValue"]) == ("Number", 50, 10, 90)
    assert (requests["Type"], requests["Default"]) == ("Number", 3000)
    text = (DOCS / "operations.md").read_text()
    scaling = text.split("\n## Scaling\n", 1)[1].split("\n## ", 1)[0]
    assert "50 %" in scaling and "3000 requests" in scaling, "the docs state both defaults"


def test_size_defaults_are_two_to_four_across_two_zones(template: Json, stack: Rendered) -> None:
    params = template["Parameters"]
    sizes = (params[Param.MIN_SIZE], params[Param.MAX_SIZE], params[Param.DESIRED_CAPACITY])
    assert [p["Default"] for p in sizes] == [2, 4, 2]
    assert len(stack.props("AutoScalingGroup")["VPCZoneIdentifier"]) == 2


def gunicorn_timeout() -> int:
    """The longest a request may run (gunicorn kills a worker that takes longer)."""
    found = re.search(
        r"^timeout = (\d+)$",
        (ROOT / "src" / "cloudsite" / "runtime" / "gunicorn_conf.py").read_text(),
        re.M,
    )
    assert found
    return int(found[1])


def test_scale_in_drains_each_instance_for_the_longest_request(stack: Rendered) -> None:
    attributes = {a["Key"]: a["Value"] for a in stack.props("TargetGroup")["TargetGroupAttributes"]}
    delay = int(attributes["deregistration_delay.timeout_seconds"])
    # The group deregisters an instance and waits out this delay before it terminates it:
    # every request in flight (gunicorn lets none run longer) finishes first.
    assert gunicorn_timeout() <= delay <= 60
    assert stack.props("AutoScalingGroup")["TargetGroupARNs"] == [{"Ref": "TargetGroup"}]
    # and CodeDeploy's termination hook runs the instance's lifecycle events before it goes
    assert stack.props("DeploymentGroup")["TerminationHookEnabled"] is True


def test_new_instances_receive_the_last_good_revision_through_codedeploy(stack: Rendered) -> None:
    group = stack.props("DeploymentGroup")
    assert group["AutoScalingGroups"] == [{"Ref": "AutoScalingGroup"}]
    # An instance that launched while a deployment ran is brought up to date right after it.
    assert group["OutdatedInstancesStrategy"] == "UPDATE"
    statements = {
        s["Sid"]: s
        for p in stack.props("DeployRole")["Policies"]
        for s in p["PolicyDocument"]["Statement"]
    }
    hooks = statements["OwnGroupHooks"]
    # CodeDeploy installs its launch hook on the group and completes it per instance.
    assert {
        "autoscaling:PutLifecycleHook",
        "autoscaling:CompleteLifecycleAction",
        "autoscaling:RecordLifecycleActionHeartbeat",
    } <= set(hooks["Action"])
    assert "${AutoScalingGroup}" in hooks["Resource"]["Fn::Sub"]


def test_launch_template_changes_roll_one_instance_at_a_time_keeping_min_size(
    stack: Rendered,
) -> None:
    policy = stack.resources["AutoScalingGroup"]["UpdatePolicy"]
    rolling = policy["AutoScalingRollingUpdate"]
    assert "AutoScalingReplacingUpdate" not in policy
    assert rolling["MinInstancesInService"] == {"Ref": Param.MIN_SIZE}
    assert rolling["MaxBatchSize"] == 1
    # A new instance counts only once it signals, and it signals once it serves (user data).
    assert rolling["WaitOnResourceSignals"] is True
    # Scaling would fight the update (the knowledge centre's list); launching, terminating
    # and registering with the load balancer are how the update works, so they stay on.
    suspended = set(rolling["SuspendProcesses"])
    assert {"AlarmNotification", "ScheduledActions", "AZRebalance"} <= suspended
    assert not suspended & {"Launch", "Terminate", "AddToLoadBalancer"}
    assert stack.resources["AutoScalingGroup"]["Properties"]["LaunchTemplate"]["Version"] == {
        "Fn::GetAtt": ["LaunchTemplate", "LatestVersionNumber"]
    }
    assert minutes(rolling["PauseTime"]) == 20


def test_the_chosen_mechanism_and_its_reasons_are_documented() -> None:
    text = (DOCS / "deploy.md").read_text()
    section = text.split("\n## Instances: scaling, joining, replacing\n", 1)[1]
    assert "rolling update" in section and "instance refresh" in section
    for timing in ("user data", "CodeDeploy agent", "lifecycle hook", "healthy"):
        assert timing in section
