"""The local endpoint's sessions, wire protocol, faults and command line, through a real
boto3 Glue client over HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import botocore.exceptions
import pytest
import sigv4
from helpers import (
    ROLE,
    create,
    endpoint_process,
    make_glue,
    new_id,
    ready,
    run,
    wait_gone,
    wait_statement,
    wait_status,
)

from glue_magics.local import Faults, LocalEndpoint
from glue_magics.model import operation


def error_of(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[str, str, int]:
    response = excinfo.value.response  # type: ignore[attr-defined]
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# ---------------------------------------------------------------- lifecycle


def test_new_session_provisions_with_rising_progress_then_is_ready(fresh_endpoint, glue_client):
    # 1.5 s, not the shared 0.3 s: three polls must fit in provisioning even on a loaded machine
    glue = glue_client(fresh_endpoint(provision_seconds=1.5))
    session_id = create(glue)
    seen = []
    while True:
        session = glue.get_session(Id=session_id)["Session"]
        seen.append((session["Status"], session["Progress"]))
        if session["Status"] == "READY":
            break
        assert session["Status"] == "PROVISIONING"
    provisioning = [p for s, p in seen if s == "PROVISIONING"]
    assert len(provisioning) >= 3, seen
    assert provisioning == sorted(provisioning)
    assert provisioning[-1] > provisioning[0]
    assert all(0.0 <= p < 100.0 for p in provisioning)
    assert seen[-1] == ("READY", 100.0)


def test_session_fields_are_filled_as_the_service_does(glue):
    session_id = create(glue, Description="demo", Tags={"team": "data"})
    session = glue.get_session(Id=session_id)["Session"]
    assert session["Id"] == session_id
    assert session["Role"] == ROLE
    assert session["Command"] == {"Name": "glueetl", "PythonVersion": "3"}
    assert session["GlueVersion"] == "5.0"
    assert (session["WorkerType"], session["NumberOfWorkers"]) == ("G.1X", 5)
    assert session["MaxCapacity"] == 5.0
    assert session["IdleTimeout"] == 2880
    assert session["Description"] == "demo"
    assert session["CreatedOn"].tzinfo is not None  # parsed by botocore as a timestamp
    assert "CompletedOn" not in session


@pytest.mark.parametrize(
    ("extra", "dpus"),
    [
        ({"WorkerType": "G.2X", "NumberOfWorkers": 3}, 6.0),
        ({"WorkerType": "G.025X", "NumberOfWorkers": 2}, 0.5),
        ({"WorkerType": "Z.2X", "NumberOfWorkers": 2}, 4.0),
        ({"MaxCapacity": 2.0}, 2.0),
    ],
)
def test_stop_goes_through_stopping_and_bills_dpu_seconds(glue, endpoint, extra, dpus):
    session_id = ready(glue, GlueVersion="4.0", **extra)
    pids_before = set(endpoint.worker_pids())
    assert glue.stop_session(Id=session_id)["Id"] == session_id
    assert glue.stop_session(Id=session_id)["Id"] == session_id  # stopping twice is fine
    assert glue.get_session(Id=session_id)["Session"]["Status"] == "STOPPING"
    session = wait_status(glue, session_id, "STOPPED")
    assert session["GlueVersion"] == "4.0"
    assert session["CompletedOn"] >= session["CreatedOn"]
    assert session["ExecutionTime"] > 0
    assert session["DPUSeconds"] == pytest.approx(session["ExecutionTime"] * dpus, abs=1e-6)
    assert set(endpoint.worker_pids()) <= pids_before


def test_stopped_and_deleted_sessions_end_their_workers(glue, endpoint):
    stopped, deleted = ready(glue), ready(glue)
    pids = [
        int(text_of(run(glue, session_id, "import os\nos.getpid()")))
        for session_id in (stopped, deleted)
    ]
    assert set(pids) <= set(endpoint.worker_pids())
    glue.stop_session(Id=stopped)
    glue.delete_session(Id=deleted)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_session(Id=deleted)
    assert wait_gone(pids) == []
    assert not set(pids) & set(endpoint.worker_pids())


def test_statements_need_a_ready_session(glue):
    session_id = create(glue)
    with pytest.raises(glue.exceptions.InvalidInputException) as info:
        glue.run_statement(SessionId=session_id, Code="1")
    assert "PROVISIONING" in error_of(info)[1]
    wait_status(glue, session_id, "READY")
    glue.stop_session(Id=session_id)
    with pytest.raises(glue.exceptions.InvalidInputException):
        glue.run_statement(SessionId=session_id, Code="1")


def test_unknown_session_and_statement_are_entity_not_found(glue):
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_session(Id="no-such-session")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.stop_session(Id="no-such-session")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_statement(SessionId="no-such-session", Id=1)
    session_id = ready(glue)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_statement(SessionId=session_id, Id=99)


def test_id_reuse_is_already_exists_or_parameter_mismatch(glue, endpoint):
    session_id = create(glue)
    before = endpoint.sessions_created
    same = {"Id": session_id, "Role": ROLE, "Command": {"Name": "glueetl", "PythonVersion": "3"}}
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_session(**same)
    with pytest.raises(glue.exceptions.IdempotentParameterMismatchException):
        glue.create_session(**same, Description="other")
    assert endpoint.sessions_created == before


def test_idle_timeout_ends_the_session_and_its_worker(fresh_endpoint, glue_client):
    ep = fresh_endpoint(minute_seconds=0.5)
    glue = glue_client(ep)
    session_id = ready(glue, IdleTimeout=1)
    pid = int(text_of(run(glue, session_id, "import os\nos.getpid()")))
    session = wait_status(glue, session_id, "TIMEOUT")
    assert "idle" in session["ErrorMessage"]
    assert session["ExecutionTime"] > 0 and session["DPUSeconds"] > 0
    assert wait_gone([pid]) == []
    assert ep.worker_pids() == []


def test_timeout_ends_a_busy_session_and_errors_its_statement(fresh_endpoint, glue_client):
    ep = fresh_endpoint(minute_seconds=1.0)
    glue = glue_client(ep)
    session_id = ready(glue, Timeout=1)
    pid = int(text_of(run(glue, session_id, "import os\nos.getpid()")))
    code = "import time\ntime.sleep(60)"
    statement_id = glue.run_statement(SessionId=session_id, Code=code)["Id"]
    session = wait_status(glue, session_id, "TIMEOUT")
    assert "timed out after 1 minutes" in session["ErrorMessage"]
    # ERROR: the session ended under the statement, which could not run to its end.
    statement = wait_statement(glue, session_id, statement_id)
    assert statement["State"] == "ERROR"
    assert statement["Output"] == {
        "Status": "error",
        "ErrorName": "SessionEnded",
        "ErrorValue": "Session timed out after 1 minutes",
        "Traceback": ["SessionEnded: Session timed out after 1 minutes\n"],
    }
    assert wait_gone([pid]) == []


def test_endpoint_stop_ends_every_worker(fresh_endpoint, glue_client):
    ep = fresh_endpoint()
    glue = glue_client(ep, attempts=1)
    for _ in range(2):
        session_id = ready(glue)
        run(glue, session_id, "1")
    pids = ep.worker_pids()
    assert len(pids) == 2
    ep.stop()
    assert wait_gone(pids) == []
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        glue.list_sessions()


# ---------------------------------------------------------------- listing and tags


def test_list_sessions_pages_and_filters_by_tags(fresh_endpoint, glue_client):
    ep = fresh_endpoint()
    glue = glue_client(ep)
    tagged = [create(glue, Tags={"team": "a"}) for _ in range(3)]
    other = create(glue, Tags={"team": "b"})
    ids, token = [], None
    while True:
        page = glue.list_sessions(MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["Ids"]) <= 2
        assert page["Ids"] == [s["Id"] for s in page["Sessions"]]
        ids += page["Ids"]
        token = page.get("NextToken")
        if not token:
            break
    assert ids == [*tagged, other]
    assert glue.list_sessions(Tags={"team": "a"})["Ids"] == tagged
    assert glue.list_sessions(Tags={"team": "c"})["Ids"] == []
    with pytest.raises(glue.exceptions.InvalidInputException):
        glue.list_sessions(NextToken="garbage")


def test_a_deletion_between_pages_skips_no_session(fresh_endpoint, glue_client):
    ep = fresh_endpoint()
    glue = glue_client(ep)
    ids = [create(glue) for _ in range(5)]
    first = glue.list_sessions(MaxResults=2)
    assert first["Ids"] == ids[:2]
    glue.delete_session(Id=ids[0])
    rest = glue.list_sessions(MaxResults=2, NextToken=first["NextToken"])
    assert rest["Ids"] == ids[2:4]
    last = glue.list_sessions(MaxResults=2, NextToken=rest["NextToken"])
    assert last["Ids"] == ids[4:] and "NextToken" not in last


def test_list_statements_pages(glue):
    session_id = ready(glue)
    ids = [glue.run_statement(SessionId=session_id, Code="1")["Id"] for _ in range(105)]
    first = glue.list_statements(SessionId=session_id)
    second = glue.list_statements(SessionId=session_id, NextToken=first["NextToken"])
    assert [s["Id"] for s in first["Statements"] + second["Statements"]] == ids
    assert len(first["Statements"]) == 100 and "NextToken" not in second
    glue.stop_session(Id=session_id)


def test_tags_by_session_arn(glue):
    session_id = create(glue, Tags={"owner": "me"})
    arn = f"arn:aws:glue:us-east-1:123456789012:session/{session_id}"
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"owner": "me"}
    glue.tag_resource(ResourceArn=arn, TagsToAdd={"cost": "42"})
    glue.untag_resource(ResourceArn=arn, TagsToRemove=["owner"])
    assert glue.get_tags(ResourceArn=arn)["Tags"] == {"cost": "42"}
    assert session_id in glue.list_sessions(Tags={"cost": "42"})["Ids"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_tags(ResourceArn="arn:aws:glue:us-east-1:123456789012:session/nope")


# ---------------------------------------------------------------- validation


@pytest.fixture
def raw_glue(endpoint, glue_client):
    """A client that sends whatever it is given: the endpoint alone must catch errors."""
    return glue_client(endpoint, parameter_validation=False, attempts=1)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"WorkerType": "G.3X", "NumberOfWorkers": 2},
            "1 validation error detected: Value 'G.3X' at 'workerType' failed to satisfy "
            "constraint: Member must satisfy enum value set: "
            # the model's own list: a botocore upgrade brings new worker types
            f"[{', '.join(operation('CreateSession').input_shape.members['WorkerType'].enum)}]",
        ),
        (
            {"IdleTimeout": 0},
            "Value '0' at 'idleTimeout' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"GlueVersion": "five"},
            "Value 'five' at 'glueVersion' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            + operation("CreateSession").input_shape.members["GlueVersion"].metadata["pattern"],
        ),
        (
            {"Command": {"Name": "glueetl", "PythonVersion": "4"}},
            "at 'command.pythonVersion' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern",
        ),
        (
            {"Tags": {f"k{i}": "v" for i in range(51)}},
            "at 'tags' failed to satisfy constraint: Member must have length less than or "
            "equal to 50",
        ),
        (
            {"DefaultArguments": {"--bad key": "v"}},
            "at 'defaultArguments.--bad key.key' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern",
        ),
        (
            {"Role": "short"},
            "Value 'short' at 'role' failed to satisfy constraint: "
            "Member must have length greater than or equal to 20",
        ),
        (
            {"Role": None},
            "Value null at 'role' failed to satisfy constraint: Member must not be null",
        ),
        ({"Id": "x" * 256}, "Member must have length less than or equal to 255"),
    ],
)
def test_invalid_create_session_is_a_validation_exception(raw_glue, endpoint, extra, expected):
    request = {"Id": new_id(), "Role": ROLE, "Command": {"Name": "glueetl"}}
    request.update(extra)
    request = {k: v for k, v in request.items() if v is not None}
    before = endpoint.sessions_created
    with pytest.raises(botocore.exceptions.ClientError) as info:
        raw_glue.create_session(**request)
    code, message, status = error_of(info)
    assert (code, status) == ("ValidationException", 400)
    assert expected in message
    assert endpoint.sessions_created == before


def test_several_violations_are_counted_in_one_message(raw_glue):
    with pytest.raises(raw_glue.exceptions.ValidationException) as info:
        raw_glue.create_session(Id="", Role=ROLE, Command={"Name": "glueetl"}, Timeout=0)
    assert error_of(info)[1].startswith("2 validation errors detected: ")


def test_wrong_json_type_is_a_serialization_exception(raw_glue):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        raw_glue.create_session(Id=new_id(), Role=ROLE, Command={"Name": "glueetl"}, Timeout="5")
    code, message, status = error_of(info)
    assert (code, status) == ("SerializationException", 400)
    assert "timeout" in message


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"WorkerType": "G.1X"}, "both WorkerType and NumberOfWorkers"),
        ({"MaxCapacity": 2.0, "WorkerType": "G.1X", "NumberOfWorkers": 2}, "either MaxCapacity"),
        # end of life 2026-04-01, "AWS Glue version support policy" (glue_magics.versions)
        ({"GlueVersion": "1.0"}, "GlueVersion '1.0' reached end of life on 2026-04-01"),
        ({"GlueVersion": "1.5"}, "GlueVersion '1.5' is not supported"),
        ({"Command": {"Name": "pythonshell"}}, "Command.Name 'pythonshell'"),
        ({"WorkerType": "G.1X", "NumberOfWorkers": 0}, "NumberOfWorkers 0"),
    ],
)
def test_inconsistent_capacity_is_invalid_input(glue, extra, fragment):
    request = {"Id": new_id(), "Role": ROLE, "Command": {"Name": "glueetl"}, **extra}
    with pytest.raises(glue.exceptions.InvalidInputException) as info:
        glue.create_session(**request)
    assert fragment in error_of(info)[1]


# ---------------------------------------------------------------- wire protocol


def post(url: str, target: str | None, body: bytes) -> tuple[int, dict]:
    """A POST signed by hand with the suite's credentials (tests/sigv4.py), not by boto3."""
    return sigv4.post(url, target, body)


