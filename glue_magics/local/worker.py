"""The worker process of one local session: runs statements in one namespace.

Started by the endpoint as ``python -m glue_magics.local.worker RESULT_FD PARENT_PID``.
Commands arrive as JSON lines on stdin (``{"id": 1, "code": "..."}``); events leave as
JSON lines on RESULT_FD (``ready``, ``progress``, ``result``), so user code printing to
stdout cannot corrupt the protocol.  The endpoint cancels a statement with SIGINT.
A ``result`` event carries the statement's parts as they are (stdout, stderr, the last
value's repr, a magic's rich result and whether it is base64, the error); the endpoint
shapes them into Glue's Output.

Statements run as in Livy's ``repl/src/main/resources/fake_shell.py``: code that does not
parse is split at lines starting with ``%`` (magics: ``%table``, ``%json``, ``%matplot``,
and AWS's ``%plotly``), the chunks run in order and the last one gives the result.  A last
value is text, its ``repr`` (Livy runs it in 'single' mode, which prints the repr to
stdout); no value is asked for a rich repr (``_repr_html_`` and the like), so rich outputs
come only from those magics.  The real service does the same: AWS's Glue kernel, recorded
against it, shows a pandas DataFrame as its text repr (the aws-sdk-pandas notebook in
tests/replies/statement_text_pandas_head.json).

The worker must never outlive the endpoint: it exits when stdin closes (a reader thread
watches it) and, on Linux, asks the kernel to kill it when its parent dies.
"""

from __future__ import annotations

import ast
import base64
import datetime
import decimal
import io
import json
import linecache
import os
import queue
import signal
import sys
import threading
import time
import traceback
from typing import Any, NamedTuple


class Rich(NamedTuple):
    """A magic's result: its MIME type and content, ``encoded`` when the content is the
    base64 of bytes (the endpoint then answers MimeType ``<mime>;base64``)."""

    mime: str
    content: str
    encoded: bool = False


class Channel:
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


def log_line(level: str, message: str, source: str = "GlueWorker") -> bytes:
    """One line of a session's system log, in the pattern of Spark's own log4j2 defaults
    (``%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n``), so our lines and the driver's read alike."""
    text = " ".join(str(message).split())
    return f"{time.strftime('%y/%m/%d %H:%M:%S')} {level} {source}: {text}\n".encode(
        "utf-8", "replace"
    )


def _log(message: str, level: str = "INFO") -> None:
    """A line to the system log: fd 2 itself, whatever a statement did to ``sys.stderr``."""
    try:
        os.write(2, log_line(level, message))
    except OSError:
        pass


def spark_ui_url() -> str | None:
    """The Spark UI of this process's active SparkContext, or None (no Spark, or stopped).

    Asked after each statement, so a ``SparkSession`` a statement builds itself counts too;
    pyspark is never imported here for the asking."""
    pyspark = sys.modules.get("pyspark")
    try:
        context = pyspark.SparkContext._active_spark_context if pyspark else None
        return str(context.uiWebUrl) if context is not None and context.uiWebUrl else None
    except Exception:  # noqa: BLE001 - a dead JVM, a Spark Connect-only pyspark: no UI
        return None


class _Interrupts:
    """SIGINT raises KeyboardInterrupt only while a statement runs; otherwise it is ignored,
    so a cancel that arrives just after a statement finished cannot break the loop."""

    def __init__(self) -> None:
        self.armed = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.armed:
            raise KeyboardInterrupt


def java_found() -> bool:
    """Whether Spark can start a JVM here (the statement sessions' Spark and the Spark
    Connect sessions' server both need one): the user's Java, else the ``local`` extra's
    (``local/java.py``), whose ``JAVA_HOME`` this process and its children then use."""
    from glue_magics.local import java

    found = java.find()
    if found is not None:
        os.environ.update(found.env())
    return found is not None


def spark_master() -> str:
    """The Spark master of the local sessions' Spark (``GLUE_MAGICS_SPARK_MASTER``)."""
    return os.environ.get("GLUE_MAGICS_SPARK_MASTER", "local[*]")


#: The object store's Spark settings, from the endpoint (JSON: ``conf``, the ``jar`` they
#: name, and the ``compile`` command that makes it; see glue_magics/local/objectstore).
OBJECTSTORE_ENV = "GLUE_MAGICS_OBJECTSTORE"


