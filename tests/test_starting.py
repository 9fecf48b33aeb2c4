"""A session started in the background (``starting.py``), through SessionManager: no kernel,
no IPython, the local endpoint over HTTP, a reporter that records every bar call.

The policy under test: CreateSession answers in the caller's thread and only the wait for
READY goes to a thread; the first call that needs the session joins that wait, its bar fed
by the same polls (one poller); a failure is shown by the background bar and raised again
by the next call that needs the session; a stop, a close or a Ctrl-C behave as documented.
"""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from helpers import ROLE
from test_sessions import Bar, Recorder, manager_for, status_of, until_status

from glue_magics import display
from glue_magics.reporting import Shown
from glue_magics.service import GlueError
from glue_magics.steps import NextStep


@dataclass
class BackgroundBar(Bar):
    """A recorded background bar: its cancel and the cells that joined it too."""

    def cancel(self, message: str) -> None:
        self.calls.append(("cancel", message))

    def joined(self) -> None:
        self.calls.append(("joined",))

    def fail(self, status: str, message: str, *steps: NextStep) -> None:
        self.calls.append(("fail", status, display.said(message, steps)))


class Watching(Recorder):
    """A Recorder that also records background bars; ``on_join_update`` runs at the first
    update of a joining cell's bar (from whichever thread draws it)."""

    def __init__(self, on_join_update: Any = None) -> None:
        super().__init__()
        self.on_join_update = on_join_update

    def background(self, session_id: str) -> BackgroundBar:
        self.bars.append(BackgroundBar("background", session_id))
        return self.bars[-1]  # type: ignore[return-value]

    def session(self, session_id: str) -> Bar:
        bar = super().session(session_id)
        if self.on_join_update is not None:
            hook, update = self.on_join_update, bar.update

            def first_update(*args: Any) -> None:
                update(*args)
                if len(bar.calls) == 1:
                    hook()

            bar.update = first_update  # type: ignore[method-assign]
        return bar

    def of(self, what: str) -> list[Bar]:
        return [bar for bar in self.bars if bar.what == what]


def updates(bar: Bar) -> list[tuple]:
    return [call for call in bar.calls if call[0] == "update"]


def kill_worker(ep: Any) -> None:
    """Kill the one session's worker process: the endpoint says FAILED, as the service does
    of a session whose driver died (local/backend.py, ``_process_ended``)."""
    deadline = time.monotonic() + 30
    while not ep.worker_pids():  # spawned by the endpoint's own thread, just after create
        assert time.monotonic() < deadline, "no worker process"
        time.sleep(0.01)
    os.kill(ep.worker_pids()[0], signal.SIGKILL)


def until_done(manager: Any) -> None:
    """Until the background start has its outcome and its thread has drawn it (the deadline
    only guards a hang)."""
    deadline = time.monotonic() + 60
    start = manager.background.start
    while not start.done or start.running:
        assert time.monotonic() < deadline, "the background start never ended"
        time.sleep(0.01)


@pytest.mark.parametrize("how", ["flag", "setting"])
def test_background_returns_provisioning_and_the_first_run_joins_the_same_polls(
    fresh_endpoint, glue_client, how
):
    ep = fresh_endpoint(provision_seconds=3)
    reporter = Watching()
    manager = manager_for(ep, reporter, start="background" if how == "setting" else "wait")
    opts = manager.resolve({"id": f"bg-{how}"})
    session_id = manager.create(opts, background=True if how == "flag" else None)
    try:
        assert status_of(ep, glue_client, session_id) == "PROVISIONING"
        assert manager.session_id == session_id and not manager.ready
        start = manager.background.start
        assert start.running and reporter.said(f"Creating session {session_id}")
        [background] = reporter.of("background")
        assert updates(background)[0] == ("update", "PROVISIONING", 0.0)  # drawn here first

        assert "42" in manager.run("6 * 7").output.stdout  # waits for READY, then runs
        [joined] = reporter.of("session")
        assert ("joined",) in background.calls
        assert background.calls[-1] == ("succeed", "5 DPU, ~$2.20/h")
        assert joined.calls[-1] == ("succeed", "5 DPU, ~$2.20/h")
        # one poller: the cell's bar saw the background's last state, then the same polls
        assert updates(joined) == updates(background)[-len(updates(joined)) :]
        assert joined.statuses()[-1] == "READY" and joined.statuses()[0] == "PROVISIONING"
        assert manager.ready and manager.background.start is None and not start.running
        assert ep.sessions_created == 1
    finally:
        manager.close()


def test_a_start_that_ended_before_any_cell_is_taken_up_by_the_next(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=0.3)
    reporter = Watching()
    manager = manager_for(ep, reporter)
    try:
        manager.create(manager.resolve({"id": "bg-early"}), background=True)
        until_done(manager)
        [background] = reporter.of("background")
        assert background.calls[-1][0] == "succeed" and background.statuses()[-1] == "READY"
        assert not manager.ready  # the thread changes no state of the manager's
        manager.create(manager.resolve())  # %glue_session again: taken up, already READY
        assert manager.ready and reporter.said("Session bg-early is already READY")
        assert not reporter.of("session")  # nothing to wait for: no second bar
        assert "3" in manager.run("1 + 2").output.stdout
    finally:
        manager.close()


