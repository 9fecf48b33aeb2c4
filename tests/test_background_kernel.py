"""``%glue_session --background`` as a notebook user meets it: a real ipykernel driven by
jupyter_client, the local endpoint (sessions take seconds to start) over HTTP.

Widget updates sent from the kernel's thread travel as comm messages on iopub whichever
cell runs then; ``Kernel.log`` keeps every iopub message in the order they came, so "while
that cell ran" is "between its busy and its idle".
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
import test_kernel
from helpers import make_glue, release
from test_magics_kernel import no_traceback, stopped_soon

from glue_magics.local import LocalEndpoint
from tests.kernels import Kernel, Reply, kernel_env, once_shown

# Long enough that no cell of a test outlasts it on a loaded machine; a test that needs READY
# ends the provisioning itself (helpers.release) once its joining cell shows it is waiting.
PROVISION_SECONDS = 20.0
installed = test_kernel.installed  # the fixture: our kernelspec, installed for this module


@pytest.fixture(scope="module")
def ep():
    with LocalEndpoint(provision_seconds=PROVISION_SECONDS, stop_seconds=0.1) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def kernel(ep):
    k = Kernel(kernel_env(ep.url))
    k.ok("%load_ext glue_magics")
    yield k
    k.shutdown()


def status(ep: Any, session_id: str) -> str:
    return make_glue(ep.url).get_session(Id=session_id)["Session"]["Status"]


def widget(reply: Reply, model: str) -> str:
    """The comm id of the one widget of ``model`` ("IntProgressModel", "HTMLModel") the
    cell opened."""
    [comm_id] = [
        m["content"]["comm_id"]
        for m in reply.of_type("comm_open")
        if m["content"]["data"]["state"].get("_model_name") == model
    ]
    return comm_id


def during(k: Kernel, reply: Reply) -> list[dict]:
    """The iopub messages that came while ``reply``'s cell ran, whichever cell they are of."""
    msg_id = reply.messages[0]["parent_header"]["msg_id"]
    mine = [i for i, m in enumerate(k.log) if m["parent_header"].get("msg_id") == msg_id]
    return k.log[mine[0] : mine[-1] + 1]


def kill_worker(ep: Any, session_id: str) -> None:
    """Kill one session's worker process: the endpoint then says the session FAILED, as the
    service does of a session whose driver died (local/backend.py, ``_process_ended``)."""
    deadline = time.monotonic() + 30
    while ep.backend.sessions[session_id].worker is None:  # spawned just after create
        assert time.monotonic() < deadline, "no worker process"
        time.sleep(0.01)
    os.kill(ep.backend.sessions[session_id].worker.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    "line",
    [
        "%glue_session --background --id {id}",
        "%config GlueMagics.start = 'background'\n%glue_session --id {id}",
    ],
    ids=["flag", "setting"],
)
def test_the_notebook_stays_usable_while_the_session_starts(kernel, ep, line):
    session_id = f"bg-usable-{'flag' if '--background' in line else 'setting'}"
    started = kernel.ok(line.format(id=session_id))
    assert status(ep, session_id) == "PROVISIONING"  # the cell returned before READY
    assert f"Creating session {session_id}" in started.stdout
    bar, label = widget(started, "IntProgressModel"), widget(started, "HTMLModel")

    local = kernel.ok("x = 1 + 1\nprint('local', x)")
    assert "local 2" in local.stdout
    assert status(ep, session_id) == "PROVISIONING"
    working = kernel.ok("import time\ntime.sleep(1.5)\nprint('worked')")  # a longer local cell
    assert "worked" in working.stdout
    assert status(ep, session_id) == "PROVISIONING"
    moved = [
        m
        for m in during(kernel, working)
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] in (bar, label)
    ]
    assert moved, "the widget of %glue_session kept moving while another cell ran"
    assert not working.stderr and working.stdout.strip() == "worked"  # nothing leaked in
    looked = kernel.ok("%glue_status")  # only looks: no wait, no bar
    assert "PROVISIONING" in str(looked.data("text/plain")) and not looked.of_type("comm_open")

    ready_now = once_shown(lambda k: release(ep, session_id))
    reply = kernel.ok("%%glue\nprint(6 * 7)", on_message=ready_now)  # waits, with its own bar
    assert "42" in reply.stdout
    assert reply.of_type("comm_open"), "this cell showed the wait too"
    values = [s["value"] for s in kernel.comm_states(bar) if "value" in s]
    assert values == sorted(values) and values[-1] == 100 and len(set(values)) >= 3, values
    styles = [s["bar_style"] for s in kernel.comm_states(bar) if "bar_style" in s]
    assert styles[-1] == "success"
    texts = [s["value"] for s in kernel.comm_states(label) if "value" in s]
    assert "READY in" in texts[-1] and "5 DPU, ~$2.20/h" in texts[-1]
    # how it ended is also the display's plain text (kept by nbconvert and logs)
    updated = [m for m in kernel.log if m["msg_type"] == "update_display_data"]
    assert any("READY in" in m["content"]["data"]["text/plain"] for m in updated)
    kernel.ok("%glue_stop\n%config GlueMagics.start = 'wait'")


