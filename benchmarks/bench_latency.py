"""Per-cell latency over a network's round trip: our kernel and AWS's Glue kernel (figures only).

Both kernels run as real Jupyter kernels (jupyter_client) against one local endpoint that
answers every request ``R`` ms later (``LocalEndpoint(latency_ms=R)``: half on the way
in, half on the way back), for R = 0, 50 and 150 ms; the endpoint runs in a process of
its own, as the service is never in the frontend's.  A cell is ``time.sleep(t)`` for
t = 0.05, 0.2, 1 and 5 s; the two kernels take turns, cell by cell, so both see the same
load.  Printed per kernel, R and t: the median added latency (wall time from execute
request to idle, minus t) with its range, and the calls one cell made (the endpoint
counts them: ``LocalEndpoint.calls``).

Then where a 0.2 s cell's added time goes at R = 0 (ours; ``--parts-rtt``), from time stamps on both
sides of the wire: the endpoint's (when each request reached it, when the worker
started and finished the statement) and the kernel's own (probes wrapped around
``SessionManager.run``, the Glue calls and the ``%%glue`` magic by a ``%%local`` cell
before the runs).  A plain ipykernel running ``time.sleep(0.2)`` itself, cut the same
way, is the floor every kernel pays (ZeroMQ, ipykernel, IPython).

AWS's kernel (aws-glue-sessions 1.0.9, unchanged) runs from the venv the tests make once
(tests/peer_kernel.py); ``--no-peer`` leaves it out.  The machine is shared: the load
average is printed with the figures, so run it when ``uptime`` is low, several times.

    python benchmarks/bench_latency.py                  # the README table (about 4 min)
    python benchmarks/bench_latency.py --rtts 0 --durations 0.2 --runs 9 --no-peer
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_kernels import Cell, Kernel, install_ours, ours_env

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from peer_kernel import install_peer, loopback_env, peer_env, peer_venv  # noqa: E402

RTTS = (0.0, 50.0, 150.0)
DURATIONS = (0.05, 0.2, 1.0, 5.0)
#: The calls a cell makes, as the table names them.
COUNTED = {"RunStatement": "Run", "GetStatement": "Get", "GetSession": "Session"}

#: Installed in our kernel by a ``%%local`` cell: time stamps (time.time()) of what the
#: kernel does for a cell, read back after it as JSON.  Wrappers only: no behaviour changes.
PROBES = r"""%%local
import time as _bench_time
import glue_magics.lifecycle as _bench_lifecycle
import glue_magics.sessions as _bench_sessions
_bench_marks = []
def _bench_wrap(name, fn):
    def wrapped(*args, **kwargs):
        _bench_marks.append((name + ">", _bench_time.time()))
        try:
            return fn(*args, **kwargs)
        finally:
            _bench_marks.append((name + "<", _bench_time.time()))
    return wrapped
_bench_call = _bench_lifecycle.call
_bench_lifecycle.call = lambda client, op, **kw: _bench_wrap(op, _bench_call)(client, op, **kw)
_bench_sessions.SessionManager.run = _bench_wrap("run", _bench_sessions.SessionManager.run)
_bench_cells = get_ipython().magics_manager.magics["cell"]
_bench_cells["glue"] = _bench_wrap("magic", _bench_cells["glue"])
"""
MARKS = "%%local\nprint(__import__('json').dumps(_bench_marks)); _bench_marks.clear()"


# ------------------------------------------------------------------ the endpoint's side
def _serve(conn: Any, settings: dict[str, Any]) -> None:
    """The child process: a LocalEndpoint that stamps when each request reaches its
    operation (``dispatch``), answering the parent's questions over ``conn``."""
    from glue_magics.local import LocalEndpoint

    ep = LocalEndpoint(**settings).start()
    seen: list[tuple[str, float]] = []
    dispatch = ep.dispatch

    def timed(target: str, operation: str, raw: bytes) -> dict:
        seen.append((operation, time.time()))
        return dispatch(target, operation, raw)

    ep.dispatch = timed  # type: ignore[method-assign]
    keys = ep.credentials  # the only pair it answers (its SigV4 guard)
    conn.send(
        (ep.url, {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key})
    )
    while True:
        what, session_id = conn.recv()
        if what == "calls":
            conn.send(dict(ep.calls))
        elif what == "arrivals":
            conn.send(list(seen))
            seen.clear()
        elif what == "statement":  # (started_on, completed_on) of its newest, epoch s
            with ep.backend.lock:
                statements = ep.backend.sessions[session_id].statements
                newest = statements[max(statements)]
                conn.send((newest.started_on, newest.completed_on))
        else:
            ep.stop()
            conn.send(None)
            return


