"""Spark is up when a local session is READY, as on Glue, and its DefaultArguments take
effect: real Spark, one endpoint for the module, boto3 against it over HTTP.

What a Glue session defines: ``spark`` (AWS's Glue kernel sends ``%%sql`` cells as
``spark.sql(...)`` with no set-up code: aws-glue-sessions 1.0.9, BaseKernel._handle_sql_code),
and ``sc`` and ``sqlContext`` beside it, as Apache Livy's PySpark REPL defines them
(repl/src/main/resources/fake_shell.py, which Glue's statement API follows).  The chained
``--conf`` value is the form of AWS's "Using the Iceberg framework in AWS Glue" page.
"""

from __future__ import annotations

import time
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import SPARK_PATIENCE, create, make_glue, needs_spark, run, spark_sessions

from glue_magics.local import LocalEndpoint

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(SPARK_PATIENCE * 4)]

HELPER = "VALUE = 40\n"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GLUE_MAGICS_SPARK_MASTER", "local[1]")  # two cores, shared
        with LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1) as ep:
            yield ep


@pytest.fixture(scope="module")
def glue(endpoint: Any) -> Any:
    return make_glue(endpoint.url)


@pytest.fixture(scope="module")
def started(glue: Any, tmp_path_factory: Any) -> dict[str, Any]:
    """One session with Spark and arguments, followed from CreateSession to READY: every
    (Status, Progress) GetSession gave, in order, and whether the Spark UI answered at the
    first READY.  And one whose Spark cannot start."""
    helper = tmp_path_factory.mktemp("py") / "helper_for_udf.py"
    helper.write_text(HELPER)
    jar = helper.parent / "glue-marker.jar"  # a jar is a zip: one resource the JVM can find
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("glue_magics_marker.txt", "from --extra-jars\n")
    arguments = {
        # adaptive execution off: it would coalesce the 7 shuffle partitions the test counts
        "--conf": "spark.sql.shuffle.partitions=7 --conf spark.glue.test.second=two words "
        "--conf spark.glue.test.third=3 --conf spark.sql.adaptive.enabled=false",
        "--extra-py-files": str(helper),
        "--extra-jars": str(jar),
        "--datalake-formats": "iceberg",
        "--enable-glue-datacatalog": "true",
        "--enable-metrics": "true",
    }
    with spark_sessions():  # the endpoint reads it at CreateSession
        session_id = create(glue, DefaultArguments=arguments)
        broken = create(glue, DefaultArguments={"--conf": "spark.master=nowhere-at-all"})
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + SPARK_PATIENCE * 2
    while True:
        session = glue.get_session(Id=session_id)["Session"]
        seen.append((session["Status"], session["Progress"]))
        if session["Status"] != "PROVISIONING":
            break
        assert time.monotonic() < deadline, seen[-1]
        time.sleep(0.01)
    ui = None
    if session["Status"] == "READY":  # asked at once: Spark's UI is there from READY on
        ui = glue.get_dashboard_url(ResourceId=session_id, ResourceType="SESSION")["Url"]
    return {"id": session_id, "seen": seen, "ui": ui, "broken": broken}


def test_progress_rises_while_spark_starts_and_ready_comes_after_it(started, glue):
    seen = started["seen"]
    assert seen[-1] == ("READY", 100.0), seen[-1]
    provisioning = [progress for status, progress in seen if status == "PROVISIONING"]
    assert provisioning == sorted(provisioning)  # never back
    # the worker's steps (pyspark, the JVM, the SparkContext, the SparkSession), not one jump
    assert len({p for p in provisioning if 0 < p < 100}) >= 3, sorted(set(provisioning))
    assert started["ui"] is not None  # Spark was up when READY was first seen
    with urllib.request.urlopen(started["ui"], timeout=30) as page:
        assert b"Spark" in page.read()
    log = log_of(glue, started["id"])
    ready = log.index(f"GlueWorker: worker of session {started['id']} ready")
    assert log.index("GlueWorker: provisioning: session") < ready


def test_first_statement_of_a_fresh_session_has_spark_col_and_udf(started, glue):
    code = """
from pyspark.sql.functions import col, udf

@udf("int")
def plus(x):
    import helper_for_udf  # --extra-py-files reach Spark's Python workers too
    return x + helper_for_udf.VALUE

print(repr(col("x")))
print([r[0] for r in spark.range(3).select(plus("id")).collect()])
print(sc is spark.sparkContext, type(sqlContext).__name__)
print(spark.conf.get("spark.sql.shuffle.partitions"))
print(spark.conf.get("spark.glue.test.second"), spark.conf.get("spark.glue.test.third"))
print(spark.range(10).repartition("id").rdd.getNumPartitions())  # a shuffle's partitions
loader = spark._jvm.java.lang.Thread.currentThread().getContextClassLoader()
print(loader.getResource("glue_magics_marker.txt") is not None)
"""
    statement = run(glue, started["id"], code, patience=SPARK_PATIENCE)
    assert statement["Output"]["Status"] == "ok", statement["Output"]
    lines = statement["Output"]["Data"]["TextPlain"].splitlines()
    notices = [line for line in lines if line.startswith("--")]
    output = [line for line in lines if not line.startswith("--") and not line.startswith("[Stage")]
    assert output[:7] == [
        "Column<'x'>",
        "[40, 41, 42]",
        "True SQLContext",
        "7",  # %%configure {"--conf": "spark.sql.shuffle.partitions=7"} used to leave 200
        "two words 3",
        "7",
        "True",  # --extra-jars: on the driver's class path
    ], lines
    assert lines[: len(notices)] == notices  # the notices come first
    [lake] = [n for n in notices if n.startswith("--datalake-formats")]
    # this machine cannot reach Maven Central: one line naming the runtime it lacks
    assert "org.apache.iceberg:iceberg-spark-runtime-" in lake and "--extra-jars" in lake
    assert not any(n.startswith("--enable-glue-datacatalog") for n in notices)  # honoured
    assert "--enable-metrics true is not honoured locally: CloudWatch metrics need AWS" in notices
    log = log_of(glue, started["id"])
    for line in notices:
        assert f"WARN GlueWorker: {line}" in log


def test_a_spark_that_cannot_start_fails_the_session_in_one_line(started, glue):
    deadline = time.monotonic() + SPARK_PATIENCE * 2
    while True:
        session = glue.get_session(Id=started["broken"])["Session"]
        if session["Status"] != "PROVISIONING":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert session["Status"] == "FAILED"
    message = session["ErrorMessage"]
    assert message.startswith("The session did not start: ") and "\n" not in message
    assert "GetSystemLogsForSession" in message, message
    # spark-submit refuses the master before the JVM's gateway starts: its words are logged
    assert "Master must either be yarn or start with spark, k8s, or local" in log_of(
        glue, started["broken"]
    )


def log_of(glue: Any, session_id: str) -> str:
    url = glue.get_system_logs_for_session(Id=session_id)["SystemLogsUrl"]
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()
