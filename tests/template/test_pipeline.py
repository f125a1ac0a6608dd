"""CodePipeline, CodeBuild and CodeDeploy: three stages, one instance at a time, rollback."""

import re

from cloudsite.outputs import SOURCE_OBJECT_KEY
from tests.support.servers import ROOT
from tests.template.cfn import Rendered


def test_pipeline_is_v2_with_source_build_and_deploy_stages(stack: Rendered) -> None:
    props = stack.props("Pipeline")
    assert props["PipelineType"] == "V2"
    assert [s["Name"] for s in props["Stages"]] == ["Source", "Build", "Deploy"]
    providers = [s["Actions"][0]["ActionTypeId"]["Provider"] for s in props["Stages"]]
    assert providers == ["S3", "CodeBuild", "CodeDeploy"]
    assert props["ArtifactStore"] == {"Type": "S3", "Location": {"Ref": "ArtifactBucket"}}


def test_artifacts_flow_from_source_through_build_to_deploy(stack: Rendered) -> None:
    source, build, deploy = (s["Actions"][0] for s in stack.props("Pipeline")["Stages"])
    assert source["OutputArtifacts"] == build["InputArtifacts"]
    assert build["OutputArtifacts"] == deploy["InputArtifacts"]
    assert source["Configuration"]["S3ObjectKey"] == SOURCE_OBJECT_KEY


def test_build_runs_the_sites_buildspec_with_logs_kept(stack: Rendered) -> None:
    props = stack.props("BuildProject")
    # The buildspec travels in the source zip with the rest of the runtime layer.
    assert props["Source"] == {
        "Type": "CODEPIPELINE",
        "BuildSpec": ".cloudsite/runtime/buildspec.yml",
    }
    assert props["LogsConfig"]["CloudWatchLogs"] == {
        "Status": "ENABLED",
        "GroupName": {"Ref": "BuildLogGroup"},
    }
    assert props["TimeoutInMinutes"] <= 60
    # The documented exception (docs/security.md): a docker build needs privileged mode.
    assert props["Environment"]["PrivilegedMode"] is True
    names = {v["Name"] for v in props["Environment"]["EnvironmentVariables"]}
    assert "CLOUDSITE_ECR_REPOSITORY_URI" in names
    for variable in props["Environment"]["EnvironmentVariables"]:
        assert "SECRET" not in variable["Name"] and "PASSWORD" not in variable["Name"]


def test_deploys_in_place_one_instance_at_a_time_behind_the_target_group(stack: Rendered) -> None:
    props = stack.props("DeploymentGroup")
    assert props["DeploymentStyle"] == {
        "DeploymentType": "IN_PLACE",
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert props["DeploymentConfigName"] == "CodeDeployDefault.OneAtATime"
    assert props["LoadBalancerInfo"]["TargetGroupInfoList"] == [
        {"Name": {"Fn::GetAtt": ["TargetGroup", "TargetGroupName"]}}
    ]
    assert props["AutoScalingGroups"] == [{"Ref": "AutoScalingGroup"}]
    assert props["TerminationHookEnabled"] is True


def test_deploy_rolls_back_on_failure_and_on_alarm(stack: Rendered) -> None:
    props = stack.props("DeploymentGroup")
    rollback = props["AutoRollbackConfiguration"]
    assert rollback["Enabled"] is True
    assert set(rollback["Events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
    alarms = props["AlarmConfiguration"]
    assert alarms["Enabled"] is True and alarms["IgnorePollAlarmFailure"] is False
    watched = {a["Name"]["Ref"] for a in alarms["Alarms"]}
    assert watched == {"TargetErrorsAlarm", "LatencyAlarm"}
    for alarm in watched:
        assert stack.resources[alarm]["Type"] == "AWS::CloudWatch::Alarm"


def test_buildspec_uses_only_the_variables_the_build_project_provides(stack: Rendered) -> None:
    text = (ROOT / "src" / "cloudsite" / "runtime" / "buildspec.yml").read_text()
    environment = stack.props("BuildProject")["Environment"]["EnvironmentVariables"]
    provided = {v["Name"] for v in environment}
    defined_there = set(re.findall(r"\b(CLOUDSITE_[A-Z_]+)\s*[=:]", text))
    used = set(re.findall(r"\$\{?(CLOUDSITE_[A-Z_]+)", text))
    assert used - defined_there <= provided