def test_a_failed_start_turns_red_and_the_next_cell_says_it_in_one_line(kernel, ep):
    started = kernel.ok("%glue_session --background --id bg-red")
    bar, label = widget(started, "IntProgressModel"), widget(started, "HTMLModel")
    kill_worker(ep, "bg-red")

    def said(log: list[dict]) -> bool:
        return any("FAILED after" in str(s.get("value")) for s in kernel.comm_states(label))

    kernel.drain(said)  # no cell runs: the widget says it on its own
    styles = [s["bar_style"] for s in kernel.comm_states(bar) if "bar_style" in s]
    assert styles[-1] == "danger"
    texts = [s["value"] for s in kernel.comm_states(label) if "value" in s]
    assert "FAILED after" in texts[-1] and "exited unexpectedly" in texts[-1]
    runs = ep.calls["RunStatement"]
    reply = kernel.execute("%%glue\nprint('never')")
    assert reply.status == "error" and reply.ename == "UsageError"
    assert "bg-red is FAILED" in reply.stderr and "exited unexpectedly" in reply.stderr
    no_traceback(reply)
    assert ep.calls["RunStatement"] == runs
    gone = kernel.execute("%glue_status")  # forgotten, as after a failed wait
    assert gone.status == "error" and "no session yet" in gone.stderr


def test_glue_stop_during_the_start_ends_it_without_ready(kernel, ep):
    since = len(kernel.log)
    started = kernel.ok("%glue_session --background --id bg-stop")
    bar = widget(started, "IntProgressModel")
    stop = kernel.ok("%glue_stop")
    assert "Session bg-stop STOPP" in stop.stdout
    assert stopped_soon(ep, "bg-stop") in ("STOPPING", "STOPPED")
    threads = kernel.ok(
        "import threading\nprint(sorted(t.name for t in threading.enumerate()))"
    ).stdout
    assert "glue-magics-start" not in threads  # the thread has ended: no READY can follow
    styles = [s["bar_style"] for s in kernel.comm_states(bar) if "bar_style" in s]
    assert styles[-1] == "warning" and "success" not in styles
    assert "READY" not in "".join(m["content"].get("text", "") for m in kernel.log[since:])


def test_ctrl_c_in_a_waiting_cell_stops_that_wait_only(kernel, ep):
    """Decided: unlike Ctrl-C during %glue_session's own wait (which stops the session), it
    ends this cell's wait and the session goes on starting: the user chose to let it."""
    created = ep.sessions_created
    kernel.ok("%glue_session --background --id bg-ctrl-c")

    ctrl_c = once_shown(Kernel.interrupt)  # once the cell draws its wait
    reply = kernel.execute("%%glue\nprint('waited')", on_message=ctrl_c)
    assert reply.status == "error" and "waited" not in reply.stdout
    assert "bg-ctrl-c goes on starting in the background" in reply.stderr
    assert "stop it with %glue_stop bg-ctrl-c" in reply.stderr
    assert status(ep, "bg-ctrl-c") in ("PROVISIONING", "READY")
    ready_now = once_shown(lambda k: release(ep, "bg-ctrl-c"))
    again = kernel.ok("%%glue\nprint('waited')", on_message=ready_now)  # joins the same start
    assert "waited" in again.stdout and ep.sessions_created == created + 1  # the same one
    kernel.ok("%glue_stop")


def test_kernel_shutdown_during_the_start_stops_the_session(ep):
    k = Kernel(kernel_env(ep.url))
    try:
        k.ok("%load_ext glue_magics\n%glue_session --background --id bg-exit")
        assert status(ep, "bg-exit") == "PROVISIONING"
    finally:
        k.shutdown()
    assert stopped_soon(ep, "bg-exit") in ("STOPPING", "STOPPED")


def display_of(reply) -> str:
    """The id of the one display the cell made to update later (its text progress line)."""
    [display_id] = {
        m["content"]["transient"]["display_id"]
        for m in reply.of_type("display_data")
        if "display_id" in m["content"].get("transient", {})
    }
    return display_id


def redrawn(log: list[dict], display_id: str) -> list[str]:
    """Each text that display was redrawn with, in order."""
    return [
        m["content"]["data"]["text/plain"]
        for m in log
        if m["msg_type"] == "update_display_data"
        and m["content"]["transient"]["display_id"] == display_id
    ]


