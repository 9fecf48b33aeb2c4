"""Spark Connect sessions against the statement path, on the embedded local endpoint with
Spark (prints figures only, no assertions).

- READY to first result: from the session's READY (as the wait sees it) to the first
  ``spark.range(10).count()`` of a ``%%glue`` cell: GetSessionEndpoint, the SparkSession,
  the query;
- rows per second of ``%%glue_sql -o df -n N`` for 10^5 and 10^6 rows: a Spark Connect
  session (``toPandas`` over Arrow) against a statement session (rows printed as JSON on
  the statement's stdout, read back; ``-n N`` so that it returns them all).

    python benchmarks/bench_connect.py [RUNS]       # median of RUNS (default 3), interleaved
"""

from __future__ import annotations

import statistics
import sys
import time

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics import lifecycle

ROLE = "arn:aws:iam::123456789012:role/GlueInteractive"
SIZES = (10**5, 10**6)


def run(ip: InteractiveShell, cell: str) -> float:
    start = time.monotonic()
    with capture_output() as cap:
        result = ip.run_cell(cell)
    assert result.success, cap.stdout + cap.stderr
    return time.monotonic() - start


def start_session(ip: InteractiveShell, kind: str) -> tuple[str, float]:
    """A session of ``kind`` (READY), and the seconds from READY to its first result."""
    glue = ip.magics_manager.registry["GlueMagics"]
    manager = glue.manager
    opts = manager.resolve({"session_type": kind, "glue_version": "5.1"})
    session_id = manager.create(opts, force=True, wait=False)
    lifecycle.wait_ready(manager.client_for(session_id), session_id, timeout=600)
    ready = time.monotonic()
    with capture_output():
        manager.wait(session_id)  # READY already: the manager's own bookkeeping (and `spark`)
        ok = ip.run_cell("%%glue\nprint(spark.range(10).count())").success
    assert ok
    return session_id, time.monotonic() - ready


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 3
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "glue_magics")
    for line in (
        "%config GlueMagics.endpoint_url = 'local'",
        "%config GlueMagics.local_provision_seconds = 0.1",
        "%config GlueMagics.progress = 'none'",
        f"%config GlueMagics.role = {ROLE!r}",
        "%config GlueMagics.region = 'us-east-1'",
    ):
        ip.run_cell(line)
    figures: dict[str, dict[int, list[float]]] = {"spark_connect": {}, "etl": {}}
    for kind in ("spark_connect", "etl"):
        session_id, first = start_session(ip, kind)
        print(f"{kind:>13}: READY to first result {first:.2f} s (session {session_id})")
        for size in SIZES:
            cell = f"%%glue_sql -o df -n {size}\nSELECT id, id * 2 AS twice FROM range({size})"
            run(ip, cell)  # warm
            for _ in range(runs):
                figures[kind].setdefault(size, []).append(size / run(ip, cell))
            assert len(ip.user_ns["df"]) == size
        ip.run_cell("%glue_stop")
    print(f"\n%%glue_sql -o rows/s, median of {runs}")
    print(f"{'rows':>9} {'Spark Connect':>14} {'statements':>11} {'ratio':>6}")
    for size in SIZES:
        connect = statistics.median(figures["spark_connect"][size])
        statements = statistics.median(figures["etl"][size])
        print(f"{size:>9,} {connect:>14,.0f} {statements:>11,.0f} {connect / statements:>6.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
