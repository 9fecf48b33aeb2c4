"""``getResolvedOptions`` (AWS's "Accessing parameters using getResolvedOptions")."""

from __future__ import annotations

from collections.abc import Sequence

from awsglue._parsing import GlueArgumentError, resolve_options


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str]:  # noqa: N802
    """The values of ``options`` from ``args`` (``sys.argv``): each given as ``--NAME
    VALUE``; a missing one is one line naming it."""
    return resolve_options(args, options)


__all__ = ["GlueArgumentError", "getResolvedOptions"]
