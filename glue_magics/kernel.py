"""The glue-magics Jupyter kernel: ipykernel with the magics loaded, plain cells run in the session.

It is a drop-in for notebooks written for AWS's Glue kernel: a cell that does not start
with a cell magic runs in the Glue session (its leading ``%`` lines run here first), and
that kernel's option magics (``%iam_role``, ``%worker_type``, ``%number_of_workers``, ...,
named in the options table, ``glue_magics.specs``) set the same options as
``%config GlueMagics``.  ``%%local`` runs a cell in this kernel.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import TraitError

from glue_magics import __version__, options, specs
from glue_magics.arguments import line_value
from glue_magics.routing import cells_stay_local, route_to_session

# AWS Glue kernel's action magics -> ours (its option magics come from specs.aws_magics)
COMPAT_ACTIONS = {
    "stop_session": "glue_stop",
    "status": "glue_status",
    "list_sessions": "glue_sessions",
    "reconnect": "glue_reconnect",
}


@magics_class
class CompatMagics(Magics):
    """The option and action magics of AWS's Glue kernel, mapped onto GlueMagics."""

    def __init__(self, shell: Any, glue: Any) -> None:
        super().__init__(shell=shell)
        self.glue = glue
        for name, (option, fixed) in specs.aws_magics().items():  # %iam_role ARN, %etl, ...
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
                setattr(self.glue, option, value)
            except (options.OptionError, TraitError) as exc:
                raise UsageError(f"%{option}: {exc}") from None
            print(f"{option} = {value!r} for the next session")

        set_option.__doc__ = f"Set {option} for the next session (as %config GlueMagics.{option})."
        return set_option

    @line_magic
    def session_id(self, line: str = "") -> None:
        """Print the current session's id (AWS Glue kernel's %session_id)."""
        print(self.glue.session_id or "no session yet; start one with %glue_session")

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
