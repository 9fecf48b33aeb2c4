"""Glue jobs on the local endpoint through a real boto3 client: definitions, runs of their
scripts in processes of their own, states and times as the service reports them, with
moto's Glue as a second implementation of the same calls."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import PATIENCE, ROLE, make_glue

DONE = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR")


@pytest.fixture
def ep(fresh_endpoint, tmp_path):
    return fresh_endpoint(data_dir=tmp_path / "data", minute_seconds=1.0)


@pytest.fixture
def glue(ep):
    return make_glue(ep.url)


def put_script(ep: Any, key: str, code: str) -> str:
    """A script placed in the endpoint's object store; its s3:// location."""
    path = Path(ep.settings.s3_root) / "scripts-bucket" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code)
    return f"s3://scripts-bucket/{key}"


def create(glue: Any, name: str, location: str, **extra: Any) -> None:
    glue.create_job(
        Name=name,
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": location, "PythonVersion": "3"},
        GlueVersion="5.0",
        WorkerType="G.1X",
        NumberOfWorkers=2,
        **extra,
    )


def until(glue: Any, name: str, run_id: str, *states: str) -> dict[str, Any]:
    """The run once it is in one of ``states`` (the deadline guards a hang only)."""
    deadline = time.monotonic() + 3 * PATIENCE
    while True:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] in states or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def test_a_run_gets_its_arguments_as_glue_passes_them_and_succeeds(ep, glue, tmp_path):
    out = tmp_path / "argv.json"
    code = f"import json, sys\njson.dump(sys.argv, open({str(out)!r}, 'w'))\nprint('ran')\n"
    create(glue, "args-job", put_script(ep, "args.py", code), DefaultArguments={"--day": "1"})
    run_id = glue.start_job_run(JobName="args-job", Arguments={"--day": "7", "--x": "y"})[
        "JobRunId"
    ]
    assert run_id.startswith("jr_") and len(run_id) == 67
    run = until(glue, "args-job", run_id, *DONE)
    assert run["JobRunState"] == "SUCCEEDED", run
    argv = json.loads(out.read_text())
    assert argv[0].endswith("args.py")
    pairs = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert pairs["--JOB_NAME"] == "args-job" and pairs["--JOB_RUN_ID"] == run_id
    assert pairs["--day"] == "7" and pairs["--x"] == "y"  # the run's own win over defaults
    # the run's fields as the service has them
    assert run["Arguments"] == {"--day": "7", "--x": "y"} and run["Attempt"] == 0
    assert run["StartedOn"] <= run["LastModifiedOn"] and "CompletedOn" in run
    assert isinstance(run["ExecutionTime"], int) and run["Timeout"] == 2880
    assert run["WorkerType"] == "G.1X" and run["NumberOfWorkers"] == 2
    assert run["DPUSeconds"] == run["ExecutionTime"] * 2.0


def test_a_failing_script_ends_failed_with_its_exception_line(ep, glue):
    create(glue, "fails", put_script(ep, "fails.py", "print('before')\n1 / 0\n"))
    run_id = glue.start_job_run(JobName="fails")["JobRunId"]
    run = until(glue, "fails", run_id, *DONE)
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ZeroDivisionError: division by zero"
    log = ep.jobs.run_log(run_id).read_text()
    assert "before" in log and "Traceback" in log  # kept for `glue-magics job logs`


def test_a_missing_script_fails_the_run_not_the_call(ep, glue):
    create(glue, "nowhere", "s3://scripts-bucket/none.py")
    run = until(glue, "nowhere", glue.start_job_run(JobName="nowhere")["JobRunId"], *DONE)
    assert run["JobRunState"] == "FAILED" and "s3://scripts-bucket/none.py" in run["ErrorMessage"]


def waits_for(flag: Path) -> str:
    return f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.01)\n"


def test_stop_ends_a_running_run_and_concurrency_is_limited(ep, glue, tmp_path):
    create(glue, "long", put_script(ep, "long.py", waits_for(tmp_path / "never")))
    first = glue.start_job_run(JobName="long")["JobRunId"]
    assert until(glue, "long", first, "RUNNING")["JobRunState"] == "RUNNING"
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName="long")  # MaxConcurrentRuns defaults to 1
    stopped = glue.batch_stop_job_run(JobName="long", JobRunIds=[first, "jr_nope"])
    assert stopped["SuccessfulSubmissions"] == [{"JobName": "long", "JobRunId": first}]
    [error] = stopped["Errors"]
    assert error["JobRunId"] == "jr_nope" and error["ErrorDetail"]["ErrorCode"]
    assert until(glue, "long", first, *DONE)["JobRunState"] == "STOPPED"
    second = glue.start_job_run(JobName="long")["JobRunId"]  # room again
    glue.batch_stop_job_run(JobName="long", JobRunIds=[second])
    runs = glue.get_job_runs(JobName="long")["JobRuns"]
    assert [r["Id"] for r in runs] == [second, first]  # newest first


