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
    "aws_glue_kernel_style.ipynb": "test_kernel.py",
}
#: Guards against a hang: a notebook's Spark (one or two JVMs) on a loaded 2-core machine.
PATIENCE = 280


def test_every_notebook_is_run_by_the_suite():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(RUN_BY)


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
        pytest.skip(f"needs {', '.join(lacks)} ({cli.LOCAL_FIX}; Java: {cli.JAVA_FIX})")


class Ran:
    """A notebook after nbclient ran it: its outputs, as a frontend received them."""

    def __init__(self, notebook: Any) -> None:
        self.outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]

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


def run(name: str, cwd: Path, kernel_name: str = "python3", manager: Any = None) -> Ran:
    """Run ``name`` as it is on ``kernel_name``, with an environment that reaches no AWS (the
    notebooks point at the embedded endpoint themselves)."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    km = KernelManager(kernel_name=kernel_name, kernel_spec_manager=manager or KernelSpecManager())
    env = kernel_env("http://127.0.0.1:9")
    del env["AWS_ENDPOINT_URL_GLUE"], env["GLUE_ROLE_ARN"]  # the notebook says each
    km.start_kernel(env=env, cwd=str(cwd))
    try:
        NotebookClient(notebook, timeout=PATIENCE, km=km).execute(cwd=str(cwd))
    finally:
        if km.is_alive():
            km.shutdown_kernel(now=True)
    return Ran(notebook)


@pytest.mark.slow
@pytest.mark.timeout(PATIENCE * 2)
def test_demo(tmp_path):
    needs("spark-connect")
    ran = run("demo.ipynb", tmp_path)
    assert not ran.errors, ran.errors
    text = ran.text
    assert "4304 flights, 968 of them cancelled" in text  # the session read the shipped data
    assert "\n4304" in text and "only showing top 5 rows" in text  # Spark, the transformation
    assert "Endeavor Air Inc." in text and "11 row(s)" in text  # %%glue_sql's table
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
    assert "5 row(s) (more rows not shown" in text  # -n 5 shown ...
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
    assert "read 4304 flights and 16 carriers" in text
    assert "kept 3320 flights; dropped 968 cancelled, 16 diverted, 0 duplicates" in text
    assert "0 flights of carriers without a name" in text
    days = [f"flight_date=2013-02-{day:02d}" for day in range(7, 12)]
    assert str(days) in text  # the partitions the session listed ...
    out = tmp_path / "curated" / "daily_delays"  # ... are on disk, each with Parquet files
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == days
    for day in days:
        assert list((out / day).glob("*.parquet")), day
    assert "in 5 partitions" in text
    assert "STOPPED" in text
