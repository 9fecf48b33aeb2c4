"""The local endpoint's sessions and statements, as data that renders itself.

A session's state is computed from timestamps when asked (PROVISIONING until
``provision_seconds`` have passed and its worker, with Spark where it runs, is ready;
STOPPING for ``stop_seconds`` after a stop), so no timer runs per session; its timeouts
are a deadline computed the same way.  ``to_wire`` gives each one in the shape of the
service's ``Session`` and ``Statement`` (botocore's Glue model).  The backend holds them
and its lock; nothing here locks or starts anything.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glue_magics import versions
from glue_magics.cost import billed_dpus
from glue_magics.local.exceptions import InvalidInput
from glue_magics.local.outputs import ended_output
from glue_magics.session_types import (  # noqa: F401 - re-exported for the endpoint's modules
    LAKE_FORMATION_FGAC,
    LIVY,
    SPARK_CONNECT,
    SPARK_CONNECT_COMMANDS,
    SPARK_CONNECT_MIN_VERSION,
    SPARK_CONNECT_REGIONS,
    SPARK_CONNECT_TYPICAL_START_SECONDS,
)
from glue_magics.states import STOPPED_STATES

if TYPE_CHECKING:
    from glue_magics.local.settings import EndpointSettings
    from glue_magics.local.workers import WorkerProcess

#: The versions a new session may have today (glue_magics.versions, the one table).
GLUE_VERSIONS = tuple(v.version for v in versions.current())
DEFAULT_GLUE_VERSION = "5.0"
COMMAND_NAMES = ("glueetl", "gluestreaming", "glueray")
DEFAULT_TIMEOUT_MINUTES = 2880
DEFAULT_WORKER_TYPE, DEFAULT_WORKERS = "G.1X", 5
#: Members of a CreateSession request that GetSession sends back as they were given.
ECHOED = ("Description", "Connections", "SecurityConfiguration", "SessionType")

# Spark Connect sessions: the documented rules are glue_magics.session_types' (shared with
# the client's checks); how the service words a refusal is not public, so the messages are ours.


@dataclass
class Statement:
    id: int
    code: str
    state: str = "WAITING"
    progress: float = 0.0
    started_on: float | None = None
    completed_on: float | None = None
    output: dict[str, Any] | None = None
    finishing: bool = False  # its result is being uploaded; a cancel must not kill it now

    def finish(self, state: str, at: float) -> None:
        """Move to a done state at ``at`` (a time already set stays)."""
        self.state = state
        self.completed_on = self.completed_on or at
        self.progress = 1.0

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "Code": self.code,
            "State": self.state,
            "Progress": self.progress,
        }
        if self.output is not None:
            out["Output"] = self.output
        # The model types these ``long``, and Glue sends epoch milliseconds (unlike the
        # sessions' ``timestamp`` fields, epoch seconds that botocore makes datetimes).
        if self.started_on is not None:
            out["StartedOn"] = round(self.started_on * 1000)
        if self.completed_on is not None:
            out["CompletedOn"] = round(self.completed_on * 1000)
        return out


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True)
class SessionRequest:
    """CreateSession's arguments, read from a body the model has validated.

    ``members`` is the request as sent (without RequestOrigin and nulls): the service
    compares it when the same Id is asked for again, and echoes parts of it.
    """

    id: str
    role: str
    command: dict[str, Any]
    glue_version: str
    worker_type: str | None
    workers: int | None
    max_capacity: float | None
    timeout: int
    idle_timeout: int
    default_arguments: dict[str, str]
    tags: dict[str, str]
    members: dict[str, Any]
    session_type: str = LIVY

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SessionRequest:
        members = {k: v for k, v in body.items() if k != "RequestOrigin" and v is not None}
        timeout = members.get("Timeout", DEFAULT_TIMEOUT_MINUTES)
        return cls(
            id=members["Id"],
            role=members["Role"],
            command=dict(members["Command"]),
            glue_version=members.get("GlueVersion", DEFAULT_GLUE_VERSION),
            worker_type=members.get("WorkerType"),
            workers=members.get("NumberOfWorkers"),
            max_capacity=members.get("MaxCapacity"),
            timeout=timeout,
            idle_timeout=members.get("IdleTimeout", timeout),
            default_arguments=dict(members.get("DefaultArguments", {})),
            tags=dict(members.get("Tags", {})),
            members=members,
            session_type=members.get("SessionType", LIVY),
        )

    def settle(self) -> tuple[str, float, str | None, int | None]:
        """(Glue version, DPUs, worker type, workers) as the service settles them, or
        InvalidInput for the rules it checks that the model does not state."""
        name = self.command.get("Name")
        if name not in COMMAND_NAMES:
            raise InvalidInput(
                f"Command.Name '{name}' is not supported; use one of {', '.join(COMMAND_NAMES)}"
            )
        # end of life (the support policy) and ``auto`` (jobs only): the client's words
        version = self.glue_version
        refused = versions.refusal(version, name="GlueVersion")
        if refused:
            raise InvalidInput(refused)
        if version not in GLUE_VERSIONS:
            raise InvalidInput(
                f"GlueVersion '{version}' is not supported; use one of {', '.join(GLUE_VERSIONS)}"
            )
        worker_type, workers, capacity = self.worker_type, self.workers, self.max_capacity
        if capacity is not None and (worker_type is not None or workers is not None):
            raise InvalidInput(
                "Please set either MaxCapacity or WorkerType with NumberOfWorkers, not both"
            )
        if (worker_type is None) != (workers is None):
            raise InvalidInput("Please set both WorkerType and NumberOfWorkers, or neither")
        if workers is not None and workers < 1:
            raise InvalidInput(f"NumberOfWorkers {workers} is below the minimum of 1")
        if capacity is not None and capacity <= 0:
            raise InvalidInput(f"MaxCapacity {capacity} must be greater than 0")
        if capacity is None and worker_type is None:  # the version's default (6.1: Graviton)
            row = versions.find(version)
            worker_type = row.default_worker if row else DEFAULT_WORKER_TYPE
            workers = DEFAULT_WORKERS
        if self.session_type == SPARK_CONNECT:
            self._spark_connect(version, name)
        return version, billed_dpus(capacity, worker_type, workers), worker_type, workers

    def _spark_connect(self, version: str, command: str) -> None:
        """The documented limits of a SPARK_CONNECT session (see SPARK_CONNECT_* above)."""
        if _version(version) < _version(SPARK_CONNECT_MIN_VERSION):
            given = "" if "GlueVersion" in self.members else " (the default)"
            raise InvalidInput(
                f"SessionType SPARK_CONNECT needs GlueVersion {SPARK_CONNECT_MIN_VERSION} or "
                f"later; GlueVersion is '{version}'{given}"
            )
        if command not in SPARK_CONNECT_COMMANDS:
            raise InvalidInput(
                f"SessionType SPARK_CONNECT needs Command.Name "
                f"{' or '.join(SPARK_CONNECT_COMMANDS)}; Command.Name is '{command}'"
            )
        if self.default_arguments.get(LAKE_FORMATION_FGAC, "").lower() == "true":
            raise InvalidInput(
                f"Lake Formation fine-grained access control is not supported for Spark "
                f"Connect sessions; remove DefaultArguments {LAKE_FORMATION_FGAC} or set it "
                "to false"
            )


@dataclass
class SparkConnect:
    """A Spark Connect session's server, as its program reports it."""

    key: bytes  # the HMAC key of its tokens
    host: str | None = None
    port: int | None = None
    jvm_pid: int | None = None
    server_port: int | None = None  # the JVM's own, on 127.0.0.1: only the proxy gets in
    ready: bool = False
    calls: int = 0  # gRPC calls in flight: the session is busy, not idle

    def url(self) -> str:
        """``sc://HOST`` on port 443, as the service's Url (AWS's recipe adds ``:443``);
        ``sc://HOST:PORT`` on any other port."""
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"sc://{host}" if self.port == 443 else f"sc://{host}:{self.port}"


