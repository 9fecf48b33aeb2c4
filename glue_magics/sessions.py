"""The session manager: which sessions exist for this user, and what happens to them.

No IPython here (``magics`` parses a line and calls down; this module decides).  It holds
the pending ``%%configure`` options, the current session, the registry of sessions
created or reconnected to (each with the clients it was made with), the client cache and
the embedded local endpoint.  Its policy: a session is tracked before its CreateSession
(an answer may get lost), Ctrl-C while waiting stops a session created here and leaves
one only attached to, a wait that timed out keeps the session (it may be alive), one
that ended is forgotten, a dead session is replaced once when ``auto_restart`` is on,
and ``close`` stops what was created here (``stop_on_exit``).  With ``start =
"background"`` (``%glue_session --background``) the wait for READY goes on in a thread
(``starting.py``) whose outcome the first call that needs the session takes up, on the
manager's own thread.

Progress and messages go out through a :class:`Reporter` (the display implements it;
:class:`Quiet` shows nothing).  Errors are one line: ``service.GlueError`` and
``options.OptionError``, which the magics turn into a ``UsageError``; :class:`Shown` when
the reporter has already shown the failure.  What the user can do next travels as data
(``steps.NextStep``) with errors and messages alike; only the display names magics.
boto3 loads at the first call, not here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from glue_magics.budget import Budget
from glue_magics.cost import DPU_HOUR_PRICE, Cost
from glue_magics.starting import Background
from glue_magics.steps import Action, NextStep, steps_for

LOCAL = "local"  # the endpoint_url value that starts the embedded endpoint in this process
# CreateSession failures after which the service may have made the session all the same
_MAYBE_CREATED = frozenset(
    {"EndpointUnreachable", "InternalServiceException", "OperationTimeoutException"}
)


def _setting(
    default: Any, help: str, choices: tuple[str, ...] = (), minimum: float | None = None
) -> Any:
    """A setting's default, with the help, choices and least value ``GlueMagics`` makes its
    trait from (so ``%config`` refuses a value below it in one line, keeping the old one)."""
    return field(default=default, metadata={"help": help, "choices": choices, "min": minimum})


@dataclass
class Settings:
    """What the manager reads, at each use, so a changed setting applies at once.

    ``GlueMagics`` passes itself (its traits have these names and take these defaults);
    code without IPython passes an instance of this class.  ``config_options`` is the
    "config" source of session options (``%config GlueMagics.role = ...``).
    """

    config_options: Mapping[str, Any] = field(default_factory=dict)
    stop_on_exit: bool = _setting(
        True, "Stop the sessions this kernel created when it shuts down or restarts."
    )
    auto_restart: bool = _setting(
        False, "Create a new session when the current one has timed out or stopped."
    )
    dpu_hour_price: float = _setting(
        DPU_HOUR_PRICE, "USD per DPU-hour, for cost estimates.", minimum=0
    )
    wait_timeout: float = _setting(1200.0, "Seconds to wait for a session to be READY.", minimum=0)
    start: str = _setting(
        "wait",
        "How a new session is waited for: READY in the cell that created it, or in the "
        "background while other cells run (the first cell that needs the session waits for it).",
        ("wait", "background"),
    )
    stop_wait: float = _setting(30.0, "Seconds to wait for STOPPED after a stop.", minimum=0)
    retry_mode: str = _setting("standard", "botocore retry mode.", ("standard", "adaptive"))
    max_attempts: int = _setting(5, "botocore max attempts per call.", minimum=1)
    local_provision_seconds: float = _setting(
        3.0, "Provisioning time of sessions on the embedded local endpoint.", minimum=0
    )
    watchdog: bool = _setting(
        True,
        "With stop_on_exit: a small process stops this kernel's sessions if it dies (SIGKILL too).",
    )
    tag_sessions: bool = _setting(
        True,
        "Tag sessions created here (glue-magics:creator, user, host, notebook, kernel): "
        "how listing your sessions and reconnecting to the last one find them.",
    )
    budget_usd: float = _setting(
        0.0,
        "USD a session may cost: a warning at 80 %, then budget_action; 0: GLUE_BUDGET_USD, "
        "else none.",
        minimum=0,
    )
    budget_action: str = _setting(
        "refuse",
        "Over budget_usd: refuse new statements, or stop the session.",
        ("refuse", "stop"),
    )
    fetch_max_mb: float = _setting(
        512.0,
        "Largest result a SQL query's -o or a fetch brings home, in MB of compressed Arrow; "
        "a bigger one is refused with its size (the whole result always travels, -n only "
        "caps the rows shown).",
        minimum=0,
    )
    connect_ca_file: str = _setting(
        "",
        "Spark Connect sessions: a CA certificate (PEM) to trust, e.g. an external local "
        "endpoint's; '' (or GLUE_CONNECT_CA_FILE): the system's, and the embedded endpoint's.",
    )


@dataclass
class SessionClients:
    """The clients of one session: those it was created or reconnected with.

    A session keeps them whatever the settings become since (``%config
    GlueMagics.region = ...``): its statements, its results in S3 and its stop all go to
    its own region, profile and endpoint.
    """

    glue: Any
    region: str | None
    profile: str | None
    endpoint_url: str | None
    s3: Callable[[], Any]  # the S3 client for results held in S3, made at its first use
    embedded: bool = False  # on the endpoint in this process, which dies with it


# --------------------------------------------------------------------------- reporting


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
    """Where the manager's progress and messages go; ``display.Reporter`` draws them.

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


