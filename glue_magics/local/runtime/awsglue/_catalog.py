"""The Data Catalog forms of awsglue, over the local endpoint's catalog (``DATA_DIR/catalog``,
the data directory the session inherits from its endpoint).

What each form does is AWS's:

- ``create_dynamic_frame.from_catalog`` / ``create_data_frame.from_catalog`` ("GlueContext
  class"): the table's data at its Location in its format (classification or SerDe, as
  :mod:`glue_magics.local.catalog.source` reads them); ``push_down_predicate`` filters the
  partitions with a Spark SQL expression, ``additional_options`` ``catalogPartitionPredicate``
  selects them with GetPartitions' expression ("Managing partitions for ETL output" and
  "Pre-filtering using pushdown predicates").  A CSV table's DynamicFrame takes the
  catalog's column names and the types found in the data (so ``choice`` types appear, as in
  aws-glue-samples' data_cleaning_and_lambda), its DataFrame the catalog's types.
- ``write_dynamic_frame.from_catalog`` writes to the table's Location in its format;
  with ``enableUpdateCatalog`` the partitions it made are added and (``updateBehavior``
  ``UPDATE_IN_DATABASE``, the default) new columns join the table's schema ("Updating the
  schema, and adding new partitions in the Data Catalog using AWS Glue ETL jobs").
- ``getSink(enableUpdateCatalog=True, ...)`` + ``setCatalogInfo``: the table is created at
  the sink's path when it is not there, else updated as above (the same page).
- ``resolveChoice(choice="match_catalog", database=, table_name=)``: each choice cast to the
  type of the catalog column of its name ("ResolveChoice class").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from awsglue._parsing import GlueArgumentError
from glue_magics.local.catalog import Catalog
from glue_magics.local.catalog.source import (
    HIVE_CLASSES,
    catalog_root,
    default_account,
    table_format,
    table_source,
)
from glue_magics.local.exceptions import EntityNotFound

#: Hive's (the catalog's) type names that Glue and Spark spell otherwise.
_GLUE_TYPES = {"bigint": "long", "smallint": "short", "tinyint": "byte", "integer": "int"}
_HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def catalog() -> Catalog:
    return Catalog(catalog_root(), default_account())


def _table(database: str, table_name: str) -> dict[str, Any]:
    if not database or not table_name:
        raise GlueArgumentError(
            f"database {database!r} and table_name {table_name!r} must both be given: "
            "e.g. database='payments', table_name='medicare'"
        )
    try:
        return catalog().get_table(database, table_name)
    except EntityNotFound as exc:
        raise GlueArgumentError(
            f"table {database}.{table_name} is not in the Data Catalog ({exc}); create it with "
            "CreateTable against the local endpoint"
        ) from None


def _schema_ddl(columns: list[dict[str, Any]]) -> str:
    return ", ".join(f"`{c['Name']}` {c.get('Type') or 'string'}" for c in columns)


def _glue_csv_options(options: Mapping[str, str]) -> dict[str, Any]:
    """Spark's CSV reader options (source.reader_options) as Glue's format_options."""
    out: dict[str, Any] = {
        "separator": options.get("sep", ","),
        "withHeader": options.get("header", "false") == "true",
    }
    if "quote" in options:
        out["quoteChar"] = options["quote"]
    if "escape" in options:
        out["escaper"] = options["escape"]
    return out


def read(
    glue_context: Any,
    database: str,
    table_name: str,
    push_down_predicate: str = "",
    additional_options: Mapping[str, Any] | None = None,
    dynamic: bool = True,
) -> tuple[Any, Any]:
    """``(DataFrame, choices)`` of a catalog table for from_catalog (``dynamic``: a
    DynamicFrame's typing, else a DataFrame's)."""
    from awsglue import _io

    table = _table(database, table_name)
    options = dict(additional_options or {})
    expression = options.get("catalogPartitionPredicate") or None
    try:
        paths, fmt, reader_options = table_source(database, table_name, expression=expression)
    except ValueError as exc:
        raise GlueArgumentError(str(exc)) from None
    spark = glue_context.spark_session
    descriptor = table.get("StorageDescriptor") or {}
    data_columns = descriptor.get("Columns") or []
    keys = table.get("PartitionKeys") or []
    if not paths:  # no partition selected: no rows, the table's columns
        return spark.createDataFrame([], _schema_ddl(data_columns + keys)), frozenset()
    base = reader_options.pop("basePath", None)
    choices: Any = frozenset()
    if dynamic and fmt == "csv":
        df, choices = _io.read(
            spark, {"paths": paths}, "csv", _glue_csv_options(reader_options), base_path=base
        )
        df, choices = _named(df, choices, data_columns)
    elif dynamic:
        df, choices = _io.read(spark, {"paths": paths}, fmt, {}, base_path=base)
    else:
        reader = spark.read.format(fmt).options(**reader_options)
        if base:
            reader = reader.option("basePath", base)
        if fmt == "csv" and data_columns:
            reader = reader.schema(_schema_ddl(data_columns + keys))
        df = reader.load(paths)
    if push_down_predicate:
        df = df.where(push_down_predicate)
    return df, choices


def _named(df: Any, choices: Any, columns: list[dict[str, Any]]) -> tuple[Any, Any]:
    """A CSV read's data columns named as the catalog's columns (by position: the SerDe
    reads fields by position; the header, if any, is skipped, not used), its choices too."""
    from awsglue._parsing import format_path

    names = [c["Name"] for c in columns]
    data = list(df.columns)[: len(names)]
    if not names or len(data) < len(names):
        return df, choices
    renamed = dict(zip(data, names, strict=True))
    paths = {format_path([old]): format_path([new]) for old, new in renamed.items()}
    df = df.toDF(*[renamed.get(c, c) for c in df.columns])
    return df, frozenset(paths.get(c, c) for c in choices)


# ------------------------------------------------------------------------------- writes


def write(
    frame_df: Any,
    database: str,
    table_name: str,
    additional_options: Mapping[str, Any] | None = None,
) -> None:
    """write_dynamic_frame.from_catalog: appended at the table's Location in its format;
    the catalog updated when ``enableUpdateCatalog`` asks."""
    from awsglue import _io

    table = _table(database, table_name)
    options = dict(additional_options or {})
    try:
        fmt = table_format(table)
    except ValueError as exc:
        raise GlueArgumentError(str(exc)) from None
    location = (table.get("StorageDescriptor") or {}).get("Location")
    if not location:
        raise GlueArgumentError(
            f"table {database}.{table_name} has no Location to write to; set its "
            "StorageDescriptor Location"
        )
    table_keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    keys = list(options.get("partitionKeys") or table_keys)
    fmt_options: dict[str, Any] = {}
    if fmt == "csv":
        from glue_magics.local.catalog.source import reader_options

        spark_options = reader_options(table, fmt)
        fmt_options = {
            "separator": spark_options.get("sep", ","),
            "writeHeader": spark_options.get("header") == "true",
        }
    _io.write(frame_df, {"path": location, "partitionKeys": keys}, fmt, fmt_options)
    if _truthy(options.get("enableUpdateCatalog")):
        update_table(frame_df, database, table_name, location, fmt, keys, options)


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _type(dtype: Any) -> str:
    """A Spark type as the catalog (Hive) writes it: ``bigint``, ``struct<a:int>``."""
    return dtype.simpleString()


def update_table(
    df: Any,
    database: str,
    table_name: str,
    path: str,
    fmt: str,
    keys: list[str],
    options: Mapping[str, Any],
) -> None:
    """enableUpdateCatalog after a write of ``df`` to ``path``: the table created when it is
    not there, else its new columns added (``updateBehavior`` UPDATE_IN_DATABASE, the
    default; LOG leaves the schema); the partitions written added to it."""
    store = catalog()
    if fmt not in HIVE_CLASSES:
        raise GlueArgumentError(
            f"format {fmt!r} is not one the catalog describes: use one of {', '.join(HIVE_CLASSES)}"
        )
    data = [f for f in df.schema.fields if f.name not in keys]
    by_name = {f.name: f for f in df.schema.fields}
    columns = [{"Name": f.name, "Type": _type(f.dataType)} for f in data]
    partition_keys = [{"Name": k, "Type": _type(by_name[k].dataType)} for k in keys]
    try:
        store.get_database(database)
    except EntityNotFound:
        store.create_database({"Name": database})
    try:
        table = store.get_table(database, table_name)
    except EntityNotFound:
        reader, writer, library = HIVE_CLASSES[fmt]
        serde: dict[str, Any] = {"SerializationLibrary": library}
        parameters = {"classification": fmt}
        if fmt == "csv":
            serde["Parameters"] = {"field.delim": ","}
            parameters["skip.header.line.count"] = "1"  # the S3 sink writes a header
        store.create_table(
            database,
            {
                "Name": table_name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": parameters,
                "PartitionKeys": partition_keys,
                "StorageDescriptor": {
                    "Columns": columns,
                    "Location": path,
                    "InputFormat": reader,
                    "OutputFormat": writer,
                    "SerdeInfo": serde,
                },
            },
        )
        table = store.get_table(database, table_name)
    else:
        behavior = str(options.get("updateBehavior") or "UPDATE_IN_DATABASE").upper()
        if behavior == "UPDATE_IN_DATABASE":
            descriptor = dict(table.get("StorageDescriptor") or {})
            have = {c["Name"].lower() for c in descriptor.get("Columns") or []}
            have |= {k["Name"].lower() for k in table.get("PartitionKeys") or []}
            new = [c for c in columns if c["Name"].lower() not in have]
            if new:
                descriptor["Columns"] = list(descriptor.get("Columns") or []) + new
                store.update_table(database, _table_input(table, descriptor))
    _add_partitions(store, df, table, keys)


def _table_input(table: dict[str, Any], descriptor: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable's TableInput from a Table as GetTable gives it."""
    allowed = (
        "Name", "Description", "Owner", "Retention", "PartitionKeys", "TableType",
        "Parameters", "ViewOriginalText", "ViewExpandedText", "TargetTable",
    )  # fmt: skip
    out = {k: table[k] for k in allowed if k in table}
    out["StorageDescriptor"] = descriptor
    return out