def test_text_progress_updates_its_own_display_not_the_running_cell(kernel, ep):
    started = kernel.ok(
        "%config GlueMagics.progress = 'text'\n%glue_session --background --id bg-text"
    )
    display_id = display_of(started)
    working = kernel.ok("import time\ntime.sleep(1)\nprint('worked')")
    assert working.stdout.strip() == "worked" and not working.of_type("display_data")
    updates = [m for m in during(kernel, working) if m["msg_type"] == "update_display_data"]
    assert updates and all(m["content"]["transient"]["display_id"] == display_id for m in updates)
    reply = kernel.ok(
        "%%glue\nprint(6 * 7)", on_message=once_shown(lambda k: release(ep, "bg-text"))
    )
    assert "42" in reply.stdout
    assert "READY in" in redrawn(kernel.log, display_id)[-1]
    kernel.ok("%glue_stop\n%config GlueMagics.progress = 'auto'")


def test_a_failed_start_in_text_progress_is_said_in_its_own_display(kernel, ep):
    started = kernel.ok(
        "%config GlueMagics.progress = 'text'\n%glue_session --background --id bg-text-red"
    )
    display_id = display_of(started)
    kill_worker(ep, "bg-text-red")

    ended = lambda log: any("FAILED:" in line for line in redrawn(log, display_id))  # noqa: E731
    kernel.drain(ended)  # how it ended
    bar, reason = redrawn(kernel.log, display_id)[
        -1
    ].splitlines()  # the reason whole, on its own line
    assert "FAILED after" in bar and bar.endswith("bg-text-red")
    assert "bg-text-red is FAILED: The session's Python process exited" in reason
    reply = kernel.execute("%%glue\nprint('never')")
    assert reply.status == "error" and "bg-text-red is FAILED" in reply.stderr
    kernel.ok("%config GlueMagics.progress = 'auto'")


def test_background_with_no_wait_is_one_line_and_no_call(kernel, ep):
    before = ep.calls["CreateSession"]
    reply = kernel.execute("%glue_session --background --no-wait")
    assert reply.status == "error" and reply.ename == "UsageError"
    assert "--background and --no-wait" in reply.stderr and "give one" in reply.stderr
    no_traceback(reply)
    dry = kernel.ok("%glue_session --background --dry-run --workers 3")
    assert '"NumberOfWorkers": 3' in dry.stdout  # the dry run wins
    assert ep.calls["CreateSession"] == before


def test_plain_cells_of_the_glue_kernel_wait_for_the_background_start(installed, ep):
    """AWS-kernel style: a plain cell runs in the session, so it is the one that waits."""
    k = Kernel(kernel_env(ep.url), kernel_name="glue_magics", kernel_spec_manager=installed)
    try:
        k.ok("%glue_session --background --id bg-plain")
        local = k.ok("%%local\nprint('here', 1 + 1)")
        assert "here 2" in local.stdout and status(ep, "bg-plain") == "PROVISIONING"
        runs = ep.calls["RunStatement"]
        reply = k.ok("print(6 * 7)", on_message=once_shown(lambda k: release(ep, "bg-plain")))
        assert "42" in reply.stdout and reply.of_type("comm_open")  # waited, with a bar
        assert ep.calls["RunStatement"] == runs + 1
    finally:
        k.shutdown()
    assert stopped_soon(ep, "bg-plain") in ("STOPPING", "STOPPED")


@pytest.mark.slow  # Spark's server (a JVM) starts for the session
def test_spark_connect_spark_is_bound_by_the_first_cell_that_needs_the_session(installed):
    """Decided: the thread binds nothing in the user's namespace (a name appearing while
    another cell runs races with it); the first cell that needs the session binds `spark`."""
    from test_spark_connect_kernel import START, needs_spark_connect

    needs_spark_connect()
    with LocalEndpoint(provision_seconds=0.1, stop_seconds=0.1) as endpoint:
        env = kernel_env(endpoint.url, GLUE_CONNECT_CA_FILE=str(endpoint.connect_ca_file))
        k = Kernel(env, kernel_name="glue_magics", kernel_spec_manager=installed)
        try:
            k.ok("%glue_session --session-type spark-connect --background --id bg-connect")
            local = k.ok("%%local\nprint('spark' in globals())")
            assert local.stdout.strip() == "False"
            reply = k.ok("spark.range(5).count()", timeout=START)  # waits, binds, runs here
            assert "`spark` is bound here" in reply.stdout
            assert "5" in str(reply.data("text/plain"))
            assert endpoint.calls["RunStatement"] == 0
        finally:
            k.shutdown()
