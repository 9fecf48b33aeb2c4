"""Our client against replies of the real Glue service, replayed (tests/replies/, tests/replay.py).

Two kinds of checks:

- every scenario file parses with botocore against our model (glue_magics.model, with the
  sdk-extras): nothing the service sends is dropped or misread, and its states are ones the
  model knows;
- our magics in a real kernel show each reply as a notebook user expects, by the client rules
  of issue 8 (/work/spec-issue8.md): text, rich display data, S3-held results, Python errors as
  error replies with the remote ename and traceback, COMPLETED/FAILED/ERROR statements, BUSY
  sessions as live.

Each scenario's ``source`` says where its replies come from and how strong that is: recorded
(quoted from a real reply), reconstructed (from a recorded notebook output through the code
path of the kernel that printed it), or derived (from AWS's kernel's and Livy's code paths).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

import pytest
from helpers import ROLE, make_glue, make_s3

from tests.kernels import Kernel, Reply, kernel_env
from tests.replay import Replay, load, output_shape, scenario_paths, to_wire

SCENARIOS = [path.stem for path in scenario_paths()]
SESSION = "session_ray_provisioning_ready"
#: The recorded session id (aws-sdk-pandas tutorial 036): the replay answers any id.
SESSION_ID = "32566e82-34d2-4db7-adac-cbee573e20bf"
#: A replayed statement is final at the first GetStatement: a cell that has not ended after
#: this long is a client polling a final state forever (a hang guard, not a timing check).
HANG = 20.0
EVIDENCE = ("recorded", "reconstructed", "derived")


def _replies(name: str) -> list[tuple[str, dict[str, Any]]]:
    """(operation, body) of every non-error answer in a scenario."""
    replies = load(name)["replies"]
    return [
        (op, body) for op, bodies in replies.items() for body in bodies if "__error__" not in body
    ]


def _unknown_members(value: Any, shape: Any, path: str = "") -> list[str]:
    """Keys of ``value`` that botocore's ``shape`` has no member for (it would drop them)."""
    if shape is None:
        return []
    kind = shape.type_name
    found: list[str] = []
    if kind == "structure" and isinstance(value, dict):
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                found.append(f"{path}.{key}")
            else:
                found += _unknown_members(item, member, f"{path}.{key}")
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            found += _unknown_members(item, shape.member, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            found += _unknown_members(item, shape.value, f"{path}[{key}]")
    return found


def _plain(value: Any) -> Any:
    """A parsed botocore answer with datetimes as epoch seconds, to compare with the wire."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _s3_uris(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("s3://") else []
    if isinstance(value, dict):
        return [uri for v in value.values() for uri in _s3_uris(v)]
    if isinstance(value, list):
        return [uri for v in value for uri in _s3_uris(v)]
    return []


def _states(operation: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(enum shape name, value) of every session Status and statement State in an answer."""
    sessions = [body["Session"]] if "Session" in body else body.get("Sessions", [])
    statements = [body["Statement"]] if "Statement" in body else body.get("Statements", [])
    found = [("SessionStatus", s["Status"]) for s in sessions if "Status" in s]
    found += [("StatementState", s["State"]) for s in statements if "State" in s]
    return found


# --------------------------------------------------------------------------- the files


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_names_its_source(name):
    scenario = load(name)
    assert len(scenario.get("source", "")) > 40, "say where the replies come from"
    assert scenario.get("evidence") in EVIDENCE
    assert scenario.get("adapted"), "say what was changed or made up"
    assert scenario.get("replies")
    if scenario["evidence"] != "recorded":
        said = scenario["source"] + scenario["adapted"]
        assert re.search(r"derived|reconstructed|not recorded", said, re.I)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_answer_parses_with_our_model(name):
    """botocore reads every answer against our model (with the sdk-extras) exactly as sent:
    no member dropped, nothing reshaped, timestamps read as the instants written."""
    import botocore.parsers

    parser = botocore.parsers.create_parser("json")
    for operation, body in _replies(name):
        shape = output_shape(operation)
        assert _unknown_members(body, shape) == [], f"{operation}: not in our model"
        wire = to_wire(body, shape)
        parsed = parser.parse(
            {"body": json.dumps(wire).encode(), "headers": {}, "status_code": 200}, shape
        )
        parsed.pop("ResponseMetadata", None)
        assert "Error" not in parsed
        assert _plain(parsed) == wire


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_state_is_one_our_model_knows(name):
    """Session statuses and statement states are in our model's enums (botocore does not
    check enums on answers, so this is the only place a state the model lacks shows up)."""
    from glue_magics import model

    service = model.service_model()
    for operation, body in _replies(name):
        for enum, value in _states(operation, body):
            assert value in service.shape_for(enum).enum, f"{operation}: {enum} {value}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_s3_uri_has_its_object(name):
    scenario = load(name)
    objects = scenario.get("s3_objects", {})
    uris = [uri for _, body in _replies(name) for uri in _s3_uris(body)]
    assert sorted(set(uris)) == sorted(objects)
    for _, body in _replies(name):
        output = body.get("Statement", {}).get("Output", {})
        if "Status" in output:  # Livy's reply status, not a statement state
            assert output["Status"] in ("ok", "error")


def test_the_replay_answers_in_order_and_converts_timestamps(replay):
    """PROVISIONING then READY as recorded, the client's own id, CreatedOn as the instant in
    the file; a real boto3 client through the lifecycle layer."""
    from glue_magics import lifecycle

    replay.use(SESSION)
    glue = make_glue(replay.url)
    session = lifecycle.wait_ready(glue, "mine-1", timeout=30)
    assert session["Id"] == "mine-1" and session["Status"] == "READY"
    assert session["CreatedOn"] == dt.datetime(2023, 11, 1, 12, tzinfo=dt.timezone.utc)
    assert [op for op, _ in replay.requests] == ["GetSession", "GetSession"]


# --------------------------------------------------------------------------- in a kernel


@pytest.fixture(scope="module")
def server():
    with Replay() as replay:
        yield replay


@pytest.fixture(scope="module")
def s3(moto_server):
    buckets = {uri.split("/")[2] for name in SCENARIOS for uri in load(name).get("s3_objects", {})}
    for bucket in buckets:
        make_s3(moto_server, bucket)
    return make_s3(moto_server)


@pytest.fixture(scope="module")
def kernel(server, moto_server):
    k = Kernel(kernel_env(server.url, AWS_ENDPOINT_URL_S3=moto_server))
    k.ok(
        "%load_ext glue_magics\n"
        "%config GlueMagics.progress = 'none'\n"
        "%config GlueMagics.wait_timeout = 10.0\n"
    )
    yield k
    k.shutdown()


def run(kernel: Kernel, code: str) -> Reply:
    """Run a cell; one still running after HANG seconds is interrupted and fails the test."""
    try:
        return kernel.execute(code, timeout=HANG)
    except TimeoutError:
        kernel.interrupt()
        kernel.kc.get_shell_msg(timeout=60)  # the interrupted cell's reply: the kernel is free
        pytest.fail(f"{code!r} still ran after {HANG:g} s: the client kept polling a final answer")


def attach(kernel: Kernel, server: Replay, s3: Any, *names: str, session: str = SESSION) -> None:
    """Replay ``session`` and ``names``, put their S3 objects in moto, attach the kernel."""
    scenario = server.use(session, *names)
    for uri, content in scenario["s3_objects"].items():
        bucket, key = uri[len("s3://") :].split("/", 1)
        s3.put_object(Bucket=bucket, Key=key, Body=content.encode("utf-8"))
    reply = run(kernel, f"%glue_reconnect {SESSION_ID}")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stdout, reply.stderr)


