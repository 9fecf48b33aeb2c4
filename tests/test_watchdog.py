"""The watchdog: a kernel that dies, however it dies, leaves no session running.

Real kernels through jupyter_client, against a LocalEndpoint in this test process (not
embedded in the kernel, so the session outlives the kernel as a real Glue session would),
killed with SIGKILL at the three moments a user meets: while ``%glue_session`` waits in
PROVISIONING, after READY, and while a ``%%glue`` statement runs.  Each time the session
must be STOPPED (or gone) within 15 s, the statement's worker process must be gone, and the
kernel's watchdog must have exited.  A real boto3 client watches the sessions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROLE

from glue_magics.sessions import SessionManager, Settings
from glue_magics.states import STOPPED_STATES
from tests.kernels import Kernel, kernel_env

WITHIN = 15.0  # seconds from SIGKILL to a stopped session: the bound


def wait_for(check: Callable[[], Any], what: str, timeout: float = WITHIN) -> Any:
    """Poll ``check`` until it returns something true; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie waiting for its parent to reap it has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def watchdogs_of(kernel_pid: int) -> list[int]:
    """The live watchdog processes started by the process ``kernel_pid`` (from /proc)."""
    wanted = b"\0".join([b"-m", b"glue_magics.watchdog", str(kernel_pid).encode()]) + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.endswith(wanted) and not gone(int(entry.name)):
            found.append(int(entry.name))
    return found


def status(glue: Any, session_id: str) -> str:
    """The session's status, or ABSENT when the endpoint does not know it."""
    try:
        return glue.get_session(Id=session_id)["Session"]["Status"]
    except glue.exceptions.EntityNotFoundException:
        return "ABSENT"


def stopped(glue: Any, session_id: str) -> bool:
    return status(glue, session_id) in STOPPED_STATES | {"ABSENT"}


@contextlib.contextmanager
def kernel_on(endpoint: Any) -> Iterator[Kernel]:
    """A python3 kernel with the magics loaded, aimed at ``endpoint``; shut down after,
    dead or alive."""
    kernel = Kernel(kernel_env(endpoint.url))
    try:
        kernel.ok("%load_ext glue_magics")
        yield kernel
    finally:
        kernel.kc.stop_channels()
        kernel.km.shutdown_kernel(now=not kernel.km.is_alive())


def sigkill(kernel: Kernel) -> int:
    """SIGKILL the kernel process (the provisioner's pid) and return that pid."""
    pid = kernel.km.provisioner.pid
    os.kill(pid, signal.SIGKILL)
    return pid


def the_watchdog(kernel: Kernel) -> int:
    """The kernel's one watchdog process."""
    pids = wait_for(lambda: watchdogs_of(kernel.km.provisioner.pid), "a watchdog starting")
    assert len(pids) == 1, pids
    return pids[0]


# --------------------------------------------------------------------------- SIGKILL, 3 moments


def test_sigkill_while_provisioning_stops_the_session(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=600)  # PROVISIONING for as long as the test runs
    glue = glue_client(ep)
    with kernel_on(ep) as kernel:
        kernel.kc.execute("%glue_session --id wd-provisioning")  # no reply: it waits
        wait_for(lambda: status(glue, "wd-provisioning") == "PROVISIONING", "PROVISIONING")
        watchdog = the_watchdog(kernel)
        sigkill(kernel)
        wait_for(lambda: stopped(glue, "wd-provisioning"), "the session stopping")
        wait_for(lambda: gone(watchdog), "the watchdog exiting")
    assert ep.calls["StopSession"] >= 1


def test_sigkill_after_ready_stops_the_session(fresh_endpoint, glue_client):
    ep = fresh_endpoint(provision_seconds=0.2)
    glue = glue_client(ep)
    with kernel_on(ep) as kernel:
        kernel.ok("%glue_session --id wd-ready")
        assert status(glue, "wd-ready") == "READY"
        watchdog = the_watchdog(kernel)
        sigkill(kernel)
        wait_for(lambda: stopped(glue, "wd-ready"), "the session stopping")
        wait_for(lambda: gone(watchdog), "the watchdog exiting")


