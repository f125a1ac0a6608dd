"""cfn-lint, checkov and cfn-guard on the template: clean, or each exception written down."""

import re
import subprocess
from pathlib import Path

from tests.support.servers import ROOT
from tests.template.cfn import TEMPLATE_PATH, Json, walk

SECURITY_DOC = ROOT / "docs" / "security.md"


def test_cfn_lint_finds_nothing_at_any_level() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "checkers.sh"), "cfn-lint", str(TEMPLATE_PATH)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_checkov_fails_nothing_on_the_template_with_every_option_on(checkov_report: Json) -> None:
    assert checkov_report["summary"]["failed"] == 0, [
        (c["check_id"], c["resource"]) for c in checkov_report["results"]["failed_checks"]
    ]
    resources = {c["resource"] for c in checkov_report["results"]["passed_checks"]}
    assert "AWS::RDS::DBInstance.Database" in resources


def declared_skips(template: Json) -> dict[tuple[str, str], str]:
    skips = {}
    for logical_id, resource in template["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips[(skip["id"], f"{resource['Type']}.{logical_id}")] = skip["comment"]
    return skips


def test_every_checkov_skip_has_a_real_reason(template: Json) -> None:
    for key, comment in declared_skips(template).items():
        assert len(comment.split()) >= 10, key


def test_every_checkov_skip_still_suppresses_a_finding(
    template: Json, checkov_report: Json
) -> None:
    used = {(c["check_id"], c["resource"]) for c in checkov_report["results"]["skipped_checks"]}
    assert set(declared_skips(template)) == used


def guard_failures(report: list[Json]) -> dict[str, set[str]]:
    """rule name -> the resources it reports, for every failed rule."""
    (result,) = report
    failures: dict[str, set[str]] = {}
    for entry in result["not_compliant"]:
        paths = [n for n in walk(entry) if isinstance(n, str) and n.startswith("/Resources/")]
        failures[entry["Rule"]["name"]] = {p.split("/")[2] for p in paths}
    return failures


def documented_guard_exceptions(doc: Path = SECURITY_DOC) -> dict[str, set[str]]:
    section = doc.read_text().split("## cfn-guard", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| ([\w, ]+) \| (.+) \|$", section, re.MULTILINE)
    return {
        rule: {r.strip() for r in resources.split(",")}
        for rule, resources, _ in rows
        if rule != "rule"
    }


def test_cfn_guard_fails_only_the_documented_rules_on_the_documented_resources(
    guard_report: list[Json],
) -> None:
    assert guard_failures(guard_report) == documented_guard_exceptions()


def test_cfn_guard_passes_rules_of_every_service_it_checks(guard_report: list[Json]) -> None:
    (result,) = guard_report
    passed = set(result["compliant"])
    for rule in (
        "alb_http_to_https_redirection_check",
        "alb_desync_mode_check",
        "ec2_launch_template_imdsv2_check",
        "ec2_launch_template_encrypted_volumes_check",
        "autoscaling_group_elb_healthcheck_required_check",
        "autoscaling_launch_template_check",
        "s3_bucket_level_public_access_prohibited_check",
        "iam_inline_policy_no_statements_with_admin_access_check",
        "ecr_private_image_scanning_enabled_check",
        "codebuild_project_logging_enabled_check",
        "rds_instance_storage_encrypted_check",
        "rds_db_parameter_group_tls_check",
    ):
        assert rule in passed