def test_wire_format_is_aws_json_1_1(endpoint):
    status, body = post(endpoint.url, "AWSGlue.ListSessions", b"{}")
    assert status == 200 and "Ids" in body and "Sessions" in body
    status, body = post(endpoint.url, "AWSGlue.GetSession", b'{"Id": "nope"}')
    assert status == 400 and body["__type"] == "EntityNotFoundException" and body["message"]
    status, body = post(endpoint.url, "AWSGlue.Frobnicate", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = post(endpoint.url, None, b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = post(endpoint.url, "AWSGlue.ListSessions", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_timestamps_are_epoch_seconds_on_the_wire(endpoint, glue):
    session_id = create(glue)
    status, body = post(endpoint.url, "AWSGlue.GetSession", json.dumps({"Id": session_id}).encode())
    assert status == 200
    assert isinstance(body["Session"]["CreatedOn"], float)
    assert 1.5e9 < body["Session"]["CreatedOn"] < 1e10


def test_statement_times_are_epoch_milliseconds_as_glue_sends_them(endpoint, glue):
    session_id = ready(glue)
    statement = run(glue, session_id, "1")
    before = time.time()
    body = {"SessionId": session_id, "Id": statement["Id"]}
    status, answer = post(endpoint.url, "AWSGlue.GetStatement", json.dumps(body).encode())
    assert status == 200
    started, completed = answer["Statement"]["StartedOn"], answer["Statement"]["CompletedOn"]
    assert isinstance(started, int) and isinstance(completed, int)  # the model's ``long``
    assert 1.5e12 < started <= completed <= before * 1000 + 1
    assert (statement["StartedOn"], statement["CompletedOn"]) == (started, completed)  # botocore
    glue.stop_session(Id=session_id)


def test_a_model_operation_not_served_here_is_unknown(glue):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        glue.get_workflow(Name="nightly")  # workflows are not served here
    assert error_of(info)[0] == "UnknownOperationException"


def test_calls_are_counted_per_operation(fresh_endpoint, glue_client):
    ep = fresh_endpoint()
    glue = glue_client(ep)
    session_id = create(glue)
    for _ in range(3):
        glue.get_session(Id=session_id)
    assert ep.calls["CreateSession"] == 1
    assert ep.calls["GetSession"] == 3
    assert ep.sessions_created == 1


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("kind", "exception", "code"),
    [
        ("throttle", botocore.exceptions.ClientError, "ThrottlingException"),
        ("error5xx", botocore.exceptions.ClientError, "InternalServiceException"),
        ("drop", botocore.exceptions.ConnectionClosedError, None),
    ],
)
def test_faults_reach_a_client_without_retries(endpoint, glue_client, kind, exception, code):
    glue = glue_client(endpoint, attempts=1)
    endpoint.faults.set(kind, 1.0, operation="ListSessions")
    with pytest.raises(exception) as info:
        glue.list_sessions()
    if code is not None:
        assert error_of(info)[0] == code
        assert error_of(info)[2] == (500 if kind == "error5xx" else 400)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_session(Id="not-there")


def test_fault_rate_is_honoured_and_seeded(fresh_endpoint, glue_client):
    ep = fresh_endpoint(faults=Faults(seed=7))
    glue = glue_client(ep, attempts=1)
    ep.faults.set("throttle", 0.3)
    outcomes = []
    for _ in range(200):
        try:
            glue.list_sessions()
            outcomes.append(True)
        except glue.exceptions.ThrottlingException:
            outcomes.append(False)
    failures = outcomes.count(False)
    assert 40 <= failures <= 80, failures
    assert ep.calls["ListSessions"] == 200


def test_standard_retries_ride_through_faults_and_create_once(fresh_endpoint, glue_client):
    ep = fresh_endpoint(faults=Faults(seed=3))
    glue = glue_client(ep, attempts=10)
    ep.faults.set("drop", 0.5, operation="CreateSession")
    ep.faults.set("throttle", 0.15, operation="GetSession")
    ep.faults.set("error5xx", 0.15, operation="GetSession")
    session_id = create(glue)
    for _ in range(6):
        assert glue.get_session(Id=session_id)["Session"]["Id"] == session_id
    # Every call succeeded although some attempts failed, and the create took effect once.
    assert ep.sessions_created == 1
    assert ep.calls["CreateSession"] > 1
    assert ep.calls["GetSession"] > 6


def test_fault_specs_parse_like_the_command_line():
    faults = Faults(seed=1)
    faults.parse("throttle=1")
    faults.parse("GetSession:drop=1")
    assert faults.draw("GetSession") == "throttle"  # throttle is drawn first
    faults.set("throttle", 0)
    assert faults.draw("GetSession") == "drop"
    assert faults.draw("ListSessions") is None
    faults.clear()
    assert faults.draw("GetSession") is None
    for bad in ("throttle", "explode=0.1", "throttle=2", "throttle=x", ":drop=0.1"):
        with pytest.raises(ValueError):
            faults.parse(bad)


def test_counted_faults_answer_that_many_calls_then_none():
    faults = Faults(seed=1)
    faults.next("throttle", 2, operation="GetSession")
    faults.next("drop", 1)
    assert faults.draw("ListSessions") == "drop"  # any operation's one
    assert faults.draw("ListSessions") is None
    assert [faults.draw("GetSession") for _ in range(3)] == ["throttle", "throttle", None]
    faults.next("lose", 5, operation="RunStatement")
    faults.clear()
    assert faults.draw("RunStatement") is None
    with pytest.raises(ValueError):
        faults.next("explode", 1)


# ---------------------------------------------------------------- binding and CLI


def test_an_endpoint_leaves_no_thread_when_it_never_serves_or_has_stopped(glue_client):
    import socket
    import threading

    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("glue-local")}

    before = ours()
    LocalEndpoint()  # made, never started
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            LocalEndpoint(port=taken.getsockname()[1]).start()
    assert ours() == before
    with LocalEndpoint(provision_seconds=0) as ep:
        ready(glue_client(ep))
        assert ours() - before
    assert {t for t in ours() - before if t.is_alive()} == set()


def test_non_loopback_host_needs_allow_remote(capsys):
    with pytest.raises(ValueError, match="allow_remote"):
        LocalEndpoint(host="0.0.0.0")
    ep = LocalEndpoint(host="0.0.0.0", allow_remote=True, provision_seconds=0.1)
    with ep:
        assert ep.port > 0
    assert "WARNING" in capsys.readouterr().err


def test_cli_serves_until_sigterm_and_leaves_no_worker():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "glue_magics",
            "local-endpoint",
            "--port",
            "0",
            "--provision-seconds",
            "0.1",
            "--fault",
            "GetTags:throttle=1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Local Glue endpoint at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()
        glue = make_glue(url, attempts=1)
        session_id = ready(glue)
        run(glue, session_id, "import os; pid = os.getpid()")
        pid = int(run(glue, session_id, "pid")["Output"]["Data"]["TextPlain"])
        with pytest.raises(glue.exceptions.ThrottlingException):
            glue.get_tags(ResourceArn=f"arn:aws:glue:us-east-1:123456789012:session/{session_id}")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out
    assert wait_gone([pid]) == []


def test_cli_refuses_a_remote_host_without_the_flag():
    result = subprocess.run(
        [sys.executable, "-m", "glue_magics", "local-endpoint", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_die_with_a_killed_endpoint():
    """Even SIGKILL, which leaves no chance to clean up, takes the workers along."""
    with endpoint_process("--provision-seconds", "0") as (_, url):  # SIGKILLed at its end
        glue = make_glue(url, attempts=1)
        pids = []
        for _ in range(2):
            session_id = ready(glue)
            pids.append(int(text_of(run(glue, session_id, "import os\nos.getpid()"))))
    assert wait_gone(pids) == []


def text_of(statement: dict) -> str:
    return statement["Output"]["Data"]["TextPlain"]


def test_a_lost_answer_to_create_session_meets_its_own_session_on_retry(
    fresh_endpoint, glue_client
):
    ep = fresh_endpoint()
    glue = glue_client(ep, attempts=1)
    ep.faults.set("lose", 1.0, operation="CreateSession")
    request = {"Id": new_id(), "Role": ROLE, "Command": {"Name": "glueetl"}}
    session_id = request["Id"]
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        glue.create_session(**request)
    ep.faults.clear()
    with pytest.raises(glue.exceptions.AlreadyExistsException):  # what a retry meets
        glue.create_session(**request)
    assert ep.calls["CreateSession"] == 2
    assert ep.sessions_created == 1
    assert glue.get_session(Id=session_id)["Session"]["Id"] == session_id


def test_cli_port_in_use_is_one_line():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "glue_magics", "local-endpoint", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


# ---------------------------------------------------------------- adversarial HTTP


def exchange(
    ep: LocalEndpoint, data: bytes | Callable[[str], bytes], *, reset: bool = False
) -> tuple[int, dict] | None:
    """Send raw bytes (or those ``data(host)`` makes) on a fresh connection; the answer's
    status and JSON body, or None when the connection closed without one.  ``reset`` aborts
    (RST) right after sending.  A ``Host: HOST`` header names the endpoint."""
    import socket
    import struct

    host = f"127.0.0.1:{ep.port}"
    data = data(host) if callable(data) else data.replace(b"Host: HOST", f"Host: {host}".encode())
    with socket.create_connection(("127.0.0.1", ep.port), timeout=20) as sock:
        sock.sendall(data)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return None
        received = b""
        while True:
            head, sep, body = received.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                fields = dict(line.split(": ", 1) for line in lines[1:])
                if len(body) >= int(fields["Content-Length"]):
                    assert fields["Content-Type"] == "application/x-amz-json-1.1", fields
                    return int(lines[0].split()[1]), json.loads(body)
            chunk = sock.recv(65536)
            if not chunk:
                assert not received, received
                return None
            received += chunk


def request_bytes(
    headers: dict[str, str], body: bytes = b"", line: str = "POST / HTTP/1.1"
) -> bytes:
    """A request as raw bytes; ``HOST`` in a header stands for the endpoint's host and port."""
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "HOST", **headers}.items())
    return f"{line}\r\n{head}\r\n".encode() + body


def signed_bytes(target: str, body: bytes, length: str | None = None) -> Callable[[str], bytes]:
    """A request signed, when ``exchange`` sends it to a host, with the suite's credentials.
    The signature covers the body, so what fails is the body (or its stated ``length``)."""

    def addressed(host: str) -> bytes:
        headers = sigv4.sign(host, target, body)
        headers["Content-Length"] = str(len(body)) if length is None else length
        return request_bytes(headers, body)

    return addressed


LIST = {"X-Amz-Target": "AWSGlue.ListSessions"}
ADVERSARIAL = [
    (signed_bytes("AWSGlue.ListSessions", b"{}", "abc"), 400, "SerializationException"),
    (signed_bytes("AWSGlue.ListSessions", b"{}", "-5"), 400, "SerializationException"),
    (signed_bytes("AWSGlue.ListSessions", b"", str(2**40)), 413,
     "RequestEntityTooLargeException"),
    (
        request_bytes({**LIST, "Transfer-Encoding": "chunked"}, b"2\r\n{}\r\n0\r\n\r\n"),
        411,
        "LengthRequiredException",
    ),
    (signed_bytes("AWSGlue.ListSessions", b"[" * 100000 + b"]" * 100000), 400,
     "SerializationException"),
    (signed_bytes("AWSGlue.ListSessions", b'{"MaxResults":NaN}'), 400, "SerializationException"),
    (
        signed_bytes(
            "AWSGlue.CreateSession",
            b'{"Id":"x","Role":"arn:aws:iam::1:role/r","Command":{},"MaxCapacity":1e999}',
        ),
        400,
        "SerializationException",
    ),
    (request_bytes({"Content-Length": "0"}, line="PUT / HTTP/1.1"), 400,
     "UnknownOperationException"),
    (request_bytes({}, line="GET / HTTP/1.1"), 400, "UnknownOperationException"),
    (b"GARBAGE\r\n\r\n", 400, "BadRequestException"),
    (request_bytes({"X" * 70000: "y"}), 431, "RequestHeaderFieldsTooLargeException"),
    (request_bytes({**LIST, "Content-Length": "2"}, b"{}"), 400,
     "MissingAuthenticationTokenException"),
]  # fmt: skip


def test_malformed_http_gets_a_json_error_and_no_traceback(fresh_endpoint, capfd):
    ep = fresh_endpoint()
    for data, status, code in ADVERSARIAL:
        answer = exchange(ep, data)
        assert answer is not None, data
        assert (answer[0], answer[1]["__type"]) == (status, code), (data, answer)
        assert answer[1]["message"] and "\n" not in answer[1]["message"]
    # a client that resets mid-body, then one that resets after a whole request
    exchange(ep, signed_bytes("AWSGlue.ListSessions", b"{}", "10"), reset=True)
    exchange(ep, signed_bytes("AWSGlue.ListSessions", b"{}"), reset=True)
    assert exchange(ep, signed_bytes("AWSGlue.ListSessions", b"{}"))[0] == 200
    ep.stop()  # waits for every request thread, so all they printed is in capfd
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err


def test_stop_cuts_kept_alive_connections_and_waits_for_their_threads(fresh_endpoint):
    import threading

    ep = fresh_endpoint()
    glue = make_glue(ep.url)
    for _ in range(3):
        glue.list_sessions()  # one kept-alive connection, its thread waiting for more
    name = f"glue-local-request-{ep.port}"
    assert any(t.name == name for t in threading.enumerate())
    ep.stop()
    assert [t for t in threading.enumerate() if t.name == name] == []
