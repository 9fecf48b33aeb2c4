"""Added latency per cell on statements of random length: our kernel and AWS's Glue kernel
(figures only).

Both kernels run as real Jupyter kernels (jupyter_client) against one local endpoint in a
process of its own (as the service is never in the frontend's), which answers every
request ``R`` ms later (``LocalEndpoint(latency_ms=R)``: half on the way in, half on the
way back; ``--jitter-ms`` adds up to that much more at random), for R = 0, 50 and 150 ms.

A cell is ``time.sleep(X)``: the statement itself sleeps, in the session's worker, for a
length X the benchmark draws at random (seeded: the same sequence for both kernels and
every R), 0.1 to 1.0 s, then a few of 3 to 8 s.  Nothing tells the client X: it is only
in the code, which neither kernel reads, so no poll schedule can know when a statement
ends (the lengths are not round either).  The kernels take turns cell by cell (the order
swapped every cell), so both see the same load.  Printed per R and kernel: the mean and
95th percentile of the added time (wall time from execute request to idle, less X), the
GetStatement calls per statement (the endpoint counts them), and for the long statements
the GetStatement calls per second after their first 3 s (from when each reached the
endpoint).  The load average is printed with each R's figures.

Then where the added time goes at R = ``--parts-rtt`` (ours, the same random lengths),
from time stamps on both sides of the wire: the endpoint's (when each request reached it
and left it, when the worker started and finished the statement) and the kernel's own
(probes wrapped around ``SessionManager.run``, the Glue calls and the ``%%glue`` magic by
a ``%%local`` cell before the runs).  A plain ipykernel running the same sleep itself,
cut the same way, is the floor every kernel pays (ZeroMQ, ipykernel, IPython).  And one
Glue call cut into botocore's steps (``--calls``): botocore's events in this process,
the endpoint's stamps in its own.

AWS's kernel (aws-glue-sessions 1.0.9, unchanged) runs from the venv the tests make once
(tests/peer_kernel.py); ``--no-peer`` leaves it out.  The machine is shared: run it when
``uptime`` is low, several times.

    python benchmarks/bench_latency.py                  # the README table (about 8 min)
    python benchmarks/bench_latency.py --rtts 0 --short 20 --long 0 --no-peer
    python benchmarks/bench_latency.py --ours-from before=/tmp/before   # two of ours
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from peer_kernel import ROLE, install_peer, loopback_env, peer_env, peer_venv  # noqa: E402

RTTS = (0.0, 50.0, 150.0)
SHORT = (0.1, 1.0)  # seconds: the random lengths of the short statements
LONG = (3.0, 8.0)  # and of the long ones
AFTER = 3.0  # the long statements' calls are counted per second from here on
SEED = 19

#: Installed in our kernel by a ``%%local`` cell: time stamps (time.time()) of what the
#: kernel does for a cell, read back after it as JSON.  Wrappers only: no behaviour
#: changes.  ``call`` is wrapped in every glue_magics module that imported it.
PROBES = r"""%%local
import sys as _bench_sys, time as _bench_time
import glue_magics.service as _bench_service
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
_bench_call = _bench_service.call
def _bench_timed_call(client, op, **kw):
    return _bench_wrap(op, _bench_call)(client, op, **kw)
for _bench_module in list(_bench_sys.modules.values()):
    if getattr(_bench_module, "__name__", "").startswith("glue_magics") and getattr(
        _bench_module, "call", None
    ) is _bench_call:
        _bench_module.call = _bench_timed_call
