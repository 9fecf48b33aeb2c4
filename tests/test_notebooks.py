"""Every notebook in ``notebooks/`` run top to bottom by nbclient on the kernel it names,
against the embedded local endpoint, as a user's Jupyter would: no error output, and the
outputs that show it did the job (row counts, the chart, the Parquet partitions on disk).

``aws_glue_kernel_style.ipynb`` is run in ``test_kernel.py``, beside the kernel it shows.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from test_kernel import installed  # noqa: F401 - the fixture: the kernelspec, installed

from glue_magics import cli
from tests.kernels import kernel_env

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
#: Each notebook and the test that runs it (a notebook added without one fails below).
RUN_BY = {
    "demo.ipynb": "test_demo",
    "spark_connect.ipynb": "test_spark_connect",
    "etl_walkthrough.ipynb": "test_etl_walkthrough",
    "operations.ipynb": "test_operations",
    "aws_glue_kernel_style.ipynb": "test_kernel.py",
    # the corpus in AWS's style (issue 20), run in test_aws_notebooks.py
    "aws_style/getting_started.ipynb": "test_aws_notebooks.py",
    "aws_style/session_settings.ipynb": "test_aws_notebooks.py",
    "aws_style/sql_in_session.ipynb": "test_aws_notebooks.py",
    "scala_session.ipynb": "test_scala_kernels.py",
    "notebook_to_job.ipynb": "test_jobs_deploy.py",
}
#: Guards against a hang: a notebook's Spark (one or two JVMs) on a loaded 2-core machine.
PATIENCE = 280


def test_every_notebook_is_run_by_the_suite():
    found = [p.relative_to(NOTEBOOKS).as_posix() for p in NOTEBOOKS.rglob("*.ipynb")]
    assert sorted(p for p in found if ".ipynb_checkpoints" not in p) == sorted(RUN_BY)


def test_every_notebook_says_what_a_user_on_aws_changes():
    for name in RUN_BY:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        first = notebook.cells[0]
        said = first.source.lower()
        assert first.cell_type == "markdown" and "on aws" in said and "role" in said, name


def needs(tag: str) -> None:
    """Skip, saying why, where this machine lacks what the notebook's cells need (the
    demo's own check: ``glue-magics demo`` skips those cells for the same reasons)."""
    lacks = cli.demo_missing()[tag]
    if lacks:
        pytest.skip(f"needs {', '.join(lacks)} ({cli.LOCAL_FIX})")


class Ran:
    """A notebook (or some of its cells) after nbclient ran it: its outputs, as a frontend
    received them."""

    def __init__(self, notebook: Any) -> None:
        self.cells = [c for c in notebook.cells if c.cell_type == "code"]
        self.outputs = [o for c in self.cells for o in c.outputs]

    def cells_of(self, first_line: str) -> list[Ran]:
        """Each code cell whose source starts with ``first_line``, in order, on its own."""
        return [
            Ran(nbformat.NotebookNode(cells=[c]))
            for c in self.cells
            if c.source.startswith(first_line)
        ]

    def stream(self, name: str) -> str:
        """What was written to ``stdout`` or ``stderr``."""
        return "".join(o.text for o in self.outputs if o.get("name") == name)

    @property
    def plain(self) -> str:
        """Streams, and each result or display as plain text (tables as a terminal shows them)."""
        return "\n".join(
            o.text if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
            for o in self.outputs
        )

    @property
    def errors(self) -> list[Any]:
        return [o for o in self.outputs if o.output_type == "error"]

    @property
    def text(self) -> str:
        """Streams, and each result or display as HTML where it has some, else as text."""
        parts = []
        for o in self.outputs:
            data = o.get("data", {})
            parts.append(o.text if o.output_type == "stream" else data.get("text/html", ""))
            parts.append(data.get("text/plain", "") if "text/html" not in data else "")
        return "\n".join(parts)

    def images(self) -> list[bytes]:
        return [
            base64.b64decode(o.data["image/png"])
            for o in self.outputs
            if "image/png" in o.get("data", {})
        ]


