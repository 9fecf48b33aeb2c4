"""Scala sessions on the local endpoint: a real boto3 client, a real Scala REPL on a real Spark.

A session created with ``DefaultArguments {"--session-language": "scala"}`` (what AWS's Glue
Spark kernel sends, aws-glue-sessions 1.0.9 glue_spark/GlueKernel.py) runs its statements
in one JVM: the Scala compiler's REPL bound to the session's own Spark.  Its outputs are
what Apache Livy's Scala interpreter returns (repl/src/main/scala/org/apache/livy/repl/
AbstractSparkInterpreter.scala): the REPL's own lines and what the code prints as
``Data.TextPlain``; a compile error as ``Status: error`` with ErrorName ``Error`` and the
compiler's report; an incomplete statement as ``Error``/``incomplete statement`` (Livy's
Session.scala).  A thrown exception is named by its class, its message the value, its stack
the traceback, as the issue asks of Glue (Livy itself names it ``Error``; no public
recording of Glue's own Scala error shape was found).

One Scala session for the module (its JVM takes a while to start on a loaded machine).
"""

from __future__ import annotations

import re
import time

import pytest
from helpers import (
    ROLE,
    SPARK_PATIENCE,
    endpoint_process,
    make_glue,
    needs_spark,
    new_id,
    wait_gone,
    wait_statement,
    wait_status,
)

from glue_magics.local import LocalEndpoint

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(900)]

SCALA = {"--session-language": "scala"}
JVM_PATIENCE = 600.0  # the first statement waits for the JVM, Spark and the compiler


def create_scala(glue) -> str:
    session_id = new_id("scala")
    glue.create_session(
        Id=session_id,
        Role=ROLE,
        Command={"Name": "glueetl", "PythonVersion": "3"},
        DefaultArguments=dict(SCALA),
    )
    wait_status(glue, session_id, "READY")
    return session_id


def run(glue, session_id: str, code: str, patience: float = SPARK_PATIENCE) -> dict:
    statement_id = glue.run_statement(SessionId=session_id, Code=code)["Id"]
    return wait_statement(glue, session_id, statement_id, patience=patience)


def text(statement: dict) -> str:
    assert statement["State"] == "AVAILABLE", statement
    assert statement["Output"]["Status"] == "ok", statement["Output"]
    return statement["Output"]["Data"]["TextPlain"]


@pytest.fixture(scope="module")
def scala():
    """(endpoint, client, session id) of one READY Scala session whose REPL has answered."""
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.05) as ep:
        glue = make_glue(ep.url)
        session_id = create_scala(glue)
        first = run(glue, session_id, "val answer = 42", patience=JVM_PATIENCE)
        assert text(first) == "val answer: Int = 42"
        yield ep, glue, session_id


def test_a_val_is_the_repl_line_and_state_persists(scala):
    _, glue, session_id = scala
    assert text(run(glue, session_id, "answer + 1")) == "val res0: Int = 43"  # the first res
    out = text(run(glue, session_id, "def twice(n: Int) = n * 2\ntwice(answer)"))
    assert re.fullmatch(r"def twice\(n: Int\): Int\nval res\d+: Int = 84", out), out


def test_println_comes_back_as_text_before_the_value(scala):
    _, glue, session_id = scala
    out = text(run(glue, session_id, 'println("hello from scala")\n"done"'))
    assert out.splitlines()[0] == "hello from scala"
    assert re.fullmatch(r"val res\d+: String = done", out.splitlines()[1]), out  # 2.13: no quotes
    assert text(run(glue, session_id, 'System.out.println("java too")')) == "java too"


def test_spark_and_sc_are_the_sessions_spark(scala):
    _, glue, session_id = scala
    out = text(run(glue, session_id, 'spark.range(10).selectExpr("sum(id) AS s").first.getLong(0)'))
    assert out.endswith("Long = 45")
    out = text(run(glue, session_id, "sc.parallelize(1 to 4).map(_ * 3).collect()"))
    assert out.endswith("Array[Int] = Array(3, 6, 9, 12)")
    shown = text(run(glue, session_id, 'Seq((1, "a"), (2, "b")).toDF("n", "s").show()'))
    assert "|  n|  s|" in shown and "|  2|  b|" in shown  # spark.implicits._ is imported


