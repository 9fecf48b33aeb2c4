"""Shared fixtures: one local Glue endpoint for the suite and boto3 clients for it.

No test can reach AWS: credentials are dummies, the AWS config and credentials files
point at paths that do not exist, instance metadata is off, and a client made without
``endpoint_url`` goes to a dead loopback port instead of amazonaws.com.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import make_glue, moto_s3

_NOWHERE = Path(tempfile.gettempdir()) / "glue-magics-tests-no-aws"
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_CONFIG_FILE=str(_NOWHERE / "config"),
    AWS_SHARED_CREDENTIALS_FILE=str(_NOWHERE / "credentials"),
    AWS_EC2_METADATA_DISABLED="true",
    AWS_ENDPOINT_URL="http://127.0.0.1:9",  # discard port: nothing listens, nothing leaves
)
# The local endpoints' data directory (object store, catalog): one per test run, never the
# user's own ~/.local/share/glue-magics.  Kernels and workers the tests start inherit it.
os.environ["GLUE_LOCAL_DATA_DIR"] = tempfile.mkdtemp(prefix="glue-magics-tests-data-")

# Sessions start Spark before READY (as on Glue) where pyspark and Java are: tens of seconds
# on a loaded machine.  Most tests never use Spark, so their sessions start without it; a
# test that uses Spark turns it on (monkeypatch.setenv("GLUE_MAGICS_LOCAL_SPARK", "1")
# before it creates the session: the endpoint reads it at CreateSession).
os.environ["GLUE_MAGICS_LOCAL_SPARK"] = "0"

SHARED_PROVISION_SECONDS = 0.3
SHARED_STOP_SECONDS = 0.2


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--skip-slow",
        action="store_true",
        help="skip tests marked slow (Spark, AWS's own kernel, the browser); CI runs them all",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--skip-slow"):
        return
    skip = pytest.mark.skip(reason="slow test skipped (--skip-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _shared_endpoint() -> Iterator[Any]:
    from glue_magics.local import LocalEndpoint

    with LocalEndpoint(
        provision_seconds=SHARED_PROVISION_SECONDS, stop_seconds=SHARED_STOP_SECONDS
    ) as ep:
        yield ep


@pytest.fixture
def endpoint(_shared_endpoint: Any) -> Iterator[Any]:
    """The suite's LocalEndpoint (provision 0.3 s, real minutes); faults cleared after."""
    _shared_endpoint.faults.clear()
    yield _shared_endpoint
    _shared_endpoint.faults.clear()


@pytest.fixture(scope="session")
def _shared_glue(_shared_endpoint: Any) -> Any:
    return make_glue(_shared_endpoint.url)


@pytest.fixture
def glue(endpoint: Any, _shared_glue: Any) -> Any:
    """A boto3 Glue client for ``endpoint`` (standard retries, 3 attempts in all)."""
    return _shared_glue


@pytest.fixture
def glue_client() -> Callable[..., Any]:
    """Factory: ``glue_client(ep, attempts=1)`` -> a client for ``ep`` (``helpers.make_glue``)."""

    def factory(ep: Any, **config: Any) -> Any:
        return make_glue(ep.url, **config)

    return factory


@pytest.fixture
def fresh_endpoint() -> Iterator[Callable[..., Any]]:
    """Factory of started LocalEndpoints with their own settings, stopped after the test.

    ``ep = fresh_endpoint(provision_seconds=0.1, minute_seconds=0.2)``
    """
    from glue_magics.local import LocalEndpoint

    started: list[Any] = []

    def factory(**kwargs: Any) -> Any:
        kwargs.setdefault("provision_seconds", 0.1)
        kwargs.setdefault("stop_seconds", 0.1)
        ep = LocalEndpoint(**kwargs).start()
        started.append(ep)
        return ep

    yield factory
    for ep in started:
        ep.stop()


@pytest.fixture(scope="session")
def scripted_server() -> Iterator[Any]:
    """One ScriptedGlue (tests/scripted.py) for the suite."""
    from tests.scripted import ScriptedGlue

    server = ScriptedGlue()
    yield server
    server.close()


@pytest.fixture
def scripted(scripted_server: Any) -> Iterator[Any]:
    """The scripted Glue server; the replies a test scripts are undone after it."""
    import copy

    before = dict(scripted_server.replies)
    sessions = copy.deepcopy(scripted_server.sessions)
    yield scripted_server
    scripted_server.replies.clear()
    scripted_server.replies.update(before)
    scripted_server.sessions.clear()
    scripted_server.sessions.update(sessions)


@pytest.fixture(scope="session")
def recording_s3() -> Iterator[Any]:
    """moto's S3 server on loopback, recording each request's signing region."""
    from tests.scripted import RecordingS3

    server = RecordingS3()
    yield server
    server.close()


@pytest.fixture
def replay() -> Iterator[Any]:
    """A loopback Glue endpoint answering from recorded replies (tests/replay.py):
    ``replay.use("statement_text_1plus1")`` loads ``tests/replies/statement_text_1plus1.json``."""
    from tests.replay import Replay

    with Replay() as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's real server on loopback, one for the suite: its URL.  S3 for statement results
    (each module makes buckets of its own names: helpers.make_s3), and moto's Glue for
    test_moto."""
    with moto_s3() as url:
        yield url
