"""Spark Connect sessions in real kernels against the local endpoint: a live ``spark`` here.

One endpoint whose tokens live 20 s (issue 10: "a 20 s token renewed mid-notebook") and
one Spark Connect session, shared by the tests in file order: the glue_magics kernel
creates it, a plain IPython kernel (``%load_ext glue_magics``) reconnects to it, and the
last test stops it.  AWS's recipe and its header: docs "interactive-sessions-spark-connect-
connecting"; botocore's Glue model for GetSessionEndpoint (1.43.23 on).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import wait_gone
from test_kernel import installed  # noqa: F401 - the fixture: the kernelspec, installed

from glue_magics.local import LocalEndpoint
from tests.kernels import Kernel, kernel_env, once_shown

pytestmark = pytest.mark.slow

TOKEN_SECONDS = 20.0
#: Guards against a hang (a JVM's start has taken over 30 s on a loaded 2-core machine).
START = 300.0


def needs_spark_connect() -> None:
    for module in ("grpc", "pyarrow", "cryptography"):
        pytest.importorskip(module, reason="needs the spark-connect extra")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed (Spark's server needs it)")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    needs_spark_connect()
    ep = LocalEndpoint(provision_seconds=0.1, stop_seconds=0.1, connect_token_seconds=TOKEN_SECONDS)
    with ep:
        yield ep


@pytest.fixture(scope="module")
def kernel(endpoint: LocalEndpoint, installed: Any) -> Iterator[Kernel]:  # noqa: F811
    """A glue_magics kernel whose session is a READY Spark Connect one."""
    env = kernel_env(endpoint.url, GLUE_CONNECT_CA_FILE=str(endpoint.connect_ca_file))
    k = Kernel(env, kernel_name="glue_magics", kernel_spec_manager=installed)
    try:
        reply = k.ok("%glue_session --session-type spark-connect", timeout=START)
        assert "`spark` is bound here" in reply.stdout, reply.stdout
        yield k
    finally:
        k.shutdown()


def session_id(endpoint: LocalEndpoint) -> str:
    (found,) = [s for s, v in endpoint.backend.sessions.items() if v.connect is not None]
    return found


def test_a_plain_cell_runs_here_with_spark_bound(kernel, endpoint):
    reply = kernel.ok('spark.range(10**6).selectExpr("sum(id)").collect()', timeout=120)
    assert "Row(sum(id)=499999500000)" in str(reply.data("text/plain")), reply.messages
    assert endpoint.calls["RunStatement"] == 0  # nothing went through the statement API
    reply = kernel.ok("%%glue\nprint(spark.range(7).count())")  # %%glue does the same
    assert reply.stdout.strip() == "7"
    failed = kernel.execute("spark.sql('SELECT * FROM no_such_table').collect()")
    assert failed.status == "error" and "TABLE_OR_VIEW_NOT_FOUND" in str(failed.messages)


def test_glue_sql_o_gives_all_rows_as_pandas(kernel):
    reply = kernel.ok("%%glue_sql -o df -n 5\nSELECT id, id * 2 AS twice FROM range(100000)")
    assert "100000 rows fetched, first 5 shown" in str(reply.messages)
    reply = kernel.ok("print(type(df).__module__.split('.')[0], len(df), int(df.twice.sum()))")
    assert reply.stdout.split() == ["pandas", "100000", str(99999 * 100000)]
    # %glue_fetch: the DataFrame is a variable here, toPandas'd; a pandas one taken as it is
    kernel.ok("sdf = spark.range(1000).selectExpr('id', 'id / 2 AS half')")
    reply = kernel.ok("%glue_fetch sdf -o got -n 2")
    assert reply.stdout.startswith("got: 1000 rows x 2 columns, toPandas over Spark Connect")
    assert "1000 rows fetched, first 2 shown" in str(reply.messages)
    assert kernel.ok("print(got.half.sum(), got is df)").stdout.split() == ["249750.0", "False"]
    assert kernel.ok("%glue_fetch df -o same").stdout.startswith("same: 100000 rows x 2")
    assert kernel.ok("print(same is df)").stdout.strip() == "True"
    missing = kernel.execute("%glue_fetch nowhere")
    assert missing.status == "error" and "no variable nowhere" in missing.stderr
    bad = kernel.execute("%%glue_sql\nSELECT * FROM nowhere")
    assert bad.status == "error" and "AnalysisException" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_the_token_is_renewed_with_no_user_action_and_dataframes_survive(kernel, endpoint):
    kernel.ok(
        "kept = spark.range(1000).selectExpr('id % 10 AS k')\n"
        "kept.createOrReplaceTempView('kept_view')\n"
        "_gm = get_ipython().magics_manager.registry['GlueMagics'].manager.connects\n"
        "_conn = next(iter(_gm.connections.values()))\n"
        "first = (_conn.token.value, _conn.token.renewals, id(spark))"
    )
    time.sleep(TOKEN_SECONDS + 1)  # the token of the cell above has expired by now
    reply = kernel.ok(
        "print(kept.distinct().count(), spark.sql('SELECT count(*) FROM kept_view').first()[0])\n"
        "print(_conn.token.value != first[0], _conn.token.renewals > first[1], "
        "id(spark) == first[2])"
    )
    assert reply.stdout.split() == ["10", "1000", "True", "True", "True"], reply.stdout
    assert endpoint.calls["GetSessionEndpoint"] >= 2


def test_ctrl_c_interrupts_the_running_query_and_says_so(kernel):
    # Ctrl-C once the query shows its progress bar: it is running on the server by then
    reply = kernel.execute(
        "spark.range(10**13).selectExpr('max(id)').collect()",
        timeout=120,
        on_message=once_shown(Kernel.interrupt),
    )
    assert reply.status == "error"
    shown = [
        (m["msg_type"], str(m["content"])[:3000])
        for m in reply.messages
        if m["msg_type"] != "status"
    ]
    assert "Interrupted: the running Spark operations of session" in reply.stdout, shown
    assert "Traceback" not in reply.stdout + reply.stderr
    assert kernel.ok("print(spark.range(3).count())").stdout.strip() == "3"  # still usable


def test_load_ext_in_a_plain_ipython_kernel_reconnects_with_spark(endpoint, kernel):
    env = kernel_env(endpoint.url, GLUE_CONNECT_CA_FILE=str(endpoint.connect_ca_file))
    plain = Kernel(env)
    try:
        plain.ok("%load_ext glue_magics")
        reply = plain.ok(f"%glue_reconnect {session_id(endpoint)}", timeout=START)
        assert "`spark` is bound here" in reply.stdout
        assert plain.ok("print(spark.range(10**6).selectExpr('sum(id)').first()[0])").stdout == (
            "499999500000\n"
        )
        assert "4" in str(plain.ok("%%glue\nspark.range(4).count()").data("text/plain"))
        reply = plain.ok("%%glue_sql -o small\nSELECT 1 AS one")
        assert plain.ok("print(small.one.tolist())").stdout.strip() == "[1]"
    finally:
        plain.shutdown()  # attached, not created: the session is left running


def test_stop_ends_the_jvm_and_unbinds_spark(kernel, endpoint):
    jvms = endpoint.spark_connect_pids()
    assert jvms
    reply = kernel.ok("%glue_stop")
    assert "STOPPED" in reply.stdout
    assert wait_gone(jvms) == []
    assert kernel.ok("%%local\nprint('spark' in globals())").stdout.strip() == "False"