_bench_sessions.SessionManager.run = _bench_wrap("run", _bench_sessions.SessionManager.run)
_bench_cells = get_ipython().magics_manager.magics["cell"]
_bench_cells["glue"] = _bench_wrap("magic", _bench_cells["glue"])
"""
MARKS = "%%local\nprint(__import__('json').dumps(_bench_marks)); _bench_marks.clear()"


def lengths(short: int, long: int, seed: int = SEED) -> list[float]:
    """The statements' lengths, in seconds (ms precision): ``short`` drawn from SHORT,
    then ``long`` from LONG; the same for every kernel and R."""
    draw = random.Random(seed)
    return [round(draw.uniform(*SHORT), 3) for _ in range(short)] + [
        round(draw.uniform(*LONG), 3) for _ in range(long)
    ]


# ------------------------------------------------------------------ the endpoint's side
def _serve(conn: Any, settings: dict[str, Any]) -> None:
    """The child process: a LocalEndpoint that stamps when each request reaches its
    operation and when the operation is done (``dispatch``), answering the parent's
    questions over ``conn``."""
    from glue_magics.local import LocalEndpoint

    ep = LocalEndpoint(**settings).start()
    seen: list[tuple[str, float, float]] = []
    dispatch = ep.dispatch

    def timed(target: str, operation: str, raw: bytes) -> dict:
        came = time.time()
        try:
            return dispatch(target, operation, raw)
        finally:
            seen.append((operation, came, time.time()))

    ep.dispatch = timed  # type: ignore[method-assign]
    keys = ep.credentials  # the only pair it answers (its SigV4 guard)
    conn.send(
        (ep.url, {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key})
    )
    while True:
        what, session_id = conn.recv()
        if what == "arrivals":
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
class Run:
    """One statement of length ``t`` in one kernel."""

    t: float
    added: float  # seconds
    calls: dict[str, int]
    after: list[float]  # when GetStatements reached the endpoint, AFTER s or more into it


@dataclass
class Runner:
    """One kernel on the endpoint: its session started, cells run and counted."""

    label: str
    kernel: Kernel
    service: Service
    runs: list[Run] = field(default_factory=list)

    def ok(self, code: str) -> Cell:
        cell = self.kernel.execute(code, timeout=300)
        if cell.status != "ok":
            raise RuntimeError(f"{self.label}: {code!r} failed: {cell.text()[-600:]}")
        return cell

    def cell(self, t: float) -> Cell:
        self.service.ask("arrivals")  # forget what came before
        cell = self.ok(f"time.sleep({t})")
        seen = self.service.ask("arrivals")
        calls: dict[str, int] = {}
        for op, _, _ in seen:
            calls[op] = calls.get(op, 0) + 1
        ran = next((came for op, came, _ in seen if op == "RunStatement"), cell.sent)
        after = [came for op, came, _ in seen if op == "GetStatement" and came - ran >= AFTER]
        self.runs.append(Run(t, cell.wall - t, calls, after))
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
    """Every kernel's cells at one round trip, taking turns cell by cell; with the load
    average (1 min) before and after."""
    print(f"  R = {rtt:g} ms ...", file=sys.stderr, flush=True)
    network = {"latency_ms": rtt, "jitter_ms": args.jitter_ms}
    load = [os.getloadavg()[0]]
    with Service(provision_seconds=0.5, stop_seconds=0.1, **network) as service:
        runners = [
            start(label, spec, name, env_for(service.url, **service.signing), service, logs)
            for label, (spec, name, env_for) in specs.items()
        ]
        try:
            for i, t in enumerate(lengths(args.short, args.long, args.seed)):
                for runner in runners if i % 2 == 0 else runners[::-1]:
                    runner.cell(t)
        finally:
            for runner in runners:
                runner.kernel.shutdown()
    load.append(os.getloadavg()[0])
    return {"load": load, **{runner.label: runner.runs for runner in runners}}


# ------------------------------------------------------------------ where the time goes
#: (name, what it spans, the plain ipykernel's part it compares with: index or None).
PARTS = (
    ("to the kernel", "execute request sent -> kernel busy (ZeroMQ, ipykernel)", 0),
    ("kernel routing", "busy -> SessionManager.run (IPython, route_to_session, %%glue)", 1),
    ("RunStatement out", "-> RunStatement reaches the endpoint (botocore, HTTP)", None),
    ("endpoint + worker", "-> statement done, less X (backend, worker pipe, exec, events)", None),
    ("polling wait", "-> the GetStatement that sees it done reaches the endpoint", None),
    ("GetStatement back", "-> its answer is parsed in the kernel (endpoint, HTTP, botocore)", None),
    ("results + display", "-> the %%glue magic returns (results.py, display.py)", None),
    ("kernel after", "-> kernel idle (IPython, ipykernel)", 2),
    ("to the frontend", "-> the idle reaches the frontend", 3),
)
POLLING = 4  # the part that depends on where the end falls between polls
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
            next(came for op, came, _ in arrivals if op == "RunStatement"),
            completed,
            [came for op, came, _ in arrivals if op == "GetStatement"][-1],
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
    """Ours at R = ``args.parts_rtt`` on the short random lengths, cut into parts; and a
    plain ipykernel's."""
    from jupyter_client.kernelspec import KernelSpecManager

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
            for t in lengths(args.parts_runs, 0, args.seed):
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


#: botocore's events in the order one call raises them, and what each step between two
#: of them is.  The endpoint's own stamps (arrival, done) cut "the wire" in three.
EVENTS = ("provide-client-params", "before-sign", "before-send", "needs-retry", "after-call")
STEPS = (
    ("validate + serialise", "the call -> before-sign (botocore: params, model, JSON)"),
    ("sign", "-> before-send (SigV4)"),
    ("out", "-> the request reaches the endpoint's operation (urllib3, HTTP, auth)"),
    ("endpoint", "the operation itself (backend, lock, response dict)"),
    ("back", "-> botocore has the HTTP response (JSON encoding, HTTP, urllib3)"),
    ("parse", "-> after-call (botocore: parse against the model, retry checks)"),
    ("return", "-> the call returns (event handlers, our call())"),
)


