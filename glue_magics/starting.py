"""A wait for READY that goes on in a thread while the user runs other cells.

``%glue_session --background`` (or ``start = "background"``): CreateSession stays in the
cell that asked (its errors are one line there); only the wait for READY moves to a thread,
here.  No IPython here, and no ``SessionManager`` state: the thread polls
(``lifecycle.wait_ready``, the one poller of this session) and feeds bars, nothing else.
The handoff is this object: the thread leaves its outcome on it (the live session, or the
error) and sets ``done``; the manager takes the outcome up on its own thread, at the first
cell that needs the session (``join``), so the manager's state (session_id, ready,
created, ``spark``) only ever changes there.

A cell that joins shows the same progress: its bar is fed by the same polls from then on.
Calling the start off (``cancel``: a stop, a close, another current session) ends the
thread at its next tick, without a READY.

The wait in the cell itself (:func:`wait_in_cell`, no thread) is here too, beside it: the
same bar, outcome and Ctrl-C policy, on the manager's thread.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from glue_magics.steps import Action, NextStep

if TYPE_CHECKING:
    from glue_magics.lifecycle import SessionView
    from glue_magics.reporting import BackgroundBar, SessionBar
    from glue_magics.sessions import SessionManager

#: How often a joining cell looks whether the start is over (a Ctrl-C lands in between).
JOIN_TICK = 0.1
#: How long calling a start off waits for its thread to end (it is at most in one call).
CANCEL_WAIT = 10.0


class Cancelled(Exception):
    """The start was called off: the thread ends without an outcome."""


class Start:
    """One session's wait for READY in a thread, and its outcome.

    ``bar`` is the background bar (``reporting.BackgroundBar``), made in the cell that
    asked and drawn once there before the thread starts; ``describe(session)`` words the
    READY line's note (the cost per hour).  After ``done``: ``session`` (READY or BUSY)
    or ``error`` (a ``GlueError``: FAILED, a timeout, the service; anything else is a bug
    of ours, handed over to be raised where it is taken up).
    """

    def __init__(
        self,
        client: Any,
        session_id: str,
        bar: BackgroundBar,
        *,
        timeout: float,
        describe: Callable[[dict], str],
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.bar = bar
        self.timeout = timeout
        self.describe = describe
        self.session: dict | None = None
        self.error: BaseException | None = None
        self.note = ""  # the READY line's note, as the background bar showed it
        self.began = time.monotonic()
        self.elapsed = 0.0  # seconds from the start to its outcome
        self._joined: list[SessionBar] = []  # bars of cells waiting for it, fed the same polls
        self._last: SessionView | None = None
        self._lock = threading.Lock()  # the bars and the last view, shared with the thread
        self._done = threading.Event()
        self._cancel = threading.Event()
        self._why = ""
        self._thread = threading.Thread(
            target=self._run, name=f"glue-magics-start-{session_id}", daemon=True
        )

    def begin(self, status: str = "PROVISIONING") -> Start:
        """Draw the bar once on the caller's thread (its display is made in the cell that
        asked), then start polling in the thread."""
        self.bar.update(status, 0.0, 0.0)
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def running(self) -> bool:
        """Whether the thread is still alive (it ends soon after ``done`` or ``cancel``)."""
        return self._thread.is_alive()

    # ------------------------------------------------------------------ the caller's side
    def join(self, bar: SessionBar | None = None) -> None:
        """Wait for the outcome on the caller's thread, ``bar`` fed by the same polls from
        now on (the last state drawn at once).  A KeyboardInterrupt detaches the bar and
        leaves the start going; the caller decides what it means."""
        if bar is not None:
            with self._lock:
                if not self._done.is_set():
                    last = self._last  # drawn here, in this cell, before the thread feeds it
                    if last is None:
                        bar.update("PROVISIONING", 0.0, time.monotonic() - self.began)
                    else:
                        bar.update(last.status, last.progress, last.elapsed)
                    self._joined.append(bar)
                    self.bar.joined()
        try:
            while not self._done.wait(JOIN_TICK):
                pass
            while self._thread.is_alive():  # the background bar draws how it ended
                self._thread.join(JOIN_TICK)
        finally:
            if bar is not None:
                with self._lock:
                    if bar in self._joined:
                        self._joined.remove(bar)

    def cancel(self, message: str, wait: float = CANCEL_WAIT) -> None:
        """Call the start off: the thread ends at its next tick (at most one call away),
        the bar says ``message``, and no outcome is left.  Waits up to ``wait`` s for it."""
        if not self._cancel.is_set():
            self._why = message
            self._cancel.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(wait)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        ending: Callable[[], None] | None = None  # how it ended, drawn in the bar's place
        try:
            session = lifecycle.wait_ready(
                self.client,
                self.session_id,
                on_update=self._fan_out,
                timeout=self.timeout,
                sleep=self._sleep,
            )
            if self._cancel.is_set():
                raise Cancelled
            self.note = self.describe(session)
            self.elapsed = time.monotonic() - self.began
            self.session = session
            ending = functools.partial(self.bar.succeed, self.elapsed, self.note)
        except Cancelled:
            ending = functools.partial(self.bar.cancel, self._why)
        except GlueError as exc:
            self.elapsed = time.monotonic() - self.began
            if self._cancel.is_set():  # e.g. STOPPING, seen as the stop was being sent
                ending = functools.partial(self.bar.cancel, self._why)
            else:
                self.error = exc
                status = exc.status or "FAILED"
                ending = functools.partial(self.bar.fail, status, exc.message, *exc.next_steps)
        except BaseException as exc:  # a bug of ours: raised, traceback and all, when taken up
            self.error = exc
        finally:
            self._done.set()  # the outcome is in: a cell that comes from now on takes it up
        if ending is not None:
            ending()  # after the outcome: a cell that joined waits for it (``join``)

    def _fan_out(self, view: SessionView) -> None:
        """One poll (or tick) to every bar: the background one and those of joined cells."""
        if self._cancel.is_set():
            raise Cancelled
        with self._lock:
            self._last = view
            for bar in (self.bar, *self._joined):
                bar.update(view.status, view.progress, view.elapsed)

    def _sleep(self, seconds: float) -> None:
        """The poll loop's sleep: cut short, ending the wait, when the start is called off."""
        if self._cancel.wait(seconds):
            raise Cancelled


