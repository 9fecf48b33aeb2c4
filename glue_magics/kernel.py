"""The glue-magics Jupyter kernel: ipykernel with the magics loaded, plain cells run in the session.

It is a drop-in for notebooks written for AWS's Glue kernel (aws-glue-sessions 1.0.9): a
cell is cut as that kernel cuts it (``routing``: leading line magics run here, then a cell
magic takes the rest, or the code runs in the Glue session); that kernel's option magics
(``%iam_role``, ``%worker_type``, ``%number_of_workers``, ..., named in the options table,
``glue_magics.specs``) set the same options as ``%config GlueMagics``; its action magics
(``%status``, ``%stop_session``, ``%session_id``, ``%list_sessions``, ``%reconnect``) and
``%help``, ``%%sql``, ``%%tags``, ``%%assume_role`` are here with its meaning.  Where it
prints "There is no current session." and the notebook goes on, so do we.
``%%local`` runs a cell in this kernel.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import TraitError

from glue_magics import __version__, options, specs, versions
from glue_magics.arguments import line_value
from glue_magics.routing import cells_stay_local, route_to_session

# AWS Glue kernel's action magics -> ours (its option magics come from specs.aws_magics);
# %status, %stop_session and %session_id are CompatMagics' own (no session: a notice)
COMPAT_ACTIONS = {
    "list_sessions": "glue_sessions",
    "reconnect": "glue_reconnect",
}
#: What AWS's kernel prints where a magic about the session finds none (KernelMagics).
NO_SESSION = "There is no current session."

#: %help: what AWS's kernel's own help covers, in our words; option magics from specs.
_ACTIONS_HELP = (
    ("%status", "The current session: id, status, workers, timeouts, cost so far."),
    ("%stop_session", "Stop the current session."),
    ("%session_id", "The current session's id."),
    ("%list_sessions", "The sessions in the region."),
    ("%reconnect ID", "Attach to a running session."),
    ("%streaming / %etl", "The next session is a streaming / an ETL one."),
    ("%spark_conf", "Spark configuration for the next session (none: show it)."),
    ("%help", "This help."),
)
_CELLS_HELP = (
    ("%%configure", "Session options as JSON (worker_type, --conf, --datalake-formats ...)."),
    ("%%sql", "Spark SQL in the session, shown as a table."),
    ("%%tags", 'Tags for the session, as JSON: {"team": "data"}.'),
    ("%%assume_role", "A role ARN (or a credentials dict) the Glue client uses from now on."),
    ("%%local", "Run the cell in this kernel, not in the session."),
)


def help_markdown() -> str:
    """``%help``: every magic of AWS's Glue kernel with what it does here, as Markdown."""
    rows = [("%" + m + (" VALUE" if fixed is None else ""), _option_help(o, fixed))
            for m, (o, fixed) in specs.aws_magics().items()]  # fmt: skip
    lines = [
        "# glue-magics kernel",
        "",
        "A cell runs in the AWS Glue interactive session; the session starts on the first "
        "cell that needs one. Line magics at the top of a cell run first; a cell magic "
        "after them takes the rest of the cell.",
        "",
        "| Magic | Does |",
        "| --- | --- |",
    ]
    lines += [f"| `{m}` | {text} |" for m, text in [*rows, *_ACTIONS_HELP, *_CELLS_HELP]]
    lines += [
        "",
        "Our own magics: `%glue_session`, `%glue_config`, `%glue_logs`, `%glue_fetch`, ... "
        "(`%lsmagic` lists them all; `%glue_session?` gives each one's help).",
    ]
    return "\n".join(lines)


def _option_help(option: str, fixed: str | None) -> str:
    spec = next(s for s in specs.SPECS if s.name == option)
    if fixed is not None:
        return f"Sets {option} to {fixed} for the next session."
    return f"{spec.help} (sets {option})"


