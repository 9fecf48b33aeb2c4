"""Local awsglue against plain DataFrames: the same pipeline on 10^6 rows, in one run.

The pipeline is a Glue script's usual shape: read a CSV with a header from a path, rename
and cast with ApplyMapping, keep rows with Filter, write Parquet partitioned by a key.

- dynamicframe: ``create_dynamic_frame.from_options`` (typing each column from its values,
  choices where they disagree: one pass more), ``ApplyMapping.apply``, ``Filter.apply``
  with a Python predicate on records (as Glue's Filter takes), ``write_dynamic_frame``
  with ``partitionKeys``;
- dataframe: ``spark.read.csv(header, inferSchema)``, ``select`` with casts, ``where`` with
  a column expression, ``write.partitionBy().parquet``.

Figures: the read alone (materialised by ``count``) and the whole pipeline, wall seconds,
best of the runs; one SparkSession (local[2]) for both.  Prints a table only.

    python benchmarks/bench_awsglue.py            # 10^6 rows, 2 runs
    python benchmarks/bench_awsglue.py 100000 3   # rows, runs
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import glue_magics.local

RUNTIME = Path(glue_magics.local.__file__).parent / "runtime"


def timed(fn, *args: str) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv: list[str]) -> None:
    rows = int(argv[0]) if argv else 1_000_000
    runs = int(argv[1]) if len(argv) > 1 else 2
    sys.path.insert(0, str(RUNTIME))  # as the session worker has it
    from pyspark.context import SparkContext
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F  # noqa: N812

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    from awsglue.context import GlueContext
    from awsglue.transforms import ApplyMapping, Filter

    glueContext = GlueContext(SparkContext.getOrCreate())  # noqa: N806 - Glue's name
    work = Path(tempfile.mkdtemp(prefix="bench-awsglue-"))
    source = str(work / "in")
    spark.range(rows).select(
        F.col("id").alias("order id"),
        F.concat(F.lit("customer-"), (F.col("id") % 9973).cast("string")).alias("customer"),
        F.element_at(
            F.array(*[F.lit(s) for s in ("AL", "CA", "NY", "TX", "WA")]),
            (F.col("id") % 5 + 1).cast("int"),
        ).alias("state"),
        (F.col("id") % 1000 / 10).alias("amount"),
    ).write.option("header", True).csv(source)

    def dynamicframe(out: str) -> None:
        dyf = glueContext.create_dynamic_frame.from_options(
            "s3", {"paths": [source]}, "csv", {"withHeader": True}
        )
        dyf = ApplyMapping.apply(
            frame=dyf,
            mappings=[
                ("order id", "long", "order_id", "long"),
                ("customer", "string", "customer", "string"),
                ("state", "string", "state", "string"),
                ("amount", "double", "amount", "double"),
            ],
        )
        dyf = Filter.apply(frame=dyf, f=lambda r: r["amount"] >= 50)
        glueContext.write_dynamic_frame.from_options(
            frame=dyf,
            connection_type="s3",
            connection_options={"path": out, "partitionKeys": ["state"]},
            format="parquet",
        )

    def dataframe(out: str) -> None:
        df = spark.read.option("header", True).option("inferSchema", True).csv(source)
        df = df.select(
            F.col("`order id`").cast("long").alias("order_id"),
            F.col("customer"),
            F.col("state"),
            F.col("amount").cast("double"),
        ).where(F.col("amount") >= 50)
        df.write.mode("append").partitionBy("state").parquet(out)

    def read_dynamicframe() -> None:
        glueContext.create_dynamic_frame.from_options(
            "s3", {"paths": [source]}, "csv", {"withHeader": True}
        ).count()

    def read_dataframe() -> None:
        spark.read.option("header", True).option("inferSchema", True).csv(source).count()

    figures: dict[str, list[float]] = {}
    for run in range(runs):
        for name, fn in (("dynamicframe", dynamicframe), ("dataframe", dataframe)):
            out = str(work / f"out-{name}-{run}")
            figures.setdefault(f"{name} pipeline", []).append(timed(fn, out))
        figures.setdefault("dynamicframe read", []).append(timed(read_dynamicframe))
        figures.setdefault("dataframe read", []).append(timed(read_dataframe))
    written = spark.read.parquet(str(work / "out-dynamicframe-0")).count()
    expected = spark.read.parquet(str(work / "out-dataframe-0")).count()
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)

    print(
        f"{rows:,} rows, best of {runs} runs, local[2]; rows written {written:,}"
        f" (dataframe {expected:,})"
    )
    print(f"{'step':<24}{'seconds':>10}{'rows/s':>14}")
    for name in (
        "dynamicframe read",
        "dataframe read",
        "dynamicframe pipeline",
        "dataframe pipeline",
    ):
        best = min(figures[name])
        print(f"{name:<24}{best:>10.2f}{rows / best:>14,.0f}")
    ratio = min(figures["dynamicframe pipeline"]) / min(figures["dataframe pipeline"])
    print(f"dynamicframe / dataframe, whole pipeline: {ratio:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
