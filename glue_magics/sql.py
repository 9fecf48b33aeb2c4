"""%%glue_sql: the code sent to the session, and the table read back from its output.

The session runs ``spark.sql`` and prints the first rows as one JSON line behind a
marker, so the same code works on AWS Glue and on the local endpoint, and the result
comes back on stdout like any statement output.  Only ``-n`` + 1 rows travel this way;
with ``-o`` the whole result comes home as Arrow instead (:mod:`glue_magics.fetch`), and
on a Spark Connect session ``spark.sql`` runs here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MARKER = "__glue_magics_sql__"

_TEMPLATE = """\
import json as _gm_json
_gm_df = spark.sql({query!r})
_gm_rows = _gm_df.limit({limit}).collect()
print({marker!r} + _gm_json.dumps({{
    "columns": list(_gm_df.columns),
    "rows": [list(_gm_r) for _gm_r in _gm_rows[:{max_rows}]],
    "truncated": len(_gm_rows) > {max_rows},
}}, default=str))
del _gm_df, _gm_rows
"""


#: The same for a Scala session: a block (the REPL shows nothing of it), the JSON made by
#: Jackson, which Spark ships; a cell that is not a number or a boolean is its text.
_SCALA_TEMPLATE = """\
{{
  val _gm_df = spark.sql({query})
  val _gm_rows = _gm_df.limit({limit}).collect()
  val _gm_cell: Any => AnyRef = {{
    case null => null
    case v: java.lang.Number => v
    case v: java.lang.Boolean => v
    case v => v.toString
  }}
  val _gm_out = new java.util.LinkedHashMap[String, AnyRef]()
  _gm_out.put("columns", java.util.Arrays.asList(_gm_df.columns: _*))
  _gm_out.put("rows", java.util.Arrays.asList(_gm_rows.take({max_rows}).map(r =>
    java.util.Arrays.asList(r.toSeq.map(_gm_cell): _*)): _*))
  _gm_out.put("truncated", java.lang.Boolean.valueOf(_gm_rows.length > {max_rows}))
  println({marker} + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(_gm_out))
}}
"""


def code(query: str, max_rows: int, language: str = "python") -> str:
    """Code for the session (Python, or Scala for a Scala session) that runs ``query`` and
    prints at most ``max_rows`` rows."""
    query = query.strip().rstrip(";")
    if language == "scala":  # a JSON string is a Scala string literal
        return _SCALA_TEMPLATE.format(
            query=json.dumps(query),
            limit=max_rows + 1,
            max_rows=max_rows,
            marker=json.dumps(MARKER),
        )
    return _TEMPLATE.format(query=query, limit=max_rows + 1, max_rows=max_rows, marker=MARKER)


@dataclass
class SqlResult:
    """The table shown: its first rows; ``fetched`` is how many rows came home (``-o``)."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    fetched: int | None = None

    def rows_as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=False)) for row in self.rows]

    def title(self) -> str:
        """Says what was cut: the rows shown (-n) of those fetched (-o), or that there are
        more than shown."""
        if self.fetched is not None:
            if self.fetched > len(self.rows):
                return f"{self.fetched} rows fetched, first {len(self.rows)} shown"
            return f"{self.fetched} row(s) fetched"
        more = " (more rows not shown; raise -n)" if self.truncated else ""
        return f"{len(self.rows)} row(s){more}"


def parse(text: str) -> SqlResult:
    """The table printed by :func:`code`, read from the statement's stdout.

    ``text`` is what the statement printed, whatever shape it came in (TextPlain,
    StdOut, or a stream held in S3): ``results.read_data`` has already read it.
    """
    for line in reversed(text.splitlines()):
        if line.startswith(MARKER):
            payload = json.loads(line[len(MARKER) :])
            try:
                return SqlResult(
                    list(payload["columns"]), list(payload["rows"]), bool(payload["truncated"])
                )
            except (KeyError, TypeError) as exc:
                raise ValueError(f"the %%glue_sql result line lacks {exc}") from None
    raise ValueError("the session returned no %%glue_sql result")


def _needs_spark(run: Callable[[], Any]) -> Any:
    """``run()``, with a session that has no ``spark`` said in one line (``GlueError``)."""
    from glue_magics.results import RemoteError
    from glue_magics.service import GlueError

    try:
        return run()
    except RemoteError as exc:
        if exc.ename == "NameError" and "spark" in exc.evalue:
            raise GlueError(
                "this session has no Spark (`spark` is undefined): %%glue_sql needs a "
                "Spark session; on the local endpoint install pyspark and Java",
                "NoSpark",
            ) from None
        raise


