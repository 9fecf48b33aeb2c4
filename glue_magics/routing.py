"""Where a plain cell runs: in the Glue session (the kernel's transformer) or here.

Its own light module (no IPython import): the kernel installs :func:`route_to_session`, and
the magics run a Spark Connect session's cells here with :func:`cells_stay_local`, without
importing the kernel (and ipykernel) under ``%load_ext``.

A cell is read as AWS's Glue kernel reads it (aws-glue-sessions 1.0.9,
``BaseKernel._execute_magics``): its leading lines that are line magics (``%``), shell
escapes (``!``), comments or blank run here, one after another; then either a cell magic
line (``%%configure``, ``%%sql``, ``%%tags``, ...), which takes everything from that line
on as its body, or code, which runs in the session.  AWS's notebooks put the session's
settings and a ``%%configure`` block in one cell, in that order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NamedTuple

__all__ = ["Split", "cells_stay_local", "route_to_session", "split_cell"]


class Split(NamedTuple):
    """A cell cut the way AWS's kernel cuts it.

    ``head``: the leading line magics, shell escapes, comments and blank lines, as given;
    ``magic``/``args``: the cell magic that follows them (``None`` when there is none);
    ``body``: that cell magic's body, or else the code after the head.
    """

    head: list[str]
    magic: str | None
    args: str
    body: str


def _is_head(line: str) -> bool:
    text = line.lstrip()
    return not text.strip() or (text.startswith(("%", "#", "!")) and not text.startswith("%%"))


def split_cell(lines: list[str]) -> Split:
    """Cut a cell (lines with their newlines, as IPython's transformers get them)."""
    i = 0
    while i < len(lines) and _is_head(lines[i]):
        i += 1
    head, rest = lines[:i], lines[i:]
    if rest and rest[0].lstrip().startswith("%%"):
        name, _, args = rest[0].strip()[2:].partition(" ")
        return Split(head, name, args.strip(), "".join(rest[1:]))
    return Split(head, None, "", "".join(rest))


def route_to_session(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: a plain cell's code goes to ``%%glue``; line magics
    before a cell magic run here, then the cell magic gets the rest as its body.

    A cell that starts with its cell magic is left to IPython.
    """
    split = split_cell(lines)
    if split.magic is not None:
        if not split.head:
            return lines
        call = f"get_ipython().run_cell_magic({split.magic!r}, {split.args!r}, {split.body!r})\n"
        return [*split.head, call]
    if not split.body.strip():
        return lines
    return [*split.head, f"get_ipython().run_cell_magic('glue', '', {split.body!r})\n"]


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
