"""Scala cells through two kernels against the local endpoint's Scala REPL: AWS's own Glue
Spark kernel (aws-glue-sessions 1.0.9 ``glue_spark``, unchanged) and ours,
``glue_magics_scala``, installed by ``glue-magics install-kernel``.  And the Scala notebook
in notebooks/ under nbclient.

One Scala session (one JVM) for the two kernels: AWS's kernel creates it, ours attaches to
it with ``%glue_reconnect``; the notebook makes its own.  What AWS's kernel shows comes from
glue_kernel_base/BaseKernel.py: ``display_result`` prints ``TextPlain``,
``_construct_reply_content`` turns ``Status: error`` into an error reply with the
statement's ErrorName and ErrorValue; ``%%sql`` sends ``spark.sql(\"\"\"...\"\"\").show()``
(``_handle_sql_code``), valid Scala as well as Python.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import ROLE, needs_spark, spark_sessions
from jupyter_client.kernelspec import KernelSpecManager
from kernels import Kernel, install_kernels, kernel_env, one_line, run_notebook
from peer_kernel import PeerUnavailable, install_peer, peer_env, peer_venv

from glue_magics.local import LocalEndpoint

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(900)]

JVM_PATIENCE = 600  # the first Scala cell waits for the JVM, Spark and the compiler
CELL = 180
NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "scala_session.ipynb"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    ep = LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, generate_credentials=True)
    with ep:
        yield ep


def signing_with(ep: LocalEndpoint) -> dict[str, str]:
    keys = ep.credentials
    return {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key}


@pytest.fixture(scope="module")
def aws(endpoint: LocalEndpoint) -> Iterator[tuple[Kernel, str]]:
    """AWS's Glue Spark kernel with its Scala session READY and its REPL answering."""
    try:
        python = peer_venv()
    except PeerUnavailable as e:
        pytest.skip(str(e))
    with tempfile.TemporaryDirectory(prefix="peer-spark-") as root:
        specs = install_peer(Path(root), python, kernel="glue_spark")
        kernel = Kernel(
            peer_env(endpoint.url, **signing_with(endpoint)),
            kernel_name="glue_spark",
            kernel_spec_manager=specs,
        )
        try:
            began = time.monotonic()
            reply = kernel.execute("val started = 1", timeout=JVM_PATIENCE)
            assert reply.status == "ok", (reply.evalue, reply.stdout, reply.stderr)
            print(f"AWS kernel: session and first Scala cell in {time.monotonic() - began:.1f} s")
            lines = reply.stdout.splitlines()
            session_id = next(x.split(": ", 1)[1] for x in lines if x.startswith("Session ID: "))
            assert "val started: Int = 1" in reply.stdout
            yield kernel, session_id
        finally:
            kernel.shutdown()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> KernelSpecManager:
    out, kernels = install_kernels(tmp_path_factory.mktemp("prefix"))
    assert "Installed kernelspec glue_magics in" in out
    assert "Installed kernelspec glue_magics_scala in" in out
    spec = json.loads((kernels / "glue_magics_scala" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    assert (spec["display_name"], spec["language"]) == ("Glue Spark (glue-magics)", "scala")
    return KernelSpecManager(kernel_dirs=[str(kernels)])


@pytest.fixture(scope="module")
def ours(endpoint, installed, aws) -> Iterator[Kernel]:
    """Our Scala kernel, attached to the AWS kernel's session."""
    _, session_id = aws
    env = kernel_env(endpoint.url, **signing_with(endpoint))
    kernel = Kernel(env, kernel_name="glue_magics_scala", kernel_spec_manager=installed)
    try:
        kernel.ok(f"%glue_reconnect {session_id}", timeout=CELL)
        yield kernel
    finally:
        kernel.shutdown()


# ------------------------------------------------------------------ AWS's Glue Spark kernel
def test_aws_kernel_runs_vals_println_and_spark(aws):
    kernel, _ = aws
    assert "val x: Int = 42" in kernel.ok("val x = 42", timeout=CELL).stdout
    printed = kernel.ok('println(s"x is $x")', timeout=CELL).stdout
    assert "x is 42" in printed
    counted = kernel.ok('spark.range(1000).filter($"id" % 7 === 0).count()', timeout=CELL)
    assert re.search(r"Long = 143\b", counted.stdout), counted.stdout


def test_aws_kernel_shows_a_scala_exception_as_an_error_and_keeps_state(aws):
    kernel, _ = aws
    kernel.ok("val kept = 5", timeout=CELL)
    reply = kernel.execute('throw new IllegalArgumentException("bad input")', timeout=CELL)
    assert reply.status == "error"
    assert (reply.ename, reply.evalue) == ("java.lang.IllegalArgumentException", "bad input")
    assert "java.lang.IllegalArgumentException: bad input" in reply.stdout  # its own line
    assert re.search(r"Int = 10\b", kernel.ok("kept * 2", timeout=CELL).stdout)


def test_aws_kernel_sql(aws):
    kernel, _ = aws
    shown = kernel.ok("%%sql\nSELECT 6 * 7 AS answer", timeout=CELL).stdout
    assert "|answer|" in shown and "|    42|" in shown


# ------------------------------------------------------------------ our glue_magics_scala
def test_our_kernel_says_scala(ours):
    info = ours.kc.kernel_info(reply=True)["content"]["language_info"]
    assert (info["name"], info["file_extension"]) == ("scala", ".scala")


def test_our_kernel_runs_the_same_cells(ours):
    assert "val y: Int = 7" in ours.ok("val y = 7", timeout=CELL).stdout
    assert "y is 7" in ours.ok('println(s"y is $y")', timeout=CELL).stdout
    counted = ours.ok("%%glue\nspark.range(10).count()", timeout=CELL).stdout
    assert "Long = 10" in counted
    reply = ours.execute('throw new IllegalStateException("nope")', timeout=CELL)
    assert reply.status == "error" and reply.ename == "RemoteError"
    assert "java.lang.IllegalStateException: nope" in "\n".join(reply.traceback)
    assert "Int = 14" in ours.ok("y * 2", timeout=CELL).stdout  # state kept after the error


def test_our_kernel_sql_is_a_table(ours):
    reply = ours.ok("%%sql\nSELECT 'a' AS s, 6 * 7 AS answer", timeout=CELL)
    shown = "".join(reply.data("text/plain")) + reply.stdout
    assert "answer" in shown and "42" in shown


def test_ctrl_c_cancels_a_long_spark_job(ours, endpoint, aws):
    _, session_id = aws
    glue = _signed(endpoint)

    def interrupt_once_running(k: Kernel) -> None:
        def watch() -> None:
            deadline = time.monotonic() + CELL
            while time.monotonic() < deadline:
                listed = glue.list_statements(SessionId=session_id)["Statements"]
                last = max(listed, key=lambda s: s["Id"]) if listed else None
                if last and last["State"] == "RUNNING" and last.get("Progress", 0) > 0:
                    k.interrupt()
                    return
                time.sleep(0.1)

        threading.Thread(target=watch, daemon=True).start()

    code = "sc.parallelize(1 to 2000, 4).map { i => Thread.sleep(100); i }.count()"
    reply = ours.execute(code, timeout=CELL, during=interrupt_once_running)
    assert reply.status == "error"
    listed = glue.list_statements(SessionId=session_id)["Statements"]
    last = max(listed, key=lambda s: s["Id"])
    deadline = time.monotonic() + CELL
    while last["State"] == "CANCELLING" and time.monotonic() < deadline:
        last = glue.get_statement(SessionId=session_id, Id=last["Id"])["Statement"]
        time.sleep(0.1)
    assert last["State"] == "CANCELLED"
    assert "Int = 1" in ours.ok("started", timeout=CELL).stdout  # the REPL goes on


def _signed(ep: LocalEndpoint) -> Any:
    import boto3
    from botocore.config import Config

    from glue_magics import model

    keys = ep.credentials
    session = boto3.Session(
        botocore_session=model.botocore_session(),
        region_name="us-east-1",
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
    )
    return session.client("glue", endpoint_url=ep.url, config=Config(retries={"mode": "standard"}))


def test_measure_first_and_later_scala_cells(endpoint, aws):
    """Not an assertion on time: the figures for the report, beside the Python path's."""
    glue = _signed(endpoint)
    figures = {}
    for language, args in (("scala", {"--session-language": "scala"}), ("python", {})):
        session_id = f"measure-{language}-{time.time_ns()}"
        with spark_sessions():  # the Python session runs Spark too, up before READY
            glue.create_session(
                Id=session_id,
                Role=ROLE,
                Command={"Name": "glueetl", "PythonVersion": "3"},
                DefaultArguments=args,
            )
        while glue.get_session(Id=session_id)["Session"]["Status"] != "READY":
            time.sleep(0.05)
        code = {"scala": "spark.range(100).count()", "python": "spark.range(100).count()"}
        times = []
        for _ in range(2):
            began = time.monotonic()
            statement_id = glue.run_statement(SessionId=session_id, Code=code[language])["Id"]
            while True:
                statement = glue.get_statement(SessionId=session_id, Id=statement_id)
                if statement["Statement"]["State"] in ("AVAILABLE", "FAILED", "ERROR"):
                    break
                time.sleep(0.05)
            assert statement["Statement"]["Output"]["Status"] == "ok", statement
            times.append(time.monotonic() - began)
        figures[language] = times
        glue.delete_session(Id=session_id)
    print(f"\nfirst/later Spark cell after READY: {figures}")


def test_python_kernel_refuses_python_for_the_scala_session_but_sql_works(endpoint, aws):
    """The session's language, learnt from GetSession on %glue_reconnect, refuses a Python
    cell in one line with no call; %%glue_sql wraps its query in Scala for it."""
    _, session_id = aws
    k = Kernel(kernel_env(endpoint.url, **signing_with(endpoint)))
    try:
        k.ok("%load_ext glue_magics")
        k.ok(f"%glue_reconnect {session_id}", timeout=CELL)
        before = endpoint.calls["RunStatement"]
        one_line(k.execute("%%glue\nprint(1)"), "Python code", "Scala session")
        assert endpoint.calls["RunStatement"] == before
        reply = k.ok("%%glue_sql\nSELECT 6 * 7 AS answer", timeout=CELL)
        assert "42" in "".join(reply.data("text/plain")) + reply.stdout
    finally:
        k.shutdown()


# ------------------------------------------------------------------ the notebook
def test_scala_notebook_runs_under_nbclient(installed, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "glue_magics_scala"
    outputs = run_notebook(notebook, "glue_magics_scala", installed, tmp_path, JVM_PATIENCE)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    text += "".join(
        o.get("data", {}).get("text/plain", "") for o in outputs if o.output_type != "stream"
    )
    assert "total 6" in text  # println in the session
    assert "Long = 2" in text  # a DataFrame filtered and counted by Spark
    assert "42" in text  # %%sql
    assert "STOPPED" in text
