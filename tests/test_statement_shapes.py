"""What a notebook user sees for every statement shape and state, and for session BUSY.

A real ipykernel with the magics loaded talks to a loopback Glue server that answers
scripted GetSession/GetStatement replies (tests/scripted.py), so the client is tested
against the service's shapes whatever the local endpoint speaks; outputs held in S3 are
in moto's real S3 server.  Each test names the source of the shape it scripts:

- AWS's Glue kernel, aws-glue-sessions 1.0.9, ``glue_kernel_base/BaseKernel.py``
  (``display_result``, ``_construct_reply_content``) and
  ``glue_kernel_utils/GlueSessionsConstants.py``;
- Apache Livy ``repl/src/main/resources/fake_shell.py``;
- the Glue service model AWS's kernel ships (``glue_pyspark/glue/2017-03-31/service-2.json``,
  SessionStatus BUSY).
"""

from __future__ import annotations

import json

import pytest
from helpers import make_s3

from tests.kernels import Kernel, kernel_env
from tests.test_statement_output import PNG, TRACEBACK

BUCKET = "glue-magics-kernel-shapes"
SESSION = "shapes-1"


@pytest.fixture(scope="module")
def s3(recording_s3):
    return make_s3(recording_s3.url, BUCKET)


def put(s3, key: str, body: str) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    return f"s3://{BUCKET}/{key}"


@pytest.fixture(scope="module")
def kernel(scripted_server, recording_s3, s3):
    """A kernel whose session SESSION is READY on the scripted server."""
    k = Kernel(kernel_env(scripted_server.url, AWS_ENDPOINT_URL_S3=recording_s3.url))
    scripted_server.session(SESSION)
    try:
        k.ok(f"%load_ext glue_magics\n%glue_session --id {SESSION}")
        yield k
    finally:
        k.shutdown()


def run(kernel, scripted, state: str, output: dict | None):
    """Run a cell whose statement ends in ``state`` with ``output``."""
    scripted.statement(state, output)
    return kernel.execute("%%glue\nanything")


def no_traceback_of_ours(reply) -> None:
    assert "Traceback (most recent call last)" not in reply.stderr + reply.stdout
    assert not any("glue_magics" in line for line in reply.traceback)


# ------------------------------------------------------------------ shapes of Output.Data


def test_text_shape(kernel, scripted):
    """Livy fake_shell.py / AWS's display_result: {TextPlain} alone is stdout."""
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": {"TextPlain": "hi\n42"}})
    assert reply.status == "ok"
    assert reply.stdout == "hi\n42\n" and reply.stderr == ""
    assert not reply.of_type("display_data")


def test_rich_base64_image_with_streams(kernel, scripted):
    """AWS's display_result: MimeType image/png;base64 (';base64' stripped), StdOut, StdErr."""
    data = {"MimeType": "image/png;base64", "Result": PNG, "StdOut": "plotted\n", "StdErr": "w\n"}
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": data})
    assert reply.status == "ok"
    assert reply.stdout == "plotted\n" and reply.stderr == "w\n"
    bundles = [m["content"]["data"] for m in reply.of_type("display_data")]
    assert bundles == [{"image/png": PNG, "text/plain": "[image/png, 0.1 kB]"}]


def test_rich_html_and_json(kernel, scripted):
    """The rich shape with a text MIME type (plain, Result is the text); Livy %json."""
    html = {"MimeType": "text/html", "Result": "<b>é</b>", "StdOut": "", "StdErr": ""}
    assert run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": html}).data("text/html") == [
        "<b>é</b>"
    ]
    data = {"MimeType": "application/json", "Result": '{"a": [1, 2]}', "StdOut": "", "StdErr": ""}
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": data})
    assert reply.data("application/json") == [{"a": [1, 2]}]


def test_livy_table_renders_as_a_table(kernel, scripted):
    """Livy fake_shell.py %table: application/vnd.livy.table.v1+json, headers and data."""
    headers = [{"name": "id", "type": "INT_TYPE"}, {"name": "name", "type": "STRING_TYPE"}]
    table = {"headers": headers, "data": [[1, "ada"], [2, "grace"]]}
    data = {"MimeType": "application/vnd.livy.table.v1+json", "Result": json.dumps(table),
            "StdOut": "", "StdErr": ""}  # fmt: skip
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": data})
    assert reply.status == "ok"
    [html] = reply.data("text/html")
    assert "<th" in html and ">grace</td>" in html
    [text] = reply.data("text/plain")
    assert text.splitlines()[0].split() == ["id", "name"]
    assert text.splitlines()[3].split() == ["2", "grace"]


