"""Our kernel against AWS's Glue PySpark kernel (aws-glue-sessions), in real kernels (figures only).

Both kernels run as real Jupyter kernels through jupyter_client, against the same embedded
local endpoint on loopback, and are measured the same way:

1. Session start.  The endpoint turns a session READY at ``CreatedOn + provision_seconds``
   (same machine, same clock), so the latency is the time from that moment to the idle
   that ends the starting cell.  Ours is measured twice: ``%glue_session`` alone, and a
   first plain cell (``import time``), which starts the session and then runs the cell,
   exactly what AWS's kernel does with its first code cell.  Also: GetSession calls during
   the cell, and per second of the wait.  Run i of n provisions for provision + i/n s, so
   READY falls at different phases of a kernel's polling (AWS's kernel polls every whole
   second; with a whole-number provision time its poll would meet READY by coincidence).
2. Per cell: ``time.sleep(t)`` for t in 0.05, 0.2, 1, 1.5, 3 s (median of several runs): wall
   time from execute request to idle, the latency added over t, and the GetSession and
   GetStatement calls each cell cost.
3. Progress while the session provisions: the output messages the kernel sent between
   CreatedOn + 0.5 s and READY (comm_msg / update_display_data / stream / display_data),
   i.e. what a user sees change while waiting.

AWS's kernel runs from a separate virtual environment, never this project's: ``--peer``
uses the one the tests make once and cache (tests/peer_kernel.py ``peer_venv``: the
unmodified aws-glue-sessions 1.0.9 from PyPI), ``--peer-python PATH`` any other:

    python benchmarks/bench_kernels.py --peer

Only loopback traffic: the kernels get dummy credentials, ``AWS_CONFIG_FILE=/dev/null``,
no IMDS, the Glue endpoint on 127.0.0.1, and HTTP(S)_PROXY pointing at a closed loopback
port (``NO_PROXY`` for 127.0.0.1 only), so any call meant for real AWS or PyPI fails at
once on this machine.  AWS's kernel reads its endpoint from ``glue_endpoint_url`` and its
role from ``glue_role_arn``; it calls STS GetCallerIdentity (for an owner tag) unless its
request origin is ``GlueStudioNotebook``, which reads the user id from ``userId`` instead
and also skips its PyPI version check, so the benchmark sets ``request_origin`` to that.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glue_magics.local import LocalEndpoint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from peer_kernel import ROLE, install_peer, loopback_env, peer_env, peer_venv  # noqa: E402

DURATIONS = (0.05, 0.2, 1.0, 1.5, 3.0)  # 1.5: off the whole second AWS polls on
OUTPUT_TYPES = ("stream", "display_data", "update_display_data", "comm_msg", "comm_open")


# ------------------------------------------------------------------ environment
def ours_env(endpoint_url: str, **extra: str) -> dict[str, str]:
    return loopback_env(endpoint_url, GLUE_ROLE_ARN=ROLE, **extra)


def signing_with(ep: LocalEndpoint) -> dict[str, str]:
    """The kernel's credentials: the endpoint's own pair, the only one it answers."""
    keys = ep.credentials
    return {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key}


# ------------------------------------------------------------------ kernelspecs
def install_ours(root: Path) -> Any:
    """``glue-magics install-kernel`` into a temporary prefix; returns its KernelSpecManager."""
    from jupyter_client.kernelspec import KernelSpecManager

    prefix = root / "ours"
    subprocess.run(
        [sys.executable, "-m", "glue_magics", "install-kernel", "--prefix", str(prefix)],
        check=True,
        capture_output=True,
    )
    return KernelSpecManager(kernel_dirs=[str(prefix / "share" / "jupyter" / "kernels")])


# ------------------------------------------------------------------ kernel driver
@dataclass
class Cell:
    """What one execute request produced, with wall-clock times."""

    sent: float  # time.time() just before the request
    idle: float  # time.time() when the idle status for it arrived
    status: str
    messages: list[dict] = field(default_factory=list)
    kernel_idle: float = 0.0  # the kernel's own time stamp on that idle status

    @property
    def wall(self) -> float:
        return self.idle - self.sent

    def outputs(self, start: float = 0.0, end: float = float("inf")) -> list[dict]:
        """Output messages the kernel stamped within [start, end] (epoch seconds)."""
        return [
            m
            for m in self.messages
            if m["msg_type"] in OUTPUT_TYPES and start <= m["header"]["date"].timestamp() <= end
        ]

    def text(self) -> str:
        return "".join(m["content"]["text"] for m in self.messages if m["msg_type"] == "stream")


class Kernel:
    """One kernel process driven as a frontend would drive it."""

    def __init__(self, name: str, spec_manager: Any, env: dict[str, str], log: Path) -> None:
        from jupyter_client.manager import KernelManager

        self.log = log
        self.km = KernelManager(kernel_name=name, kernel_spec_manager=spec_manager)
        with log.open("ab") as sink:  # the kernel's own stderr: shown only if a run fails
            self.km.start_kernel(env=env, stdout=sink, stderr=sink)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=90)

    def execute(self, code: str, timeout: float = 120) -> Cell:
        sent = time.time()
        msg_id = self.kc.execute(code, store_history=True)
        messages: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no idle within {timeout} s for {code!r}") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = time.time()
                break
            messages.append(msg)
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:  # AWS's kernel_info_reply
            reply = self.kc.get_shell_msg(timeout=timeout)
        reply = reply["content"]
        return Cell(sent, idle, reply["status"], messages, msg["header"]["date"].timestamp())

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


# ------------------------------------------------------------------ measurements
@dataclass
class Start:
    latency: float  # idle of the starting cell minus READY
    get_session: int
    waited: float  # READY minus the request (the wait the polling covered)
    progress: list[dict]
    outputs: int  # output messages of the whole starting cell
    status: str
    text: str


@dataclass
class PerCell:
    t: float
    walls: list[float]
    get_session: list[int]
    get_statement: list[int]


def newest_session(ep: Any) -> Any:
    with ep.backend.lock:
        sessions = list(ep.backend.sessions.values())
    return max(sessions, key=lambda s: s.created_on) if sessions else None


def measure_start(ep: Any, kernel: Kernel, code: str) -> Start:
    before = ep.calls["GetSession"]
    cell = kernel.execute(code)
    calls = ep.calls["GetSession"] - before
    session = newest_session(ep)
    if session is None:
        raise RuntimeError(f"{code!r} created no session: {cell.text()[-400:]}")
    ready = session.ready_at
    return Start(
        latency=cell.idle - ready,
        get_session=calls,
        waited=ready - cell.sent,
        progress=cell.outputs(session.created_on + 0.5, ready),
        outputs=len(cell.outputs()),
        status=cell.status,
        text=cell.text(),
    )


def measure_cells(ep: Any, kernel: Kernel, runs: dict[float, int]) -> list[PerCell]:
    out = []
    for t, n in runs.items():
        row = PerCell(t, [], [], [])
        for _ in range(n):
            session_calls, statement_calls = ep.calls["GetSession"], ep.calls["GetStatement"]
            cell = kernel.execute(f"time.sleep({t})")
            if cell.status != "ok":
                raise RuntimeError(f"time.sleep({t}) failed: {cell.text()[-400:]}")
            row.walls.append(cell.wall)
            row.get_session.append(ep.calls["GetSession"] - session_calls)
            row.get_statement.append(ep.calls["GetStatement"] - statement_calls)
        out.append(row)
    return out


def run_kernel(
    label: str,
    name: str,
    spec_manager: Any,
    env_for: Any,
    start_cells: list[tuple[str, str]],
    provision: float,
    start_runs: int,
    spread: bool,
    runs: dict[float, int],
    setup: str,
    logs: Path,
) -> tuple[list[tuple[str, list[Start]]], list[PerCell]]:
    """Each start cell ``start_runs`` times, each in a fresh kernel and endpoint; the
    per-cell figures come from the very last kernel, its session already READY."""
    starts: list[tuple[str, list[Start]]] = []
    cells: list[PerCell] = []
    plan = [(what, code, run) for what, code in start_cells for run in range(start_runs)]
    for i, (what, code, run) in enumerate(plan):
        if run == 0:
            starts.append((what, []))
        # Spread READY over the second: a kernel that polls every whole second would
        # otherwise meet READY on its poll by coincidence when provision is a whole number.
        seconds = provision + run / start_runs if spread else provision
        endpoint = LocalEndpoint(
            provision_seconds=seconds, stop_seconds=0.1, generate_credentials=True
        )
        with endpoint as ep:
            log = logs / f"{label}-{i}.log"
            kernel = Kernel(name, spec_manager, env_for(ep.url, **signing_with(ep)), log)
            try:
                print(f"  {label}: {what} (run {run + 1}) ...", file=sys.stderr, flush=True)
                starts[-1][1].append(measure_start(ep, kernel, code))
                if i == len(plan) - 1:
                    warm = kernel.execute(setup)
                    if warm.status != "ok":
                        raise RuntimeError(f"{setup!r} failed: {warm.text()[-400:]}")
                    print(f"  {label}: per-cell runs ...", file=sys.stderr, flush=True)
                    cells = measure_cells(ep, kernel, runs)
            except Exception:
                print(f"{label} kernel's log:\n{log.read_text()[-3000:]}", file=sys.stderr)
                raise
            finally:
                kernel.shutdown()
    return starts, cells


# ------------------------------------------------------------------ report
Results = dict[str, tuple[list[tuple[str, list[Start]]], list[PerCell]]]


def kinds(messages: list[dict]) -> str:
    counts: dict[str, int] = {}
    for m in messages:
        counts[m["msg_type"]] = counts.get(m["msg_type"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"


def report(results: Results, provision: float, spread: str) -> None:
    med = statistics.median
    print(
        f"\n1. Session start (provision_seconds = {provision:g}{spread}; latency = idle of "
        "the starting cell - READY; medians over runs)"
    )
    print(
        f"{'kernel':<6} {'starting cell':<32} {'runs':>4} {'latency':>8} {'(min-max)':>13} "
        f"{'GetSession':>10} {'calls/s':>7}  progress while provisioning"
    )
    for label, (starts, _) in results.items():
        for what, runs in starts:
            lat = [s.latency * 1000 for s in runs]
            rate = med(s.get_session / s.waited for s in runs if s.waited > 0)
            bad = [s.status for s in runs if s.status != "ok"]
            flag = f"  [cell status {bad}]" if bad else ""
            print(
                f"{label:<6} {what:<32} {len(runs):>4} {med(lat):>6.0f}ms "
                f"{f'({min(lat):.0f}-{max(lat):.0f}ms)':>13} "
                f"{med(s.get_session for s in runs):>10g} {rate:>7.2f}  "
                f"{med(len(s.progress) for s in runs):g} updates ({kinds(runs[-1].progress)})"
                f"{flag}"
            )
    print("\n2. Per cell: time.sleep(t), median wall time from execute request to idle")
    print(
        f"{'kernel':<6} {'t':>6} {'runs':>4} {'wall':>9} {'added':>8} "
        f"{'GetSession':>10} {'GetStatement':>12}"
    )
    for label, (_, cells) in results.items():
        for row in cells:
            wall = med(row.walls)
            print(
                f"{label:<6} {row.t:>5g}s {len(row.walls):>4} {wall * 1000:>7.0f}ms "
                f"{(wall - row.t) * 1000:>6.0f}ms {med(row.get_session):>10g} "
                f"{med(row.get_statement):>12g}"
            )
    print("\n3. What each kernel showed while the session provisioned (last run)")
    for label, (starts, _) in results.items():
        for what, runs in starts:
            s = runs[-1]
            texts = [m["content"]["text"].strip() for m in s.progress if m["msg_type"] == "stream"]
            sample = f"; text: {texts[-1][:70]!r}" if texts else ""
            print(
                f"  {label} / {what}: {s.outputs} outputs in the cell, {len(s.progress)} of "
                f"them while provisioning{sample}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", help="python of a venv with aws-glue-sessions")
    parser.add_argument(
        "--peer", action="store_true", help="measure AWS's kernel from the tests' cached venv"
    )
    parser.add_argument("--provision", type=float, default=10.0, help="provision_seconds")
    parser.add_argument("--start-runs", type=int, default=4, help="runs per starting cell")
    parser.add_argument(
        "--no-spread",
        action="store_true",
        help="every run provisions exactly --provision s (default: run i adds i/runs s)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per t below 1 s")
    parser.add_argument("--long-runs", type=int, default=3, help="runs per t of 1 s and more")
    parser.add_argument(
        "--durations", type=float, nargs="*", default=list(DURATIONS), help="sleep times"
    )
    args = parser.parse_args(argv)
    if args.peer and not args.peer_python:
        args.peer_python = str(peer_venv())
    runs = {t: (args.runs if t < 1 else args.long_runs) for t in args.durations}
    root = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    results: Results = {}
    try:
        results["ours"] = run_kernel(
            "ours",
            "glue_magics",
            install_ours(root),
            ours_env,
            [
                ("%glue_session", "%glue_session"),
                ("first plain cell 'import time'", "import time"),
            ],
            args.provision,
            args.start_runs,
            not args.no_spread,
            runs,
            "import time",
            root,
        )
        if args.peer_python:
            results["aws"] = run_kernel(
                "aws",
                "glue_pyspark",
                install_peer(root, args.peer_python),
                peer_env,
                [("first plain cell 'import time'", "import time")],
                args.provision,
                args.start_runs,
                not args.no_spread,
                runs,
                "import time",
                root,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    spread = "" if args.no_spread else f" + i/{args.start_runs} s in run i"
    report(results, args.provision, spread)
    if not args.peer_python:
        print("\n(AWS's kernel not measured: pass --peer or --peer-python PATH)")


if __name__ == "__main__":
    main()
