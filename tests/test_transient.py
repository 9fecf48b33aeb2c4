"""Transient errors (throttling, 5xx, lost connections) never end a wait on a live session.

botocore retries each call a few times; when those retries run out, the lifecycle layer
goes on polling (backing off) until its own deadline, and only then says, truthfully, what
it knows.  Calls that change things are repeated only where that is safe: CreateSession
with our own Id, StopSession, and RunStatement once ListStatements shows it did not land.
The faults are the local endpoint's (before or after the request takes effect), answered to
a counted number of calls and then none, with botocore's own retries cut to one attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from helpers import ROLE
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics import display, lifecycle
from glue_magics.magics import GlueMagics
from glue_magics.service import GlueError, make_client


def request() -> dict:
    return {
        "Id": f"transient-{uuid.uuid4().hex[:12]}",
        "Role": ROLE,
        "Command": {"Name": "glueetl", "PythonVersion": "3"},
    }


def spell(ep, requests: int, kind: str, operation: str) -> None:
    """``kind`` on the next ``requests`` calls of ``operation``, then none: counted in calls,
    not seconds, so a loaded machine cannot stretch or shrink it."""
    ep.faults.next(kind, requests, operation=operation)


@pytest.fixture
def ep(fresh_endpoint) -> Iterator:
    endpoint = fresh_endpoint(provision_seconds=0.2, stop_seconds=0.05)
    yield endpoint
    endpoint.faults.clear()


@pytest.fixture
def one_try(ep):
    """A client whose botocore makes one attempt per call: every fault reaches us."""
    return make_client(endpoint_url=ep.url, max_attempts=1)


@pytest.mark.parametrize("kind", ["throttle", "error5xx", "drop"])
def test_a_spell_of_failed_polls_does_not_end_the_wait(ep, one_try, kind):
    req = request()
    lifecycle.create_session(one_try, req)
    spell(ep, 2, kind, "GetSession")
    session = lifecycle.wait_ready(one_try, req["Id"], timeout=60)
    assert session["Status"] == "READY"
    assert ep.calls["GetSession"] >= 2  # it failed, and polled again


def test_a_wait_that_glue_never_answers_says_the_session_may_be_alive(ep, one_try):
    req = request()
    lifecycle.create_session(one_try, req)
    ep.faults.set("throttle", 1.0, operation="GetSession")
    with pytest.raises(GlueError) as info:
        lifecycle.wait_ready(one_try, req["Id"], timeout=1.5)
    message = display.explain(info.value)  # the line the magics show
    assert info.value.code == "WaitTimeout" and not info.value.session_ended
    assert "may still be starting" in message and f"%glue_reconnect {req['Id']}" in message
    assert "ThrottlingException" in message and "\n" not in message


def test_a_refused_answer_is_not_transient(ep, one_try):
    with pytest.raises(GlueError) as info:
        lifecycle.wait_ready(one_try, "no-such-session", timeout=30)
    assert info.value.code == "EntityNotFoundException"  # at once, not after 30 s


@pytest.mark.parametrize("kind", ["throttle", "error5xx", "drop"])
def test_create_is_asked_again_with_the_same_id(ep, one_try, kind):
    req = request()
    spell(ep, 2, kind, "CreateSession")
    lifecycle.create_session(one_try, req)
    assert ep.sessions_created == 1
    assert lifecycle.wait_ready(one_try, req["Id"])["Status"] == "READY"


def test_a_lost_create_answer_is_found_with_one_look_not_a_second_create(ep, one_try):
    req = request()
    ep.faults.set("lose", 1.0, operation="CreateSession")  # took effect, answer lost
    session = lifecycle.create_session(one_try, req)
    assert session["Id"] == req["Id"] and ep.sessions_created == 1
    assert ep.calls["CreateSession"] == 1 and ep.calls["GetSession"] == 1


def ready_session(ep, client) -> str:
    req = request()
    lifecycle.create_session(client, req)
    lifecycle.wait_ready(client, req["Id"])
    return req["Id"]


@pytest.mark.parametrize("kind", ["throttle", "error5xx", "drop"])
def test_run_statement_not_landed_is_sent_again_once(ep, one_try, kind):
    session_id = ready_session(ep, one_try)
    spell(ep, 2, kind, "RunStatement")
    statement = lifecycle.run_statement(one_try, session_id, "print(6 * 7)")
    assert statement["State"] == "AVAILABLE"
    listed = one_try.list_statements(SessionId=session_id)["Statements"]
    assert len(listed) == 1


def test_run_statement_whose_answer_was_lost_is_adopted_not_run_twice(ep, one_try):
    """The statement ran but its answer was lost: ListStatements finds it; no second run."""
    session_id = ready_session(ep, one_try)
    spell(ep, 1, "lose", "RunStatement")
    statement = lifecycle.run_statement(one_try, session_id, "print('once')")
    listed = one_try.list_statements(SessionId=session_id)["Statements"]
    assert [s["Code"] for s in listed] == ["print('once')"]
    assert statement["Id"] == listed[0]["Id"] and statement["State"] == "AVAILABLE"


@pytest.mark.parametrize("kind", ["throttle", "error5xx", "drop"])
def test_a_statement_poll_survives_a_spell_of_failures(ep, one_try, kind):
    session_id = ready_session(ep, one_try)
    spell(ep, 2, kind, "GetStatement")
    statement = lifecycle.run_statement(one_try, session_id, "print(6 * 7)")
    assert statement["State"] == "AVAILABLE"
    assert ep.calls["GetStatement"] >= 2


@pytest.mark.parametrize("kind", ["throttle", "error5xx", "drop"])
def test_stop_goes_through_a_spell_of_failures(ep, one_try, kind):
    session_id = ready_session(ep, one_try)
    spell(ep, 2, kind, "StopSession")
    status = lifecycle.stop_session(one_try, session_id, wait=10)
    assert status == "STOPPED"


def test_the_magics_keep_a_session_glue_stopped_answering_about(ep):
    """Told "it may still be starting", the user runs a cell: it waits for that same
    session instead of creating a second one."""
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    try:
        ip.run_cell(
            f'%config GlueMagics.endpoint_url = "{ep.url}"\n'
            "%config GlueMagics.max_attempts = 1\n%config GlueMagics.wait_timeout = 1.0\n"
            "%config GlueMagics.progress = 'none'"
        )
        ep.faults.set("throttle", 1.0, operation="GetSession")
        with capture_output() as cap:
            result = ip.run_cell(f"%glue_session --role {ROLE} --id kept-1")
        assert not result.success and "may still be starting" in cap.stdout + cap.stderr
        ep.faults.clear()
        ip.run_cell("%config GlueMagics.wait_timeout = 60")
        with capture_output() as cap:
            result = ip.run_cell("%%glue\nprint(6 * 7)")
        assert result.success, cap.stderr
        assert "42" in cap.stdout and ep.sessions_created == 1
    finally:
        magics.close()
        ip.configurables.remove(magics)
        ip.config.pop("GlueMagics", None)
