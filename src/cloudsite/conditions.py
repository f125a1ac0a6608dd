"""The template's Conditions, evaluated for a set of parameters, so the cost estimate prices
only the resources the stack will really hold (CloudFormation's change sets already leave the
others out; emulators do not).

It knows the intrinsic functions conditions use (Ref, Join, Select, Split, Sub, FindInMap,
Equals, Not, And, Or, Condition). Anything else makes a condition unknown, and a resource
under an unknown condition is kept: the estimate errs on the side of cost.
"""

import re
from typing import Any

_LIST_TYPES = ("CommaDelimitedList", "List<")


class Unknown(Exception):
    pass


def active_resources(
    template: dict[str, Any], parameters: list[dict[str, str]], *, region: str
) -> set[str]:
    """Logical ids of the resources whose Condition holds (or cannot be decided)."""
    values = _parameter_values(template, parameters, region=region)
    conditions = template.get("Conditions", {})
    decided: dict[str, bool | None] = {}

    def holds(name: str) -> bool | None:
        if name not in decided:
            decided[name] = None  # guards against a cycle
            try:
                decided[name] = bool(evaluate(conditions[name], values, template, holds))
            except (Unknown, KeyError, IndexError, TypeError):
                decided[name] = None
        return decided[name]

    return {
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if "Condition" not in resource or holds(resource["Condition"]) is not False
    }


def _parameter_values(
    template: dict[str, Any], parameters: list[dict[str, str]], *, region: str
) -> dict[str, Any]:
    given = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    values: dict[str, Any] = {"AWS::Region": region}
    for name, spec in template.get("Parameters", {}).items():
        raw = given.get(name, spec.get("Default", ""))
        text = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw)
        is_list = any(marker in str(spec.get("Type", "")) for marker in _LIST_TYPES)
        values[name] = text.split(",") if is_list else text
    return values


def evaluate(node: Any, values: dict[str, Any], template: dict[str, Any], holds: Any) -> Any:
    """The value of a condition expression for these parameter values; holds(name) decides a
    named Condition (None when it cannot be). Raises Unknown for what it cannot evaluate."""
    if not isinstance(node, dict):
        if isinstance(node, list):
            return [evaluate(item, values, template, holds) for item in node]
        return node
    [(name, arg)] = node.items() if len(node) == 1 else [("", None)]
    if name not in ("Ref", "Condition") and not name.startswith("Fn::"):
        return {key: evaluate(value, values, template, holds) for key, value in node.items()}
    if name == "Condition":
        result = holds(arg)
        if result is None:
            raise Unknown(arg)
        return result
    if name == "Ref":
        if arg not in values:
            raise Unknown(arg)
        return values[arg]
    args = evaluate(arg, values, template, holds)
    return _function(name, args, values, template)


def _function(name: str, args: Any, values: dict[str, Any], template: dict[str, Any]) -> Any:
    if name == "Fn::Equals":
        return str(args[0]) == str(args[1])
    if name == "Fn::Not":
        return not args[0]
    if name == "Fn::And":
        return all(args)
    if name == "Fn::Or":
        return any(args)
    if name == "Fn::Join":
        return str(args[0]).join(str(item) for item in args[1])
    if name == "Fn::Split":
        return str(args[1]).split(str(args[0]))
    if name == "Fn::Select":
        return args[1][int(args[0])]
    if name == "Fn::FindInMap":
        return template["Mappings"][args[0]][args[1]][args[2]]
    if name == "Fn::Sub":
        text, local = (args, {}) if isinstance(args, str) else (args[0], args[1])
        return re.sub(r"\$\{([^}!]+)\}", lambda m: _sub(m[1], local, values), text)
    raise Unknown(name)


def _sub(name: str, local: dict[str, Any], values: dict[str, Any]) -> str:
    if name in local:
        return str(local[name])
    if name in values and not isinstance(values[name], list):
        return str(values[name])
    raise Unknown(name)
