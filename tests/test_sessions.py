"""SessionManager on the local endpoint: no kernel, no IPython, a reporter that records.

The policy under test is the one the magics rely on: a session is tracked before its
CreateSession (an answer may be lost), Ctrl-C while creating or waiting stops only a
session created here and Ctrl-C during a statement cancels only that statement, a wait that
timed out keeps the session, reconnect attaches (waiting for READY) with the clients of the
moment, a dead session is replaced once with auto_restart, ``--force`` and ``%%configure
-f`` replace the current one, and ``close`` stops what was created here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import ROLE, wait_status

from glue_magics import display
from glue_magics.lifecycle import StatementCancelled
from glue_magics.options import OptionError
from glue_magics.reporting import Shown
from glue_magics.service import GlueError
from glue_magics.sessions import SessionManager, Settings
from glue_magics.steps import NextStep


@dataclass
class Bar:
    """One reported wait or statement: every call on it, in order."""

    what: str
    id: Any
    calls: list[tuple] = field(default_factory=list)
    interrupt_on_update: int | None = None  # a Ctrl-C at this update (1-based), only there

    def update(self, status: str, progress: float, elapsed: float) -> None:
        self.calls.append(("update", status, progress))
        updates = sum(1 for c in self.calls if c[0] == "update")
        if updates == self.interrupt_on_update:  # once: the updates of a cancel go on
            raise KeyboardInterrupt

    def succeed(self, elapsed: float, message: str = "") -> None:
        self.calls.append(("succeed", message))

    def fail(self, status: str, message: str, *steps: NextStep) -> None:
        self.calls.append(("fail", status, display.said(message, steps)))

    def done(self, state: str, elapsed: float) -> None:
        self.calls.append(("done", state))

    def statuses(self) -> list[str]:
        return [c[1] for c in self.calls if c[0] == "update"]


class Recorder:
    """A reporting.Reporter that keeps everything it is told."""

    def __init__(
        self,
        interrupt_on_update: int | None = None,
        interrupt_statement_on_update: int | None = None,
    ) -> None:
        self.lines: list[tuple[str, str]] = []
        self.bars: list[Bar] = []
        self.interrupt_on_update = interrupt_on_update
        self.interrupt_statement_on_update = interrupt_statement_on_update

    def info(self, message: str, *steps: NextStep) -> None:
        self.lines.append(("info", display.said(message, steps)))  # as the display words it

    def error(self, message: str, *steps: NextStep) -> None:
        self.lines.append(("error", display.said(message, steps)))

    def session(self, session_id: str) -> Bar:
        self.bars.append(Bar("session", session_id, interrupt_on_update=self.interrupt_on_update))
        return self.bars[-1]

    def statement(self, statement_id: int) -> Bar:
        self.bars.append(
            Bar("statement", statement_id, interrupt_on_update=self.interrupt_statement_on_update)
        )
        return self.bars[-1]

    def said(self, text: str, kind: str = "info") -> bool:
        return any(k == kind and text in line for k, line in self.lines)


def manager_for(ep: Any, reporter: Recorder | None = None, **settings: Any) -> SessionManager:
    options = {"role": ROLE, "endpoint_url": ep.url, **settings.pop("options", {})}
    return SessionManager(Settings(config_options=options, **settings), reporter or Recorder())


def status_of(ep: Any, glue_client: Any, session_id: str) -> str:
    return glue_client(ep).get_session(Id=session_id)["Session"]["Status"]


def until_status(ep: Any, glue_client: Any, session_id: str, wanted: set[str]) -> str:
    """Poll the endpoint until the session reaches one of ``wanted`` (a condition, not a
    timing assertion: the deadline only keeps a broken endpoint from hanging the test)."""
    client = glue_client(ep)
    deadline = time.monotonic() + 60
    while True:
        status = client.get_session(Id=session_id)["Session"]["Status"]
        if status in wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


@pytest.fixture
def managers():
    """Managers made in a test are closed after it (their sessions stopped)."""
    made: list[SessionManager] = []
    yield made
    for manager in made:
        manager.close()


def test_create_reports_progress_runs_code_and_stops(endpoint, glue_client, managers):
    reporter = Recorder()
    manager = manager_for(endpoint, reporter)
    managers.append(manager)
    session_id = manager.create(manager.resolve({"id": "sessions-create-1"}))
    assert session_id == "sessions-create-1" == manager.session_id and manager.ready
    assert session_id in manager.created and status_of(endpoint, glue_client, session_id) == "READY"
    assert reporter.said(f"Creating session {session_id}: 5 DPU, ~$2.20/h while it lives")
    [bar] = reporter.bars
    assert bar.what == "session" and bar.id == session_id
    assert bar.calls[-1] == ("succeed", "5 DPU, ~$2.20/h")
    assert bar.statuses()[-1] == "READY"

    outcome = manager.run("print('hi')\n6 * 7")
    assert not outcome.failed
    assert "hi" in outcome.output.stdout and "42" in outcome.output.stdout
    failed = manager.run("1/0")
    assert failed.failed and failed.ename == "ZeroDivisionError" and not failed.one_line

    assert manager.stop() in ("STOPPED", "STOPPING")
    assert manager.session_id is None and session_id not in manager.created
    assert until_status(endpoint, glue_client, session_id, {"STOPPED"}) == "STOPPED"
    assert any(line.startswith(f"Session {session_id} STOPP") for _, line in reporter.lines)
    with pytest.raises(GlueError, match="no session to stop; give an id"):
        manager.stop()


def test_statement_progress_goes_to_the_reporter_and_ends_done(endpoint, managers):
    reporter = Recorder()
    manager = manager_for(endpoint, reporter)
    managers.append(manager)
    manager.create(manager.resolve())
    manager.run("import time\ntime.sleep(0.3)\n1")
    statements = [bar for bar in reporter.bars if bar.what == "statement"]
    assert statements and statements[-1].calls[-1] == ("done", "AVAILABLE")


def test_reconnect_keeps_the_sessions_own_client(
    endpoint, fresh_endpoint, glue, glue_client, managers
):
    """A session created elsewhere: attached with the clients of the settings then, kept
    after the settings point elsewhere; close() leaves it running."""
    glue.create_session(Id="sessions-elsewhere-1", Role=ROLE, Command={"Name": "glueetl"})
    try:
        reporter = Recorder()
        manager = manager_for(endpoint, reporter)
        session = manager.reconnect("sessions-elsewhere-1")
        assert session["Status"] == "READY" and manager.ready
        assert "sessions-elsewhere-1" in manager.attached and not manager.created

        other = fresh_endpoint()
        manager.settings.config_options["endpoint_url"] = other.url
        assert manager.client().meta.endpoint_url == other.url
        assert manager.client_for("sessions-elsewhere-1").meta.endpoint_url == endpoint.url
        before = endpoint.calls["RunStatement"]
        assert "7" in manager.run("3 + 4").output.stdout
        assert endpoint.calls["RunStatement"] == before + 1 and other.calls["RunStatement"] == 0

        manager.close()
        assert status_of(endpoint, glue_client, "sessions-elsewhere-1") == "READY"
    finally:
        glue.stop_session(Id="sessions-elsewhere-1")
    with pytest.raises(GlueError) as info:
        SessionManager().reconnect("")
    assert "give the session id" in display.explain(info.value)


def test_reconnect_waits_for_a_provisioning_session_and_stop_ends_it(fresh_endpoint, glue_client):
    """%glue_reconnect to a session still starting: the wait is reported until READY; the
    session is attached, not created here, and an explicit %glue_stop does stop it."""
    ep = fresh_endpoint(provision_seconds=1.0)
    made = glue_client(ep).create_session(
        Id="sessions-starting-1", Role=ROLE, Command={"Name": "glueetl"}
    )
    assert made["Session"]["Status"] == "PROVISIONING"
    reporter = Recorder()
    manager = manager_for(ep, reporter)
    session = manager.reconnect("sessions-starting-1")
    assert session["Status"] == "READY" and manager.ready
    assert manager.session_id == "sessions-starting-1"
    assert "sessions-starting-1" in manager.attached and not manager.created
    [bar] = reporter.bars
    assert bar.what == "session" and bar.id == "sessions-starting-1"
    assert bar.statuses()[-1] == "READY" and bar.calls[-1][0] == "succeed"
    assert ep.sessions_created == 1  # attached to, not made

    assert manager.stop() in ("STOPPED", "STOPPING")
    assert manager.session_id is None and "sessions-starting-1" not in manager.attached
    assert until_status(ep, glue_client, "sessions-starting-1", {"STOPPED"}) == "STOPPED"


@pytest.mark.parametrize(
    ("session_id", "stopped", "said"),
    [
        ("sessions-ended-2", True, "session sessions-ended-2 is STOPP"),
        ("sessions-nowhere-1", False, "session sessions-nowhere-1 was not found"),
    ],
)
def test_a_failed_reconnect_is_one_line_and_leaves_no_current_session(
    endpoint, glue, session_id, stopped, said
):
    """To a stopped session or one Glue does not know: one line, the wait's bar fails, and
    the id is neither current nor kept (every later cell would fail on it)."""
    if stopped:
        glue.create_session(Id=session_id, Role=ROLE, Command={"Name": "glueetl"})
        glue.stop_session(Id=session_id)
    reporter = Recorder()
    manager = manager_for(endpoint, reporter)
    with pytest.raises(Shown) as info:
        manager.reconnect(session_id)
    message = str(info.value)
    assert said in message and "\n" not in message
    [bar] = reporter.bars
    assert bar.calls[-1][0] == "fail"
    if stopped:
        assert bar.calls[-1][1] in ("STOPPING", "STOPPED")
    else:
        assert session_id in bar.calls[-1][2]
    assert manager.session_id is None and not manager.ready
    assert session_id not in manager.attached


def test_auto_restart_replaces_a_timed_out_session_once(fresh_endpoint, glue_client, managers):
    ep = fresh_endpoint(minute_seconds=0.5)
    reporter = Recorder()
    manager = manager_for(ep, reporter, auto_restart=True)
    managers.append(manager)
    first = manager.create(manager.resolve({"idle_timeout": 1}))
    assert until_status(ep, glue_client, first, {"TIMEOUT"}) == "TIMEOUT"

    outcome = manager.run("print('again')")
    assert "again" in outcome.output.stdout
    assert manager.session_id not in (None, first) and ep.sessions_created == 2
    assert reporter.said(f"session {first} is TIMEOUT and cannot run code")
    assert reporter.said("(auto_restart: creating a new session)")
    assert status_of(ep, glue_client, manager.session_id) == "READY"


def test_auto_restart_off_is_one_line_and_forgets_the_session(fresh_endpoint, glue_client):
    ep = fresh_endpoint(minute_seconds=0.5)
    manager = manager_for(ep)
    first = manager.create(manager.resolve({"idle_timeout": 1}))
    assert until_status(ep, glue_client, first, {"TIMEOUT"}) == "TIMEOUT"
    with pytest.raises(GlueError) as info:
        manager.run("1")
    message = display.explain(info.value)  # the line the magics show
    assert f"session {first} is TIMEOUT" in message and "\n" not in message
    assert "%glue_session" in message and info.value.session_ended
    assert manager.session_id is None and ep.sessions_created == 1


def test_auto_restart_replaces_a_session_stopped_elsewhere(endpoint, glue, managers):
    """auto_restart's help: "when the current one has timed out or stopped"; stopped here."""
    reporter = Recorder()
    manager = manager_for(endpoint, reporter, auto_restart=True)
    managers.append(manager)
    first = manager.create(manager.resolve({"id": "sessions-stopped-1"}))
    glue.stop_session(Id=first)
    wait_status(glue, first, "STOPPED")
    assert manager.ready  # the manager has not looked since: the statement call finds out
    before = endpoint.sessions_created
    assert "8" in manager.run("5 + 3").output.stdout
    assert manager.session_id not in (None, first) and endpoint.sessions_created == before + 1
    assert reporter.said(f"session {first} is STOPPED and cannot run code")
    assert reporter.said("(auto_restart: creating a new session)")


