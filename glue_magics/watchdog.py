"""The watchdog: a small detached process that stops a kernel's sessions when the kernel dies.

A kernel killed by SIGKILL, the OOM killer or a crash runs no cleanup, and its session
would bill until Glue's idle timeout (48 hours by default).  So the first session a kernel
creates (with ``stop_on_exit`` and ``watchdog`` on) starts ``python -m glue_magics.watchdog
KERNEL_PID`` in a session of its own (a signal to the kernel's process group does not reach
it).  The kernel holds the write end of the pipe that is the watchdog's stdin and writes one
JSON line per change::

    {"watch": "ID", "region": "us-east-1", "profile": null, "endpoint_url": "https://..."}
    {"forget": "ID"}

No keys or tokens are sent: the watchdog inherits the kernel's environment and makes its
own client with :func:`glue_magics.service.make_client` from the same region, profile and
endpoint, so it holds nothing the kernel's client did not already use.  The kernel forgets
a session when it stopped it or no longer wants it stopped (``stop_on_exit`` off), so the
end of the pipe (EOF, which the kernel's death brings about, however it dies) or the
kernel's exit (a pidfd, for a pipe some forked child still holds) means: stop what is still
watched, wait (bounded) for STOPPED, then exit.  A clean exit forgets everything first, so
the watchdog just exits; a stop that failed at a clean exit is left watched, and the
watchdog tries it again with more patience than a kernel being shut down is given.

boto3 loads only once the kernel is gone, so the idle watchdog is a bare interpreter
(``benchmarks/bench_watchdog.py`` measures it).  The embedded endpoint (``endpoint_url =
"local"``) needs no watchdog: it lives in the kernel, and its workers die with it
(``PR_SET_PDEATHSIG`` in ``glue_magics.local.worker``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import time
from collections import UserDict
from typing import Any

#: Seconds the watchdog spends stopping sessions (StopSession with retries, then the wait for
#: STOPPED) before it exits whatever their state.
STOP_DEADLINE = 60.0
#: A session not found at the stop may be one whose CreateSession was still on its way when
#: the kernel died: it is asked for once more after this many seconds.
LATE_CREATE_RECHECK = 5.0
#: After SIGTERM, how long the watchdog waits for the kernel to end too (a logout or a
#: shutdown ends both) before it exits leaving the live kernel's sessions alone.
TERM_GRACE = 3.0
PREFIX = "glue-magics watchdog"


# --------------------------------------------------------------------------- the kernel's side


class Watchdog:
    """The kernel's end of one watchdog process, started when there is a first session to
    watch; :meth:`sync` tells it which sessions to watch, :meth:`close` lets it go."""

    def __init__(self) -> None:
        self.process: Any = None  # subprocess.Popen
        self.watched: dict[str, dict[str, Any]] = {}  # what the process was told to watch
        self._warned = False

    @property
    def pid(self) -> int | None:
        """The watchdog's process id while one runs for this kernel."""
        return self.process.pid if self.process is not None else None

    def sync(self, wanted: dict[str, dict[str, Any]]) -> None:
        """Watch exactly ``wanted`` (session id -> region, profile, endpoint_url)."""
        for _ in range(2):  # a second time with a new process, if this one was killed
            if self.process is not None and self.process.poll() is not None:
                self._drop()
            if self.process is None and (not wanted or not self._start()):
                return
            if wanted == self.watched:
                return
            lines = [{"forget": sid} for sid in self.watched if sid not in wanted]
            lines += [{"watch": sid, **wanted[sid]} for sid in wanted if sid not in self.watched]
            try:
                self.process.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
                self.process.stdin.flush()
            except OSError:  # it was killed (EPIPE): a new one is told everything
                self._drop()
                continue
            self.watched = dict(wanted)
            return

    def _drop(self) -> None:
        """Let go of a watchdog that is gone (killed by hand): reaped, its pipe closed."""
        process, self.process, self.watched = self.process, None, {}
        process.kill()
        process.wait()
        with contextlib.suppress(OSError):  # data it never read: nothing to flush it to
            process.stdin.close()

    def _start(self) -> bool:
        import subprocess

        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "glue_magics.watchdog", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a signal to the kernel's process group misses it
            )
        except OSError as exc:
            if not self._warned:
                self._warned = True
                print(
                    f"glue-magics: the watchdog did not start ({exc}); this kernel's sessions "
                    "are stopped only if it exits cleanly, so stop them with %glue_stop",
                    file=sys.stderr,
                )
            return False
        return True

    def close(self) -> None:
        """End the pipe: the watchdog stops what it still watches, then exits."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.stdin.close()
        if not self.watched:  # nothing to stop: it exits at once, and is reaped here
            import subprocess

            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # left to the OS
                pass
        self.watched = {}


class WatchedSessions(UserDict):
    """The sessions created here (id -> ``clients.SessionClients``), watched as they change.

    Every session in it is watched while ``settings.stop_on_exit`` and
    ``settings.watchdog`` are on, except those of the embedded endpoint; any change (a
    session tracked before its CreateSession, forgotten once stopped) reaches the watchdog
    at once.  ``sync`` applies changed settings.
    """

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.watchdog = Watchdog()
        super().__init__()

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.sync()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.sync()

    def wanted(self) -> dict[str, dict[str, Any]]:
        """The sessions to watch, each with the client settings it was made with."""
        if not (self.settings.stop_on_exit and self.settings.watchdog):
            return {}
        return {
            sid: {
                "region": clients.glue.meta.region_name,  # as resolved, whatever env says later
                "profile": clients.profile,
                "endpoint_url": clients.glue.meta.endpoint_url,
            }
            for sid, clients in self.data.items()
            if not clients.embedded
        }

    def sync(self) -> None:
        """Tell the watchdog what to watch now (settings may have changed)."""
        self.watchdog.sync(self.wanted())

    def close(self) -> None:
        """Forget every session; the watchdog stops any still to be stopped (a stop at exit
        that failed, with ``stop_on_exit`` on), then exits."""
        self.sync()
        self.watchdog.close()
        self.data.clear()


# --------------------------------------------------------------------------- the process


class _Terminated(Exception):
    """SIGTERM reached the watchdog."""


def _log(message: str) -> None:
    try:
        print(f"{PREFIX} [{os.getpid()}]: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # the kernel's stderr is gone with it
        pass


def _apply(watched: dict[str, dict[str, Any]], line: bytes) -> None:
    try:
        message = json.loads(line)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    if "watch" in message:
        sid = str(message.pop("watch"))
        watched[sid] = {k: message.get(k) for k in ("region", "profile", "endpoint_url")}
    elif "forget" in message:
        watched.pop(str(message["forget"]), None)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits (Linux 5.3+), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def watch(kernel_pid: int, watched: dict[str, dict[str, Any]]) -> None:
    """Follow the kernel's messages into ``watched`` until its pipe ends or it exits."""
    pidfd = _pidfd(kernel_pid)
    poller = select.poll()
    poller.register(0, select.POLLIN)
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    pending = b""
    while True:
        alive = os.getppid() == kernel_pid  # else it is gone: we were handed to another parent
        # once the kernel is gone, what it wrote before it died is still read, without waiting
        timeout = (None if pidfd is not None else 1000) if alive else 0
        ready = {fd for fd, _ in poller.poll(timeout)}
        if 0 in ready:
            chunk = os.read(0, 65536)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                _apply(watched, line)
        elif not alive or pidfd in ready:
            return


