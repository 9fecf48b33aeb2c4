"""awsglue in a local session, end to end: a ``%%glue`` cell through the local endpoint
imports awsglue and runs DynamicFrames, while the kernel itself has no awsglue (the
runtime is on the session worker's path only)."""

from __future__ import annotations

import json

import pytest
from helpers import needs_spark, spark_sessions

from glue_magics.local import LocalEndpoint
from tests.kernels import Kernel, kernel_env

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def kernel():
    with spark_sessions(), LocalEndpoint(provision_seconds=0.2, stop_seconds=0.05) as ep:
        k = Kernel(kernel_env(ep.url, GLUE_MAGICS_SPARK_MASTER="local[1]"))
        try:
            k.ok("%load_ext glue_magics\n%glue_session", timeout=300)  # READY with Spark up
            # Spark up first: a bare SparkContext.getOrCreate() before the session's Spark
            # has no master (Spark at READY is the worker's part of issue 21, not awsglue's)
            k.ok("%%glue\nspark.range(1).count()", timeout=300)
            yield k
        finally:
            k.shutdown()


def test_the_kernel_itself_has_no_awsglue(kernel):
    reply = kernel.execute("import awsglue")
    assert reply.status == "error" and reply.ename == "ModuleNotFoundError"


def test_a_glue_cell_runs_dynamic_frames_in_the_local_session(kernel, tmp_path):
    data = tmp_path / "people.json"
    people = [{"name": "Ann", "age": 41}, {"name": "Bob", "age": "unknown"}, {"name": "Cy"}]
    data.write_text("".join(json.dumps(p) + "\n" for p in people))
    cell = f"""%%glue
from awsglue.transforms import *
from awsglue.context import GlueContext
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())
people = glueContext.create_dynamic_frame.from_options(
    "s3", {{"paths": ["{data}"]}}, "json"
)
people.printSchema()
people = people.resolveChoice(specs=[("age", "cast:long")])
older = Filter.apply(frame=people, f=lambda r: (r["age"] or 0) > 30)
older = ApplyMapping.apply(
    frame=older,
    mappings=[("name", "string", "person.name", "string"), ("age", "long", "age", "int")],
)
older.show()
"""
    reply = kernel.ok(cell, timeout=400)
    out = reply.stdout
    assert "|-- age: choice\n|    |-- long\n|    |-- string\n" in out, out
    assert '{"person":{"name":"Ann"},"age":41}' in out, out
    assert "Bob" not in out.split("|-- name: string")[-1], out