def shown(reply: Reply) -> str:
    """Everything a user reads: the streams and the text/plain of displayed data."""
    texts = [reply.stdout, reply.stderr]
    texts += [str(text) for text in reply.data("text/plain")]
    return "\n".join(texts)


def assert_no_local_traceback(reply: Reply) -> None:
    assert "glue_magics" not in "".join(reply.traceback) + reply.stderr


def test_a_session_comes_up_as_recorded(kernel, server):
    server.use(SESSION)
    reply = run(kernel, "%glue_session")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert server.calls("CreateSession") == 1 and server.calls("GetSession") >= 2
    status = shown(run(kernel, "%glue_status"))
    for fact in ("READY", "glueray", "Z.2X", "4.0", "2023-11-01"):
        assert fact in status


def test_text_output_recorded_by_aws(kernel, server, s3):
    """SageMaker Unified Studio's quote of 1+1: Data {TextPlain: "2"} is the cell's stdout."""
    attach(kernel, server, s3, "statement_text_1plus1")
    reply = run(kernel, "%%glue\n1+1")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert reply.stdout == "2\n" and reply.stderr == ""
    assert reply.of_type("display_data") == []
    # the last RunStatement: GetStatements may follow it more than once (polls overlap)
    operation, request = next(r for r in reversed(server.requests) if r[0] != "GetStatement")
    assert operation == "RunStatement" and request["SessionId"] == SESSION_ID
    assert request["Code"].strip() == "1+1"