def test_s3_held_output_is_fetched_with_the_sessions_client(kernel, scripted, s3, recording_s3):
    """AWS's display_result: MimeType text/uri-list; Result an s3:// JSON {mime: content},
    StdOut and StdErr s3:// texts (AWS's kernel fetches them with KernelGateway.get_results)."""
    data = {
        "MimeType": "text/uri-list",
        "Result": put(s3, "k1/result.json", json.dumps({"image/png": PNG})),
        "StdOut": put(s3, "k1/stdout.txt", "from s3 ✓\n"),
        "StdErr": put(s3, "k1/stderr.txt", "warned in s3\n"),
    }
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": data})
    assert reply.status == "ok"
    assert reply.stdout == "from s3 ✓\n" and reply.stderr == "warned in s3\n"
    assert reply.data("image/png") == [PNG]
    assert {path for path, _ in recording_s3.gets(BUCKET)} >= {f"/{BUCKET}/k1/result.json"}


def test_s3_held_empty_object_means_streams_only(kernel, scripted, s3):
    """AWS's display_result: a Result of {} is "the output is only on the streams"."""
    data = {"MimeType": "text/uri-list", "Result": put(s3, "k2/result.json", "{}"),
            "StdOut": put(s3, "k2/stdout.txt", "only this\n"), "StdErr": ""}  # fmt: skip
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": data})
    assert (reply.status, reply.stdout, reply.stderr) == ("ok", "only this\n", "")
    assert not reply.of_type("display_data")


def test_s3_held_output_that_is_gone_is_one_line_and_the_rest_shows(kernel, scripted, s3):
    data = {"MimeType": "text/uri-list", "Result": f"s3://{BUCKET}/k3/gone.json",
            "StdOut": put(s3, "k3/stdout.txt", "still here\n")}  # fmt: skip
    reply = run(kernel, scripted, "AVAILABLE", {"Status": "ok", "Data": data})
    assert reply.status == "ok" and reply.stdout == "still here\n"
    assert "k3/gone.json does not exist" in reply.stderr and reply.stderr.count("\n") == 1


# ------------------------------------------------------------------ statement states


def test_completed_without_status_is_success(kernel, scripted):
    """AWS's _construct_reply_content: COMPLETED is ok even without Output.Status."""
    reply = run(kernel, scripted, "COMPLETED", {"Data": {"TextPlain": "done"}})
    assert reply.status == "ok" and reply.stdout == "done\n"


def test_remote_exception_prints_what_came_before_then_fails(kernel, scripted):
    """Livy/AWS: a Python exception is AVAILABLE + Status error with ErrorName, ErrorValue,
    Traceback; what was printed before it comes as Data.TextPlain."""
    output = {"Status": "error", "ErrorName": "ZeroDivisionError", "ErrorValue": "division by zero",
              "Traceback": TRACEBACK, "Data": {"TextPlain": "before"}}  # fmt: skip
    reply = run(kernel, scripted, "AVAILABLE", output)
    assert (reply.status, reply.ename, reply.evalue) == (
        "error",
        "ZeroDivisionError",
        "division by zero",
    )
    assert reply.stdout == "before\n"
    assert [line.rstrip("\n") for line in TRACEBACK] == reply.traceback


def test_failed_shows_streams_and_reason_and_fails(kernel, scripted, s3):
    """AWS's _construct_reply_content FAILED: StdOut to stdout, the reason (Result) and
    StdErr to stderr, each fetched when an s3:// URI."""
    output = {"Data": {"StdOut": put(s3, "k4/stdout.txt", "partial\n"),
                       "Result": "Job aborted: stage 3 lost\nmore detail",
                       "StdErr": put(s3, "k4/stderr.txt", "executor lost\n")}}  # fmt: skip
    reply = run(kernel, scripted, "FAILED", output)
    assert (reply.status, reply.ename, reply.evalue) == (
        "error",
        "StatementFailed",
        "Job aborted: stage 3 lost",
    )
    assert reply.stdout == "partial\n"
    assert reply.stderr == "Job aborted: stage 3 lost\nmore detail\nexecutor lost\n"
    no_traceback_of_ours(reply)


def test_failed_with_the_remote_error(kernel, scripted):
    reason = "ZeroDivisionError: division by zero\n" + "".join(TRACEBACK)
    output = {"Status": "error", "ErrorName": "ZeroDivisionError", "ErrorValue": "division by zero",
              "Traceback": TRACEBACK,
              "Data": {"StdOut": "", "Result": reason, "StdErr": ""}}  # fmt: skip
    reply = run(kernel, scripted, "FAILED", output)
    assert (reply.status, reply.ename) == ("error", "ZeroDivisionError")
    assert reply.stderr == ""  # the reason is the traceback: shown once, as the error
    assert reply.traceback[-1] == "ZeroDivisionError: division by zero"