class Service:
    """The local endpoint in a process of its own, as the service is: sharing no
    interpreter (and no GIL) with the frontend that drives the kernels."""

    def __init__(self, **settings: Any) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, settings), daemon=True)
        self._process.start()
        self.url, self.signing = self._conn.recv()  # its URL, and the credentials it answers
        self.latency_ms = float(settings.get("latency_ms", 0.0))

    def ask(self, what: str, session_id: str = "") -> Any:
        self._conn.send((what, session_id))
        return self._conn.recv()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ask("stop")
        self._process.join(10)


# ------------------------------------------------------------------ one kernel's runs
@dataclass
class Row:
    added: list[float] = field(default_factory=list)  # seconds
    calls: list[dict[str, int]] = field(default_factory=list)


class Runner:
    """One kernel on the endpoint: its session started, cells run and counted."""

    def __init__(self, label: str, kernel: Kernel, service: Service) -> None:
        self.label, self.kernel, self.service = label, kernel, service
        self.rows: dict[float, Row] = {}

    def ok(self, code: str) -> Cell:
        cell = self.kernel.execute(code, timeout=300)
        if cell.status != "ok":
            raise RuntimeError(f"{self.label}: {code!r} failed: {cell.text()[-600:]}")
        return cell

    def cell(self, t: float) -> Cell:
        before = self.service.ask("calls")
        cell = self.ok(f"time.sleep({t})")
        calls = {op: n - before.get(op, 0) for op, n in self.service.ask("calls").items()}
        row = self.rows.setdefault(t, Row())
        row.added.append(cell.wall - t)
        row.calls.append({op: n for op, n in calls.items() if n})
        return cell


def start(
    label: str, spec: Any, name: str, env: dict[str, str], service: Service, logs: Path
) -> Runner:
    kernel = Kernel(name, spec, env, logs / f"{label}-{int(service.latency_ms)}.log")
    runner = Runner(label, kernel, service)
    runner.ok("import time")  # creates the session and waits for it: not measured
    runner.ok("import time")
    return runner


def run_rtt(rtt: float, specs: dict[str, tuple[Any, str, Any]], args: Any, logs: Path) -> dict:
    """Every kernel's cells at one round trip, taking turns cell by cell."""
    print(f"  R = {rtt:g} ms ...", file=sys.stderr, flush=True)
    network = {"latency_ms": rtt, "jitter_ms": args.jitter_ms}
    with Service(provision_seconds=0.5, stop_seconds=0.1, **network) as service:
        runners = [
            start(label, spec, name, env_for(service.url, **service.signing), service, logs)
            for label, (spec, name, env_for) in specs.items()
        ]
        try:
            for t in args.durations:
                for _ in range(args.runs if t < 1 else args.long_runs):
                    for runner in runners:
                        runner.cell(t)
        finally:
            for runner in runners:
                runner.kernel.shutdown()
    return {runner.label: runner.rows for runner in runners}


