"""What ``%load_ext glue_magics`` costs (prints figures only).

Each run is a fresh interpreter with IPython already imported, as in a kernel, so only
the extension's own import and registration are timed; the heavy modules it must not
load yet (boto3, botocore, ipywidgets) are listed if it does.

    python benchmarks/bench_load_ext.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys

PROBE = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
t = time.perf_counter()
shell.run_line_magic("load_ext", "glue_magics")
ms = (time.perf_counter() - t) * 1000
heavy = [m for m in ("boto3", "botocore", "ipywidgets") if m in sys.modules]
print(f"{ms:.2f} {','.join(heavy) or '-'}")
"""


def main(runs: int) -> None:
    times, heavy = [], set()
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
        ).stdout.split()
        times.append(float(out[0]))
        heavy.update(m for m in out[1].split(",") if m != "-")
    print(f"%load_ext glue_magics over {runs} fresh interpreters:")
    print(f"  median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
    print(f"  heavy modules loaded: {', '.join(sorted(heavy)) or 'none'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