def run(
    name: str, cwd: Path, kernel_name: str = "python3", manager: Any = None, spark: bool = True
) -> Ran:
    """Run ``name`` as it is on ``kernel_name``, with an environment that reaches no AWS (the
    notebooks point at the embedded endpoint themselves); ``spark``: its sessions start
    Spark, as on Glue."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    km = KernelManager(kernel_name=kernel_name, kernel_spec_manager=manager or KernelSpecManager())
    env = kernel_env(
        "http://127.0.0.1:9",
        GLUE_MAGICS_LOCAL_SPARK="1" if spark else "0",
        GLUE_LOCAL_DATA_DIR=str(cwd / "data"),  # the object store the notebook's s3:// is
    )
    del env["AWS_ENDPOINT_URL_GLUE"], env["GLUE_ROLE_ARN"]  # the notebook says each
    km.start_kernel(env=env, cwd=str(cwd))
    try:
        NotebookClient(notebook, timeout=PATIENCE, km=km).execute(cwd=str(cwd))
    finally:
        if km.is_alive():
            km.shutdown_kernel(now=True)
    return Ran(notebook)


@pytest.mark.slow
@pytest.mark.timeout(PATIENCE * 3)  # the Glue demo's cells took 377 s in all under load
def test_demo(tmp_path):
    needs("spark-connect")
    ran = run("demo.ipynb", tmp_path)
    assert not ran.errors, ran.errors
    text = ran.text
    assert "4304 flights, 968 of them cancelled" in text  # the session read the shipped data
    assert "\n4304" in text and "|-- dep_delay: long" in text  # a DynamicFrame of s3:// CSV
    assert "['origin=EWR', 'origin=JFK', 'origin=LGA']" in text  # partitioned Parquet in S3
    assert "read back 3336 flights that left" in text and "only showing top 5 rows" in text
    assert "Endeavor Air Inc." in text and "11 row(s) fetched" in text  # %%glue_sql's table
    (chart,) = ran.images()  # drawn here from the -o result, shown inline
    assert chart.startswith(b"\x89PNG")
    assert "`spark` is bound here" in text and "4304 flights, 3336 departed" in text
    assert "worst day: 9 February, 57.5% of flights cancelled" in text
    assert text.count("Cost so far") == 2 and text.count("STOPPED after") == 2


@pytest.mark.slow
@pytest.mark.timeout(PATIENCE * 2)
def test_spark_connect(tmp_path):
    needs("spark-connect")
    ran = run("spark_connect.ipynb", tmp_path)
    assert not ran.errors, ran.errors
    text = ran.text
    assert "pyspark.sql.connect.session 4." in text  # a Spark Connect SparkSession, here
    # the window function's one row per airport, the worst airline there, as pandas' table
    for origin, airline in (("EWR", "ExpressJet"), ("JFK", "Endeavor"), ("LGA", "Southwest")):
        assert re.search(rf"<td>{origin}</td>\s*<td>{airline} ", text), origin
    assert re.search(r"\d+ rows fetched, first 5 shown", text)  # -n 5 shown ...
    assert "rows in `hourly`, 4304 flights" in text  # ... and all rows in pandas
    (chart,) = ran.images()
    assert chart.startswith(b"\x89PNG")
    assert "Cost so far" in text and "STOPPED after" in text
    assert text.rstrip().endswith("False")  # %glue_stop unbound spark


@pytest.mark.slow
@pytest.mark.timeout(PATIENCE * 2)
def test_etl_walkthrough(tmp_path, installed):  # noqa: F811
    needs("spark")
    ran = run("etl_walkthrough.ipynb", tmp_path, "glue_magics", installed)
    assert not ran.errors, ran.errors
    text = ran.text
    assert "read 4304 flights and 16 carriers" in text  # DynamicFrames of s3:// CSV
    assert "|-- dep_delay: long" in text  # typed by Glue from the values
    assert "kept 3320 flights; dropped 968 cancelled, 16 diverted, 0 duplicates" in text
    assert "0 flights of carriers without a name" in text
    days = [f"flight_date=2013-02-{day:02d}" for day in range(7, 12)]
    assert str(days) in text  # the partitions boto3 listed in the session ...
    # ... are in the object store, each with Parquet files
    out = tmp_path / "data" / "s3" / "glue-magics-samples" / "curated" / "daily_delays"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == days
    for day in days:
        assert list((out / day).glob("*.parquet")), day
    assert "in 5 partitions" in text
    assert "STOPPED" in text


#: The budget's two lines (budget.py's words): the warning at 80 %, then the refusal, each
#: with the cost so far, the budget and the share, as display.explain words the next steps.
WARNING = re.compile(
    r"Budget: session (?P<id>\S+) has cost ~\$(?P<cost>[\d.]+) of \$(?P<limit>[\d.]+) "
    r"\((?P<pct>\d+)%\); at 100% its statements are refused\. Raise the budget with "
    r"%config GlueMagics\.budget_usd = <USD>\."
)
REFUSAL = re.compile(
    r"UsageError: session (?P<id>\S+) has cost ~\$(?P<cost>[\d.]+) of \$(?P<limit>[\d.]+) "
    r"\((?P<pct>\d+)%\), over its budget: the statement was not run; raise the budget with "
    r"%config GlueMagics\.budget_usd = <USD> or stop it with %glue_stop (?P<stop>\S+)"
)


@pytest.mark.timeout(PATIENCE)
def test_operations(tmp_path):
    """The operations story as a user reads it: a local cell ran while the session was
    PROVISIONING, the first %%glue cell waited for READY, the history and the log, the
    budget's warning and then its one-line refusal (the one cell tagged to fail), the sessions
    table with the cost, STOPPED.  No Spark (plain Python in the session's worker): not slow."""
    notebook = nbformat.read(NOTEBOOKS / "operations.ipynb", as_version=4)
    tagged = [c.source for c in notebook.cells if "raises-exception" in c.metadata.get("tags", [])]
    # nbclient fails on an error in any other cell; no Spark: plain Python in the session
    ran = run("operations.ipynb", tmp_path, spark=False)
    assert not ran.errors, ran.errors  # no traceback anywhere: the refusal is one line

    before, during, after = ran.cells_of("%glue_sessions --mine")
    assert "0 Glue session(s) of yours" in before.plain

    (start,) = ran.cells_of("%glue_session --background")
    session_id = re.search(r"Creating session (\S+): 2 DPU, ~\$0\.88/h", start.plain).group(1)
    (local,) = ran.cells_of("import csv")  # a local cell, run while the session provisions
    assert "Here, meanwhile: 4304 flights read locally" in local.stream("stdout")
    assert re.search(r"Status\s+PROVISIONING\n", local.plain), local.plain
    (joined,) = ran.cells_of("%%glue")  # waited for READY, then ran in the session
    assert f"Glue session {session_id} READY in " in joined.stream("stdout")
    assert "batch 0: 1553 flights from EWR" in joined.stream("stdout")

    (history,) = ran.cells_of("%glue_history")
    assert f"1 statement(s) in session {session_id}" in history.plain
    assert re.search(r"1\s+AVAILABLE\s+\d+ ms\s+import csv \.\.\.", history.plain), history.plain
    (log,) = ran.cells_of("%glue_logs --tail 20")
    assert log.stream("stdout").startswith(f"System log of session {session_id}, ")
    assert "GlueWorker: statement 1 ok in " in log.stream("stdout")

    # The budget: a warning first, then the refusal as the cell's one-line error (the only
    # cell allowed to fail), every figure the one the session's age gives.
    (budget,) = ran.cells_of("usd_a_second")
    assert tagged == [budget.cells[0].source]
    warned, refused = budget.stream("stderr").splitlines()
    warning, refusal = WARNING.fullmatch(warned), REFUSAL.fullmatch(refused)
    assert warning and refusal, budget.stream("stderr")
    assert warning["id"] == refusal["id"] == refusal["stop"] == session_id
    assert warning["limit"] == refusal["limit"]
    limit = float(warning["limit"])
    # (figures as shown: dollars to 4 decimals, shares to whole percents)
    assert (
        0.8 * limit - 5e-5 <= float(warning["cost"]) <= limit and 80 <= int(warning["pct"]) <= 100
    )
    assert float(refusal["cost"]) >= limit and int(refusal["pct"]) >= 100
    batches = budget.stream("stdout").splitlines()
    assert batches and batches[-1].startswith(f"batch {len(batches)}: ")  # then none ran
    (status,) = ran.cells_of("%glue_status")  # the other one is in the local cell
    assert re.search(
        rf"Budget\s+~\$[\d.]+ of \${limit:.4f} \(\d{{3}}%\); at 100% statements are refused",
        status.plain,
    ), status.plain
    (raised,) = ran.cells_of("%config GlueMagics.budget_usd = 1")
    assert raised.stream("stdout") == "batch 61: 1478 flights from JFK\n"

    live = re.search(
        rf"{session_id}\s+READY\s.*\s~[\d.]+\s+~\$(0\.\d{{4}})\s+current", during.plain
    )
    assert live, during.plain  # listed with its cost so far, an estimate while it lives
    (stop,) = ran.cells_of("%glue_stop")
    stopped = re.search(
        rf"Session {session_id} STOPPED after [\d.]+ s: ([\d.]+) DPU-seconds, about \$([\d.]+)\.",
        stop.plain,
    )
    assert stopped, stop.plain
    measured = rf"{session_id}\s+STOPPED\s.*\s2 x G\.1X\s+\d+\s+{re.escape('$' + stopped[2])}\s"
    assert re.search(measured, after.plain + " "), after.plain  # the service's DPUSeconds
    assert float(stopped[2]) >= float(live[1])
