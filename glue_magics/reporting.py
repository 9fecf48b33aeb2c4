"""What the session manager reports through, and the words it reports in.

Below ``sessions`` and everything it drives (``starting``, ``connect``, ``logs``), so they
share these without importing ``sessions`` back: the :class:`Reporter` protocol and its
bars (``progress.Reporter`` draws them; :class:`Quiet` shows nothing), :class:`Shown` (an
error already shown), and what is shown of a session: durations, times, its cost spent,
``%glue_status``'s rows.
"""

from __future__ import annotations

from typing import Any, Protocol

from glue_magics.cost import Cost
from glue_magics.steps import NextStep


class SessionBar(Protocol):
    """One wait for a session to be READY, as the user sees it."""

    def update(self, status: str, progress: float, elapsed: float) -> None: ...
    def succeed(self, elapsed: float, message: str = "") -> None: ...
    def fail(self, status: str, message: str, *steps: NextStep) -> None: ...


class BackgroundBar(SessionBar, Protocol):
    """A wait for READY that goes on in a thread while other cells run: drawn only in its
    own place (whatever a thread prints lands in the cell running then)."""

    def cancel(self, message: str) -> None: ...
    def joined(self) -> None: ...  # a cell waits for it now, with a bar of its own


class StatementBar(Protocol):
    """One running statement, as the user sees it (``progress`` is 0-1)."""

    def update(self, state: str, progress: float, elapsed: float) -> None: ...
    def done(self, state: str, elapsed: float) -> None: ...


class Reporter(Protocol):
    """Where the manager's progress and messages go; ``progress.Reporter`` draws them.

    ``steps`` are what the user can do next (alternatives), for the display to word.
    A ``KeyboardInterrupt`` raised from an ``update`` is a Ctrl-C during that wait.
    """

    def info(self, message: str, *steps: NextStep) -> None: ...
    def error(self, message: str, *steps: NextStep) -> None: ...
    def session(self, session_id: str) -> SessionBar: ...
    def statement(self, statement_id: int) -> StatementBar: ...
    def background(self, session_id: str) -> BackgroundBar: ...


class Quiet:
    """A reporter that shows nothing (scripts, tests): every call is a no-op."""

    def info(self, message: str, *steps: NextStep) -> None:
        pass

    def error(self, message: str, *steps: NextStep) -> None:
        pass

    def session(self, session_id: str) -> Quiet:
        return self

    def statement(self, statement_id: int) -> Quiet:
        return self

    def background(self, session_id: str) -> Quiet:
        return self

    def cancel(self, message: str) -> None:
        pass

    def joined(self) -> None:
        pass

    def update(self, status: str, progress: float, elapsed: float) -> None:
        pass

    def succeed(self, elapsed: float, message: str = "") -> None:
        pass

    def fail(self, status: str, message: str, *steps: NextStep) -> None:
        pass

    def done(self, state: str, elapsed: float) -> None:
        pass


class Shown(Exception):
    """An error the display has already shown in one line: the cell fails, nothing more is printed.

    IPython renders ``_render_traceback_`` instead of a traceback; an empty one prints nothing,
    while the execute reply still says "error", so "Run all" stops here.
    """

    def _render_traceback_(self) -> list[str]:
        return []


def spent_after(client: Any, session_id: str, price: float) -> str:
    """ ", after 12 min: 3600 DPU-seconds, about $0.44" once the service has the figures."""
    from glue_magics import lifecycle
    from glue_magics.service import GlueError

    try:
        session = lifecycle.get_session(client, session_id)
    except GlueError:
        return ""
    return spent_text(session, price)


def spent_text(session: dict, price: float) -> str:
    """ ", after 12 min: 3600 DPU-seconds, about $0.44" from a session's figures, or ""."""
    spent = Cost.of_session(session, price).spent()
    if not spent:
        return ""
    ran = session.get("ExecutionTime")
    took = f" after {duration(ran)}" if ran else ""
    return f"{took}: {spent}"


def duration(seconds: float) -> str:
    """350 ms, 12.5 s, 14 min, 3 h 05 min: a running time as people say it."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def when(value: Any) -> str:
    """A timestamp as ``2025-01-31 12:00:00`` (or as given, when it is not a datetime)."""
    if value is None or value == "":
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def status_rows(
    session: dict, price: float, budget: tuple[str, Any] | None = None
) -> list[tuple[str, Any]]:
    """What ``%glue_status`` shows: the facts, the cost so far from DPUSeconds, and the
    ``budget`` row (``Budget.row``) when there is a budget."""
    created = session.get("CreatedOn")
    cost = Cost.of_session(session, price)  # estimated until the service fills DPUSeconds
    elapsed = f"{cost.elapsed:.0f} s" if cost.elapsed is not None else ""
    command = session.get("Command") or {}

    def unit(key: str, suffix: str) -> str:
        value = session.get(key)
        return f"{value:g}{suffix}" if isinstance(value, int | float) else ""

    status = session.get("Status")
    if status == "BUSY":  # a live session that is running a statement: it takes code
        status = "BUSY (live: running a statement)"
    rows = [
        ("Id", session.get("Id")),
        ("Status", status),
        ("Progress", unit("Progress", "%")),
        ("Type", command.get("Name")),
        ("Glue version", session.get("GlueVersion")),
        ("Worker type", session.get("WorkerType")),
        ("Workers", session.get("NumberOfWorkers")),
        ("Max capacity (DPU)", session.get("MaxCapacity")),
        ("Idle timeout", unit("IdleTimeout", " min")),
        ("Created", when(created)),
        ("Elapsed", elapsed),
        ("Execution time", unit("ExecutionTime", " s")),
        ("DPU seconds", session.get("DPUSeconds")),
        ("Cost so far", cost.so_far_text()),
        budget or ("Budget", None),
        ("Error", session.get("ErrorMessage")),
    ]
    return [(name, value) for name, value in rows if value not in (None, "")]  # only what is known
