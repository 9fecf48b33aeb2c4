"""The worker processes of the local endpoint: spawn, read events, interrupt, reap, kill.

One process per session: ``python -m glue_magics.local.worker`` for a statement session
(:mod:`glue_magics.local.worker`), ``python -m glue_magics.local.connect_proxy`` for a
Spark Connect one (:mod:`glue_magics.local.connect_proxy`).  Commands go in as JSON lines on
its stdin, events come back as JSON lines on a pipe of their own, so what a statement
prints cannot corrupt them.
One reader thread per worker hands each event to the session's :class:`Listener` the
instant it arrives, then waits for the process and says how it ended.  What the events
mean for a session is the backend's business; none of it is decided here.

Each worker's stdout and stderr go to a log file of its session (what Glue's system logs
hold: the driver's own output, Spark's log4j lines once Spark starts), in a private
directory of this endpoint that :meth:`Workers.close` removes.  Workers bind Spark's UI to
loopback (``SPARK_LOCAL_IP``, unless the environment sets one).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from typing import IO, Any, Protocol

from glue_magics.local.worker import log_line, pid_alive

__all__ = ["Listener", "WorkerProcess", "Workers", "parse_event", "pid_alive", "session_dir"]


class Listener(Protocol):
    """What a worker's supervisor tells the session it belongs to (on other threads)."""

    def started(self, worker: WorkerProcess) -> None:
        """The process runs; events will follow."""

    def not_started(self, reason: str) -> None:
        """The process could not be started (one line)."""

    def event(self, event: dict[str, Any]) -> None:
        """One event (``provision``, ``ready``, ``failed``, ``progress``, ``result``) read
        from the worker."""

    def exited(self, code: int) -> None:
        """The worker's event pipe closed and the process ended with ``code``."""


#: The statement sessions' program.
WORKER_PROGRAM = "glue_magics.local.worker"