def test_auto_restart_asks_again_for_what_the_glue_session_line_asked(endpoint, glue, managers):
    """The replacement is the session the user asked for: the %glue_session flags of the one
    it replaces (not its id) over the pending options, not the pending options alone."""
    manager = manager_for(endpoint, auto_restart=True)
    managers.append(manager)
    line = {"id": "sessions-shape-1", "worker_type": "G.2X", "number_of_workers": 7}
    first = manager.create(manager.resolve(line))
    glue.stop_session(Id=first)
    wait_status(glue, first, "STOPPED")
    assert "8" in manager.run("5 + 3").output.stdout
    second = glue.get_session(Id=manager.session_id)["Session"]
    assert second["Id"] != first
    assert (second["WorkerType"], second["NumberOfWorkers"]) == ("G.2X", 7)

    manager.stop()  # an explicit stop: the next session is made as configured again
    manager.run("1")
    third = glue.get_session(Id=manager.session_id)["Session"]
    assert (third["WorkerType"], third["NumberOfWorkers"]) == ("G.1X", 5)


def test_a_session_found_dead_before_the_cell_is_reported_or_replaced(fresh_endpoint, glue_client):
    """Not known READY (created without waiting): one GetSession decides."""
    ep = fresh_endpoint(minute_seconds=0.5)
    manager = manager_for(ep)
    first = manager.create(manager.resolve({"idle_timeout": 1}), wait=False)
    assert not manager.ready
    assert until_status(ep, glue_client, first, {"TIMEOUT"}) == "TIMEOUT"
    with pytest.raises(GlueError) as info:
        manager.run("1")
    assert f"session {first} is TIMEOUT; start a new one with" in display.explain(info.value)
    assert manager.session_id is None

    manager.settings.auto_restart = True
    second = manager.create(manager.resolve({"idle_timeout": 1}), wait=False)
    assert until_status(ep, glue_client, second, {"TIMEOUT"}) == "TIMEOUT"
    assert "5" in manager.run("2 + 3").output.stdout
    assert manager.session_id not in (first, second) and ep.sessions_created == 3
    manager.close()


