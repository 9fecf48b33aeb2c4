"""The small public-domain data set the package ships for the demo and the notebooks.

Two related tables of NYC flights (7 to 11 February 2013, a slice of ``nycflights13``; source
and licence in ``data/nycflights13/README.md``), read by path so that nothing is downloaded.
A session on the embedded endpoint is a process on this machine and reads these paths as
they are; on AWS the same code reads an ``s3://`` path instead.  Standard library only.
"""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).parent / "data" / "nycflights13"
#: The shipped tables: ``flights`` (4,304 rows) and ``airlines`` (16 rows, by ``carrier``).
TABLES = ("flights", "airlines")


def path(table: str) -> str:
    """The absolute path of a shipped table's CSV file (with a header row)."""
    if table not in TABLES:
        raise ValueError(f"no sample table {table!r}; choose one of {', '.join(TABLES)}")
    return str(DIRECTORY / f"{table}.csv")
