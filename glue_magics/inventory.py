"""The sessions in a region, as ``glue-magics sessions`` and ``%glue_sessions`` show them.

Both list every page of ListSessions (with ``mine``, only the sessions glue-magics made for
this user on this host, by the tags of :mod:`glue_magics.tags`), and show each with its age,
idle time, DPU-seconds and cost (:class:`~glue_magics.cost.Cost`).  Here too: which sessions
``glue-magics sessions stop`` picks (``--idle-over``, ``--mine``), durations as people type
them (``30m``, ``2h``, ``1h30m``), and the session ``%glue_reconnect --last`` attaches to.

Idle time is not a field of Glue's ``Session`` (botocore's model): it is the time since the
session's last statement ended (its ListStatements ``CompletedOn``), or since the session
was created when none has run; 0 while one runs.  No IPython here, and boto3 comes only
with the client a caller passes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from glue_magics.cost import DPU_HOUR_PRICE, Cost
from glue_magics.states import LIVE_STATES
from glue_magics.steps import Action, NextStep

#: Sessions that may still cost: what ``--mine``, ``--idle-over`` and ``--last`` look at.
RUNNING_STATES = LIVE_STATES | {"PROVISIONING"}
_STATEMENT_RUNNING = frozenset({"WAITING", "RUNNING", "CANCELLING"})

# --------------------------------------------------------------------------- durations

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_PART = r"(\d+(?:\.\d+)?)([dhms])"  # compiled at first use (re caches it), not at import
DURATION_HELP = "a number and a unit: 90s, 30m, 2h, 1d or 1h30m"


def parse_duration(text: str) -> float:
    """Seconds in ``30m``, ``2h``, ``90s``, ``1d``, ``1h30m`` or ``1.5h``; anything else is a
    ``ValueError`` whose one line names the value and the fix."""
    compact = str(text).strip().lower().replace(" ", "")
    parts = re.findall(_PART, compact)
    units = [unit for _, unit in parts]
    in_order = units == sorted(units, key=list(_UNITS).index) and len(set(units)) == len(units)
    if not parts or "".join(n + u for n, u in parts) != compact or not in_order:
        raise ValueError(f"{text!r} is not a duration; give {DURATION_HELP}")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def format_duration(seconds: float) -> str:
    """``1h30m``, ``45s``, ``2d3h``: a duration in the form :func:`parse_duration` reads."""
    left = max(0, round(seconds))
    parts = []
    for unit, size in _UNITS.items():
        count, left = divmod(left, int(size))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


# --------------------------------------------------------------------------- one session


def _epoch(value: Any) -> float | None:
    """A session timestamp (a datetime from botocore, or epoch seconds) as epoch seconds."""
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Listed:
    """One session as listed: the ListSessions entry, its idle time (None when not live or
    not known), and its cost at the price given, as of ``now`` (epoch seconds).  A plain
    class: ``%load_ext`` imports this module, and a dataclass costs it a millisecond."""

    __slots__ = ("session", "idle", "cost", "now")

    def __init__(self, session: Mapping[str, Any], idle: float | None, cost: Cost, now: float):
        self.session, self.idle, self.cost, self.now = session, idle, cost, now

    @property
    def id(self) -> str:
        return str(self.session.get("Id", ""))

    @property
    def status(self) -> str:
        return str(self.session.get("Status", ""))

    @property
    def created(self) -> float | None:
        return _epoch(self.session.get("CreatedOn"))

    @property
    def age(self) -> float | None:
        created = self.created
        return None if created is None else max(0.0, self.now - created)

    def capacity(self) -> str:
        """ "5 x G.1X" or "10 DPU"."""
        workers, kind = self.session.get("NumberOfWorkers"), self.session.get("WorkerType")
        if workers and kind:
            return f"{workers} x {kind}"
        return f"{self.cost.dpus:g} DPU" if self.cost.dpus is not None else ""

    def row(self) -> dict[str, Any]:
        """The table row: words."""
        from glue_magics.reporting import duration, when

        return {
            "Id": self.id,
            "Status": self.status,
            "Created": when(self.session.get("CreatedOn")),
            "Age": duration(self.age) if self.age is not None else "",
            "Idle": duration(self.idle) if self.idle is not None else "",
            "Capacity": self.capacity(),
            "DPU-seconds": self.cost.dpu_seconds_text(),
            "Cost": self.cost.brief(),
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON object: numbers (seconds, USD), ``null`` where not known."""
        created = self.created
        so_far = self.cost.so_far
        return {
            "Id": self.id,
            "Status": self.status,
            "CreatedOn": (
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)) if created else None
            ),
            "AgeSeconds": _rounded(self.age),
            "IdleSeconds": _rounded(self.idle),
            "WorkerType": self.session.get("WorkerType"),
            "NumberOfWorkers": self.session.get("NumberOfWorkers"),
            "DPUs": self.cost.dpus,
            "DPUSeconds": _rounded(self.cost.used_dpu_seconds),
            "CostUSD": None if so_far is None else round(so_far, 6),
            "Estimated": self.cost.dpu_seconds is None,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def idle_seconds(client: Any, session: Mapping[str, Any], now: float) -> float | None:
    """Seconds since a live session's last statement ended (since its creation if none ran,
    0 while one runs); None for a session that is not live, or statements not listed."""
    from glue_magics import lifecycle
    from glue_magics.service import GlueError

    if session.get("Status") not in LIVE_STATES:
        return None
    try:
        statements = lifecycle.list_statements(client, str(session.get("Id", "")))
    except GlueError:
        return None
    if any(s.get("State") in _STATEMENT_RUNNING for s in statements):
        return 0.0
    ends = [lifecycle.statement_time(s.get("CompletedOn")) for s in statements]
    last = max((end for end in ends if end is not None), default=_epoch(session.get("CreatedOn")))
    return None if last is None else max(0.0, now - last)


