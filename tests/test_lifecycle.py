"""The lifecycle layer against the local endpoint: a real boto3 client over HTTP.

The poll scheduler's arithmetic is also checked on its own, on simulated time, with
hypothesis: its call budget must hold whatever the service reports as progress.
"""

from __future__ import annotations

import math
import signal
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from helpers import ROLE, make_glue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_magics import display, lifecycle
from glue_magics.lifecycle import (
    SessionFailed,
    SessionView,
    StatementCancelled,
    StatementView,
)
from glue_magics.polling import (
    SESSION_PLAN,
    STATEMENT_PLAN,
    PollScheduler,
    RoundTrip,
    statement_in_flight,
)
from glue_magics.service import GlueError, make_client


def request(session_id: str | None = None, **extra) -> dict:
    return {
        "Id": session_id or f"test-{uuid.uuid4().hex[:12]}",
        "Role": ROLE,
        "Command": {"Name": "glueetl", "PythonVersion": "3"},
        **extra,
    }


def client_for(ep, **kwargs):
    """The client the magics make (service.make_client) for ``ep`` (anything with a url)."""
    return make_client(endpoint_url=ep.url, **kwargs)


@pytest.fixture
def client(endpoint):
    return client_for(endpoint)


@pytest.fixture
def ready(endpoint, client):
    """A READY session on the shared endpoint (its id), stopped after the test."""
    req = request()
    lifecycle.create_session(client, req)
    lifecycle.wait_ready(client, req["Id"])
    yield req["Id"]
    lifecycle.stop_session(client, req["Id"], wait=0)


def interrupt_main_when(condition: Callable[[], bool]) -> threading.Thread:
    """SIGINT to the main thread once ``condition()`` holds: Ctrl-C at a known moment,
    whatever the machine's load (a fixed delay could land before the statement runs)."""
    main = threading.main_thread().ident

    def watch() -> None:
        deadline = time.monotonic() + 30  # a guard against a broken endpoint, not a timing
        while time.monotonic() < deadline:
            if condition():
                signal.pthread_kill(main, signal.SIGINT)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def polled(ep: Any) -> Callable[[], bool]:
    """The client has asked GetStatement since now: RunStatement has answered, so a Ctrl-C
    lands in the wait for the statement (a RUNNING statement alone can be seen while the
    client still reads RunStatement's answer)."""
    before = ep.calls["GetStatement"]
    return lambda: ep.calls["GetStatement"] > before


def running(client: Any, session_id: str, ep: Any) -> Callable[[], bool]:
    """The session has a RUNNING statement, and the client waits for it."""
    asked = polled(ep)
    return lambda: (
        asked()
        and any(
            s["State"] == "RUNNING"
            for s in client.list_statements(SessionId=session_id)["Statements"]
        )
    )


def assert_one_line(err: BaseException, *fragments: str) -> None:
    """The line a user sees for ``err`` (its next step worded by the display), checked."""
    assert "\n" not in str(err) and "%glue" not in str(err), str(err)  # neutral below display
    text = display.explain(err)
    assert "\n" not in text and text.strip() == text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


# ------------------------------------------------------------------ create and wait


def test_create_and_wait_reports_rising_progress_then_ready(endpoint, client):
    req = request()
    polls_before = endpoint.calls["GetSession"]
    session = lifecycle.create_session(client, req)
    assert session["Id"] == req["Id"] and session["Status"] == "PROVISIONING"
    views: list[SessionView] = []
    ready = lifecycle.wait_ready(client, req["Id"], on_update=views.append, tick=0.02)
    assert ready["Status"] == "READY"
    progress = [v.progress for v in views]
    assert progress == sorted(progress), progress
    assert len(set(progress)) >= 3, progress  # several distinct values on the way up
    assert progress[-1] == 100.0 and views[-1].status == "READY"
    assert all(v.id == req["Id"] and v.error_message is None for v in views)
    elapsed = [v.elapsed for v in views]
    assert elapsed == sorted(elapsed)
    polls = endpoint.calls["GetSession"] - polls_before
    assert len(views) > polls  # updates between polls too: the display never freezes
    lifecycle.stop_session(client, req["Id"], wait=0)