def objectstore_conf() -> dict[str, str]:
    """Spark settings for ``s3://`` paths over the endpoint's object store, its file
    system compiled first when it is not yet (the endpoint's own command); ``{}``, and a
    line in the log, when it cannot be: Spark then starts without ``s3://``."""
    import subprocess

    try:
        spec = json.loads(os.environ.get(OBJECTSTORE_ENV) or "{}")
        if spec and not os.path.exists(spec["jar"]):
            done = subprocess.run(spec["compile"], capture_output=True, text=True, check=False)
            if done.returncode != 0 or not os.path.exists(spec["jar"]):
                said = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
                _log(f"s3:// paths are not available in Spark: {said}", "WARN")
                return {}
        return dict(spec.get("conf") or {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _log(f"s3:// paths are not available in Spark: {exc}", "WARN")
        return {}


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

            app_name = object.__getattribute__(self, "_app_name")
            builder = SparkSession.builder.master(spark_master()).appName(app_name)
            builder = builder.config(map=objectstore_conf())  # s3://, s3a://, s3n:// paths
            # A free port, not 4040 and up: sessions and other Sparks share this machine (the
            # endpoint sets SPARK_LOCAL_IP, so the UI listens on loopback only).
            session = builder.config("spark.ui.port", "0").getOrCreate()
            object.__setattr__(self, "_session", session)
        return session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __repr__(self) -> str:
        if object.__getattribute__(self, "_session") is None:
            return "<SparkSession (starts at first use)>"
        return repr(self._get())


class UnknownMagic(Exception):
    """A ``%name`` line the session does not know (Livy's fake_shell.py ``UnknownMagic``)."""


#: Livy's ``magic_table_types``: the column type of a value, by its exact type.
TABLE_TYPES: dict[type, str] = {
    type(None): "NULL_TYPE",
    bool: "BOOLEAN_TYPE",
    int: "INT_TYPE",
    float: "DOUBLE_TYPE",
    str: "STRING_TYPE",
    datetime.date: "DATE_TYPE",
    datetime.datetime: "TIMESTAMP_TYPE",
    decimal.Decimal: "DECIMAL_TYPE",
}
TABLE_MIME = "application/vnd.livy.table.v1+json"


def table_cell(value: Any) -> tuple[str, Any]:
    """One value as Livy's ``magic_table_convert`` makes it: (type name, JSON value).

    Lists and tuples are ARRAY_TYPE, dicts MAP_TYPE (their items of one type each); dates,
    timestamps and decimals become text; any other type is STRING_TYPE of its ``str``.
    """
    if type(value) in (list, tuple):
        return "ARRAY_TYPE", _table_items([table_cell(item) for item in value])
    if type(value) is dict:
        keys = [table_cell(k) for k in value]
        values = [table_cell(v) for v in value.values()]
        _table_items(keys)
        _table_items(values)
        return "MAP_TYPE", {k: v for (_, k), (_, v) in zip(keys, values, strict=True)}
    kind = TABLE_TYPES.get(type(value), "STRING_TYPE")
    if kind in ("NULL_TYPE", "BOOLEAN_TYPE", "INT_TYPE", "DOUBLE_TYPE"):
        return kind, value
    return kind, str(value)


def _table_items(cells: list[tuple[str, Any]]) -> list[Any]:
    if len({kind for kind, _ in cells}) > 1:
        raise ValueError("value has inconsistent types")
    return [item for _, item in cells]


def livy_table(value: Any) -> dict[str, Any]:
    """``%table``: Livy's ``magic_table`` conversion of a list of rows.

    A value that is not a list or tuple is one row; a row is a dict (columns sorted by
    key), a pyspark ``Row`` (by ``asDict()``), a list or tuple (columns by position, named
    "0", "1", ...) or a single value.  A column's type is that of its first non-null cell;
    another type later is an error, as in Livy.
    """
    rows = value if isinstance(value, list | tuple) else [value]
    headers: dict[Any, dict[str, str]] = {}
    data = []
    for row in rows:
        if type(row).__name__ == "Row" and hasattr(row, "asDict"):  # pyspark.sql.Row
            row = row.asDict()
        if not isinstance(row, list | tuple | dict):
            row = [row]
        columns = sorted(row.items()) if isinstance(row, dict) else enumerate(row)
        cells = []
        for name, cell in columns:
            kind, cell = table_cell(cell)
            header = headers.setdefault(name, {"name": str(name), "type": kind})
            if kind != "NULL_TYPE" and header["type"] != kind:
                if header["type"] != "NULL_TYPE":
                    raise ValueError(
                        f"table rows have different types in column {str(name)!r}: "
                        f"{header['type']} and {kind}"
                    )
                header["type"] = kind
            cells.append(cell)
        data.append(cells)
    try:
        ordered = [header for _, header in sorted(headers.items())]
    except TypeError:
        raise ValueError("table rows mix dicts with lists or tuples") from None
    return {"headers": ordered, "data": data}


def _chunks(code: str) -> list[tuple[int, str]]:
    """Livy's split of a statement: runs of code lines and single ``%`` lines, each with
    the number of the line it starts on."""
    chunks: list[tuple[int, str]] = []
    normal: list[str] = []
    start = 1
    for number, line in enumerate(code.rstrip().split("\n"), 1):
        if line.startswith("%"):
            if normal:
                chunks.append((start, "\n".join(normal)))
                normal = []
            chunks.append((number, line))
        else:
            if not normal:
                start = number
            normal.append(line)
    if normal:
        chunks.append((start, "\n".join(normal)))
    return chunks


class Worker:
    """Executes statements like Livy's REPL: stdout, then the repr of a last expression,
    and ``%`` magic lines (``%table``, ``%json``, ``%matplot``, ``%plotly``)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.count = 0
        self.current: int | None = None
        self.spark_ui: str | None = None  # the last Spark UI told to the endpoint
        self.interrupts = _Interrupts()
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__builtins__": __builtins__,
            "set_progress": self.set_progress,
        }
        self.magics: dict[str, Any] = {
            "table": self._magic_table,
            "json": self._magic_json,
            "matplot": self._magic_matplot,
            "plotly": self._magic_plotly,
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
        """Run one statement; the ``result`` event carries its parts as they are (streams,
        the last value's repr, a magic's rich result, an error) and the endpoint shapes them."""
        self.count += 1
        self.current = statement_id
        filename = f"<statement-{statement_id}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        result: dict[str, Any] = {"event": "result", "id": statement_id, "count": self.count}
        value: Any = None
        rich: Rich | None = None
        try:
            self.interrupts.armed = True
            try:
                value, rich = self._execute(code, filename)
            finally:
                self.interrupts.armed = False
            result["status"] = "ok"
        except BaseException as exc:  # noqa: BLE001 - user code: report every failure
            value, rich = None, None
            result.update(
                status="error",
                error_name=type(exc).__name__,
                error_value=str(exc),
                traceback=self._traceback(exc),
            )
        finally:
            sys.stdout, sys.stderr = saved
            self.current = None
        if value is not None:
            self.namespace["_"] = value
            try:
                result["repr"] = repr(value)
            except Exception as exc:  # noqa: BLE001
                result["repr"] = f"<repr failed: {type(exc).__name__}: {exc}>"
        if rich is not None:
            result["mime"], result["result"] = rich.mime, rich.content
            if rich.encoded:
                result["base64"] = True
        result.update(stdout=out.getvalue(), stderr=err.getvalue())
        return result

    def spark_ui_event(self) -> dict[str, Any] | None:
        """A ``spark_ui`` event when Spark's UI came or went since the last one, else None."""
        url = spark_ui_url()
        if url == self.spark_ui:
            return None
        self.spark_ui = url
        _log(f"Spark UI at {url}" if url else "Spark stopped: no Spark UI")
        return {"event": "spark_ui", "url": url}

    def _execute(self, code: str, filename: str) -> tuple[Any, Rich | None]:
        """Run the statement's chunks in order; the last one gives the result: a value
        (code) or a rich result (a magic), as Livy's ``execute_request`` does."""
        try:
            chunks = _split(code, filename)
        except SyntaxError as exc:
            # As Livy: the parser's error alone, without its frames (they are not the user's).
            raise exc.with_traceback(None) from None
        value, rich = None, None
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            if isinstance(chunk, str):
                value, rich = None, self._magic(chunk)
            else:
                value, rich = self._exec(chunk, filename), None
                if not last and value is not None:
                    print(repr(value))  # as Livy's 'single' mode prints a chunk's last value
        return value, rich

    def _exec(self, tree: ast.Module, filename: str) -> Any:
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), self.namespace)
        if last is not None:
            return eval(compile(last, filename, "eval"), self.namespace)
        return None

    def _magic(self, line: str) -> Rich:
        name, _, argument = line[1:].partition(" ")
        if not name:
            raise UnknownMagic("magic command not specified")
        handler = self.magics.get(name)
        if handler is None:
            raise UnknownMagic(f"unknown magic command '{name}'")
        try:
            return handler(name, argument.strip())
        except Exception as exc:
            # As Livy: a magic's error has no traceback (its frames are ours or a library's).
            raise exc.with_traceback(None) from None

    def _lookup(self, magic: str, name: str) -> Any:
        if not name.isidentifier():
            raise ValueError(f"%{magic} takes the name of a variable: %{magic} NAME")
        if name not in self.namespace:
            raise NameError(f"name '{name}' is not defined")
        return self.namespace[name]

    def _magic_json(self, magic: str, name: str) -> Rich:
        """``%json NAME``: the value as application/json (Livy's ``magic_json``)."""
        return Rich("application/json", json.dumps(self._lookup(magic, name)))

    def _magic_table(self, magic: str, name: str) -> Rich:
        """``%table NAME``: Livy's table of the value's rows."""
        return Rich(TABLE_MIME, json.dumps(livy_table(self._lookup(magic, name))))

    def _magic_matplot(self, magic: str, name: str) -> Rich:
        """``%matplot plt``: the current figure as a PNG (Livy's ``magic_matplot``)."""
        figure = self._lookup(magic, name).gcf()
        png = io.BytesIO()
        figure.savefig(png, format="png")
        return Rich("image/png", base64.b64encode(png.getvalue()).decode("ascii"), encoded=True)

    def _magic_plotly(self, magic: str, name: str) -> Rich:
        """``%plotly fig``: the figure as HTML that loads plotly.js from its CDN (AWS's
        Glue kernel ``%help`` lists it among the statement magics)."""
        figure = self._lookup(magic, name)
        return Rich("text/html", figure.to_html(full_html=False, include_plotlyjs="cdn"))

    @staticmethod
    def _traceback(exc: BaseException) -> list[str]:
        """The traceback without this module's frames (they are ours, not the user's)."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next
        return traceback.format_exception(type(exc), exc, tb)


def _split(code: str, filename: str) -> list[ast.Module | str]:
    """The statement as chunks to run: parsed code, or a ``%`` line.  As Livy's
    ``parse_code_into_nodes``, only code that does not parse is split at its %-lines."""
    try:
        return [ast.parse(code, filename, "exec")]
    except SyntaxError:
        if not any(line.startswith("%") for line in code.split("\n")):
            raise
    return [
        text if text.startswith("%") else _parse(text, start, filename)
        for start, text in _chunks(code)
    ]


def _parse(text: str, start: int, filename: str) -> ast.Module:
    """Parse one chunk of code, its line numbers those of the whole statement."""
    try:
        tree = ast.parse(text, filename, "exec")
    except SyntaxError as exc:
        if exc.lineno is not None:
            exc.lineno += start - 1
        if getattr(exc, "end_lineno", None) is not None:
            exc.end_lineno += start - 1
        raise
    return ast.increment_lineno(tree, start - 1)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process; a zombie (ended, not yet reaped) is not, and
    another user's is (we may not signal it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc here: kill(0) is all we can know
        return True


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL us when the parent thread that forked us ends (also run as a
    ``preexec_fn``, so a child the worker starts dies with the worker)."""
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