def _error(message: str, *steps: NextStep, code: str = "UsageError", **kwargs: Any) -> Exception:
    """A one-line ``GlueError`` with what to do next (imported here, so this module loads
    without it)."""
    from glue_magics.service import GlueError

    return GlueError(message, code, next_steps=steps, **kwargs)


# --------------------------------------------------------------------------- the manager


def _watched(settings: Settings) -> Any:
    """The registry of sessions created here, which the watchdog stops if the kernel dies
    (imported at first use: it brings ``signal``, and ``%load_ext`` must stay light)."""
    from glue_magics.watchdog import WatchedSessions

    return WatchedSessions(settings)


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
        self.created = _watched(self.settings)  # sessions created here (watchdog.py)
        self.attached: dict[str, SessionClients] = {}  # sessions reconnected to
        self.clients = ClientCache(self.settings, self.reporter)
        self.budget = Budget(self)  # asked before each statement (budget.py)
        self.connects = _connects(self)  # Spark Connect sessions' `spark` (connect.py)
        self.background = Background(self)  # a wait for READY in a thread (starting.py)
        self.code_language = "python"  # what plain code sent by this kernel is (kernel_scala)
        self.languages: dict[str, str] = {}  # session -> its statements' language

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
            self.reporter.info(f"Options set for the next session: {', '.join(sorted(new))}.")
        elif not force:
            self.reporter.info(
                f"Options set for the next session; session {self.session_id} keeps its own.",
                NextStep(Action.RECONFIGURE),
            )
        else:
            self.replace(self.resolve())  # a new session now: the request must be complete

    # ------------------------------------------------------------------ clients
    def client(self, opts: Any = None) -> Any:
        """The Glue client of the current settings (``opts``'s when given); without ``opts``
        an incomplete session request (no role yet, say) does not stand in the way."""
        return self.current_clients(opts).glue

    def client_for(self, session_id: str) -> Any:
        """The client a known session was made or found with (options may have changed since)."""
        return self.clients_for(session_id).glue

    def clients_for(self, session_id: str) -> SessionClients:
        """A known session's own clients; for any other, those of the current settings."""
        known = self.created.get(session_id) or self.attached.get(session_id)
        return known or self.current_clients()

    def current_clients(self, opts: Any = None) -> SessionClients:
        """The clients of the current settings (``opts``'s when given), for a new session."""
        wanted = opts.client_settings() if opts is not None else self.options.client_settings()
        return self.clients.get(wanted)

    # ------------------------------------------------------------------ waiting
    def wait(self, session_id: str, cost: str = "") -> dict:
        """Wait for READY, reporting progress and ``cost`` ("5 DPU, ~$2.20/h") with READY.

        Ctrl-C stops a session created here.  A failed wait is reported, then raised as
        :class:`Shown`; the session stays current unless it ended (it may be alive).  A
        session starting in the background is waited for by joining that wait."""
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        if self.background.of(session_id):
            return self.background.join()
        client = self.client_for(session_id)
        bar = self.reporter.session(session_id)
        start = time.monotonic()

        def on_update(view: Any) -> None:
            bar.update(view.status, view.progress, view.elapsed)

        try:
            session = lifecycle.wait_ready(
                client, session_id, on_update=on_update, timeout=self.settings.wait_timeout
            )
        except KeyboardInterrupt:
            bar.fail("INTERRUPTED", "interrupted while waiting")
            if session_id in self.created:
                status = self._stop_quietly(session_id)
                self.reporter.error(f"Interrupted: stopped session {session_id} ({status}).")
            else:
                self.reporter.error(
                    f"Interrupted: session {session_id} was not created here and is left running",
                    NextStep(Action.STOP, session_id),
                )
            self._forget(session_id)
            raise
        except GlueError as exc:
            bar.fail(exc.status or "FAILED", exc.message, *exc.next_steps)  # the line shown
            self.not_ready(session_id, exc)
            raise Shown(str(exc)) from None
        bar.succeed(time.monotonic() - start, self.ready_note(cost)(session))
        return self.became_ready(session)

    def ready_note(self, cost: str = "") -> Callable[[dict], str]:
        """What READY says beside it: ``cost`` ("5 DPU, ~$2.20/h"), else the session's rate."""
        price = self.settings.dpu_hour_price
        return lambda session: cost or Cost.of_session(session, price).rate()

    def became_ready(self, session: dict) -> dict:
        """The current session is live: marked ready, its Spark UI said, `spark` bound."""
        from glue_magics import logs

        self.ready = True
        session_id = session.get("Id") or self.session_id
        logs.announce_spark_ui(self.client_for(session_id), session_id, self.reporter)
        self.connects.ready(session)  # a Spark Connect session: `spark` is bound now
        if session_id:
            self.languages[session_id] = _language(session.get("DefaultArguments"))
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
        from glue_magics import lifecycle
        from glue_magics.options import OptionError
        from glue_magics.service import GlueError

        wait = self.settings.stop_wait if wait is None else wait
        self.background.call_off(session_id, "stopped while starting")
        try:
            client = self.client_for(session_id)
            status = lifecycle.stop_session(client, session_id, wait=wait)
        except (GlueError, OptionError) as exc:
            return f"stop failed: {exc}"
        self.created.pop(session_id, None)
        return status

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
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        request = opts.request()
        self.line = {n: v for n, v in opts.layer("line").items() if n != "id"}
        clients = self.current_clients(opts)
        session_id = request["Id"]
        self.languages[session_id] = _language(request.get("DefaultArguments"))
        # Tracked before the call: a session whose answer got lost must still be stopped.
        self.created[session_id] = clients
        try:
            # asked again no longer than a whole wait for READY may take
            patience = min(lifecycle.CREATE_PATIENCE, self.settings.wait_timeout)
            lifecycle.create_session(clients.glue, request, patience=patience)
        except KeyboardInterrupt:
            self._stop_quietly(session_id)
            raise
        except GlueError as exc:
            if exc.code not in _MAYBE_CREATED or not exc.connected:  # never reached Glue
                self.created.pop(session_id, None)
                raise
            exits = f"session {session_id} may exist: it is stopped when this kernel exits"
            step = NextStep(Action.STOP, session_id)
            raise _error(f"{exc.message}; {exits}", step, code=exc.code) from None
        self.session_id = session_id
        self.ready = False
        cost = opts.cost(self.settings.dpu_hour_price).rate()
        step = NextStep(Action.STOP, session_id)
        self.reporter.info(f"Creating session {session_id}: {cost} while it lives", step)
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
        self.created.close()  # the watchdog stops those whose stop failed, if stop_on_exit
        self.clients.close()

    # ------------------------------------------------------------------ running code
    def session_language(self) -> str:
        """The language of the session code would run in: the current session's, else the
        next one's (its pending options)."""
        if self.session_id is not None:
            return self.languages.get(self.session_id, "python")
        from glue_magics.options import OptionError

        try:
            value = self.resolve(self.line, partial=True).values.get("session_language")
        except OptionError:
            return self.code_language  # the create that follows says what is wrong
        return _language({"--session-language": value} if value else None)

    def check_language(self, language: str | None = None) -> None:
        """One line, before any call, when code of one language would go to a session of
        another: a Glue session's language is fixed when it is created."""
        code = language or self.code_language
        session = self.session_language()
        if code == session:
            return
        which = f"session {self.session_id}" if self.session_id else "the next session"
        if session == "scala":
            fix = "run it in the glue_magics_scala kernel (Glue Spark), or use a Python session"
        else:
            fix = "use a Scala session"
        fix += f" (session_language {code})"
        steps = (NextStep(Action.REPLACE),) if self.session_id else ()
        raise _error(
            f"this is {code.capitalize()} code and {which} is a {session.capitalize()} "
            f"session; {fix}",
            *steps,
            code="WrongLanguage",
        )

    def run(self, code: str, max_bytes: int | None = None, language: str | None = None) -> Any:
        """Run code in the current session (made ready first) and read how it ended: a
        ``results.Outcome``, failed or not (the caller shows it), its S3-held results read
        with the session's own S3 client (at most ``max_bytes`` each, else results' cap).
        A session found dead by the statement call itself (no GetSession per cell) is an
        error, or replaced once with auto_restart."""
        from glue_magics import results
        from glue_magics.service import GlueError

        self.check_language(language)
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


