"""The worker process of one local session: runs statements in one namespace.

Started by the endpoint as ``python -m glue_magics.local.worker RESULT_FD PARENT_PID``.
Commands arrive as JSON lines on stdin: first the session's set-up (``{"setup": {...}}``:
its DefaultArguments, whether to start Spark), then statements (``{"id": 1, "code":
"..."}``); events leave as JSON lines on RESULT_FD (``provision`` steps, ``ready`` or
``failed``, then ``progress`` and ``result``), so user code printing to stdout cannot
corrupt the protocol.  The endpoint cancels a statement with SIGINT.

As on Glue, Spark is up when the session is READY: the worker starts it (and carries out
the DefaultArguments, :mod:`glue_magics.local.session_arguments`) before its ``ready``
event, and statements find ``spark``, ``sc`` and ``sqlContext`` defined.

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
    """Whether Spark can start a JVM here: ``JAVA_HOME/bin/java`` or ``java`` on the PATH
    (the statement sessions' Spark and the Spark Connect sessions' server both need it).
    The endpoint gives its workers the ``JAVA_HOME`` of the Java it found (``local/java.py``:
    the user's, else the ``local`` extra's), so this needs nothing of ours."""
    import shutil

    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return True
    return shutil.which("java") is not None


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


#: The session's Progress (GetSession, 0-100) as its worker reaches each step of its start;
#: READY (100) comes with the ``ready`` event, once Spark is up.
STAGES: dict[str, float] = {
    "worker": 10.0,  # the worker runs and has its arguments
    "modules": 15.0,  # --additional-python-modules being installed
    "pyspark": 20.0,  # pyspark being imported
    "jvm": 30.0,  # Spark's JVM being launched (spark-submit)
    "context": 60.0,  # the SparkContext being made in the JVM
    "session": 85.0,  # the SparkSession being made
}


def base_spark_conf(app_name: str) -> dict[str, str]:
    """The local sessions' own Spark settings, before the session's ``--conf``; other
    modules' settings merge in here (``{**base_spark_conf(...), **theirs}``)."""
    return {
        "spark.master": spark_master(),
        "spark.app.name": app_name,
        # A free port, not 4040 and up: sessions and other Sparks share this machine (the
        # endpoint sets SPARK_LOCAL_IP, so the UI listens on loopback only).
        "spark.ui.port": "0",
    }


def spark_wanted(java_home: str | None = None) -> tuple[bool, str]:
    """Whether a new session starts Spark, and if not, why (one phrase).

    Spark starts where pyspark is installed and Java found, unless
    ``GLUE_MAGICS_LOCAL_SPARK=0`` (sessions that need no Spark start in a fraction of the
    time; the test suite turns it off where a test does not use Spark).  The endpoint
    asks when it creates a session, so the session knows at once whether READY waits for
    Spark."""
    import importlib.util

    if os.environ.get("GLUE_MAGICS_LOCAL_SPARK", "1") == "0":
        return False, "GLUE_MAGICS_LOCAL_SPARK=0"
    if importlib.util.find_spec("pyspark") is None:
        return False, "pyspark is not installed: pip install 'glue-magics[spark]'"
    given = java_home and os.path.exists(os.path.join(java_home, "bin", "java"))
    if not given and not java_found():  # java_home: the one the endpoint hands its workers
        return False, "no Java found: set JAVA_HOME or put java on the PATH"
    return True, ""


def start_spark(conf: dict[str, str], stage: Any) -> tuple[Any, Any]:
    """Start Spark with ``conf``, telling ``stage(name)`` each step as it begins; the
    SparkSession and its SparkContext."""
    stage("pyspark")
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    spark_conf = SparkConf().setAll(list(conf.items()))
    stage("jvm")
    SparkContext._ensure_initialized(conf=spark_conf)
    stage("context")
    context = SparkContext.getOrCreate(spark_conf)
    stage("session")
    session = SparkSession.builder.config(conf=spark_conf).getOrCreate()
    return session, context


def maven_pom_url(coordinate: str, repository: str = "https://repo1.maven.org/maven2") -> str:
    """Where Maven Central keeps a ``group:artifact:version``'s POM (the layout of the
    Maven 2 repository: the group's dots become directories)."""
    group, artifact, version = coordinate.split(":")
    path = f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.pom"
    return f"{repository}/{path}"


def maven_reachable(url: str, timeout: float = 5.0) -> str | None:
    """None if Maven Central answers for ``url`` (a POM), else why not (one phrase)."""
    import urllib.error
    import urllib.request

    try:
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 - an https URL
            return None
    except urllib.error.HTTPError as exc:
        return f"Maven Central answered {exc.code} for it"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"Maven Central is not reachable from this machine ({reason})"


def one_line(exc: BaseException, limit: int = 400) -> str:
    """An exception as one line: its type and the first line of its message (a JVM
    error's own, not py4j's "An error occurred while calling ...")."""
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            return one_line(RuntimeError(str(java.toString())), limit).partition(": ")[2]
        except Exception:  # noqa: BLE001 - the JVM is gone: py4j's own words then
            pass
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    line = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


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