def test_a_retried_create_with_the_same_id_makes_one_session(fresh_endpoint):
    ep = fresh_endpoint()
    client = client_for(ep)
    req = request()
    first = lifecycle.create_session(client, req)
    again = lifecycle.create_session(client, req)  # the service says AlreadyExists
    assert again["Id"] == first["Id"] == req["Id"]
    assert ep.sessions_created == 1
    assert lifecycle.wait_ready(client, req["Id"])["Status"] == "READY"


def test_a_create_whose_answer_was_lost_is_adopted_not_duplicated(fresh_endpoint):
    ep = fresh_endpoint()
    ep.faults.seed(1)  # draws 0.13, 0.85: the first answer is lost, the retry's is not
    ep.faults.set("lose", 0.5, operation="CreateSession")
    client = client_for(ep)
    req = request()
    session = lifecycle.create_session(client, req)  # retry -> AlreadyExists -> GetSession
    assert session["Id"] == req["Id"]
    assert ep.calls["CreateSession"] == 2 and ep.sessions_created == 1
    assert lifecycle.wait_ready(client, req["Id"])["Status"] == "READY"


def test_the_same_id_with_other_options_is_not_taken_as_ours(endpoint, client):
    req = request()
    lifecycle.create_session(client, req)
    other = dict(req, Role="arn:aws:iam::123456789012:role/SomeoneElse")
    with pytest.raises(GlueError) as info:
        lifecycle.create_session(client, other)
    assert info.value.code in ("IdempotentParameterMismatchException", "AlreadyExistsException")
    assert_one_line(info.value, req["Id"])
    lifecycle.stop_session(client, req["Id"], wait=0)


@pytest.mark.parametrize("kind", ["throttle", "error5xx", "drop"])
def test_faults_still_end_ready_with_exactly_one_session(fresh_endpoint, kind):
    ep = fresh_endpoint(provision_seconds=0.5)
    ep.faults.seed(1)  # draws 0.13, 0.85, ...: the first CreateSession fails
    ep.faults.set(kind, 0.3)
    client = client_for(ep)
    req = request()
    lifecycle.create_session(client, req)
    polls: list[SessionView] = []
    ready = lifecycle.wait_ready(client, req["Id"], on_update=polls.append, tick=60)
    assert ready["Status"] == "READY"
    assert ep.sessions_created == 1
    assert ep.calls["CreateSession"] == 2  # botocore retried it
    assert ep.calls["GetSession"] >= len(polls)  # one update per successful poll


def test_all_faults_at_once_still_end_ready_with_one_session(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=0.5)
    ep.faults.seed(8)  # the first GetSession fails; few faults after (botocore backs off)
    for kind in ("throttle", "error5xx", "drop"):
        ep.faults.set(kind, 0.1)
    client = client_for(ep, max_attempts=8)
    req = request()
    lifecycle.create_session(client, req)
    polls: list[SessionView] = []
    ready = lifecycle.wait_ready(client, req["Id"], on_update=polls.append, tick=60)
    assert ready["Status"] == "READY"
    assert ep.sessions_created == 1
    assert ep.calls["GetSession"] > len(polls)  # some requests failed and were retried


def test_bad_input_from_the_service_is_one_line(endpoint, client):
    with pytest.raises(GlueError) as info:
        lifecycle.create_session(client, request(Command={"Name": "notaspark"}))
    assert info.value.code == "InvalidInputException"
    assert_one_line(info.value, "notaspark")
    with pytest.raises(GlueError) as info:
        lifecycle.get_session(client, "no-such-session")
    assert info.value.code == "EntityNotFoundException"
    assert_one_line(info.value, "no-such-session", "%glue_sessions")


# ------------------------------------------------------------------ sessions that die


def test_wait_on_a_stopped_session_raises_session_failed(endpoint, client, ready):
    assert lifecycle.stop_session(client, ready) == "STOPPED"
    with pytest.raises(SessionFailed) as info:
        lifecycle.wait_ready(client, ready)
    assert info.value.status == "STOPPED" and info.value.session_ended
    assert_one_line(info.value, ready, "STOPPED", "%glue_session")


def test_wait_on_a_session_that_times_out_raises_session_failed(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=2.0, minute_seconds=0.1)
    client = client_for(ep)
    req = request(Timeout=1)  # one (0.1 s) minute: it times out while provisioning
    lifecycle.create_session(client, req)
    with pytest.raises(SessionFailed) as info:
        lifecycle.wait_ready(client, req["Id"])
    assert info.value.code == "TIMEOUT"
    assert_one_line(info.value, req["Id"], "TIMEOUT", "timed out", "%glue_session")