def test_a_dataframe_comes_back_as_text(kernel, server, s3):
    """aws-sdk-pandas tutorial 036: a pandas DataFrame's repr as TextPlain, shown as it was."""
    attach(kernel, server, s3, "statement_text_pandas_head")
    expected = load("statement_text_pandas_head")["replies"]["GetStatement"][0]
    text = expected["Statement"]["Output"]["Data"]["TextPlain"]
    reply = run(kernel, "%%glue\ndf.head()")
    assert reply.status == "ok"
    assert reply.stdout == text + "\n"


def test_a_silent_statement_shows_nothing(kernel, server, s3):
    """Data {TextPlain: ""}: no output at all (AWS's kernel prints an empty line)."""
    attach(kernel, server, s3, "statement_silent")
    reply = run(kernel, "%%glue\nx = 1")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert reply.stdout == "" and reply.stderr == "" and reply.of_type("display_data") == []


def test_a_python_exception_is_an_error_reply_with_the_remote_traceback(kernel, server, s3):
    attach(kernel, server, s3, "statement_error_zerodivision")
    reply = run(kernel, "%%glue\n1/0")
    assert reply.status == "error"
    assert reply.ename == "ZeroDivisionError" and reply.evalue == "division by zero"
    assert reply.traceback[0].startswith("Traceback")
    assert "ZeroDivisionError: division by zero" in reply.traceback[-1]
    assert_no_local_traceback(reply)


def test_a_rich_png_is_display_data(kernel, server, s3):
    """MimeType image/png;base64: the Result is base64, displayed as image/png (the
    parameter stripped); StdOut printed before it."""
    attach(kernel, server, s3, "statement_rich_png")
    png = load("statement_rich_png")["replies"]["GetStatement"][0]["Statement"]["Output"]
    reply = run(kernel, "%%glue\nprint('a red square')\n%matplot plt")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert reply.data("image/png") == [png["Data"]["Result"]]
    assert reply.stdout == "a red square\n"
    assert png["Data"]["Result"] not in shown(reply)  # never base64 as text


def test_an_s3_held_png_is_fetched_and_displayed(kernel, server, s3):
    """MimeType text/uri-list: Result, StdOut and StdErr are S3 objects (moto); Result is a
    JSON object {mime: content}."""
    attach(kernel, server, s3, "statement_s3_png")
    reply = run(kernel, "%%glue\nprint('a red square')\n%matplot plt")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    objects = load("statement_s3_png")["s3_objects"]
    result = json.loads(next(v for k, v in objects.items() if k.endswith("result.json")))
    assert reply.data("image/png") == [result["image/png"]]
    assert reply.stdout == "a red square\n"
    assert "s3://" not in shown(reply)


