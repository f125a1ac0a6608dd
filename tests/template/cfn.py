"""The template as data: parsed with cfn-lint's decoder (it understands the short tags), and
rendered for a set of parameter values the way CloudFormation would decide it: conditions
evaluated, Fn::If branches chosen, AWS::NoValue dropped. Refs, GetAtts and Subs stay as they
are, so tests can check what refers to what.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

import cloudsite
from cloudsite.conditions import evaluate

TEMPLATE_PATH = Path(cloudsite.__file__).parent / "templates" / "stack.yaml"
REGION = "us-east-1"
NO_VALUE = {"Ref": "AWS::NoValue"}
Json = dict[str, Any]


def load_template(path: Path = TEMPLATE_PATH) -> Json:
    template, matches = decode_str(path.read_text())
    assert template is not None, matches
    return dict(template)


def parameter_values(template: Json, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then overrides, typed as CloudFormation types them (lists are split)."""
    values: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        raw = (overrides or {}).get(name, spec.get("Default"))
        if spec["Type"] == "CommaDelimitedList" and isinstance(raw, str):
            raw = raw.split(",")
        values[name] = raw
    values.update({"AWS::Region": REGION, "AWS::StackName": "site", "AWS::AccountId": "1" * 12})
    return values


@dataclass
class Rendered:
    """The template as deployed with one set of parameters."""

    template: Json
    params: dict[str, Any]
    conditions: dict[str, bool] = field(default_factory=dict)
    resources: dict[str, Json] = field(default_factory=dict)
    outputs: dict[str, Json] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> dict[str, Json]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def props(self, logical_id: str) -> Json:
        return dict(self.resources[logical_id].get("Properties", {}))


def render(template: Json, overrides: dict[str, str] | None = None) -> Rendered:
    params = parameter_values(template, overrides)
    rendered = Rendered(template, params)
    for name in template.get("Conditions", {}):
        condition(rendered, name)
    for logical_id, resource in template["Resources"].items():
        if rendered.conditions.get(resource.get("Condition", ""), True):
            rendered.resources[logical_id] = choose(resource, rendered.conditions)
    for name, output in template.get("Outputs", {}).items():
        if rendered.conditions.get(output.get("Condition", ""), True):
            rendered.outputs[name] = choose(output, rendered.conditions)
    return rendered


def condition(rendered: Rendered, name: str) -> bool:
    if name not in rendered.conditions:
        expression = rendered.template["Conditions"][name]
        rendered.conditions[name] = bool(
            evaluate(
                expression, rendered.params, rendered.template, lambda n: condition(rendered, n)
            )
        )
    return rendered.conditions[name]


def choose(node: Any, conditions: dict[str, bool]) -> Any:
    """Resolve every Fn::If for these conditions and drop what resolves to AWS::NoValue."""
    if isinstance(node, list):
        chosen = [choose(n, conditions) for n in node]
        return [n for n in chosen if n != NO_VALUE]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::If"}:
        name, if_true, if_false = node["Fn::If"]
        return choose(if_true if conditions[name] else if_false, conditions)
    chosen_items = {k: choose(v, conditions) for k, v in node.items()}
    return {k: v for k, v in chosen_items.items() if v != NO_VALUE}


def walk(node: Any) -> list[Any]:
    """Every dict and list inside node, node first (for searching a resource's properties)."""
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(walk(child))
    return found


def policy_statements(rendered: Rendered) -> list[tuple[str, Json]]:
    """(logical id, statement) for every IAM statement in inline and managed role policies."""
    statements = []
    for logical_id, resource in rendered.resources.items():
        if resource["Type"] not in (
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
        ):
            continue
        props = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        documents += [props["PolicyDocument"]] if "PolicyDocument" in props else []
        for document in documents:
            statements += [(logical_id, s) for s in document["Statement"]]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
