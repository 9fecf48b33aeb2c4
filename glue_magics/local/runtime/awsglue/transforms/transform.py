"""``GlueTransform``: the base of AWS's transform classes (``X.apply(...)`` calls
``X()(...)``), as the "GlueTransform base class" page describes."""

from __future__ import annotations

from typing import Any

from awsglue.errors import NotCoveredError


class GlueTransform:
    """A transform: ``apply`` builds one and calls it."""

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def describeArgs(cls) -> list[dict[str, Any]]:  # noqa: N802 - AWS's name
        return []

    @classmethod
    def describeReturn(cls) -> dict[str, str]:  # noqa: N802
        return {"type": "DynamicFrame"}

    @classmethod
    def describeTransform(cls) -> str:  # noqa: N802
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def describeErrors(cls) -> list[dict[str, str]]:  # noqa: N802
        return []

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "transform": {"name": cls.name(), "description": cls.describeTransform()},
            "args": cls.describeArgs(),
            "returns": cls.describeReturn(),
            "raises": cls.describeErrors(),
        }


class NotCoveredTransform(GlueTransform):
    """An AWS transform local sessions do not have: using it is one line naming it."""

    instead = ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotCoveredError(type(self).__name__, self.instead)