def test_stuck_statement_cancel_times_out_then_the_session_is_failed(fresh_endpoint, tmp_path):
    ep = fresh_endpoint(cancel_grace_seconds=0.5)
    client = client_for(ep)
    req = request()
    lifecycle.create_session(client, req)
    lifecycle.wait_ready(client, req["Id"])
    marker = tmp_path / "ignoring"  # written once the statement ignores SIGINT
    stuck = (
        "import pathlib, signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"pathlib.Path({str(marker)!r}).touch()\ntime.sleep(30)"
    )
    asked = polled(ep)
    interrupt_main_when(lambda: marker.exists() and asked())
    with pytest.raises(StatementCancelled) as info:
        lifecycle.run_statement(client, req["Id"], stuck, cancel_wait=0.2)
    assert info.value.code == "CancelPending"
    assert_one_line(info.value, "did not finish within 0.2 s")
    # the endpoint kills the worker after its grace period: the session is FAILED
    for _ in range(100):
        if lifecycle.get_session(client, req["Id"])["Status"] != "READY":
            break
        time.sleep(0.05)
    with pytest.raises(SessionFailed) as failed:
        lifecycle.wait_ready(client, req["Id"], timeout=10)
    assert failed.value.code == "FAILED"
    assert_one_line(failed.value, req["Id"], "FAILED", "did not stop")


def test_wait_timeout_names_the_session_and_how_to_go_on(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=30)
    client = client_for(ep)
    req = request()
    lifecycle.create_session(client, req)
    with pytest.raises(GlueError) as info:
        lifecycle.wait_ready(client, req["Id"], timeout=0.4)
    assert not isinstance(info.value, SessionFailed)
    assert info.value.code == "WaitTimeout"
    assert_one_line(info.value, req["Id"], "PROVISIONING", f"%glue_reconnect {req['Id']}")


def test_ctrl_c_during_a_wait_propagates(fresh_endpoint):
    ep = fresh_endpoint(provision_seconds=30)
    client = client_for(ep)
    req = request()
    lifecycle.create_session(client, req)
    interrupt_main_when(lambda: ep.calls["GetSession"] >= 1)  # in the wait's polls
    with pytest.raises(KeyboardInterrupt):
        lifecycle.wait_ready(client, req["Id"], timeout=20)


# ------------------------------------------------------------------ stop and list


def test_stop_reports_stopped_and_is_idempotent(endpoint, client, ready):
    seen: list[SessionView] = []
    assert lifecycle.stop_session(client, ready, on_update=seen.append) == "STOPPED"
    assert seen and seen[-1].status == "STOPPED"
    assert lifecycle.stop_session(client, ready) == "STOPPED"
    assert lifecycle.stop_session(client, "never-existed-123") == "NOT_FOUND"


def test_a_slow_stop_is_reported_as_stopping(fresh_endpoint):
    ep = fresh_endpoint(stop_seconds=5)
    client = client_for(ep)
    req = request()
    lifecycle.create_session(client, req)
    lifecycle.wait_ready(client, req["Id"])
    assert lifecycle.stop_session(client, req["Id"], wait=0.5) == "STOPPING"


def test_list_sessions_follows_every_page(fresh_endpoint):
    ep = fresh_endpoint()
    client = client_for(ep)
    ids = {lifecycle.create_session(client, request())["Id"] for _ in range(5)}
    listed = lifecycle.list_sessions(client, page_size=2)
    assert {s["Id"] for s in listed} == ids and len(listed) == 5
    assert ep.calls["ListSessions"] == 3
    assert {s["Id"] for s in lifecycle.list_sessions(client)} == ids


# ------------------------------------------------------------------ statements