def test_an_s3_held_empty_result_means_streams_only(kernel, server, s3):
    attach(kernel, server, s3, "statement_s3_streams_only")
    reply = run(kernel, "%%glue\nfor i in range(3): print('line', i)")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert reply.stdout == "line 0\nline 1\nline 2\n"
    assert reply.stderr == "careful\n"
    assert reply.of_type("display_data") == [] and "s3://" not in shown(reply)


def test_an_s3_held_text_result_is_shown_as_text(kernel, server, s3):
    attach(kernel, server, s3, "statement_s3_text")
    reply = run(kernel, "%%glue\n'x' * 40")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert "'" + "x" * 40 + "'" in shown(reply)
    assert "s3://" not in shown(reply) and "text/plain" not in shown(reply)


def test_a_completed_statement_is_a_success(kernel, server, s3):
    attach(kernel, server, s3, "statement_completed")
    reply = run(kernel, "%%glue\n1+1")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert reply.stdout == "2\n"


def test_a_failed_statement_shows_its_streams_and_reason_and_fails(kernel, server, s3):
    """FAILED: StdOut to stdout, the reason (Result) and StdErr to stderr, all fetched from
    S3; no ErrorName, so ename StatementFailed and the reason's first line."""
    attach(kernel, server, s3, "statement_failed_s3")
    reply = run(kernel, "%%glue\nprint('before the failure')\n1/0")
    assert reply.status == "error"
    assert reply.ename == "StatementFailed"
    assert reply.evalue == "ZeroDivisionError: division by zero"
    assert "before the failure" in reply.stdout
    assert "ZeroDivisionError: division by zero" in reply.stderr
    assert "a warning on stderr" in reply.stderr
    assert "s3://" not in shown(reply)
    assert_no_local_traceback(reply)


def test_an_error_statement_fails_with_its_error(kernel, server, s3):
    attach(kernel, server, s3, "statement_error_state")
    reply = run(kernel, "%%glue\nprint('never runs')")
    assert reply.status == "error"
    assert reply.ename == "InternalError"
    assert reply.evalue == 'Malformed message: content object missing "code"'
    assert_no_local_traceback(reply)


def test_a_busy_session_is_live_to_reconnect(kernel, server):
    server.use("session_busy")
    reply = run(kernel, f"%glue_reconnect {SESSION_ID}")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert server.calls("GetSession") == 1  # BUSY is an answer, not a reason to keep waiting


def test_a_busy_session_runs_statements_and_shows_its_status(kernel, server, s3):
    server.use("session_busy", "statement_text_1plus1")
    run(kernel, f"%glue_reconnect {SESSION_ID}")  # today: waits wait_timeout, then fails
    status = shown(run(kernel, "%glue_status"))
    assert "BUSY" in status and "Error" not in status
    reply = run(kernel, "%%glue\n1+1")
    assert reply.status == "ok", (reply.ename, reply.evalue, reply.stderr)
    assert reply.stdout == "2\n"


def test_listed_sessions_show_as_recorded(kernel, server):
    server.use("list_sessions")
    listing = shown(run(kernel, "%glue_sessions"))
    assert SESSION_ID in listing and "READY" in listing and "2023-11-01" in listing


# --------------------------------------------------------------------------- the local endpoint


@pytest.fixture
def local_session(glue):
    """A READY session on the suite's local endpoint: (client, session id)."""
    import uuid

    from glue_magics import lifecycle

    session_id = f"replayed-{uuid.uuid4().hex[:8]}"
    request = {"Id": session_id, "Role": ROLE, "Command": {"Name": "glueetl"}}
    lifecycle.create_session(glue, request)
    lifecycle.wait_ready(glue, session_id, timeout=60)
    yield glue, session_id
    glue.stop_session(Id=session_id)


