"""The IPython magics: parse a line or a cell, call the session manager, hand the result to display.

Everything that decides something lives below (``sessions``, ``options``, ``service``,
``lifecycle``); here are the settings (traitlets; the session options' are generated from
:data:`glue_magics.specs.SPECS`, the manager's from ``settings``) and the magics, which
read their line with ``arguments`` and turn the one-line errors from below into
``UsageError`` there (``arguments.one_line_errors``): one line, no traceback.
"""

from __future__ import annotations

import atexit
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Enum, observe

from glue_magics import arguments, lazy_module, reporting, settings, specs
from glue_magics.arguments import line_value, one_line_errors
from glue_magics.clients import SessionClients
from glue_magics.reporting import Shown
from glue_magics.sessions import SessionManager
from glue_magics.specs import SPECS

inventory = lazy_module("glue_magics.inventory")  # loaded when a magic first needs it
logs = lazy_module("glue_magics.logs")
display = lazy_module("glue_magics.display")

__all__ = ["GlueMagics", "Shown"]


@magics_class
class GlueMagics(Magics):
    """AWS Glue interactive sessions from IPython.

    Settings are traitlets: ``%config GlueMagics`` lists them, ``%config GlueMagics.x = v``
    or ``c.GlueMagics.x`` in ``ipython_config.py`` sets them.  The sessions themselves are
    the business of :class:`~glue_magics.sessions.SessionManager` (``self.manager``), which
    reads the settings from here at each use.
    """

    # -- session options, one trait per row of specs.SPECS (see glue_magics.options)
    locals().update(specs.option_traits())  # the class namespace, as the metaclass will get it

    # -- behaviour: the session manager's settings (settings.Settings), and how waits show --
    progress = Enum(
        ["auto", "widget", "text", "none"],
        default_value="auto",
        help="How waits are shown: a widget, a text line, or nothing.",
    ).tag(config=True)
    locals().update(settings.setting_traits())

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
            from glue_magics.progress import Reporter

            self._manager = SessionManager(self, Reporter(lambda: self.progress))
            self._manager.connects.namespace = getattr(self.shell, "user_ns", None)  # `spark`
        return self._manager

    @property
    def config_options(self) -> dict[str, Any]:
        """The session options set here: the "config" source (``Settings.config_options``)."""
        values = {spec.name: getattr(self, spec.name) for spec in SPECS}
        return {name: value for name, value in values.items() if value is not None}

    @property
    def session_id(self) -> str | None:
        """The current session's id."""
        return self._manager.session_id if self._manager is not None else None

    @property
    def created(self) -> dict[str, SessionClients]:
        """The sessions this kernel created (stopped by ``close`` when ``stop_on_exit``)."""
        return self.manager.created

    def close(self) -> None:
        """Stop the sessions this kernel created (stop_on_exit) and the local endpoint."""
        if self._manager is not None:
            self._manager.close()

    @magic_arguments()
    @arguments.option_flags()
    @argument("--dry-run", dest="dry_run", action="store_true", help="Print the request only.")
    @argument("--force", action="store_true", help="Stop a live session and create anew.")
    @argument("--no-wait", dest="no_wait", action="store_true", help="Return after create.")
    @argument(
        "--background",
        action="store_true",
        help="Return after create; the wait for READY goes on (its progress here) while other "
        "cells run, and the first cell that needs the session waits for it.",
    )
    @argument("-h", "--help", action="store_true", help="This help, with the model's values.")
    @line_magic
    @one_line_errors
    def glue_session(self, line: str = "") -> None:
        """Create a Glue interactive session and wait for READY with live progress.

        Options not given here come from %%configure, %config GlueMagics, the
        environment (GLUE_ROLE_ARN, ...), the AWS profile's glue_* keys, then defaults.
        """
        from glue_magics import options

        args = vars(arguments.parse(self.glue_session, line))
        if args["help"]:
            print(self.glue_session.parser.format_help().removeprefix("::\n\n  "))
            return
        if args["background"] and args["no_wait"]:
            raise UsageError(
                "--background and --no-wait contradict each other: --background waits for "
                "READY while other cells run, --no-wait does not wait at all; give one"
            )
        flags = {dest: value for dest, value in args.items() if dest in specs.FLAGS}
        opts = self.manager.resolve(options.parse_line_flags(flags))
        if args["dry_run"]:
            print(options.dry_run_text(opts, self.dpu_hour_price))
            return
        background = True if args["background"] else None  # None: as the `start` setting says
        self.manager.create(
            opts, force=args["force"], wait=not args["no_wait"], background=background
        )

    @magic_arguments()
    @argument("-f", "--force", action="store_true", help="Recreate a live session now.")
    @cell_magic
    @one_line_errors
    @arguments.with_configure_keys
    def configure(self, line: str, cell: str) -> None:
        """Session options as a JSON object, e.g. {"worker_type": "G.2X", "number_of_workers": 10}.

        {keys} the API's PascalCase names (WorkerType, DefaultArguments, ... and any member a newer
        botocore adds); and "--key" job arguments. Applies to the next session; with -f a
        live session is stopped and created anew with the merged options.
        """
        from glue_magics import options

        args = arguments.parse(self.configure, line)
        self.manager.configure(options.parse_configure(cell), force=args.force)

    @line_magic
    @one_line_errors
    def glue_config(self, line: str = "") -> None:
        """The effective session options and where each value came from."""
        opts = self.manager.resolve(partial=True)
        rows = list(opts.table())
        if "role" not in opts.values:
            rows.insert(0, ("role", "(not set: needed before %glue_session)", ""))
        display.key_values(rows, title="Glue session options")
        display.info_line(f"Estimated cost: {opts.cost(self.dpu_hour_price).sum()}")

    # ------------------------------------------------------------------ session magics
    @line_magic
    @one_line_errors
    def glue_status(self, line: str = "") -> None:
        """Id, status, progress, sizes, timeouts, elapsed time, the cost so far, the Spark UI."""
        session = self.manager.status(line_value(line) or None)
        rows = reporting.status_rows(session, self.dpu_hour_price, self.manager.budget.row(session))
        ui = logs.SparkUI.of(self.manager, session)  # a live session's, where Glue has one
        display.key_values(rows + (ui.rows if ui else []), title="Glue session")
        display.secret_link("Open the Spark UI", ui and ui.url)

    @line_magic
    @one_line_errors
    def glue_stop(self, line: str = "") -> None:
        """Stop the current session (or the one given) and wait, bounded, for STOPPED."""
        self.manager.stop(line_value(line) or None)

    @line_magic
    @one_line_errors
    def glue_sessions(self, line: str = "") -> None:
        """The sessions in the region (all pages), idle time and cost; ``--mine``: ours, by tag."""
        rows, title = inventory.magic_table(self.manager, line)
        display.table(rows, title=title)

    @line_magic
    @one_line_errors
    def glue_reconnect(self, line: str = "") -> None:
        """Attach to a session (``--last``: this notebook's newest live one, found by tag)."""
        self.manager.reconnect(inventory.reconnect_target(self.manager, line))

    # ------------------------------------------------------------------ running code
    @line_cell_magic
    @one_line_errors
    def glue(self, line: str = "", cell: str | None = None) -> None:
        """Run the cell in the session (creating one from the pending options if none); on a
        Spark Connect session it runs in this kernel, with `spark` bound to the session."""
        code = cell if cell is not None else line
        if not code.strip():
            return
        self.manager.check_language()  # before any call: the session's language is fixed
        if self.manager.spark() is not None:  # a Spark Connect session: the cell runs here
            self.manager.connects.run_in_shell(self.shell, code, self.manager.session_id)
            return
        display.show_output(self._execute(code).output)

    def _execute(self, code: str, max_bytes: int | None = None, language: str | None = None) -> Any:
        """Run code in the session (``SessionManager.run``); a failed statement shows its
        output (what was printed before the exception, FAILED's streams and reason) and
        fails the cell: with the remote exception (RemoteError) or one line (UsageError)."""
        outcome = self.manager.run(code, max_bytes, language)
        if outcome.failed:
            display.show_output(outcome.output)
            if outcome.error is not None:
                raise outcome.error  # one line, mapped by one_line_errors
            from glue_magics.results import RemoteError

            raise RemoteError.make(outcome.ename, outcome.evalue, outcome.traceback)
        return outcome

    @magic_arguments()
    @argument("-o", "--output", help="Also store the WHOLE result (pandas) in this variable.")
    @argument("-n", "--max-rows", type=arguments.count, default=20, help="Rows shown.")
    @cell_magic
    @one_line_errors
    def glue_sql(self, line: str, cell: str) -> None:
        """Run Spark SQL in the session and show the result as a table; with -o the whole
        result comes home as compressed Arrow (up to fetch_max_mb), -n only caps the rows shown.
        """
        from glue_magics import fetch, sql

        args = arguments.parse(self.glue_sql, line)
        name = fetch.variable(args.output, "-o") if args.output else None
        result, frame = sql.run_magic(
            self.manager, self._execute, cell, args.max_rows, bool(name), self.fetch_max_mb
        )
        display.table(result.rows_as_dicts(), columns=result.columns, title=result.title())
        if name:
            self.shell.user_ns[name] = frame

    @magic_arguments()
    @argument("name", help="The session's variable: a Spark or pandas DataFrame, a Series, ...")
    @argument("-o", "--output", help="The variable here (default: NAME).")
    @argument("-n", "--max-rows", type=arguments.count, default=0, help="Rows shown (0: none).")
    @line_magic
    @one_line_errors
    def glue_fetch(self, line: str = "") -> None:
        """Bring a DataFrame of the session home as pandas: a Spark or pandas DataFrame, a
        pandas Series or a DynamicFrame, whole, as compressed Arrow (up to fetch_max_mb).
        On a Spark Connect session NAME is a variable here and a Spark DataFrame is toPandas'd.
        """
        from glue_magics import fetch

        args = arguments.parse(self.glue_fetch, line)
        name = fetch.variable(args.name, "NAME")
        local = fetch.variable(args.output, "-o") if args.output else name
        ns, max_mb = self.shell.user_ns, self.fetch_max_mb
        got = fetch.fetch_variable(self.manager, ns, self._execute, name, max_mb)
        self.shell.user_ns[local] = got.frame
        display.info_line(got.summary(local))
        if args.max_rows:
            from glue_magics.sql import SqlResult

            shown = SqlResult(got.columns, got.head(args.max_rows), False, got.rows)
            display.table(shown.rows_as_dicts(), columns=got.columns, title=shown.title())

    # ------------------------------------------------------------------ looking inside
    @magic_arguments()
    @argument("session_id", nargs="?", help="The session (default: the current one).")
    @argument("--tail", type=arguments.count, default=50, help="Lines shown, from the end.")
    @argument("--save", metavar="PATH", help="Also write the whole log to this file.")
    @line_magic
    @one_line_errors
    def glue_logs(self, line: str = "") -> None:
        """The session's system logs (GetSystemLogsForSession): the last lines, or all saved."""
        args = arguments.parse(self.glue_logs, line)
        found = logs.fetch_logs(self.manager, args.session_id, args.tail, args.save)
        display.system_log(found)

    @line_magic
    @one_line_errors
    def glue_history(self, line: str = "") -> None:
        """The session's statements (ListStatements): id, state, duration, first line of code."""
        session_id, rows = logs.history(self.manager, line_value(line) or None)
        display.table(rows, title=f"{len(rows)} statement(s) in session {session_id}")


GlueMagics.glue_session.parser.formatter_class = arguments.ModelChoices  # -h reads the model