class WorkerProcess:
    """One session's worker: its process and command pipe.  ``grace``: how long it may take
    to end once its stdin closes before it is killed (0: killed at once)."""

    def __init__(
        self, process: subprocess.Popen[bytes], log: IO[bytes], grace: float = 0.0
    ) -> None:
        self.process = process
        self.pid = process.pid
        self.log = log  # the endpoint's own handle on the session's log, for its lines
        self.grace = grace

    def send(self, statement_id: int, code: str) -> None:
        """Hand the worker a statement; a worker already gone is left to its reader."""
        self.command({"id": statement_id, "code": code})

    def command(self, message: dict[str, Any]) -> None:
        """One JSON line on the worker's stdin; a worker already gone is left to its reader."""
        payload = json.dumps(message) + "\n"
        stdin = self.process.stdin
        if stdin is None:
            return
        try:
            stdin.write(payload.encode("utf-8", "surrogatepass"))
            stdin.flush()
        except (OSError, ValueError):  # the worker is gone; its reader reports it
            pass

    def interrupt(self) -> None:
        """SIGINT: the worker turns it into KeyboardInterrupt while a statement runs."""
        if self.process.poll() is None:
            try:
                os.kill(self.pid, signal.SIGINT)
            except OSError:
                pass

    def kill(self) -> None:
        """End the worker: close its stdin (an idle worker then ends cleanly) and kill it,
        at once or, with a ``grace``, if it has not ended by then."""
        if self.process.poll() is not None:
            return
        self._close_stdin()
        if self.grace > 0:
            timer = threading.Timer(self.grace, self._kill_now)
            timer.daemon = True
            timer.start()
        else:
            self._kill_now()

    def _kill_now(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.kill()
        except OSError:
            pass

    def _close_stdin(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass

    def alive(self) -> bool:
        """Not ``poll()`` alone: it answers None while another thread waits on the same
        process, so an ended worker being reaped would still count."""
        return self.process.poll() is None and pid_alive(self.pid)


def parse_event(line: bytes) -> dict[str, Any] | None:
    """One worker event, or None for a line that is not one.  Statements can write to the
    event pipe too (its number is in the worker's argv): junk must not end the reader."""
    try:
        event = json.loads(line.decode("utf-8", "surrogatepass"))
        if not isinstance(event, dict):
            return None
        event["id"] = int(event.get("id", -1))
        if event.get("event") == "progress":
            event["value"] = min(1.0, max(0.0, float(event.get("value", 0.0))))
        elif event.get("event") == "provision":
            event["progress"] = min(100.0, max(0.0, float(event.get("progress", 0.0))))
    except (ValueError, TypeError, OverflowError):
        return None
    return event


def session_dir(log_path: str) -> str:
    """A session's own directory beside its log (its ``--extra-py-files`` and
    ``--additional-python-modules``), removed with it."""
    return log_path[: -len(".log")] + ".d" if log_path.endswith(".log") else log_path + ".d"


class Workers:
    """Every worker of one endpoint, so none outlives it.

    Workers are started on one long-lived spawner thread: Linux's parent-death signal
    (which the worker asks for) follows the thread that forked it, so it fires only when
    the endpoint's process ends, not when a request thread does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[WorkerProcess] = []
        self._readers: list[threading.Thread] = []
        self._spawner = concurrent.futures.ThreadPoolExecutor(1, "glue-local-spawn")
        self._logs: str | None = None  # the directory of the sessions' logs, made at first use
        self._spawned = 0
        #: What every worker's environment gets on top of the endpoint's (None: removed):
        #: the object store's endpoint and credentials, the data directory.
        self.env: dict[str, str | None] = {}

    def spawn(
        self,
        session_id: str,
        listener: Listener,
        program: str = WORKER_PROGRAM,
        grace: float = 0.0,
    ) -> str:
        """Start ``python -m PROGRAM`` for ``session_id`` soon; ``listener`` hears how it
        goes; ``grace``: see :class:`WorkerProcess`.  Returns the path of the session's log,
        which exists from now on (empty until it starts)."""
        with self._lock:
            if self._logs is None:
                self._logs = tempfile.mkdtemp(prefix="glue-local-logs-")  # mode 0700
            self._spawned += 1
            path = os.path.join(self._logs, f"session-{self._spawned}.log")
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.makedirs(session_dir(path), mode=0o700, exist_ok=True)
        self._spawner.submit(self._start, session_id, listener, path, program, grace)
        return path

    def _start(
        self, session_id: str, listener: Listener, path: str, program: str, grace: float
    ) -> None:
        read_fd, write_fd = os.pipe()
        env = dict(
            os.environ,
            GLUE_MAGICS_SESSION_ID=session_id,
            GLUE_MAGICS_SESSION_DIR=session_dir(path),
            PYTHONUNBUFFERED="1",
        )
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        # a Spark Connect client in this process marks it so (connect.py, as pyspark does);
        # a session's own Spark is classic
        env.pop("SPARK_CONNECT_MODE_ENABLED", None)
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # Spark's UI and driver on loopback
        argv = [sys.executable, "-m", program, str(write_fd), str(os.getpid())]
        log = open(path, "ab", buffering=0)  # kept while the worker lives: its exit line
        log.write(log_line("INFO", f"starting the worker of session {session_id}", "Endpoint"))
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(write_fd,),
                env=env,
                start_new_session=True,  # a terminal's Ctrl-C must not reach statements
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            log.write(log_line("ERROR", f"the worker did not start: {exc}", "Endpoint"))
            log.close()
            listener.not_started(f"worker did not start: {exc}")
            return
        os.close(write_fd)
        worker = WorkerProcess(process, log, grace)
        with self._lock:
            self._running.append(worker)
        listener.started(worker)
        reader = threading.Thread(
            target=self._read,
            args=(worker, read_fd, listener),
            name=f"glue-local-worker-{worker.pid}",
            daemon=True,
        )
        with self._lock:
            self._readers.append(reader)
        reader.start()

    def _read(self, worker: WorkerProcess, fd: int, listener: Listener) -> None:
        # Buffered: an unbuffered file reads a line one byte (one syscall) at a time.
        with open(fd, "rb") as stream:
            for line in stream:
                event = parse_event(line)
                if event is not None:
                    listener.event(event)
        code = worker.process.wait()
        worker._close_stdin()  # not left to a Popen kept as long as its session
        worker.log.write(log_line("INFO", f"the worker exited with code {code}", "Endpoint"))
        worker.log.close()
        with self._lock:
            if worker in self._running:
                self._running.remove(worker)
            self._readers.remove(threading.current_thread())
        listener.exited(code)

    def pids(self) -> list[int]:
        """Process ids of the workers still alive."""
        with self._lock:
            running = list(self._running)
        return [worker.pid for worker in running if worker.alive()]

    def close(self) -> None:
        """End every worker and wait for them and their readers.  The caller has made
        sure no new session asks for one (a start already queued still runs, and its
        ``started`` must kill what it is given).

        The spawner thread ends last: the workers' parent-death signal follows it, and
        would SIGKILL a worker still ending gracefully (a Spark Connect session's program
        stopping its JVM)."""
        self._end(self._snapshot())
        self._spawner.shutdown(wait=True)
        self._end(self._snapshot())
        with self._lock:
            readers = list(self._readers)
        for thread in readers:
            thread.join(timeout=5)
        if self._logs is not None:  # the sessions' logs go with the endpoint
            shutil.rmtree(self._logs, ignore_errors=True)

    def _snapshot(self) -> list[WorkerProcess]:
        with self._lock:
            return list(self._running)

    @staticmethod
    def _end(workers: list[WorkerProcess]) -> None:
        for worker in workers:
            worker.kill()
        for worker in workers:
            try:
                worker.process.wait(timeout=worker.grace + 5)
            except subprocess.TimeoutExpired:
                worker._kill_now()
                try:
                    worker.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