def test_statement_output_and_no_get_session_while_running(endpoint, client, ready):
    """Output in the service's shapes, read through our model (the sdk-extras fields would
    be dropped without it): text is ``{TextPlain}`` alone with ``Output.Status`` ok, a
    statement magic's result is ``{MimeType, Result, StdOut, StdErr}``, and a Python
    exception is AVAILABLE with Status error (Livy's fake_shell.py; AWS's Glue kernel
    BaseKernel._construct_reply_content)."""
    before = endpoint.calls["GetSession"]
    views: list[StatementView] = []
    done = lifecycle.run_statement(client, ready, "print('hi')\n40 + 2", on_update=views.append)
    assert done["State"] == "AVAILABLE"
    assert done["Output"]["Status"] == "ok"  # sdk-extras
    assert done["Output"]["Data"] == {"TextPlain": "hi\n42"}
    assert views and views[-1].state == "AVAILABLE" and views[-1].progress == 1.0
    code = "import sys\nprint('o', file=sys.stderr)\nd = {'a': 1}\n%json d"
    rich = lifecycle.run_statement(client, ready, code)
    assert rich["Output"]["Data"] == {  # sdk-extras fields
        "MimeType": "application/json",
        "Result": '{"a": 1}',
        "StdOut": "",
        "StdErr": "o\n",
    }
    error = lifecycle.run_statement(client, ready, "1/0")
    assert error["State"] == "AVAILABLE"
    assert (error["Output"]["Status"], error["Output"]["ErrorName"]) == (
        "error",
        "ZeroDivisionError",
    )
    assert endpoint.calls["GetSession"] == before


def test_ctrl_c_cancels_the_statement(endpoint, client, ready):
    interrupt_main_when(running(make_glue(endpoint.url), ready, endpoint))
    with pytest.raises(StatementCancelled) as info:
        lifecycle.run_statement(client, ready, "import time\ntime.sleep(30)")
    assert info.value.code == "CANCELLED"
    assert_one_line(info.value, "was cancelled", ready)
    # the session is still usable afterwards
    assert lifecycle.run_statement(client, ready, "1 + 1")["State"] == "AVAILABLE"


def _ready_on(ep: Any) -> tuple[Any, str]:
    """A client of ``ep`` and a READY session on it."""
    glue = make_glue(ep.url)
    req = request()
    lifecycle.create_session(glue, req)
    lifecycle.wait_ready(glue, req["Id"])
    return glue, req["Id"]


def test_ctrl_c_while_run_statement_is_unanswered_cancels_what_landed(fresh_endpoint):
    # RunStatement has no idempotency token (botocore's model): a Ctrl-C before its answer
    # must look for the statement, or a cell the user stopped runs on unseen
    ep = fresh_endpoint(latency_ms=2000)
    glue, session_id = _ready_on(ep)
    code = "import time\ntime.sleep(30)"
    taken = lambda: bool(ep.backend.statements.list(session_id, None)[0])  # noqa: E731
    interrupt_main_when(taken)  # landed; its answer still on the way back (1 s)
    with pytest.raises(StatementCancelled) as info:
        lifecycle.run_statement(glue, session_id, code)
    assert info.value.code == "CANCELLED", str(info.value)
    assert_one_line(info.value, "was cancelled", session_id)
    [statement] = ep.backend.statements.list(session_id, None)[0]
    assert statement["State"] in ("CANCELLING", "CANCELLED") and statement["Code"] == code


def test_ctrl_c_before_run_statement_landed_says_nothing_ran(fresh_endpoint):
    ep = fresh_endpoint(latency_ms=2000)
    glue, session_id = _ready_on(ep)
    ep.faults.set("drop", 1.0, operation="RunStatement")  # every try is lost on its way
    sent = lambda: ep.calls["RunStatement"] > 0  # noqa: E731
    interrupt_main_when(sent)  # counted as it arrives, before its 1 s inbound travel
    with pytest.raises(StatementCancelled) as info:
        lifecycle.run_statement(glue, session_id, "print('never')")
    assert info.value.code == "NotSent", str(info.value)
    assert_one_line(info.value, "did not run", session_id)
    assert ep.backend.statements.list(session_id, None)[0] == []


def test_statement_on_a_stopped_session_is_one_line(endpoint, client, ready):
    lifecycle.stop_session(client, ready)
    with pytest.raises(GlueError) as info:
        lifecycle.run_statement(client, ready, "1 + 1")
    assert info.value.session_ended and info.value.status == "STOPPED"
    assert_one_line(info.value, ready, "STOPPED", "%glue_session")


