"""What a catalog table is to a reader: its paths, its Spark data source format and options.

``awsglue``'s ``from_catalog`` and the Spark SQL view of the catalog (:mod:`.spark`) both
read a table this way, from what AWS documents a table's format by:
``Parameters.classification`` (what crawlers write: "parquet", "csv", "json", "orc",
"avro"; AWS Glue "Built-in classifiers"), else the SerDe's library or the InputFormat
(Hive's classes, as crawlers and Athena's DDL name them).  A CSV table's separator,
quote and escape come from its SerDe's parameters (LazySimpleSerDe's ``field.delim``,
OpenCSVSerde's ``separatorChar``/``quoteChar``/``escapeChar``) and its header from the
table parameter ``skip.header.line.count`` (Athena's and the crawler's way to say "1").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Each format's Hive classes: InputFormat, OutputFormat, SerDe library, as crawlers and
#: Athena's CREATE TABLE write them; the one table read in both directions.
HIVE_CLASSES: dict[str, tuple[str, str, str]] = {
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    ),
    "orc": (
        "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
        "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
        "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    ),
    "json": (
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "org.openx.data.jsonserde.JsonSerDe",
    ),
    "csv": (
        "org.apache.hadoop.mapred.TextInputFormat",
        "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
    ),
    "avro": (
        "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
        "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
        "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
    ),
}
#: SerDe libraries and input formats beyond HIVE_CLASSES' own, by the format they read.
_OTHER_CLASSES = {
    "org.apache.hive.hcatalog.data.JsonSerDe": "json",
    "org.apache.hadoop.hive.serde2.OpenCSVSerde": "csv",
    "org.apache.hadoop.hive.ql.io.orc.OrcSerde": "orc",
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe": "parquet",
}
#: classification values that name a format by another word.
_CLASSIFICATIONS = {"tsv": "csv", "text": "csv"}


@dataclass(frozen=True)
class TableSource:
    """How to read a table: ``spark.read.format(format).options(**options).load(paths)``."""

    paths: list[str]
    format: str
    options: dict[str, str]

    def __iter__(self) -> Any:  # (paths, format, options) = table_source(...)
        return iter((self.paths, self.format, self.options))


def table_format(table: dict[str, Any]) -> str:
    """The Spark data source that reads ``table`` (a Table as GetTable answers it), or a
    one-line ValueError saying what the table lacks."""
    parameters = table.get("Parameters") or {}
    descriptor = table.get("StorageDescriptor") or {}
    classification = (parameters.get("classification") or "").strip().lower()
    classification = _CLASSIFICATIONS.get(classification, classification)
    if classification in HIVE_CLASSES:
        return classification
    library = (descriptor.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
    input_format = descriptor.get("InputFormat") or ""
    for name, (reader, _, serde) in HIVE_CLASSES.items():
        if library == serde or (reader == input_format and name in ("parquet", "orc", "avro")):
            return name
    if library in _OTHER_CLASSES:
        return _OTHER_CLASSES[library]
    shown = classification or library or input_format or "none"
    raise ValueError(
        f"table {table.get('DatabaseName')}.{table.get('Name')} has no format read here "
        f"({shown}); set its Parameters classification to one of {', '.join(HIVE_CLASSES)}"
    )


def reader_options(table: dict[str, Any], fmt: str) -> dict[str, str]:
    """Spark reader options from the table's SerDe and parameters (CSV's, for now)."""
    if fmt != "csv":
        return {}
    parameters = table.get("Parameters") or {}
    descriptor = table.get("StorageDescriptor") or {}
    serde = (descriptor.get("SerdeInfo") or {}).get("Parameters") or {}
    library = (descriptor.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
    options: dict[str, str] = {}
    classification = (parameters.get("classification") or "").lower()
    separator = serde.get("separatorChar") or serde.get("field.delim")
    if separator is None:
        # LazySimpleSerDe's own default is \001; a crawler's csv table names its delimiter,
        # and one classified tsv is tab-separated.
        separator = "\t" if classification == "tsv" else ","
    options["sep"] = separator
    if "quoteChar" in serde:
        options["quote"] = serde["quoteChar"]
    if "escapeChar" in serde or "escape.delim" in serde:
        options["escape"] = serde.get("escapeChar") or serde["escape.delim"]
    skip = parameters.get("skip.header.line.count") or serde.get("skip.header.line.count")
    options["header"] = "true" if skip and skip.strip() != "0" else "false"
    if library.endswith("OpenCSVSerde"):
        options.setdefault("quote", '"')
    return options


def table_source(
    database: str,
    table: str,
    root: str | Path | None = None,
    expression: str | None = None,
) -> TableSource:
    """Where and how to read ``database.table`` of the catalog in ``root`` (default: the
    endpoint's, ``DATA_DIR/catalog``): what ``from_catalog`` loads.

    The paths are the table's Location; a partitioned table whose partitions name their
    own locations gives those, with ``basePath`` the table's Location so Spark still reads
    the partition columns from ``key=value`` directories.  ``expression`` (GetPartitions'
    syntax, as ``from_catalog``'s ``catalogPartitionPredicate`` is) keeps only the
    partitions it selects; a partitioned table none of whose partitions is selected has no
    paths.
    """
    from glue_magics.local.catalog import Catalog

    catalog = Catalog(catalog_root(root), "")
    found = catalog.get_table(database, table)
    fmt = table_format(found)
    options = reader_options(found, fmt)
    location = (found.get("StorageDescriptor") or {}).get("Location")
    partitions, _ = catalog.get_partitions(database, table, expression, None, 10**9)
    keys = [k["Name"] for k in found.get("PartitionKeys") or []]
    if keys and location and (expression or any(_own_location(p) for p in partitions)):
        base = location.rstrip("/")
        paths = [
            _own_location(p)
            or base + "/" + "/".join(f"{k}={v}" for k, v in zip(keys, p["Values"], strict=True))
            for p in partitions
        ]
        return TableSource(paths, fmt, {**options, "basePath": location})
    if not location:
        raise ValueError(
            f"table {found['DatabaseName']}.{found['Name']} has no location; set its "
            "StorageDescriptor Location to the path of its data"
        )
    return TableSource([location], fmt, options)


def catalog_root(root: str | Path | None = None) -> Path:
    """``root``, else the catalog of the endpoint's data directory (GLUE_LOCAL_DATA_DIR,
    which sessions inherit from the endpoint)."""
    if root is not None:
        return Path(root)
    from glue_magics.local.settings import EndpointSettings

    return EndpointSettings().catalog_root


def _own_location(partition: dict[str, Any]) -> str:
    return (partition.get("StorageDescriptor") or {}).get("Location") or ""


def _own_location(partition: dict[str, Any]) -> str:
    return (partition.get("StorageDescriptor") or {}).get("Location") or ""


def default_account() -> str:
    """The account an endpoint answers for when none is set: the CatalogId of what a
    session writes back unless it is told the endpoint's own."""
    from glue_magics.local.settings import EndpointSettings

    return EndpointSettings.account_id
