"""The runtime layer's Dockerfile passes hadolint (DL3057, HEALTHCHECK, turned on) and checkov."""

import json
import subprocess

from tests.support.servers import ROOT

DOCKERFILE = ROOT / "src" / "cloudsite" / "runtime" / "Dockerfile"


def test_hadolint_finds_nothing_even_at_info_level_with_healthcheck_rule_on() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "hadolint"), "--warning", "DL3057",
         "--failure-threshold", "info", "--no-color", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_checkov_dockerfile_has_no_unsuppressed_failure_and_every_skip_says_why() -> None:
    subprocess.run([str(ROOT / "scripts" / "bootstrap.sh"), "checkov"], check=True, timeout=900)
    result = subprocess.run(
        [str(ROOT / ".venv-checkov" / "bin" / "checkov"), "--framework", "dockerfile",
         "--file", str(DOCKERFILE), "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, [c["check_id"] for c in report["results"]["failed_checks"]]
    assert summary["passed"] > 50
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 20, skipped["check_id"]


def test_hadolint_is_silenced_only_for_packages_the_project_names_and_says_why() -> None:
    """DL3008 (pin apt versions) cannot hold for packages that cloudsite.toml names, or that
    the build's own look at the virtualenv's libraries finds (runtime-packages.txt); nothing
    else may be ignored, and each ignore follows a comment that gives the reason."""
    lines = DOCKERFILE.read_text().splitlines()
    ignores = [n for n, line in enumerate(lines) if "hadolint ignore" in line]
    assert ignores, "the test expects the two package installs to be marked"
    for n in ignores:
        assert lines[n].strip() == "# hadolint ignore=DL3008", lines[n]
        assert lines[n - 1].startswith("#") and len(lines[n - 1]) > 40, lines[n - 1]
        following = "\n".join(lines[n + 1 : n + 6])
        assert "_PACKAGES" in following or "runtime-packages.txt" in following, following