def test_interrupt_while_provisioning_stops_a_session_created_here(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=30)
    reporter = Recorder(interrupt_on_update=1)
    manager = manager_for(ep, reporter)
    with pytest.raises(KeyboardInterrupt):
        manager.create(manager.resolve({"id": "sessions-interrupted-1"}))
    assert manager.session_id is None and not manager.created
    assert status_of(ep, glue_client, "sessions-interrupted-1") in ("STOPPING", "STOPPED")
    assert reporter.bars[0].calls[-1][:2] == ("fail", "INTERRUPTED")
    assert reporter.said("Interrupted: stopped session sessions-interrupted-1 (", "error")


def test_interrupt_while_provisioning_leaves_a_session_only_attached_to(
    fresh_endpoint, glue_client
):
    ep = fresh_endpoint(provision_seconds=30)
    glue_client(ep).create_session(Id="sessions-theirs-1", Role=ROLE, Command={"Name": "glueetl"})
    reporter = Recorder(interrupt_on_update=1)
    manager = manager_for(ep, reporter)
    with pytest.raises(KeyboardInterrupt):
        manager.reconnect("sessions-theirs-1")
    assert manager.session_id is None
    assert status_of(ep, glue_client, "sessions-theirs-1") == "PROVISIONING"
    assert reporter.said(
        "Interrupted: session sessions-theirs-1 was not created here and is left running; "
        "stop it with %glue_stop sessions-theirs-1",
        "error",
    )
    manager.close()
    assert status_of(ep, glue_client, "sessions-theirs-1") == "PROVISIONING"