def _nonempty(query: str) -> None:
    from glue_magics.service import GlueError

    if not query.strip():
        raise GlueError("%%glue_sql needs a query in the cell, e.g. SELECT 1", "UsageError")


def run(
    execute: Callable[[str], Any], query: str, max_rows: int, language: str = "python"
) -> SqlResult:
    """``%%glue_sql``: ``query`` run through ``execute`` (the magics' statement runner, which
    shows a failure) and its table read back.  An empty query, a session without Spark and
    an unreadable result are one line each (``GlueError``)."""
    from glue_magics.service import GlueError

    _nonempty(query)
    outcome = _needs_spark(lambda: execute(code(query, max_rows, language)))
    try:
        return parse(outcome.output.stdout)
    except ValueError as exc:
        raise GlueError(f"could not read the %%glue_sql result: {exc}", "UsageError") from None


def run_arrow(
    execute: Callable[[str, int], Any], query: str, max_rows: int, fetch_max_mb: float
) -> tuple[SqlResult, Any]:
    """``%%glue_sql -o`` on a statement session: the WHOLE result home as Arrow
    (:mod:`glue_magics.fetch`), the table its first ``max_rows``; the pandas DataFrame."""
    from glue_magics import fetch

    _nonempty(query)
    code = fetch.sql_code(query, fetch.limit_bytes(fetch_max_mb))
    got = _needs_spark(lambda: fetch.fetch(execute, code, fetch_max_mb))
    rows = got.head(max_rows)
    return SqlResult(got.columns, rows, got.rows > len(rows), got.rows), got.frame


def run_connect(spark: Any, query: str, max_rows: int, frame: bool) -> tuple[SqlResult, Any]:
    """``%%glue_sql`` on a Spark Connect session: ``spark.sql`` run here.  With ``frame``
    (``-o``) the whole result as pandas over Arrow (``toPandas``, no row cap), and the
    table its first rows; else only ``max_rows`` (+1, to know there are more) are fetched.
    A Spark error is one line (``GlueError``)."""
    from glue_magics.service import GlueError

    _nonempty(query)
    from pyspark.errors import PySparkException
    from pyspark.logger import PySparkLogger

    # pyspark logs a failed query's error (with its traceback) as it makes the exception;
    # here the error is the one line below
    quiet = PySparkLogger.getLogger("SQLQueryContextLogger")
    was, quiet.disabled = quiet.disabled, True
    try:
        df = spark.sql(query.strip().rstrip(";"))
        if frame:
            pdf = df.toPandas()
            from glue_magics.fetch import head_rows

            rows = head_rows(pdf, max_rows)
            return SqlResult(list(pdf.columns), rows, len(pdf) > max_rows, len(pdf)), pdf
        got = df.limit(max_rows + 1).collect()
    except PySparkException as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise GlueError(f"{type(exc).__name__}: {first}", "SparkError") from None
    finally:
        quiet.disabled = was
    rows = [list(row) for row in got[:max_rows]]
    return SqlResult(list(df.columns), rows, len(got) > max_rows), None


def run_magic(
    manager: Any,
    execute: Callable[..., Any],
    query: str,
    max_rows: int,
    whole: bool,
    fetch_max_mb: float,
) -> tuple[SqlResult, Any]:
    """``%%glue_sql`` on the manager's current session: ``spark.sql`` here on a Spark
    Connect session, else a statement; with ``whole`` (``-o``) also the whole result as
    pandas (else None)."""
    spark = manager.spark()  # a Spark Connect session: spark.sql here, pandas over Arrow
    if spark is not None:
        with manager.connects.interrupting(manager.session_id):
            return run_connect(spark, query, max_rows, whole)
    language = manager.session_language()
    if whole:
        if language != "python":  # the Arrow fetch is pyspark code
            from glue_magics.service import GlueError

            raise GlueError("%%glue_sql -o needs a Python session; drop -o here", "UsageError")
        return run_arrow(execute, query, max_rows, fetch_max_mb)
    # the SQL's wrapper in the session's own language (Python or Scala)
    return run(lambda code: execute(code, language=language), query, max_rows, language), None
