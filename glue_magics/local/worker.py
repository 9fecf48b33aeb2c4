"""The worker process of one local session: runs statements in one namespace.

Started by the endpoint as ``python -m glue_magics.local.worker RESULT_FD PARENT_PID``.
Commands arrive as JSON lines on stdin (``{"id": 1, "code": "..."}``); events leave as
JSON lines on RESULT_FD (``ready``, ``progress``, ``result``), so user code printing to
stdout cannot corrupt the protocol.  The endpoint cancels a statement with SIGINT.

The worker must never outlive the endpoint: it exits when stdin closes (a reader thread
watches it) and, on Linux, asks the kernel to kill it when its parent dies.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import linecache
import os
import queue
import signal
import sys
import threading
import traceback
from typing import Any

# Checked in this order; the first the value offers becomes MimeType/Result.
RICH_REPRS = (
    ("_repr_png_", "image/png", True),
    ("_repr_jpeg_", "image/jpeg", True),
    ("_repr_svg_", "image/svg+xml", False),
    ("_repr_html_", "text/html", False),
    ("_repr_markdown_", "text/markdown", False),
    ("_repr_latex_", "text/latex", False),
    ("_repr_json_", "application/json", False),
)


class _Channel:
    """Writes events to the endpoint; one write per event so lines never interleave."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode("utf-8", "surrogatepass")
        with self.lock:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


class _Interrupts:
    """SIGINT raises KeyboardInterrupt only while a statement runs; otherwise it is ignored,
    so a cancel that arrives just after a statement finished cannot break the loop."""

    def __init__(self) -> None:
        self.armed = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.armed:
            raise KeyboardInterrupt


class _LazySpark:
    """``spark`` for statements: the SparkSession is built at first use, so sessions start
    fast and pay for the JVM only when they need it."""

    def __init__(self, app_name: str) -> None:
        object.__setattr__(self, "_app_name", app_name)
        object.__setattr__(self, "_session", None)

    def _get(self) -> Any:
        session = object.__getattribute__(self, "_session")
        if session is None:
            from pyspark.sql import SparkSession

            master = os.environ.get("GLUE_MAGICS_SPARK_MASTER", "local[*]")
            app_name = object.__getattribute__(self, "_app_name")
            session = SparkSession.builder.master(master).appName(app_name).getOrCreate()
            object.__setattr__(self, "_session", session)
        return session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __repr__(self) -> str:
        if object.__getattribute__(self, "_session") is None:
            return "<SparkSession (starts at first use)>"
        return repr(self._get())


def _rich(value: Any) -> tuple[str, str] | None:
    for method, mime, binary in RICH_REPRS:
        func = getattr(type(value), method, None)
        if func is None:
            continue
        try:
            data = getattr(value, method)()
        except Exception:  # a broken repr must not fail the statement
            continue
        if isinstance(data, tuple):  # (data, metadata) as IPython allows
            data = data[0] if data else None
        if data is None:
            continue
        if binary:
            if isinstance(data, str):  # already base64, as IPython accepts
                return mime, data
            return mime, base64.b64encode(bytes(data)).decode("ascii")
        if mime == "application/json" and not isinstance(data, str):
            return mime, json.dumps(data, default=repr)
        return mime, str(data)
    return None


class Worker:
    """Executes statements like the REPL: stdout, then the repr of a last expression."""

    def __init__(self, channel: _Channel) -> None:
        self.channel = channel
        self.count = 0
        self.current: int | None = None
        self.interrupts = _Interrupts()
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__builtins__": __builtins__,
            "set_progress": self.set_progress,
        }
        import importlib.util

        # GLUE_MAGICS_LOCAL_SPARK=0 gives sessions without Spark even where pyspark is installed
        wanted = os.environ.get("GLUE_MAGICS_LOCAL_SPARK", "1") != "0"
        if wanted and importlib.util.find_spec("pyspark") is not None:
            self.namespace["spark"] = _LazySpark(os.environ.get("GLUE_MAGICS_SESSION_ID", "glue"))

    def set_progress(self, value: float) -> None:
        """Report this statement's progress (0..1) to GetStatement."""
        value = min(1.0, max(0.0, float(value)))
        if self.current is not None:
            self.channel.send({"event": "progress", "id": self.current, "value": value})

    def run(self, statement_id: int, code: str) -> dict[str, Any]:
        self.count += 1
        self.current = statement_id
        filename = f"<statement-{statement_id}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        result: dict[str, Any] = {"event": "result", "id": statement_id, "count": self.count}
        value = None
        try:
            self.interrupts.armed = True
            try:
                value = self._execute(code, filename)
            finally:
                self.interrupts.armed = False
            result["status"] = "ok"
        except BaseException as exc:  # noqa: BLE001 - user code: report every failure
            result.update(
                status="error",
                error_name=type(exc).__name__,
                error_value=str(exc),
                traceback=self._traceback(exc),
            )
        finally:
            sys.stdout, sys.stderr = saved
            self.current = None
        stdout, stderr = out.getvalue(), err.getvalue()
        text = stdout
        if value is not None:
            self.namespace["_"] = value
            try:
                text += repr(value)
            except Exception as exc:  # noqa: BLE001
                text += f"<repr failed: {type(exc).__name__}: {exc}>"
            rich = _rich(value)
            if rich is not None:
                result["mime"], result["result"] = rich
        result.update(text=text, stdout=stdout, stderr=stderr)
        return result

    def _execute(self, code: str, filename: str) -> Any:
        tree = ast.parse(code, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), self.namespace)
        if last is not None:
            return eval(compile(last, filename, "eval"), self.namespace)
        return None

    @staticmethod
    def _traceback(exc: BaseException) -> list[str]:
        """The traceback without this module's frames (they are ours, not the user's)."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        return traceback.format_exception(type(exc), exc, tb)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL us when the parent thread that forked us ends."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


def _command_pipe() -> io.BufferedReader:
    """The endpoint's command pipe, moved off fd 0: statements (``input()``) and their
    child processes then read an empty stdin and cannot take the next command."""
    pipe = os.fdopen(os.dup(0), "rb")  # dup: not inherited by the statements' children
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return pipe


def _read_commands(commands: queue.Queue[dict[str, Any] | None], pipe: io.BufferedReader) -> None:
    # Block SIGINT here so the kernel delivers the endpoint's SIGINT to the main thread,
    # where it interrupts the running statement.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    for line in pipe:
        try:
            commands.put(json.loads(line))
        except ValueError:
            continue
    os._exit(0)  # stdin closed: the endpoint is gone or ended this session


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not all(a.isdigit() for a in args):
        print(
            "usage: python -m glue_magics.local.worker RESULT_FD PARENT_PID "
            "(started by the local endpoint, not by hand)",
            file=sys.stderr,
        )
        return 2
    result_fd, parent_pid = int(args[0]), int(args[1])
    _die_with_parent(parent_pid)
    channel = _Channel(result_fd)
    worker = Worker(channel)
    signal.signal(signal.SIGINT, worker.interrupts.handler)
    commands: queue.Queue[dict[str, Any] | None] = queue.Queue()
    pipe = _command_pipe()
    threading.Thread(target=_read_commands, args=(commands, pipe), daemon=True).start()
    channel.send({"event": "ready", "pid": os.getpid()})
    while True:
        command = commands.get()
        if command is None:
            return 0
        result = worker.run(int(command["id"]), str(command["code"]))
        channel.send(result)


if __name__ == "__main__":
    sys.exit(main())