def child_arguments(program: str, fd_name: str, argv: list[str] | None) -> tuple[int, int] | None:
    """A child program's two arguments (its event pipe's fd, the endpoint's pid), or None
    after a usage line: the endpoint's child programs are started by it, not by hand."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not all(a.isdigit() for a in args):
        print(
            f"usage: python -m {program} {fd_name} PARENT_PID "
            "(started by the local endpoint, not by hand)",
            file=sys.stderr,
        )
        return None
    return int(args[0]), int(args[1])


def main(argv: list[str] | None = None) -> int:
    started = child_arguments("glue_magics.local.worker", "RESULT_FD", argv)
    if started is None:
        return 2
    result_fd, parent_pid = started
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display here: %matplot draws off screen
    die_with_parent(parent_pid)
    # the session runtime (our own awsglue) on this worker's path only, never the user's
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime"))
    channel = Channel(result_fd)
    worker = Worker(channel)
    signal.signal(signal.SIGINT, worker.interrupts.handler)
    commands: queue.Queue[dict[str, Any] | None] = queue.Queue()
    pipe = _command_pipe()
    threading.Thread(target=_read_commands, args=(commands, pipe), daemon=True).start()
    session = os.environ.get("GLUE_MAGICS_SESSION_ID", "?")
    _log(f"worker of session {session} ready: pid {os.getpid()}, Python {sys.version.split()[0]}")
    channel.send({"event": "ready", "pid": os.getpid()})
    while True:
        command = commands.get()
        if command is None:
            return 0
        statement_id = int(command["id"])
        _log(f"statement {statement_id} started")
        began = time.monotonic()
        result = worker.run(statement_id, str(command["code"]))
        outcome = "ok" if result.get("status") == "ok" else f"raised {result.get('error_name')}"
        _log(f"statement {statement_id} {outcome} in {time.monotonic() - began:.3f} s")
        spark = worker.spark_ui_event()
        if spark is not None:  # before the result: GetDashboardUrl knows it once AVAILABLE
            channel.send(spark)
        channel.send(result)


if __name__ == "__main__":
    sys.exit(main())