class Background:
    """A ``SessionManager``'s background start: at most one, its current session's.

    Everything here runs on the manager's (the cells') thread; only ``Start`` has one more.
    """

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        self.start: Start | None = None

    def of(self, session_id: str | None) -> bool:
        """Whether ``session_id`` has a start (going, or its outcome not taken up yet)."""
        return self.start is not None and self.start.session_id == session_id

    @property
    def done(self) -> bool:
        return self.start is not None and self.start.done

    def begin(self, session_id: str, cost: str = "") -> None:
        """Wait for READY in a thread and return at once; the first cell that needs the
        session joins that wait (``join``)."""
        manager = self.manager
        self.start = Start(
            manager.client_for(session_id),
            session_id,
            manager.reporter.background(session_id),
            timeout=manager.settings.wait_timeout,
            describe=manager.ready_note(cost),
        ).begin()

    def join(self) -> dict:
        """Take up the start's outcome, waiting for it here first (this cell shows the same
        progress, fed by the same polls).  Ctrl-C stops waiting in this cell only: the
        session goes on starting in the background (a stop ends it).  A failure is raised
        again here, one line, and the session is kept or forgotten as after a wait."""
        from glue_magics.reporting import Shown
        from glue_magics.service import GlueError

        start, manager = self.start, self.manager
        assert start is not None, "join() without a background start"
        bar = None
        try:  # a Ctrl-C while the bar is still being drawn is this wait's Ctrl-C too
            bar = None if start.done else manager.reporter.session(start.session_id)
            start.join(bar)
        except KeyboardInterrupt:
            if bar is not None:
                bar.fail("INTERRUPTED", "interrupted while waiting")
            manager.reporter.error(
                f"Interrupted: session {start.session_id} goes on starting in the background",
                NextStep(Action.STOP, start.session_id),
            )
            raise
        self.start = None
        if start.session is not None:
            if bar is not None:
                bar.succeed(start.elapsed, start.note)
            return manager.became_ready(start.session)
        error = start.error
        if not isinstance(error, GlueError):
            raise error  # type: ignore[misc]  # a bug of ours, met in the thread
        manager.not_ready(start.session_id, error)
        if bar is None:
            raise error  # the background bar has shown it: the same line again
        bar.fail(error.status or "FAILED", error.message, *error.next_steps)
        raise Shown(str(error)) from None

    def call_off(self, session_id: str | None, why: str) -> None:
        """End the start of ``session_id`` (any, if None); its bar says ``why``."""
        start = self.start
        if start is not None and session_id in (None, start.session_id):
            self.start = None
            start.cancel(why)


def wait_in_cell(manager: SessionManager, session_id: str, cost: str = "") -> dict:
    """``SessionManager.wait`` in the cell itself (no background start): progress in its
    bar, Ctrl-C stops a session created here, a failure is shown and raised as ``Shown``."""
    from glue_magics import lifecycle
    from glue_magics.reporting import Shown
    from glue_magics.service import GlueError

    client = manager.client_for(session_id)
    bar = manager.reporter.session(session_id)
    start = time.monotonic()

    def on_update(view: Any) -> None:
        bar.update(view.status, view.progress, view.elapsed)

    try:
        session = lifecycle.wait_ready(
            client, session_id, on_update=on_update, timeout=manager.settings.wait_timeout
        )
    except KeyboardInterrupt:
        bar.fail("INTERRUPTED", "interrupted while waiting")
        if session_id in manager.created:
            status = manager._stop_quietly(session_id)
            manager.reporter.error(f"Interrupted: stopped session {session_id} ({status}).")
        else:
            manager.reporter.error(
                f"Interrupted: session {session_id} was not created here and is left running",
                NextStep(Action.STOP, session_id),
            )
        manager._forget(session_id)
        raise
    except GlueError as exc:
        bar.fail(exc.status or "FAILED", exc.message, *exc.next_steps)  # the line shown
        manager.not_ready(session_id, exc)
        raise Shown(str(exc)) from None
    bar.succeed(time.monotonic() - start, manager.ready_note(cost)(session))
    return manager.became_ready(session)
