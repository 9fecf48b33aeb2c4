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
    default_account,
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


def _analysis_errors() -> tuple[type[BaseException], ...]:
    """What Spark raises for a statement it refuses (pyspark's AnalysisException, of which
    ParseException is one; Spark Connect raises the same classes)."""
    from pyspark.errors import AnalysisException

    return (AnalysisException,)


def register_catalog(
    spark: Any,
    root: str | Path | None = None,
    resolve: Resolve = _same,
    skipped: list[str] | None = None,
) -> list[str]:
    """Make the catalog's databases and tables known to ``spark``'s SQL once; the tables
    made (``db.table``).  See :meth:`CatalogSync.pull`, which this is one call of."""
    sync = CatalogSync(spark, root, resolve=resolve)
    made = sync.pull()
    if skipped is not None:
        skipped.extend(sync.skipped)
    return made


def _spark_partitions(spark: Any, name: str) -> set[tuple[str, ...]]:
    return {
        tuple(_partition_values(row[0])) for row in spark.sql(f"SHOW PARTITIONS {name}").collect()
    }


def _sync_partitions(spark: Any, catalog: Catalog, table: dict[str, Any], resolve: Resolve) -> None:
    """Make Spark's partitions of ``table`` the catalog's: add those it lacks (at their
    locations), drop those the catalog has not.  CREATE TABLE ... LOCATION has Spark find
    every ``key=value`` directory itself (its RepairTableCommand), but a Glue-backed session
    reads only the partitions the catalog lists (a crawler or BatchCreatePartition adds
    them), so the rest are dropped again; the tables are external: no file is removed."""
    keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    if not keys:
        return
    partitions, _ = catalog.get_partitions(table["DatabaseName"], table["Name"], None, None, 10**9)
    name = f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"
    present = _spark_partitions(spark, name)
    wanted = {tuple(p["Values"]): p for p in partitions}

    def spec(values: tuple[str, ...]) -> str:
        pairs = zip(keys, values, strict=True)
        return ", ".join(f"{quote(k)} = {_literal(v)}" for k, v in pairs)

    for values, partition in wanted.items():
        if values in present:
            continue
        location = (partition.get("StorageDescriptor") or {}).get("Location")
        where = f" LOCATION {_literal(resolve(location))}" if location else ""
        spark.sql(f"ALTER TABLE {name} ADD IF NOT EXISTS PARTITION ({spec(values)}){where}")
    for values in present - set(wanted):
        spark.sql(f"ALTER TABLE {name} DROP IF EXISTS PARTITION ({spec(values)})")


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
    columns = spark.catalog.listColumns(name)
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
    spark: Any,
    root: str | Path | None = None,
    account_id: str | None = None,
    unresolve: Resolve = _same,
    known: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
    created: set[tuple[str, str]] | None = None,
) -> list[str]:
    """Put into the Data Catalog what statements made in ``spark``'s catalog: databases
    it lacks, tables it lacks (``saveAsTable``, CREATE TABLE) and partitions it lacks;
    returns what was added (``db``, ``db.table``, ``db.table (N partitions)``).

    A table in ``known`` (``(db, table)``) was in the catalog before: if the catalog no
    longer has it (DeleteTable since), it is not made again.  The tables this creates are
    added to ``created``."""
    catalog = Catalog(catalog_root(root), account_id or default_account())
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
                if (db, table.name) in known:
                    continue
                try:
                    table_input = spark_table_input(spark, db, table.name, unresolve)
                except ValueError:
                    continue
                catalog.create_table(db, table_input)
                if created is not None:
                    created.add((db, table.name))
                existing = catalog.get_table(db, table.name)
                added.append(f"{db}.{table.name}")
            count = _write_partitions(spark, catalog, existing, unresolve)
            if count:
                added.append(f"{db}.{table.name} ({count} partitions)")
    return added


def _write_partitions(spark: Any, catalog: Catalog, table: dict, unresolve: Resolve) -> int:
    if not table.get("PartitionKeys"):
        return 0
    name = f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"
    specs = [row[0] for row in spark.sql(f"SHOW PARTITIONS {name}").collect()]
    return catalog.add_found_partitions(table, [(_partition_values(s), s) for s in specs])


class CatalogSync:
    """A session's Spark catalog kept in step with the Data Catalog, statement by statement
    (what ``--enable-glue-datacatalog`` gives a session): :meth:`pull` before a statement
    shows it the catalog's tables, :meth:`push` after it writes back what it made."""

    def __init__(
        self,
        spark: Any,
        root: str | Path | None = None,
        account_id: str | None = None,
        resolve: Resolve = _same,
        unresolve: Resolve = _same,
    ) -> None:
        self.spark = spark
        self.root = catalog_root(root)
        self.account_id = account_id or default_account()
        self.resolve = resolve
        self.unresolve = unresolve
        self.pulled: set[tuple[str, str]] = set()  # (database, table) shown from the catalog
        self.pushed: set[tuple[str, str]] = set()  # (database, table) Spark made, written back
        self.skipped: list[str] = []

    def pull(self) -> list[str]:
        """Show Spark the catalog as it is now; the tables newly shown (``db.table``).

        New databases and tables are created (a table Spark cannot be shown, with no
        format or location read here or a schema Spark refuses, is left out with a
        one-line reason in :attr:`skipped`); the partitions of the tables shown follow
        the catalog's; a table shown before that the catalog no longer has is dropped
        from Spark (external: its files stay).  A table Spark made itself is left alone.
        """
        catalog = Catalog(self.root, self.account_id)
        made: list[str] = []
        seen: set[str] = set()
        databases, _ = catalog.get_databases(None, 10**9)
        for database in databases:
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote(database['Name'])}")
            tables, _ = catalog.get_tables(database["Name"], None, None, 10**9)
            for table in tables:
                key = (table["DatabaseName"], table["Name"])
                seen.add(key)
                name = f"{quote(table['DatabaseName'])}.{quote(table['Name'])}"
                try:
                    if self.spark.catalog.tableExists(name):
                        if key in self.pulled:
                            _sync_partitions(self.spark, catalog, table, self.resolve)
                        continue
                    self.spark.sql(table_ddl(table, self.resolve))
                    _sync_partitions(self.spark, catalog, table, self.resolve)
                except (ValueError, *_analysis_errors()) as exc:
                    reason = f"{key[0]}.{key[1]}: {' '.join(str(exc).split())[:300]}"
                    if reason not in self.skipped:
                        self.skipped.append(reason)
                    continue
                self.pulled.add(key)
                made.append(f"{key[0]}.{key[1]}")
        for database, table in sorted(self.pulled - seen):
            self.spark.sql(f"DROP TABLE IF EXISTS {quote(database)}.{quote(table)}")
            self.pulled.discard((database, table))
        return made

    def push(self) -> list[str]:
        """Write back what Spark made that the catalog lacks; what was added.  A table the
        catalog had and lost since (DeleteTable) is not written again: Spark keeps it (a
        managed table's files would go with a DROP), the catalog does not get it back."""
        return write_back(
            self.spark,
            self.root,
            self.account_id,
            self.unresolve,
            known=self.pulled | self.pushed,
            created=self.pushed,
        )
