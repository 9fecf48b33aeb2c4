"""The job operations' wire layer: each validated body unpacked for the jobs backend, and
the reply put in its shape (the server has validated the body against botocore's model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glue_magics.local import paging
from glue_magics.local.jobs.backend import JobsBackend

Body = dict[str, Any]


def _page(items: list[Any], body: Body, key: str) -> Body:
    """One page of ``items`` by NextToken (the items' order is the backend's)."""
    numbered = list(enumerate(items, start=1))
    size = int(body.get("MaxResults") or paging.LIST_PAGE)
    page, token = paging.page(
        numbered, lambda item: item[0], paging.after(body.get("NextToken")), size
    )
    out: Body = {key: [item for _, item in page]}
    if token:
        out["NextToken"] = token
    return out


class JobResponses:
    """One method per job operation; :attr:`operations` joins the endpoint's table."""

    def __init__(self, backend: JobsBackend) -> None:
        self.backend = backend
        self.operations: dict[str, Callable[[Body], Body]] = {
            "CreateJob": self.create_job,
            "GetJob": self.get_job,
            "UpdateJob": self.update_job,
            "DeleteJob": self.delete_job,
            "GetJobs": self.get_jobs,
            "ListJobs": self.list_jobs,
            "StartJobRun": self.start_job_run,
            "GetJobRun": self.get_job_run,
            "GetJobRuns": self.get_job_runs,
            "BatchStopJobRun": self.batch_stop_job_run,
        }

    def create_job(self, body: Body) -> Body:
        return {"Name": self.backend.create_job(body)}

    def get_job(self, body: Body) -> Body:
        return {"Job": self.backend.get_job(body["JobName"])}

    def update_job(self, body: Body) -> Body:
        return {"JobName": self.backend.update_job(body["JobName"], body["JobUpdate"])}

    def delete_job(self, body: Body) -> Body:
        return {"JobName": self.backend.delete_job(body["JobName"])}

    def get_jobs(self, body: Body) -> Body:
        return _page(self.backend.all_jobs(), body, "Jobs")

    def list_jobs(self, body: Body) -> Body:
        return _page(self.backend.job_names(body.get("Tags")), body, "JobNames")

    def start_job_run(self, body: Body) -> Body:
        return {"JobRunId": self.backend.start_job_run(body["JobName"], body)}

    def get_job_run(self, body: Body) -> Body:
        return {"JobRun": self.backend.get_job_run(body["JobName"], body["RunId"])}

    def get_job_runs(self, body: Body) -> Body:
        return _page(self.backend.get_job_runs(body["JobName"]), body, "JobRuns")

    def batch_stop_job_run(self, body: Body) -> Body:
        stopped, errors = self.backend.batch_stop(body["JobName"], body["JobRunIds"])
        return {"SuccessfulSubmissions": stopped, "Errors": errors}