def measure_calls(args: Any) -> tuple[list[list[float]], list[float]]:
    """``args.calls`` GetStatement calls from this process (our ``call`` on our client, as
    the kernel makes them) against an endpoint at R = 0, each cut into STEPS; and the
    same request sent with http.client alone (signed once, the same bytes), end to end."""
    import http.client
    from urllib.parse import urlsplit

    from glue_magics.service import call, make_client

    print("  one call, step by step ...", file=sys.stderr, flush=True)
    with Service(provision_seconds=0.1, stop_seconds=0.1) as service:
        os.environ.update(service.signing)
        client = make_client(endpoint_url=service.url, region="us-east-1")
        session_id = f"calls-{os.getpid()}"
        call(client, "CreateSession", Id=session_id, Role=ROLE, Command={"Name": "glueetl"})
        while call(client, "GetSession", Id=session_id)["Session"]["Status"] != "READY":
            time.sleep(0.05)
        statement = call(client, "RunStatement", SessionId=session_id, Code="1")["Id"]
        stamps: dict[str, float] = {}
        raw: dict[str, Any] = {}

        def stamp(event_name: str, **kwargs: Any) -> None:
            stamps[event_name.split(".")[0]] = time.time()
            if "request" in kwargs and event_name.startswith("before-send"):
                raw["request"] = kwargs["request"]

        for event in EVENTS:
            client.meta.events.register(f"{event}.glue.GetStatement", stamp)
        steps = []
        for _ in range(args.calls):
            service.ask("arrivals")
            began = time.time()
            call(client, "GetStatement", SessionId=session_id, Id=statement)
            ended = time.time()
            seen = [a for a in service.ask("arrivals") if a[0] == "GetStatement"]
            if not seen:  # its stamp not yet taken (the endpoint's thread was preempted)
                continue
            _, came, left = seen[-1]
            points = [began, stamps["before-sign"], stamps["before-send"], came, left]
            steps.append(cut([*points, stamps["needs-retry"], stamps["after-call"], ended]))
        request = raw["request"]
        where = urlsplit(request.url)
        bare = []
        connection = http.client.HTTPConnection(where.hostname, where.port)
        for _ in range(args.calls):
            began = time.time()
            connection.request("POST", where.path or "/", request.body, dict(request.headers))
            connection.getresponse().read()
            bare.append(time.time() - began)
        connection.close()
    return steps, bare


# ------------------------------------------------------------------ report
def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def summary(runs: list[Run]) -> dict[str, str]:
    """A kernel's figures at one R: short statements' added time and calls, long ones'."""
    short = [r for r in runs if r.t <= SHORT[1]]
    long = [r for r in runs if r.t > SHORT[1]]
    out = {"mean": "", "p95": "", "gets": "", "max gets": "", "all": "", "long": "", "rate": ""}
    if short:
        added = [r.added for r in short]
        gets = [r.calls.get("GetStatement", 0) for r in short]
        out["mean"], out["p95"] = ms(statistics.fmean(added)), ms(p95(added))
        out["gets"] = f"{statistics.fmean(gets):.1f}"
        out["max gets"] = f"{max(gets)}"
        out["all"] = f"{statistics.fmean(sum(r.calls.values()) for r in short):.1f}"
    if long:
        out["long"] = ms(statistics.fmean(r.added for r in long))
        spans = [(len(r.after) - 1, r.after[-1] - r.after[0]) for r in long if len(r.after) > 1]
        if spans:  # the polls' frequency: gaps between them, not the one that saw the end
            out["rate"] = f"{sum(n for n, _ in spans) / sum(s for _, s in spans):.2f}"
    return out


