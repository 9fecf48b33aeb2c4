"""A network's round trip: the local endpoint's ``latency_ms``, and the polls that live with it.

The endpoint sleeps half of ``latency_ms`` before it handles a request and half before
it answers (``LocalEndpoint.travel``), so no call is answered sooner than that.  Counting
the calls a wait made in a measured time then bounds how many were in flight, whatever
the machine's load: N calls one after another take at least N round trips, so more
than that many in the time means they overlapped.  When the
polls are planned is checked on simulated time in test_lifecycle.py.
"""

from __future__ import annotations

import math
import time
import uuid

from helpers import ROLE
from hypothesis import given
from hypothesis import strategies as st

from glue_magics import lifecycle, polling
from glue_magics.local import EndpointSettings
from glue_magics.local.settings import MAX_LATENCY_MS
from glue_magics.service import make_client

LATENCY = 0.1  # seconds


def request() -> dict:
    return {"Id": f"lat-{uuid.uuid4().hex[:10]}", "Role": ROLE, "Command": {"Name": "glueetl"}}


def test_every_answer_comes_a_round_trip_after_its_request(fresh_endpoint, glue_client):
    ep = fresh_endpoint(latency_ms=LATENCY * 1000)
    glue = glue_client(ep, attempts=1)
    for call in (glue.list_sessions, lambda: glue.get_session(Id="nowhere")):  # an error too
        sent = time.monotonic()
        try:
            call()
        except glue.exceptions.EntityNotFoundException:
            pass
        assert time.monotonic() - sent >= LATENCY


def test_jitter_only_ever_adds(fresh_endpoint, glue_client):
    ep = fresh_endpoint(latency_ms=40, jitter_ms=40)
    glue = glue_client(ep)
    for _ in range(3):
        sent = time.monotonic()
        glue.list_sessions()
        assert time.monotonic() - sent >= 0.040


def test_statement_polls_overlap_over_a_long_round_trip(fresh_endpoint):
    """Over a round trip longer than the plan's gaps, GetStatements are sent on the plan's
    times, not back to back: more than one in flight, never more than IN_FLIGHT."""
    ep = fresh_endpoint(latency_ms=LATENCY * 1000)
    client = make_client(endpoint_url=ep.url)
    req = request()
    lifecycle.create_session(client, req)
    lifecycle.wait_ready(client, req["Id"])
    before = ep.calls["GetStatement"]
    sent = time.monotonic()
    statement = lifecycle.run_statement(client, req["Id"], "import time\ntime.sleep(0.5)")
    took = time.monotonic() - sent
    assert statement["State"] == "AVAILABLE"
    polls = ep.calls["GetStatement"] - before
    # RunStatement took one round trip; back to back, the rest would hold (took - R) / R
    assert (took - LATENCY) / LATENCY < polls <= polling.IN_FLIGHT * took / LATENCY
    assert lifecycle.round_trip(client).seconds >= LATENCY  # measured as they happened


def test_a_ready_wait_has_one_get_session_in_flight(fresh_endpoint):
    ep = fresh_endpoint(latency_ms=LATENCY * 1000, provision_seconds=0.6)
    client = make_client(endpoint_url=ep.url)
    req = request()
    lifecycle.create_session(client, req)
    before, sent = ep.calls["GetSession"], time.monotonic()
    assert lifecycle.wait_ready(client, req["Id"])["Status"] == "READY"
    took = time.monotonic() - sent
    assert 1 <= ep.calls["GetSession"] - before <= took / LATENCY


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_latency_is_milliseconds_from_zero_to_a_minute(value):
    for name in ("latency_ms", "jitter_ms"):
        try:
            settings = EndpointSettings(**{name: value})
        except ValueError as exc:
            assert not 0 <= value <= MAX_LATENCY_MS
            assert str(exc).startswith(f"{name} ") and "\n" not in str(exc)
        else:
            assert getattr(settings, name) == value and math.isfinite(value)
