"""A local session's time to READY with Spark up, against a bare
``SparkSession.builder.getOrCreate()`` on the same machine, and sessions without Spark
(figures only).

Rounds alternate: a fresh Python process that imports pyspark and builds a SparkSession
(the same master and UI port the sessions use), then CreateSession to READY on the local
endpoint (boto3 over HTTP, GetSession every 10 ms) with Spark, then ``--plain`` sessions
without Spark (GLUE_MAGICS_LOCAL_SPARK=0).  The endpoint's provision time is 0.3 s, as the
test suite's.

    python benchmarks/bench_session_ready.py --runs 3 --plain 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

BARE = """
import time
began = time.perf_counter()
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("{master}").config("spark.ui.port", "0").getOrCreate()
print(time.perf_counter() - began)
spark.stop()
"""


def bare_seconds(master: str) -> float:
    """A bare SparkSession's start in a fresh process: from before pyspark's import to
    getOrCreate's return (the process's own start not counted)."""
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
    done = subprocess.run(
        [sys.executable, "-c", BARE.format(master=master)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def ready_seconds(glue: object, spark: bool) -> tuple[float, list[float]]:
    """CreateSession to the first READY GetSession: seconds, and the Progress values seen."""
    from helpers import create

    os.environ["GLUE_MAGICS_LOCAL_SPARK"] = "1" if spark else "0"
    began = time.perf_counter()
    session_id = create(glue)
    progress: list[float] = []
    while True:
        session = glue.get_session(Id=session_id)["Session"]  # type: ignore[attr-defined]
        if not progress or progress[-1] != session["Progress"]:
            progress.append(session["Progress"])
        if session["Status"] != "PROVISIONING":
            break
        time.sleep(0.01)
    took = time.perf_counter() - began
    assert session["Status"] == "READY", session
    glue.delete_session(Id=session_id)  # type: ignore[attr-defined]
    return took, progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds with Spark")
    parser.add_argument("--plain", type=int, default=10, help="sessions without Spark")
    args = parser.parse_args()

    from glue_magics.local import LocalEndpoint
    from glue_magics.local.worker import spark_master
    from glue_magics.service import make_client

    master = spark_master()
    with LocalEndpoint(provision_seconds=0.3, stop_seconds=0.05) as endpoint:
        # the endpoint's own pair: the only one it answers
        glue = make_client(
            endpoint_url=endpoint.url, credentials=endpoint.credentials, translate_errors=False
        )
        bare, spark, plain = [], [], []
        for _ in range(args.runs):
            bare.append(bare_seconds(master))
            took, progress = ready_seconds(glue, spark=True)
            spark.append(took)
            print(f"  Spark session READY in {took:.2f} s; Progress seen: {progress}")
        for _ in range(args.plain):
            plain.append(ready_seconds(glue, spark=False)[0])

    def row(name: str, values: list[float]) -> None:
        if values:
            print(
                f"{name:<44} median {statistics.median(values):7.2f} s  "
                f"min {min(values):7.2f}  max {max(values):7.2f}  (n={len(values)})"
            )

    print(f"master {master}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    row("bare SparkSession.builder.getOrCreate()", bare)
    row("local session with Spark: Create -> READY", spark)
    row("local session without Spark: Create -> READY", plain)


if __name__ == "__main__":
    main()
