"""The IPython magics: parse a line or a cell, call down, hand the result to display.

Everything that decides something lives below (``options``, ``service``, ``lifecycle``);
this module only wires user input to those layers and turns their one-line errors into
``UsageError`` so IPython shows one line and no traceback.
"""

from __future__ import annotations

import atexit
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, observe

from glue_magics import sql

LOCAL = "local"  # the endpoint_url value that starts the embedded endpoint in this process
# CreateSession failures after which the service may have made the session all the same
_MAYBE_CREATED = frozenset(
    {"EndpointUnreachable", "InternalServiceException", "OperationTimeoutException"}
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


def _option_trait(kind: type, help: str) -> Any:
    """A per-option trait: ``None`` means "not set here", so lower sources show through."""
    trait = {str: Unicode, int: Int, float: Float, dict: Dict, list: List}[kind]
    return trait(default_value=None, allow_none=True, help=help).tag(config=True)


@magics_class
class GlueMagics(Magics):
    """AWS Glue interactive sessions from IPython.

    Settings are traitlets: ``%config GlueMagics`` lists them, ``%config GlueMagics.x = v``
    or ``c.GlueMagics.x`` in ``ipython_config.py`` sets them.
    """

    # -- session options (the "config" source; see glue_magics.options for the rules) --
    role = _option_trait(str, "IAM role ARN the session runs as.")
    worker_type = _option_trait(str, "Worker type, e.g. G.1X (Spark) or Z.2X (Ray).")
    number_of_workers = _option_trait(int, "Number of workers.")
    max_capacity = _option_trait(float, "DPUs, instead of worker type and count.")
    glue_version = _option_trait(str, "Glue version, e.g. 5.0.")
    idle_timeout = _option_trait(int, "Minutes idle before the session stops.")
    timeout = _option_trait(int, "Minutes before the session stops, idle or not.")
    session_type = _option_trait(str, "etl, streaming or ray.")
    python_version = _option_trait(str, "Python version of the session command.")
    connections = _option_trait(list, "Glue connection names.")
    security_config = _option_trait(str, "Security configuration name.")
    tags = _option_trait(dict, "Tags put on the session.")
    default_arguments = _option_trait(dict, "Job arguments (DefaultArguments).")
    spark_conf = _option_trait(dict, "Spark configuration, sent as --conf.")
    additional_python_modules = _option_trait(str, "pip requirements, comma-separated.")
    extra_py_files = _option_trait(str, "S3 paths of extra Python files.")
    extra_jars = _option_trait(str, "S3 paths of extra jars.")
    id = _option_trait(str, "Session id (else generated from id_prefix); one session at a time.")
    id_prefix = _option_trait(str, "Prefix of generated session ids.")
    description = _option_trait(str, "Session description.")
    request_origin = _option_trait(str, "RequestOrigin sent with the requests.")
    region = _option_trait(str, "AWS region (else the profile's or AWS_REGION).")
    profile = _option_trait(str, "AWS profile name.")
    endpoint_url = _option_trait(
        str, "Glue endpoint URL; 'local' starts the embedded local endpoint in this process."
    )

    # -- behaviour --
    progress = Enum(
        ["auto", "widget", "text", "none"],
        default_value="auto",
        help="How waits are shown: a widget, a text line, or nothing.",
    ).tag(config=True)
    stop_on_exit = Bool(
        True, help="Stop the sessions this kernel created when it shuts down or restarts."
    ).tag(config=True)
    auto_restart = Bool(
        False, help="Create a new session when the current one has timed out or stopped."
    ).tag(config=True)
    dpu_hour_price = Float(0.44, help="USD per DPU-hour, for cost estimates.").tag(config=True)
    wait_timeout = Float(1200.0, help="Seconds to wait for a session to be READY.").tag(config=True)
    stop_wait = Float(30.0, help="Seconds to wait for STOPPED after a stop.").tag(config=True)
    retry_mode = Enum(
        ["standard", "adaptive"], default_value="standard", help="botocore retry mode."
    ).tag(config=True)
    max_attempts = Int(5, help="botocore max attempts per call.").tag(config=True)
    local_provision_seconds = Float(
        3.0, help="Provisioning time of sessions on the embedded local endpoint."
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, config=getattr(shell, "config", None), **kwargs)
        if shell is not None and self not in shell.configurables:
            shell.configurables.append(self)
        self._configure: dict[str, Any] = {}  # the %%configure layer
        self._client: Any = None
        self._client_key: tuple | None = None
        self._clients: SessionClients | None = None  # those of the newest settings
        self._local: Any = None  # the embedded endpoint, when endpoint_url is 'local'
        self.session_id: str | None = None  # the current session
        self.created: dict[str, SessionClients] = {}  # sessions this kernel created
        self._attached: dict[str, SessionClients] = {}  # sessions reconnected to
        self._ready = False
        atexit.register(self.close)

    # ------------------------------------------------------------------ plumbing
    @observe("endpoint_url", "region", "profile", "retry_mode", "max_attempts")
    def _client_settings_changed(self, change: Any) -> None:
        self._client = None

    def _config_layer(self) -> dict[str, Any]:
        from glue_magics.options import OPTION_NAMES

        return {n: getattr(self, n) for n in OPTION_NAMES if getattr(self, n, None) is not None}

    def _layers(self, line: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
        from glue_magics import options

        profile_name = (line or {}).get("profile") or self._configure.get("profile") or self.profile
        return [
            ("line", line or {}),
            ("configure", self._configure),
            ("config", self._config_layer()),
            ("env", options.from_env(os.environ)),
            ("profile", options.from_profile(profile_name or os.environ.get("AWS_PROFILE"))),
        ]

    def resolve(self, line: dict[str, Any] | None = None, partial: bool = False) -> Any:
        """The effective ``SessionOptions``; an invalid one becomes a one-line UsageError.

        ``partial``: check what is set without requiring the role yet.
        """
        from glue_magics import options

        try:
            return options.SessionOptions.resolve(
                self._layers(line),
                account_id=os.environ.get("GLUE_ACCOUNT_ID") or os.environ.get("AWS_ACCOUNT_ID"),
                partial=partial,
            )
        except options.OptionError as exc:
            raise UsageError(str(exc)) from None

    def client(self, opts: Any = None) -> Any:
        """The Glue client, made once per (region, profile, endpoint).

        Without ``opts`` only the client settings are resolved, so managing sessions works
        before a session request is complete (no role set yet, say).
        """
        from glue_magics import options, service

        if opts is not None:
            settings = opts.client_settings()
        else:
            try:
                settings = options.client_settings(self._layers())
            except options.OptionError as exc:
                raise UsageError(str(exc)) from None
        endpoint = settings.get("endpoint_url")
        if endpoint == LOCAL:
            endpoint = self._local_endpoint()
        key = (settings.get("region"), settings.get("profile"), endpoint)
        if self._client is None or key != self._client_key:
            try:
                self._client = service.make_client(
                    region=key[0],
                    profile=key[1],
                    endpoint_url=endpoint,
                    retry_mode=self.retry_mode,
                    max_attempts=self.max_attempts,
                )
            except service.GlueError as exc:
                raise UsageError(str(exc)) from None
            self._client_key = key
        return self._client

    def client_for(self, session_id: str) -> Any:
        """The client a known session was made or found with (options may have changed since)."""
        return self._clients_for(session_id).glue

    def _clients_for(self, session_id: str) -> SessionClients:
        """A known session's own clients; for any other, those of the current settings."""
        known = self.created.get(session_id) or self._attached.get(session_id)
        return known or self._current_clients()

    def _current_clients(self, opts: Any = None) -> SessionClients:
        """The clients of the current settings (``opts``'s when given), for a new session."""
        from glue_magics import results

        glue = self.client(opts)
        if self._clients is None or self._clients.glue is not glue:
            region, profile, endpoint = self._client_key or (None, None, None)
            s3 = results.s3_client_factory(region, profile)
            self._clients = SessionClients(glue, region, profile, endpoint, s3)
        return self._clients

    def _local_endpoint(self) -> str:
        if self._local is None:
            from glue_magics.local import LocalEndpoint

            self._local = LocalEndpoint(provision_seconds=self.local_provision_seconds).start()
            self._display().info_line(f"Started the local Glue endpoint at {self._local.url}")
        return self._local.url

    @staticmethod
    def _display() -> Any:
        from glue_magics import display

        return display

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a lifecycle call; its GlueError becomes one line, not a traceback."""
        from glue_magics.service import GlueError

        try:
            return fn(*args, **kwargs)
        except GlueError as exc:
            raise UsageError(str(exc)) from None

    # ------------------------------------------------------------------ waiting
    def _wait(self, session_id: str, cost: str = "") -> dict:
        """Wait for READY with the progress display; Ctrl-C stops a session we created.

        ``cost`` (e.g. "5 DPU, ~$2.20/h") is shown with READY, so the meter is in view.
        """
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        display = self._display()
        bar = display.SessionProgress(display.choose_mode(self.progress), session_id)
        start = time.monotonic()

        def on_update(view: Any) -> None:
            bar.update(view.status, view.progress, view.elapsed)

        try:
            session = lifecycle.wait_ready(
                self.client_for(session_id),
                session_id,
                on_update=on_update,
                timeout=self.wait_timeout,
            )
        except KeyboardInterrupt:
            bar.fail("INTERRUPTED", "interrupted while waiting")
            if session_id in self.created:
                status = self._stop_quietly(session_id)
                display.error_line(f"Interrupted: stopped session {session_id} ({status}).")
            else:
                display.error_line(
                    f"Interrupted: session {session_id} was not created here and is left running; "
                    f"stop it with %glue_stop {session_id}"
                )
            self._forget(session_id)
            raise
        except GlueError as exc:
            bar.fail(getattr(exc, "status", "FAILED"), str(exc))  # the one line the user sees
            if exc.session_ended:
                self._forget(session_id)
            # else it may be alive (a wait timed out, Glue stopped answering): it stays the
            # current session, and the next cell that needs it waits for it again
            raise Shown(str(exc)) from None
        bar.succeed(time.monotonic() - start, cost or _cost_note(session, self.dpu_hour_price))
        self._ready = True
        return session

    def _forget(self, session_id: str) -> None:
        if self.session_id == session_id:
            self.session_id = None
            self._ready = False

    def _stop_quietly(self, session_id: str, wait: float | None = None) -> str:
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        wait = self.stop_wait if wait is None else wait
        try:
            client = self.client_for(session_id)
            status = lifecycle.stop_session(client, session_id, wait=wait)
        except (GlueError, UsageError) as exc:
            return f"stop failed: {exc}"
        self.created.pop(session_id, None)
        return status

    def _create(self, opts: Any, wait: bool = True) -> str:
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        request = opts.request()
        clients = self._current_clients(opts)
        client = clients.glue
        session_id = request["Id"]
        # Tracked before the call: a session whose answer got lost must still be stopped.
        self.created[session_id] = clients
        try:
            # no longer than a whole wait for READY may take
            patience = min(lifecycle.CREATE_PATIENCE, self.wait_timeout)
            lifecycle.create_session(client, request, patience=patience)
        except KeyboardInterrupt:
            self._stop_quietly(session_id)
            raise
        except GlueError as exc:
            if exc.code not in _MAYBE_CREATED:
                self.created.pop(session_id, None)
                raise UsageError(str(exc)) from None
            raise UsageError(
                f"{exc} (session {session_id} may exist: it is stopped when this kernel exits, "
                f"or now with %glue_stop {session_id})"
            ) from None
        self.session_id = session_id
        self._ready = False
        cost = f"{opts.dpus():g} DPU, ~${opts.cost_per_hour(self.dpu_hour_price):.2f}/h"
        self._display().info_line(
            f"Creating session {session_id}: {cost} while it lives (%glue_stop ends it)."
        )
        if wait:
            self._wait(session_id, cost)
        return session_id

    def ensure_session(self) -> str:
        """The current session, READY: waits for one still provisioning, creates one if none."""
        if self.session_id is None:
            self._create(self.resolve())
        elif not self._ready:
            self._wait(self.session_id)
        return self.session_id  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the sessions this kernel created (stop_on_exit) and the local endpoint."""
        if self.stop_on_exit:
            for session_id in list(self.created):
                # No waiting for STOPPED: a kernel being shut down is given only seconds.
                status = self._stop_quietly(session_id, wait=0)
                self._forget(session_id)
                print(f"glue-magics: stopped session {session_id} ({status})", flush=True)
        self.created.clear()
        if self._local is not None:
            self._local.stop()
            self._local = None

    # ------------------------------------------------------------------ options magics
    @magic_arguments()
    @argument("--role", help="IAM role ARN the session runs as.")
    @argument("--worker-type", dest="worker_type", help="G.025X, G.1X, G.2X, G.4X, G.8X, Z.2X.")
    @argument("--workers", help="Number of workers (NumberOfWorkers).")
    @argument("--max-capacity", dest="max_capacity", help="DPUs, instead of --worker-type.")
    @argument("--glue-version", dest="glue_version", help="Glue version, e.g. 5.0.")
    @argument("--idle-timeout", dest="idle_timeout", help="Minutes idle before it stops.")
    @argument("--timeout", help="Minutes before it stops, idle or not.")
    @argument("--session-type", dest="session_type", help="etl, streaming or ray.")
    @argument("--python-version", dest="python_version", help="Python version, e.g. 3.")
    @argument("--connections", help="Glue connections, comma-separated: A,B.")
    @argument("--security-config", dest="security_config", help="Security configuration.")
    @argument("--tag", action="append", help="KEY=VALUE tag; repeatable.")
    @argument("--arg", action="append", help="KEY=VALUE job argument; repeatable.")
    @argument("--conf", action="append", help="KEY=VALUE Spark conf; repeatable.")
    @argument("--python-modules", dest="python_modules", help="pip requirements, A,B.")
    @argument("--extra-py-files", dest="extra_py_files", help="S3 paths of Python files.")
    @argument("--extra-jars", dest="extra_jars", help="S3 paths of jars.")
    @argument("--id", help="Session id (else generated).")
    @argument("--id-prefix", dest="id_prefix", help="Prefix of the generated session id.")
    @argument("--description", help="Session description.")
    @argument("--request-origin", dest="request_origin", help="RequestOrigin of the request.")
    @argument("--region", help="AWS region.")
    @argument("--profile", help="AWS profile.")
    @argument("--endpoint-url", dest="endpoint_url", help="Glue endpoint URL, or 'local'.")
    @argument("--dry-run", dest="dry_run", action="store_true", help="Print the request only.")
    @argument("--force", action="store_true", help="Stop a live session and create anew.")
    @argument("--no-wait", dest="no_wait", action="store_true", help="Return after create.")
    @line_magic
    def glue_session(self, line: str = "") -> None:
        """Create a Glue interactive session and wait for READY with live progress.

        Options not given here come from %%configure, %config GlueMagics, the
        environment (GLUE_ROLE_ARN, ...), the AWS profile's glue_* keys, then defaults.
        """
        args = self._parse(self.glue_session, line)
        from glue_magics import options

        try:
            flags = options.parse_line_flags(vars(args))
        except options.OptionError as exc:
            raise UsageError(str(exc)) from None
        opts = self.resolve(flags)
        display = self._display()
        if args.dry_run:
            print(options.dry_run_text(opts, self.dpu_hour_price))
            return
        if self.session_id is not None and not args.force:
            if self._ready:
                display.info_line(
                    f"Session {self.session_id} is already READY; "
                    "use %glue_session --force to stop it and create a new one."
                )
                return
            self._wait(self.session_id)
            return
        if self.session_id is not None:
            old = self.session_id
            display.info_line(f"Stopped session {old} ({self._stop_quietly(old)}).")
            self._forget(old)
        self._create(opts, wait=not args.no_wait)

    def _parse(self, magic: Any, line: str) -> Any:
        """magic_arguments parsing of words split as a shell splits them, with "did you mean"
        for misspelt flags.

        Not ``parse_argstring``: IPython splits with ``shlex`` in non-POSIX mode, which keeps
        the quotes, so ``--description 'a b'`` would send ``'a b'`` quotes and all.
        """
        try:
            return magic.parser.parse_args(_dash_values(magic.parser, line_words(line)))
        except UsageError as exc:
            message = str(exc)
            if "unrecognized arguments" in message:
                from glue_magics.options import suggest

                flags = [opt for action in magic.parser._actions for opt in action.option_strings]
                unknown = [w for w in message.split(":", 1)[1].split() if w.startswith("-")]
                hint = suggest(unknown[0].split("=")[0], flags) if unknown else ""
                raise UsageError(f"{message}{hint}") from None
            raise

    @magic_arguments()
    @argument("-f", "--force", action="store_true", help="Recreate a live session now.")
    @cell_magic
    def configure(self, line: str, cell: str) -> None:
        """Session options as a JSON object, e.g. {"worker_type": "G.2X", "number_of_workers": 10}.

        Keys: iam_role (or role), worker_type, number_of_workers, max_capacity, glue_version,
        idle_timeout, timeout, session_type (etl, streaming, ray), python_version,
        connections, security_config, session_id_prefix (or id_prefix), tags,
        default_arguments, spark_conf, additional_python_modules, extra_py_files, extra_jars,
        description, region, profile, endpoint_url; the API's PascalCase names (WorkerType,
        DefaultArguments, ... and any member a newer botocore adds); and "--key" job
        arguments. Applies to the next session; with -f a live session is stopped and
        created anew with the merged options.
        """
        args = self._parse(self.configure, line)
        from glue_magics import options

        try:
            new = options.parse_configure(cell)
        except options.OptionError as exc:
            raise UsageError(str(exc)) from None
        merged = {**self._configure, **new}
        previous, self._configure = self._configure, merged
        try:
            self.resolve(partial=True)
        except UsageError:
            self._configure = previous  # nothing lost: the pending options stay as they were
            raise
        display = self._display()
        if self.session_id is None:
            display.info_line(f"Options set for the next session: {', '.join(sorted(new))}.")
            return
        if not args.force:
            display.info_line(
                f"Options set for the next session; session {self.session_id} keeps its own. "
                "Use %%configure -f to stop it and create a new one with these."
            )
            return
        opts = self.resolve()  # a new session now: the request must be complete
        old = self.session_id
        display.info_line(f"Stopped session {old} ({self._stop_quietly(old)}).")
        self._forget(old)
        self._create(opts)

    @line_magic
    def glue_config(self, line: str = "") -> None:
        """The effective session options and where each value came from."""
        opts = self.resolve(partial=True)
        display = self._display()
        rows = list(opts.table())
        if "role" not in opts.values:
            rows.insert(0, ("role", "(not set: needed before %glue_session)", ""))
        display.key_values(rows, title="Glue session options")
        display.info_line(
            f"Estimated cost: {opts.dpus():g} DPU x ${self.dpu_hour_price:g} = "
            f"${opts.cost_per_hour(self.dpu_hour_price):.2f} per hour"
        )

    # ------------------------------------------------------------------ session magics
    @line_magic
    def glue_status(self, line: str = "") -> None:
        """Id, status, progress, sizes, timeouts, elapsed time and the cost so far."""
        from glue_magics import lifecycle

        session_id = line_value(line) or self.session_id
        if not session_id:
            raise UsageError("no session yet; start one with %glue_session")
        session = self._call(lifecycle.get_session, self.client_for(session_id), session_id)
        if session_id == self.session_id and session.get("Status") in lifecycle.LIVE_STATES:
            self._ready = True  # found live (READY or BUSY): code runs without another wait
        self._display().key_values(_status_rows(session, self.dpu_hour_price), title="Glue session")

    @line_magic
    def glue_stop(self, line: str = "") -> None:
        """Stop the current session (or the one given) and wait, bounded, for STOPPED."""
        from glue_magics import lifecycle

        session_id = line_value(line) or self.session_id
        if not session_id:
            raise UsageError("no session to stop; give an id: %glue_stop ID")
        status = self._call(
            lifecycle.stop_session, self.client_for(session_id), session_id, wait=self.stop_wait
        )
        client = self.client_for(session_id)
        self.created.pop(session_id, None)
        self._attached.pop(session_id, None)
        self._forget(session_id)
        spent = self._spent(client, session_id)
        if status == "STOPPING":
            self._display().info_line(
                f"Session {session_id} is still STOPPING after {self.stop_wait:g} s; "
                "the service is ending it, check with %glue_sessions."
            )
        else:
            self._display().info_line(f"Session {session_id} {status}{spent}.")

    def _spent(self, client: Any, session_id: str) -> str:
        """ ", after 12 min: 3600 DPU-seconds, about $0.44" once the service has the figures."""
        from glue_magics import lifecycle
        from glue_magics.service import GlueError

        try:
            session = lifecycle.get_session(client, session_id)
        except GlueError:
            return ""
        dpu_seconds, ran = session.get("DPUSeconds"), session.get("ExecutionTime")
        if dpu_seconds is None:
            return ""
        took = f" after {_duration(ran)}" if ran else ""
        cost = dpu_seconds / 3600 * self.dpu_hour_price
        money = f"${cost:.2f}" if cost >= 0.01 else f"${cost:.4f}"
        return f"{took}: {dpu_seconds:g} DPU-seconds, about {money}"

    @line_magic
    def glue_sessions(self, line: str = "") -> None:
        """The sessions in the region (all pages); those this kernel created are marked."""
        from glue_magics import lifecycle

        sessions = self._call(lifecycle.list_sessions, self.client())
        rows = [
            {
                "Id": s.get("Id", ""),
                "Status": s.get("Status", ""),
                "Created": _when(s.get("CreatedOn")),
                "Worker": s.get("WorkerType", ""),
                "Workers": s.get("NumberOfWorkers", ""),
                "Glue": s.get("GlueVersion", ""),
                "Here": _here(s.get("Id"), self.session_id, self.created),
            }
            for s in sessions
        ]
        self._display().table(rows, title=f"{len(rows)} Glue session(s)")

    @line_magic
    def glue_reconnect(self, line: str = "") -> None:
        """Attach to an existing session, waiting for READY if it is still provisioning."""
        session_id = line_value(line)
        if not session_id:
            raise UsageError("give the session id: %glue_reconnect ID (see %glue_sessions)")
        self._attached[session_id] = self._current_clients()
        self.session_id = session_id
        self._ready = False
        self._wait(session_id)

    # ------------------------------------------------------------------ running code
    @line_cell_magic
    def glue(self, line: str = "", cell: str | None = None) -> None:
        """Run the cell in the session (creating one from the pending options if none)."""
        code = cell if cell is not None else line
        if not code.strip():
            return
        self._run(code)

    def _run(self, code: str) -> Any:
        """Run code and show its output as the cell's; returns the ``results.Outcome``."""
        outcome = self._execute(code)
        self._display().show_output(outcome.output)
        return outcome

    def _execute(self, code: str) -> Any:
        """Run code in the session and read how it ended (a ``results.Outcome``).

        Results held in S3 are fetched with the session's own S3 client.  A failed
        statement shows its output (what was printed before the exception, FAILED's
        streams and reason) and fails the cell: with the remote exception (RemoteError)
        or one line (UsageError).  A session found dead by the statement call itself
        (there is no GetSession per cell) is reported, or replaced once when
        ``auto_restart`` is on.
        """
        from glue_magics import results
        from glue_magics.service import GlueError

        session_id = self._session_for_code()
        try:
            statement = self._statement(session_id, code)
        except GlueError as exc:
            if not exc.session_ended:
                raise UsageError(str(exc)) from None
            self._forget(session_id)
            if not self.auto_restart:
                raise UsageError(str(exc)) from None
            self._display().info_line(f"{exc} (auto_restart: creating a new session)")
            session_id = self.ensure_session()
            statement = self._call(self._statement, session_id, code)
        outcome = results.read_statement(statement, session_id, self._clients_for(session_id).s3)
        if outcome.failed:
            self._display().show_output(outcome.output)
            if outcome.one_line:
                raise UsageError(outcome.evalue)
            raise RemoteError.make(outcome.ename, outcome.evalue, outcome.traceback)
        return outcome

    def _statement(self, session_id: str, code: str) -> dict:
        """RunStatement and wait, with a progress bar for statements longer than a second."""
        from glue_magics import lifecycle

        display = self._display()
        mode = display.choose_mode(self.progress)
        bars: dict[int, Any] = {}

        def on_update(view: Any) -> None:
            bar = bars.get(view.id)
            if bar is None:
                bar = bars[view.id] = display.StatementProgress(mode, view.id)
            bar.update(view.state, view.progress, view.elapsed)

        start = time.monotonic()
        state = "ERROR"
        try:
            statement = lifecycle.run_statement(
                self.client_for(session_id), session_id, code, on_update=on_update
            )
            state = statement.get("State", "")
            return statement
        finally:
            for bar in bars.values():
                bar.done(state, time.monotonic() - start)

    def _session_for_code(self) -> str:
        """The READY session code runs in; a dead one is reported (or replaced if auto_restart)."""
        from glue_magics import lifecycle

        if self.session_id is not None and self._ready:
            return self.session_id
        if self.session_id is not None:
            session = self._call(
                lifecycle.get_session, self.client_for(self.session_id), self.session_id
            )
            if session.get("Status") in lifecycle.DEAD_STATES:
                ended = self.session_id
                self._forget(ended)
                if not self.auto_restart:
                    raise UsageError(
                        f"session {ended} is {session.get('Status')}; start a new one with "
                        "%glue_session (or %config GlueMagics.auto_restart = True)"
                    )
        return self.ensure_session()

    @magic_arguments()
    @argument("-o", "--output", help="Also store the result in this variable.")
    @argument("-n", "--max-rows", dest="max_rows", type=int, default=20, help="Rows shown.")
    @cell_magic
    def glue_sql(self, line: str, cell: str) -> None:
        """Run Spark SQL in the session and show the result as a table."""
        args = self._parse(self.glue_sql, line)
        if args.max_rows < 0:
            raise UsageError(f"-n {args.max_rows} is negative; give a row count, e.g. -n 20")
        if not cell.strip():
            raise UsageError("%%glue_sql needs a query in the cell, e.g. SELECT 1")
        try:
            outcome = self._execute(sql.code(cell, args.max_rows))
        except RemoteError as exc:
            if exc.ename == "NameError" and "spark" in exc.evalue:
                raise UsageError(
                    "this session has no Spark (`spark` is undefined): %%glue_sql needs a "
                    "Spark session; on the local endpoint install pyspark and Java"
                ) from None
            raise
        try:
            result = sql.parse(outcome.output.stdout)
        except ValueError as exc:
            raise UsageError(f"could not read the %%glue_sql result: {exc}") from None
        display = self._display()
        display.table(result.rows_as_dicts(), columns=result.columns, title=result.title())
        if args.output:
            self.shell.user_ns[args.output] = result.frame()


# Misspelt flags must be errors with a "did you mean", not silently taken as abbreviations.
for _magic in (GlueMagics.glue_session, GlueMagics.configure, GlueMagics.glue_sql):
    _magic.parser.allow_abbrev = False


def line_words(line: str) -> list[str]:
    """A magic's line split into words as a POSIX shell would: quotes removed, escaped
    quotes kept (``--description 'nightly backfill'`` is one word, ``nightly backfill``).

    An unterminated quote is a one-line UsageError, not shlex's ValueError.
    """
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{line.strip()!r} cannot be read: {exc}; close the quote") from None


def _dash_values(parser: Any, words: list[str]) -> list[str]:
    """``--flag -x`` -> ``--flag=-x`` when ``-x`` is not a flag: a shell passes ``-x`` as the
    flag's value, while argparse would take it for a flag and refuse the line."""
    flags = {opt for action in parser._actions for opt in action.option_strings}
    takes_value = {
        opt for action in parser._actions if action.nargs != 0 for opt in action.option_strings
    }
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if word in takes_value and nxt is not None and nxt.startswith("-") and nxt not in flags:
            out.append(f"{word}={nxt}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def line_value(line: str) -> str:
    """The one value a magic such as ``%glue_stop ID`` or ``%iam_role ARN`` takes: its words
    read as a shell reads them, joined by single spaces (so quoting is optional)."""
    return " ".join(line_words(line))


class Shown(Exception):
    """An error the display has already shown in one line: the cell fails, nothing more is printed.

    IPython renders ``_render_traceback_`` instead of a traceback; an empty one prints nothing,
    while the execute reply still says "error", so "Run all" stops here.
    """

    def _render_traceback_(self) -> list[str]:
        return []


class RemoteError(Exception):
    """An exception raised in the session, shown with its remote traceback.

    IPython renders ``_render_traceback_`` instead of a local traceback, and the
    execute reply's ``ename`` is the remote exception's name, so "Run all" stops here.
    """

    ename = "RemoteError"

    def __init__(self, evalue: str, traceback: list[str]) -> None:
        super().__init__(evalue)
        self.evalue = evalue
        self.remote_traceback = traceback

    @classmethod
    def from_output(cls, output: dict) -> RemoteError:
        """The error of a statement ``Output`` with ErrorName, ErrorValue and Traceback."""
        return cls.make(
            str(output.get("ErrorName") or "RemoteError"),
            str(output.get("ErrorValue") or ""),
            list(output.get("Traceback") or []),
        )

    @classmethod
    def make(cls, ename: str, evalue: str, traceback: list[str]) -> RemoteError:
        """An instance whose class is named ``ename``, so the execute reply carries it."""
        name = ename or "RemoteError"
        safe = name if name.isidentifier() else "RemoteError"
        sub = type(safe, (cls,), {"ename": name, "__module__": "glue_session"})
        return sub(evalue, [str(line) for line in traceback])

    def _render_traceback_(self) -> list[str]:
        lines = [line.rstrip("\n") for line in self.remote_traceback]
        if not lines or self.ename not in lines[-1]:
            lines.append(f"{self.ename}: {self.evalue}")
        return lines


def _here(session_id: Any, current: str | None, created: dict[str, Any]) -> str:
    """What a listed session is to this kernel: the current one, or one it created."""
    if session_id == current:
        return "current"
    return "created here" if session_id in created else ""


def _cost_note(session: dict, price: float) -> str:
    """ "5 DPU, ~$2.20/h" from a session's MaxCapacity (sessions we did not create)."""
    dpus = session.get("MaxCapacity")
    return f"{dpus:g} DPU, ~${dpus * price:.2f}/h" if isinstance(dpus, int | float) else ""


def _duration(seconds: float) -> str:
    """12.5 s, 14 min, 3 h 05 min: a session's running time as people say it."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def _when(value: Any) -> str:
    if value is None or value == "":
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _status_rows(session: dict, price: float) -> list[tuple[str, Any]]:
    """What %glue_status shows: the facts, and the cost so far from DPUSeconds."""
    created = session.get("CreatedOn")
    seconds = time.time() - created.timestamp() if hasattr(created, "timestamp") else None
    elapsed = f"{seconds:.0f} s" if seconds is not None else ""
    dpu_seconds = session.get("DPUSeconds")
    if dpu_seconds is not None:
        cost = f"${dpu_seconds / 3600 * price:.4f}"
    elif seconds is not None and session.get("MaxCapacity"):
        # The service fills DPUSeconds when the session ends; until then, estimate it.
        cost = f"~${seconds * session['MaxCapacity'] / 3600 * price:.4f} (estimated)"
    else:
        cost = "n/a"
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
        ("Created", _when(created)),
        ("Elapsed", elapsed),
        ("Execution time", unit("ExecutionTime", " s")),
        ("DPU seconds", session.get("DPUSeconds")),
        ("Cost so far", cost),
        ("Error", session.get("ErrorMessage")),
    ]
    return [(name, value) for name, value in rows if value not in (None, "")]  # only what is known