# ------------------------------------------------------------------ where the time goes
#: (name, what it spans, the plain ipykernel's part it compares with: index or None).
PARTS = (
    ("to the kernel", "execute request sent -> kernel busy (ZeroMQ, ipykernel)", 0),
    ("kernel routing", "busy -> SessionManager.run (IPython, route_to_session, %%glue)", 1),
    ("RunStatement out", "-> RunStatement reaches the endpoint (botocore, HTTP)", None),
    ("endpoint + worker", "-> statement done, less t (backend, worker pipe, exec, events)", None),
    ("polling wait", "-> the GetStatement that sees it done reaches the endpoint", None),
    ("GetStatement back", "-> its answer is parsed in the kernel (endpoint, HTTP, botocore)", None),
    ("results + display", "-> the %%glue magic returns (results.py, display.py)", None),
    ("kernel after", "-> kernel idle (IPython, ipykernel)", 2),
    ("to the frontend", "-> the idle reaches the frontend", 3),
)
#: The plain ipykernel's cell: the code stamps when it starts and ends.
PLAIN = "_bench_start = time.time(); time.sleep({t}); _bench_end = time.time()"


def busy_at(cell: Cell) -> float:
    """The kernel's time stamp on the busy status of the cell."""
    return next(
        m["header"]["date"].timestamp()
        for m in cell.messages
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "busy"
    )


def cut(points: list[float]) -> list[float]:
    return [b - a for a, b in zip(points, points[1:], strict=False)]


def parts_of(cell: Cell, t: float, marks: list, arrivals: list, completed: float) -> list:
    """The added time of one cell of ours, cut at the time stamps of both sides (seconds);
    the parts add up to the cell's wall time less ``t``."""
    stamps = dict(marks)  # the last of each name
    cuts = cut(
        [
            cell.sent,
            busy_at(cell),
            stamps["run>"],
            next(at for op, at in arrivals if op == "RunStatement"),
            completed,
            [at for op, at in arrivals if op == "GetStatement"][-1],
            stamps["GetStatement<"],
            stamps["magic<"],
            cell.kernel_idle,
            cell.idle,
        ]
    )
    cuts[3] -= t  # the statement's own time is not added time
    return cuts


def plain_parts(kernel: Kernel, t: float) -> list[float]:
    """The same cuts of a plain ipykernel running the sleep itself: to the kernel, busy ->
    code starts, code ends -> idle, idle -> frontend; and its whole added time."""
    cell = kernel.execute(PLAIN.format(t=t))
    start, end = json.loads(kernel.execute("print([_bench_start, _bench_end])").text())
    cuts = cut([cell.sent, busy_at(cell), start]) + cut([end, cell.kernel_idle, cell.idle])
    return [*cuts, cell.wall - t]


def measure_parts(spec: Any, args: Any, logs: Path) -> tuple[list[list[float]], list[list[float]]]:
    """Ours at R = ``args.parts_rtt``, a 0.2 s cell cut into parts; and a plain ipykernel's."""
    from jupyter_client.kernelspec import KernelSpecManager

    t = 0.2
    print(f"  parts at R = {args.parts_rtt:g} ms ...", file=sys.stderr, flush=True)
    network = {"latency_ms": args.parts_rtt, "jitter_ms": args.jitter_ms}
    with Service(provision_seconds=0.5, stop_seconds=0.1, **network) as service:
        env = ours_env(service.url, **service.signing)
        runner = start("ours-parts", spec, "glue_magics", env, service, logs)
        env = loopback_env(service.url, **service.signing)
        plain = Kernel("python3", KernelSpecManager(), env, logs / "plain.log")
        try:
            runner.ok(PROBES)
            session_id = runner.ok("%session_id").text().strip()
            runner.ok(MARKS)
            plain.execute("import time, json")
            ours, theirs = [], []
            for _ in range(args.parts_runs):
                service.ask("arrivals")
                cell = runner.ok(f"time.sleep({t})")
                seen = service.ask("arrivals")
                marks = json.loads(runner.ok(MARKS).text())
                _, completed = service.ask("statement", session_id)
                ours.append(parts_of(cell, t, marks, seen, completed))
                theirs.append(plain_parts(plain, t))
        finally:
            runner.kernel.shutdown()
            plain.shutdown()
    return ours, theirs


