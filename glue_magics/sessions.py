"""The session manager: which sessions exist for this user, and what happens to them.

No IPython here (``magics`` parses a line and calls down; this module decides). It holds
the pending ``%%configure`` options and the current session; the registry of sessions
created or reconnected to (each with the clients it was made with), the client cache and
the embedded local endpoint are ``clients.ClientRegistry``'s. Its policy: a session is
tracked before its CreateSession (an answer may get lost), Ctrl-C while waiting stops a
session created here and leaves one only attached to, a wait that timed out keeps the
session (it may be alive), one that ended is forgotten, a dead session is replaced once
when ``auto_restart`` is on, and ``close`` stops what was created here (``stop_on_exit``).
With ``start = "background"`` (``%glue_session --background``) the wait for READY goes on
in a thread (``starting.py``) whose outcome the first call that needs the session takes
up, on the manager's own thread.

Progress and messages go out through a ``reporting.Reporter`` (``progress.Reporter`` draws
it; ``reporting.Quiet`` shows nothing). Errors are one line: ``service.GlueError`` and
``options.OptionError``, which the magics turn into a ``UsageError``; ``reporting.Shown`` when
the reporter has already shown the failure. What the user can do next travels as data
(``steps.NextStep``) with errors and messages alike; only the display names magics. boto3
loads at the first call, not here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from glue_magics.budget import Budget
from glue_magics.clients import ClientRegistry
from glue_magics.cost import Cost
from glue_magics.languages import Languages
from glue_magics.reporting import Quiet, Reporter, StatementBar, spent_after
from glue_magics.settings import Settings
from glue_magics.starting import Background, wait_in_cell
from glue_magics.steps import Action, NextStep, steps_for


def _error(message: str, *steps: NextStep, code: str = "UsageError", **kwargs: Any) -> Exception:
    """A one-line ``GlueError`` with what to do next (imported here, so this module loads
    without it)."""
    from glue_magics.service import GlueError

    return GlueError(message, code, next_steps=steps, **kwargs)


# --------------------------------------------------------------------------- the manager


def _connects(manager: SessionManager) -> Any:
    """The manager's Spark Connect sessions (``connect.py``: it loads pyspark only when a
    session connects)."""
    from glue_magics.connect import ConnectSessions

    return ConnectSessions(manager)


class SessionManager:
    """Sessions for one user (one kernel): create, ensure, reconnect, run, stop, close."""

    def __init__(self, settings: Settings | None = None, reporter: Reporter | None = None) -> None:
        self.settings = settings if settings is not None else Settings()
        self.reporter: Reporter = reporter if reporter is not None else Quiet()
        self.options = PendingOptions(self.settings)
        self.session_id: str | None = None  # the current session
        self.ready = False  # the current session was last seen live
        self.line: dict[str, Any] = {}  # the last %glue_session's flags: a restart keeps them
        registry = ClientRegistry(self.settings, self.reporter, self.options)  # clients.py
        self.registry, self.created, self.attached = registry, registry.created, registry.attached
        self.clients = registry.cache
        # the registry's look-ups, asked of the manager (budget, connect, logs, the magics)
        self.client, self.client_for = registry.client, registry.client_for
        self.clients_for, self.current_clients = registry.clients_for, registry.current_clients
        self.budget = Budget(self)  # asked before each statement (budget.py)
        self.connects = _connects(self)  # Spark Connect sessions' `spark` (connect.py)
        self.background = Background(self)  # a wait for READY in a thread (starting.py)
        self.languages = Languages(self)  # each session's Python or Scala (languages.py)
        self.session_language, self.check_language = self.languages.current, self.languages.check

    # ------------------------------------------------------------------ options
    def resolve(self, line: dict[str, Any] | None = None, partial: bool = False) -> Any:
        """The effective ``SessionOptions`` (``line``: the highest source, flags); raises
        ``OptionError`` (one line).  ``partial``: check what is set, role or not."""
        return self.options.resolve(line, partial)

    def configure(self, new: dict[str, Any], force: bool = False) -> None:
        """Merge ``%%configure`` options; on a bad value nothing changes.  ``force``: a live
        session is stopped and created anew with the merged options."""
        self.options.merge(new)
        if self.session_id is None:
            said = ", ".join(f"{key} = {value!r}" for key, value in new.items())
            self.reporter.info(f"Options set for the next session: {said}.")
        elif not force:
            self.reporter.info(
                f"Options set for the next session; session {self.session_id} keeps its own.",
                NextStep(Action.RECONFIGURE),
            )
        else:
            self.replace(self.resolve())  # a new session now: the request must be complete

    # ------------------------------------------------------------------ waiting
    def wait(self, session_id: str, cost: str = "") -> dict:
        """Wait for READY, reporting progress and ``cost`` ("5 DPU, ~$2.20/h") with READY.

        Ctrl-C stops a session created here.  A failed wait is reported, then raised as
        :class:`Shown`; the session stays current unless it ended (it may be alive).  A
        session starting in the background is waited for by joining that wait."""
        if self.background.of(session_id):
            return self.background.join()
        return wait_in_cell(self, session_id, cost)

    def ready_note(self, cost: str = "") -> Callable[[dict], str]:
        """What READY says beside it: ``cost`` ("5 DPU, ~$2.20/h"), else the session's rate."""
        price = self.settings.dpu_hour_price
        return lambda session: cost or Cost.of_session(session, price).rate()

    def became_ready(self, session: dict) -> dict:
        """The current session is live: marked ready, its Spark UI said, `spark` bound."""
        from glue_magics import logs

        self.ready = True
        session_id = session.get("Id") or self.session_id
        self.languages.record(session_id, session.get("DefaultArguments"))
        logs.announce_spark_ui(self.client_for(session_id), session_id, self.reporter)
        self.connects.ready(session)  # a Spark Connect session: `spark` is bound now
        return session

    def not_ready(self, session_id: str, exc: Any) -> None:
        """A wait for READY failed: a session that ended (or never was) is forgotten; else
        it may be alive (a wait timed out, Glue stopped answering): it stays the current
        session, and the next cell that needs it waits for it again."""
        if exc.session_ended or exc.code == "EntityNotFoundException":
            self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        self.background.call_off(session_id, "no longer waited for")
        self.attached.pop(session_id, None)  # ended or never was: no client to keep for it
        self.connects.end(session_id)
        if self.session_id == session_id:
            self.session_id = None
            self.ready = False

    def _stop_quietly(self, session_id: str, wait: float | None = None) -> str:
        """Stop and return the status, or "stop failed: <why>" (never raises a GlueError)."""
        wait = self.settings.stop_wait if wait is None else wait
        self.background.call_off(session_id, "stopped while starting")
        return self.registry.stop_quietly(session_id, wait)

    # ------------------------------------------------------------------ sessions
    def create(
        self, opts: Any, *, force: bool = False, wait: bool = True, background: bool | None = None
    ) -> str:
        """``%glue_session``: a session from ``opts``; a current one is waited for (or said
        READY), or with ``force`` replaced.  ``wait``: wait for READY; ``background``: in a
        thread, returning at once (None: as ``settings.start`` says)."""
        if background is None:
            background = self.settings.start == "background"
        background = background and wait
        session_id = self.session_id
        if session_id is not None and not force:
            starting = self.background.of(session_id)
            if starting and not self.ready and self.background.done:
                self.background.join()  # its outcome is in: taken up (a failure raised here)
            if self.ready:
                ready = f"Session {session_id} is already READY"
                self.reporter.info(ready, NextStep(Action.REPLACE))
            elif starting and background:
                self.reporter.info(f"Session {session_id} is starting in the background")
            elif background:
                self.background.begin(session_id)
            else:
                self.wait(session_id)
            return session_id
        if session_id is not None:
            return self.replace(opts, wait=wait, background=background)
        return self._create(opts, wait=wait, background=background)

    def replace(self, opts: Any, wait: bool = True, background: bool = False) -> str:
        """Stop the current session and create a new one from ``opts``."""
        old = self.session_id
        if old is not None:
            self.reporter.info(f"Stopped session {old} ({self._stop_quietly(old)}).")
            self._forget(old)
        return self._create(opts, wait=wait, background=background)

    def _create(self, opts: Any, wait: bool = True, background: bool = False) -> str:
        from glue_magics import lifecycle, versions
        from glue_magics.options import OptionError

        request = opts.request()
        refused = versions.refusal(request.get("GlueVersion"))  # `auto`: jobs only
        if refused:
            raise OptionError(refused, "glue_version")
        self.line = {n: v for n, v in opts.layer("line").items() if n != "id"}
        session_id = request["Id"]
        self.languages.record(session_id, request.get("DefaultArguments"))
        # asked again no longer than a whole wait for READY may take
        patience = min(lifecycle.CREATE_PATIENCE, self.settings.wait_timeout)
        clients = self.current_clients(opts)
        self.registry.create(request, clients, patience)
        self.session_id = session_id
        self.ready = False
        cost = opts.cost(self.settings.dpu_hour_price).rate()
        step = NextStep(Action.STOP, session_id)
        self.reporter.info(f"Creating session {session_id}: {cost} while it lives", step)
        notice = self.clients.runtime_notice(clients, request.get("GlueVersion"))
        if notice:  # the embedded endpoint runs another Spark / Python than AWS would
            self.reporter.info(notice)
        if wait and background:
            self.background.begin(session_id, cost)
        elif wait:
            self.wait(session_id, cost)
        return session_id

    def ensure(self) -> str:
        """The current session, READY: waits for one still provisioning, creates one if none."""
        if self.session_id is None:
            self._create(self.resolve(self.line))
        elif not self.ready:
            self.wait(self.session_id)
        return self.session_id  # type: ignore[return-value]

    def reconnect(self, session_id: str) -> dict:
        """Attach to an existing session (with the current clients, kept for it from now
        on), waiting for READY if it is still provisioning."""
        if not session_id:
            raise _error("no session to reconnect to", NextStep(Action.RECONNECT))
        if not self.background.of(session_id):
            self.background.call_off(None, f"session {session_id} is the current one now")
        self.attached[session_id] = self.current_clients()
        self.session_id = session_id
        self.ready = False
        return self.wait(session_id)

    def status(self, session_id: str | None = None) -> dict:
        """GetSession of the given (or current) session; a live current one is marked ready."""
        from glue_magics import lifecycle

        session_id = session_id or self.session_id
        if not session_id:
            raise _error("no session yet", NextStep(Action.CREATE))
        session = lifecycle.get_session(self.client_for(session_id), session_id)
        self.connects.note(session)
        live = session.get("Status") in lifecycle.LIVE_STATES
        if session_id == self.session_id and live and not self.background.of(session_id):
            self.ready = True  # found live (READY or BUSY): code runs without another wait
        return session

    def stop(self, session_id: str | None = None) -> str:
        """Stop the given (or current) session, wait (bounded) for STOPPED, report the cost."""
        from glue_magics import lifecycle

        session_id = session_id or self.session_id
        if not session_id:
            raise _error("no session to stop", NextStep(Action.STOP))
        self.background.call_off(session_id, "stopped while starting")  # its thread ends first
        client = self.client_for(session_id)
        status = lifecycle.stop_session(client, session_id, wait=self.settings.stop_wait)
        self.line = {} if session_id == self.session_id else self.line  # next one: as configured
        self.created.pop(session_id, None)
        self._forget(session_id)
        spent = spent_after(client, session_id, self.settings.dpu_hour_price)
        if status == "STOPPING":
            self.reporter.info(
                f"Session {session_id} is still STOPPING after {self.settings.stop_wait:g} s; "
                "the service is ending it.",
                NextStep(Action.LIST),
            )
        else:
            self.reporter.info(f"Session {session_id} {status}{spent}.")
        return status

    def close(self) -> None:
        """Stop the sessions created here (``stop_on_exit``) and the local endpoint."""
        self.background.call_off(None, "the kernel is shutting down")
        self.connects.close()
        if self.settings.stop_on_exit:
            for session_id in list(self.created):
                # No waiting for STOPPED: a kernel being shut down is given only seconds.
                status = self._stop_quietly(session_id, wait=0)
                self._forget(session_id)
                self.reporter.info(f"glue-magics: stopped session {session_id} ({status})")
        self.registry.close()  # the watchdog stops those whose stop failed, if stop_on_exit

    # ------------------------------------------------------------------ running code
    def run(self, code: str, max_bytes: int | None = None, language: str | None = None) -> Any:
        """Run code in the current session (made ready first) and read how it ended: a
        ``results.Outcome``, failed or not (the caller shows it), its S3-held results read
        with the session's own S3 client (at most ``max_bytes`` each, else results' cap).
        A session found dead by the statement call itself (no GetSession per cell) is an
        error, or replaced once with auto_restart."""
        from glue_magics import results
        from glue_magics.service import GlueError

        self.check_language(language)  # before any call, even a CreateSession
        session_id = self._session_for_code()
        self.budget.check(session_id)  # warns near it; over it, raises (or stops the session)
        try:
            statement = _statement(self.client_for(session_id), session_id, code, self.reporter)
        except GlueError as exc:
            if not exc.session_ended:
                raise
            self._forget(session_id)
            if not self.settings.auto_restart:
                raise
            self.reporter.info(f"{exc.message} (auto_restart: creating a new session)")
            session_id = self.ensure()
            statement = _statement(self.client_for(session_id), session_id, code, self.reporter)
        cap = results.DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
        return results.read_statement(statement, session_id, self.clients_for(session_id).s3, cap)

    def spark(self) -> Any:
        """The current session, READY; its ``SparkSession`` if it is a Spark Connect
        session (connected at first use), else None: its code runs as statements."""
        session_id = self._session_for_code()
        if not self.connects.is_connect(session_id):
            return None
        self.budget.check(session_id)
        return self.connects.spark(session_id)

    def _session_for_code(self) -> str:
        """The READY session code runs in; a dead one is reported (or replaced if auto_restart)."""
        from glue_magics import lifecycle

        if self.session_id is not None and self.ready:
            return self.session_id
        if self.session_id is not None and self.background.of(self.session_id):
            self.background.join()  # waits for the background start, or raises how it failed
            return self.session_id
        if self.session_id is not None:
            session = lifecycle.get_session(self.client_for(self.session_id), self.session_id)
            status = session.get("Status")
            if status in lifecycle.DEAD_STATES:
                ended = self.session_id
                self._forget(ended)
                if not self.settings.auto_restart:
                    raise _error(
                        f"session {ended} is {status}",
                        *steps_for((Action.CREATE, Action.AUTO_RESTART)),
                        status=status,
                        session_ended=True,
                    )
        return self.ensure()


