"""The IPython magics: parse a line or a cell, call the session manager, hand the result to display.

Everything that decides something lives below (``sessions``, ``options``, ``service``,
``lifecycle``); this module holds the settings (traitlets), parses user input, and turns
the one-line errors from below into ``UsageError`` so IPython shows one line and no
traceback.
"""

from __future__ import annotations

import atexit
import functools
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Dict, Enum, Float, Int, List, Unicode, observe

from glue_magics import sessions, sql
from glue_magics.sessions import SessionClients, SessionManager, Settings, Shown

__all__ = ["GlueMagics", "RemoteError", "Shown", "line_value", "line_words"]

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(fn: F) -> F:
    """The error-mapping decorator: a ``GlueError`` or ``OptionError`` from below (one line
    already) becomes a ``UsageError``, which IPython shows as one line, no traceback; the
    display words its next step with the magic to run (``display.explain``)."""

    @functools.wraps(fn)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            from glue_magics.options import OptionError
            from glue_magics.service import GlueError

            if isinstance(exc, GlueError | OptionError):
                from glue_magics.display import explain

                raise UsageError(explain(exc)) from None
            raise

    return mapped  # type: ignore[return-value]


def _option_trait(kind: type, help: str) -> Any:
    """A per-option trait: ``None`` means "not set here", so lower sources show through."""
    trait = {str: Unicode, int: Int, float: Float, dict: Dict, list: List}[kind]
    return trait(default_value=None, allow_none=True, help=help).tag(config=True)


def _setting(trait: type, default: Any, help: str) -> Any:
    """A behaviour trait; its default is the session manager's (``sessions.Settings``)."""
    return trait(default, help=help).tag(config=True)