def _kernel_ends(kernel_pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while os.getppid() == kernel_pid:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop_all(watched: dict[str, dict[str, Any]], deadline: float) -> dict[str, str]:
    """Stop every watched session (in parallel) and wait for STOPPED until ``deadline``
    (a ``time.monotonic()`` value); the status each ended in."""
    import threading

    from glue_magics import service  # boto3 loads now, not while the watchdog idles

    outcome = {sid: "stop failed: no answer in time" for sid in watched}
    clients: dict[tuple, Any] = {}
    threads = []
    for sid, settings in watched.items():
        key = tuple(sorted(settings.items()))
        try:
            if key not in clients:  # made here, one by one: making clients is not thread-safe
                clients[key] = service.make_client(**settings)
        except service.GlueError as exc:
            outcome[sid] = f"stop failed: {exc}"
            continue
        thread = threading.Thread(
            target=lambda s=sid, c=clients[key]: outcome.update({s: stop_one(c, s, deadline)}),
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return outcome


def stop_one(client: Any, session_id: str, deadline: float) -> str:
    """StopSession, asked again while it fails transiently (the lifecycle's back-off), and a
    wait for STOPPED; a session not found is looked for once more, later.  A refused
    connection is asked again too (the network may come back), except on loopback: nothing
    listening there means the local endpoint, and its sessions, are gone."""
    from glue_magics import lifecycle
    from glue_magics.service import GlueError, is_loopback

    local = is_loopback(client.meta.endpoint_url)
    failures, rechecked = 0, False
    while True:
        wait = max(1.0, min(30.0, deadline - time.monotonic()))
        try:
            status = lifecycle.stop_session(client, session_id, wait=wait)
        except GlueError as exc:
            failures += 1
            delay = lifecycle._failed_delay(failures)
            final = not exc.transient or (local and not exc.connected)
            if final or time.monotonic() + delay > deadline:
                return f"stop failed: {exc}"
            time.sleep(delay)
            continue
        if status != "NOT_FOUND" or rechecked:
            return status
        if time.monotonic() + LATE_CREATE_RECHECK > deadline:
            return status
        rechecked = True
        time.sleep(LATE_CREATE_RECHECK)  # a CreateSession may still land


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print(
            "usage: python -m glue_magics.watchdog KERNEL_PID "
            "(started by glue-magics in a kernel, not by hand)",
            file=sys.stderr,
        )
        return 2
    kernel_pid = int(args[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def terminated(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second one ends it at once
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    watched: dict[str, dict[str, Any]] = {}
    try:
        watch(kernel_pid, watched)
    except _Terminated:
        if not _kernel_ends(kernel_pid, TERM_GRACE):
            _log(f"ended by SIGTERM; kernel {kernel_pid} lives, its sessions are left to it")
            return 0
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not watched:
        return 0
    started = time.monotonic()
    outcome = stop_all(watched, started + STOP_DEADLINE)
    took = time.monotonic() - started
    for sid, status in outcome.items():
        _log(f"kernel {kernel_pid} is gone; session {sid}: {status} ({took:.1f} s)")
    return 0 if all(not s.startswith("stop failed") for s in outcome.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
