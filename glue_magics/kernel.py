"""The glue-magics Jupyter kernel: ipykernel with the magics loaded, plain cells run in the session.

It is a drop-in for notebooks written for AWS's Glue kernel: a cell that does not start
with a cell magic runs in the Glue session (its leading ``%`` lines run here first), and
that kernel's option magics (``%iam_role``, ``%worker_type``, ``%number_of_workers``, ...)
set the same options as ``%config GlueMagics``.  ``%%local`` runs a cell in this kernel.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from IPython.core.magic import Magics, cell_magic, magics_class

from glue_magics import __version__

# AWS Glue kernel magic -> (GlueMagics trait, how the line becomes a value)
COMPAT_OPTIONS: dict[str, tuple[str, str]] = {
    "iam_role": ("role", "str"),
    "region": ("region", "str"),
    "profile": ("profile", "str"),
    "worker_type": ("worker_type", "str"),
    "number_of_workers": ("number_of_workers", "int"),
    "glue_version": ("glue_version", "str"),
    "idle_timeout": ("idle_timeout", "int"),
    "timeout": ("timeout", "int"),
    "session_id_prefix": ("id_prefix", "str"),
    "security_config": ("security_config", "str"),
    "additional_python_modules": ("additional_python_modules", "str"),
    "extra_py_files": ("extra_py_files", "str"),
    "extra_jars": ("extra_jars", "str"),
    "connections": ("connections", "list"),
    "session_type": ("session_type", "str"),
    "endpoint": ("endpoint_url", "str"),
}
COMPAT_ACTIONS = {
    "stop_session": "glue_stop",
    "status": "glue_status",
    "list_sessions": "glue_sessions",
    "reconnect": "glue_reconnect",
}


def route_to_session(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: send a plain cell to ``%%glue``.

    Leading ``%`` lines (option magics) stay local and run first; a cell that starts
    with a cell magic is left alone.
    """
    head: list[str] = []
    rest = list(lines)
    while rest and (not rest[0].strip() or rest[0].lstrip().startswith(("%", "#"))):
        if rest[0].lstrip().startswith("%%"):
            return lines
        head.append(rest.pop(0))
    code = "".join(rest)
    if not code.strip():
        return lines
    return [*head, f"get_ipython().run_cell_magic('glue', '', {code!r})\n"]


@magics_class
class CompatMagics(Magics):
    """The option and action magics of AWS's Glue kernel, mapped onto GlueMagics."""

    def __init__(self, shell: Any, glue: Any) -> None:
        super().__init__(shell=shell)
        self.glue = glue
        for name, (trait, kind) in COMPAT_OPTIONS.items():
            self.magics["line"][name] = self._setter(trait, kind)
        for name, target in COMPAT_ACTIONS.items():
            self.magics["line"][name] = getattr(glue, target)

    def _setter(self, trait: str, kind: str) -> Any:
        def set_option(line: str) -> None:
            value: Any = line.strip().strip("'\"")
            if kind == "int":
                value = int(value) if value.isdigit() else value
            elif kind == "list":
                value = [v.strip() for v in value.split(",") if v.strip()]
            setattr(self.glue, trait, value)
            print(f"{trait} = {value!r} for the next session")

        set_option.__doc__ = f"Set {trait} for the next session (as %config GlueMagics.{trait})."
        return set_option

    @cell_magic
    def local(self, line: str, cell: str) -> Any:
        """Run this cell in the local kernel, not in the Glue session."""
        transformers = self.shell.input_transformers_cleanup
        transformers.remove(route_to_session)
        try:
            return self.shell.run_cell(cell).result
        finally:
            transformers.append(route_to_session)

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
        self.shell.input_transformers_cleanup.append(route_to_session)
        self._glue = glue

    async def do_shutdown(self, restart: bool) -> dict:
        """Stop the sessions this kernel created before it goes (stop_on_exit)."""
        self._glue.close()
        return super().do_shutdown(restart)


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=GlueKernel)


if __name__ == "__main__":
    main()
