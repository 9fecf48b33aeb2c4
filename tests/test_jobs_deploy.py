"""From notebook to Glue job, end to end on the local endpoint: ``glue-magics job deploy
--run`` and ``%glue_job deploy --run`` take a notebook of Glue code to a SUCCEEDED run
whose output is in the object store, and moto's Glue takes the same requests."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from helpers import ROLE, make_glue, make_s3, needs_spark
from test_kernel import installed  # noqa: F401 F811 - the fixture: the kernelspec, installed

from tests.kernels import kernel_env

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(900)]

#: A job's run starts its own JVM: minutes on a loaded 2-core machine.
RUN_PATIENCE = 600

SETTINGS = (
    "%glue_version 5.0\n%worker_type G.1X\n%number_of_workers 2\n%idle_timeout 30\n"
    '%%configure\n{"--conf": "spark.sql.shuffle.partitions=3"}'
)
GLUE_CODE = """\
import boto3
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from pyspark.context import SparkContext

glueContext = GlueContext(SparkContext.getOrCreate())
s3 = boto3.client("s3")
if "out-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket="out-bucket")
people = spark.createDataFrame([(1, "ada"), (2, "grace")], ["id", "name"])
frame = DynamicFrame.fromDF(people, glueContext, "people")
glueContext.write_dynamic_frame.from_options(
    frame=frame,
    connection_type="s3",
    connection_options={"path": "s3://out-bucket/people/"},
    format="parquet",
)
print("partitions:", spark.conf.get("spark.sql.shuffle.partitions"))
"""


def write_notebook(path: Path, *cells: str, kernel: str = "glue_magics") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def deploy(notebook: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glue_magics", "job", "deploy", str(notebook), *extra,
         "--role", ROLE, "--endpoint-url", url],
        capture_output=True,
        text=True,
        timeout=RUN_PATIENCE,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ep(tmp_path_factory):
    from glue_magics.local import LocalEndpoint

    data = tmp_path_factory.mktemp("data")
    with LocalEndpoint(provision_seconds=0.1, stop_seconds=0.1, data_dir=data) as endpoint:
        yield endpoint


def test_the_command_line_deploys_runs_and_follows_to_succeeded(ep, tmp_path):
    notebook = write_notebook(tmp_path / "people.ipynb", SETTINGS, GLUE_CODE)
    before = sum(ep.calls.values())
    started = time.monotonic()
    run = deploy(notebook, ep.url, "--name", "people", "--run", "--arg", "day=2024-01-01")
    took = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Job people created" in run.stdout and "SUCCEEDED" in run.stdout
    calls = sum(ep.calls.values()) - before
    print(f"deploy --run to SUCCEEDED: {took:.1f} s, {calls} API calls ({dict(ep.calls)})")
    glue = make_glue(ep.url)
    job = glue.get_job(JobName="people")["Job"]
    assert job["GlueVersion"] == "5.0" and job["WorkerType"] == "G.1X"
    assert job["NumberOfWorkers"] == 2
    assert job["DefaultArguments"] == {"--conf": "spark.sql.shuffle.partitions=3"}
    location = job["Command"]["ScriptLocation"]
    assert location == "s3://aws-glue-assets-123456789012-us-east-1/scripts/people.py"
    script = (ep.settings.s3_root / location[len("s3://") :]).read_text()
    assert "%" not in script and "getResolvedOptions" in script and "job.commit()" in script
    [run_info] = glue.get_job_runs(JobName="people")["JobRuns"]
    assert run_info["JobRunState"] == "SUCCEEDED" and run_info["Arguments"] == {
        "--day": "2024-01-01"
    }
    written = list((ep.settings.s3_root / "out-bucket" / "people").glob("*.parquet"))
    assert written, "the run's output is in the object store"
    log = ep.jobs.run_log(run_info["Id"]).read_text()
    assert "partitions: 3" in log  # the notebook's --conf reached the job's Spark
    again = deploy(notebook, ep.url, "--name", "people")
    assert again.returncode == 0 and "Job people unchanged" in again.stdout


def test_a_failing_notebook_ends_failed_with_its_error_and_status_1(ep, tmp_path):
    notebook = write_notebook(
        tmp_path / "fails.ipynb", "print('before')\nraise ValueError('bad row')"
    )
    run = deploy(notebook, ep.url, "--name", "fails", "--run")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED: ValueError: bad row" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_glue_job_in_the_notebook_deploys_itself_and_runs(installed, tmp_path):  # noqa: F811
    """notebooks/notebook_to_job.ipynb on the glue-magics kernel, run by nbclient as a user
    would, ends with %glue_job deploy --run; its path comes from the frontend
    (JPY_SESSION_NAME, as Jupyter Server sets it)."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    data = tmp_path / "data"
    path = Path(__file__).parent.parent / "notebooks" / "notebook_to_job.ipynb"
    nb = nbformat.read(path, as_version=4)
    env = kernel_env("http://127.0.0.1:9")
    del env["AWS_ENDPOINT_URL_GLUE"], env["GLUE_ROLE_ARN"]  # the notebook says each
    env.update(JPY_SESSION_NAME=str(path), GLUE_LOCAL_DATA_DIR=str(data))
    env["GLUE_MAGICS_LOCAL_SPARK"] = "1"  # its session runs the Glue code first
    km = KernelManager(kernel_name="glue_magics", kernel_spec_manager=installed)
    km.start_kernel(env=env, cwd=str(tmp_path))
    started = time.monotonic()
    try:
        NotebookClient(nb, timeout=RUN_PATIENCE, km=km).execute(cwd=str(tmp_path))
    finally:
        if km.is_alive():
            km.shutdown_kernel(now=True)
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = lambda i: "".join(o.get("text", "") for o in code[i].outputs)  # noqa: E731
    print(f"notebook with its session and the job's run: {time.monotonic() - started:.1f} s")
    assert "rows written: 2" in text(2)
    deployed = text(4)
    assert "Job people-etl created" in deployed and "SUCCEEDED" in deployed, deployed
    assert "Left out, a session's only: idle_timeout (30)" in deployed
    assert "Job people-etl unchanged" in text(5)
    script = data / "s3" / "aws-glue-assets-123456789012-us-east-1" / "scripts" / "people-etl.py"
    text_of_script = script.read_text()
    assert "%" not in text_of_script and "orderBy" not in text_of_script  # skip-job: out
    assert len(list((data / "s3" / "job-output" / "people").glob("born=*"))) == 2


def test_moto_takes_the_requests_deploy_sends(moto_server, tmp_path):
    """moto's Glue and S3 (a second implementation) accept the CreateJob, GetJob and
    StartJobRun that deploy sends for the same notebook."""
    from glue_magics.jobs import deploy as jobs
    from glue_magics.jobs import script

    notebook = write_notebook(tmp_path / "people.ipynb", SETTINGS, GLUE_CODE)
    planned = jobs.plan(
        script.read(notebook),
        "people-on-moto",
        "s3://moto-scripts/scripts/people.py",
        {"role": ROLE},
    )
    glue = make_glue(moto_server)
    s3 = make_s3(moto_server)
    done = jobs.deploy(glue, s3, planned)
    assert done.action == "created"
    job = glue.get_job(JobName="people-on-moto")["Job"]
    assert job["WorkerType"] == "G.1X" and job["NumberOfWorkers"] == 2
    assert jobs.start(glue, "people-on-moto", {"--day": "1"}).startswith("jr_")
    body = s3.get_object(Bucket="moto-scripts", Key="scripts/people.py")["Body"].read()
    assert b"write_dynamic_frame" in body