def test_sigkill_during_a_statement_stops_the_session_and_its_worker(
    fresh_endpoint, glue_client, tmp_path
):
    ep = fresh_endpoint(provision_seconds=0.2)
    glue = glue_client(ep)
    pid_file = tmp_path / "worker.pid"
    with kernel_on(ep) as kernel:
        kernel.ok("%glue_session --id wd-statement")
        watchdog = the_watchdog(kernel)
        kernel.kc.execute(
            "%%glue\nimport os, time\n"
            f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            "time.sleep(60)\n"
        )
        worker = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the statement"))
        assert not gone(worker)
        sigkill(kernel)
        wait_for(lambda: stopped(glue, "wd-statement"), "the session stopping")
        wait_for(lambda: gone(worker), "the statement's worker ending")
        wait_for(lambda: gone(watchdog), "the watchdog exiting")


# --------------------------------------------------------------------------- clean exits


def test_clean_shutdown_stops_once_and_leaves_no_watchdog(fresh_endpoint, glue_client):
    """stop_on_exit on: the kernel stops its session itself and the watchdog, told so, exits
    without a second StopSession."""
    ep = fresh_endpoint(provision_seconds=0.2)
    glue = glue_client(ep)
    kernel = Kernel(kernel_env(ep.url))
    kernel.ok("%load_ext glue_magics")
    kernel.ok("%glue_session --id wd-clean")
    watchdog = the_watchdog(kernel)
    kernel.shutdown()
    wait_for(lambda: gone(watchdog), "the watchdog exiting")
    wait_for(lambda: stopped(glue, "wd-clean"), "the session stopping")
    assert ep.calls["StopSession"] == 1  # the kernel's own; none from the watchdog


def test_stop_on_exit_off_leaves_the_session_on_clean_exit_and_on_sigkill(
    fresh_endpoint, glue_client
):
    """stop_on_exit off, set before or after the session: no stop, and no watchdog left."""
    ep = fresh_endpoint(provision_seconds=0.2)
    glue = glue_client(ep)
    kernel = Kernel(kernel_env(ep.url))
    kernel.ok("%load_ext glue_magics\n%config GlueMagics.stop_on_exit = False")
    kernel.ok("%glue_session --id wd-kept-clean")
    assert watchdogs_of(kernel.km.provisioner.pid) == []  # nothing to watch: none started
    kernel.shutdown()
    with kernel_on(ep) as kernel:
        kernel.ok("%glue_session --id wd-kept-killed")
        watchdog = the_watchdog(kernel)
        kernel.ok("%config GlueMagics.stop_on_exit = False")  # reaches the watchdog at once
        sigkill(kernel)
        wait_for(lambda: gone(watchdog), "the watchdog exiting")
    assert status(glue, "wd-kept-clean") == "READY"
    assert status(glue, "wd-kept-killed") == "READY"
    assert ep.calls["StopSession"] == 0


def test_embedded_endpoint_needs_no_watchdog_its_workers_die_with_the_kernel(tmp_path):
    """endpoint_url = "local": the endpoint lives in the kernel, so no watchdog starts, and
    the statement's worker dies with the kernel (PR_SET_PDEATHSIG)."""
    pid_file = tmp_path / "worker.pid"
    kernel = Kernel(kernel_env("http://127.0.0.1:9"))
    try:
        kernel.ok(
            "%load_ext glue_magics\n"
            "%config GlueMagics.endpoint_url = 'local'\n"
            "%config GlueMagics.local_provision_seconds = 0.1"
        )
        kernel.ok("%glue_session --id wd-embedded")
        kernel.kc.execute(
            f"%%glue\nimport os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
            "time.sleep(60)\n"
        )
        worker = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the statement"))
        assert watchdogs_of(kernel.km.provisioner.pid) == []
        sigkill(kernel)
        wait_for(lambda: gone(worker), "the statement's worker ending")
    finally:
        kernel.kc.stop_channels()
        kernel.km.shutdown_kernel(now=True)


# --------------------------------------------------------------------------- no kernel


def test_the_registry_tells_the_watchdog_what_to_watch(endpoint):
    """A session is watched from before its CreateSession until it is stopped; settings that
    turn stopping at exit off reach the watchdog; close lets it go (and reaps it)."""
    settings = Settings(config_options={"role": ROLE, "endpoint_url": endpoint.url})
    manager = SessionManager(settings)
    try:
        session_id = manager.create(manager.resolve({"id": "wd-registry-1"}))
        watchdog = manager.created.watchdog
        assert list(watchdog.watched) == [session_id]
        assert watchdog.watched[session_id]["endpoint_url"] == endpoint.url
        assert not {"aws_access_key_id", "aws_secret_access_key"} & set(
            watchdog.watched[session_id]
        )
        pid = watchdog.pid
        settings.watchdog = False
        manager.created.sync()
        assert watchdog.watched == {} and not gone(pid)  # idle, not restarted at each change
        settings.watchdog = True
        manager.created.sync()
        assert list(watchdog.watched) == [session_id] and watchdog.pid == pid
        manager.stop()
        assert watchdog.watched == {}
    finally:
        manager.close()
    assert gone(pid) and manager.created.watchdog.pid is None


