"""The errors this awsglue raises where it differs from AWS Glue: one line each."""

from __future__ import annotations

from awsglue._parsing import GlueArgumentError

__all__ = ["GlueArgumentError", "NotCoveredError", "uncovered"]


class NotCoveredError(NotImplementedError):
    """A documented awsglue method or option that local sessions do not have (yet)."""

    def __init__(self, name: str, instead: str = "") -> None:
        text = f"{name} is not available in glue-magics' local awsglue"
        super().__init__(f"{text}: {instead}" if instead else text)


def uncovered(owner: str, name: str, names: frozenset[str]) -> NotCoveredError | AttributeError:
    """The error for ``owner.name`` when the attribute is missing: NotCoveredError for a
    documented AWS name (``names``), a plain AttributeError for anything else (a typo)."""
    if name in names:
        return NotCoveredError(f"{owner}.{name}")
    return AttributeError(f"'{owner}' object has no attribute '{name}'")
