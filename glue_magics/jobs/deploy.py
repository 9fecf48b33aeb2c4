"""Deploy a notebook as a Glue job, start a run and follow it: the calls, no IPython.

``plan`` turns a notebook (``script.read``) and the command line into the exact CreateJob
request and script, checked by botocore's model before any call.  ``deploy`` uploads the
script, then CreateJob, or UpdateJob when the definition changed (nothing when it did
not), refusing to overwrite a job glue-magics did not make unless forced.  ``follow``
polls a run to its end through callbacks, with its cost so far.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glue_magics import tags as tagging
from glue_magics.jobs.script import NotebookError, NotebookJob
from glue_magics.options import OptionError, SessionOptions

#: The tag that marks a job as made from a notebook by glue-magics (its value: the path).
JOB_TAG = tagging.PREFIX + "notebook-job"
#: Glue Studio's bucket for scripts: s3://aws-glue-assets-ACCOUNT-REGION/scripts/.
ASSETS_BUCKET = "aws-glue-assets-{account}-{region}"
#: What of a CreateSession request a job takes, member for member.
_JOB_MEMBERS = (
    "Role",
    "GlueVersion",
    "WorkerType",
    "NumberOfWorkers",
    "MaxCapacity",
    "Timeout",
    "DefaultArguments",
    "Connections",
    "SecurityConfiguration",
)
#: A session's Command name -> the job's (streaming sessions become streaming jobs).
_COMMANDS = {"glueetl": "glueetl", "gluestreaming": "gluestreaming", "glueray": "glueray"}
_NAME = re.compile(r"[\u0020-\uD7FF\uE000-\uFFFD\t]{1,255}")  # botocore: NameString
_ARG = re.compile(r"(?:--)?([A-Za-z0-9_.-]+)=(.*)", re.S)
#: GetJobRun states in which a run is over (botocore's JobRunState).
DONE = frozenset({"STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "EXPIRED"})


@dataclass
class Plan:
    """What a deploy will send: the CreateJob request, the script and where it goes."""

    request: dict[str, Any]
    script: str
    script_location: str
    left_out: dict[str, Any] = field(default_factory=dict)
    dpus: float = 0.0

    def summary(self) -> str:
        return json.dumps(self.request, indent=2, default=str)


def run_arguments(pairs: Sequence[str]) -> dict[str, str]:
    """``--arg KEY=VALUE`` words -> StartJobRun's Arguments (``--KEY``: VALUE)."""
    out: dict[str, str] = {}
    for pair in pairs:
        match = _ARG.fullmatch(pair)
        if match is None:
            raise NotebookError(
                f"--arg {pair!r} is not KEY=VALUE; give one such as --arg day=2024-01-01"
            )
        out[f"--{match.group(1)}"] = match.group(2)
    return out


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name != name.strip():
        raise NotebookError(
            f"job name {name!r} is not one Glue takes; use 1-255 characters on one line, "
            "such as daily-orders"
        )


