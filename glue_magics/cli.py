"""The ``glue-magics`` command: ``demo``, ``local-endpoint``, ``sessions``, ``install-kernel``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

PACKAGE = Path(__file__).parent
DEMO_NOTEBOOK = "demo.ipynb"


def _find(*candidates: Path) -> Path:
    """The first existing path: installed inside the package, or the source checkout's."""
    for path in candidates:
        if path.exists():
            return path
    raise FileNotFoundError(candidates[0])


def demo_notebook() -> Path:
    return _find(
        PACKAGE / "notebooks" / DEMO_NOTEBOOK, PACKAGE.parent / "notebooks" / DEMO_NOTEBOOK
    )


def kernelspec_dir() -> Path:
    return _find(PACKAGE / "kernelspec", PACKAGE.parent / "kernelspec")


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo notebook's cells in a scripted IPython, live, against the local endpoint.

    The notebook itself points at the embedded endpoint (``endpoint_url = "local"``), so
    no AWS account, credentials or configuration are involved.
    """
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    notebook = nbformat.read(args.notebook or demo_notebook(), as_version=4)
    shell = InteractiveShell.instance(colors="NoColor")
    shell.run_line_magic("config", f"GlueMagics.local_provision_seconds = {args.provision_seconds}")
    failed = 0
    try:
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            print(f"\nIn [{number + 1}]: " + cell.source.replace("\n", "\n" + " " * 8), flush=True)
            result = shell.run_cell(cell.source, store_history=True)
            if not result.success:
                failed += 1
                break
    finally:
        magics = shell.magics_manager.registry.get("GlueMagics")
        if magics is not None:
            magics.close()
    print("\nDemo " + ("failed." if failed else "done: no AWS account was used."), flush=True)
    return 1 if failed else 0


def install_kernel(args: argparse.Namespace) -> int:
    """Install the kernelspec with this Python as the kernel's interpreter."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / args.name
        shutil.copytree(kernelspec_dir(), target)
        spec = json.loads((target / "kernel.json").read_text())
        spec["argv"][0] = sys.executable
        spec["display_name"] = args.display_name or spec["display_name"]
        (target / "kernel.json").write_text(json.dumps(spec, indent=1))
        where = KernelSpecManager().install_kernel_spec(
            str(target), args.name, user=args.user, prefix=args.prefix
        )
    print(f"Installed kernelspec {args.name} in {where}")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """A parser whose usage errors are one line, the fix included, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see {self.prog} --help\n")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="glue-magics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="Run the demo notebook against the embedded endpoint.")
    demo.add_argument("--provision-seconds", type=float, default=3.0, metavar="S")
    demo.add_argument("--notebook", type=Path, help="Another notebook to run the same way.")
    demo.set_defaults(func=run_demo)

    from glue_magics.local import cli as local_cli

    local_cli.add_parser(sub)

    from glue_magics import sessions_cli

    sessions_cli.add_parser(sub)

    kernel = sub.add_parser("install-kernel", help="Install the glue-magics Jupyter kernel.")
    kernel.add_argument("--user", action="store_true", help="Install for this user only.")
    kernel.add_argument("--sys-prefix", action="store_const", const=sys.prefix, dest="prefix")
    kernel.add_argument("--prefix", help="Install under this prefix (e.g. a venv).")
    kernel.add_argument("--name", default="glue_magics", help="Kernelspec name.")
    kernel.add_argument("--display-name", help="Name shown in Jupyter.")
    kernel.set_defaults(func=install_kernel)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