def test_a_killed_watchdog_is_replaced_at_the_next_change(endpoint):
    manager = SessionManager(Settings(config_options={"role": ROLE, "endpoint_url": endpoint.url}))
    try:
        manager.create(manager.resolve({"id": "wd-replaced-1"}))
        first = manager.created.watchdog.pid
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: gone(first), "the watchdog dying")
        manager.create(manager.resolve({"id": "wd-replaced-2"}), force=True)
        watchdog = manager.created.watchdog
        assert watchdog.pid != first and not gone(watchdog.pid)
        assert list(watchdog.watched) == ["wd-replaced-2"]
    finally:
        manager.close()


def test_a_create_that_lands_after_the_kernel_died_is_stopped(endpoint, glue):
    """Killed during CreateSession: the watchdog finds nothing to stop at first, and looks
    once more, so a create still on its way is stopped when it lands."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from glue_magics.watchdog import Watchdog
        w = Watchdog()
        w.sync({{"wd-late-1": {{"region": "us-east-1", "profile": None,
                              "endpoint_url": {endpoint.url!r}}}}})
        print(w.pid, flush=True)
        time.sleep(120)
        """
    )
    before = endpoint.calls["StopSession"]
    kernel = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    watchdog = int(kernel.stdout.readline())
    kernel.kill()
    kernel.wait()
    kernel.stdout.close()
    wait_for(lambda: endpoint.calls["StopSession"] > before, "the watchdog's first StopSession")
    glue.create_session(Id="wd-late-1", Role=ROLE, Command={"Name": "glueetl"})
    wait_for(lambda: stopped(glue, "wd-late-1"), "the late session stopping")
    wait_for(lambda: gone(watchdog), "the watchdog exiting")


def test_watchdog_refuses_bad_arguments():
    result = subprocess.run(
        [sys.executable, "-m", "glue_magics.watchdog", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "KERNEL_PID" in result.stderr


@pytest.mark.parametrize("line", [b"", b"not json", b"[1]", b'{"other": 1}', b'{"forget": "x"}'])
def test_junk_lines_change_nothing(line):
    from glue_magics.watchdog import _apply

    watched = {"a": {"region": "r", "profile": None, "endpoint_url": None}}
    _apply(watched, line)
    assert list(watched) == ["a"]


def test_sigterm_stops_sessions_only_if_the_kernel_ends_too(endpoint, glue):
    """A logout or a shutdown sends SIGTERM to the kernel and the watchdog alike: the
    watchdog waits for the kernel to end and then stops its sessions.  SIGTERM to the
    watchdog alone leaves the live kernel's sessions alone."""
    code = textwrap.dedent(
        f"""
        import time
        from glue_magics.sessions import SessionManager, Settings
        m = SessionManager(Settings(config_options={{"role": {ROLE!r},
                                                     "endpoint_url": {endpoint.url!r}}}))
        for n in (1, 2):  # the second time, a new watchdog: the first one was ended
            m.create(m.resolve({{"id": f"wd-term-{{n}}"}}), force=True)
            print(m.created.watchdog.pid, flush=True)
            input()
        time.sleep(120)
        """
    )
    kernel = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        alone = int(kernel.stdout.readline())
        os.kill(alone, signal.SIGTERM)
        wait_for(lambda: gone(alone), "the watchdog ending on SIGTERM")
        assert status(glue, "wd-term-1") == "READY"
        kernel.stdin.write("\n")
        kernel.stdin.flush()
        both = int(kernel.stdout.readline())
        assert both != alone
        os.kill(both, signal.SIGTERM)
        kernel.kill()
        wait_for(lambda: stopped(glue, "wd-term-2"), "the session stopping")
        wait_for(lambda: gone(both), "the watchdog exiting")
    finally:
        kernel.kill()
        kernel.wait()
        kernel.stdin.close()
        kernel.stdout.close()
        glue.stop_session(Id="wd-term-1")