@magics_class
class CompatMagics(Magics):
    """The option and action magics of AWS's Glue kernel, mapped onto GlueMagics."""

    def __init__(self, shell: Any, glue: Any) -> None:
        super().__init__(shell=shell)
        self.glue = glue
        for name, (option, fixed) in specs.aws_magics().items():  # %iam_role ARN, %etl, ...
            if name not in self.magics["line"]:  # %spark_conf is a method: it also shows
                self.magics["line"][name] = self._setter(option, fixed)
        self.magics["cell"]["tags"] = lambda line, cell: self._setter("tags", raw=True)(cell)

    def _setter(self, option: str, fixed: str | None = None, raw: bool = False) -> Any:
        """A line magic that sets one option, checked as a flag would be; its value is read
        as a shell reads words (quotes removed), or taken as it is (``raw``, a cell body)."""

        def set_option(line: str = "") -> None:
            if fixed is not None:
                text = fixed
            elif raw:
                text = line.strip()
            else:
                text = line_value(line)
            try:
                value = options.coerce(option, text)
                refused = versions.refusal(value) if option == "glue_version" else None
                if refused:
                    raise options.OptionError(refused, option)
                setattr(self.glue, option, value)
            except (options.OptionError, TraitError) as exc:
                raise UsageError(f"%{option}: {exc}") from None
            print(f"{option} = {value!r} for the next session")

        set_option.__doc__ = f"Set {option} for the next session (as %config GlueMagics.{option})."
        return set_option

    @line_magic
    def session_id(self, line: str = "") -> None:
        """Print the current session's id (AWS Glue kernel's %session_id)."""
        print(self.glue.session_id or NO_SESSION)

    def _of_session(self, line: str, act: Any) -> None:
        """``act(line)`` on the given or current session; with neither, AWS's notice (its
        kernel prints it, and Run All goes on)."""
        if not line_value(line) and self.glue.session_id is None:
            print(NO_SESSION)
            return
        act(line)

    @line_magic
    def status(self, line: str = "") -> None:
        """The current (or given) session's status; with none, a notice (AWS's %status)."""
        self._of_session(line, self.glue.glue_status)

    @line_magic
    def stop_session(self, line: str = "") -> None:
        """Stop the current (or given) session; with none, a notice (AWS's %stop_session)."""
        self._of_session(line, self.glue.glue_stop)

    @line_magic
    def help(self, line: str = "") -> None:
        """The magics of this kernel (AWS Glue kernel's %help, in our words)."""
        from IPython.display import Markdown, display

        display(Markdown(help_markdown()))

    @line_magic
    def spark_conf(self, line: str = "") -> None:
        """Set Spark configuration (key=value) for the next session; with nothing, show it."""
        if line.strip():
            self._setter("spark_conf")(line)
            return
        current = self.glue.manager.resolve(partial=True).values.get("spark_conf")
        print(current or "No Spark configuration set")

    @cell_magic
    def assume_role(self, line: str, cell: str) -> None:
        """Glue calls from now on as another role (an ARN, through STS AssumeRole) or with
        the credentials given ({"aws_access_key_id": ..., "aws_secret_access_key": ...,
        "aws_session_token": ...}), as AWS's kernel's %%assume_role."""
        import ast

        try:
            given = ast.literal_eval(cell.strip())
        except (ValueError, SyntaxError):
            given = None
        keys = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
        if isinstance(given, dict) and all(isinstance(given.get(k), str) for k in keys[:2]):
            creds = tuple(str(given.get(k) or "").strip() or None for k in keys)
        elif isinstance(given, str) and given.strip().startswith("arn:"):
            creds = self._assume(given.strip())
        else:
            raise UsageError(
                "%%assume_role: give a role ARN in quotes ('arn:aws:iam::123456789012:role/R') "
                "or a dict with aws_access_key_id, aws_secret_access_key, aws_session_token"
            )
        self.glue.manager.clients.assumed = creds
        print("Role assumed: Glue calls from now on use its credentials")

    def _assume(self, role_arn: str) -> tuple[str, str, str]:
        """STS AssumeRole with the current profile and region: the role's temporary keys."""
        from glue_magics import service

        settings = self.glue.manager.options.client_settings()
        sts = service.make_client(
            "sts", region=settings.get("region"), profile=settings.get("profile"),
            translate_errors=False,
        )  # fmt: skip
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            keys = sts.assume_role(RoleArn=role_arn, RoleSessionName="glue-magics")["Credentials"]
        except (BotoCoreError, ClientError) as exc:
            raise UsageError(f"%%assume_role: STS AssumeRole of {role_arn} failed: {exc}") from None
        return keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"]

    @cell_magic
    def local(self, line: str, cell: str) -> Any:
        """Run this cell in the local kernel, not in the Glue session."""
        with cells_stay_local(self.shell):
            return self.shell.run_cell(cell).result

    @cell_magic
    def sql(self, line: str, cell: str) -> None:
        """Spark SQL in the session (AWS Glue kernel's %%sql): same as %%glue_sql."""
        self.glue.glue_sql(line, cell)


class GlueKernel(IPythonKernel):
    """IPython kernel whose plain cells run in an AWS Glue interactive session."""

    implementation = "glue_magics"
    implementation_version = __version__
    banner = "glue-magics: plain cells run in an AWS Glue interactive session (%%local runs here)"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from glue_magics.magics import GlueMagics

        self.shell.run_line_magic("load_ext", "glue_magics")
        glue = self.shell.magics_manager.registry[GlueMagics.__name__]
        self.shell.register_magics(CompatMagics(self.shell, glue))
        for name, target in COMPAT_ACTIONS.items():  # %status is %glue_status, and so on
            self.shell.magics_manager.register_alias(name, target, "line")
        self.shell.input_transformers_cleanup.append(route_to_session)
        self._glue = glue

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict | None = None,
        allow_stdin: bool = False,
        **kwargs: Any,
    ) -> dict:
        """A request with ``silent`` or without ``store_history`` runs here, never in Glue.

        Frontends send these on their own (VS Code's environment probes, JupyterLab
        extensions, Studio's variable viewers); sent to the session they would create one
        the user never asked for, and bill it.  AWS's kernel learnt the same
        (microsoft/vscode-jupyter#15977; aws-glue-sessions 1.0.9 ``BaseKernel.do_execute``).
        """
        run = super().do_execute
        if silent or not store_history:
            with cells_stay_local(self.shell):
                return await run(
                    code, silent, store_history, user_expressions, allow_stdin, **kwargs
                )
        return await run(code, silent, store_history, user_expressions, allow_stdin, **kwargs)

    async def do_shutdown(self, restart: bool) -> dict:
        """Stop the sessions this kernel created before it goes (stop_on_exit)."""
        self._glue.close()
        return super().do_shutdown(restart)


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=GlueKernel)


if __name__ == "__main__":
    main()
