"""Draw docs/architecture.svg from the template: one box per main resource, grouped by tier,
an arrow wherever one resource refers to another (Ref, Fn::GetAtt, Fn::Sub). Optional
resources are dashed and labelled with their condition. Needs Graphviz's `dot`.

    .venv/bin/python scripts/diagram.py          write docs/architecture.svg
    .venv/bin/python scripts/diagram.py --check  exit 1 if the committed picture is stale

The SVG carries the SHA-256 of the Graphviz source it was drawn from, so --check compares the
template's meaning, not Graphviz's pixel output (which varies between versions).
"""

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "src" / "cloudsite" / "templates" / "stack.yaml"
PICTURE = ROOT / "docs" / "architecture.svg"
MARK = re.compile(r"<!-- dot-sha256: ([0-9a-f]{64}) -->")

# Which resource types are drawn, and in which tier.
TIERS = {
    "Edge": [
        "AWS::Route53::RecordSet",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
    ],
    "Network": [
        "AWS::EC2::VPC",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::FlowLog",
        "AWS::Lambda::Function",
    ],
    "Compute": [
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::EC2::LaunchTemplate",
        "AWS::IAM::InstanceProfile",
    ],
    "Data": [
        "AWS::RDS::DBInstance",
        "AWS::SecretsManager::Secret",
        "AWS::S3::Bucket",
        "AWS::ECR::Repository",
        "AWS::SQS::Queue",
        "AWS::ElastiCache::ReplicationGroup",
    ],
    "Delivery": [
        "AWS::CodePipeline::Pipeline",
        "AWS::CodeBuild::Project",
        "AWS::CodeDeploy::DeploymentGroup",
    ],
    "Monitoring": [
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Topic",
        "AWS::CloudWatch::Dashboard",
        "AWS::Logs::LogGroup",
    ],
}
COLOURS = {
    "Edge": "#dbeafe",
    "Network": "#e5e7eb",
    "Compute": "#dcfce7",
    "Data": "#fef3c7",
    "Delivery": "#fce7f3",
    "Monitoring": "#ede9fe",
}


def references(node: Any) -> set[str]:
    """Logical ids a property tree refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def dot_source(template: dict[str, Any]) -> str:
    """The Graphviz description of the template (deterministic: everything sorted)."""
    resources = template["Resources"]
    tier_of = {t: tier for tier, types in TIERS.items() for t in types}
    drawn = {k: v for k, v in resources.items() if v["Type"] in tier_of}
    lines = [
        "digraph cloudsite {",
        '  rankdir=LR; compound=true; fontname="Helvetica";',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [color="#6b7280", arrowsize=0.6];',
        '  Internet [shape=ellipse, fillcolor="#ffffff", label="Internet\\n(AllowedClientCidrs)"];',
    ]
    for tier in TIERS:
        members = sorted(k for k, v in drawn.items() if tier_of[v["Type"]] == tier)
        lines.append(
            f'  subgraph "cluster_{tier}" {{ label="{tier}"; style=rounded; color="#9ca3af";'
        )
        for logical_id in members:
            resource = drawn[logical_id]
            kind = resource["Type"].split("::", 1)[1]
            label = f"{logical_id}\\n{kind}"
            style = "rounded,filled"
            if "Condition" in resource:
                label += f"\\n(if {resource['Condition']})"
                style += ",dashed"
            attrs = f'label="{label}", style="{style}", fillcolor="{COLOURS[tier]}"'
            lines.append(f'    "{logical_id}" [{attrs}];')
        lines.append("  }")
    lines.append('  Internet -> "LoadBalancer" [label="443, 80"];')
    for logical_id in sorted(drawn):
        for target in sorted(references(drawn[logical_id].get("Properties", {})) & set(drawn)):
            if target != logical_id:
                lines.append(f'  "{logical_id}" -> "{target}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(source: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit("error: dot: not found\nhint: scripts/system-packages.sh installs it")
    # The argument list is fixed and the input is our own Graphviz source.
    run = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True, check=True)  # noqa: S603
    svg = run.stdout
    digest = hashlib.sha256(source.encode()).hexdigest()
    return svg.replace("<svg ", f"<!-- dot-sha256: {digest} -->\n<svg ", 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the picture is stale")
    args = parser.parse_args()
    template, matches = decode_str(TEMPLATE.read_text())
    if template is None:
        sys.stderr.write(f"error: {TEMPLATE}: cannot parse: {matches}\n")
        return 1
    source = dot_source(dict(template))
    if args.check:
        found = MARK.search(PICTURE.read_text()) if PICTURE.exists() else None
        if not found or found[1] != hashlib.sha256(source.encode()).hexdigest():
            name = PICTURE.relative_to(ROOT)
            sys.stderr.write(f"error: {name}: out of date with the template\n")
            sys.stderr.write("hint: run .venv/bin/python scripts/diagram.py and commit it\n")
            return 1
        return 0
    PICTURE.write_text(render_svg(source))
    sys.stdout.write(f"{PICTURE.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
