"""The embedded local Glue endpoint: Glue's wire protocol on loopback, Python workers.

``from glue_magics.local import LocalEndpoint, EndpointSettings, Faults``.  The names load
on first use, so the worker processes (``python -m glue_magics.local.worker``) start
without the server.  The layers, each knowing only the ones below it: ``server`` (HTTP)
-> ``responses`` (validate, unpack, render) -> ``logs`` (the system logs' expiring links)
-> ``backend`` (sessions and statements, ``models``; Spark Connect sessions' certificates
and tokens in ``spark_connect``) -> ``workers`` (one process per session, running
``worker``, or ``connect_proxy`` for a Spark Connect session; its output the session's
log) and ``result_store`` (large outputs in S3, shaped by ``outputs``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glue_magics.local.faults import Faults
    from glue_magics.local.server import LocalEndpoint
    from glue_magics.local.settings import EndpointSettings

__all__ = ["EndpointSettings", "Faults", "LocalEndpoint"]
_HOMES = {"EndpointSettings": "settings", "Faults": "faults", "LocalEndpoint": "server"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