def test_a_failed_start_is_shown_then_raised_once_by_the_next_cell(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=4)  # killed at once; the next session takes 4 s
    reporter = Watching()
    manager = manager_for(ep, reporter)
    try:
        manager.create(manager.resolve({"id": "bg-fails"}), background=True)
        kill_worker(ep)
        until_done(manager)
        [background] = reporter.of("background")
        kind, status, line = background.calls[-1]
        assert (kind, status) == ("fail", "FAILED")
        assert "bg-fails is FAILED" in line and "exited unexpectedly" in line
        with pytest.raises(GlueError) as failed:
            manager.run("1 + 1")
        assert not isinstance(failed.value, Shown)  # not shown in this cell yet: one line
        message = display.explain(failed.value)
        assert "bg-fails is FAILED" in message and "\n" not in message
        assert manager.session_id is None and manager.background.start is None  # forgotten
        assert ep.calls["RunStatement"] == 0
        assert "2" in manager.run("1 + 1").output.stdout  # the next one: a new session
        assert manager.session_id != "bg-fails" and ep.sessions_created == 2
    finally:
        manager.close()


def test_a_failure_while_a_cell_waits_fails_that_cells_bar(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=30)
    reporter = Watching(on_join_update=lambda: kill_worker(ep))
    manager = manager_for(ep, reporter)
    try:
        manager.create(manager.resolve({"id": "bg-fails-joined"}), background=True)
        with pytest.raises(Shown, match="bg-fails-joined is FAILED"):
            manager.run("1 + 1")
        [background] = reporter.of("background")
        [joined] = reporter.of("session")
        assert background.calls[-1][:2] == joined.calls[-1][:2] == ("fail", "FAILED")
        assert manager.session_id is None
    finally:
        manager.close()


def test_stop_during_the_start_ends_its_thread_without_ready(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=30)
    reporter = Watching()
    manager = manager_for(ep, reporter)
    try:
        manager.create(manager.resolve({"id": "bg-stopped"}), background=True)
        start = manager.background.start
        assert manager.stop() in ("STOPPED", "STOPPING")
        assert not start.running and manager.background.start is None
        [background] = reporter.of("background")
        assert background.calls[-1] == ("cancel", "stopped while starting")
        assert not any(call[0] in ("succeed", "fail") for call in background.calls)
        assert until_status(ep, glue_client, "bg-stopped", {"STOPPED"}) == "STOPPED"
        assert manager.session_id is None and "bg-stopped" not in manager.created
    finally:
        manager.close()


def test_close_during_the_start_stops_the_session_and_ends_the_thread(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=30)
    reporter = Watching()
    manager = manager_for(ep, reporter)
    manager.create(manager.resolve({"id": "bg-closed"}), background=True)
    start = manager.background.start
    manager.close()
    assert not start.running
    assert status_of(ep, glue_client, "bg-closed") in ("STOPPING", "STOPPED")
    [background] = reporter.of("background")
    assert background.calls[-1] == ("cancel", "the kernel is shutting down")
    assert not [t for t in threading.enumerate() if t.name.startswith("glue-magics-start")]


def test_ctrl_c_in_a_waiting_cell_leaves_the_start_going(fresh_endpoint, glue_client):
    """Decided: Ctrl-C stops this cell's wait only (unlike a wait in the cell of
    %glue_session, which stops the session): the user chose to let it start meanwhile."""
    ep = fresh_endpoint(provision_seconds=2)
    reporter = Watching(on_join_update=_thread.interrupt_main)  # Ctrl-C, as a signal is
    manager = manager_for(ep, reporter)
    try:
        manager.create(manager.resolve({"id": "bg-interrupted"}), background=True)
        with pytest.raises(KeyboardInterrupt):
            manager.run("1 + 1")
        [joined] = reporter.of("session")
        assert joined.calls[-1][:2] == ("fail", "INTERRUPTED")
        assert reporter.said("session bg-interrupted goes on starting in the background", "error")
        assert reporter.said("stop it with %glue_stop bg-interrupted", "error")
        assert manager.background.of("bg-interrupted")
        assert status_of(ep, glue_client, "bg-interrupted") in ("PROVISIONING", "READY")
        reporter.on_join_update = None
        assert "2" in manager.run("1 + 1").output.stdout  # joins again, and runs
        [background] = reporter.of("background")
        assert background.calls[-1][0] == "succeed" and ep.sessions_created == 1
    finally:
        manager.close()


def test_reconnect_elsewhere_calls_the_start_off(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=30)
    glue_client(ep).create_session(Id="bg-other", Role=ROLE, Command={"Name": "glueetl"})
    reporter = Watching()
    manager = manager_for(ep, reporter)
    try:
        manager.create(manager.resolve({"id": "bg-left"}), background=True)
        start = manager.background.start
        manager.settings.wait_timeout = 0.1  # the other one is provisioning too: no wait
        with pytest.raises(Shown):
            manager.reconnect("bg-other")
        assert not start.running and manager.background.start is None
        [background] = reporter.of("background")
        assert background.calls[-1] == ("cancel", "session bg-other is the current one now")
        assert "bg-left" in manager.created  # still this kernel's: stopped at close
    finally:
        manager.close()