def _add_partitions(store: Catalog, df: Any, table: dict[str, Any], keys: list[str]) -> int:
    """The partitions ``df`` was written in that the table lacks, added with their
    ``key=value`` locations below the table's; how many."""
    table_keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    if not table_keys or [k.lower() for k in keys] != [k.lower() for k in table_keys]:
        return 0
    from urllib.parse import quote

    rows = df.select(*[f"`{k}`" for k in keys]).distinct().collect()
    values = [[_HIVE_DEFAULT_PARTITION if v is None else str(v) for v in row] for row in rows]
    return store.add_found_partitions(
        table,
        [
            (value, "/".join(f"{k}={quote(v, safe='')}" for k, v in zip(keys, value, strict=True)))
            for value in values
        ],
    )


# ---------------------------------------------------------------------- match_catalog


def catalog_types(database: str, table_name: str) -> dict[str, str]:
    """Each column's type in the catalog table (lower-cased names, Glue's type names)."""
    table = _table(database, table_name)
    columns = ((table.get("StorageDescriptor") or {}).get("Columns") or []) + (
        table.get("PartitionKeys") or []
    )
    out = {}
    for column in columns:
        kind = (column.get("Type") or "string").strip().lower()
        out[column["Name"].lower()] = _GLUE_TYPES.get(kind, kind)
    return out