def test_statement_on_a_missing_session_is_one_line(endpoint, client):
    with pytest.raises(GlueError) as info:
        lifecycle.run_statement(client, "gone-session-1", "1")
    assert info.value.session_ended
    assert_one_line(info.value, "gone-session-1", "%glue_session")


# ------------------------------------------------------------------ views


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["Id", "Status", "Progress", "ErrorMessage"]),
        st.one_of(st.none(), st.text(max_size=8), st.floats(), st.integers()),
    )
)
def test_session_view_accepts_any_partial_response(raw):
    view = SessionView.from_session(raw, 1.0)
    assert 0.0 <= view.progress <= 100.0
    if view.status in ("READY", "BUSY"):
        assert view.progress == 100.0 and view.error_message is None


@given(
    st.fixed_dictionaries(
        {"Id": st.integers(0, 10**6)},
        optional={
            "State": st.sampled_from(["RUNNING", "AVAILABLE", "COMPLETED", "FAILED"]),
            "Progress": st.one_of(st.floats(), st.none()),
        },
    )
)
def test_statement_view_progress_is_always_a_fraction(raw):
    view = StatementView.from_statement(raw, 0.5)
    assert 0.0 <= view.progress <= 1.0
    if view.state in ("AVAILABLE", "COMPLETED"):
        assert view.progress == 1.0


# ------------------------------------------------------------------ the scheduler

SHAPES = ["linear", "none", "erratic", "steps", "stall"]


def simulate(plan, duration, shape, rtt, draws):
    """Run the scheduler on simulated time against a session READY at ``duration``.

    Returns (poll times, time the wait noticed READY)."""
    scheduler = PollScheduler(plan, 0.0, measured(rtt))
    now, polls = 0.0, []
    for i in range(100_000):
        at = now + rtt / 2
        done = at >= duration
        fraction = min(1.0, at / duration)
        progress = {
            "linear": fraction,
            "none": None,
            "erratic": draws[i % len(draws)],
            "steps": [0.0, 0.1, 0.5, 0.9][min(3, int(4 * fraction))],
            "stall": min(fraction, 0.5),
        }[shape]
        polls.append(now)
        if done:
            return polls, now + rtt
        scheduler.observe(at, None if progress is None else progress * plan.full)
        now = max(scheduler.next_poll_at(), now + rtt)
    raise AssertionError("the wait never ended")


@settings(max_examples=150, deadline=None)
@given(
    duration=st.floats(0.05, 300),
    shape=st.sampled_from(SHAPES),
    rtt=st.floats(0.0005, 0.05),
    draws=st.lists(st.floats(0, 1), min_size=1, max_size=20),
)
def test_session_polling_never_exceeds_its_call_budget(duration, shape, rtt, draws):
    polls, _ = simulate(SESSION_PLAN, duration, shape, rtt, draws)
    for n, t in enumerate(polls, start=1):
        assert n <= SESSION_PLAN.burst + SESSION_PLAN.rate * t + 1e-9, (n, t)
    if duration >= 30:
        assert len(polls) / polls[-1] <= 1.0  # at most one GetSession per second on average


@settings(max_examples=100, deadline=None)
@given(duration=st.floats(0.3, 300), rtt=st.floats(0.0005, 0.02))
def test_session_polling_notices_ready_promptly_when_progress_is_linear(duration, rtt):
    _, noticed = simulate(SESSION_PLAN, duration, "linear", rtt, [0.0])
    assert noticed - duration <= 0.5


@settings(max_examples=20, deadline=None)
@given(rtt=st.floats(0.0, 0.3))
def test_ready_is_seen_half_a_round_trip_after_it_when_progress_predicts_it(rtt):
    """Polls sent half a round trip early reach Glue as READY comes: the answer is then
    only the way back (rtt / 2) late, on average over where READY falls."""
    durations = [2 + 0.37 * k for k in range(300)]  # 2 s to 2 minutes
    late = [simulate(SESSION_PLAN, d, "linear", rtt, [0.0])[1] - d for d in durations]
    assert sum(late) / len(late) <= rtt / 2 + 0.06


@settings(max_examples=100, deadline=None)
@given(duration=st.floats(0.01, 0.3), rtt=st.floats(0.0005, 0.005))
def test_statement_polling_adds_little_to_short_statements(duration, rtt):
    _, noticed = simulate(STATEMENT_PLAN, duration, "none", rtt, [0.0])
    assert noticed - duration <= 0.05