class PendingOptions:
    """The options of the next session: the ``%%configure`` layer over the settings'
    options, the environment and the AWS profile (``options.SessionOptions`` merges them)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.configured: dict[str, Any] = {}  # the %%configure layer

    def layers(self, line: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The sources of session options, highest first."""
        from glue_magics import options

        config = dict(self.settings.config_options)
        profile = (line or {}).get("profile") or self.configured.get("profile")
        profile = profile or config.get("profile") or os.environ.get("AWS_PROFILE")
        return [
            ("line", line or {}),
            ("configure", self.configured),
            ("config", config),
            ("env", options.from_env(os.environ)),
            ("profile", options.from_profile(profile)),
        ]

    def resolve(self, line: dict[str, Any] | None = None, partial: bool = False) -> Any:
        """The effective ``SessionOptions``; raises ``OptionError`` (one line)."""
        from glue_magics import options, tags

        return options.SessionOptions.resolve(
            self.layers(line),
            account_id=os.environ.get("GLUE_ACCOUNT_ID") or os.environ.get("AWS_ACCOUNT_ID"),
            partial=partial,
            auto_tags=tags.session_tags() if self.settings.tag_sessions else None,
        )

    def merge(self, new: dict[str, Any]) -> None:
        """Add ``%%configure`` options; one that is refused changes nothing."""
        from glue_magics.options import OptionError

        previous, self.configured = self.configured, {**self.configured, **new}
        try:
            self.resolve(partial=True)
        except OptionError:
            self.configured = previous  # nothing lost: the pending options stay as they were
            raise

    def client_settings(self) -> dict[str, Any]:
        """region, profile and endpoint_url only: managing sessions needs no complete request."""
        from glue_magics import options

        return options.client_settings(self.layers())


def _statement(client: Any, session_id: str, code: str, reporter: Reporter) -> dict:
    """RunStatement and wait, reporting the progress of each statement."""
    from glue_magics import lifecycle

    bars: dict[int, StatementBar] = {}

    def on_update(view: Any) -> None:
        bar = bars.get(view.id)
        if bar is None:
            bar = bars[view.id] = reporter.statement(view.id)
        bar.update(view.state, view.progress, view.elapsed)

    start = time.monotonic()
    state = "ERROR"
    try:
        statement = lifecycle.run_statement(client, session_id, code, on_update=on_update)
        state = statement.get("State", "")
        return statement
    finally:
        for bar in bars.values():
            bar.done(state, time.monotonic() - start)
