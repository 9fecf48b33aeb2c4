"""A notebook read as a Glue job: settings from its magics (through the options machinery),
the script from its session cells, and bad input refused in one line before any call."""

from __future__ import annotations

import json
import string
import subprocess
import sys

import nbformat
import pytest
from helpers import ROLE
from hypothesis import given
from hypothesis import strategies as st

from glue_magics.jobs import deploy, script
from glue_magics.jobs.script import NotebookError

LOCATION = "s3://scripts-bucket/scripts/job.py"


def notebook(tmp_path, *cells, kernel="glue_pyspark", name="nb.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    for cell in cells:
        source, tags = (cell, []) if isinstance(cell, str) else cell
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags}))
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


AWS_LAYOUT = (
    "%idle_timeout 2880\n%glue_version 5.0\n%worker_type G.2X\n%number_of_workers 4\n"
    "%timeout 60\n%connections my-conn\n%security_config my-sec\n%%configure\n"
    '{"--conf": "spark.sql.shuffle.partitions=7", "--extra-py-files": "s3://b/x.py"}'
)


def test_the_notebooks_magics_are_the_jobs_settings(tmp_path):
    path = notebook(
        tmp_path,
        "%help",
        AWS_LAYOUT,
        '%%tags\n{"team": "data"}',
        "df = spark.range(10)\nprint(df.count())\n%matplot plt",
        "%%sql\nSELECT 1 AS one",
        "%%local\nprint('here only')",
        ("print('kept out')", ["skip-job"]),
        "%status",
    )
    job = script.read(path)
    plan = deploy.plan(job, "nb-job", LOCATION, {"role": ROLE}, notebook=str(path))
    request = plan.request
    assert request["GlueVersion"] == "5.0" and request["WorkerType"] == "G.2X"
    assert request["NumberOfWorkers"] == 4 and request["Timeout"] == 60
    assert request["Connections"] == {"Connections": ["my-conn"]}
    assert request["SecurityConfiguration"] == "my-sec"
    assert request["DefaultArguments"]["--conf"] == "spark.sql.shuffle.partitions=7"
    assert request["DefaultArguments"]["--extra-py-files"] == "s3://b/x.py"
    assert request["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": LOCATION,
        "PythonVersion": "3",
    }
    assert request["Tags"]["team"] == "data" and request["Tags"][deploy.JOB_TAG] == str(path)
    assert "IdleTimeout" not in request and plan.left_out == {"idle_timeout": 2880}
    assert plan.dpus == 8.0  # 4 x G.2X
    text = plan.script
    compile(text, "job.py", "exec")  # a script Python can run
    assert "print(df.count())" in text and "spark.sql('SELECT 1 AS one')" in text
    assert "%" not in text.replace("% ", "")  # no magic left
    assert "here only" not in text and "kept out" not in text
    assert text.count("job.init(") == 1 and text.rstrip().endswith("job.commit()")


def test_a_notebook_with_its_own_job_boilerplate_gets_none_added(tmp_path):
    own = (
        "import sys\nfrom awsglue.utils import getResolvedOptions\n"
        "args = getResolvedOptions(sys.argv, ['JOB_NAME'])\njob = Job(glueContext)\n"
        "job.init(args['JOB_NAME'], args)\nprint('work')\njob.commit()"
    )
    text = script.read(notebook(tmp_path, own)).script
    assert text.count(".init(") == 1 and text.count(".commit()") == 1


def test_on_a_plain_python_kernel_only_the_glue_cells_are_the_job(tmp_path):
    path = notebook(
        tmp_path,
        "%load_ext glue_magics\n%glue_session --workers 3 --glue-version 4.0",
        "import pandas as pd  # runs here, not in the session",
        "%%glue\nspark.range(3).show()",
        "%%glue_sql\nSELECT 2",
        kernel="python3",
    )
    job = script.read(path)
    assert "pandas" not in job.script and "spark.range(3).show()" in job.script
    assert "spark.sql('SELECT 2')" in job.script and job.cells == 2
    request = deploy.plan(job, "py", LOCATION, {"role": ROLE}).request
    assert request["NumberOfWorkers"] == 3 and request["GlueVersion"] == "4.0"


@pytest.mark.parametrize(
    ("cells", "words"),
    [
        (["%%configure\n{not json"], ["cell 1", "not valid JSON"]),
        (["%worker_type G.99X"], ["cell 1", "%worker_type", "G.99X"]),
        (["%number_of_workers lots"], ["cell 1", "lots"]),
    ],
)
def test_bad_settings_in_a_notebook_are_one_line_naming_the_cell(tmp_path, cells, words):
    with pytest.raises(NotebookError) as info:
        script.read(notebook(tmp_path, *cells))
    message = str(info.value)
    assert "\n" not in message and all(w in message for w in words), message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ["is not JSON", "give a .ipynb file"]),
        ('{"nbformat": 4}', ["has no cells"]),
    ],
)
def test_a_file_that_is_not_a_notebook_is_one_line(tmp_path, content, words):
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookError) as info:
        script.read(path)
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words)