# ------------------------------------------------------------------ report
def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def calls_text(calls: list[dict[str, int]]) -> str:
    """Median calls per cell, all of them, with the counted operations named."""
    med = statistics.median
    total = med(sum(c.values()) for c in calls)
    each = ", ".join(
        f"{med(c.get(op, 0) for c in calls):g} {name}"
        for op, name in COUNTED.items()
        if any(op in c for c in calls)
    )
    return f"{total:g} ({each})"


def report(results: dict[float, dict], labels: list[str], load: tuple, jitter: float) -> None:
    med = statistics.median
    network = f", jitter up to {jitter:g} ms" if jitter else ""
    print(
        f"\nAdded latency per cell (median, range) and calls per cell (median){network}; "
        f"load average {load[0]:.2f} before, {load[1]:.2f} after (1 min), 2 cores\n"
    )
    head = "| R | t |" + "".join(f" {label}: added | {label}: calls |" for label in labels)
    print(head)
    print("|" + "---|" * (2 + 2 * len(labels)))
    for rtt, by_label in results.items():
        for t in next(iter(by_label.values())):
            line = f"| {rtt:g} ms | {t:g} s |"
            for label in labels:
                row = by_label[label][t]
                added = sorted(row.added)
                line += (
                    f" {ms(med(added))} ({ms(added[0])}-{ms(added[-1])}) "
                    f"| {calls_text(row.calls)} |"
                )
            print(line)
    print("\n(calls: all, then Run = RunStatement, Get = GetStatement, Session = GetSession)")


def report_parts(ours: list[list[float]], plain: list[list[float]], rtt: float) -> None:
    med = statistics.median
    total = [sum(c) for c in ours]
    floor = [p[-1] for p in plain]
    print(
        f"\nWhere a 0.2 s cell's added time goes at R = {rtt:g} ms ({len(ours)} runs, medians "
        "in ms), ours and a plain ipykernel (python3) running time.sleep(0.2) itself\n"
    )
    print("| part | ours | plain ipykernel | spans |\n|---|---|---|---|")
    for i, (name, what, same) in enumerate(PARTS):
        theirs = f"{med(p[same] for p in plain) * 1000:.1f}" if same is not None else ""
        print(f"| {name} | {med(c[i] for c in ours) * 1000:.1f} | {theirs} | {what} |")
    print(
        f"| added in all | {med(total) * 1000:.1f} ({ms(min(total))}-{ms(max(total))}) | "
        f"{med(floor) * 1000:.1f} ({ms(min(floor))}-{ms(max(floor))}) | wall time less 0.2 s |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtts", type=float, nargs="*", default=list(RTTS), help="ms")
    parser.add_argument("--durations", type=float, nargs="*", default=list(DURATIONS))
    parser.add_argument("--runs", type=int, default=7, help="runs per t below 1 s")
    parser.add_argument("--long-runs", type=int, default=3, help="runs per t of 1 s and more")
    parser.add_argument("--parts-runs", type=int, default=15, help="0: no parts")
    parser.add_argument("--parts-rtt", type=float, default=0.0, help="R of the parts, ms")
    parser.add_argument(
        "--jitter-ms", type=float, default=0.0, help="up to this much more per request"
    )
    parser.add_argument("--no-peer", action="store_true", help="leave AWS's kernel out")
    parser.add_argument("--peer-python", help="python of another venv with aws-glue-sessions")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    load_before = os.getloadavg()[0]
    try:
        ours = install_ours(root)
        specs: dict[str, tuple[Any, str, Any]] = {"ours": (ours, "glue_magics", ours_env)}
        if not args.no_peer:
            peer = install_peer(root, args.peer_python or peer_venv())
            specs["aws"] = (peer, "glue_pyspark", peer_env)
        results = {rtt: run_rtt(rtt, specs, args, root) for rtt in args.rtts}
        cuts, plain = measure_parts(ours, args, root) if args.parts_runs else ([], [])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if results:
        report(results, list(specs), (load_before, os.getloadavg()[0]), args.jitter_ms)
    if cuts:
        report_parts(cuts, plain, args.parts_rtt)


if __name__ == "__main__":
    main()
