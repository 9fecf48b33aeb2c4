"""Local sessions on a real Spark cluster: a standalone master and two workers from pip's
pyspark, one endpoint with ``spark_master`` on it; boto3 over HTTP, real Spark.

Sizing (glue_magics/local/cluster.py): executors = NumberOfWorkers - 1, each the worker
type's DPUs x 4 vCPU / 16 GB (AWS docs, "AWS Glue worker types") x cluster_scale (1/16: a
G.1X executor is 1 core, 1 GB).  A cluster without room is CreateSession's
ResourceNumberLimitExceededException (botocore's model lists it for CreateSession).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import SPARK_PATIENCE, create, make_glue, needs_spark, run, spark_sessions, wait_status
from standalone import Standalone, free_port

from glue_magics.local import LocalEndpoint

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(SPARK_PATIENCE * 4)]


@pytest.fixture(scope="module")
def standalone() -> Iterator[Standalone]:
    with Standalone(workers=2, cores=1, memory="1g") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def endpoint(standalone: Standalone) -> Iterator[Any]:
    with LocalEndpoint(
        provision_seconds=0.3,
        stop_seconds=0.1,
        spark_master=standalone.url,
        spark_ui_port=standalone.ui_port,
        connect_port=0,
    ) as ep:
        yield ep


@pytest.fixture(scope="module")
def glue(endpoint: Any) -> Any:
    return make_glue(endpoint.url)


def cores_used(standalone: Standalone) -> int:
    return sum(int(w["coresused"]) for w in standalone.status()["workers"])


def wait_cores(standalone: Standalone, wanted: int) -> int:
    deadline = time.monotonic() + SPARK_PATIENCE
    while (used := cores_used(standalone)) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    return used


def test_a_session_runs_on_the_cluster_and_stopping_it_frees_the_cores(standalone, glue):
    with spark_sessions():  # three G.1X workers: the driver and two executors
        session_id = create(glue, WorkerType="G.1X", NumberOfWorkers=3)
    session = wait_status(glue, session_id, "READY", "FAILED", patience=SPARK_PATIENCE * 2)
    assert session["Status"] == "READY", session.get("ErrorMessage")
    code = (
        "print(sc.master)\n"
        "print(sc._jsc.sc().getExecutorMemoryStatus().size())\n"
        "print(spark.conf.get('spark.executor.memory'), spark.conf.get('spark.cores.max'))\n"
        "print(spark.range(1, 100001, numPartitions=4).selectExpr('sum(id)').first()[0])\n"
    )
    deadline = time.monotonic() + SPARK_PATIENCE  # executors register after READY
    while True:
        statement = run(glue, session_id, code, patience=SPARK_PATIENCE)
        assert statement["Output"]["Status"] == "ok", statement["Output"]
        lines = statement["Output"]["Data"]["TextPlain"].splitlines()
        if lines[1] == "3" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert lines[0] == standalone.url
    assert lines[1] == "3", lines  # the driver plus two executors
    assert lines[2:] == ["1024m 2", str(100000 * 100001 // 2)], lines
    apps = standalone.status()["activeapps"]
    assert [a["cores"] for a in apps] == [2], apps
    assert cores_used(standalone) == 2
    glue.stop_session(Id=session_id)
    assert wait_cores(standalone, 0) == 0  # the application ended: no executor holds a core


def test_a_session_larger_than_the_cluster_is_one_error_at_create(glue, standalone):
    with spark_sessions(), pytest.raises(ClientError) as caught:
        create(glue, WorkerType="G.1X", NumberOfWorkers=5)  # four executors; room for two
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceNumberLimitExceededException"
    assert "room for 2 of the 4 executors" in error["Message"]
    assert "\n" not in error["Message"]
    assert cores_used(standalone) == 0


def test_a_spark_connect_session_runs_on_the_cluster(endpoint, glue, standalone):
    pytest.importorskip("pyspark.sql.connect.session")
    session_id = create(
        glue,
        SessionType="SPARK_CONNECT",
        GlueVersion="5.1",
        WorkerType="G.1X",
        NumberOfWorkers=2,
    )
    session = wait_status(glue, session_id, "READY", "FAILED", patience=SPARK_PATIENCE * 2)
    assert session["Status"] == "READY", session.get("ErrorMessage")
    assert wait_cores(standalone, 1) == 1  # its server's one executor holds one core
    glue.stop_session(Id=session_id)
    assert wait_cores(standalone, 0) == 0


def test_a_killed_endpoint_releases_its_sessions_applications(standalone, tmp_path):
    """The embedded endpoint's master from GLUE_LOCAL_SPARK_MASTER; SIGKILL leaves no
    handler to run: the workers die with it (PR_SET_PDEATHSIG), and so do their drivers."""
    env = dict(
        os.environ,
        GLUE_LOCAL_SPARK_MASTER=standalone.url,
        GLUE_MAGICS_LOCAL_SPARK="1",
        GLUE_LOCAL_DATA_DIR=str(tmp_path),
    )
    command = [sys.executable, "-m", "glue_magics", "local-endpoint", "--port", "0"]
    command += ["--provision-seconds", "0.1", "--spark-ui-port", str(standalone.ui_port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = process.stdout.readline().split(" at ")[-1].strip()
        assert url.startswith("http://127.0.0.1:"), url
        glue = make_glue(url)
        session_id = create(glue, WorkerType="G.1X", NumberOfWorkers=2)
        session = wait_status(glue, session_id, "READY", "FAILED", patience=SPARK_PATIENCE * 2)
        assert session["Status"] == "READY", session.get("ErrorMessage")
        assert wait_cores(standalone, 1) == 1  # its one executor
    finally:
        process.kill()
        process.communicate(timeout=60)
    assert wait_cores(standalone, 0) == 0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "glue_magics", "local-endpoint", "--port", "0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    "url", ["spark://127.0.0.1", "yarn", "spark://h:99999", "local[0]", "k8s://h:6443"]
)
def test_a_malformed_master_is_one_line_at_start(url):
    done = cli("--spark-master", url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"Spark master {url!r} is not one Spark takes" in done.stderr


def test_an_unreachable_master_is_one_line_at_start():
    url = f"spark://127.0.0.1:{free_port()}"
    done = cli("--spark-master", url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"Spark master {url} does not answer" in done.stderr