@pytest.mark.parametrize("name", ["", " padded ", "a\nb", "x" * 256])
def test_a_name_glue_refuses_is_one_line_before_any_call(tmp_path, name):
    job = script.read(notebook(tmp_path, "print(1)"))
    with pytest.raises(NotebookError) as info:
        deploy.plan(job, name, LOCATION, {"role": ROLE})
    assert "job name" in str(info.value) and "\n" not in str(info.value)


def test_a_role_that_is_not_an_iam_role_arn_is_one_line(tmp_path):
    job = script.read(notebook(tmp_path, "print(1)"))
    with pytest.raises(NotebookError) as info:
        deploy.plan(job, "j", LOCATION, {"role": "not-a-role"})
    assert "role" in str(info.value) and "\n" not in str(info.value)


# A key starts with a letter, digit or _: "--" before it is the dashes Glue's keys carry
_KEYS = st.builds(
    str.__add__,
    st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=1),
    st.text(string.ascii_letters + string.digits + "_.-", max_size=19),
)


@given(key=_KEYS, value=st.text(max_size=30), dashes=st.booleans())
def test_run_arguments_take_key_equals_value_with_or_without_dashes(key, value, dashes):
    word = f"{'--' if dashes else ''}{key}={value}"
    assert deploy.run_arguments([word]) == {f"--{key}": value}


@given(word=st.text(max_size=30).filter(lambda w: "=" not in w or w.startswith("=")))
def test_an_argument_without_a_key_is_refused_in_one_line(word):
    with pytest.raises(NotebookError) as info:
        deploy.run_arguments([word])
    assert "KEY=VALUE" in str(info.value)


def test_the_command_line_dry_run_prints_script_and_request_and_calls_nothing(tmp_path):
    path = notebook(tmp_path, AWS_LAYOUT, "print('hi')")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "glue_magics",
            "job",
            "deploy",
            str(path),
            "--name",
            "dry",
            "--role",
            ROLE,
            "--script-location",
            LOCATION,
            "--dry-run",
            "--endpoint-url",
            "http://127.0.0.1:9",  # nothing listens: any call would fail
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    request = json.loads(
        run.stdout.split("# CreateJob request", 1)[1].split("\n", 1)[1].split("\n#")[0]
    )
    assert request["Name"] == "dry" and request["WorkerType"] == "G.2X"
    assert "print('hi')" in run.stdout and "idle_timeout (2880)" in run.stdout


def test_the_command_line_says_bad_input_in_one_line_with_status_2(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("nope")
    run = subprocess.run(
        [sys.executable, "-m", "glue_magics", "job", "deploy", str(bad), "--name", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_deploy_creates_then_changes_nothing_then_updates_what_changed(fresh_endpoint, tmp_path):
    """Against the local endpoint (its S3 API for the script, its jobs), no run: a second
    deploy of the same notebook makes no UpdateJob; a changed setting updates that member;
    a job glue-magics did not make is left alone without force."""
    from helpers import make_glue, make_s3

    ep = fresh_endpoint(data_dir=tmp_path / "data")
    glue, s3 = make_glue(ep.url), make_s3(ep.url)
    path = notebook(tmp_path, AWS_LAYOUT, "print('hi')")
    first = deploy.plan(script.read(path), "idem", LOCATION, {"role": ROLE})
    assert deploy.deploy(glue, s3, first).action == "created"
    stored = s3.get_object(Bucket="scripts-bucket", Key="scripts/job.py")["Body"].read()
    assert stored.decode() == first.script
    updates = ep.calls["UpdateJob"]
    assert deploy.deploy(glue, s3, first).action == "unchanged"
    assert ep.calls["UpdateJob"] == updates
    more = notebook(
        tmp_path, AWS_LAYOUT.replace("workers 4", "workers 6"), "print('hi')", name="b.ipynb"
    )
    done = deploy.deploy(glue, s3, deploy.plan(script.read(more), "idem", LOCATION, {"role": ROLE}))
    assert (done.action, done.changed) == ("updated", ["NumberOfWorkers"])
    assert glue.get_job(JobName="idem")["Job"]["NumberOfWorkers"] == 6
    glue.create_job(
        Name="theirs", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": LOCATION}
    )
    theirs = deploy.plan(script.read(path), "theirs", LOCATION, {"role": ROLE})
    with pytest.raises(NotebookError) as info:
        deploy.deploy(glue, s3, theirs)
    assert "was not made from a notebook by glue-magics" in str(info.value)
    assert ep.calls["UpdateJob"] == updates + 1
    assert deploy.deploy(glue, s3, theirs, force=True).action == "updated"