@magics_class
class GlueMagics(Magics):
    """AWS Glue interactive sessions from IPython.

    Settings are traitlets: ``%config GlueMagics`` lists them, ``%config GlueMagics.x = v``
    or ``c.GlueMagics.x`` in ``ipython_config.py`` sets them.  The sessions themselves are
    the business of :class:`~glue_magics.sessions.SessionManager` (``self.manager``), which
    reads the settings from here at each use.
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
    stop_on_exit = _setting(
        Bool,
        Settings.stop_on_exit,
        "Stop the sessions this kernel created when it shuts down or restarts.",
    )
    auto_restart = _setting(
        Bool,
        Settings.auto_restart,
        "Create a new session when the current one has timed out or stopped.",
    )
    dpu_hour_price = _setting(
        Float, Settings.dpu_hour_price, "USD per DPU-hour, for cost estimates."
    )
    wait_timeout = _setting(
        Float, Settings.wait_timeout, "Seconds to wait for a session to be READY."
    )
    stop_wait = _setting(Float, Settings.stop_wait, "Seconds to wait for STOPPED after a stop.")
    retry_mode = Enum(
        ["standard", "adaptive"], default_value=Settings.retry_mode, help="botocore retry mode."
    ).tag(config=True)
    max_attempts = _setting(Int, Settings.max_attempts, "botocore max attempts per call.")
    local_provision_seconds = _setting(
        Float,
        Settings.local_provision_seconds,
        "Provisioning time of sessions on the embedded local endpoint.",
    )
    watchdog = _setting(
        Bool,
        Settings.watchdog,
        "With stop_on_exit: a small process stops this kernel's sessions if it dies (SIGKILL too).",
    )

    @observe("stop_on_exit", "watchdog")
    def _rewatch(self, change: Any) -> None:
        """A changed setting reaches the watchdog at once (sessions it must stop, or not)."""
        manager = getattr(self, "_manager", None)  # None while the config is read at __init__
        if manager is not None:
            manager.created.sync()

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, config=getattr(shell, "config", None), **kwargs)
        if shell is not None and self not in shell.configurables:
            shell.configurables.append(self)
        self._manager: SessionManager | None = None
        atexit.register(self.close)

    # ------------------------------------------------------------------ the manager
    @property
    def manager(self) -> SessionManager:
        """The session manager, made at first use (so ``%load_ext`` stays cheap)."""
        if self._manager is None:
            self._manager = SessionManager(self, self._display().Reporter(lambda: self.progress))
        return self._manager

    @property
    def config_options(self) -> dict[str, Any]:
        """The session options set here: the "config" source (``Settings.config_options``)."""
        from glue_magics.options import OPTION_NAMES

        return {n: getattr(self, n) for n in OPTION_NAMES if getattr(self, n, None) is not None}

    @property
    def session_id(self) -> str | None:
        """The current session's id."""
        return self._manager.session_id if self._manager is not None else None

    @property
    def created(self) -> dict[str, SessionClients]:
        """The sessions this kernel created (stopped by ``close`` when ``stop_on_exit``)."""
        return self.manager.created

    @_one_line_errors
    def resolve(self, line: dict[str, Any] | None = None, partial: bool = False) -> Any:
        """The effective ``SessionOptions``; ``partial``: check what is set, role or not."""
        return self.manager.resolve(line, partial)

    @_one_line_errors
    def client(self, opts: Any = None) -> Any:
        """The Glue client of the current settings (``opts``'s when given)."""
        return self.manager.client(opts)

    @_one_line_errors
    def client_for(self, session_id: str) -> Any:
        """The client a known session was made or found with (options may have changed since)."""
        return self.manager.client_for(session_id)

    def close(self) -> None:
        """Stop the sessions this kernel created (stop_on_exit) and the local endpoint."""
        if self._manager is not None:
            self._manager.close()

    @staticmethod
    def _display() -> Any:
        from glue_magics import display

        return display

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
    @_one_line_errors
    def glue_session(self, line: str = "") -> None:
        """Create a Glue interactive session and wait for READY with live progress.

        Options not given here come from %%configure, %config GlueMagics, the
        environment (GLUE_ROLE_ARN, ...), the AWS profile's glue_* keys, then defaults.
        """
        from glue_magics import options

        args = self._parse(self.glue_session, line)
        opts = self.manager.resolve(options.parse_line_flags(vars(args)))
        if args.dry_run:
            print(options.dry_run_text(opts, self.dpu_hour_price))
            return
        self.manager.create(opts, force=args.force, wait=not args.no_wait)

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
    @_one_line_errors
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
        from glue_magics import options

        args = self._parse(self.configure, line)
        self.manager.configure(options.parse_configure(cell), force=args.force)

    @line_magic
    @_one_line_errors
    def glue_config(self, line: str = "") -> None:
        """The effective session options and where each value came from."""
        opts = self.manager.resolve(partial=True)
        display = self._display()
        rows = list(opts.table())
        if "role" not in opts.values:
            rows.insert(0, ("role", "(not set: needed before %glue_session)", ""))
        display.key_values(rows, title="Glue session options")
        display.info_line(f"Estimated cost: {opts.cost(self.dpu_hour_price).sum()}")

    # ------------------------------------------------------------------ session magics
    @line_magic
    @_one_line_errors
    def glue_status(self, line: str = "") -> None:
        """Id, status, progress, sizes, timeouts, elapsed time and the cost so far."""
        session = self.manager.status(line_value(line) or None)
        rows = sessions.status_rows(session, self.dpu_hour_price)
        self._display().key_values(rows, title="Glue session")

    @line_magic
    @_one_line_errors
    def glue_stop(self, line: str = "") -> None:
        """Stop the current session (or the one given) and wait, bounded, for STOPPED."""
        self.manager.stop(line_value(line) or None)

    @line_magic
    @_one_line_errors
    def glue_sessions(self, line: str = "") -> None:
        """The sessions in the region (all pages); those this kernel created are marked."""
        manager = self.manager
        rows = sessions.session_rows(manager.list_sessions(), manager.session_id, manager.created)
        self._display().table(rows, title=f"{len(rows)} Glue session(s)")

    @line_magic
    @_one_line_errors
    def glue_reconnect(self, line: str = "") -> None:
        """Attach to an existing session, waiting for READY if it is still provisioning."""
        self.manager.reconnect(line_value(line))

    # ------------------------------------------------------------------ running code
    @line_cell_magic
    @_one_line_errors
    def glue(self, line: str = "", cell: str | None = None) -> None:
        """Run the cell in the session (creating one from the pending options if none)."""
        code = cell if cell is not None else line
        if code.strip():
            self._display().show_output(self._execute(code).output)

    def _execute(self, code: str) -> Any:
        """Run code in the session (``SessionManager.run``); a failed statement shows its
        output (what was printed before the exception, FAILED's streams and reason) and
        fails the cell: with the remote exception (RemoteError) or one line (UsageError)."""
        outcome = self.manager.run(code)
        if outcome.failed:
            self._display().show_output(outcome.output)
            if outcome.error is not None:
                raise outcome.error  # one line, mapped by _one_line_errors
            raise RemoteError.make(outcome.ename, outcome.evalue, outcome.traceback)
        return outcome

    @magic_arguments()
    @argument("-o", "--output", help="Also store the result in this variable.")
    @argument("-n", "--max-rows", dest="max_rows", type=int, default=20, help="Rows shown.")
    @cell_magic
    @_one_line_errors
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