class Catalog:
    """``--enable-glue-datacatalog``: the session's Spark catalog kept in step with the
    endpoint's Data Catalog, pulled before each statement and pushed after it.  The plan
    names the module (so this program imports nothing of the package unless the session
    asks for it).  ``s3://`` locations are Spark's own paths here: the object store's file
    system reads them, so none is rewritten.  A failure is one line, never a statement's."""

    def __init__(self, sync: Any, notice: Any) -> None:
        self.sync = sync  # the CatalogSync, or None: no catalog in this session
        self.notice = notice  # the worker's: the log now, the first statement's output later
        self.said: set[str] = set()  # the catalog's tables Spark refused, said once

    @classmethod
    def start(cls, catalog: dict[str, str], spark_session: Any, notice: Any) -> Catalog:
        import importlib

        try:
            module = importlib.import_module(catalog["module"])
            sync = module.CatalogSync(spark_session, account_id=catalog.get("account_id") or None)
            shown = sync.pull()
        except Exception as exc:  # noqa: BLE001 - the session runs on without the catalog
            notice(f"--enable-glue-datacatalog was not applied: {one_line(exc)}")
            return cls(None, notice)
        _log(f"Data Catalog: {len(shown)} tables shown to Spark SQL")
        started = cls(sync, notice)
        for line in started.unsaid():
            notice(f"Data Catalog table not shown to Spark SQL: {line}")
        return started

    def unsaid(self) -> list[str]:
        """The tables Spark could not be shown that were not said yet."""
        lines = [line for line in self.sync.skipped if line not in self.said]
        self.said.update(lines)
        return lines

    def step(self, step: str) -> None:
        """The catalog pulled before a statement or pushed after it; a failure is one line
        in the statement's stderr and the log, never the statement's own error."""
        if self.sync is None:
            return
        try:
            done = getattr(self.sync, step)()
        except Exception as exc:  # noqa: BLE001 - the statement's outcome is its own
            line = f"Data Catalog {step} failed: {one_line(exc)}"
            _log(line, "WARN")
            print(line, file=sys.stderr)
            return
        if done:
            _log(f"Data Catalog {step}: {', '.join(done)}")
        if step == "pull":
            for line in self.unsaid():
                print(f"Data Catalog table not shown to Spark SQL: {line}", file=sys.stderr)


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
        self.notices: list[str] = []  # for the first statement's output
        self.catalog = Catalog(None, self.notice)  # --enable-glue-datacatalog's, if asked

    def notice(self, line: str) -> None:
        """An argument not honoured as given: the system log now, the first statement's
        output later (always one line)."""
        line = " ".join(line.split())
        _log(line, "WARN")
        self.notices.append(line)

    def stage(self, name: str) -> None:
        """A step of the session's start begins: its Progress, and a line in its log."""
        _log(f"provisioning: {name}")
        self.channel.send({"event": "provision", "progress": STAGES[name], "stage": name})

    def provision(self, setup: dict[str, Any]) -> None:
        """Carry out the plan the endpoint made of the session's DefaultArguments
        (:class:`session_arguments.Plan`, as a dict) and start Spark (when ``setup`` says
        so), before the worker says it is ready; Spark's failure to start raises."""
        session = os.environ.get("GLUE_MAGICS_SESSION_ID", "glue")
        spark = bool(setup.get("spark"))
        steps = dict(setup.get("plan") or {})
        workdir = os.environ.get("GLUE_MAGICS_SESSION_DIR") or os.getcwd()
        self.stage("worker")
        for line in steps.get("notices", []):
            self.notice(line)
        if setup.get("no_spark_notice"):
            self.notice(f"Spark is not started in this session: {setup['no_spark_reason']}")
        # A job's script gets its arguments in sys.argv (getResolvedOptions reads them);
        # what the service puts in a session's sys.argv is not public: the same, here.
        sys.argv = [f"session-{session}", *steps.get("argv", [])]
        paths = self._py_files(steps.get("py_files", []), workdir)
        if steps.get("modules"):
            self.stage("modules")
            paths.insert(0, self._install(steps["modules"], steps["module_options"], workdir))
        paths = [p for p in paths if p]
        sys.path[:0] = paths
        if paths:  # Spark's Python workers (UDFs) import from the same places
            old = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = os.pathsep.join([*paths, *([old] if old else [])])
        if not spark:
            return
        # s3://, s3a://, s3n:// over the object store, then the session's own --conf
        # on a cluster, its executors sized as the session asked (the endpoint's cluster_conf)
        cluster = dict(setup.get("cluster_conf") or {})
        conf = {
            **base_spark_conf(session),
            **cluster,
            **objectstore_conf(),
            **steps.get("conf", {}),
        }
        self._datalake(steps.get("packages", []), conf)
        spark_session, context = start_spark(conf, self.stage)
        self.namespace.update(spark=spark_session, sc=context)
        try:  # Livy's fake_shell.py defines sqlContext beside sc and spark (deprecated)
            import warnings

            from pyspark.sql import SQLContext

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.namespace["sqlContext"] = SQLContext(context, spark_session)
        except Exception as exc:  # noqa: BLE001 - a pyspark without it: spark and sc suffice
            _log(f"no sqlContext: {one_line(exc)}")
        if steps.get("catalog"):
            self.catalog = Catalog.start(steps["catalog"], spark_session, self.notice)

    def _py_files(self, files: list[str], workdir: str) -> list[str]:
        """``--extra-py-files``: a ``.py`` file is copied into the session's own directory
        (on sys.path once), a ``.zip``/``.egg``/``.whl`` or a directory goes on sys.path
        itself; a path that is not there is a notice."""
        import shutil

        paths: list[str] = []
        own = os.path.join(workdir, "py-files")
        for given, path in files:
            if not os.path.exists(path):
                shown = given if given.isprintable() else repr(given)
                self.notice(f"--extra-py-files {shown} was not found; it is not on sys.path")
            elif path.endswith(".py") and os.path.isfile(path):
                os.makedirs(own, exist_ok=True)
                shutil.copy(path, own)
                if own not in paths:
                    paths.append(own)
            else:
                paths.append(os.path.abspath(path))
        return paths

    def _install(self, modules: list[str], options: list[str], workdir: str) -> str:
        """``--additional-python-modules``: pip installs them into the session's own
        directory (never the user's environment); its path, or "" after a notice."""
        import subprocess

        target = os.path.join(workdir, "python-modules")
        specs = modules
        command = [
            sys.executable, "-m", "pip", "install", "--target", target, "--no-input",
            "--disable-pip-version-check", "--retries", "1", "--timeout", "15",
            *options, *specs,
        ]  # fmt: skip
        _log(f"installing {', '.join(modules)} into {target}")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.notice(f"--additional-python-modules {', '.join(modules)} not installed: {exc}")
            return ""
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()] or ["pip failed"]
            errors = [ln for ln in lines if ln.startswith("ERROR")] or lines
            self.notice(
                f"--additional-python-modules {', '.join(modules)} not installed: pip says "
                f"{errors[-1].strip()}"
            )
            return ""
        return target

    def _datalake(self, formats: list[tuple[str, str]], conf: dict[str, str]) -> None:
        """``--datalake-formats``: each format's jars (format, Maven coordinate) by
        ``spark.jars.packages`` where Maven Central answers for them, else a notice naming
        what is missing."""
        packages = [p for p in conf.get("spark.jars.packages", "").split(",") if p]
        for name, coordinate in formats:
            why = maven_reachable(maven_pom_url(coordinate))
            if why is None:
                packages.append(coordinate)
            else:
                self.notice(
                    f"--datalake-formats {name} is not available: {coordinate} was not "
                    f"fetched: {why}; give its jar with --extra-jars"
                )
        if packages:
            conf["spark.jars.packages"] = ",".join(packages)

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
        if self.notices:  # the arguments not honoured, once, ahead of the first output
            out.write("".join(f"{line}\n" for line in self.notices))
            self.notices = []
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        result: dict[str, Any] = {"event": "result", "id": statement_id, "count": self.count}
        value: Any = None
        rich: Rich | None = None
        try:
            self.interrupts.armed = True
            try:
                self.catalog.step("pull")  # Spark SQL sees the catalog as it is now
                try:
                    value, rich = self._execute(code, filename)
                finally:
                    self.catalog.step("push")  # what the statement made, even if it failed
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


