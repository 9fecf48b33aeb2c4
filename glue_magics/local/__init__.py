"""The embedded local Glue endpoint: Glue's wire protocol on loopback, Python workers.

``from glue_magics.local import LocalEndpoint, Faults``.  The names load on first use,
so the worker processes (``python -m glue_magics.local.worker``) start without the server.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glue_magics.local.faults import Faults
    from glue_magics.local.server import LocalEndpoint

__all__ = ["Faults", "LocalEndpoint"]


@functools.cache
def _local_endpoint_class() -> type:
    """``server.LocalEndpoint`` plus the results-bucket settings of the engine.

    A subclass only because server.py is not ours to edit; once ``server.LocalEndpoint``
    passes these three keywords to ``Engine`` itself, this can return it unchanged.
    """
    from glue_magics.local import engine, server

    class LocalEndpoint(server.LocalEndpoint):
        __doc__ = (server.LocalEndpoint.__doc__ or "") + (
            "\n\n    ``results_bucket``: rich results whose Result is over "
            "``result_inline_limit`` bytes\n    are uploaded to "
            "``s3://<bucket>/glue-magics/<session>/<statement>.<ext>`` (PutObject to\n"
            "    ``s3_endpoint_url``, or the S3 botocore finds) and Result is that URI, "
            "as Glue does.\n"
        )

        def __init__(
            self,
            *args: Any,
            results_bucket: str | None = None,
            s3_endpoint_url: str | None = None,
            result_inline_limit: int = engine.DEFAULT_RESULT_INLINE_LIMIT,
            **kwargs: Any,
        ) -> None:
            store = None
            if results_bucket:  # validated before the engine starts its threads
                store = engine.ResultStore(
                    results_bucket,
                    s3_endpoint_url,
                    result_inline_limit,
                    kwargs.get("region", "us-east-1"),
                )
            super().__init__(*args, **kwargs)
            self.engine.results = store

        @property
        def results_bucket(self) -> str | None:
            """The bucket big results go to, or None when every result is inline."""
            store = self.engine.results
            return store.bucket if store is not None else None

    LocalEndpoint.__module__ = __name__
    LocalEndpoint.__qualname__ = "LocalEndpoint"
    return LocalEndpoint


def __getattr__(name: str) -> Any:
    if name == "LocalEndpoint":
        return _local_endpoint_class()
    if name == "Faults":
        from glue_magics.local.faults import Faults

        return Faults
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
