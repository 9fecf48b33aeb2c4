"""Where a plain cell runs: in the Glue session (the kernel's transformer) or here.

Its own light module (no IPython import): the kernel installs :func:`route_to_session`, and
the magics run a Spark Connect session's cells here with :func:`cells_stay_local`, without
importing the kernel (and ipykernel) under ``%load_ext``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["cells_stay_local", "route_to_session"]


def route_to_session(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: send a plain cell to ``%%glue``.

    Leading ``%`` lines (option magics) stay local and run first; a cell that starts
    with a cell magic is left alone.
    """
    head: list[str] = []
    rest = list(lines)
    while rest and (not rest[0].strip() or rest[0].lstrip().startswith(("%", "#"))):
        if rest[0].lstrip().startswith("%%"):
            return lines
        head.append(rest.pop(0))
    code = "".join(rest)
    if not code.strip():
        return lines
    return [*head, f"get_ipython().run_cell_magic('glue', '', {code!r})\n"]


@contextlib.contextmanager
def cells_stay_local(shell: Any) -> Iterator[None]:
    """Plain cells run in this kernel, not in the session, while this lasts."""
    transformers = shell.input_transformers_cleanup
    routed = route_to_session in transformers
    if routed:
        transformers.remove(route_to_session)
    try:
        yield
    finally:
        if routed:
            transformers.append(route_to_session)
