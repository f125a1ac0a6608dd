"""Ship the source zip (cloudsite.project.source): upload it to the source bucket, then start
the pipeline on exactly that object version (see docs/interfaces.md, section 2)."""

from typing import Any

from cloudsite.outputs import SOURCE_OBJECT_KEY
from cloudsite.project.source import Package


def package_upload(s3: Any, package: Package, *, bucket: str) -> str:
    """Upload to the source bucket; returns the object version id (the bucket is versioned)."""
    result = s3.put_object(
        Bucket=bucket,
        Key=SOURCE_OBJECT_KEY,
        Body=package.data,
        ContentType="application/zip",
        Metadata={"sha256": package.sha256},
    )
    return str(result.get("VersionId") or "")


def source_action(cp: Any, pipeline: str) -> str:
    """The name of the pipeline's source action (the first action of the first stage)."""
    stages = cp.get_pipeline(name=pipeline)["pipeline"]["stages"]
    return str(stages[0]["actions"][0]["name"])


def pipeline_start(cp: Any, pipeline: str, *, version_id: str, token: str) -> str:
    """Start the pipeline on exactly the uploaded object version; returns the execution id.
    Without a version (GitHub mode) it starts on the branch's latest commit."""
    args: dict[str, Any] = {"name": pipeline, "clientRequestToken": token}
    if version_id:
        args["sourceRevisions"] = [
            {
                "actionName": source_action(cp, pipeline),
                "revisionType": "S3_OBJECT_VERSION_ID",
                "revisionValue": version_id,
            }
        ]
    return str(cp.start_pipeline_execution(**args)["pipelineExecutionId"])


def pipeline_running(cp: Any, pipeline: str) -> str:
    """The id of an execution already in progress (GitHub mode: a push started it), or ''."""
    summaries = cp.list_pipeline_executions(pipelineName=pipeline, maxResults=5)
    for summary in summaries.get("pipelineExecutionSummaries", []):
        if summary.get("status") == "InProgress":
            return str(summary["pipelineExecutionId"])
    return ""