def measured(*seconds: float) -> RoundTrip:
    trip = RoundTrip()
    for value in seconds:
        trip.add(value)
    return trip


def statement_wait(duration: float, rtt: float) -> tuple[float, list[float]]:
    """A statement of ``duration`` s polled on simulated time over a round trip of ``rtt``.

    RunStatement reaches the service at 0 (the statement starts) and is answered at
    rtt / 2; the first poll is sent when the plan says (``first_on_plan``), not before
    that answer; each poll reaches the service half a round trip after it is sent and is
    answered half a round trip later; the next is sent when the plan says, whether or
    not the last was answered, but at least a round trip over the polls allowed in flight
    after the last and never with more unanswered (``statement_in_flight``: IN_FLIGHT over
    a round trip longer than 40 ms, else one), as ``polling._overlapped`` does.  Returns (the
    latency added to the statement, counted from sending RunStatement to the answer that
    said done; when each poll reached the service)."""
    scheduler = PollScheduler(STATEMENT_PLAN, 0.0, measured(rtt))
    in_flight = statement_in_flight(measured(rtt))
    sent, arrivals = max(scheduler.next_poll_at(), rtt / 2), []
    answers: deque[float] = deque()  # when the polls in flight are answered
    while True:
        while answers and answers[0] <= sent:
            answers.popleft()
        if len(answers) >= in_flight:
            sent = answers.popleft()
        arrives = sent + rtt / 2
        arrivals.append(arrives)
        if arrives >= duration:
            return arrives + rtt - duration, arrivals
        answers.append(sent + rtt)
        scheduler.planned(arrives)
        sent = max(scheduler.next_poll_at(), sent + rtt / in_flight)


def first_second(phase: float) -> list[float]:
    """Statement lengths spread evenly over 0.1 to 1 s (the benchmark's short ones), at a
    phase no poll schedule can be fitted to."""
    return [0.1 + 0.9 * (i + phase) / 200 for i in range(200)]


@settings(max_examples=60, deadline=None)
@given(rtt=st.floats(0.0, 0.1), phase=st.floats(0.0, 1.0))
def test_a_statement_ending_in_its_first_second_is_seen_half_a_gap_late(rtt, phase):
    """Nothing tells the client when a statement ends: over lengths of 0.1 to 1 s its end
    is seen one round trip (RunStatement's way there, the answer's way back) and half a
    gap late on average: half of 40 ms, however long the round trip (polls overlap, up to
    IN_FLIGHT of them); and that costs about 15 GetStatement calls a statement, and those
    already on their way when the end is seen (a round trip's worth).  (Issue 19's
    targets: 30 ms added at loopback, of which the kernel, botocore and the endpoint take
    about 10; one round trip and 35 ms at 50 ms.)  Round trips up to the shortest length:
    a statement shorter than a round trip is seen two round trips after it started, as
    the first poll cannot leave before RunStatement's answer."""
    waits = [statement_wait(length, rtt) for length in first_second(phase)]
    added = [late for late, _ in waits]
    gap = 0.040  # whatever the round trip: polls overlap
    assert sum(added) / len(added) <= rtt + gap / 2 + 0.003
    calls = [len(arrivals) for _, arrivals in waits]
    assert sum(calls) / len(calls) <= 15.5 + rtt / gap


@settings(max_examples=200, deadline=None)
@given(duration=st.floats(0.0, 60.0), rtt=st.floats(0.0, 0.3))
def test_a_statement_is_seen_by_the_first_poll_after_its_end(duration, rtt):
    """However long it ran, the end is seen by the next poll: the gap then (which only
    grows with the time, to ``cap``), or a round trip over the polls in flight
    (``statement_in_flight``); and before 1 s the polls are at least ``steady`` apart,
    so never more than 2 + t / steady calls before the end (27 at 1 s).  A statement
    shorter than a round trip is seen by the first poll, sent when RunStatement's answer
    came."""
    added, arrivals = statement_wait(duration, rtt)
    plan = STATEMENT_PLAN
    gap = max(
        plan.backoff(duration), rtt / statement_in_flight(measured(rtt)), plan.first, rtt - duration
    )
    assert added <= rtt + gap + 1e-9
    if duration <= 1.0:
        assert len(arrivals) <= 2 + duration / plan.steady


