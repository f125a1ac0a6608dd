"""The shared shape of the models in moto_models and moto_pipeline_models (see moto_models)."""

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

Json = dict[str, Any]


class Model:
    """What every new model shares. Subclasses also list CloudFormationModel as a direct base,
    because moto finds models through CloudFormationModel.__subclasses__()."""

    TYPE = ""
    NAME_PROPERTY = ""

    def __init__(self, physical_id: str, **attributes: Any) -> None:
        self.physical_resource_id = physical_id
        self.attributes = attributes
        self.state: dict[str, Any] = {}  # what delete() needs to find the resource again

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, name: str) -> Any:
        if name in self.attributes:
            return self.attributes[name]
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the resource from its backend (stack deletion calls this)."""

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Json, account_id: str, region_name: str
    ) -> None:
        """Unused: moto calls the instance's delete() first."""


def camel(
    value: Any, *, keep: frozenset[str] = frozenset(), renames: dict[str, str] | None = None
) -> Any:
    """CloudFormation's PascalCase property tree as the JSON APIs' camelCase; the values under
    `keep` keys (free-form maps such as an action's Configuration) are left alone."""
    renames = renames or {}
    if isinstance(value, list):
        return [camel(v, keep=keep, renames=renames) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        name = renames.get(key, key[:1].lower() + key[1:])
        out[name] = item if key in keep else camel(item, keep=keep, renames=renames)
    return out


def tag_list(props: Json, *, lower: bool = False) -> list[dict[str, str]]:
    tags = props.get("Tags") or []
    if lower:
        return [{"key": t["Key"], "value": t["Value"]} for t in tags]
    return [{"Key": t["Key"], "Value": t["Value"]} for t in tags]


def drop_none(value: Any) -> Any:
    """What CloudFormation does with AWS::NoValue inside a list and moto does not: drop it."""
    if isinstance(value, list):
        return [drop_none(v) for v in value if v is not None]
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    return value
