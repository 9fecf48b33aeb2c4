"""A spending limit for the current session: a warning at 80 %, then no more statements
(or a stop).

``%config GlueMagics.budget_usd = 10`` (else the ``GLUE_BUDGET_USD`` environment variable)
caps what one session may cost.  Before each statement the session manager asks
:meth:`Budget.check`.  The cost so far is :class:`~glue_magics.cost.Cost`'s: ``DPUSeconds``
where the service gives it, else the time since ``CreatedOn`` x the session's DPUs, at
``dpu_hour_price``.  The first time it reaches 80 % of the budget a warning says so; from
100 % on each statement is refused with one line saying how to raise the budget, or, with
``budget_action = "stop"``, the session is stopped.

A cell pays no GetSession for this while the session is far from its budget: the session's
``CreatedOn`` and capacity are read once, and elapsed x DPUs is the most it can have cost
(the model's formula for ``DPUSeconds`` is ExecutionTime x MaxCapacity), so the service is
asked for its own figure only once that bound reaches 80 %.  No IPython here.
"""

from __future__ import annotations

import os
from typing import Any

from glue_magics.cost import Cost
from glue_magics.states import DEAD_STATES
from glue_magics.steps import Action, NextStep

#: The share of the budget at which the user is warned (once a session).
WARN_AT = 0.8
ENV = "GLUE_BUDGET_USD"
OK, WARN, OVER = "ok", "warn", "over"


def verdict(cost: float | None, limit: float, warned: bool) -> str:
    """:data:`OVER` from 100 % of ``limit`` on, :data:`WARN` the first time at 80 % (not yet
    ``warned``), else :data:`OK` (an unknown cost too: nothing to hold against it)."""
    if cost is None:
        return OK
    if cost >= limit:
        return OVER
    return WARN if cost >= WARN_AT * limit and not warned else OK


def limit_of(setting: float, environ: Any = None) -> float | None:
    """The budget in USD: the setting when above 0, else ``GLUE_BUDGET_USD``; None for none.

    A value that is not a non-negative number is a one-line ``GlueError`` with the fix.
    """
    from glue_magics.service import GlueError

    if setting < 0 or setting != setting:  # negative, or NaN
        raise GlueError(
            f"budget_usd {setting!r} is not a sum of USD; give e.g. 10 (0: no budget)",
            "InvalidBudget",
        )
    if setting > 0:
        return float(setting)
    text = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise GlueError(
            f"{ENV} {text!r} is not a sum of USD; give e.g. {ENV}=10 (0 or empty: no budget)",
            "InvalidBudget",
        )
    return value or None


class Budget:
    """The budget of a session manager's sessions: asked before each statement (``check``)
    and shown by ``%glue_status`` (``row``)."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager  # sessions.SessionManager: settings, reporter, clients, stop
        self.warned: set[str] = set()
        self._seen: dict[str, dict] = {}  # session id -> its last GetSession reply

    def limit(self) -> float | None:
        """USD, or None for no budget (``budget_usd``, else ``GLUE_BUDGET_USD``)."""
        return limit_of(self.manager.settings.budget_usd)

    def check(self, session_id: str) -> None:
        """Before a statement: warn once at 80 %; from 100 % refuse it (a one-line
        ``GlueError``), having stopped the session when ``budget_action`` is "stop"."""
        limit = self.limit()
        if limit is None:
            return
        price = self.manager.settings.dpu_hour_price
        seen = self._seen.get(session_id)
        most = None if seen is None else _most(seen, price)
        if most is None or most >= WARN_AT * limit:  # near, or not known: ask the service
            from glue_magics import lifecycle

            client = self.manager.client_for(session_id)
            seen = self._seen[session_id] = lifecycle.get_session(client, session_id)
        if seen.get("Status") in DEAD_STATES:
            return  # ended: the statement call says so, and auto_restart may replace it
        cost = Cost.of_session(seen, price)
        state = verdict(cost.so_far, limit, session_id in self.warned)
        if state == WARN:
            self.warned.add(session_id)
            action = self.manager.settings.budget_action
            then = "it is stopped" if action == "stop" else "its statements are refused"
            self.manager.reporter.error(
                f"Budget: session {session_id} has cost {cost.of_budget(limit)}; at 100% {then}.",
                NextStep(Action.BUDGET),
            )
        elif state == OVER:
            self._over(session_id, cost, limit)

    def _over(self, session_id: str, cost: Cost, limit: float) -> None:
        from glue_magics.service import GlueError

        spent = f"session {session_id} has cost {cost.of_budget(limit)}, over its budget"
        if self.manager.settings.budget_action == "stop":
            self.manager.stop(session_id)
            raise GlueError(
                f"{spent}: stopped (budget_action 'stop')",
                "BudgetExceeded",
                next_steps=(NextStep(Action.BUDGET), NextStep(Action.CREATE)),
            )
        raise GlueError(
            f"{spent}: the statement was not run",
            "BudgetExceeded",
            next_steps=(NextStep(Action.BUDGET), NextStep(Action.STOP, session_id)),
        )

    def row(self, session: dict) -> tuple[str, str] | None:
        """``%glue_status``'s budget row for a ``GetSession`` reply, when there is a budget."""
        limit = self.limit()
        if limit is None:
            return None
        cost = Cost.of_session(session, self.manager.settings.dpu_hour_price)
        stop = self.manager.settings.budget_action == "stop"
        then = "the session is stopped" if stop else "statements are refused"
        return ("Budget", f"{cost.of_budget(limit)}; at 100% {then}")


def _most(session: dict, price: float) -> float | None:
    """The most a session can have cost by now: elapsed x DPUs (no measured DPUSeconds,
    which would be stale), or None when its capacity or creation time is not known."""
    unmeasured = {key: value for key, value in session.items() if key != "DPUSeconds"}
    return Cost.of_session(unmeasured, price).so_far
