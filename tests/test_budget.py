"""The budget (budget.py): a warning once at 80 % of the current session's cost so far, then
at 100 % no more statements (one line saying how to raise it) or, with ``budget_action =
"stop"``, the session stopped.  Through SessionManager and through the magics in a real
kernel, on the local endpoint, with ``dpu_hour_price`` set so the budget is reached now.

The cost so far is elapsed x DPUs until the service measures ``DPUSeconds`` (cost.py), so it
grows while a test runs.  A price is set for 81 % of the budget only once the session is 3 s
old, right before the statement (in the kernel, in the same cell): the cost then stays under
100 % for another 0.7 s, hundreds of times what the check takes.
"""

from __future__ import annotations

import math
import re
import time

import pytest
from helpers import ROLE
from hypothesis import given
from hypothesis import strategies as st

from glue_magics import display
from glue_magics.budget import OK, OVER, WARN, limit_of, verdict
from glue_magics.service import GlueError
from glue_magics.sessions import Quiet, SessionManager, Settings
from tests.kernels import Kernel, kernel_env

AGE = 3.0  # seconds a session is let run before a price is set for a share of its budget


def price_for(share: float, budget: float, created: float, dpus: float) -> float:
    """The USD per DPU-hour at which a session created at ``created`` has now cost ``share``
    of ``budget`` (elapsed x DPUs, as cost.py estimates it)."""
    return share * budget * 3600 / (dpus * (time.time() - created))


def old_enough(created: float) -> None:
    while time.time() - created < AGE:
        time.sleep(0.05)


# --------------------------------------------------------------------------- pure


money = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@given(st.none() | money, money.filter(lambda x: x > 0), st.booleans())
def test_the_verdict(cost, limit, warned):
    result = verdict(cost, limit, warned)
    if cost is None or cost < 0.8 * limit:
        assert result == OK
    elif cost >= limit:
        assert result == OVER
    else:
        assert result == (OK if warned else WARN)


@given(st.text(max_size=20))
def test_glue_budget_usd_is_a_sum_or_one_line_with_the_fix(text):
    try:
        value = limit_of(0.0, {"GLUE_BUDGET_USD": text})
    except GlueError as exc:
        assert "\n" not in str(exc) and "GLUE_BUDGET_USD" in str(exc) and "=10" in str(exc)
    else:
        assert value is None or (value > 0 and math.isfinite(value))


def test_where_the_budget_comes_from():
    assert limit_of(0.0, {}) is None and limit_of(0.0, {"GLUE_BUDGET_USD": " "}) is None
    assert limit_of(0.0, {"GLUE_BUDGET_USD": "12.5"}) == 12.5
    assert limit_of(3.0, {"GLUE_BUDGET_USD": "12.5"}) == 3.0  # %config wins
    assert limit_of(0.0, {"GLUE_BUDGET_USD": "0"}) is None
    with pytest.raises(GlueError, match=r"budget_usd -1\.0 is not a sum of USD; give e\.g\."):
        limit_of(-1.0, {})
    with pytest.raises(GlueError, match="GLUE_BUDGET_USD 'ten' is not a sum of USD"):
        limit_of(0.0, {"GLUE_BUDGET_USD": "ten"})


# --------------------------------------------------------------------------- SessionManager