@dataclass
class Session:
    request: SessionRequest
    created_on: float
    ready_at: float
    dpus: float
    worker_type: str | None
    workers: int | None
    glue_version: str
    tags: dict[str, str]
    last_activity: float
    number: int = 0  # order of creation, for paging
    ended_status: str | None = None
    ended_at: float | None = None
    error_message: str | None = None
    statements: dict[int, Statement] = field(default_factory=dict)
    queue: collections.deque[int] = field(default_factory=collections.deque)
    running: int | None = None
    next_statement: int = 1
    worker: WorkerProcess | None = None  # the statement worker, or the Spark Connect program
    worker_ready: bool = False
    log_path: str | None = None  # its system log: what its worker (and Spark) wrote
    spark_ui: str | None = None  # its Spark UI, while Spark runs in it (GetDashboardUrl)
    connect: SparkConnect | None = None  # a SPARK_CONNECT session's server
    spark: bool = False  # its worker starts Spark before it is READY
    waits: bool = False  # READY waits for its worker (Spark, or modules to install)
    provision_progress: float = 0.0  # how far its worker's start has come (0-100)

    @classmethod
    def create(cls, request: SessionRequest, now: float, provision_seconds: float) -> Session:
        """A new session, PROVISIONING from ``now``; InvalidInput for a request the service
        refuses."""
        glue_version, dpus, worker_type, workers = request.settle()
        return cls(
            request=request,
            created_on=now,
            ready_at=now + provision_seconds,
            dpus=dpus,
            worker_type=worker_type,
            workers=workers,
            glue_version=glue_version,
            tags=dict(request.tags),
            last_activity=now,
        )

    @property
    def id(self) -> str:
        return self.request.id

    def busy(self) -> bool:
        """Running a statement (or holding queued ones), or serving a Spark Connect call."""
        calls = self.connect.calls if self.connect is not None else 0
        return self.running is not None or bool(self.queue) or calls > 0

    def starting(self) -> bool:
        """Still being started: a Spark Connect session whose server has not answered, a
        statement session whose worker is starting Spark (or installing modules).  As on
        Glue, READY means Spark is up.  A session with neither is READY on its provisioning
        time alone, as before: its first statements wait for its worker (a fraction of a
        second), and the many sessions of the tests start no slower."""
        if self.connect is not None:
            return not self.connect.ready
        return self.waits and not self.worker_ready

    def status(self, now: float) -> str:
        if self.ended_status is not None:
            if self.ended_at is not None and now < self.ended_at:
                return "STOPPING"
            return self.ended_status
        if now < self.ready_at or self.starting():
            return "PROVISIONING"
        return "READY"

    def deadline(self, minute_seconds: float) -> tuple[float, str] | None:
        """When this live session times out next, and why, given what it is doing now."""
        if self.ended_status is not None:
            return None
        hard = self.created_on + self.request.timeout * minute_seconds
        reason = f"Session timed out after {self.request.timeout} minutes"
        if self.busy() or self.starting():
            return hard, reason
        idle = max(self.last_activity, self.ready_at)
        idle += self.request.idle_timeout * minute_seconds
        if idle < hard:
            return idle, f"Session idle for {self.request.idle_timeout} minutes"
        return hard, reason

    def end(
        self, status: str, at: float, now: float, message: str | None, running_state: str
    ) -> None:
        """Move to a terminal status (shown from ``at``); statements still queued are
        CANCELLED, the running one ``running_state``.  Its worker is the caller's to end."""
        self.ended_status = status
        self.ended_at = at
        if message and status != "STOPPED":
            self.error_message = message
        reason = message or f"The session is {status}"
        unfinished = [*([self.running] if self.running else []), *self.queue]
        for statement_id in unfinished:
            statement = self.statements[statement_id]
            statement.finish(running_state if statement_id == self.running else "CANCELLED", now)
            if statement.output is None:
                statement.output = ended_output("SessionEnded", reason)
        self.queue.clear()
        self.running = None

    def start_next(self, now: float) -> Statement | None:
        """The next queued statement, now RUNNING, if the worker is ready and free."""
        if self.running is not None or not self.queue or not self.worker_ready:
            return None
        if self.worker is None:
            return None
        statement = self.statements[self.queue.popleft()]
        statement.state = "RUNNING"
        statement.started_on = now
        self.running = statement.id
        return statement

    def provisioning_progress(self, now: float, provision_seconds: float) -> float:
        """Progress (0-100) while PROVISIONING.  A session starting Spark: how far its
        worker has come (each step's share, :data:`worker.STAGES`), never a clock.  Other
        statement sessions rise with ``provision_seconds`` (or their worker's steps, if
        further), short of 100; Spark Connect ones rise towards their usual start."""
        if self.spark:
            return min(99.0, self.provision_progress)
        expected, most = provision_seconds, 99.0
        if self.connect is not None:  # unknown: rise towards the usual, stop short
            expected, most = max(expected, SPARK_CONNECT_TYPICAL_START_SECONDS), 95.0
        progress = 100.0 * (now - self.created_on) / max(expected, 1e-9)
        # a worker's steps count where READY waits for it (modules to install); a plain
        # session's worker is up at once, and its 10 % would only jump the clock's rise
        steps = self.provision_progress if self.waits else 0.0
        return min(most, max(0.0, progress, steps))

    def to_wire(self, now: float, settings: EndpointSettings) -> dict[str, Any]:
        status = self.status(now)
        if status == "READY" and settings.busy_status and self.busy():
            status = "BUSY"  # in the model AWS's kernel ships; a live session all the same
        if status == "PROVISIONING":
            progress = self.provisioning_progress(now, settings.provision_seconds)
        else:
            progress = 100.0
        command = dict(self.request.command)
        command.setdefault("PythonVersion", "3")
        wire: dict[str, Any] = {
            "Id": self.id,
            "CreatedOn": self.created_on,
            "Status": status,
            "Role": self.request.role,
            "Command": command,
            "DefaultArguments": dict(self.request.default_arguments),
            "Progress": progress,
            "MaxCapacity": self.dpus,
            "GlueVersion": self.glue_version,
            "IdleTimeout": self.request.idle_timeout,
        }
        for key in ECHOED:
            if key in self.request.members:
                wire[key] = self.request.members[key]
        if self.worker_type is not None:
            wire["WorkerType"] = self.worker_type
            wire["NumberOfWorkers"] = self.workers
        if self.error_message:
            wire["ErrorMessage"] = self.error_message
        if status in STOPPED_STATES and self.ended_at is not None:
            ran = round(max(0.0, self.ended_at - self.created_on), 3)
            wire["CompletedOn"] = self.ended_at
            wire["ExecutionTime"] = ran
            wire["DPUSeconds"] = round(ran * self.dpus, 6)
        return wire
