"""The embedded local Glue endpoint: Glue's wire protocol on loopback, Python workers.

``from glue_magics.local import LocalEndpoint, Faults``.  The names load on first use,
so the worker processes (``python -m glue_magics.local.worker``) start without the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glue_magics.local.faults import Faults
    from glue_magics.local.server import LocalEndpoint

__all__ = ["Faults", "LocalEndpoint"]


def __getattr__(name: str) -> Any:
    if name == "LocalEndpoint":
        from glue_magics.local.server import LocalEndpoint

        return LocalEndpoint
    if name == "Faults":
        from glue_magics.local.faults import Faults

        return Faults
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