def start_child(program: str, fd_name: str, argv: list[str] | None) -> Channel | None:
    """The start of each of the endpoint's child programs: its two arguments read, its
    death tied to the endpoint's, its event channel; None after the usage line."""
    started = child_arguments(program, fd_name, argv)
    if started is None:
        return None
    event_fd, parent_pid = started
    die_with_parent(parent_pid)
    return Channel(event_fd)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display here: %matplot draws off screen
    channel = start_child("glue_magics.local.worker", "RESULT_FD", argv)
    if channel is None:
        return 2
    # the session runtime (our own awsglue) on this worker's path only, never the user's
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime"))
    worker = Worker(channel)
    signal.signal(signal.SIGINT, worker.interrupts.handler)
    commands: queue.Queue[dict[str, Any] | None] = queue.Queue()
    pipe = _command_pipe()
    threading.Thread(target=_read_commands, args=(commands, pipe), daemon=True).start()
    session = os.environ.get("GLUE_MAGICS_SESSION_ID", "?")
    setup = commands.get()  # the endpoint's first command: the session's set-up
    if setup is None:
        return 0
    try:
        worker.provision(dict(setup.get("setup") or {}))
    except Exception as exc:  # noqa: BLE001 - Spark or an argument failed the start
        reason = (
            f"The session did not start: {one_line(exc)} (Spark's own words are in its "
            "system log: GetSystemLogsForSession)"
        )
        _log(reason, "ERROR")
        traceback.print_exc()  # the whole of it in the system log
        channel.send({"event": "failed", "reason": reason})
        return 1
    spark = worker.spark_ui_event()
    if spark is not None:  # GetDashboardUrl answers from READY on
        channel.send(spark)
    _log(f"worker of session {session} ready: pid {os.getpid()}, Python {sys.version.split()[0]}")
    channel.send({"event": "ready", "pid": os.getpid(), "spark": "spark" in worker.namespace})
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
