"""The same service + lifecycle code against another implementation of the Glue API: moto.

moto's server answers CreateSession with an empty body, reports READY at once with a
fixed ``Progress`` of 12.3 and a placeholder ``ErrorMessage``, never finishes a stop
(STOPPING forever) and refuses a second stop.  Our code must cope with all of that.
moto has no statements, so those are only tested against the local endpoint.
"""

from __future__ import annotations

import uuid

import pytest
from helpers import ROLE

from glue_magics import lifecycle
from glue_magics.lifecycle import SessionFailed, SessionView
from glue_magics.service import GlueError, make_client


@pytest.fixture
def client(moto_server):
    return make_client(endpoint_url=moto_server, max_attempts=2)


def request() -> dict:
    return {
        "Id": f"moto-{uuid.uuid4().hex[:12]}",
        "Role": ROLE,
        "Command": {"Name": "glueetl", "PythonVersion": "3"},
        "GlueVersion": "4.0",
    }


def test_full_cycle_create_status_stop(client):
    req = request()
    session = lifecycle.create_session(client, req)  # empty response: we GetSession
    assert session["Id"] == req["Id"] and session["Status"]

    views: list[SessionView] = []
    ready = lifecycle.wait_ready(client, req["Id"], on_update=views.append)
    assert ready["Status"] == "READY"
    assert views[-1].progress == 100.0  # READY is 100 % even if Progress says 12.3
    assert views[-1].error_message is None  # moto's placeholder is not an error

    assert lifecycle.get_session(client, req["Id"])["Status"] == "READY"
    assert req["Id"] in {s["Id"] for s in lifecycle.list_sessions(client)}

    # moto never completes a stop: reported, not raised
    assert lifecycle.stop_session(client, req["Id"], wait=0.3) == "STOPPING"
    # and refuses a second one (IllegalSessionStateException): still just the status
    assert lifecycle.stop_session(client, req["Id"], wait=0.2) == "STOPPING"
    with pytest.raises(SessionFailed) as info:
        lifecycle.wait_ready(client, req["Id"])
    assert "\n" not in str(info.value) and req["Id"] in str(info.value)
    assert info.value.status == "STOPPING"


def test_create_retried_with_the_same_id_is_one_session(client):
    req = request()
    lifecycle.create_session(client, req)
    again = lifecycle.create_session(client, req)  # moto: AlreadyExistsException
    assert again["Id"] == req["Id"]
    ids = [s["Id"] for s in lifecycle.list_sessions(client)]
    assert ids.count(req["Id"]) == 1
    lifecycle.stop_session(client, req["Id"], wait=0)


def test_list_sessions_over_pages(client):
    mine = {lifecycle.create_session(client, request())["Id"] for _ in range(3)}
    listed = [s["Id"] for s in lifecycle.list_sessions(client, page_size=2)]
    assert mine <= set(listed)
    assert len(listed) == len(set(listed))


def test_unknown_session_is_one_line(client):
    with pytest.raises(GlueError) as info:
        lifecycle.get_session(client, "moto-missing-1")
    assert info.value.code == "EntityNotFoundException"
    assert "\n" not in str(info.value) and "moto-missing-1" in str(info.value)
    assert lifecycle.stop_session(client, "moto-missing-1") == "NOT_FOUND"


def test_magics_cycle_in_a_real_kernel(moto_server):
    """What a user runs, in a real kernel, against moto: create, status, stop."""
    from tests.kernels import Kernel, kernel_env

    k = Kernel(kernel_env(moto_server))
    try:
        created = k.ok("%load_ext glue_magics\n%glue_session --id moto-kernel-1 --workers 2")
        assert "READY in" in created.stdout + str(created.data("text/plain"))
        status = "\n".join(k.ok("%glue_status").data("text/plain"))
        assert "moto-kernel-1" in status and "READY" in status
        stopped = k.ok("%config GlueMagics.stop_wait = 1.0\n%glue_stop")
        assert "moto-kernel-1" in stopped.stdout
        assert "STOPP" in stopped.stdout  # moto stays STOPPING: reported as such, not a hang
    finally:
        k.shutdown()


def test_moto_takes_our_tagged_create_session_and_finds_it_by_tag(moto_server):
    """What every session we create sends (glue_magics.tags): moto accepts it and its
    ListSessions ``Tags`` filter finds it, so ``--mine`` and ``--last`` work there too.
    (moto has no ListStatements: idle times are unknown there, and said so by a blank.)"""
    from glue_magics import inventory, tags
    from glue_magics.sessions import SessionManager, Settings

    options = {"role": ROLE, "endpoint_url": moto_server, "tags": {"team": "data"}}
    manager = SessionManager(Settings(config_options=options, stop_wait=0.3, max_attempts=1))
    try:
        session_id = manager.create(manager.resolve())
        sent = manager.resolve().request()["Tags"]
        assert sent["team"] == "data" and sent[tags.CREATOR_KEY] == "glue-magics"
        client = manager.client()
        untagged = lifecycle.create_session(client, request())["Id"]
        mine = {item.id: item for item in inventory.listing(client, mine=True)}
        assert session_id in mine and untagged not in mine and mine[session_id].idle is None
        assert inventory.last_live(client, tags.mine()) == session_id
        assert {session_id, untagged} <= {item.id for item in inventory.listing(client)}
        lifecycle.stop_session(client, untagged, wait=0)
    finally:
        manager.close()