def _language(default_arguments: Any) -> str:
    from glue_magics.options import session_language

    return session_language(default_arguments if isinstance(default_arguments, dict) else None)


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


class ClientCache:
    """The clients of the newest client settings, made once for each (region, profile,
    endpoint, retry settings), and the embedded local endpoint when one is asked for."""

    def __init__(self, settings: Settings, reporter: Reporter) -> None:
        self.settings = settings
        self.reporter = reporter
        self._newest: SessionClients | None = None
        self._key: tuple | None = None
        self._local: Any = None  # the embedded endpoint, when endpoint_url is 'local'

    def get(self, wanted: Mapping[str, Any]) -> SessionClients:
        """The clients for ``wanted`` region, profile and endpoint_url (each may be unset)."""
        from glue_magics import results, service

        region, profile = wanted.get("region"), wanted.get("profile")
        endpoint = wanted.get("endpoint_url")
        embedded = endpoint == LOCAL
        if embedded:
            endpoint = self._local_endpoint()
        retry_mode, max_attempts = self.settings.retry_mode, self.settings.max_attempts
        key = (region, profile, endpoint, retry_mode, max_attempts)
        if self._newest is None or key != self._key:
            glue = service.make_client(
                region=region,
                profile=profile,
                endpoint_url=endpoint,
                retry_mode=retry_mode,
                max_attempts=max_attempts,
                credentials=self._local.credentials if embedded else None,  # it answers no other
            )
            s3 = results.s3_client_factory(region, profile)
            self._newest = SessionClients(glue, region, profile, endpoint, s3, embedded)
            self._key = key
        return self._newest

    def _local_endpoint(self) -> str:
        if self._local is None:
            from glue_magics.local import LocalEndpoint

            seconds = self.settings.local_provision_seconds
            # a pair of its own, handed to the client below: no other process can call it
            local = LocalEndpoint(provision_seconds=seconds, generate_credentials=True)
            self._local = local.start()
            self.reporter.info(f"Started the local Glue endpoint at {self._local.url}")
        return self._local.url

    def close(self) -> None:
        """Stop the embedded endpoint, if one was started."""
        if self._local is not None:
            self._local.stop()
            self._local = None


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


# --------------------------------------------------------------------------- what is shown


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
