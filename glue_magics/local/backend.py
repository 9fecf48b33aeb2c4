"""The local endpoint's backend: every session and statement, and what happens to them.

Operations take typed arguments (the responses layer has validated and unpacked the
request), raise the service's errors (:mod:`glue_magics.local.exceptions`), and return
what the models render under the one lock, so a reply never shows a half-made change.
State is computed from timestamps when asked (:mod:`glue_magics.local.models`); only what
must happen at a moment has a thread: one reaper ends sessions at their (idle) timeout,
and each worker's reader (:mod:`glue_magics.local.workers`) turns its results into
statement state the instant they arrive.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from typing import Any

from glue_magics.local import cluster, paging, scala, session_arguments, spark_connect
from glue_magics.local.connect_proxy import JVM_STOP_SECONDS
from glue_magics.local.exceptions import (
    AlreadyExists,
    EntityNotFound,
    IdempotentParameterMismatch,
    IllegalSessionState,
    InvalidInput,
    OperationNotSupported,
    ServiceError,
    SessionNotFound,
)
from glue_magics.local.models import (
    SPARK_CONNECT,
    SPARK_CONNECT_REGIONS,
    Session,
    SessionRequest,
    SparkConnect,
)
from glue_magics.local.outputs import shape_output
from glue_magics.local.result_store import ResultStore
from glue_magics.local.settings import EndpointSettings
from glue_magics.local.statements import Sends, Statements, send
from glue_magics.local.worker import spark_wanted
from glue_magics.local.workers import WorkerProcess, Workers, pid_alive, session_dir

#: A Glue resource holds at most this many tags (TagResource's limit).
MAX_TAGS = 50
#: A Spark Connect session's program may take this long to end its JVM before it is killed.
CONNECT_GRACE_SECONDS = JVM_STOP_SECONDS + 5


class Backend:
    """All sessions of one endpoint, guarded by one lock (requests are short)."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        self.results = ResultStore(settings) if settings.results_bucket else None
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.sessions: dict[str, Session] = {}
        self.sessions_created = 0
        self.closed = False
        self.workers = Workers()
        self.certificates = spark_connect.Certificates()
        self.statements = Statements(self)  # RunStatement and the rest (statements.py)
        # Started with the first session: an endpoint that never serves (or whose port is
        # taken) leaves no thread behind.
        self._reaper: threading.Thread | None = None

    # ----------------------------------------------------------------- state
    def _get(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        self._refresh(session, time.time())
        return session

    def _ready(self, session_id: str, why: str) -> Session:
        """A READY session, or InvalidInput naming its status and ``why`` it must be READY."""
        session = self._get(session_id)
        status = session.status(time.time())
        if status != "READY":
            raise InvalidInput(f"Session {session.id} is {status}; {why}")
        return session

    def _refresh(self, session: Session, now: float) -> None:
        deadline = session.deadline(self.settings.minute_seconds)
        if deadline is not None and now >= deadline[0]:
            # A statement the session timed out under could not run to its end: ERROR.
            self.end(session, "TIMEOUT", deadline[0], deadline[1], running_state="ERROR")

    def end(
        self,
        session: Session,
        status: str,
        at: float,
        message: str | None = None,
        running_state: str = "CANCELLED",
    ) -> None:
        """Move a live session to a terminal status and end its worker (under the lock)."""
        session.end(status, at, time.time(), message, running_state)
        if session.worker is not None:
            session.worker.kill()

    def _reap(self) -> None:
        """The one timer thread: ends sessions at their (idle) timeout."""
        with self.lock:
            while not self.closed:
                now = time.time()
                soonest = None
                for session in list(self.sessions.values()):
                    self._refresh(session, now)
                    deadline = session.deadline(self.settings.minute_seconds)
                    if deadline is not None and (soonest is None or deadline[0] < soonest):
                        soonest = deadline[0]
                wait = 5.0 if soonest is None else min(5.0, max(0.0, soonest - now) + 0.001)
                self.wake.wait(wait)

    def pump(self, session: Session) -> Sends:
        """Start the session's next statement if its worker is free (under the lock);
        returns what to send once the lock is released."""
        statement = session.start_next(time.time())
        if statement is None or session.worker is None:
            return []
        return [(session.worker, statement)]

    # ----------------------------------------------------------------- sessions
    def create_session(self, request: SessionRequest) -> dict[str, Any]:
        """Create a session and start its worker (a statement worker, or a Spark Connect
        session's server and proxy); its ``Session`` as the reply shows it."""
        with self.lock:
            existing = self.sessions.get(request.id)
            if existing is not None:
                if existing.request.members == request.members:
                    raise AlreadyExists(request.id)
                raise IdempotentParameterMismatch(request.id)
        connect = request.session_type == SPARK_CONNECT
        if connect and self.settings.region not in SPARK_CONNECT_REGIONS:
            # "Region availability" (interactive-sessions-spark-connect), in the words the
            # model gives this error: "The operation is not available in the region."
            raise OperationNotSupported(
                f"SessionType SPARK_CONNECT is not available in the region "
                f"{self.settings.region}; use one of {', '.join(SPARK_CONNECT_REGIONS)}"
            )
        session = Session.create(request, time.time(), self.settings.provision_seconds)
        java_home = self.workers.env.get("JAVA_HOME")  # the Java the endpoint found
        spark, no_spark = (False, "") if connect else spark_wanted(java_home)
        if connect:
            session.connect = SparkConnect(key=spark_connect.new_key())
        session.spark = spark
        session.waits = spark or bool(request.default_arguments.get(session_arguments.MODULES))
        sizing, gone = ({}, "")  # its executors on the endpoint's cluster, if it has one
        if spark or connect:
            settings = self.settings
            sizing, gone = cluster.session_conf(
                settings.spark_master, settings.spark_ui_port, settings.cluster_scale,
                session.worker_type, session.workers, request.max_capacity,
            )  # fmt: skip
        with self.lock:
            if request.id in self.sessions:  # lost a race with the same Id
                raise AlreadyExists(request.id)
            if self.closed:
                raise ServiceError(
                    "InternalServiceException", "The local endpoint is shutting down", 500
                )
            if self._reaper is None:
                self._reaper = threading.Thread(
                    target=self._reap, name="glue-local-reaper", daemon=True
                )
                self._reaper.start()
            self.sessions[request.id] = session
            self.sessions_created += 1
            session.number = self.sessions_created
            self.wake.notify_all()
            wire = session.to_wire(time.time(), self.settings)
            if gone:  # the master went away since the endpoint started: as a failed start
                self.end(session, "FAILED", time.time(), gone)
                return wire
        if connect:
            log_path = self.workers.spawn(
                session.id,
                ConnectWorker(self, session, sizing),
                program=spark_connect.PROGRAM,
                grace=CONNECT_GRACE_SECONDS,
            )
        elif scala.is_scala(request.default_arguments):  # a Scala REPL, same protocol
            log_path = self.workers.spawn(
                session.id,
                SessionWorker(self, session, setup=False),  # its Spark is its own to set up
                program=scala.PROGRAM,
                grace=scala.STOP_SECONDS,
            )
        else:
            worker = SessionWorker(self, session, no_spark, sizing)
            log_path = self.workers.spawn(session.id, worker)
        with self.lock:
            session.log_path = log_path
        return wire

    def get_session(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            return self._get(session_id).to_wire(time.time(), self.settings)

    def list_sessions(
        self, tags: dict[str, str], next_token: str | None, max_results: int | None
    ) -> tuple[list[dict[str, Any]], str]:
        """The page of sessions carrying every one of ``tags``, and the next page's token."""
        after = paging.after(next_token)
        now = time.time()
        with self.lock:
            chosen = []
            for session in self.sessions.values():
                self._refresh(session, now)
                if all(session.tags.get(k) == v for k, v in tags.items()):
                    chosen.append(session)
            size = paging.LIST_PAGE if max_results is None else max_results
            page, token = paging.page(chosen, lambda s: s.number, after, size)
            return [s.to_wire(now, self.settings) for s in page], token

    def stop_session(self, session_id: str) -> None:
        """STOPPING for ``stop_seconds``, then STOPPED; a session already ended stays so."""
        with self.lock:
            session = self._get(session_id)
            if session.ended_status is None:
                self.end(session, "STOPPED", time.time() + self.settings.stop_seconds)

    def delete_session(self, session_id: str) -> None:
        with self.lock:
            session = self._get(session_id)
            if session.ended_status is None:
                self.end(session, "STOPPED", time.time())
            del self.sessions[session.id]
        if session.log_path is not None:  # its logs and its own directory go with it
            try:
                os.unlink(session.log_path)
            except OSError:
                pass
            shutil.rmtree(session_dir(session.log_path), ignore_errors=True)

    # ----------------------------------------------------------------- looking inside
    def log_path(self, session_id: str) -> str | None:
        """The file of a session's system log (None while its worker is being started)."""
        with self.lock:
            return self._get(session_id).log_path

    def dashboard_url(self, resource_id: str, resource_type: str) -> str:
        """GetDashboardUrl: the Spark UI of a READY session in which Spark runs.

        AWS's docs ("Monitoring Spark Connect sessions") say the Spark UI is available
        while the session is READY.  What the service answers otherwise is not documented:
        InvalidInputException here (the first error botocore's model lists for the
        operation), naming the session and why.  There are no jobs on this endpoint."""
        if resource_type != "SESSION":
            raise EntityNotFound(f"Job {resource_id} not found")
        with self.lock:
            session = self._ready(resource_id, "its Spark UI is available while it is READY")
            if session.spark_ui is None:
                raise InvalidInput(
                    f"Session {session.id} has no Spark UI: Spark does not run in it"
                )
            return session.spark_ui

    def get_session_endpoint(self, session_id: str) -> dict[str, Any]:
        """A READY Spark Connect session's Url and a new token (``SessionEndpoint``).

        Errors: a session that does not exist is EntityNotFoundException; one not READY
        (still PROVISIONING, or ended) is IllegalSessionStateException, the two codes
        sagemaker-studio's Glue client reads as "session gone or not in ready state".  A
        LIVY session is InvalidInputException: the model lists it, with
        OperationNotSupportedException, and nothing public says which the service sends,
        so this is our choice.  A new token each call; earlier ones stay valid until they
        expire.  Asking is not activity: it does not hold off the idle timeout.
        """
        now = time.time()
        with self.lock:
            session = self._get(session_id)
            if session.connect is None:
                raise InvalidInput(
                    f"Session {session.id} is a LIVY session; GetSessionEndpoint is for "
                    "sessions created with SessionType SPARK_CONNECT"
                )
            status = session.status(now)
            if status != "READY":
                raise IllegalSessionState(
                    f"Session {session.id} is {status}; GetSessionEndpoint needs a READY session"
                )
            expires = round(now + self.settings.connect_token_seconds, 3)
            return {
                "Url": session.connect.url(),
                "AuthToken": spark_connect.mint_token(session.connect.key, expires),
                "AuthTokenExpirationTime": expires,
            }

    # ----------------------------------------------------------------- tags
    def _by_arn(self, arn: str) -> Session:
        prefix = self.settings.arn("")
        if arn.startswith(prefix) and arn[len(prefix) :] in self.sessions:
            return self.sessions[arn[len(prefix) :]]
        raise EntityNotFound(f"Resource {arn} not found")

    def get_tags(self, arn: str) -> dict[str, str]:
        with self.lock:
            return dict(self._by_arn(arn).tags)

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        with self.lock:
            session = self._by_arn(arn)
            merged = {**session.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise InvalidInput(
                    f"Resource would have {len(merged)} tags; the maximum is {MAX_TAGS}"
                )
            session.tags = merged

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            session = self._by_arn(arn)
            for key in keys:
                session.tags.pop(key, None)

    # ----------------------------------------------------------------- shutdown
    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes still alive (Spark Connect sessions'
        programs included)."""
        return self.workers.pids()

    def spark_connect_pids(self) -> list[int]:
        """Process ids of the Spark Connect sessions' JVMs still alive."""
        with self.lock:
            pids = [s.connect.jvm_pid for s in self.sessions.values() if s.connect is not None]
        return [pid for pid in pids if pid is not None and pid_alive(pid)]

    def close(self) -> None:
        """End every worker and JVM and wait for them, so none outlives the endpoint."""
        with self.lock:
            self.closed = True
            self.wake.notify_all()
        self.workers.close()
        # A program killed after its grace leaves its JVM to the parent-death signal: wait
        # for that too (bounded), so nothing is left when this returns.
        deadline = time.monotonic() + 5
        while self.spark_connect_pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.certificates.close()
        if self._reaper is not None:
            self._reaper.join(timeout=5)


def _process_ended(backend: Backend, session: Session, what: str, code: int, **end: Any) -> None:
    """A session's process ended on its own: the session is FAILED, as the service says of
    a session whose driver died, unless it had ended already."""
    with backend.lock:
        if session.ended_status is None and not backend.closed:
            message = f"The session's {what} exited unexpectedly (code {code})"
            backend.end(session, "FAILED", time.time(), message, **end)
        backend.wake.notify_all()


class SessionWorker:
    """One session's side of its worker process: the :class:`~workers.Listener` that turns
    the worker's events into the session's and its statements' state."""

    def __init__(
        self,
        backend: Backend,
        session: Session,
        no_spark: str = "",
        sizing: dict[str, str] | None = None,
        setup: bool = True,
    ) -> None:
        self.backend = backend
        self.session = session
        self.no_spark = no_spark  # why Spark does not start in it, if it does not
        self.setup = setup  # the Python worker's plan of DefaultArguments (not a Scala REPL's)
        self.sizing = dict(sizing or {})  # its executors on the cluster (cluster.spark_conf)

    def started(self, worker: WorkerProcess) -> None:
        with self.backend.lock:
            self.session.worker = worker
            if self.session.ended_status is not None or self.backend.closed:
                worker.kill()
                return
            if not self.setup:
                return
            arguments = dict(self.session.request.default_arguments)
            s3_root = str(self.backend.settings.s3_root)
            steps = session_arguments.plan(
                arguments,
                self.session.spark,
                self.no_spark,
                s3_root,
                self.backend.settings.account_id,
            )
            setup = {
                "spark": self.session.spark,
                "plan": dataclasses.asdict(steps),
                "no_spark_reason": self.no_spark,
                # pyspark without Java: the user wanted Spark, so the first cell says why
                # not (GLUE_MAGICS_LOCAL_SPARK=0 is a choice, said nowhere)
                "no_spark_notice": self.no_spark.startswith("no Java"),
                "cluster_conf": self.sizing,
            }
        worker.command({"setup": setup})

    def not_started(self, reason: str) -> None:
        with self.backend.lock:
            if self.session.ended_status is None:
                self.backend.end(self.session, "FAILED", time.time(), reason)

    def event(self, event: dict[str, Any]) -> None:
        if event.get("event") == "result":
            if not self._finishing(event):
                return
            # Shaped outside the lock: an upload must not stall other requests.
            settings = self.backend.settings
            event["output"] = shape_output(
                event, self.session.id, settings.statement_states, self.backend.results
            )
        send(self._apply(event))

    def exited(self, code: int) -> None:
        _process_ended(self.backend, self.session, "Python process", code, running_state="ERROR")

    def _finishing(self, event: dict[str, Any]) -> bool:
        """Mark the statement of this result as finishing (a cancel must not kill the
        worker while its output is shaped and uploaded); False for a stale result."""
        with self.backend.lock:
            statement = self.session.statements.get(event["id"])
            if statement is None or self.session.running != statement.id:
                return False
            statement.finishing = True
            return True

    def _apply(self, event: dict[str, Any]) -> Sends:
        session, kind = self.session, event.get("event")
        with self.backend.lock:
            if session.ended_status is not None:
                return []
            if kind == "provision":
                session.provision_progress = max(session.provision_progress, event["progress"])
                return []
            if kind == "ready":
                session.worker_ready = True
                # READY from now (not before the provisioning time): the idle time starts
                session.ready_at = max(session.ready_at, time.time())
                self.backend.wake.notify_all()
                return self.backend.pump(session)
            if kind == "failed":
                reason = str(event.get("reason") or "The session did not start")
                self.backend.end(session, "FAILED", time.time(), reason, running_state="ERROR")
                self.backend.wake.notify_all()
                return []
            if kind == "spark_ui":
                url = event.get("url")
                session.spark_ui = url if isinstance(url, str) and url else None
                return []
            statement = session.statements.get(event["id"])
            if statement is None or session.running != statement.id:
                return []
            if kind == "progress":
                statement.progress = event["value"]
                return []
            if kind != "result":
                return []
            statement.output = event["output"]
            # the Scala REPL says so itself (its error is the Spark job's or the thread's)
            interrupted = event.get("error_name") == "KeyboardInterrupt" or bool(
                event.get("cancelled")
            )
            if statement.state == "CANCELLING" and interrupted:
                state = "CANCELLED"
            elif self.backend.settings.statement_states == "completed":
                state = "COMPLETED" if event.get("status") == "ok" else "FAILED"
            else:  # Livy: a Python exception is AVAILABLE with Output.Status "error"
                state = "AVAILABLE"
            statement.finish(state, time.time())
            session.running = None
            session.last_activity = statement.completed_on or time.time()
            return self.backend.pump(session)


class ConnectWorker:
    """A Spark Connect session's side of its program (:mod:`connect_proxy`): hands it its
    configuration, and turns its events into the session's state."""

    def __init__(
        self, backend: Backend, session: Session, sizing: dict[str, str] | None = None
    ) -> None:
        self.backend = backend
        self.session = session
        self.sizing = dict(sizing or {})  # its server's executors on the cluster
        assert session.connect is not None
        self.connect = session.connect

    def started(self, worker: WorkerProcess) -> None:
        backend = self.backend
        try:
            config = spark_connect.session_config(
                self.session.id, self.connect.key, backend.certificates, backend.settings
            )
        except RuntimeError as exc:
            config = None
            self.failed(str(exc))
        with backend.lock:
            self.session.worker = worker
            if self.session.ended_status is not None or backend.closed:
                worker.kill()
                return
        if config is not None:
            worker.command({**config, "cluster_conf": self.sizing})

    def not_started(self, reason: str) -> None:
        self.failed(reason)

    def failed(self, reason: str) -> None:
        with self.backend.lock:
            if self.session.ended_status is None:
                self.backend.end(self.session, "FAILED", time.time(), reason)

    def event(self, event: dict[str, Any]) -> None:
        kind, now = event.get("event"), time.time()
        if kind == "failed":
            self.failed(str(event.get("reason") or "the Spark Connect server failed"))
            return
        with self.backend.lock:
            connect, session = self.connect, self.session
            if kind == "spawned":
                connect.jvm_pid = int(event["pid"])
            elif kind == "ready" and session.ended_status is None:
                connect.host, connect.port = str(event["host"]), int(event["port"])
                connect.server_port = int(event["server_port"])
                connect.ready = True
                session.ready_at = max(session.ready_at, now)
                self.backend.wake.notify_all()  # the idle deadline starts now
            elif kind == "calls":
                connect.calls = max(0, int(event["active"]))
                session.last_activity = now
                self.backend.wake.notify_all()

    def exited(self, code: int) -> None:
        _process_ended(self.backend, self.session, "Spark Connect process", code)
