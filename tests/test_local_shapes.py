"""The local endpoint answers statements and sessions in the real service's shapes.

Sources, named per test: AWS's own Glue kernel (aws-glue-sessions 1.0.9,
``glue_kernel_base/BaseKernel.py`` ``display_result`` and ``_construct_reply_content``;
``glue_kernel_utils/GlueSessionsConstants.py``) and Apache Livy's
``repl/src/main/resources/fake_shell.py`` (Glue sessions are Livy sessions).
"""

from __future__ import annotations

import pytest
from helpers import make_glue, ready, run, wait_statement, wait_status

ZERO = "def f():\n    return 1 / 0\nf()"


@pytest.fixture
def session_id(glue):
    session = ready(glue)
    yield session
    glue.stop_session(Id=session)


# ------------------------------------------------------------------ success: text and rich


def test_text_only_is_text_plain_alone(glue, session_id):
    # Livy fake_shell.py execute_request: result {"text/plain": (stdout + stderr).rstrip()};
    # AWS's display_result sends TextPlain only when it is the one key of Data.
    code = "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7\n"
    statement = run(glue, session_id, code)
    assert statement["State"] == "AVAILABLE"
    assert statement["Output"] == {
        "Data": {"TextPlain": "out\n42\nerr"},
        "ExecutionCount": statement["Output"]["ExecutionCount"],
        "Status": "ok",
    }
    assert run(glue, session_id, "x = 1")["Output"]["Data"] == {"TextPlain": ""}


def test_rich_is_mime_type_result_and_the_streams(glue, session_id):
    # AWS's display_result, the 'MimeType' branch: StdOut and StdErr sent as streams, then
    # {MimeType: Result} published; no TextPlain beside them.  Rich results come from the
    # statement magics (here Livy's %json, a text MIME type: Result is the text); a binary
    # one (%matplot's image/png) carries ";base64" (tests/test_local_magics.py).
    code = "import sys\nh = {'hi': 1}\nprint('o')\nprint('e', file=sys.stderr)\n%json h"
    data = run(glue, session_id, code)["Output"]["Data"]
    assert data == {
        "MimeType": "application/json",
        "Result": '{"hi": 1}',
        "StdOut": "o\n",
        "StdErr": "e\n",
    }


# ------------------------------------------------------------------ errors


def test_an_exception_is_available_with_status_error(glue, session_id):
    # Livy fake_shell.py execute_reply_error: status "error", ename, evalue, traceback, no
    # data; AWS's _construct_reply_content: AVAILABLE + Status "error" -> an error reply.
    statement = run(glue, session_id, ZERO)
    assert statement["State"] == "AVAILABLE"
    output = statement["Output"]
    assert set(output) == {"ExecutionCount", "Status", "ErrorName", "ErrorValue", "Traceback"}
    assert (output["Status"], output["ErrorName"], output["ErrorValue"]) == (
        "error",
        "ZeroDivisionError",
        "division by zero",
    )
    assert output["Traceback"][0] == "Traceback (most recent call last):\n"
    assert output["Traceback"][-1] == "ZeroDivisionError: division by zero\n"


def test_what_was_printed_before_an_exception_is_kept(glue, session_id):
    code = "import sys\nprint('step 1')\nprint('careful', file=sys.stderr)\n" + ZERO
    output = run(glue, session_id, code)["Output"]
    assert output["Status"] == "error"
    assert output["Data"] == {"TextPlain": "step 1\ncareful"}


def test_error_state_only_when_the_statement_could_not_run(glue):
    session_id = ready(glue)
    statement = run(glue, session_id, "import os\nos._exit(7)")
    assert statement["State"] == "ERROR"
    output = statement["Output"]
    assert set(output) == {"Status", "ErrorName", "ErrorValue", "Traceback"}
    assert output["Status"] == "error"
    assert output["Traceback"] == [f"{output['ErrorName']}: {output['ErrorValue']}\n"]
    wait_status(glue, session_id, "FAILED")


# ------------------------------------------------------------------ statement_states="completed"


@pytest.fixture
def completed(fresh_endpoint, glue_client):
    """(glue, READY session) of an endpoint answering COMPLETED / FAILED."""
    ep = fresh_endpoint(statement_states="completed")
    glue = glue_client(ep)
    return glue, ready(glue)


def test_completed_is_success_with_the_same_output(completed):
    # AWS's _construct_reply_content: COMPLETED (with or without Status "ok") is success.
    glue, session_id = completed
    statement = run(glue, session_id, "print('hi')\n2 + 2")
    assert statement["State"] == "COMPLETED"
    assert statement["Output"]["Data"] == {"TextPlain": "hi\n4"}
    assert statement["Output"]["Status"] == "ok"


