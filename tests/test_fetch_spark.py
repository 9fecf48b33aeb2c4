"""Large results home as Arrow with Spark: ``%%glue_sql -o`` and ``%glue_fetch`` in a real
kernel against the local endpoint, whose session runs pyspark (one JVM for the module).

The session side is the code AWS Glue would run: ``toArrow()`` on pyspark 4 here,
``_collect_as_arrow()`` on Glue 4.0/5.0 (Spark 3.3/3.5); see glue_magics/fetch.py.
"""

from __future__ import annotations

import pytest
from helpers import SPARK_PATIENCE, needs_spark, spark_sessions

from glue_magics.local import LocalEndpoint
from tests.kernels import Kernel, kernel_env, one_line

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(600)]

ROWS = 100_000
QUERY = f"SELECT id AS i, id / 2 AS d, concat('row-', id) AS s FROM range({ROWS})"


@pytest.fixture(scope="module")
def kernel():
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.05) as ep:
        k = Kernel(kernel_env(ep.url, GLUE_MAGICS_SPARK_MASTER="local[1]"))
        try:
            with spark_sessions():  # the JVM, once, before READY
                k.ok("%load_ext glue_magics\n%glue_session", timeout=SPARK_PATIENCE)
            yield k
        finally:
            k.shutdown()


def table(reply) -> str:
    """The table's text (the last text/plain shown; the statement's progress comes first)."""
    return reply.data("text/plain")[-1]


def table_rows(reply) -> list[str]:
    """The body rows of the table shown (text/plain: title, header, rule, rows)."""
    return table(reply).splitlines()[3:]


def test_glue_sql_o_brings_every_row_home_and_shows_n(kernel):
    reply = kernel.ok(f"%%glue_sql -o res -n 5\n{QUERY}", timeout=300)
    text = table(reply)
    assert text.startswith(f"{ROWS} rows fetched, first 5 shown")
    assert [row.split() for row in table_rows(reply)] == [
        [str(n), str(n / 2), f"row-{n}"] for n in range(5)
    ]
    check = kernel.ok(
        "print(len(res), res['i'].sum(), res['d'].sum(), res['s'].iloc[-1], "
        "str(res['i'].dtype), str(res['d'].dtype), "
        "res['s'].dtype.kind in 'OUT' or str(res['s'].dtype) in ('str', 'string'), "
        "(res['s'] == 'row-' + res['i'].astype(str)).all())"
    )
    total = ROWS * (ROWS - 1) // 2
    assert check.stdout.split() == [
        str(ROWS),
        str(total),
        str(total / 2),
        f"row-{ROWS - 1}",
        "int64",
        "float64",
        "True",
        "True",
    ]


def test_without_o_n_caps_what_is_shown_and_says_so(kernel):
    reply = kernel.ok(f"%%glue_sql -n 5\n{QUERY}", timeout=300)
    text = table(reply)
    assert text.startswith("5 row(s) (more rows not shown; raise -n)")
    assert len(table_rows(reply)) == 5


def test_an_empty_result_and_a_small_one_say_so(kernel):
    empty = kernel.ok("%%glue_sql -o none\nSELECT 1 AS a WHERE false", timeout=120)
    assert table(empty).startswith("0 row(s) fetched")
    assert kernel.ok("print(none.shape, list(none.columns))").stdout.split() == [
        "(0,",
        "1)",
        "['a']",
    ]
    small = kernel.ok("%%glue_sql -o two -n 5\nSELECT 1 AS a UNION ALL SELECT 2", timeout=120)
    assert table(small).startswith("2 row(s) fetched")


def test_glue_fetch_of_a_spark_and_a_pandas_frame(kernel):
    kernel.ok(f"%%glue\nsdf = spark.sql({QUERY!r})\npdf = sdf.limit(10).toPandas()", timeout=300)
    spark = kernel.ok("%glue_fetch sdf -o here", timeout=300)
    assert spark.stdout.startswith(f"here: {ROWS} rows x 3 columns, ")
    assert kernel.ok("print(here['i'].sum(), here['s'].iloc[7])").stdout.split() == [
        str(ROWS * (ROWS - 1) // 2),
        "row-7",
    ]
    pandas = kernel.ok("%glue_fetch pdf -n 2", timeout=120)
    assert pandas.stdout.startswith("pdf: 10 rows x 3 columns, ")
    assert "10 rows fetched, first 2 shown" in table(pandas)
    assert kernel.ok("print(pdf['d'].tolist()[:3])").stdout.strip() == "[0.0, 0.5, 1.0]"


def test_a_result_above_fetch_max_mb_is_refused_in_one_line(kernel):
    kernel.ok("%config GlueMagics.fetch_max_mb = 0.05")
    try:
        reply = kernel.execute(f"%%glue_sql -o big\n{QUERY}", timeout=300)
        one_line(reply, "fetch_max_mb 0.05", "%config GlueMagics.fetch_max_mb")
        assert "big" not in kernel.ok("print(sorted(globals()))").stdout
    finally:
        kernel.ok("%config GlueMagics.fetch_max_mb = 512")


def test_a_spark_error_with_o_is_the_sessions_exception(kernel):
    reply = kernel.execute("%%glue_sql -o e\nSELECT * FROM no_such_table", timeout=120)
    assert reply.status == "error" and reply.ename == "AnalysisException"
    assert "TABLE_OR_VIEW_NOT_FOUND" in reply.evalue


#: In the session: copies of a DataFrame whose class hides pyspark 4's methods, so the code
#: takes the path it takes on Glue 4.0/5.0 (Spark 3.3/3.5: ``_collect_as_arrow``) and the
#: last resort (``toLocalIterator``), with the same real Spark underneath.
OLDER_SPARK = """
def older(df, *hidden):
    class Older(type(df)):
        def __getattribute__(self, name):
            if name in hidden:
                raise AttributeError(name)
            return super().__getattribute__(name)

    df.__class__ = Older  # df is a new DataFrame object of its own: see below
    return df

query = "SELECT id AS i, id / 2 AS d, concat('row-', id) AS s FROM range(70000)"
spark3 = older(spark.sql(query), "toArrow")
iterated = older(spark.sql(query), "toArrow", "_collect_as_arrow")
empty3 = older(spark.sql(query).limit(0), "toArrow")
empty_iterated = older(spark.sql(query).limit(0), "toArrow", "_collect_as_arrow")
"""


def test_the_spark_3_path_and_the_iterator_path_give_the_same_frame(kernel):
    kernel.ok("%%glue\n" + OLDER_SPARK, timeout=120)
    for name in ("spark3", "iterated"):
        reply = kernel.ok(f"%glue_fetch {name}", timeout=300)
        assert reply.stdout.startswith(f"{name}: 70000 rows x 3 columns"), reply.stdout
        check = kernel.ok(
            f"print({name}['i'].sum(), {name}['d'].sum(), {name}['s'].iloc[69999], "
            f"str({name}['i'].dtype), str({name}['d'].dtype))"
        )
        assert check.stdout.split() == [
            str(70000 * 69999 // 2),
            str(70000 * 69999 / 4),
            "row-69999",
            "int64",
            "float64",
        ], name
    for name in ("empty3", "empty_iterated"):
        reply = kernel.ok(f"%glue_fetch {name}", timeout=300)
        assert reply.stdout.startswith(f"{name}: 0 rows x 3 columns"), reply.stdout