def test_an_exception_is_an_error_named_by_its_class_and_state_survives(scala):
    _, glue, session_id = scala
    statement = run(
        glue, session_id, 'val kept = 7\nprintln("before")\nthrow new IllegalStateException("boom")'
    )
    assert statement["State"] == "AVAILABLE"  # Livy: an error in the code is AVAILABLE
    output = statement["Output"]
    assert output["Status"] == "error"
    assert output["ErrorName"] == "java.lang.IllegalStateException"
    assert output["ErrorValue"] == "boom"
    assert output["Traceback"][0] == "java.lang.IllegalStateException: boom\n"
    assert all(line.startswith("\tat ") for line in output["Traceback"][1:])
    assert output["Data"]["TextPlain"] == "before"
    assert text(run(glue, session_id, "answer * 10")).endswith("Int = 420")


def test_a_compile_error_is_the_compilers_report(scala):
    _, glue, session_id = scala
    output = run(glue, session_id, "val y = notDefinedAnywhere + 1")["Output"]
    assert output["Status"] == "error"
    assert output["ErrorName"] == "Error"
    assert "not found: value notDefinedAnywhere" in output["ErrorValue"]
    assert any("notDefinedAnywhere" in line for line in output["Traceback"])


def test_incomplete_input_is_livys_incomplete_statement_and_a_comment_is_fine(scala):
    _, glue, session_id = scala
    output = run(glue, session_id, "val z = ")["Output"]
    assert (output["Status"], output["ErrorName"], output["ErrorValue"]) == (
        "error",
        "Error",
        "incomplete statement",
    )
    assert text(run(glue, session_id, "// only a comment")) == ""


def test_glue_context_names_what_is_missing(scala):
    _, glue, session_id = scala
    code = "import com.amazonaws.services.glue.GlueContext\nval glueContext = new GlueContext(sc)"
    output = run(glue, session_id, code)["Output"]
    assert output["Status"] == "error"
    assert output["ErrorName"] == "java.lang.UnsupportedOperationException"
    assert "GlueContext is not available in local Scala sessions" in output["ErrorValue"]


def test_cancel_stops_a_running_spark_job_and_the_session_goes_on(scala):
    _, glue, session_id = scala
    code = "sc.parallelize(1 to 1000, 4).map { i => Thread.sleep(200); i }.count()"
    statement_id = glue.run_statement(SessionId=session_id, Code=code)["Id"]
    # wait until the job runs (progress > 0 or RUNNING with Spark's tasks started)
    wait_statement(glue, session_id, statement_id, "RUNNING", patience=SPARK_PATIENCE)
    deadline = time.monotonic() + SPARK_PATIENCE
    while glue.get_statement(SessionId=session_id, Id=statement_id)["Statement"]["Progress"] == 0:
        assert time.monotonic() < deadline, "the job never made progress"
        time.sleep(0.05)
    glue.cancel_statement(SessionId=session_id, Id=statement_id)
    done = wait_statement(glue, session_id, statement_id, patience=SPARK_PATIENCE)
    assert done["State"] == "CANCELLED"
    assert text(run(glue, session_id, "answer")).endswith("Int = 42")


def test_the_repl_ends_with_its_session(scala):
    ep, glue, session_id = scala
    pids = ep.worker_pids()
    assert pids
    glue.delete_session(Id=session_id)
    assert wait_gone(pids) == []


def test_a_killed_endpoint_takes_its_scala_repl_along():
    """SIGKILL leaves the endpoint no chance to clean up: the REPL's JVM has the Python
    launcher's parent-death signal (exec keeps it), so it ends too."""
    with endpoint_process("--provision-seconds", "0") as (_, url):  # SIGKILLed at its end
        glue = make_glue(url, attempts=1)
        session_id = create_scala(glue)
        out = text(run(glue, session_id, "ProcessHandle.current.pid", patience=JVM_PATIENCE))
        pid = int(out.rsplit("=", 1)[1])
    assert wait_gone([pid]) == []