class Lines(Quiet):
    """A reporter that keeps its lines, worded as the display words them."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str, *steps) -> None:
        self.lines.append(("info", display.said(message, steps)))

    def error(self, message: str, *steps) -> None:
        self.lines.append(("error", display.said(message, steps)))

    def budget_lines(self) -> list[str]:
        return [line for _, line in self.lines if "budget" in line]


@pytest.fixture
def ep(fresh_endpoint):
    return fresh_endpoint(provision_seconds=0.05, stop_seconds=0.05)


def test_budget_warns_once_then_refuses_then_stops(ep, glue_client):
    reporter = Lines()
    options = {"role": ROLE, "endpoint_url": ep.url, "number_of_workers": 2}
    settings = Settings(config_options=options, budget_usd=1.0, dpu_hour_price=1e-9)
    manager = SessionManager(settings, reporter)
    try:
        session_id = manager.create(manager.resolve())
        glue = glue_client(ep)
        created = glue.get_session(Id=session_id)["Session"]["CreatedOn"].timestamp()
        looks = ep.calls["GetSession"]
        for code in ("1", "2", "3"):
            assert not manager.run(code).failed
        assert ep.calls["GetSession"] == looks + 1  # far from the budget: read once, then not
        assert reporter.budget_lines() == []

        old_enough(created)
        settings.dpu_hour_price = price_for(0.81, 1.0, created, dpus=2)
        assert "near" in manager.run("print('near')").output.stdout
        [warning] = reporter.budget_lines()
        assert re.fullmatch(
            rf"Budget: session {session_id} has cost ~\$0\.8\d of \$1\.00 \(8\d%\); at "
            r"100% its statements are refused\. Raise the budget with %config "
            r"GlueMagics\.budget_usd = <USD>\.",
            warning,
        ), warning
        settings.dpu_hour_price = price_for(0.9, 1.0, created, dpus=2)
        manager.run("1")
        assert len(reporter.budget_lines()) == 1  # once a session

        settings.dpu_hour_price = 1e6
        ran = ep.calls["RunStatement"]
        with pytest.raises(GlueError) as info:
            manager.run("print('over')")
        line = display.explain(info.value)
        assert info.value.code == "BudgetExceeded" and "\n" not in line
        assert f"session {session_id} has cost ~$" in line and "over its budget" in line
        assert line.endswith(
            "the statement was not run; raise the budget with %config GlueMagics.budget_usd = "
            f"<USD> or stop it with %glue_stop {session_id}"
        )
        assert ep.calls["RunStatement"] == ran and manager.session_id == session_id

        settings.budget_usd = 1e12  # raised: it runs again
        assert not manager.run("1").failed
        settings.budget_usd, settings.budget_action = 1.0, "stop"
        with pytest.raises(GlueError, match=r"over its budget: stopped \(budget_action 'stop'\)"):
            manager.run("1")
        assert manager.session_id is None and session_id not in manager.created
        assert glue.get_session(Id=session_id)["Session"]["Status"] in ("STOPPING", "STOPPED")
        assert any(line.startswith(f"Session {session_id} STOPP") for _, line in reporter.lines)
    finally:
        manager.close()


def test_glue_budget_usd_sets_it_and_no_budget_costs_no_call(ep, monkeypatch):
    options = {"role": ROLE, "endpoint_url": ep.url}
    manager = SessionManager(Settings(config_options=options), Lines())
    try:
        manager.create(manager.resolve())
        looks = ep.calls["GetSession"]
        manager.run("1")
        assert ep.calls["GetSession"] == looks  # no budget: no GetSession per cell
        monkeypatch.setenv("GLUE_BUDGET_USD", "0.0000001")
        with pytest.raises(GlueError, match="over its budget"):
            manager.run("1")
        monkeypatch.setenv("GLUE_BUDGET_USD", "ten")
        with pytest.raises(GlueError, match="GLUE_BUDGET_USD 'ten' is not a sum of USD"):
            manager.run("1")
    finally:
        manager.close()


# --------------------------------------------------------------------------- a real kernel


def test_the_budget_in_a_notebook(ep, glue_client):
    glue = glue_client(ep)
    k = Kernel(kernel_env(ep.url))
    try:
        k.ok(
            "%load_ext glue_magics\n%config GlueMagics.budget_usd = 1\n"
            "%glue_session --workers 2 --id budget-1"
        )
        assert "budget" not in k.ok("%%glue\nprint('cheap')").stderr
        created = glue.get_session(Id="budget-1")["Session"]["CreatedOn"].timestamp()
        old_enough(created)
        near = k.ok(
            "import time\n"
            f"price = 0.81 * 3600 / (2 * (time.time() - {created!r}))\n"
            'get_ipython().run_line_magic("config", f"GlueMagics.dpu_hour_price = {price!r}")\n'
            "get_ipython().run_cell_magic('glue', '', \"print('near')\")"
        )
        assert "near" in near.stdout
        assert re.search(
            r"Budget: session budget-1 has cost ~\$0\.8\d of \$1\.00 \(8\d%\)", near.stderr
        )
        assert "Raise the budget with %config GlueMagics.budget_usd = <USD>." in near.stderr
        status = "\n".join(k.ok("%glue_status").data("text/plain"))
        assert re.search(r"Budget\s+~\$0\.\d\d of \$1\.00 \(\d+%\); at 100% statements are", status)

        over = k.execute("%config GlueMagics.dpu_hour_price = 1000000\n%glue print('over')")
        assert over.status == "error" and over.ename == "UsageError"
        assert "over its budget: the statement was not run; raise the budget with %config " in (
            over.evalue
        )
        assert "over" not in over.stdout and "Traceback" not in over.stderr + over.stdout

        k.ok("%config GlueMagics.budget_usd = 1e12")
        assert "again" in k.ok("%%glue\nprint('again')").stdout
        stopped = k.execute(
            '%config GlueMagics.budget_usd = 1\n%config GlueMagics.budget_action = "stop"\n'
            "%glue print('never')"
        )
        assert stopped.status == "error" and "stopped (budget_action 'stop')" in stopped.evalue
        assert "Session budget-1 STOPP" in stopped.stdout
        assert glue.get_session(Id="budget-1")["Session"]["Status"] in ("STOPPING", "STOPPED")
    finally:
        k.shutdown()
