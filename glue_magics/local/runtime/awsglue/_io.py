"""S3 sources and sinks: ``connection_type="s3"`` with Glue's connection and format
options, as AWS's pages "Connection types and options for ETL in AWS Glue" and "Data
format options for inputs and outputs in AWS Glue" document them, read and written with
Spark's own readers and writers.  Paths go to Spark as they are (``s3://`` works where the
session's Hadoop configuration serves it, local paths and ``file://`` always)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from awsglue._choice import Choices, from_variants, type_text_columns
from awsglue._columns import F, top
from awsglue._parsing import GlueArgumentError, glob_to_regex, parse_exclusions
from awsglue.errors import NotCoveredError

FORMATS = ("csv", "json", "parquet", "glueparquet", "orc", "xml")
_FILE = "__glue_file"


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def check_s3(connection_type: str) -> None:
    if str(connection_type).lower() != "s3":
        raise NotCoveredError(
            f"connection_type {connection_type!r}",
            "local sessions read and write S3 paths (connection_type='s3'); other stores "
            "through Spark's own readers",
        )


def _format(fmt: str | None) -> str:
    name = (fmt or "").strip().lower()
    if name not in FORMATS:
        raise NotCoveredError(
            f"format {fmt!r}", f"local sessions read and write {', '.join(FORMATS)}"
        )
    return "parquet" if name == "glueparquet" else name


def _paths(options: Mapping[str, Any]) -> list[str]:
    paths = options.get("paths", options.get("path"))
    if isinstance(paths, str):
        paths = [paths]
    if not paths or not all(isinstance(p, str) and p for p in paths):
        raise GlueArgumentError(
            f"connection_options paths {paths!r} is not a list of paths: "
            "e.g. {'paths': ['s3://bucket/prefix/']}"
        )
    return list(paths)


def read(
    spark: Any,
    options: Mapping[str, Any],
    fmt: str | None,
    fmt_options: Mapping[str, Any],
    base_path: str | None = None,
) -> tuple[Any, Choices]:
    """A DynamicFrame's data from S3 paths: the frame and its choice paths.  ``base_path``
    (a catalog table's Location, when the paths are some of its partitions): where Spark
    finds the partition columns of ``key=value`` directories."""
    fmt = _format(fmt)
    paths = _paths(options)
    fmt_options = dict(fmt_options or {})
    reader = spark.read
    if base_path:
        reader = reader.option("basePath", base_path)
    if _truthy(options.get("recurse", False)):
        reader = reader.option("recursiveFileLookup", "true")
    exclusions = parse_exclusions(options.get("exclusions"))
    if fmt == "csv":
        return _read_csv(reader, paths, fmt_options, exclusions)
    if fmt == "json":
        return _read_json(reader, paths, fmt_options, exclusions, partitioned=bool(base_path))
    if fmt == "xml":
        if "rowTag" not in fmt_options:
            raise GlueArgumentError("format xml needs format_options rowTag: e.g. {'rowTag': 'r'}")
        reader = reader.format("xml").option("rowTag", fmt_options["rowTag"])
        df = reader.load(paths)
    else:
        df = reader.format(fmt).load(paths)
    if exclusions:
        df = _exclude(
            df.select("*", F().col("_metadata.file_path").alias(_FILE)), paths, exclusions
        ).drop(_FILE)
    return df, frozenset()


def _exclude(df: Any, paths: list[str], exclusions: list[str]) -> Any:
    """Rows of files matching none of the globs, each matched against the file's whole path
    and against its path below the read path (AWS's example ``"[\\"**.pdf\\"]"``).  Local
    paths are compared without ``file:`` and URL escapes (Spark's file_path has both)."""
    f = F()
    path = f.regexp_replace(f.url_decode(f.col(_FILE)), "^file:(//)?", "")
    keep = f.lit(True)
    bases = [re.escape(re.sub("^file:(//)?", "", p).rstrip("/")) for p in paths]
    for glob in exclusions:
        body = glob_to_regex(glob)
        whole = path.rlike(f"^{body}$")
        below = path.rlike(f"^(?:{'|'.join(bases)})/{body}$")
        keep = keep & ~(whole | below)
    return df.where(keep)


def _read_csv(reader: Any, paths: list[str], o: dict[str, Any], exclusions: list[str]):
    header = _truthy(o.get("withHeader", False))  # Glue's default: no header, col0, col1...
    if _truthy(o.get("skipFirst", False)):
        raise NotCoveredError("format_options skipFirst", "use withHeader or filter the row")
    quote = o.get("quoteChar", '"')
    reader = (
        reader.option("header", header)
        .option("sep", o.get("separator", ","))
        .option("quote", "" if str(quote) == "-1" else quote)
        .option("multiLine", _truthy(o.get("multiLine", o.get("multiline", False))))
        .option("inferSchema", False)
    )
    if o.get("escaper"):
        reader = reader.option("escape", o["escaper"])
    df = reader.csv(paths)
    if not header:
        df = df.toDF(*[f"col{i}" for i in range(len(df.columns))])
    if exclusions:
        df = _exclude(
            df.select("*", F().col("_metadata.file_path").alias(_FILE)), paths, exclusions
        ).drop(_FILE)
    return type_text_columns(df)


def _read_json(
    reader: Any,
    paths: list[str],
    o: dict[str, Any],
    exclusions: list[str],
    partitioned: bool = False,
) -> tuple[Any, Choices]:
    """JSON records typed value by value; with ``partitioned`` (a catalog table's read),
    the partition columns Spark finds in the ``key=value`` directories are kept after the
    records' fields, as a table's partition keys come after its columns."""
    f = F()
    if o.get("jsonPath") not in (None, "", "$[*]"):
        raise NotCoveredError("format_options jsonPath", "read the records and select fields")
    multiline = _truthy(o.get("multiLine", o.get("multiline", False)))
    text = reader.option("wholetext", multiline).text(paths)
    keys = [c for c in text.columns if c != "value"] if partitioned else []
    text = text.select("value", f.col("_metadata.file_path").alias(_FILE), *map(top, keys))
    if exclusions:
        text = _exclude(text, paths, exclusions)
    value = f.try_parse_json(f.col("value"))
    if multiline:  # a file of one object or of an array of objects
        as_array = f.when(
            f.schema_of_variant(value).startswith("ARRAY"),
            f.try_variant_get(value, "$", "array<variant>"),
        ).otherwise(f.array(value))
        records = text.select(f.explode(as_array).alias("v"), *map(top, keys))
    else:
        records = text.where(f.trim("value") != "").select(value.alias("v"), *map(top, keys))
    return from_variants(records.where(f.col("v").isNotNull()), "v", keys)


def write(
    df: Any,
    options: Mapping[str, Any],
    fmt: str | None,
    fmt_options: Mapping[str, Any],
) -> None:
    """A DynamicFrame's data to an S3 path, appended as Glue's S3 sink does; partitioned
    by ``partitionKeys`` (Spark's ``key=value`` directories, as Glue writes them)."""
    fmt = _format(fmt)
    path = options.get("path")
    if not isinstance(path, str) or not path:
        raise GlueArgumentError(
            f"connection_options path {path!r} is not a path: e.g. {{'path': 's3://b/out/'}}"
        )
    o = dict(fmt_options or {})
    writer = df.write.mode("append")
    keys = list(options.get("partitionKeys") or [])
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise GlueArgumentError(
            f"partitionKeys {missing!r} are not fields of the frame: pick from {df.columns}"
        )
    if keys:
        writer = writer.partitionBy(*keys)
    compression = o.get("compression", options.get("compression"))
    if compression:
        writer = writer.option("compression", compression)
    if fmt == "csv":
        quote = o.get("quoteChar", '"')
        writer = (
            writer.option("header", _truthy(o.get("writeHeader", True)))
            .option("sep", o.get("separator", ","))
            .option("quote", "" if str(quote) == "-1" else quote)
        )
        if o.get("escaper"):
            writer = writer.option("escape", o["escaper"])
    if fmt == "xml":
        writer = writer.option("rowTag", o.get("rowTag", "row"))
    writer.format(fmt).save(path)


def read_data_frame(
    spark: Any, options: Mapping[str, Any], fmt: str | None, fmt_options: Mapping[str, Any]
) -> Any:
    """create_data_frame's read: Spark's own typing (no choices), Glue's option names."""
    fmt = _format(fmt)
    paths = _paths(options)
    o = dict(fmt_options or {})
    reader = spark.read
    if _truthy(options.get("recurse", False)):
        reader = reader.option("recursiveFileLookup", "true")
    if fmt == "csv":
        header = _truthy(o.get("withHeader", False))
        df = (
            reader.option("header", header)
            .option("sep", o.get("separator", ","))
            .option("inferSchema", True)
            .option("multiLine", _truthy(o.get("multiLine", False)))
            .csv(paths)
        )
        return df if header else df.toDF(*[f"col{i}" for i in range(len(df.columns))])
    if fmt == "json":
        return reader.option("multiLine", _truthy(o.get("multiLine", False))).json(paths)
    if fmt == "xml":
        return reader.format("xml").option("rowTag", o.get("rowTag", "row")).load(paths)
    return reader.format(fmt).load(paths)


def column_names(df: Any) -> list[Any]:
    return [top(c) for c in df.columns]
