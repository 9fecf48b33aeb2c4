"""The Scala REPL of a local session whose DefaultArguments say ``--session-language scala``.

Started by the endpoint as ``python -m glue_magics.local.scala RESULT_FD PARENT_PID``, like
:mod:`glue_magics.local.worker`, and speaking the same JSON-lines protocol, so the endpoint
treats both alike.  This Python part only prepares: it asks Linux to kill it with its
parent, compiles our small Scala driver (``Worker.scala``, with a ``GlueContext`` that says
what is missing) once into a per-user cache with the Scala compiler pyspark's wheel ships,
then *execs* ``java`` on it: the JVM keeps this process's id (the endpoint's SIGINT reaches
it), its parent-death signal and the event pipe.  Nothing is downloaded.

The driver runs statements in the Scala compiler's REPL (``IMain``) bound to the session's
own Spark (``spark``, ``sc``), as Apache Livy's SparkInterpreter does; see ``Worker.scala``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["PROGRAM", "SESSION_LANGUAGE", "compiled_driver", "is_scala", "spark_jars"]

#: The endpoint's program for a Scala session (``python -m PROGRAM``).
PROGRAM = "glue_magics.local.scala"
#: The DefaultArguments key that chooses a session's language (AWS's Glue Spark kernel
#: sends ``"--session-language": "scala"``, aws-glue-sessions 1.0.9 glue_spark/GlueKernel.py).
SESSION_LANGUAGE = "--session-language"
MAIN_CLASS = "gluemagics.scala.Worker"
#: How long a Scala session's JVM may take to end once its stdin closes before it is killed:
#: Spark's shutdown hooks remove its temporary directories (the driver halts after 5 s).
STOP_SECONDS = 8.0
SOURCES = ("Worker.scala", "GlueContext.scala")
HERE = Path(__file__).resolve().parent


def is_scala(default_arguments: dict[str, str]) -> bool:
    """Whether a session's DefaultArguments ask for Scala."""
    return str(default_arguments.get(SESSION_LANGUAGE, "")).strip().lower() == "scala"


def spark_jars() -> Path:
    """pyspark's jars directory (Spark, Scala's library, compiler and reflect, spark-repl)."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise RuntimeError("Scala sessions need pyspark (pip install 'glue-magics[local]')")
    return Path(spec.origin).parent / "jars"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "glue-magics" / "scala-worker"


def _key(jars: Path) -> str:
    """What the compiled driver depends on: its sources and the jars it was compiled against."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((HERE / name).read_bytes())
    digest.update("\n".join(sorted(p.name for p in jars.glob("*.jar"))).encode())
    return digest.hexdigest()[:16]


def compiled_driver(jars: Path, java: str = "java") -> Path:
    """The directory of the driver's classes, compiled now if no cache holds them.

    One compile at a time (a lock file): sessions that start together wait for the first.
    The classes are compiled into a temporary directory renamed into place, so a compile
    that is killed leaves nothing half made."""
    root = _cache_root()
    target = root / _key(jars)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():
            return target
        for stale in root.glob("compile-*"):  # a compile killed midway (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix="compile-", dir=root))
        try:
            argv = [java, "-cp", f"{jars}/*", "scala.tools.nsc.Main", "-usejavacp", "-nowarn"]
            argv += ["-d", str(work), *(str(HERE / name) for name in SOURCES)]
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the Scala driver did not compile: {done.stdout}{done.stderr}")
            work.rename(target)
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(work)
    return target


def java_command() -> str:
    """``JAVA_HOME/bin/java``, else ``java`` on the PATH (as Spark's launcher looks)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return os.path.join(home, "bin", "java")
    found = shutil.which("java")
    if found is None:
        raise RuntimeError("Scala sessions need Java 17 or later: no java on the PATH")
    return found


def main(argv: list[str] | None = None) -> int:
    """Prepare, then become the JVM (same pid, same fds, same parent-death signal)."""
    from glue_magics.local.worker import _log, child_arguments, die_with_parent

    started = child_arguments(PROGRAM, "RESULT_FD", argv)
    if started is None:
        return 2
    result_fd, parent_pid = started
    die_with_parent(parent_pid)
    try:
        java = java_command()
        jars = spark_jars()
        classes = compiled_driver(jars, java)
    except RuntimeError as exc:
        _log(str(exc), "ERROR")
        return 1
    # the REPL's JVM: classes first; a statement's stack shows its own frames
    options = os.environ.get("GLUE_MAGICS_SCALA_JAVA_OPTIONS", "-Xss4m").split()
    opens = ["--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"]  # Spark 4 on Java 17
    classpath = f"{classes}{os.pathsep}{jars}/*"
    events = f"/proc/self/fd/{result_fd}"
    argv_java = [java, *options, *opens, "-cp", classpath, MAIN_CLASS, events, str(parent_pid)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(java, argv_java)
    return 1  # not reached