def report(results: dict[float, dict], labels: list[str], args: Any) -> None:
    network = f", jitter up to {args.jitter_ms:g} ms" if args.jitter_ms else ""
    n = len(next(iter(results.values()))[labels[0]])
    print(
        f"\nAdded time per cell over statements of random length (seed {args.seed}): "
        f"{args.short} of {SHORT[0]:g}-{SHORT[1]:g} s, {args.long} of {LONG[0]:g}-{LONG[1]:g} s"
        f"{network}; 2 cores, shared ({n} cells a kernel and R)\n"
    )
    print(
        "| R | kernel | added: mean | p95 | GetStatement a statement: mean | max | "
        f"all calls | {LONG[0]:g}-{LONG[1]:g} s: added | GetStatement/s after {AFTER:g} s "
        "| load (1 min) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rtt, by_label in results.items():
        load = "-".join(f"{x:.1f}" for x in by_label["load"])
        for label in labels:
            s = summary(by_label[label])
            print(
                f"| {rtt:g} ms | {label} | {s['mean']} | {s['p95']} | {s['gets']} | "
                f"{s['max gets']} | {s['all']} | {s['long']} | {s['rate']} | {load} |"
            )


def report_parts(ours: list[list[float]], plain: list[list[float]], rtt: float) -> None:
    mean, med = statistics.fmean, statistics.median
    total = [sum(c) for c in ours]
    fixed = [sum(c) - c[POLLING] for c in ours]
    floor = [p[-1] for p in plain]
    print(
        f"\nWhere the added time goes at R = {rtt:g} ms ({len(ours)} cells of {SHORT[0]:g}-"
        f"{SHORT[1]:g} s; mean and median in ms), ours and a plain ipykernel (python3) "
        f"running the same sleep itself; load {os.getloadavg()[0]:.1f}\n"
    )
    print("| part | ours: mean | median | plain ipykernel | spans |\n|---|---|---|---|---|")
    for i, (name, what, same) in enumerate(PARTS):
        theirs = f"{mean(p[same] for p in plain) * 1000:.1f}" if same is not None else ""
        values = [c[i] * 1000 for c in ours]
        print(f"| {name} | {mean(values):.1f} | {med(values):.1f} | {theirs} | {what} |")
    print(
        f"| all but polling | {mean(fixed) * 1000:.1f} | {med(fixed) * 1000:.1f} | | |\n"
        f"| added in all | {mean(total) * 1000:.1f} | {med(total) * 1000:.1f} | "
        f"{mean(floor) * 1000:.1f} | wall time less X |"
    )


def report_calls(steps: list[list[float]], bare: list[float]) -> None:
    med = statistics.median
    total = [sum(s) for s in steps]
    print(
        f"\nOne GetStatement at R = 0, step by step ({len(steps)} calls, medians in ms); "
        f"load {os.getloadavg()[0]:.1f}\n"
    )
    print("| step | ms | spans |\n|---|---|---|")
    for i, (name, what) in enumerate(STEPS):
        print(f"| {name} | {med(s[i] for s in steps) * 1000:.2f} | {what} |")
    print(f"| in all | {med(total) * 1000:.2f} | our call() on a boto3 client |")
    print(f"| http.client alone | {med(bare) * 1000:.2f} | the same signed request, no botocore |")


def from_dir(where: str) -> Any:
    """The environment of our kernel imported from ``where`` instead of this checkout."""
    return lambda url, **signing: ours_env(url, PYTHONPATH=where, **signing)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtts", type=float, nargs="*", default=list(RTTS), help="ms")
    parser.add_argument("--short", type=int, default=40, help="statements of 0.1-1 s per R")
    parser.add_argument("--long", type=int, default=4, help="statements of 3-8 s per R")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--parts-runs", type=int, default=30, help="0: no parts")
    parser.add_argument("--parts-rtt", type=float, default=0.0, help="R of the parts, ms")
    parser.add_argument("--calls", type=int, default=200, help="0: no step-by-step call")
    parser.add_argument(
        "--jitter-ms", type=float, default=0.0, help="up to this much more per request"
    )
    parser.add_argument(
        "--ours-from",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also our kernel as found in DIR (PYTHONPATH; e.g. a `git archive` of another "
        "commit), in the same interleaved run",
    )
    parser.add_argument("--no-peer", action="store_true", help="leave AWS's kernel out")
    parser.add_argument("--peer-python", help="python of another venv with aws-glue-sessions")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    # a kernel is `python -m glue_magics.kernel`, which puts its working directory first
    # on sys.path: from a checkout it would import that checkout, whatever --ours-from says
    os.chdir(root)
    try:
        ours = install_ours(root)
        specs: dict[str, tuple[Any, str, Any]] = {"ours": (ours, "glue_magics", ours_env)}
        for other in args.ours_from:
            label, where = other.split("=", 1)
            specs[label] = (ours, "glue_magics", from_dir(str(Path(where).resolve())))
        if not args.no_peer:
            peer = install_peer(root, args.peer_python or peer_venv())
            specs["aws"] = (peer, "glue_pyspark", peer_env)
        results = {rtt: run_rtt(rtt, specs, args, root) for rtt in args.rtts}
        if results:
            report(results, list(specs), args)
        if args.parts_runs:
            report_parts(*measure_parts(ours, args, root), args.parts_rtt)
        if args.calls:
            report_calls(*measure_calls(args))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
