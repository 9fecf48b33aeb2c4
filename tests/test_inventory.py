"""The listing shared by ``glue-magics sessions`` and ``%glue_sessions`` (inventory.py):
durations as typed, every page of ListSessions with age, idle time and cost, ours by tag,
what ``stop`` picks, and the session ``%glue_reconnect --last`` attaches to; against the
local endpoint with real boto3, and through the magics in-process."""

from __future__ import annotations

import time

import pytest
from helpers import ROLE, make_glue, new_id, ready, run, wait_status
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics import inventory, lifecycle, tags
from glue_magics.inventory import format_duration, parse_duration
from glue_magics.magics import GlueMagics
from glue_magics.service import GlueError
from glue_magics.sessions import SessionManager, Settings

# --------------------------------------------------------------------------- durations


@given(st.integers(min_value=0, max_value=10**8))
def test_a_formatted_duration_reads_back(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


@given(
    st.lists(st.sampled_from("dhms"), min_size=1, max_size=4, unique=True),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=4, max_size=4),
)
def test_units_in_order_add_up(units, numbers):
    units = sorted(units, key="dhms".index)
    text = "".join(f"{n}{u}" for n, u in zip(numbers, units, strict=False))
    size = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    assert parse_duration(text) == sum(n * size[u] for n, u in zip(numbers, units, strict=False))
    assert parse_duration(f" {text.upper()} ") == parse_duration(text)


@given(st.text(max_size=12))
def test_anything_else_is_one_line_with_the_fix(text):
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message and "is not a duration" in message and "30m" in message
    else:
        assert seconds >= 0 and any(unit in text.lower() for unit in "dhms")


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("90s", 90), ("1h30m", 5400), ("1.5h", 5400)]
)
def test_the_durations_people_type(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "m", "30x", "30m2h", "1h1h", "-5m", "5 minutes"])
def test_durations_refused(text):
    with pytest.raises(ValueError, match="is not a duration; give a number and a unit"):
        parse_duration(text)


# --------------------------------------------------------------------------- listings


@pytest.fixture
def ep(fresh_endpoint):
    return fresh_endpoint(provision_seconds=0.05, stop_seconds=0.05)


def manager_on(ep, **settings) -> SessionManager:
    return SessionManager(
        Settings(config_options={"role": ROLE, "endpoint_url": ep.url}, **settings)
    )


def test_listing_has_every_page_with_age_idle_and_cost(ep):
    glue = make_glue(ep.url)
    ids = [ready(glue) for _ in range(5)]
    run(glue, ids[0], "1")
    glue.stop_session(Id=ids[4])
    wait_status(glue, ids[4], "STOPPED")
    now = time.time()
    listed = {item.id: item for item in inventory.listing(glue, price=3600.0, now=now)}
    assert set(listed) == set(ids) and ep.calls["ListSessions"] >= 1
    ran, fresh, stopped = listed[ids[0]], listed[ids[1]], listed[ids[4]]
    created = ran.created
    assert created is not None and ran.age == pytest.approx(now - created)
    # idle: since the last statement ended; since creation when none ran; none once ended
    [statement] = glue.list_statements(SessionId=ids[0])["Statements"]
    assert ran.idle == pytest.approx(now - statement["CompletedOn"] / 1000)
    assert fresh.idle == pytest.approx(now - fresh.created)
    assert stopped.idle is None and stopped.cost.dpu_seconds is not None  # measured
    # a price of $3600 per DPU-hour: a dollar per DPU-second
    assert fresh.cost.so_far == pytest.approx(fresh.cost.used_dpu_seconds)
    row = fresh.row()
    assert row["Capacity"] == "5 x G.1X" and row["Cost"].startswith("~$")
    assert row["DPU-seconds"].startswith("~") and not stopped.row()["DPU-seconds"].startswith("~")
    data = stopped.to_json()
    assert data["Status"] == "STOPPED" and data["Estimated"] is False
    assert data["IdleSeconds"] is None
    assert data["CostUSD"] == pytest.approx(data["DPUSeconds"], abs=1e-3)
    # what stop picks: live ones, idle at least so long
    picked = {item.id for item in inventory.to_stop(listed.values())}
    assert picked == set(ids[:4])
    assert {item.id for item in inventory.to_stop(listed.values(), idle_over=10**6)} == set()


