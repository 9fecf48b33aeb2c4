"""``s3://``, ``s3a://`` and ``s3n://`` in a session's Spark: a Hadoop FileSystem of ours.

pyspark's wheel has no hadoop-aws, and ViewFS refuses other schemes, so the package ships
``ObjectStoreFileSystem.scala`` (a FileSystem that maps ``s3://BUCKET/KEY`` to
``DATA_DIR/s3/BUCKET/KEY`` through Hadoop's RawLocalFileSystem) as text.  There is no
``javac`` on a machine with only a JRE, but pyspark's jars include the Scala 2.13
compiler, so it is compiled at first use, with that compiler and against those very jars,
into ``CACHE/objectstore-<source hash>-spark-<version>.jar``.  CACHE is the per-user cache
(``GLUE_MAGICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/glue-magics``, ``~/.cache/glue-magics``),
not the data directory: the jar is derived from this package and the installed Spark
alone, so every data directory (each test run has its own) shares one compile, 15 to 70
seconds on two busy cores.  A lock file makes concurrent first uses wait for one compile;
the jar is written under a temporary name and renamed, so a reader never sees half of one.
:func:`spark_conf` is what a Spark gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

SOURCE = Path(__file__).with_name("ObjectStoreFileSystem.scala")
FILE_SYSTEM = "gluemagics.objectstore.ObjectStoreFileSystem"
ABSTRACT_FILE_SYSTEM = "gluemagics.objectstore.ObjectStoreFs"
#: The Hadoop setting that names the object store's directory (the Scala source reads it).
ROOT_KEY = "fs.glue-magics.objectstore.root"
SCHEMES = ("s3", "s3a", "s3n")
#: The longest a compile may take before it is given up (a loaded 2-core machine: ~70 s).
COMPILE_SECONDS = 600.0


class CompileFailed(RuntimeError):
    """The file system could not be compiled here; the message says why, in one line."""


def pyspark_home() -> Path:
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise CompileFailed("pyspark is not installed, so there is no Spark to give s3:// to")
    return Path(spec.origin).parent


def spark_version(home: Path) -> str:
    """The installed pyspark's version, from its jars (no pyspark import)."""
    for jar in sorted((home / "jars").glob("spark-core_*.jar")):
        return jar.stem.rpartition("-")[2]
    return "unknown"


def cache_dir() -> Path:
    """The per-user cache of compiled file systems."""
    if os.environ.get("GLUE_MAGICS_CACHE_DIR"):
        return Path(os.environ["GLUE_MAGICS_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "glue-magics"


def jar_path(cache: Path | None = None, home: Path | None = None) -> Path:
    """Where the compiled file system is kept: keyed by its source and Spark's version."""
    home = home or pyspark_home()
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    return (cache or cache_dir()) / f"objectstore-{digest}-spark-{spark_version(home)}.jar"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise CompileFailed("Java is not installed (no java on PATH, no JAVA_HOME)")
    return found


def ensure_jar(cache: Path | None = None) -> Path:
    """The compiled file system's jar, compiled now if this source and Spark have none.

    Raises CompileFailed (one line, with the compiler's first error) when it cannot be."""
    home = pyspark_home()
    target = jar_path(cache, home)
    if target.exists():
        return target
    with _locked(target.with_suffix(".lock")):
        if target.exists():  # another process compiled it while we waited
            return target
        temp = target.with_name(f".{target.stem}-{os.getpid()}-{time.monotonic_ns()}.jar")
        argv = [
            java(),
            "-cp",
            str(home / "jars" / "*"),
            "scala.tools.nsc.Main",
            "-usejavacp",
            "-nowarn",
            "-d",
            str(temp),
            str(SOURCE),
        ]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=COMPILE_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            temp.unlink(missing_ok=True)
            raise CompileFailed(
                f"compiling the s3:// file system took over {COMPILE_SECONDS:g} s"
            ) from None
        if done.returncode != 0 or not temp.exists():
            temp.unlink(missing_ok=True)
            said = (done.stderr or done.stdout).strip().splitlines()
            first = said[0] if said else f"exit code {done.returncode}"
            raise CompileFailed(f"the s3:// file system did not compile: {first}")
        os.replace(temp, target)
    return target


def spark_conf(data_dir: Path | str, jar: Path | None = None) -> dict[str, str]:
    """The Spark settings that give a Spark ``s3://``, ``s3a://`` and ``s3n://`` over
    ``DATA_DIR/s3``; without ``jar``, the file system is compiled first if need be."""
    data_dir = Path(data_dir)
    jar = str(jar or ensure_jar())
    conf = {
        "spark.jars": jar,
        "spark.driver.extraClassPath": jar,
        "spark.executor.extraClassPath": jar,
        f"spark.hadoop.{ROOT_KEY}": str((data_dir / "s3").absolute()),
    }
    for scheme in SCHEMES:
        conf[f"spark.hadoop.fs.{scheme}.impl"] = FILE_SYSTEM
        conf[f"spark.hadoop.fs.AbstractFileSystem.{scheme}.impl"] = ABSTRACT_FILE_SYSTEM
    return conf


def main() -> int:
    """``python -m glue_magics.local.objectstore.hadoop``: compile the file system into the
    cache unless it is there (a session's worker runs this before its Spark starts)."""
    import sys

    try:
        print(ensure_jar())
    except CompileFailed as exc:
        print(f"glue-magics: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
