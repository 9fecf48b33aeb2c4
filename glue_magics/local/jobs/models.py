"""Jobs and job runs as the service keeps them, each rendering its own wire shape.

The defaults are AWS's documented ones (CreateJob, "AWS Glue API: Jobs"): ``Timeout`` 2,880
minutes for a batch job, ``ExecutionProperty.MaxConcurrentRuns`` 1, ``MaxRetries`` 0,
``ExecutionClass`` STANDARD.  A run's states are botocore's ``JobRunState``; the ones a run
ends in are :data:`DONE`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from glue_magics.model import dpu_per_worker

#: CreateJob's Timeout when none is given: "The default is 2,880 minutes (48 hours) for
#: batch jobs" (AWS Glue API reference, Job structure).
DEFAULT_TIMEOUT_MINUTES = 2880
#: ExecutionProperty.MaxConcurrentRuns: "The default is 1" (ExecutionProperty structure).
DEFAULT_MAX_CONCURRENT_RUNS = 1
#: A run's end states (botocore's JobRunState enum, less the ones on the way).
DONE = frozenset({"STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "EXPIRED"})
#: What CreateJob keeps as the job's definition (the rest of its input: Name, Tags).
_NOT_DEFINITION = ("Name", "Tags")


def _when(epoch: float) -> float:
    """A timestamp on the wire: seconds since the epoch (awsJson 1.1), milliseconds kept."""
    return round(epoch, 3)


def run_id() -> str:
    """``jr_`` and 64 hex digits, the form of the service's JobRunIds."""
    return "jr_" + secrets.token_hex(32)


@dataclass
class Job:
    """One job: its definition as CreateJob or UpdateJob gave it, and when."""

    name: str
    definition: dict[str, Any]
    created_on: float
    last_modified_on: float
    runs: list[JobRun] = field(default_factory=list)  # newest last
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, body: dict[str, Any], now: float) -> Job:
        definition = {k: v for k, v in body.items() if k not in _NOT_DEFINITION}
        return cls(body["Name"], definition, now, now, tags=dict(body.get("Tags") or {}))

    def update(self, job_update: dict[str, Any], now: float) -> None:
        """UpdateJob replaces the definition with JobUpdate's ("the job definition is
        completely overwritten", AWS Glue API reference, UpdateJob)."""
        self.definition = dict(job_update)
        self.last_modified_on = now

    @property
    def timeout(self) -> int:
        return int(self.definition.get("Timeout") or DEFAULT_TIMEOUT_MINUTES)

    @property
    def max_concurrent_runs(self) -> int:
        execution = self.definition.get("ExecutionProperty") or {}
        return int(execution.get("MaxConcurrentRuns") or DEFAULT_MAX_CONCURRENT_RUNS)

    def to_wire(self) -> dict[str, Any]:
        out = {
            "Name": self.name,
            "ExecutionProperty": {"MaxConcurrentRuns": self.max_concurrent_runs},
            "MaxRetries": 0,
            "Timeout": self.timeout,
            "ExecutionClass": "STANDARD",
            **self.definition,
            "CreatedOn": _when(self.created_on),
            "LastModifiedOn": _when(self.last_modified_on),
        }
        out["ExecutionProperty"] = {
            "MaxConcurrentRuns": self.max_concurrent_runs,
            **(self.definition.get("ExecutionProperty") or {}),
        }
        return out


@dataclass
class JobRun:
    """One run of a job: its arguments (the job's defaults overlaid by the run's), its state
    and the times the service reports."""

    id: str
    job_name: str
    arguments: dict[str, str]
    timeout: int  # minutes
    started_on: float
    worker_type: str | None = None
    number_of_workers: int | None = None
    glue_version: str | None = None
    state: str = "STARTING"
    last_modified_on: float = 0.0
    completed_on: float | None = None
    running_since: float | None = None
    error_message: str | None = None
    log_path: str | None = None
    worker: Any = None  # the WorkerProcess running the script

    def __post_init__(self) -> None:
        self.last_modified_on = self.last_modified_on or self.started_on

    @property
    def done(self) -> bool:
        return self.state in DONE

    def move(self, state: str, now: float, error: str | None = None) -> None:
        """To ``state`` (a run that has ended stays as it ended)."""
        if self.done:
            return
        self.state, self.last_modified_on = state, now
        if state == "RUNNING" and self.running_since is None:
            self.running_since = now
        if error:
            self.error_message = error
        if state in DONE:
            self.completed_on = now

    def execution_seconds(self, now: float) -> int:
        """ExecutionTime: "The amount of time (in seconds) that the job run consumed
        resources", from RUNNING to its end."""
        if self.running_since is None:
            return 0
        end = self.completed_on if self.completed_on is not None else now
        return int(max(0.0, end - self.running_since))

    def to_wire(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "Attempt": 0,
            "JobName": self.job_name,
            "JobMode": "SCRIPT",
            "StartedOn": _when(self.started_on),
            "LastModifiedOn": _when(self.last_modified_on),
            "JobRunState": self.state,
            "Arguments": dict(self.arguments),
            "PredecessorRuns": [],
            "ExecutionTime": self.execution_seconds(now),
            "Timeout": self.timeout,
            "LogGroupName": "/aws-glue/jobs",
            "ExecutionClass": "STANDARD",
        }
        if self.completed_on is not None:
            out["CompletedOn"] = _when(self.completed_on)
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        if self.glue_version:
            out["GlueVersion"] = self.glue_version
        if self.worker_type and self.number_of_workers:
            out["WorkerType"], out["NumberOfWorkers"] = self.worker_type, self.number_of_workers
            dpus = dpu_per_worker(self.worker_type) * self.number_of_workers
            out["MaxCapacity"] = dpus
            if self.done:
                out["DPUSeconds"] = float(self.execution_seconds(now)) * dpus
        return out