def test_a_run_past_its_timeout_ends_timeout(fresh_endpoint, tmp_path):
    ep = fresh_endpoint(data_dir=tmp_path / "data", minute_seconds=0.5)  # a minute: 0.5 s
    glue = make_glue(ep.url)
    create(glue, "slow", put_script(ep, "slow.py", waits_for(tmp_path / "never")), Timeout=1)
    run = until(glue, "slow", glue.start_job_run(JobName="slow")["JobRunId"], *DONE)
    assert run["JobRunState"] == "TIMEOUT" and "1 minutes" in run["ErrorMessage"]


def test_definitions_update_list_tag_and_delete(ep, glue):
    location = put_script(ep, "j.py", "pass\n")
    create(glue, "kept", location, Tags={"made-by": "glue-magics"})
    create(glue, "other", location)
    job = glue.get_job(JobName="kept")["Job"]
    assert job["Command"]["ScriptLocation"] == location and job["MaxRetries"] == 0
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1} and job["Timeout"] == 2880
    assert isinstance(job["CreatedOn"], datetime.datetime) and "Tags" not in job
    assert glue.list_jobs()["JobNames"] == ["kept", "other"]
    assert glue.list_jobs(Tags={"made-by": "glue-magics"})["JobNames"] == ["kept"]
    arn = f"arn:aws:glue:{ep.settings.region}:{ep.settings.account_id}:job/kept"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"made-by": "glue-magics"}
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        create(glue, "kept", location)
    update = {"Role": ROLE, "Command": {"Name": "glueetl", "ScriptLocation": location}}
    glue.update_job(JobName="kept", JobUpdate={**update, "NumberOfWorkers": 5})
    changed = glue.get_job(JobName="kept")["Job"]
    assert changed["NumberOfWorkers"] == 5 and "WorkerType" not in changed  # overwritten whole
    assert changed["LastModifiedOn"] >= job["LastModifiedOn"]
    page = glue.get_jobs(MaxResults=1)
    assert [j["Name"] for j in page["Jobs"]] == ["kept"] and page["NextToken"]
    assert [j["Name"] for j in glue.get_jobs(NextToken=page["NextToken"])["Jobs"]] == ["other"]
    assert glue.delete_job(JobName="kept")["JobName"] == "kept"
    assert glue.delete_job(JobName="kept")["JobName"] == "kept"  # no error when gone
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_job(JobName="kept")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.start_job_run(JobName="kept")


def test_a_request_the_model_refuses_is_refused_before_anything_runs(ep, glue):
    with pytest.raises(ClientError) as refused:
        glue.create_job(Name="x" * 300, Role=ROLE, Command={"Name": "glueetl"})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "length less than or equal to 255" in str(refused.value)
    assert glue.list_jobs()["JobNames"] == []


# ------------------------------------------------------------------- moto as the oracle


def _shape(value: Any) -> Any:
    """Keys and value types, recursively: what two implementations should share."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def _disagree(theirs: Any, ours: Any, path: str = "") -> list[str]:
    """Where two shapes differ, at the keys both have (moto leaves some empty: {} for an
    ExecutionProperty not given, where the service reports its default)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        return [p for k in set(theirs) & set(ours) for p in _disagree(theirs[k], ours[k], k)]
    if isinstance(theirs, list) and isinstance(ours, list):
        return [p for a, b in zip(theirs, ours, strict=False) for p in _disagree(a, b, path)]
    return [] if theirs == ours else [f"{path}: moto {theirs}, ours {ours}"]


def test_job_calls_answer_in_moto_shapes(ep, glue, moto_server):
    """moto's Glue (an implementation no one here wrote) and ours, the same calls: the keys
    both return have the same types, and ours returns every key moto does, except the few
    that moto returns as None-valued stand-ins."""
    moto = make_glue(moto_server)
    location = put_script(ep, "oracle.py", "pass\n")
    answers = {}
    for name, client in (("moto", moto), ("ours", glue)):
        job = f"oracle-{name}"
        create(client, job, location)
        run_id = client.start_job_run(JobName=job, Arguments={"--k": "v"})["JobRunId"]
        answers[name] = {
            "job": client.get_job(JobName=job)["Job"],
            "run": client.get_job_run(JobName=job, RunId=run_id)["JobRun"],
            "list": client.list_jobs(),
        }
        with pytest.raises(client.exceptions.EntityNotFoundException):
            client.get_job(JobName="no-such-job")
    for what in ("job", "run"):
        assert _disagree(_shape(answers["moto"][what]), _shape(answers["ours"][what])) == []
    assert {"Name", "Role", "Command", "CreatedOn", "LastModifiedOn"} <= set(answers["ours"]["job"])
    assert {"Id", "JobName", "StartedOn", "JobRunState", "Arguments"} <= set(answers["ours"]["run"])
    assert _shape(answers["moto"]["list"]) == _shape(answers["ours"]["list"])
