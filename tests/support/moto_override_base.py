"""What the overrides of moto's own models share (see moto_models)."""

from typing import Any

Json = dict[str, Any]


def become(resource: Any, cls: type) -> None:
    """Give one of moto's resource objects the extra behaviour of a subclass (same layout), so
    the backend keeps serving the very object the stack created."""
    resource.__class__ = cls


class Override:
    """Delegates registration and lifecycle to moto's model for the same type (BASE)."""

    BASE: Any = None

    @classmethod
    def cloudformation_type(cls) -> str:
        return str(cls.BASE.cloudformation_type())

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return str(cls.BASE.cloudformation_name_type())

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.BASE.create_from_cloudformation_json(*args, **kwargs)

    @classmethod
    def update_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.BASE.update_from_cloudformation_json(*args, **kwargs)

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
        cls.BASE.delete_from_cloudformation_json(*args, **kwargs)
