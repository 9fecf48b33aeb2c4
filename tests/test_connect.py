"""The Spark Connect client's own pieces, without a server: AWS's connection string, the
token's renewal, the version line, the progress bars.

Sources: AWS docs "interactive-sessions-spark-connect-connecting" (the recipe,
``f"{Url}:443/;use_ssl=true;x-aws-proxy-auth={quote(token, safe='')}"``); sagemaker-studio
(tokens "valid for ~30 minutes", renewed by asking GetSessionEndpoint again).
"""

from __future__ import annotations

import datetime
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics.connect import ProgressBars, Token, recipe_url, version_mismatch
from glue_magics.session_types import TOKEN_HEADER

hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True),
)
tokens = st.text(min_size=1, max_size=80)


@settings(deadline=None)
@given(host=hosts, port=st.one_of(st.none(), st.integers(1, 65535)), token=tokens)
def test_the_recipe_gives_pyspark_the_host_port_tls_and_the_very_token(host, port, token):
    pytest.importorskip("grpc", reason="needs the spark-connect extra (grpcio)")
    from pyspark.sql.connect.client import DefaultChannelBuilder

    url = f"sc://{host}" if port is None else f"sc://{host}:{port}"
    remote = recipe_url(url, token)
    assert remote.endswith(f";{TOKEN_HEADER}={urllib.parse.quote(token, safe='')}")
    builder = DefaultChannelBuilder(remote)
    assert builder.endpoint == f"{host}:{443 if port is None else port}" and builder.use_ssl
    assert (TOKEN_HEADER, token) in list(builder.metadata())


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_renewed_before_it_expires_and_only_then():
    clock, issued = Clock(), []

    def fetch() -> dict:
        issued.append(f"t{len(issued)}")
        expires = datetime.datetime.fromtimestamp(clock.now + 20, datetime.timezone.utc)
        return {"Url": "sc://h", "AuthToken": issued[-1], "AuthTokenExpirationTime": expires}

    token = Token(fetch, clock)
    assert token.current() == "t0" and token.renewals == 0
    clock.now += 14.9  # a quarter of 20 s is left only after 15 s
    assert token.current() == "t0"
    clock.now += 0.2
    assert token.current() == "t1" and token.renewals == 1  # 4.9 s before it expired
    clock.now += 3600  # long idle: the next call gets a fresh one first
    assert token.current() == "t2"


def test_a_30_minute_token_is_renewed_5_minutes_before():
    clock = Clock()
    reply = {"Url": "sc://h", "AuthToken": "x", "AuthTokenExpirationTime": clock.now + 1800}
    token = Token(lambda: reply, clock)
    token.current()
    clock.now += 1499
    token.current()
    assert token.renewals == 0
    clock.now += 2
    token.current()
    assert token.renewals == 1


def test_a_version_mismatch_is_one_line_naming_both():
    assert version_mismatch("4.3.0", "4.3.1", "s") == ""
    line = version_mismatch("4.3.0", "3.5.4-amzn-0", "s-1")
    assert "pyspark 4.3.0 here, Spark 3.5.4-amzn-0 in session s-1" in line
    assert 'pip install "pyspark[connect]==3.5.4"' in line and "\n" not in line  # pip can pin it
    # the session's Glue version names its Spark (glue_magics.versions): 6.1 runs 4.1.3
    line = version_mismatch("3.5.6", "4.1.3-amzn-1", "s-2", glue_version="6.1")
    assert line.endswith('pip install "pyspark[connect]==4.1.3"'), line


class Stage:
    def __init__(self, tasks: int, done: int) -> None:
        self.num_tasks, self.num_completed_tasks = tasks, done


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def statement(self, number: int) -> Recorder:
        self.events.append(("bar", number))
        return self

    def update(self, state: str, progress: float, elapsed: float) -> None:
        self.events.append(("update", state, progress))

    def done(self, state: str, elapsed: float) -> None:
        self.events.append(("done", state))


def test_spark_progress_drives_one_statement_bar_per_operation():
    reporter = Recorder()
    bars = ProgressBars(reporter)
    bars([], 0, "quick", True)  # ended before it reported: no bar
    bars([Stage(4, 1)], 3, "op", False)
    bars([Stage(4, 3), Stage(4, 0)], 2, "op", False)
    bars([Stage(4, 4)], 0, "op", True)
    bars([Stage(2, 0)], 2, "next", False)
    bars.interrupted()
    assert reporter.events == [
        ("bar", 1),
        ("update", "RUNNING", 0.25),
        ("update", "RUNNING", 3 / 8),
        ("done", "AVAILABLE"),
        ("bar", 2),
        ("update", "RUNNING", 0.0),
        ("done", "CANCELLED"),
    ]