def test_mine_is_by_tag_and_pages(ep):
    manager = manager_on(ep, stop_on_exit=True)
    try:
        made = [manager.create(manager.resolve(), force=True) for _ in range(3)]
        glue = make_glue(ep.url)
        glue.create_session(Id=new_id("theirs"), Role=ROLE, Command={"Name": "glueetl"})
        someone = {**tags.mine(), tags.USER_KEY: "someone-else"}
        glue.create_session(Id=new_id("else"), Role=ROLE, Command={"Name": "glueetl"}, Tags=someone)
        mine = inventory.listing(glue, mine=True)
        assert {item.id for item in mine} == set(made)
        assert [item.id for item in mine] == made[::-1]  # newest first
        assert len(inventory.listing(glue)) == 5
        on_pages = lifecycle.list_sessions(glue, page_size=1, tags=tags.mine())
        assert {s["Id"] for s in on_pages} == set(made)
    finally:
        manager.close()


def test_last_is_this_notebooks_newest_live_session_else_this_users(ep, monkeypatch):
    glue = make_glue(ep.url)
    notebook = {**tags.mine(), tags.NOTEBOOK_KEY: "a.ipynb"}
    old, new, other = new_id("old"), new_id("new"), new_id("other")
    glue.create_session(Id=old, Role=ROLE, Command={"Name": "glueetl"}, Tags=notebook)
    time.sleep(0.01)  # CreatedOn orders them
    glue.create_session(Id=new, Role=ROLE, Command={"Name": "glueetl"}, Tags=notebook)
    time.sleep(0.01)
    glue.create_session(
        Id=other, Role=ROLE, Command={"Name": "glueetl"}, Tags={**tags.mine(), "x": "1"}
    )
    wait_status(glue, new, "READY")
    assert inventory.last_live(glue, notebook, tags.mine()) == new
    glue.stop_session(Id=new)
    wait_status(glue, new, "STOPPED")
    assert inventory.last_live(glue, notebook, tags.mine()) == old
    glue.stop_session(Id=old)
    wait_status(glue, old, "STOPPED")
    assert inventory.last_live(glue, notebook, tags.mine()) == other  # this user's, then
    assert inventory.last_live(glue, notebook) is None

    manager = manager_on(ep)
    monkeypatch.setenv("JPY_SESSION_NAME", "a.ipynb")
    assert inventory.reconnect_target(manager, "--last") == other
    assert inventory.reconnect_target(manager, "'--last'") == "--last"  # quoted: an id
    glue.stop_session(Id=other)
    wait_status(glue, other, "STOPPED")
    with pytest.raises(GlueError) as info:
        inventory.reconnect_target(manager, " --last ")
    assert "no live session of this notebook" in str(info.value)


@pytest.fixture
def shell_on(ep):
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    assert ip.run_cell(
        f'%config GlueMagics.endpoint_url = "{ep.url}"\n'
        f'%config GlueMagics.role = "{ROLE}"\n%config GlueMagics.progress = "none"'
    ).success
    yield ip, magics
    magics.close()
    ip.configurables.remove(magics)
    ip.config.pop("GlueMagics", None)


def shown(cap) -> str:
    """The text of what a cell displayed (tables are display data, not stdout)."""
    return "\n".join(out.data.get("text/plain", "") for out in cap.outputs)


def test_glue_sessions_mine_and_reconnect_last_through_the_magics(shell_on, ep, monkeypatch):
    ip, magics = shell_on
    monkeypatch.setenv("JPY_SESSION_NAME", "magics.ipynb")
    glue = make_glue(ep.url)
    theirs = new_id("theirs")
    glue.create_session(Id=theirs, Role=ROLE, Command={"Name": "glueetl"})
    with capture_output() as cap:
        assert ip.run_cell("%glue_session --id inv-magic-1").success, cap.stderr
        assert ip.run_cell("%glue_sessions --mine").success, cap.stderr
    table = shown(cap)
    assert "1 Glue session(s) of yours (by tag)" in table
    assert "inv-magic-1" in table and theirs not in table and "current" in table
    with capture_output() as cap:
        assert ip.run_cell("%glue_sessions").success
    table = shown(cap)
    assert "2 Glue session(s)" in table and theirs in table
    assert "Idle" in table and "Cost" in table
    result = ip.run_cell("%glue_sessions --all")
    assert isinstance(result.error_in_exec, UsageError)
    assert "'--all' is not understood; the only flag is --mine" in str(result.error_in_exec)

    magics.manager.session_id = None  # as after a kernel restart, the session left running
    with capture_output() as cap:
        assert ip.run_cell("%glue_reconnect --last").success, cap.stderr
    assert magics.session_id == "inv-magic-1"