def test_error_state_with_and_without_the_remote_error(kernel, scripted):
    """State ERROR: the statement could not run at all."""
    output = {"Status": "error", "ErrorName": "WorkerDied", "ErrorValue": "exit 137",
              "Traceback": []}  # fmt: skip
    reply = run(kernel, scripted, "ERROR", output)
    assert (reply.status, reply.ename, reply.evalue) == ("error", "WorkerDied", "exit 137")
    bare = run(kernel, scripted, "ERROR", None)
    assert bare.status == "error"
    assert "could not be run (State ERROR)" in bare.stderr and "%glue_status" in bare.stderr
    assert len(bare.stderr.strip().splitlines()) == 1
    no_traceback_of_ours(bare)


def test_cancelled_elsewhere_fails_the_cell_in_one_line(kernel, scripted):
    reply = run(kernel, scripted, "CANCELLED", None)
    assert reply.status == "error" and "was cancelled" in reply.stderr
    assert len(reply.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ session BUSY


def test_busy_is_a_live_session_for_reconnect_status_and_code(kernel, scripted):
    """SessionStatus BUSY (the service model AWS's kernel ships): a READY session running a
    statement.  Reconnecting ends ready and green; %glue_status says live; code runs."""
    scripted.session("busy-1", "BUSY")
    reply = kernel.ok("%glue_reconnect busy-1")
    styles = reply.widget_state("bar_style")
    assert "danger" not in styles and styles[-1] == "success"
    assert "READY in" in reply.stdout and "BUSY" in reply.stdout
    status = kernel.ok("%glue_status")
    assert "BUSY (live: running a statement)" in "".join(status.data("text/plain"))
    scripted.statement("AVAILABLE", {"Status": "ok", "Data": {"TextPlain": "ran"}})
    assert kernel.ok("%%glue\nx").stdout == "ran\n"
    scripted.session(SESSION)
    kernel.ok(f"%glue_reconnect {SESSION}")


def test_code_waits_for_a_new_session_and_runs_when_it_is_busy(kernel, scripted):
    scripted.session("busy-2", "BUSY")
    kernel.ok("%glue_session --force --no-wait --id busy-2")
    scripted.statement("AVAILABLE", {"Status": "ok", "Data": {"TextPlain": "ran in busy-2"}})
    reply = kernel.ok("%%glue\nx")
    assert "ran in busy-2" in reply.stdout
    assert [b["SessionId"] for op, b, _ in scripted.requests if op == "RunStatement"][-1] == (
        "busy-2"
    )
    scripted.session(SESSION)
    kernel.ok(f"%glue_session --force --id {SESSION}")


# ------------------------------------------------------------------ a session's own region


def test_a_sessions_results_come_from_its_own_region(scripted_server, recording_s3, s3):
    """Issue 8 item 7: after %config GlueMagics.region and a call with the new settings,
    the first session's statements and S3 results still go to its own region."""
    k = Kernel(kernel_env(scripted_server.url, AWS_ENDPOINT_URL_S3=recording_s3.url))
    try:
        scripted_server.session("regional-1")
        k.ok("%load_ext glue_magics\n%glue_session --region us-west-2 --id regional-1")
        k.ok("%config GlueMagics.region = 'eu-west-1'")
        scripted_server.reply("ListSessions", {"Ids": [], "Sessions": []})
        k.ok("%glue_sessions")
        assert scripted_server.regions("ListSessions")[-1] == "eu-west-1"  # settings changed
        data = {"MimeType": "text/uri-list",
                "Result": put(s3, "regional/result.json", json.dumps({"text/html": "<i>r</i>"})),
                "StdOut": put(s3, "regional/stdout.txt", "regional out\n")}  # fmt: skip
        scripted_server.statement("AVAILABLE", {"Status": "ok", "Data": data})
        reply = k.ok("%%glue\nx")
        assert reply.stdout == "regional out\n" and reply.data("text/html") == ["<i>r</i>"]
        assert scripted_server.regions("RunStatement")[-1] == "us-west-2"
        gets = [r for p, r in recording_s3.gets(BUCKET) if p.startswith(f"/{BUCKET}/regional/")]
        assert gets and set(gets) == {"us-west-2"}, gets
    finally:
        k.shutdown()
