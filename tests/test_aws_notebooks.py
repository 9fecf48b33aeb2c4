"""A small corpus of notebooks in the style of AWS's Glue kernel (notebooks/aws_style/),
written for this project from AWS's documentation and the layout of aws-samples'
aws-glue-samples notebooks (settings, then ``%%configure``, in one cell; ``%help``;
``%status`` before and after a session; ``%%sql``; ``%%tags``; ``%list_sessions``;
``%stop_session``), run unchanged by nbclient on our kernel against the embedded endpoint.

Each counts its code cells and those that ran clean (no error output); all must.
"""

from __future__ import annotations

import pytest
from test_kernel import installed  # noqa: F401 - the fixture: the kernelspec, installed
from test_notebooks import PATIENCE, Ran, needs, run

NO_SESSION = "There is no current session."


def clean(ran: Ran) -> tuple[int, int]:
    """(code cells that ran clean, code cells)."""
    ok = [c for c in ran.cells if not [o for o in c.outputs if o.output_type == "error"]]
    return len(ok), len(ran.cells)


def report(name: str, ran: Ran) -> None:
    done, total = clean(ran)
    print(f"{name}: {done} of {total} code cells ran clean")
    assert done == total, [o for o in ran.outputs if o.output_type == "error"]


def test_getting_started(installed, tmp_path):  # noqa: F811
    ran = run("aws_style/getting_started.ipynb", tmp_path, "glue_magics", installed)
    report("getting_started", ran)
    [help_cell] = ran.cells_of("%help")
    assert "%%configure" in str(help_cell.outputs[0]["data"]["text/markdown"])
    statuses = ran.cells_of("%status")
    assert NO_SESSION in statuses[0].stream("stdout")  # before the session
    assert NO_SESSION not in statuses[1].plain and "READY" in statuses[1].plain
    assert NO_SESSION in statuses[2].stream("stdout")  # after %stop_session
    assert "3 orders, 49.75 in all" in ran.stream("stdout")
    settings = ran.cells_of("%endpoint local")[0].stream("stdout")
    assert "'--datalake-formats': 'delta'" in settings  # %%configure names what it set


def test_session_settings(installed, tmp_path):  # noqa: F811
    ran = run("aws_style/session_settings.ipynb", tmp_path, "glue_magics", installed)
    report("session_settings", ran)
    assert "spark.sql.shuffle.partitions" in ran.cells_of("%spark_conf")[0].stream("stdout")
    assert "'be': 2" in ran.stream("stdout")
    [session_id] = ran.cells_of("%session_id")
    assert "orders-dev" in session_id.stream("stdout")
    # the second %stop_session finds none: a notice, and the notebook ends clean
    assert NO_SESSION in ran.cells_of("%stop_session")[1].stream("stdout")


@pytest.mark.slow
@pytest.mark.timeout(PATIENCE * 2)
def test_sql_in_session(installed, tmp_path):  # noqa: F811
    needs("spark")
    ran = run("aws_style/sql_in_session.ipynb", tmp_path, "glue_magics", installed)
    report("sql_in_session", ran)
    assert "delta" in ran.text  # %%sql after the settings, in one cell
    assert "books" in ran.text and "42.5" in ran.text