def test_failed_carries_the_streams_and_the_reason_inline(completed):
    # AWS's _construct_reply_content, FAILED: StdOut to stdout, Result (the reason) and
    # StdErr to stderr; without a results bucket each is the text itself.
    glue, session_id = completed
    code = "import sys\nprint('before')\nprint('warn', file=sys.stderr)\n" + ZERO
    statement = run(glue, session_id, code)
    assert statement["State"] == "FAILED"
    output = statement["Output"]
    assert set(output) == {"Status", "ErrorName", "ErrorValue", "Traceback", "Data"}
    assert (output["Status"], output["ErrorName"], output["ErrorValue"]) == (
        "error",
        "ZeroDivisionError",
        "division by zero",
    )
    reason = output["Data"]["Result"]
    assert reason == "ZeroDivisionError: division by zero\n" + "".join(output["Traceback"])
    assert "return 1 / 0" in reason
    assert (output["Data"]["StdOut"], output["Data"]["StdErr"]) == ("before\n", "warn\n")
    assert set(output["Data"]) == {"StdOut", "Result", "StdErr"}


def test_completed_mode_keeps_cancelled_and_error(completed):
    glue, session_id = completed
    statement_id = glue.run_statement(SessionId=session_id, Code="import time\ntime.sleep(30)")[
        "Id"
    ]
    wait_statement(glue, session_id, statement_id, "RUNNING")
    glue.cancel_statement(SessionId=session_id, Id=statement_id)
    assert wait_statement(glue, session_id, statement_id)["State"] == "CANCELLED"
    assert run(glue, session_id, "import os\nos._exit(2)")["State"] == "ERROR"


def test_statement_states_must_be_known():
    from glue_magics.local import LocalEndpoint

    with pytest.raises(ValueError, match="'failed' are not known; use one of livy, completed"):
        LocalEndpoint(statement_states="failed")


# ------------------------------------------------------------------ busy_status


def test_busy_while_a_statement_waits_or_runs(fresh_endpoint, glue_client, tmp_path):
    # BUSY is in the session statuses of the model AWS's kernel ships; it is a live
    # session: RunStatement is accepted.
    ep = fresh_endpoint(busy_status=True)
    glue = glue_client(ep)
    session_id = ready(glue)
    flag = tmp_path / "go"
    blocker = glue.run_statement(
        SessionId=session_id,
        Code=f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.005)",
    )["Id"]
    assert glue.get_session(Id=session_id)["Session"]["Status"] == "BUSY"  # WAITING or RUNNING
    wait_statement(glue, session_id, blocker, "RUNNING")
    queued = glue.run_statement(SessionId=session_id, Code="'queued'")["Id"]  # accepted
    assert glue.get_session(Id=session_id)["Session"]["Status"] == "BUSY"
    listed = glue.list_sessions()["Sessions"]
    assert [s["Status"] for s in listed if s["Id"] == session_id] == ["BUSY"]
    flag.touch()
    assert wait_statement(glue, session_id, queued)["Output"]["Data"] == {"TextPlain": "'queued'"}
    assert glue.get_session(Id=session_id)["Session"]["Status"] == "READY"


def test_without_the_switch_a_running_session_is_ready(glue, session_id, tmp_path):
    flag = tmp_path / "go"
    statement_id = glue.run_statement(
        SessionId=session_id,
        Code=f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.005)",
    )["Id"]
    wait_statement(glue, session_id, statement_id, "RUNNING")
    assert glue.get_session(Id=session_id)["Session"]["Status"] == "READY"
    flag.touch()
    wait_statement(glue, session_id, statement_id)


def test_cli_switches_reach_the_endpoint(tmp_path):
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-m", "glue_magics", "local-endpoint", "--port", "0"]
    command += ["--provision-seconds", "0.1", "--busy-status", "--statement-states", "completed"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split(" at ", 1)[1].strip()
        glue = make_glue(url)
        session_id = ready(glue)
        flag = tmp_path / "go"
        code = f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.005)"
        blocker = glue.run_statement(SessionId=session_id, Code=code)["Id"]
        assert glue.get_session(Id=session_id)["Session"]["Status"] == "BUSY"
        flag.touch()
        assert wait_statement(glue, session_id, blocker)["State"] == "COMPLETED"
        assert run(glue, session_id, "1 / 0")["State"] == "FAILED"
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0


def test_cli_help_documents_the_switches():
    import subprocess
    import sys

    help_text = subprocess.run(
        [sys.executable, "-m", "glue_magics", "local-endpoint", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--busy-status" in help_text and "BUSY" in help_text
    assert "--statement-states {livy,completed}" in help_text and "FAILED" in help_text
