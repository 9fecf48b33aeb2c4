"""Statements on the local endpoint: real Python in one worker process per session."""

from __future__ import annotations

import time

import pytest
from helpers import PATIENCE, ready, run, wait_gone, wait_statement, wait_status


@pytest.fixture
def session_id(glue):
    """A READY session of the shared endpoint, stopped afterwards."""
    session = ready(glue)
    yield session
    glue.stop_session(Id=session)


def text(statement):
    return statement["Output"]["Data"]["TextPlain"]


def test_print_is_captured(glue, session_id):
    statement = run(glue, session_id, "print(6 * 7)")
    assert statement["State"] == "AVAILABLE"
    assert statement["Output"]["Status"] == "ok"
    # Livy's fake_shell.py: TextPlain alone, rstrip()ed; AWS's kernel shows it only then.
    assert statement["Output"]["Data"] == {"TextPlain": "42"}
    assert statement["Progress"] == 1.0
    assert statement["CompletedOn"] >= statement["StartedOn"]


def test_state_persists_and_the_last_expression_is_shown(glue, session_id):
    first = run(glue, session_id, "total = 40")
    assert text(first) == ""
    second = run(glue, session_id, "print('adding')\ntotal + 2")
    assert second["Output"]["Data"] == {"TextPlain": "adding\n42"}
    assert second["Output"]["ExecutionCount"] == first["Output"]["ExecutionCount"] + 1
    assert text(run(glue, session_id, "_ * 2")) == "84"  # like the REPL
    assert text(run(glue, session_id, "None")) == ""


def test_an_exception_is_an_error_with_its_traceback(glue, session_id):
    statement = run(glue, session_id, "def f():\n    return 1 / 0\nf()")
    # Livy (and so Glue): the statement ran, so it is AVAILABLE; the exception is in Output.
    assert statement["State"] == "AVAILABLE"
    output = statement["Output"]
    assert "Data" not in output  # nothing was printed
    assert output["Status"] == "error"
    assert output["ErrorName"] == "ZeroDivisionError"
    assert output["ErrorValue"] == "division by zero"
    trace = "".join(output["Traceback"])
    assert "return 1 / 0" in trace and "line 2, in f" in trace
    assert "worker.py" not in trace  # the endpoint's own frames are not the user's
    assert run(glue, session_id, "'still alive'")["State"] == "AVAILABLE"


def test_syntax_error_is_reported_not_crashed(glue, session_id):
    statement = run(glue, session_id, "def broken(:")
    assert statement["Output"]["ErrorName"] == "SyntaxError"
    assert text(run(glue, session_id, "1 + 1")) == "2"


def test_reading_stdin_sees_an_empty_stream_not_the_next_command(glue, session_id):
    statement_id = glue.run_statement(SessionId=session_id, Code="input()")["Id"]
    child = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'input()']).returncode"
    after = glue.run_statement(SessionId=session_id, Code=child)["Id"]
    assert wait_statement(glue, session_id, statement_id)["Output"]["ErrorName"] == "EOFError"
    assert text(wait_statement(glue, session_id, after)) == "1"  # the child's EOFError too
    assert text(run(glue, session_id, "'next'")) == "'next'"


def test_text_plain_is_stdout_then_stderr(glue, session_id):
    # Livy's fake_shell.py execute_request: output = stdout + stderr, rstrip()ed.
    code = "import sys\nprint('err', file=sys.stderr)\nprint('out')\n'value'"
    assert run(glue, session_id, code)["Output"]["Data"] == {"TextPlain": "out\n'value'\nerr"}


RICH = """
class Rich:
    def _repr_html_(self):
        return "<b>bold</b>"
    def _repr_png_(self):
        return b"\\x89PNG fake"
    def _repr_json_(self):
        return {"a": [1, 2]}
    def __repr__(self):
        return "Rich()"
"""


