"""Round trip of run_statement for statements of known length (prints figures only).

For ``time.sleep(t)`` with t in 0.05, 0.2, 1, 3 s: the median round trip of
run_statement, the added latency over t, the added latency over the statement's own
completion as the endpoint stamped it (CompletedOn: the polling delay alone), and
GetStatement calls per statement.

    python benchmarks/bench_statements.py          # 7 runs for short ones, 3 for long
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid

from glue_magics import lifecycle
from glue_magics.local import LocalEndpoint
from glue_magics.service import make_client

ROLE = "arn:aws:iam::123456789012:role/GlueInteractive"
DURATIONS = {0.05: 7, 0.2: 7, 1.0: 3, 3.0: 3}


def main(argv: list[str]) -> None:
    durations = {float(a): 5 for a in argv} or DURATIONS
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.1) as ep:
        client = make_client(endpoint_url=ep.url, credentials=ep.credentials)
        sid = f"bench-{uuid.uuid4().hex[:8]}"
        lifecycle.create_session(client, {"Id": sid, "Role": ROLE, "Command": {"Name": "glueetl"}})
        lifecycle.wait_ready(client, sid)
        lifecycle.run_statement(client, sid, "import time")  # warm the worker
        sessions_before = ep.calls["GetSession"]
        print(
            f"{'t':>6} {'runs':>4} {'round trip':>10} {'added':>8} {'poll delay':>10} "
            f"{'GetStatement':>12}"
        )
        for t, runs in durations.items():
            trips, delays, calls = [], [], []
            for _ in range(runs):
                before = ep.calls["GetStatement"]
                start = time.monotonic()
                statement = lifecycle.run_statement(client, sid, f"time.sleep({t})")
                trips.append(time.monotonic() - start)
                returned = time.time()
                completed = statement.get("CompletedOn")
                if completed is not None:  # a long: epoch ms in Glue (seconds from some)
                    completed = completed / 1000 if completed > 1e11 else completed
                    delays.append(returned - completed)
                calls.append(ep.calls["GetStatement"] - before)
            trip = statistics.median(trips)
            delay = f"{statistics.median(delays) * 1000:>8.0f}ms" if delays else "       n/a"
            print(
                f"{t:>5g}s {runs:>4} {trip * 1000:>8.0f}ms {(trip - t) * 1000:>6.0f}ms "
                f"{delay} {statistics.median(calls):>12g}"
            )
        print(f"GetSession calls during all statements: {ep.calls['GetSession'] - sessions_before}")
        lifecycle.stop_session(client, sid, wait=1)


if __name__ == "__main__":
    main(sys.argv[1:])