def plan(
    job: NotebookJob,
    name: str,
    script_location: str,
    overrides: Mapping[str, Any] | None = None,
    notebook: str | None = None,
    below: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> Plan:
    """The CreateJob request for ``job`` (the notebook's settings, ``overrides`` from the
    command line winning, ``below`` the sources under both: the environment, the profile),
    checked against botocore's model; one-line errors."""
    _check_name(name)
    if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+\.py", script_location):
        raise NotebookError(
            f"script location {script_location!r} is not an s3:// path of a .py file; "
            "give one such as s3://my-bucket/scripts/job.py"
        )
    layers = [
        ("command line", dict(overrides or {})),
        ("notebook", job.values),
        *(below or ()),
    ]
    try:
        opts = SessionOptions.resolve(layers)
        session = opts.request("job-request")
    except OptionError as exc:
        raise NotebookError(str(exc)) from None
    command = session.get("Command") or {}
    request: dict[str, Any] = {
        "Name": name,
        "Command": {
            "Name": _COMMANDS.get(command.get("Name", "glueetl"), "glueetl"),
            "ScriptLocation": script_location,
            "PythonVersion": command.get("PythonVersion", "3"),
        },
    }
    request.update({k: session[k] for k in _JOB_MEMBERS if k in session})
    user_tags = {
        k: v for k, v in (session.get("Tags") or {}).items() if not k.startswith(tagging.PREFIX)
    }
    request["Tags"] = {
        **user_tags,
        tagging.CREATOR_KEY: tagging.CREATOR,
        JOB_TAG: tagging.clean(notebook or name),
    }
    left_out = dict(job.left_out)
    if session.get("IdleTimeout") is not None and "idle_timeout" not in left_out:
        left_out["idle_timeout"] = session["IdleTimeout"]
    _validate(request)
    return Plan(request, job.script, script_location, left_out, opts.dpus())


def _validate(request: dict[str, Any]) -> None:
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    from glue_magics import model

    try:
        validate_parameters(request, model.operation("CreateJob").input_shape)
    except ParamValidationError as exc:
        report = " ".join(str(exc).split())
        raise NotebookError(f"CreateJob request is invalid: {report}") from None


def default_script_location(account: str, region: str, name: str) -> str:
    """Where Glue Studio keeps a job's script: s3://aws-glue-assets-ACCOUNT-REGION/scripts/."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return f"s3://{ASSETS_BUCKET.format(account=account, region=region)}/scripts/{safe}.py"


# ------------------------------------------------------------------------ the calls


@dataclass
class Deployed:
    """What a deploy did: created, updated (with the changed members) or unchanged."""

    name: str
    action: str  # "created" | "updated" | "unchanged"
    changed: list[str] = field(default_factory=list)


#: What GetJob reports of a job whose request left it out: ``Timeout`` (2,880 minutes, "AWS
#: Glue API: Jobs", Job structure) and ``MaxCapacity`` (the workers' DPUs, as the service
#: reports it for G and R worker types).
_SERVICE_FILLS = frozenset({"Timeout", "MaxCapacity"})


def _comparable(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A job's definition as UpdateJob would set it (what GetJob adds by itself dropped)."""
    keys = ("Role", "Command", *_JOB_MEMBERS[1:])
    return {k: definition[k] for k in keys if definition.get(k) not in (None, {}, [])}


def deploy(glue: Any, s3: Any, plan: Plan, force: bool = False) -> Deployed:
    """Upload the script, then CreateJob or UpdateJob (or nothing when nothing changed).
    A job that exists and that glue-magics did not make (no creator tag) is left alone
    unless ``force``."""
    bucket, _, key = plan.script_location[len("s3://") :].partition("/")
    name = plan.request["Name"]
    existing = _get_job(glue, name)
    if existing is not None and not force and name not in made_here(glue):
        raise NotebookError(
            f"job {name} exists and was not made from a notebook by glue-magics; "
            "give --force to overwrite it, or another --name"
        )
    _upload(s3, bucket, key, plan.script)
    if existing is None:
        glue.create_job(**plan.request)
        return Deployed(name, "created")
    wanted = _comparable({k: v for k, v in plan.request.items() if k not in ("Name", "Tags")})
    current = _comparable(existing)
    # what the service fills in when a request leaves it out is no change of ours
    current = {k: v for k, v in current.items() if k in wanted or k not in _SERVICE_FILLS}
    changed = sorted(k for k in set(wanted) | set(current) if wanted.get(k) != current.get(k))
    if not changed:
        return Deployed(name, "unchanged")
    glue.update_job(JobName=name, JobUpdate=wanted)
    return Deployed(name, "updated", changed)


def made_here(glue: Any) -> set[str]:
    """The jobs glue-magics made (ListJobs by our creator tag, every page)."""
    names: set[str] = set()
    token = None
    while True:
        more = {"NextToken": token} if token else {}
        page = glue.list_jobs(Tags={tagging.CREATOR_KEY: tagging.CREATOR}, **more)
        names.update(page.get("JobNames", []))
        token = page.get("NextToken")
        if not token:
            return names


def _get_job(glue: Any, name: str) -> dict[str, Any] | None:
    try:
        return glue.get_job(JobName=name)["Job"]
    except glue.exceptions.EntityNotFoundException:
        return None


def _upload(s3: Any, bucket: str, key: str, script: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - a missing bucket is made below; any other error shows there
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=script.encode("utf-8"), ContentType="text/x-python")


def start(glue: Any, name: str, arguments: Mapping[str, str]) -> str:
    return glue.start_job_run(JobName=name, Arguments=dict(arguments))["JobRunId"]


def follow(
    glue: Any,
    name: str,
    run_id: str,
    on_update: Callable[[dict[str, Any]], None],
    interval: float = 1.0,
    most: float = 5.0,
) -> dict[str, Any]:
    """Poll GetJobRun until the run ends, telling ``on_update`` each answer; the last one.
    The interval grows by half each poll up to ``most`` seconds (runs last minutes)."""
    while True:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        on_update(run)
        if run["JobRunState"] in DONE:
            return run
        time.sleep(interval)
        interval = min(most, interval * 1.5)


def stop(glue: Any, name: str, run_id: str) -> None:
    glue.batch_stop_job_run(JobName=name, JobRunIds=[run_id])


def read_script(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")
