"""Jobs and their runs on the local endpoint: definitions kept here, each run a process.

A run is the job's script run as Glue runs it (``run.py``): the session runtime's
``awsglue`` on its path, the same object store and Spark set-up as a session's, and the
arguments in ``sys.argv`` as ``--KEY VALUE`` pairs after ``--JOB_ID``, ``--JOB_RUN_ID`` and
``--JOB_NAME``.  It goes STARTING -> RUNNING -> SUCCEEDED, or FAILED with the exception's
line as ``ErrorMessage``, STOPPED after BatchStopJobRun, TIMEOUT after its ``Timeout``
minutes (scaled by the endpoint's ``minute_seconds``, as sessions' timeouts are).  At most
``MaxConcurrentRuns`` runs of a job are under way at once (ConcurrentRunsExceededException).
Its log (what it printed, Spark's lines) is kept for the endpoint's life, for
``glue-magics job logs``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from glue_magics.local import session_arguments
from glue_magics.local.exceptions import EntityExists, EntityNotFound, InvalidInput, ServiceError
from glue_magics.local.jobs.models import Job, JobRun, run_id
from glue_magics.local.paging import LIST_PAGE
from glue_magics.local.settings import EndpointSettings
from glue_magics.local.workers import WorkerProcess, Workers

#: The job run's program (``glue_magics/local/jobs/run.py``).
RUN_PROGRAM = "glue_magics.local.jobs.run"


def script_path(location: str, settings: EndpointSettings) -> Path:
    """The file a ``ScriptLocation`` names: ``s3://BUCKET/KEY`` in the endpoint's object
    store, or a local path (a file of this machine, as a job of the endpoint's owner)."""
    if location.startswith(("s3://", "s3a://", "s3n://")):
        bucket, _, key = location.split("://", 1)[1].partition("/")
        return settings.s3_root / bucket / key
    return Path(location.removeprefix("file://"))


def script_argv(run: JobRun, job: Job) -> list[str]:
    """``sys.argv[1:]`` of a run: Glue's own three first, then each argument as
    ``--KEY VALUE`` (a key given without its dashes gets them, as Glue's keys have them)."""
    argv = ["--JOB_ID", f"j_{job.name}", "--JOB_RUN_ID", run.id, "--JOB_NAME", job.name]
    merged = {
        **(job.definition.get("DefaultArguments") or {}),
        **run.arguments,
        **(job.definition.get("NonOverridableArguments") or {}),
    }
    for key, value in merged.items():
        argv += [key if key.startswith("--") else f"--{key}", str(value)]
    return argv


class _Supervisor:
    """Hears one run's process (``workers.Listener``) and moves the run's state."""

    def __init__(self, backend: JobsBackend, job: Job, run: JobRun, script: Path) -> None:
        self.backend, self.job, self.run, self.script = backend, job, run, script
        self.error: str | None = None

    def started(self, worker: WorkerProcess) -> None:
        with self.backend.lock:
            self.run.worker = worker
            if self.run.state == "STOPPING":  # stopped before its process was up
                worker.kill()
                return
        argv = script_argv(self.run, self.job)
        arguments = dict(zip(argv[6::2], argv[7::2], strict=False))  # the job's and the run's
        root = str(self.backend.settings.s3_root)
        steps = session_arguments.plan(arguments, spark=True, s3_root=root)  # as a session's
        worker.command(
            {
                "script": str(self.script),
                "argv": argv,
                "conf": steps.conf,
                "py_files": [path for _, path in steps.py_files],
                "notices": steps.notices,
            }
        )

    def not_started(self, reason: str) -> None:
        with self.backend.lock:
            self.run.move("FAILED", time.time(), f"The job run did not start: {reason}")

    def event(self, event: dict[str, Any]) -> None:
        with self.backend.lock:
            if event.get("event") == "running":
                if self.run.state == "STARTING":
                    self.run.move("RUNNING", time.time())
            elif event.get("event") == "error":
                self.error = str(event.get("message") or "")

    def exited(self, code: int) -> None:
        now = time.time()
        with self.backend.lock:
            run = self.run
            if run.state == "STOPPING":
                run.move("STOPPED", now)
            elif run.state == "TIMING_OUT":
                run.state = "RUNNING"  # moved to its end state just below
                run.move("TIMEOUT", now, f"Job run timed out after {run.timeout} minutes")
            elif code == 0:
                run.move("SUCCEEDED", now)
            else:
                run.move("FAILED", now, self.error or f"The script exited with status {code}")
            run.worker = None


class JobsBackend:
    """The endpoint's jobs under one lock; runs go on in processes of their own."""

    def __init__(self, settings: EndpointSettings, workers: Workers | None = None) -> None:
        self.settings = settings
        self.workers = workers or Workers()
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}

    # ----------------------------------------------------------------- jobs
    def _job(self, name: str) -> Job:
        job = self.jobs.get(name)
        if job is None:
            raise EntityNotFound(f"Job {name} not found.")
        return job

    def create_job(self, body: dict[str, Any]) -> str:
        with self.lock:
            existing = self.jobs.get(body["Name"])
            if existing is not None:
                raise EntityExists(f"Job {body['Name']}")
            self.jobs[body["Name"]] = Job.create(body, time.time())
        return body["Name"]

    def get_job(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self._job(name).to_wire()

    def update_job(self, name: str, job_update: dict[str, Any]) -> str:
        with self.lock:
            self._job(name).update(job_update, time.time())
        return name

    def delete_job(self, name: str) -> str:
        """DeleteJob of a job that does not exist succeeds ("no exception is thrown",
        AWS Glue API reference, DeleteJob)."""
        with self.lock:
            job = self.jobs.pop(name, None)
        if job is not None:
            for run in job.runs:
                self._stop(run)
        return name

    def job_name_of(self, arn: str) -> str | None:
        """The job an ARN names (``arn:aws:glue:REGION:ACCOUNT:job/NAME``), else None."""
        prefix = self.settings.arn("")[: -len("session/")] + "job/"
        return arn[len(prefix) :] if arn.startswith(prefix) else None

    def tags(self, name: str) -> dict[str, str]:
        with self.lock:
            return dict(self._job(name).tags)

    def tag(self, name: str, add: dict[str, str], remove: list[str] = ()) -> None:
        with self.lock:
            job = self._job(name)
            job.tags = {k: v for k, v in {**job.tags, **add}.items() if k not in remove}

    def job_names(self, tags: dict[str, str] | None = None) -> list[str]:
        """ListJobs: the names, of the jobs with all of ``tags`` when given."""
        with self.lock:
            return sorted(
                name
                for name, job in self.jobs.items()
                if all(job.tags.get(k) == v for k, v in (tags or {}).items())
            )

    def all_jobs(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self.jobs[name].to_wire() for name in sorted(self.jobs)]

    # ----------------------------------------------------------------- runs
    def start_job_run(self, name: str, body: dict[str, Any]) -> str:
        now = time.time()
        with self.lock:
            job = self._job(name)
            under_way = [r for r in job.runs if not r.done]
            if len(under_way) >= job.max_concurrent_runs:
                raise ServiceError(
                    "ConcurrentRunsExceededException",
                    f"Concurrent runs exceeded for {name}: {len(under_way)} of "
                    f"{job.max_concurrent_runs} allowed are running",
                )
            location = (job.definition.get("Command") or {}).get("ScriptLocation")
            if not location:
                raise InvalidInput(f"Job {name} has no Command.ScriptLocation")
            definition = job.definition
            run = JobRun(
                id=body.get("JobRunId") or run_id(),
                job_name=name,
                arguments=dict(body.get("Arguments") or {}),
                timeout=int(body.get("Timeout") or job.timeout),
                started_on=now,
                worker_type=body.get("WorkerType") or definition.get("WorkerType"),
                number_of_workers=body.get("NumberOfWorkers") or definition.get("NumberOfWorkers"),
                glue_version=definition.get("GlueVersion"),
            )
            job.runs.append(run)
            script = script_path(location, self.settings)
        if not script.is_file():
            with self.lock:
                run.move("FAILED", time.time(), f"Script not found at {location}")
            return run.id
        run.log_path = self.workers.spawn(run.id, _Supervisor(self, job, run, script), RUN_PROGRAM)
        timer = threading.Timer(run.timeout * self.settings.minute_seconds, self._timed_out, (run,))
        timer.daemon = True
        timer.start()
        return run.id

    def _timed_out(self, run: JobRun) -> None:
        with self.lock:
            if run.done or run.state == "STOPPING":
                return
            run.state = "TIMING_OUT"  # an inner state: the wire says RUNNING until it ends
            worker = run.worker
        if worker is not None:
            worker.kill()
        else:
            with self.lock:
                run.state = "RUNNING"
                run.move("TIMEOUT", time.time(), f"Job run timed out after {run.timeout} minutes")

    def _run(self, name: str, run_id: str) -> JobRun:
        for run in self._job(name).runs:
            if run.id == run_id:
                return run
        raise EntityNotFound(f"Job run {run_id} not found.")

    def get_job_run(self, name: str, run_id: str) -> dict[str, Any]:
        with self.lock:
            return self._wire(self._run(name, run_id))

    def get_job_runs(self, name: str) -> list[dict[str, Any]]:
        """Newest first, as the service lists them."""
        with self.lock:
            return [self._wire(run) for run in reversed(self._job(name).runs)]

    def _wire(self, run: JobRun) -> dict[str, Any]:
        out = run.to_wire(time.time())
        if out["JobRunState"] == "TIMING_OUT":
            out["JobRunState"] = "RUNNING"
        return out

    def run_log(self, run_id: str) -> Path | None:
        """The log file of a run of any job, for the logs the endpoint serves."""
        with self.lock:
            for job in self.jobs.values():
                for run in job.runs:
                    if run.id == run_id and run.log_path:
                        return Path(run.log_path)
        return None

    def batch_stop(self, name: str, run_ids: list[str]) -> tuple[list[dict], list[dict]]:
        stopped: list[dict] = []
        errors: list[dict] = []
        with self.lock:
            for run_id in run_ids:
                try:
                    run = self._run(name, run_id)
                except EntityNotFound as exc:
                    errors.append(self._stop_error(name, run_id, exc.code, exc.message))
                    continue
                if run.done:
                    message = f"Job run {run_id} is already {run.state}"
                    errors.append(self._stop_error(name, run_id, "InvalidInputException", message))
                    continue
                self._stop(run)
                stopped.append({"JobName": name, "JobRunId": run_id})
        return stopped, errors

    @staticmethod
    def _stop_error(name: str, run_id: str, code: str, message: str) -> dict[str, Any]:
        return {
            "JobName": name,
            "JobRunId": run_id,
            "ErrorDetail": {"ErrorCode": code, "ErrorMessage": message},
        }

    def _stop(self, run: JobRun) -> None:
        if run.done:
            return
        run.state = "STOPPING"
        run.last_modified_on = time.time()
        if run.worker is not None:
            run.worker.kill()

    def close(self) -> None:
        """End every run (the endpoint is stopping)."""
        with self.lock:
            for job in self.jobs.values():
                for run in job.runs:
                    self._stop(run)


__all__ = ["LIST_PAGE", "JobsBackend", "script_argv", "script_path"]
