"""A local session's Spark work in ``local[*]`` and on a 1-master, 2-worker standalone cluster
on this machine (figures only, no assertion).

For each master: CreateSession to READY (G.1X x 3: the driver and two 1-core, 1 GB
executors on the cluster), then a 10^7-row aggregation and a 10^6-row join, each timed as
one statement (RunStatement to its end, boto3 over HTTP).  Two cores cannot show a
speed-up; the figures say what the cluster path costs.

    python benchmarks/bench_cluster.py --runs 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

AGGREGATE = (
    "print(spark.range(10**7).selectExpr('id % 1000 as k', 'id as v')"
    ".groupBy('k').sum('v').selectExpr('sum(`sum(v)`)').first()[0])"
)
JOIN = (
    "a = spark.range(10**6).selectExpr('id as k', 'id * 2 as x')\n"
    "b = spark.range(10**6).selectExpr('id as k', 'id * 3 as y')\n"
    "print(a.join(b, 'k').selectExpr('sum(x + y)').first()[0])"
)


def timed(glue: object, session_id: str, code: str) -> float:
    from helpers import SPARK_PATIENCE, run

    began = time.perf_counter()
    statement = run(glue, session_id, code, patience=SPARK_PATIENCE)
    took = time.perf_counter() - began
    assert statement["Output"]["Status"] == "ok", statement["Output"]
    return took


def one_round(glue: object) -> dict[str, float]:
    from helpers import SPARK_PATIENCE, create, wait_status

    began = time.perf_counter()
    session_id = create(glue, WorkerType="G.1X", NumberOfWorkers=3)
    session = wait_status(glue, session_id, "READY", "FAILED", patience=SPARK_PATIENCE * 2)
    ready = time.perf_counter() - began
    assert session["Status"] == "READY", session.get("ErrorMessage")
    figures = {"ready": ready, "aggregate": timed(glue, session_id, AGGREGATE)}
    figures["join"] = timed(glue, session_id, JOIN)
    glue.stop_session(Id=session_id)  # type: ignore[attr-defined]
    print(f"  {figures}", flush=True)
    return figures


def measure(runs: int, cluster: object = None, **settings: object) -> dict[str, list[float]]:
    from helpers import make_glue

    from glue_magics.local import LocalEndpoint

    rounds: dict[str, list[float]] = {"ready": [], "aggregate": [], "join": []}
    with LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, **settings) as endpoint:
        glue = make_glue(endpoint.url)
        for _ in range(runs):
            for name, value in one_round(glue).items():
                rounds[name].append(value)
            while cluster is not None and any(  # the stopped session's cores freed
                w["coresused"]
                for w in cluster.status()["workers"]  # type: ignore[attr-defined]
            ):
                time.sleep(0.2)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    from standalone import Standalone

    # the tests' dummy credentials (helpers signs with them), a data directory of its own
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    os.environ["GLUE_LOCAL_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-cluster-")
    os.environ["GLUE_MAGICS_LOCAL_SPARK"] = "1"
    os.environ.pop("GLUE_MAGICS_SPARK_MASTER", None)
    results = {"local[*]": measure(args.runs)}
    with Standalone(workers=2, cores=1, memory="1g") as cluster:
        results["standalone 1+2"] = measure(
            args.runs, cluster, spark_master=cluster.url, spark_ui_port=cluster.ui_port
        )
    print(f"{'master':<16} {'CreateSession->READY':>22} {'10^7 aggregate':>16} {'10^6 join':>12}")
    for master, rounds in results.items():
        cells = [f"{statistics.median(rounds[k]):.1f} s" for k in ("ready", "aggregate", "join")]
        runs = f"(median of {args.runs})"
        print(f"{master:<16} {cells[0]:>22} {cells[1]:>16} {cells[2]:>12}   {runs}")


if __name__ == "__main__":
    main()