def _local(local_session, code: str) -> dict[str, Any]:
    from glue_magics import lifecycle

    glue, session_id = local_session
    return lifecycle.run_statement(glue, session_id, code)


def test_the_local_session_has_every_key_of_the_recorded_one(local_session):
    glue, session_id = local_session
    recorded = load(SESSION)["replies"]["GetSession"][-1]["Session"]
    local = glue.get_session(Id=session_id)["Session"]
    assert sorted(set(recorded) - set(local)) == []
    assert local["Status"] == recorded["Status"] == "READY"


def test_the_local_endpoint_answers_1plus1_as_recorded(local_session):
    """SageMaker Unified Studio's quote: Output {Data: {TextPlain: "2"}, Status: ok}."""
    recorded = load("statement_text_1plus1")["replies"]["GetStatement"][0]["Statement"]
    statement = _local(local_session, recorded["Code"])
    assert statement["State"] == recorded["State"]
    assert statement["Output"]["Data"] == recorded["Output"]["Data"]
    assert statement["Output"]["Status"] == recorded["Output"]["Status"]


def test_the_local_endpoint_answers_a_silent_statement_as_livy_does(local_session):
    recorded = load("statement_silent")["replies"]["GetStatement"][0]["Statement"]
    statement = _local(local_session, recorded["Code"])
    assert statement["State"] == recorded["State"]
    assert statement["Output"]["Data"] == recorded["Output"]["Data"]


def test_the_local_endpoint_answers_an_exception_as_livy_does(local_session):
    recorded = load("statement_error_zerodivision")["replies"]["GetStatement"][0]["Statement"]
    statement = _local(local_session, recorded["Code"])
    output, expected = statement["Output"], recorded["Output"]
    assert statement["State"] == recorded["State"] == "AVAILABLE"
    for key in ("Status", "ErrorName", "ErrorValue"):
        assert output[key] == expected[key]
    assert output["Traceback"][0] == expected["Traceback"][0]
    assert output["Traceback"][-1] == expected["Traceback"][-1]
    assert "Data" not in output  # nothing was printed: Livy's error reply has no data


def test_the_local_endpoint_draws_matplot_in_the_rich_shape(local_session):
    pytest.importorskip("matplotlib")
    recorded = load("statement_rich_png")["replies"]["GetStatement"][0]["Statement"]
    setup = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
    assert _local(local_session, setup + "plt.plot([1, 2])")["State"] == "AVAILABLE"
    statement = _local(local_session, recorded["Code"])
    data, expected = statement["Output"].get("Data", {}), recorded["Output"]["Data"]
    assert statement["State"] == "AVAILABLE" and statement["Output"]["Status"] == "ok"
    assert sorted(data) == sorted(expected)
    assert data["MimeType"] == expected["MimeType"] and data["StdOut"] == expected["StdOut"]
    assert base64.b64decode(data["Result"]).startswith(b"\x89PNG")


def test_the_local_endpoint_answers_a_dataframe_as_text(local_session):
    """aws-sdk-pandas tutorial 036: the service sent a pandas DataFrame (which has an HTML
    repr) back as TextPlain, its repr, not as text/html; Livy's fake_shell.py never asks a
    value for a rich repr either."""
    pd = pytest.importorskip("pandas")
    columns = {"vendor_id": ["1", "2"], "total": [15.3, 7.25]}
    setup = f"import pandas as pd\ndf = pd.DataFrame({columns!r})"
    assert _local(local_session, setup)["State"] == "AVAILABLE"
    statement = _local(local_session, "df.head()")
    expected = repr(pd.DataFrame(columns).head())
    assert statement["Output"]["Status"] == "ok"
    assert statement["Output"]["Data"] == {"TextPlain": expected}
