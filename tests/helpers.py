"""What the tests share, defined once: the session role, the boto3 clients a test uses, and
helpers that drive the local endpoint over its Glue API.

Import it as ``helpers``: pytest puts ``tests/`` on ``sys.path`` (the rootdir conftest), and
so does ``benchmarks/bench_kernels.py`` for ``peer_kernel``.  Fixtures stay in
``conftest.py``, which builds its clients here.

The clients made here are a test's own hands and eyes, plain boto3 as any SDK user has it
(with our model's sdk-extras, so replies are parsed in full).  The client the magics make is
``glue_magics.service.make_client``; tests of that code path (test_service, test_lifecycle,
test_moto, test_transient) call it, because it is what they test.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

#: The session role every test sends.  Any well-formed ARN will do: nothing assumes it (the
#: local endpoint, moto and the scripted servers only check its shape), and 123456789012 is
#: the account AWS's documentation uses.  A test that needs a second role says why, there.
ROLE = "arn:aws:iam::123456789012:role/GlueMagicsTest"

#: Statement done states (AWS's Glue kernel: GlueSessionsConstants.FINAL_STATEMENT_STATUS).
DONE = ("AVAILABLE", "COMPLETED", "FAILED", "ERROR", "CANCELLED")
# Guards against a hang, not timing assertions: a broken endpoint fails instead of waiting.
PATIENCE = 20.0
#: A session with Spark starts a JVM before READY: on a cold, loaded 2-core machine (eight
#: test runs at once) that has taken 70 s.
SPARK_PATIENCE = 180.0


needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None,
    reason="matplotlib is not installed (it is in the 'test' extra)",
)
needs_spark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="needs pyspark and Java on this machine",
)
needs_plotly = pytest.mark.skipif(
    importlib.util.find_spec("plotly") is None,
    reason="plotly is not installed (it is in the 'test' extra)",
)
#: Statement code that draws a figure for ``%matplot plt`` (Livy's fake_shell.py
#: ``magic_matplot`` saves ``plt.gcf()`` as a PNG): a rich image/png result.
#: The plot's line is assigned: a bare last expression would print its repr to stdout.
PLOT = "import matplotlib.pyplot as plt\nplt.figure()\nline, = plt.plot([1, 3, 2])\n"


# --------------------------------------------------------------------------- clients


def make_glue(url: str, attempts: int = 3, **config: Any) -> Any:
    """A boto3 Glue client (our model with the sdk-extras) for the server at ``url``.

    Retries are botocore's standard mode, ``attempts`` in all (1: every fault the endpoint
    injects reaches the test).  ``config`` goes to ``botocore.config.Config``
    (``parameter_validation=False`` lets a test send what the client would refuse).
    """
    return _client("glue", url, attempts, **config)


def make_s3(url: str, bucket: str | None = None, attempts: int = 3, **config: Any) -> Any:
    """A boto3 S3 client of the server at ``url`` (moto's), with ``bucket`` created when one
    is named (a bucket made before is fine).  Retries and ``config`` as for :func:`make_glue`."""
    client = _client("s3", url, attempts, **config)
    if bucket is not None:
        try:
            client.create_bucket(Bucket=bucket)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
    return client


def _client(service: str, url: str, attempts: int, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    from glue_magics import model

    session = boto3.Session(
        botocore_session=model.botocore_session(),
        region_name="us-east-1",
        aws_access_key_id="testing",  # conftest's dummies: nothing here can reach AWS
        aws_secret_access_key="testing",
    )
    retries = {"mode": "standard", "total_max_attempts": attempts}
    return session.client(service, endpoint_url=url, config=Config(retries=retries, **config))


# --------------------------------------------------------------------------- local endpoint


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create(glue: Any, **extra: Any) -> str:
    """CreateSession with a fresh Id and the minimal valid request, plus ``extra``."""
    request = {"Id": new_id(), "Role": ROLE, "Command": {"Name": "glueetl", "PythonVersion": "3"}}
    request.update(extra)
    return glue.create_session(**request)["Session"]["Id"]


def wait_status(
    glue: Any, session_id: str, *wanted: str, patience: float = PATIENCE
) -> dict[str, Any]:
    """Poll GetSession until its Status is one of ``wanted``; returns that Session."""
    deadline = time.monotonic() + patience
    while True:
        session = glue.get_session(Id=session_id)["Session"]
        if session["Status"] in wanted:
            return session
        assert time.monotonic() < deadline, f"{session_id} stuck in {session['Status']}"
        time.sleep(0.01)


def ready(glue: Any, patience: float = PATIENCE, **extra: Any) -> str:
    """A new session, READY: its Id."""
    session_id = create(glue, **extra)
    wait_status(glue, session_id, "READY", patience=patience)
    return session_id


@contextlib.contextmanager
def spark_sessions() -> Iterator[None]:
    """Sessions created in here start Spark before READY, as on Glue (conftest turns it off
    for the rest: the endpoint reads GLUE_MAGICS_LOCAL_SPARK at CreateSession)."""
    import os

    before = os.environ.get("GLUE_MAGICS_LOCAL_SPARK")
    os.environ["GLUE_MAGICS_LOCAL_SPARK"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["GLUE_MAGICS_LOCAL_SPARK"]
        else:
            os.environ["GLUE_MAGICS_LOCAL_SPARK"] = before


def wait_statement(
    glue: Any, session_id: str, statement_id: int, *wanted: str, patience: float = PATIENCE
) -> dict[str, Any]:
    """Poll GetStatement until its State is one of ``wanted`` (default: done); returns it."""
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


def when(condition: Callable[[], bool], action: Callable[[], Any]) -> threading.Thread:
    """Call ``action()`` once ``condition()`` holds, from a thread: an act at a known state
    of the system under test whatever the machine's load, where a fixed delay could land
    before or after it.  The deadline guards against a hang; it decides nothing."""

    def watch() -> None:
        deadline = time.monotonic() + 5 * PATIENCE
        while time.monotonic() < deadline:
            if condition():
                action()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def release(endpoint: Any, session_id: str) -> None:
    """End a local session's PROVISIONING now: tests whose endpoint provisions for long
    decide when READY comes, instead of racing a provisioning time against their cells."""
    backend = endpoint.backend
    with backend.lock:
        session = backend.sessions[session_id]
        session.ready_at = min(session.ready_at, time.time())
        backend.wake.notify_all()


def wait_gone(pids: list[int]) -> list[int]:
    """Wait (bounded) for processes to end; returns those still alive."""
    from glue_magics.local.workers import pid_alive as alive

    deadline = time.monotonic() + PATIENCE
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return [p for p in pids if alive(p)]


# --------------------------------------------------------------------------- S3 (moto)


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


def s3_endpoint(moto_url: str, bucket: str, inline_limit: int = 100, **kwargs: Any) -> Any:
    """A local endpoint (not started: use it in ``with``) that holds outputs over
    ``inline_limit`` bytes in ``bucket`` of moto's S3 at ``moto_url``; ``make_s3`` makes
    the bucket.  ``kwargs`` go to LocalEndpoint (quick provisioning unless given)."""
    from glue_magics.local import LocalEndpoint

    kwargs.setdefault("provision_seconds", 0.05)
    kwargs.setdefault("stop_seconds", 0.05)
    return LocalEndpoint(
        results_bucket=bucket, s3_endpoint_url=moto_url, result_inline_limit=inline_limit, **kwargs
    )


@contextlib.contextmanager
def endpoint_process(*flags: str) -> Iterator[tuple[Any, str]]:
    """``glue-magics local-endpoint`` in a process of its own (a test may SIGKILL it): the
    process and its URL; killed and reaped at the end whatever happened."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "glue_magics", "local-endpoint", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, process.stdout.readline().split(" at ", 1)[1].strip()
    finally:
        process.kill()
        process.wait()
