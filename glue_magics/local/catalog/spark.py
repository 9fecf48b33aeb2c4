"""The Data Catalog as Spark SQL sees it, both ways.

A session created with ``--enable-glue-datacatalog`` uses the Glue catalog as its
metastore (AWS Glue "AWS Glue Data Catalog support for Spark SQL jobs"), so
``spark.sql("SELECT ... FROM db.t")`` reads catalog tables and ``saveAsTable`` makes
catalog tables.  Here that is two steps around a session's Spark catalog:

- :func:`register_catalog` makes each catalog database and table known to Spark
  (``CREATE DATABASE IF NOT EXISTS``; ``CREATE TABLE ... USING <format> OPTIONS (...)
  PARTITIONED BY (...) LOCATION ...`` from the table's columns, classification or SerDe,
  and partitions with their own locations added);
- :func:`write_back` puts what statements made in Spark's catalog into the Data Catalog:
  new databases, new tables (CreateTable with the format's Hive classes, as a crawler
  would describe them) and partitions that are new (BatchCreatePartition).

Both work over the SQL interface only (no JVM internals), so a Spark Connect session
works as a classic one does.  ``resolve`` maps a catalog Location to the path Spark reads
(the object store's ``s3://`` to its directory); ``unresolve`` is its inverse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glue_magics.local.catalog.backend import Catalog
from glue_magics.local.catalog.source import (
    HIVE_CLASSES,
    catalog_root,
    reader_options,
    table_format,
)
from glue_magics.local.exceptions import EntityNotFound

Resolve = Callable[[str], str]


def _same(path: str) -> str:
    return path


def quote(name: str) -> str:
    """A Spark SQL identifier: backquoted, backquotes doubled (names may hold ``-``)."""
    return "`" + name.replace("`", "``") + "`"


def _literal(text: str) -> str:
    """A Spark SQL string literal (backslash and quote escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _columns(columns: list[dict[str, Any]]) -> str:
    return ", ".join(f"{quote(c['Name'])} {c.get('Type') or 'string'}" for c in columns)


def table_ddl(table: dict[str, Any], resolve: Resolve = _same) -> str:
    """The CREATE TABLE that shows the catalog ``table`` to Spark (ValueError, one line,
    for a table with no format or location read here)."""
    fmt = table_format(table)
    descriptor = table.get("StorageDescriptor") or {}
    location = descriptor.get("Location")
    if not location:
        raise ValueError(f"table {table['DatabaseName']}.{table['Name']} has no location")
    keys = table.get("PartitionKeys") or []
    columns = (descriptor.get("Columns") or []) + keys
    name = f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"
    ddl = f"CREATE TABLE IF NOT EXISTS {name}"
    if descriptor.get("Columns"):  # none: Spark reads the schema from the data
        ddl += f" ({_columns(columns)})"
    ddl += f" USING {fmt}"
    options = reader_options(table, fmt)
    if options:
        ddl += " OPTIONS (" + ", ".join(f"{k} {_literal(v)}" for k, v in options.items()) + ")"
    if keys:
        ddl += " PARTITIONED BY (" + ", ".join(quote(k["Name"]) for k in keys) + ")"
    return ddl + f" LOCATION {_literal(resolve(location))}"


def register_catalog(
    spark: Any, root: str | Path | None = None, resolve: Resolve = _same
) -> list[str]:
    """Make the catalog's databases and tables known to ``spark``'s SQL; the tables made
    (``db.table``).  A table Spark already knows is left as it is; one whose format or
    location cannot be read here is skipped (the rest still come)."""
    catalog = Catalog(catalog_root(root), "")
    made = []
    databases, _ = catalog.get_databases(None, 10**9)
    for database in databases:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote(database['Name'])}")
        tables, _ = catalog.get_tables(database["Name"], None, None, 10**9)
        for table in tables:
            if spark.catalog.tableExists(f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"):
                continue
            try:
                ddl = table_ddl(table, resolve)
            except ValueError:
                continue
            spark.sql(ddl)
            _add_partitions(spark, catalog, table, resolve)
            made.append(f"{table['DatabaseName']}.{table['Name']}")
    return made


def _add_partitions(spark: Any, catalog: Catalog, table: dict[str, Any], resolve: Resolve) -> None:
    keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    if not keys:
        return
    partitions, _ = catalog.get_partitions(table["DatabaseName"], table["Name"], None, None, 10**9)
    name = f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"
    for partition in partitions:
        spec = ", ".join(
            f"{quote(k)} = {_literal(v)}" for k, v in zip(keys, partition["Values"], strict=True)
        )
        location = (partition.get("StorageDescriptor") or {}).get("Location")
        where = f" LOCATION {_literal(resolve(location))}" if location else ""
        spark.sql(f"ALTER TABLE {name} ADD IF NOT EXISTS PARTITION ({spec}){where}")


# --------------------------------------------------------------------------- write back


def _describe(spark: Any, name: str) -> dict[str, str]:
    """DESCRIBE TABLE EXTENDED's "Detailed Table Information" rows: Provider, Location,
    Storage Properties, Type ..."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect()
    details: dict[str, str] = {}
    in_details = False
    for row in rows:
        key, value = (row[0] or "").strip(), (row[1] or "").strip()
        if key.startswith("# Detailed Table Information"):
            in_details = True
        elif in_details and key:
            details[key] = value
    return details


def _storage_properties(text: str) -> dict[str, str]:
    """``[header=true, sep=;]`` (DESCRIBE's Storage Properties) as a dict."""
    inner = text.strip()[1:-1] if text.strip().startswith("[") else text
    pairs = (item.split("=", 1) for item in re.split(r",\s*", inner) if "=" in item)
    return {key.strip(): value for key, value in pairs}


def spark_table_input(spark: Any, database: str, table: str, unresolve: Resolve = _same) -> dict:
    """The TableInput describing the Spark table ``database.table``, as a crawler would."""
    name = f"{quote(database)}.{quote(table)}"
    details = _describe(spark, name)
    fmt = (details.get("Provider") or "parquet").lower()
    if fmt not in HIVE_CLASSES:
        raise ValueError(f"table {database}.{table} is {fmt}, which the catalog does not describe")
    columns = spark.catalog.listColumns(table, database)
    data = [c for c in columns if not c.isPartition]
    keys = [c for c in columns if c.isPartition]
    reader, writer, library = HIVE_CLASSES[fmt]
    serde: dict[str, Any] = {"SerializationLibrary": library}
    parameters = {"classification": fmt}
    if fmt == "csv":
        props = _storage_properties(details.get("Storage Properties", ""))
        serde["Parameters"] = {"field.delim": props.get("sep") or props.get("delimiter") or ","}
        if props.get("header", "false").lower() == "true":
            parameters["skip.header.line.count"] = "1"
    return {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": [{"Name": c.name, "Type": c.dataType} for c in keys],
        "StorageDescriptor": {
            "Columns": [{"Name": c.name, "Type": c.dataType} for c in data],
            "Location": unresolve(details.get("Location", "")),
            "InputFormat": reader,
            "OutputFormat": writer,
            "SerdeInfo": serde,
        },
    }


def _partition_values(spec: str) -> list[str]:
    """``k1=v1/k2=v2`` (SHOW PARTITIONS, values escaped as in paths) as its values."""
    from urllib.parse import unquote

    return [unquote(part.split("=", 1)[1]) for part in spec.split("/")]


def write_back(
    spark: Any, root: str | Path | None = None, account_id: str = "", unresolve: Resolve = _same
) -> list[str]:
    """Put into the Data Catalog what statements made in ``spark``'s catalog: databases
    it lacks, tables it lacks (``saveAsTable``, CREATE TABLE) and partitions it lacks;
    returns what was added (``db``, ``db.table``, ``db.table (N partitions)``)."""
    catalog = Catalog(catalog_root(root), account_id)
    added: list[str] = []
    for database in spark.catalog.listDatabases():
        db = database.name
        tables = [t for t in spark.catalog.listTables(db) if not t.isTemporary]
        if not tables and db == "default":
            continue
        try:
            catalog.get_database(db)
        except EntityNotFound:
            catalog.create_database({"Name": db})
            added.append(db)
        for table in tables:
            if (table.tableType or "").upper() == "VIEW":
                continue
            try:
                existing = catalog.get_table(db, table.name)
            except EntityNotFound:
                try:
                    table_input = spark_table_input(spark, db, table.name, unresolve)
                except ValueError:
                    continue
                catalog.create_table(db, table_input)
                existing = catalog.get_table(db, table.name)
                added.append(f"{db}.{table.name}")
            count = _write_partitions(spark, catalog, existing, unresolve)
            if count:
                added.append(f"{db}.{table.name} ({count} partitions)")
    return added


def _write_partitions(spark: Any, catalog: Catalog, table: dict, unresolve: Resolve) -> int:
    keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    if not keys:
        return 0
    name = f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"
    specs = [row[0] for row in spark.sql(f"SHOW PARTITIONS {name}").collect()]
    known, _ = catalog.get_partitions(table["DatabaseName"], table["Name"], None, None, 10**9)
    have = {tuple(p["Values"]) for p in known}
    descriptor = table.get("StorageDescriptor") or {}
    base = (descriptor.get("Location") or "").rstrip("/")
    new = []
    for spec in specs:
        values = _partition_values(spec)
        if tuple(values) in have:
            continue
        part_descriptor = {**descriptor, "Location": f"{base}/{spec}" if base else ""}
        new.append({"Values": values, "StorageDescriptor": part_descriptor})
    if not new:
        return 0
    errors = catalog.batch_create_partition(table["DatabaseName"], table["Name"], new)
    return len(new) - len(errors)