# --------------------------------------------------------------------------- listings


def listing(
    client: Any, *, mine: bool = False, price: float = DPU_HOUR_PRICE, now: float | None = None
) -> list[Listed]:
    """Every session in the client's region (``mine``: ours, by tag), newest first."""
    from glue_magics import lifecycle, tags

    now = time.time() if now is None else now
    sessions = lifecycle.list_sessions(client, tags=tags.mine() if mine else None)
    listed = [
        Listed(
            session, idle_seconds(client, session, now), Cost.of_session(session, price, now), now
        )
        for session in sessions
    ]
    return sorted(listed, key=lambda item: -(item.created or 0.0))


def to_stop(listed: Iterable[Listed], idle_over: float | None = None) -> list[Listed]:
    """The sessions that may still cost (PROVISIONING, READY, BUSY), those idle at least
    ``idle_over`` seconds when given (a session whose idle time is not known is left)."""
    return [
        item
        for item in listed
        if item.status in RUNNING_STATES
        and (idle_over is None or (item.idle is not None and item.idle >= idle_over))
    ]


def magic_table(manager: Any, line: str = "") -> tuple[list[dict[str, Any]], str]:
    """``%glue_sessions [--mine]``: its rows (the current session and those created here
    marked) and title; any other word is a one-line error."""
    mine = _flag(line, "--mine", "the only flag is --mine")
    listed = listing(manager.client(), mine=mine, price=manager.settings.dpu_hour_price)
    rows = []
    for item in listed:
        here = "current" if item.id == manager.session_id else ""
        rows.append(
            {**item.row(), "Here": here or ("created here" if item.id in manager.created else "")}
        )
    whose = " of yours (by tag)" if mine else ""
    return rows, f"{len(rows)} Glue session(s){whose}"


# --------------------------------------------------------------------------- --last


def last_live(client: Any, *filters: Mapping[str, str] | None) -> str | None:
    """The newest session that may still cost among those carrying each filter's tags, the
    first filter that finds one winning; None when none does."""
    from glue_magics import lifecycle

    for tags_wanted in filters:
        if not tags_wanted:
            continue
        found = [
            s
            for s in lifecycle.list_sessions(client, tags=dict(tags_wanted))
            if s.get("Status") in RUNNING_STATES
        ]
        if found:
            return str(max(found, key=lambda s: _epoch(s.get("CreatedOn")) or 0.0)["Id"])
    return None


def reconnect_target(manager: Any, line: str) -> str:
    """The id ``%glue_reconnect`` attaches to: the one given, or with ``--last`` this
    notebook's newest live session (else this user's on this host), found by tag."""
    from glue_magics import tags
    from glue_magics.arguments import line_value

    if line.strip() != "--last":
        return line_value(line)
    found = last_live(manager.client(), tags.this_notebook(), tags.mine())
    if found is None:
        from glue_magics.service import GlueError

        raise GlueError(
            "no live session of this notebook, or of this user on this host, carries "
            "glue-magics' tags",
            "NoSessionFound",
            next_steps=(NextStep(Action.LIST), NextStep(Action.CREATE)),
        )
    return found


def _flag(line: str, flag: str, usage: str) -> bool:
    """Whether ``line`` is ``flag`` (True) or empty (False); else a one-line error."""
    words = line.split()
    if words and words != [flag]:
        from glue_magics.service import GlueError

        raise GlueError(f"{' '.join(words)!r} is not understood; {usage}", "UsageError")
    return bool(words)
