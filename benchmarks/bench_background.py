"""``%glue_session --background`` against a wait in the cell, in a real kernel (figures only).

One ipykernel (``%load_ext glue_magics``) against the embedded local endpoint, whose
sessions take ``--provision`` seconds to start.  For each of ``--runs`` rounds: how long the
``%glue_session --background`` cell blocks the notebook, a local cell run meanwhile, the
first ``%%glue`` cell (which waits for READY, then runs), and ``%glue_session`` waiting in
its cell; and the GetSession calls of each start (one poller: a joining cell adds none).

    python benchmarks/bench_background.py --provision 5 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provision", type=float, default=5.0, help="seconds to READY")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from glue_magics.local import LocalEndpoint
    from tests.kernels import Kernel, kernel_env

    rows: dict[str, list[float]] = {}

    def timed(name: str, kernel: Kernel, code: str) -> None:
        began = time.perf_counter()
        kernel.ok(code, timeout=args.provision + 60)
        rows.setdefault(name, []).append((time.perf_counter() - began) * 1000)

    endpoint = LocalEndpoint(
        provision_seconds=args.provision, stop_seconds=0.1, generate_credentials=True
    )
    with endpoint as ep:
        keys = ep.credentials  # the endpoint's own pair: the only one it answers
        env = kernel_env(
            ep.url,
            PYTHONPATH=str(ROOT),
            AWS_ACCESS_KEY_ID=keys.access_key,
            AWS_SECRET_ACCESS_KEY=keys.secret_key,
        )
        kernel = Kernel(env)
        try:
            kernel.ok("%load_ext glue_magics")
            for run in range(args.runs):
                gets = ep.calls["GetSession"]
                line = f"%glue_session --background --id b{run}"
                timed("%glue_session --background", kernel, line)
                timed("a local cell meanwhile", kernel, "x = 1 + 1")
                timed("first %%glue (waits, runs)", kernel, "%%glue\n1")
                rows.setdefault("GetSession calls, background", []).append(
                    ep.calls["GetSession"] - gets
                )
                kernel.ok("%glue_stop")
                gets = ep.calls["GetSession"]
                timed("%glue_session (waits)", kernel, f"%glue_session --id w{run}")
                rows.setdefault("GetSession calls, in the cell", []).append(
                    ep.calls["GetSession"] - gets
                )
                kernel.ok("%glue_stop")
        finally:
            kernel.shutdown()
    print(f"provisioning {args.provision:g} s, {args.runs} runs (median, max)")
    for name, values in rows.items():
        unit = "" if name.startswith("GetSession") else " ms"
        print(f"  {name:32s} {statistics.median(values):9.1f}{unit}  {max(values):9.1f}{unit}")


if __name__ == "__main__":
    main()
