"""%glue_logs, %glue_history and the Spark UI link as a notebook user meets them: a real
ipykernel (jupyter_client) against the local endpoint over HTTP."""

from __future__ import annotations

import re
import urllib.request

import pytest
from helpers import SPARK_PATIENCE, needs_spark, spark_sessions

from tests.kernels import Kernel, kernel_env
from tests.test_magics_kernel import no_traceback


@pytest.fixture
def start_kernel(_shared_endpoint):
    """``start_kernel(**env)``: a kernel for the shared endpoint with the magics loaded
    (text progress) and ``env`` added to its environment; shut down after the test."""
    started: list[Kernel] = []

    def start(**env: str) -> Kernel:
        started.append(Kernel(kernel_env(_shared_endpoint.url, **env)))
        started[-1].ok("%load_ext glue_magics\n%config GlueMagics.progress = 'text'")
        return started[-1]

    yield start
    for kernel in started:
        kernel.shutdown()


def everything(reply) -> str:
    """All a frontend was sent for a cell: streams and every display's data."""
    data = [str(m["content"].get("data", "")) for m in reply.messages]
    return reply.stdout + reply.stderr + "".join(data)


def saved(reply) -> str:
    """What a notebook keeps of a cell: its outputs (streams, displays, results), which
    hold a widget's id but not its state."""
    kept = ("stream", "display_data", "update_display_data", "execute_result", "error")
    return str([m["content"] for m in reply.messages if m["msg_type"] in kept])


def test_logs_and_history_of_a_local_session(start_kernel, tmp_path):
    kernel = start_kernel()
    ready = kernel.ok("%glue_session")
    assert "Spark UI" not in everything(ready)  # Spark starts at first use: no UI yet
    session_id = re.search(r"Creating session (\S+):", ready.stdout).group(1)
    kernel.ok("%%glue\nprint('hi')")
    assert kernel.execute("%%glue\nx = 2\n1 / 0").status == "error"

    shown = kernel.ok("%glue_logs --tail 3")
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"System log of session {session_id}, last 3 of ")
    assert len(lines) == 4 and "statement 2 raised ZeroDivisionError" in lines[-1]

    saved = tmp_path / "glue.log"
    quiet = kernel.ok(f"%glue_logs {session_id} --tail 0 --save {saved}")
    assert quiet.stdout.startswith("Saved all ") and quiet.stdout.strip().endswith(str(saved))
    assert f"starting the worker of session {session_id}" in saved.read_text()

    bad = kernel.execute("%glue_logs --tail -5")
    assert bad.status == "error" and "argument --tail: '-5' is not a count" in bad.stderr
    no_traceback(bad)

    history = kernel.ok("%glue_history")
    [table] = history.data("text/plain")
    assert f"2 statement(s) in session {session_id}" in table
    assert re.search(r"1\s+AVAILABLE\s+\d+ ms\s+print\('hi'\)", table), table
    assert re.search(r"2\s+AVAILABLE\s+\d+ ms\s+x = 2 \.\.\.", table), table

    status = kernel.ok("%glue_status")
    assert "Spark UI" not in everything(status)
    for reply in (shown, quiet, history, status):
        assert "X-Amz-Signature" not in everything(reply)  # the logs link is never shown


@pytest.mark.slow
@pytest.mark.timeout(SPARK_PATIENCE * 2)  # Spark starts before READY, then the query
@needs_spark
def test_spark_ui_link_opens_the_sessions_spark_ui(start_kernel):
    kernel = start_kernel(GLUE_MAGICS_SPARK_MASTER="local[1]")
    with spark_sessions():  # Spark starts before READY
        created = kernel.ok("%glue_session", timeout=SPARK_PATIENCE)
    session_id = re.search(r"Creating session (\S+):", created.stdout).group(1)
    assert "3" in kernel.ok("%%glue\nspark.range(3).count()", timeout=180).stdout
    status = kernel.ok("%glue_status")  # widgets: the link rides only in a widget's state
    assert "Spark UI" in status.data("text/plain")[0]
    states = [m["content"]["data"].get("state", {}) for m in status.of_type("comm_open")]
    [link] = [s["value"] for s in states if "Open the Spark UI" in str(s.get("value"))]
    url = re.search(r'<a href="(http://[^"]+)" target="_blank"', link).group(1)
    assert url not in saved(status)  # in no output a notebook saves
    with urllib.request.urlopen(url, timeout=30) as page:  # the link opens Spark's UI
        assert page.status == 200 and b"Spark Jobs" in page.read()
    again = kernel.ok(f"%glue_reconnect {session_id}")  # said at READY, never printed
    assert "Spark UI: available" in again.stdout and url not in saved(again)
    assert f"Spark UI at {url}" in kernel.ok("%glue_logs --tail 1000").stdout
