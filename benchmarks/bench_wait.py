"""How promptly and how frugally wait_ready notices READY (prints figures, asserts nothing).

For each provisioning time the local endpoint turns READY at ``CreatedOn +
provision_seconds`` (same machine, same clock), so the latency is the time from that
moment to wait_ready's return.  Also printed: GetSession calls and calls per second.

    python benchmarks/bench_wait.py            # 30 s once, 5 s three times, 1 s three times
    python benchmarks/bench_wait.py 30 5       # chosen provisioning times
    python benchmarks/bench_wait.py --latency-ms 150 5 5   # over a 150 ms round trip
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


def one_wait(provision: float, latency_ms: float = 0.0) -> tuple[float, int, float, int]:
    """(latency after READY, GetSession calls, wait seconds, progress updates seen)."""
    with LocalEndpoint(provision_seconds=provision, stop_seconds=0.1, latency_ms=latency_ms) as ep:
        client = make_client(endpoint_url=ep.url, credentials=ep.credentials)
        sid = f"bench-{uuid.uuid4().hex[:8]}"
        session = lifecycle.create_session(
            client, {"Id": sid, "Role": ROLE, "Command": {"Name": "glueetl"}}
        )
        ready_at = session["CreatedOn"].timestamp() + provision
        updates = []
        start = time.monotonic()
        lifecycle.wait_ready(client, sid, on_update=updates.append, timeout=provision + 60)
        returned = time.time()
        waited = time.monotonic() - start
        return returned - ready_at, ep.calls["GetSession"], waited, len(updates)


def simulated(provision: float, shape: str, rtt: float = 0.003) -> tuple[float, int]:
    """The scheduler alone on simulated time, for progress the local endpoint never sends."""
    from glue_magics.polling import SESSION_PLAN, PollScheduler

    scheduler, now, calls = PollScheduler(SESSION_PLAN, 0.0), 0.0, 0
    steps = (0.0, 10.0, 50.0, 90.0)
    while True:
        at = now + rtt / 2
        calls += 1
        if at >= provision:
            return now + rtt - provision, calls
        fraction = at / provision
        progress = {
            "none": None,
            "steps": steps[min(3, int(4 * fraction))],
            "stall at 50%": min(100 * fraction, 50.0),
        }[shape]
        scheduler.observe(at, progress)
        now = max(scheduler.next_poll_at(), now + rtt)


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("provision", type=float, nargs="*", help="provisioning times, s")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the round trip")
    args = parser.parse_args(argv)
    plan = [(p, 1) for p in args.provision] or [(30.0, 1), (5.0, 3), (1.0, 3)]
    print(
        f"{'provision':>9} {'run':>3} {'latency':>9} {'GetSession':>10} {'calls/s':>8} "
        f"{'updates':>7}"
    )
    for provision, runs in plan:
        latencies = []
        for run in range(runs):
            latency, calls, waited, updates = one_wait(provision, args.latency_ms)
            latencies.append(latency)
            print(
                f"{provision:>8g}s {run + 1:>3} {latency * 1000:>7.0f}ms {calls:>10} "
                f"{calls / waited:>8.2f} {updates:>7}"
            )
        if runs > 1:
            print(f"{provision:>8g}s med {statistics.median(latencies) * 1000:>7.0f}ms")
    print("\nsimulated (scheduler only) for progress shapes the local endpoint does not send;")
    print("provisioning times spread over +-10 % so polls do not land on READY by luck:")
    for shape in ("none", "steps", "stall at 50%"):
        for provision in (5.0, 30.0, 120.0):
            spread = [provision * (0.9 + 0.2 * i / 49) for i in range(50)]
            runs = [(simulated(d, shape), d) for d in spread]
            latencies = [lat for (lat, _), _ in runs]
            rates = [calls / (d + lat) for (lat, calls), d in runs]
            print(
                f"  {shape:>12} {provision:>5g}s latency median "
                f"{statistics.median(latencies) * 1000:>4.0f}ms max "
                f"{max(latencies) * 1000:>5.0f}ms, GetSession/s max {max(rates):.2f}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
