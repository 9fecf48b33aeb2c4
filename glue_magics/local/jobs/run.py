"""A job run's own program: the job's script, run as Glue runs a job's script.

Started by the endpoint as ``python -m glue_magics.local.jobs.run EVENT_FD PARENT_PID``
(``workers.Workers.spawn``, as a session's worker).  One command arrives on stdin,
``{"script": PATH, "argv": [...]}``; the script then runs as ``__main__`` with
``sys.argv = [PATH, *argv]``, with what a session's worker has: the session runtime's
``awsglue`` on the path and the Java Spark needs.  Events: ``running`` once the script
starts, ``error`` with its exception's line (the run's ``ErrorMessage``) if it raises.
The exit status says how it ended: 0 for success (a ``sys.exit(0)`` too).
"""

from __future__ import annotations

import json
import os
import runpy
import shlex
import sys
import threading
import traceback
from pathlib import Path

from glue_magics.local.worker import (
    java_found,
    objectstore_conf,
    spark_master,
    start_child,
)

#: Where the session runtime's packages (our ``awsglue``) live: on a run's path only.
RUNTIME = Path(__file__).resolve().parent.parent / "runtime"


def spark_submit_args(conf: dict[str, str]) -> str:
    """``PYSPARK_SUBMIT_ARGS`` that give the script's own SparkContext a session's settings:
    the endpoint's master, a free UI port, and ``conf`` (pyspark reads them with shlex
    when it starts its JVM, so ``SparkContext.getOrCreate()`` needs no master of its own)."""
    conf = {"spark.ui.port": "0", **conf}
    words = [f"--master {shlex.quote(spark_master())}"]
    words += [f"--conf {shlex.quote(f'{key}={value}')}" for key, value in conf.items()]
    return " ".join([*words, "pyspark-shell"])


def _error_line(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero``: the form of Glue's ErrorMessage for an
    exception a Python script raised (the last line of its traceback)."""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def _stop_spark() -> None:
    """A script that leaves Spark running ends as Glue's do: its SparkContext stopped."""
    pyspark = sys.modules.get("pyspark")
    context = getattr(getattr(pyspark, "SparkContext", None), "_active_spark_context", None)
    if context is not None:
        try:
            context.stop()
        except Exception:  # noqa: BLE001 - the JVM may be gone already; the run has ended
            pass


def main(argv: list[str] | None = None) -> int:
    channel = start_child("glue_magics.local.jobs.run", "EVENT_FD", argv)
    if channel is None:
        return 2
    commands = os.fdopen(os.dup(0), "rb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # the script's own stdin is empty
    os.close(null)
    line = commands.readline()
    if not line:
        return 1  # the endpoint went away before the run began
    command = json.loads(line)

    def watch_endpoint() -> None:  # stdin closes: the run was stopped, or the endpoint ended
        commands.read()
        os._exit(143)

    threading.Thread(target=watch_endpoint, daemon=True).start()
    os.environ.setdefault("MPLBACKEND", "Agg")
    if RUNTIME.is_dir():
        sys.path.insert(0, str(RUNTIME))
    for notice in command.get("notices", []):  # what of the job's arguments is not honoured
        print(f"glue-magics: {notice}", file=sys.stderr, flush=True)
    for path in command.get("py_files", []):  # --extra-py-files, as in a session
        sys.path.insert(0, path if not path.endswith(".py") else str(Path(path).parent))
    if java_found() and "PYSPARK_SUBMIT_ARGS" not in os.environ:
        # the script's own SparkContext: s3:// over the object store, then the job's --conf
        conf = {**objectstore_conf(), **command.get("conf", {})}
        os.environ["PYSPARK_SUBMIT_ARGS"] = spark_submit_args(conf)
    script = str(command["script"])
    sys.argv = [script, *[str(a) for a in command.get("argv", [])]]
    sys.path.insert(0, str(Path(script).parent))
    channel.send({"event": "running", "pid": os.getpid()})
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            channel.send({"event": "error", "message": f"SystemExit: {exc.code}"})
            _stop_spark()
            return exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - the script's own error: the run's outcome
        traceback.print_exc()
        channel.send({"event": "error", "message": _error_line(exc)})
        _stop_spark()
        return 1
    _stop_spark()
    return 0


if __name__ == "__main__":
    sys.exit(main())
