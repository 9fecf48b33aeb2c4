"""Helpers for the local endpoint's tests (imported by the other test_local_* files)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from glue_magics.local.workers import pid_alive as alive

ROLE = "arn:aws:iam::123456789012:role/GlueLocalTest"
#: Statement done states (AWS's Glue kernel: GlueSessionsConstants.FINAL_STATEMENT_STATUS).
DONE = ("AVAILABLE", "COMPLETED", "FAILED", "ERROR", "CANCELLED")
# Guards against a hang, not timing assertions: a broken endpoint fails instead of waiting.
PATIENCE = 20.0
#: A first Spark statement starts a JVM: on a cold, loaded 2-core machine that has taken over 20 s.
SPARK_PATIENCE = 90.0


needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None,
    reason="matplotlib is not installed (it is in the 'test' extra)",
)
needs_plotly = pytest.mark.skipif(
    importlib.util.find_spec("plotly") is None,
    reason="plotly is not installed (it is in the 'test' extra)",
)
#: Statement code that draws a figure for ``%matplot plt`` (Livy's fake_shell.py
#: ``magic_matplot`` saves ``plt.gcf()`` as a PNG): a rich image/png result.
#: The plot's line is assigned: a bare last expression would print its repr to stdout.
PLOT = "import matplotlib.pyplot as plt\nplt.figure()\nline, = plt.plot([1, 3, 2])\n"


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create(glue: Any, **extra: Any) -> str:
    """CreateSession with a fresh Id and the minimal valid request, plus ``extra``."""
    request = {"Id": new_id(), "Role": ROLE, "Command": {"Name": "glueetl", "PythonVersion": "3"}}
    request.update(extra)
    return glue.create_session(**request)["Session"]["Id"]


def wait_status(glue: Any, session_id: str, *wanted: str) -> dict[str, Any]:
    """Poll GetSession until its Status is one of ``wanted``; returns that Session."""
    deadline = time.monotonic() + PATIENCE
    while True:
        session = glue.get_session(Id=session_id)["Session"]
        if session["Status"] in wanted:
            return session
        assert time.monotonic() < deadline, f"{session_id} stuck in {session['Status']}"
        time.sleep(0.01)


def ready(glue: Any, **extra: Any) -> str:
    session_id = create(glue, **extra)
    wait_status(glue, session_id, "READY")
    return session_id


def wait_statement(
    glue: Any, session_id: str, statement_id: int, *wanted: str, patience: float = PATIENCE
) -> dict[str, Any]:
    wanted = wanted or DONE
    deadline = time.monotonic() + patience
    while True:
        statement = glue.get_statement(SessionId=session_id, Id=statement_id)["Statement"]
        if statement["State"] in wanted:
            return statement
        assert time.monotonic() < deadline, f"statement stuck in {statement['State']}"
        time.sleep(0.005)


def run(glue: Any, session_id: str, code: str, patience: float = PATIENCE) -> dict[str, Any]:
    """RunStatement and wait until it is done; returns the Statement."""
    statement_id = glue.run_statement(SessionId=session_id, Code=code)["Id"]
    return wait_statement(glue, session_id, statement_id, patience=patience)


def wait_gone(pids: list[int]) -> list[int]:
    """Wait (bounded) for processes to end; returns those still alive."""
    deadline = time.monotonic() + PATIENCE
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return [p for p in pids if alive(p)]


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    """moto's real server on a free loopback port (S3 for the results bucket, and every other
    service moto has); yields its URL.  The suite shares one: conftest's ``moto_server``."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


def s3_client(url: str, bucket: str | None = None) -> Any:
    """A boto3 S3 client of moto's server at ``url`` (the tests' dummy credentials), with
    ``bucket`` created when one is named (a bucket made before is fine)."""
    import boto3

    client = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("s3", endpoint_url=url)
    if bucket is not None:
        try:
            client.create_bucket(Bucket=bucket)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
    return client


def s3_endpoint(moto_url: str, bucket: str, inline_limit: int = 100, **kwargs: Any) -> Any:
    """A local endpoint (not started: use it in ``with``) that holds outputs over
    ``inline_limit`` bytes in ``bucket`` of moto's S3 at ``moto_url``; ``s3_client`` makes
    the bucket.  ``kwargs`` go to LocalEndpoint (quick provisioning unless given)."""
    from glue_magics.local import LocalEndpoint

    kwargs.setdefault("provision_seconds", 0.05)
    kwargs.setdefault("stop_seconds", 0.05)
    return LocalEndpoint(
        results_bucket=bucket, s3_endpoint_url=moto_url, result_inline_limit=inline_limit, **kwargs
    )


def test_alive_tells_live_from_ended_processes() -> None:
    import subprocess
    import sys

    assert alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not alive(child.pid)
