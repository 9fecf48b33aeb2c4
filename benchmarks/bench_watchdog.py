"""The watchdog's figures: seconds from a kernel's SIGKILL to its session STOPPED, and memory.

Each run starts a real python3 kernel (jupyter_client) with the magics, creates a session on
a LocalEndpoint in this process (not embedded, so the session outlives the kernel), waits
for READY, lets the kernel idle a second and reads the watchdog's resident memory
(``VmRSS`` in ``/proc/PID/status``), then SIGKILLs the kernel and times, from the kill:

- the watchdog's StopSession reaching the endpoint (its reaction: EOF, boto3 import, client),
- the session STOPPED (the endpoint stops at once: ``stop_seconds=0``; Glue itself takes
  its own time from STOPPING to STOPPED, which this does not measure),
- the watchdog exiting.

Its peak memory (``VmHWM``, boto3 loaded) is read as it stops.  Figures only:

    python benchmarks/bench_watchdog.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]  # tests/kernels.py imports helpers top-level
from glue_magics.local import LocalEndpoint  # noqa: E402
from glue_magics.service import make_client  # noqa: E402
from tests.kernels import Kernel, kernel_env  # noqa: E402
from tests.test_watchdog import gone, status, wait_for, watchdogs_of  # noqa: E402


def memory_kb(pid: int, field: str) -> int | None:
    """``VmRSS`` or ``VmHWM`` of a live process, in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def one_run(ep: LocalEndpoint, glue: object, n: int) -> dict[str, float]:
    session_id = f"bench-watchdog-{n}"
    keys = ep.credentials  # the endpoint's own pair: the only one it answers
    env = kernel_env(
        ep.url, AWS_ACCESS_KEY_ID=keys.access_key, AWS_SECRET_ACCESS_KEY=keys.secret_key
    )
    kernel = Kernel(env)
    try:
        kernel.ok("%load_ext glue_magics")
        kernel.ok(f"%glue_session --id {session_id}")
        kernel_pid = kernel.km.provisioner.pid
        (watchdog,) = wait_for(lambda: watchdogs_of(kernel_pid), "a watchdog")
        time.sleep(1.0)
        figures = {
            "idle_rss_kb": memory_kb(watchdog, "VmRSS"),
            "kernel_rss_kb": memory_kb(kernel_pid, "VmRSS"),
        }
        stops_before = ep.calls["StopSession"]
        start = time.perf_counter()
        os.kill(kernel_pid, signal.SIGKILL)
        peak = 0
        while "stopped" not in figures or "exited" not in figures:
            now = time.perf_counter() - start
            if "stop_call" not in figures and ep.calls["StopSession"] > stops_before:
                figures["stop_call"] = now
            if "stopped" not in figures and status(glue, session_id) in ("STOPPED", "ABSENT"):
                figures["stopped"] = now
            if "exited" not in figures:
                peak = max(peak, memory_kb(watchdog, "VmHWM") or 0)
                if gone(watchdog):
                    figures["exited"] = now
            if now > 60:
                raise RuntimeError(f"run {n}: not stopped within 60 s: {figures}")
            time.sleep(0.01)
        figures["peak_kb"] = peak
        return figures
    finally:
        kernel.kc.stop_channels()
        kernel.km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.0) as ep:
        glue = make_client(endpoint_url=ep.url, credentials=ep.credentials, translate_errors=False)
        runs = [one_run(ep, glue, n) for n in range(args.runs)]
    for n, r in enumerate(runs):
        print(
            f"run {n}: StopSession at {r['stop_call']:.2f} s, STOPPED at {r['stopped']:.2f} s, "
            f"watchdog exited at {r['exited']:.2f} s; idle RSS {r['idle_rss_kb'] / 1024:.1f} MB, "
            f"peak {r['peak_kb'] / 1024:.1f} MB (kernel {r['kernel_rss_kb'] / 1024:.1f} MB)"
        )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        f"median of {len(runs)}: SIGKILL -> StopSession {median('stop_call'):.2f} s, "
        f"-> STOPPED {median('stopped'):.2f} s, -> watchdog exited {median('exited'):.2f} s; "
        f"watchdog idle RSS {median('idle_rss_kb') / 1024:.1f} MB, "
        f"peak while stopping {median('peak_kb') / 1024:.1f} MB; "
        f"kernel RSS {median('kernel_rss_kb') / 1024:.1f} MB"
    )


if __name__ == "__main__":
    main()
