"""Large results home: Arrow (``%%glue_sql -o``) against JSON rows, rows/s and kernel peak RSS.

For 10^4, 10^5 and 10^6 rows of (int, double, string) from the local endpoint's Spark
(``SELECT id, id / 2, concat('row-', id) FROM range(N)``), each path runs in a fresh
kernel process attached to one warm session (``%glue_reconnect``, one JVM for all):

- arrow: ``%%glue_sql -o df -n 5``, the whole result as compressed Arrow IPC, base64;
- json: the marker-JSON path ``%%glue_sql`` had before (``sql.run`` with ``-n`` = all
  rows, then ``SqlResult.frame()`` as ``-o`` made it), called without drawing a table.

Figures: the cell's wall time (rows/s = N / time), the kernel's peak RSS at the end
(``ru_maxrss``: Arrow buffers are outside tracemalloc's sight) and its growth over the
RSS before the cell (the cost of the fetch itself).  The endpoint runs in this process,
so the kernel's memory holds only what the client side holds.  Prints a table only.

    python benchmarks/bench_results.py            # 10^4, 10^5, 10^6
    python benchmarks/bench_results.py 100000     # chosen sizes
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
)

from glue_magics import fetch, lifecycle, sql  # noqa: E402
from glue_magics.local import LocalEndpoint  # noqa: E402
from glue_magics.service import make_client  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from kernels import Kernel, kernel_env  # noqa: E402

SIZES = (10**4, 10**5, 10**6)
QUERY = "SELECT id AS i, id / 2 AS d, concat('row-', id) AS s FROM range({n})"
RSS = (
    "import resource\n"
    "def _rss(key):\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith(key):\n"
    "            return int(line.split()[1]) * 1024\n"
)
CELLS = {
    "arrow": "%%glue_sql -o df -n 5\n{query}",
    "json": (
        "from glue_magics import sql as _sql\n"
        "_m = get_ipython().magics_manager.registry['GlueMagics']\n"
        "df = _sql.run(_m._execute, {query!r}, {n}).frame()"
    ),
}


def measure(url: str, session_id: str, path: str, n: int) -> tuple[float, int, int]:
    """(seconds, peak RSS, peak growth over the RSS before) of one fetch in a fresh kernel."""
    kernel = Kernel(kernel_env(url))
    try:
        kernel.ok(f"%load_ext glue_magics\n%glue_reconnect {session_id}", timeout=120)
        # pandas and pyarrow imported first: their fixed cost is not the fetch's
        kernel.ok(RSS + "import gc, pandas, pyarrow; gc.collect(); _before = _rss('VmRSS:')")
        cell = CELLS[path].format(query=QUERY.format(n=n), n=n)
        start = time.monotonic()
        kernel.ok(cell, timeout=1800)
        seconds = time.monotonic() - start
        out = kernel.ok(
            "print(len(df), df['i'].sum(), _rss('VmHWM:'), _before)", timeout=120
        ).stdout.split()
        rows, total, peak, before = (int(x) for x in out)
        assert rows == n and total == n * (n - 1) // 2, (path, n, out)
        return seconds, peak, peak - before
    finally:
        kernel.shutdown()


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or list(SIZES)
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.1) as ep:
        client = make_client(endpoint_url=ep.url, credentials=ep.credentials)
        sid = f"bench-results-{uuid.uuid4().hex[:8]}"
        request = {"Id": sid, "Role": "arn:aws:iam::123456789012:role/Glue"}
        lifecycle.create_session(client, {**request, "Command": {"Name": "glueetl"}})
        lifecycle.wait_ready(client, sid)
        # the JVM once, and both paths' Spark code warm (the first toArrow plans slowly)
        for code in (
            fetch.sql_code(QUERY.format(n=1000), 10**9),
            sql.code(QUERY.format(n=1000), 1000),
        ):
            lifecycle.run_statement(client, sid, code)
        mib = 2**20
        print(
            f"{'rows':>9} {'path':>5} {'seconds':>8} {'rows/s':>10} {'peak RSS':>10} {'growth':>10}"
        )
        for n in sizes:
            for path in ("arrow", "json"):
                seconds, peak, growth = measure(ep.url, sid, path, n)
                print(
                    f"{n:>9} {path:>5} {seconds:>8.2f} {n / seconds:>10,.0f} "
                    f"{peak / mib:>7.0f} MiB {growth / mib:>6.0f} MiB",
                    flush=True,
                )
        lifecycle.stop_session(client, sid, wait=1)


if __name__ == "__main__":
    main(sys.argv[1:])