@settings(max_examples=60, deadline=None)
@given(rtt=st.floats(0.0, 0.3), duration=st.floats(3.0, 60.0))
def test_a_long_statement_costs_one_get_statement_a_second(rtt, duration):
    _, arrivals = statement_wait(duration, rtt)
    later = [at for at in arrivals if at >= STATEMENT_PLAN.ramp]
    gaps = [b - a for a, b in zip(later, later[1:], strict=False)]
    assert all(gap >= STATEMENT_PLAN.cap - 1e-9 for gap in gaps)
    assert len(arrivals) <= 45 + duration  # the first 3 s are dense, then one a second


def test_a_poll_is_sent_half_a_round_trip_before_it_should_reach_the_service():
    plain, aware = PollScheduler(SESSION_PLAN, 0.0), PollScheduler(SESSION_PLAN, 0.0, measured(0.2))
    for scheduler in (plain, aware):
        scheduler.observe(1.0, 10.0)
        scheduler.observe(2.0, 20.0)
    assert math.isclose(aware.next_poll_at(), plain.next_poll_at() - 0.1)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=30))
def test_the_round_trip_is_the_median_of_the_last_calls(samples):
    trip = measured(*samples)
    kept = [x for x in samples if math.isfinite(x) and x >= 0][-7:]
    assert trip.seconds == (statistics.median(kept) if kept else 0.0)


def test_each_client_has_its_own_round_trip(endpoint):
    one, other = client_for(endpoint), client_for(endpoint)
    assert lifecycle.round_trip(one) is lifecycle.round_trip(one)
    assert lifecycle.round_trip(one) is not lifecycle.round_trip(other)


def test_scheduler_eta_follows_a_steady_rate():
    scheduler = PollScheduler(SESSION_PLAN, 0.0)
    assert scheduler.eta() is None
    scheduler.observe(1.0, 10.0)
    scheduler.observe(2.0, 20.0)
    assert math.isclose(scheduler.eta(), 10.0)
    scheduler.observe(3.0, 5.0)  # went backwards: no trust in the old fit
    assert scheduler.eta() is None


# ------------------------------------------------------------------ the service's states
# Replies scripted as the service sends them (tests/scripted.py): session BUSY is in the
# SessionStatus enum of the service model AWS's kernel ships
# (glue_pyspark/glue/2017-03-31/service-2.json); COMPLETED and FAILED are statement
# states AWS's kernel ends on (GlueSessionsConstants.py, FINAL_STATEMENT_STATUS).


def test_wait_ready_ends_on_busy(scripted):
    scripted.session("busy-wait", "BUSY")
    client = client_for(scripted)
    assert lifecycle.wait_ready(client, "busy-wait", timeout=5)["Status"] == "BUSY"


def test_a_statement_refused_while_busy_is_the_services_error_not_a_dead_session(scripted):
    """A live (BUSY) session that refuses a statement is not "ended": no new session."""
    scripted.session("busy-run", "BUSY")
    scripted.error("RunStatement", "IllegalSessionStateException", "Session busy-run is BUSY")
    client = client_for(scripted, max_attempts=1)
    with pytest.raises(GlueError) as info:
        lifecycle.run_statement(client, "busy-run", "1")
    assert info.value.code == "IllegalSessionStateException"
    assert not info.value.session_ended
    scripted.sessions["busy-run"]["Status"] = "STOPPED"
    with pytest.raises(GlueError) as info:
        lifecycle.run_statement(client, "busy-run", "1")
    assert info.value.session_ended and info.value.status == "STOPPED"


@pytest.mark.parametrize("state", ["COMPLETED", "FAILED"])
def test_statement_waits_end_on_completed_and_failed(scripted, state):
    scripted.statement(state, {"Data": {"TextPlain": "x"}})
    client = client_for(scripted)
    views: list[StatementView] = []
    done: list[dict] = []
    waiting = threading.Thread(
        target=lambda: done.append(lifecycle.run_statement(client, "any", "1", views.append)),
        daemon=True,
    )
    waiting.start()
    waiting.join(30)  # a wait that does not know the state would poll for ever
    assert done and done[0]["State"] == state
    if state == "COMPLETED":
        assert views[-1].progress == 1.0