@pytest.mark.parametrize(("expression", "shown"), [("Rich()", "Rich()"), ("[1, 2]", "[1, 2]")])
def test_a_value_is_its_text_repr_whatever_rich_reprs_it_has(glue, session_id, expression, shown):
    """Livy's fake_shell.py runs the last expression in 'single' mode, which prints its
    repr to stdout; no value is asked for a rich repr (the real service sent a pandas
    DataFrame back as text: tests/replies/statement_text_pandas_head.json).  Rich results
    come from the statement magics only (tests/test_local_magics.py)."""
    run(glue, session_id, RICH)
    code = f"import sys\nprint('o')\nprint('e', file=sys.stderr)\n{expression}"
    data = run(glue, session_id, code)["Output"]["Data"]
    assert data == {"TextPlain": f"o\n{shown}\ne"}


def test_statement_reports_its_own_progress(glue, session_id, tmp_path):
    flag = tmp_path / "go"
    code = (
        "import os, time\nset_progress(0.25)\n"
        f"while not os.path.exists({str(flag)!r}):\n    time.sleep(0.005)\n'done'"
    )
    statement_id = glue.run_statement(SessionId=session_id, Code=code)["Id"]
    while True:
        statement = glue.get_statement(SessionId=session_id, Id=statement_id)["Statement"]
        if statement["Progress"] == 0.25:
            break
        assert statement["State"] in ("WAITING", "RUNNING")
        assert statement["Progress"] == 0.0
    assert statement["State"] == "RUNNING"
    flag.touch()
    done = wait_statement(glue, session_id, statement_id)
    assert (done["State"], done["Progress"], text(done)) == ("AVAILABLE", 1.0, "'done'")


def test_junk_on_the_event_pipe_is_ignored(glue, session_id):
    junk = [b"[1]", b'{"event": "progress", "id": "x"}', b'{"event": "progress", "value": "y"}',
            b'{"event": "result", "id": null}', b"\xff\xfe", b'{"id": 1e999}']  # fmt: skip
    code = f"import os, sys\nfor line in {junk!r}:\n    os.write(int(sys.argv[1]), line + b'\\n')"
    assert run(glue, session_id, code + "\n'survived'")["State"] == "AVAILABLE"
    assert text(run(glue, session_id, "'still'")) == "'still'"


def test_statements_queue_and_a_waiting_one_can_be_cancelled(glue, session_id, tmp_path):
    flag = tmp_path / "go"
    blocker = glue.run_statement(
        SessionId=session_id,
        Code=f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.005)",
    )["Id"]
    second = glue.run_statement(SessionId=session_id, Code="order = ['second']")["Id"]
    dropped = glue.run_statement(SessionId=session_id, Code="order.append('dropped')")["Id"]
    third = glue.run_statement(SessionId=session_id, Code="order.append('third')\norder")["Id"]
    assert len({blocker, second, dropped, third}) == 4
    wait_statement(glue, session_id, blocker, "RUNNING")
    states = [
        glue.get_statement(SessionId=session_id, Id=i)["Statement"]["State"]
        for i in (second, dropped, third)
    ]
    assert states == ["WAITING"] * 3
    glue.cancel_statement(SessionId=session_id, Id=dropped)
    assert wait_statement(glue, session_id, dropped)["State"] == "CANCELLED"
    flag.touch()
    assert text(wait_statement(glue, session_id, third)) == "['second', 'third']"
    listed = glue.list_statements(SessionId=session_id)["Statements"]
    assert [s["Id"] for s in listed] == [blocker, second, dropped, third]
    assert [s["State"] for s in listed] == ["AVAILABLE", "AVAILABLE", "CANCELLED", "AVAILABLE"]


def test_cancel_interrupts_a_sleeping_statement(glue, session_id):
    run(glue, session_id, "kept = 'yes'")
    statement_id = glue.run_statement(SessionId=session_id, Code="import time\ntime.sleep(30)")[
        "Id"
    ]
    wait_statement(glue, session_id, statement_id, "RUNNING")
    glue.cancel_statement(SessionId=session_id, Id=statement_id)
    state = glue.get_statement(SessionId=session_id, Id=statement_id)["Statement"]["State"]
    assert state in ("CANCELLING", "CANCELLED")
    statement = wait_statement(glue, session_id, statement_id)
    assert statement["State"] == "CANCELLED"
    assert statement["Output"]["ErrorName"] == "KeyboardInterrupt"
    assert glue.get_session(Id=session_id)["Session"]["Status"] == "READY"
    assert text(run(glue, session_id, "kept")) == "'yes'"