def test_interrupt_while_a_statement_runs_cancels_it_and_keeps_the_session(
    endpoint, glue, managers
):
    """Ctrl-C during a cell cancels that statement only: the session stays current and READY."""
    reporter = Recorder(interrupt_statement_on_update=1)
    manager = manager_for(endpoint, reporter)
    managers.append(manager)
    session_id = manager.create(manager.resolve())
    before = endpoint.sessions_created
    with pytest.raises(StatementCancelled) as info:
        manager.run("import time\ntime.sleep(60)")
    message = str(info.value)
    assert f"in session {session_id} was cancelled" in message and "\n" not in message
    [statement] = glue.list_statements(SessionId=session_id)["Statements"]
    assert statement["State"] == "CANCELLED"
    [bar] = [bar for bar in reporter.bars if bar.what == "statement"]
    assert bar.calls[0][0] == "update" and bar.calls[-1][0] == "done"
    assert manager.session_id == session_id and manager.ready and session_id in manager.created

    reporter.interrupt_statement_on_update = None  # no Ctrl-C this time
    assert "42" in manager.run("6 * 7").output.stdout
    assert manager.session_id == session_id and endpoint.sessions_created == before


def test_interrupt_during_create_session_stops_what_it_may_have_made(fresh_endpoint, glue_client):
    """Ctrl-C while CreateSession is being asked again (every answer lost, GetSession failing,
    so for up to CREATE_PATIENCE): the session the request did make is stopped, nothing is
    tracked and nothing is current."""
    ep = fresh_endpoint(provision_seconds=0.2, stop_seconds=0.05)
    ep.faults.set("lose", 1.0, operation="CreateSession")
    ep.faults.set("error5xx", 1.0, operation="GetSession")
    manager = manager_for(ep, Recorder(), max_attempts=1, wait_timeout=60.0, stop_wait=0.5)

    def ctrl_c() -> None:  # once the first CreateSession has arrived: the create is under way
        deadline = time.monotonic() + 60  # against a hang only
        while ep.calls["CreateSession"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    pressing = threading.Thread(target=ctrl_c, daemon=True)
    try:
        pressing.start()
        with pytest.raises(KeyboardInterrupt):
            manager.create(manager.resolve({"id": "sessions-ctrl-c-1"}))
    finally:
        pressing.join()
        signal.signal(signal.SIGINT, previous)
    assert not manager.created and manager.session_id is None
    assert ep.calls["StopSession"] == 1
    ep.faults.clear()
    assert until_status(ep, glue_client, "sessions-ctrl-c-1", {"STOPPED"}) == "STOPPED"
    assert ep.sessions_created == 1


def test_a_create_whose_answer_was_lost_is_found_by_one_look(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=0.2, stop_seconds=0.05)
    ep.faults.set("lose", 1.0, operation="CreateSession")
    manager = manager_for(ep, Recorder(), max_attempts=1)
    manager.create(manager.resolve({"id": "sessions-found-1"}))
    assert manager.session_id == "sessions-found-1" and ep.sessions_created == 1
    assert ep.calls["CreateSession"] == 1
    manager.close()
    assert status_of(ep, glue_client, "sessions-found-1") in ("STOPPING", "STOPPED")


def test_a_create_whose_answer_was_lost_is_tracked_and_stopped_by_close(
    fresh_endpoint, glue_client
):
    # Every answer is lost and Glue cannot be asked either: the create is asked again for
    # as long as a wait for READY may take (wait_timeout), then "may exist".
    ep = fresh_endpoint(provision_seconds=0.2, stop_seconds=0.05)
    ep.faults.set("lose", 1.0, operation="CreateSession")
    ep.faults.set("error5xx", 1.0, operation="GetSession")
    reporter = Recorder()
    manager = manager_for(ep, reporter, max_attempts=1, wait_timeout=1.0)
    with pytest.raises(GlueError) as info:
        manager.create(manager.resolve({"id": "sessions-lost-1"}))
    message = display.explain(info.value)
    assert "may exist" in message and "%glue_stop sessions-lost-1" in message
    assert "\n" not in message
    assert "sessions-lost-1" in manager.created and manager.session_id is None
    assert ep.sessions_created == 1
    ep.faults.clear()
    manager.close()
    assert status_of(ep, glue_client, "sessions-lost-1") in ("STOPPING", "STOPPED")
    assert reporter.said("glue-magics: stopped session sessions-lost-1 (")
    assert not manager.created


def test_a_refused_create_is_not_tracked_and_not_stopped(endpoint, glue, glue_client):
    """CreateSession refused (the id is someone else's session): nothing of ours exists,
    so close() must not stop theirs."""
    glue.create_session(
        Id="sessions-taken-1", Role=ROLE, Command={"Name": "glueetl"}, Description="theirs"
    )
    try:
        manager = manager_for(endpoint)
        with pytest.raises(GlueError) as info:
            manager.create(manager.resolve({"id": "sessions-taken-1", "description": "mine"}))
        assert "sessions-taken-1" in str(info.value) and "may exist" not in str(info.value)
        assert manager.session_id is None and not manager.created
        manager.close()
        assert status_of(endpoint, glue_client, "sessions-taken-1") in ("PROVISIONING", "READY")
    finally:
        glue.stop_session(Id="sessions-taken-1")


def test_a_create_that_never_connected_is_not_said_to_exist(fresh_endpoint):
    """Nothing listens at the endpoint (connection refused): the request never reached
    Glue, so the error does not say the session may exist, and nothing is tracked."""
    ep = fresh_endpoint()
    url = ep.url
    ep.stop()
    manager = SessionManager(
        Settings(config_options={"role": ROLE, "endpoint_url": url}, max_attempts=1), Recorder()
    )
    with pytest.raises(GlueError) as info:
        manager.create(manager.resolve({"id": "sessions-refused-1"}))
    assert info.value.code == "EndpointUnreachable" and "may exist" not in str(info.value)
    assert not manager.created and manager.session_id is None


def test_force_replaces_the_current_session_and_stops_the_old_one(endpoint, glue_client, managers):
    reporter = Recorder()
    manager = manager_for(endpoint, reporter)
    managers.append(manager)
    old = manager.create(manager.resolve({"id": "sessions-old-1"}))
    before = endpoint.sessions_created
    assert manager.create(manager.resolve({"id": "sessions-new-1"})) == old  # not forced
    assert reporter.said(f"Session {old} is already READY; use %glue_session --force")
    assert endpoint.sessions_created == before

    new = manager.create(manager.resolve({"id": "sessions-new-1"}), force=True)
    assert new == "sessions-new-1" == manager.session_id and endpoint.sessions_created == before + 1
    assert reporter.said(f"Stopped session {old} (STOPP")
    assert old not in manager.created and new in manager.created
    assert status_of(endpoint, glue_client, old) in ("STOPPING", "STOPPED")


def test_configure_sets_pending_options_and_force_recreates(endpoint, glue_client, managers):
    reporter = Recorder()
    manager = manager_for(endpoint, reporter)
    managers.append(manager)
    manager.configure({"worker_type": "G.2X"})
    assert reporter.said("Options set for the next session: worker_type = 'G.2X'.")  # issue 20
    with pytest.raises(OptionError, match="worker_type 'G.3X'"):
        manager.configure({"worker_type": "G.3X", "number_of_workers": 3})
    assert manager.resolve().values["worker_type"] == "G.2X"  # the refused merge changed nothing
    assert "number_of_workers" not in manager.options.configured

    old = manager.create(manager.resolve())
    manager.configure({"number_of_workers": 3})
    assert reporter.said(f"session {old} keeps its own. Use %%configure -f")
    assert manager.session_id == old
    manager.configure({"number_of_workers": 4}, force=True)
    new = manager.session_id
    assert new != old and status_of(endpoint, glue_client, old) in ("STOPPING", "STOPPED")
    session = glue_client(endpoint).get_session(Id=new)["Session"]
    assert (session["WorkerType"], session["NumberOfWorkers"]) == ("G.2X", 4)


def test_a_wait_that_timed_out_keeps_the_session_for_the_next_cell(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=0.2)
    reporter = Recorder()
    manager = manager_for(ep, reporter, max_attempts=1, wait_timeout=1.0)
    ep.faults.set("throttle", 1.0, operation="GetSession")
    with pytest.raises(Shown, match="may still be starting"):
        manager.create(manager.resolve({"id": "sessions-kept-1"}))
    assert reporter.bars[0].calls[-1][0] == "fail"
    assert manager.session_id == "sessions-kept-1" and not manager.ready
    ep.faults.clear()
    manager.settings.wait_timeout = 60
    assert "42" in manager.run("6 * 7").output.stdout
    assert manager.session_id == "sessions-kept-1" and ep.sessions_created == 1
    manager.close()


def test_a_session_that_ends_while_waited_for_is_forgotten(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=30)
    reporter = Recorder()
    manager = manager_for(ep, reporter)
    opts = manager.resolve({"id": "sessions-ended-1"})

    class StopsIt(Recorder):
        def session(self, session_id: str) -> Bar:
            glue_client(ep).stop_session(Id=session_id)  # someone stops it as the wait begins
            return super().session(session_id)

    manager.reporter = StopsIt()
    with pytest.raises(Shown):
        manager.create(opts)
    bar = manager.reporter.bars[0]
    assert bar.calls[-1][0] == "fail" and bar.calls[-1][1] in ("STOPPING", "STOPPED")
    assert manager.session_id is None
    manager.close()


def test_status_marks_a_live_current_session_ready_and_lists_it(endpoint, managers):
    from glue_magics.inventory import magic_table
    from glue_magics.reporting import status_rows

    manager = manager_for(endpoint)
    managers.append(manager)
    session_id = manager.create(manager.resolve(), wait=False)
    assert not manager.ready
    until = time.monotonic() + 60
    while manager.status()["Status"] != "READY" and time.monotonic() < until:
        time.sleep(0.05)
    assert manager.ready
    rows = dict(status_rows(manager.status(), 0.44))
    assert rows["Id"] == session_id and rows["Status"] == "READY"
    listed, _ = magic_table(manager)
    assert {"Id": session_id, "Here": "current"}.items() <= next(
        row for row in listed if row["Id"] == session_id
    ).items()
    with pytest.raises(GlueError, match="no session yet"):
        SessionManager().status()


def test_the_manager_needs_no_ipython_and_loads_no_boto3_until_used(endpoint):
    """In a fresh interpreter: importing is cheap, and a whole create/run/stop never
    imports IPython."""
    code = f"""
import sys
from glue_magics.sessions import SessionManager, Settings
assert "boto3" not in sys.modules and "IPython" not in sys.modules
m = SessionManager(Settings(config_options={{"role": {ROLE!r}, "endpoint_url": {endpoint.url!r}}}))
m.create(m.resolve())
assert "42" in m.run("6 * 7").output.stdout
m.stop()
assert "IPython" not in sys.modules, sorted(k for k in sys.modules if "IPython" in k)
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr
