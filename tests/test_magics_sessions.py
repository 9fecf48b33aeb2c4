"""Session policy through the magics, in-process (a real IPython shell, real parsing, the
local endpoint): ``auto_restart`` on and off, and ``%glue_reconnect`` keeping the attached
session's own client.  SessionManager's own tests are in tests/test_sessions.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from helpers import ROLE
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics.magics import GlueMagics


@pytest.fixture
def shell_on(fresh_endpoint):
    """``shell_on(**endpoint_settings)`` -> (shell, magics, endpoint): the in-process shell
    with fresh GlueMagics pointed at a fresh local endpoint; closed after the test."""
    made: list[tuple[Any, GlueMagics]] = []

    def factory(**settings: Any) -> tuple[Any, GlueMagics, Any]:
        ep = fresh_endpoint(**settings)
        ip = InteractiveShell.instance()
        ip.config.pop("GlueMagics", None)
        magics = GlueMagics(shell=ip)
        ip.register_magics(magics)
        made.append((ip, magics))
        assert ip.run_cell(
            f'%config GlueMagics.endpoint_url = "{ep.url}"\n'
            f'%config GlueMagics.role = "{ROLE}"\n%config GlueMagics.progress = "none"'
        ).success
        return ip, magics, ep

    yield factory
    for ip, magics in made:
        magics.close()
        ip.configurables.remove(magics)
        ip.config.pop("GlueMagics", None)


def run(ip: Any, cell: str) -> tuple[Any, Any]:
    with capture_output() as cap:
        result = ip.run_cell(cell)
    return result, cap


def until_timeout(client: Any, session_id: str) -> str:
    """Poll until the endpoint has timed the session out (the deadline only guards a hang)."""
    deadline = time.monotonic() + 60
    status = ""
    while status != "TIMEOUT" and time.monotonic() < deadline:
        status = client.get_session(Id=session_id)["Session"]["Status"]
        time.sleep(0.05)
    return status


def test_auto_restart_runs_the_cell_in_a_new_session(shell_on, glue_client):
    ip, magics, ep = shell_on(minute_seconds=0.5)
    assert ip.run_cell("%config GlueMagics.auto_restart = True").success
    result, cap = run(ip, "%glue_session --idle-timeout 1 --id restart-1")
    assert result.success, cap.stderr
    assert until_timeout(glue_client(ep), "restart-1") == "TIMEOUT"
    result, cap = run(ip, "%%glue\nprint('again')")
    assert result.success, cap.stderr
    assert "again" in cap.stdout and "(auto_restart: creating a new session)" in cap.stdout
    assert magics.session_id not in (None, "restart-1") and ep.sessions_created == 2


def test_without_auto_restart_a_timed_out_session_is_one_line(shell_on, glue_client):
    ip, magics, ep = shell_on(minute_seconds=0.5)
    result, cap = run(ip, "%glue_session --idle-timeout 1 --id restart-2")
    assert result.success, cap.stderr
    assert until_timeout(glue_client(ep), "restart-2") == "TIMEOUT"
    result, cap = run(ip, "%%glue\nprint('late')")
    assert isinstance(result.error_in_exec, UsageError)
    message = str(result.error_in_exec)
    assert "session restart-2 is TIMEOUT" in message and "%glue_session" in message
    assert "\n" not in message and "Traceback" not in cap.stderr
    assert magics.session_id is None and ep.sessions_created == 1


def test_reconnect_attaches_with_its_own_client_and_stop_ends_it(
    shell_on, fresh_endpoint, glue_client
):
    ip, magics, ep = shell_on()
    theirs = glue_client(ep)
    theirs.create_session(Id="theirs-1", Role=ROLE, Command={"Name": "glueetl"})
    result, cap = run(ip, "%glue_reconnect 'theirs-1'")
    assert result.success, cap.stderr
    assert magics.session_id == "theirs-1" and "theirs-1" not in magics.created

    other = fresh_endpoint()
    assert ip.run_cell(f'%config GlueMagics.endpoint_url = "{other.url}"').success
    assert magics.manager.client_for("theirs-1").meta.endpoint_url == ep.url
    result, cap = run(ip, "%%glue\nprint(6 * 7)")
    assert result.success, cap.stderr
    assert "42" in cap.stdout
    assert ep.calls["RunStatement"] == 1 and other.calls["RunStatement"] == 0

    result, cap = run(ip, "%glue_stop")
    assert result.success, cap.stderr
    assert "Session theirs-1 STOPP" in cap.stdout and magics.session_id is None
    assert theirs.get_session(Id="theirs-1")["Session"]["Status"] in ("STOPPING", "STOPPED")
    result, cap = run(ip, "%glue_reconnect")
    assert isinstance(result.error_in_exec, UsageError)
    assert "give the session id: %glue_reconnect ID" in str(result.error_in_exec)