def test_cancel_of_a_statement_ignoring_sigint_kills_the_worker(
    fresh_endpoint, glue_client, tmp_path
):
    ep = fresh_endpoint(cancel_grace_seconds=0.3)
    glue = glue_client(ep)
    session_id = ready(glue)
    # cancelled only once it ignores SIGINT: RUNNING comes before the code's first line, and
    # a cancel landing in between interrupted it as usual (the session stayed READY; seen
    # once in four workers)
    marker = tmp_path / "ignoring"
    code = (
        "import pathlib, signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"pathlib.Path({str(marker)!r}).touch()\ntime.sleep(30)"
    )
    statement_id = glue.run_statement(SessionId=session_id, Code=code)["Id"]
    wait_statement(glue, session_id, statement_id, "RUNNING")
    deadline = time.monotonic() + PATIENCE
    while not marker.exists():
        assert time.monotonic() < deadline, "the statement never started ignoring SIGINT"
        time.sleep(0.01)
    pids = ep.worker_pids()
    glue.cancel_statement(SessionId=session_id, Id=statement_id)
    assert wait_statement(glue, session_id, statement_id)["State"] == "CANCELLED"
    session = wait_status(glue, session_id, "FAILED")
    assert "did not stop" in session["ErrorMessage"]
    assert wait_gone(pids) == []


def test_a_worker_that_dies_fails_the_session(glue):
    session_id = ready(glue)
    statement = run(glue, session_id, "import os\nos._exit(3)")
    # ERROR: the statement could not be run to its end (no Data: nothing came back).
    assert statement["State"] == "ERROR"
    output = statement["Output"]
    assert set(output) == {"Status", "ErrorName", "ErrorValue", "Traceback"}
    assert output["Status"] == "error" and "code 3" in output["ErrorValue"]
    session = wait_status(glue, session_id, "FAILED")
    assert "code 3" in session["ErrorMessage"]


def test_ended_workers_leave_no_open_pipe_behind(fresh_endpoint, glue_client):
    import os

    ep = fresh_endpoint()
    glue = glue_client(ep)

    def crash_one() -> None:
        session_id = ready(glue)
        run(glue, session_id, "import os\nos._exit(3)")
        wait_status(glue, session_id, "FAILED")

    crash_one()  # the client's connection and the endpoint's threads exist from here on
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        crash_one()
    assert len(os.listdir("/proc/self/fd")) <= before
    assert ep.worker_pids() == []


def test_alive_tells_live_from_ended_processes() -> None:
    """``pid_alive``, which ``worker_pids`` and ``helpers.wait_gone`` rely on."""
    import os
    import subprocess
    import sys

    from glue_magics.local.workers import pid_alive as alive

    assert alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not alive(child.pid)


def test_cancel_of_a_finished_statement_changes_nothing(glue, session_id):
    statement = run(glue, session_id, "1")
    glue.cancel_statement(SessionId=session_id, Id=statement["Id"])
    after = glue.get_statement(SessionId=session_id, Id=statement["Id"])["Statement"]
    assert after["State"] == "AVAILABLE"


def test_stop_cancels_what_is_running(glue, endpoint):
    session_id = ready(glue)
    statement_id = glue.run_statement(SessionId=session_id, Code="import time\ntime.sleep(30)")[
        "Id"
    ]
    wait_statement(glue, session_id, statement_id, "RUNNING")
    glue.stop_session(Id=session_id)
    assert wait_statement(glue, session_id, statement_id)["State"] == "CANCELLED"


def test_no_spark_when_turned_off_or_not_installed(glue, monkeypatch):
    monkeypatch.setenv("GLUE_MAGICS_LOCAL_SPARK", "0")  # read by the worker at its start
    session = ready(glue)
    try:
        statement = run(glue, session, "spark")
        assert statement["Output"]["ErrorName"] == "NameError"
    finally:
        glue.stop_session(Id=session)
