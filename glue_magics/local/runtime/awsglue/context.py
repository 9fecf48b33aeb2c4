"""``GlueContext``: the entry point of Glue scripts, on the session's SparkSession.

AWS's "GlueContext class" page documents it wrapping a SparkContext.  Here it takes the
SparkContext (or a SparkSession, or nothing) only to find the SparkSession the supported
way, so the same code serves classic and Spark Connect sessions.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Mapping
from typing import Any

from awsglue import _catalog, _io
from awsglue._parsing import GlueArgumentError
from awsglue.dynamicframe import (
    DynamicFrame,
    DynamicFrameReader,
    DynamicFrameWriter,
    _frame_df,
)
from awsglue.errors import NotCoveredError, uncovered

_FLAT_READERS = ("create_dynamic_frame", "write_dynamic_frame", "create_data_frame")
_FLAT_METHODS = ("from_options", "from_catalog")

NOT_COVERED = frozenset(
    {
        "create_dynamic_frame_from_rdd",
        "write_dynamic_frame_from_jdbc_conf",
        "write_from_jdbc_conf",
        "extract_jdbc_conf",
        "transition_table",
        "transition_s3_path",
        "forEachBatch",
        "add_ingestion_time_columns",
        "start_transaction",
        "commit_transaction",
        "cancel_transaction",
        "begin_transaction",
        "get_catalog_schema_as_spark_schema",
        "create_sample_dynamic_frame_from_catalog",
        "create_sample_dynamic_frame_from_options",
        "write_data_frame_from_catalog",
        "purge_table",
    }
)


def _spark_session(context: Any) -> Any:
    """The SparkSession for what a script hands GlueContext: a SparkSession as it is, else
    the active one, else ``SparkSession.builder.getOrCreate()`` (which joins the
    SparkContext that ``SparkContext.getOrCreate()`` made)."""
    from pyspark.sql import SparkSession

    if context is not None and hasattr(context, "createDataFrame") and hasattr(context, "read"):
        return context
    return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()


class _Logger:
    """get_logger's logger: lines to the session's system log (stderr's file descriptor),
    as Glue's go to its driver log rather than to the cell."""

    def __init__(self, name: str = "GlueLogger") -> None:
        self.name = name

    def _line(self, level: str, message: Any) -> None:
        stamp = time.strftime("%y/%m/%d %H:%M:%S")
        os.write(2, f"{stamp} {level} {self.name}: {message}\n".encode("utf-8", "replace"))

    def info(self, message: Any) -> None:
        self._line("INFO", message)

    def warn(self, message: Any) -> None:
        self._line("WARN", message)

    warning = warn

    def error(self, message: Any) -> None:
        self._line("ERROR", message)

    def debug(self, message: Any) -> None:
        self._line("DEBUG", message)


class _Endpoint:
    """What ``getSink`` and ``getSource`` share: the connection options given, then the
    format ``setFormat`` names."""

    def __init__(self, glue_context: GlueContext, options: Mapping[str, Any]) -> None:
        self._glue_context = glue_context
        self._options = dict(options)
        self._format: str | None = None
        self._format_options: dict[str, Any] = {}

    def setFormat(self, format: str, **options: Any) -> None:  # noqa: N802, A002
        self._format, self._format_options = format, options

    @classmethod
    def opened(
        cls, glue_context: GlueContext, connection_type: str, fmt: str | None, options: dict
    ) -> Any:
        """A sink or source on S3 with its format, if named."""
        _io.check_s3(connection_type)
        endpoint = cls(glue_context, options)
        if fmt:
            endpoint.setFormat(fmt)
        return endpoint


class DataSink(_Endpoint):
    """``glueContext.getSink(...)``: ``setFormat`` then ``writeFrame``."""

    _catalog: tuple[str, str] | None = None

    def setCatalogInfo(self, catalogDatabase: str = "", catalogTableName: str = "", **kw: Any):  # noqa: N802, N803
        """The table ``enableUpdateCatalog`` creates or updates after each write."""
        self._catalog = (catalogDatabase, catalogTableName)

    def writeFrame(self, dynamic_frame: Any, info: str = "") -> Any:  # noqa: N802
        df = _frame_df(dynamic_frame)
        _io.write(df, self._options, self._format, self._format_options)
        if str(self._options.get("enableUpdateCatalog", "")).lower() == "true":
            if self._catalog is None:
                raise GlueArgumentError(
                    "getSink(enableUpdateCatalog=True) needs the table: call "
                    "sink.setCatalogInfo(catalogDatabase='db', catalogTableName='t') first"
                )
            fmt = (self._format or "").lower()
            _catalog.update_table(
                df,
                *self._catalog,
                self._options["path"],
                "parquet" if fmt == "glueparquet" else fmt,
                list(self._options.get("partitionKeys") or []),
                self._options,
            )
        return dynamic_frame

    def write(self, frame_or_dfc: Any, info: str = "") -> Any:
        return self.writeFrame(frame_or_dfc, info)

    def __getattr__(self, name: str) -> Any:
        raise uncovered("DataSink", name, frozenset({"writeDataFrame", "setAccumulableSize"}))


class DataSource(_Endpoint):
    """``glueContext.getSource(...)``: ``setFormat`` then ``getFrame``."""

    def getFrame(self, **kwargs: Any) -> DynamicFrame:  # noqa: N802
        return self._glue_context.create_dynamic_frame.from_options(
            "s3", self._options, self._format, self._format_options
        )


class GlueContext:
    """AWS Glue's GlueContext over the session's SparkSession."""

    def __init__(self, sparkContext: Any = None, **options: Any) -> None:  # noqa: N803
        self.spark_session = _spark_session(sparkContext)
        self.create_dynamic_frame = DynamicFrameReader(self)
        self.write_dynamic_frame = DynamicFrameWriter(self)
        self.create_data_frame = DynamicFrameReader(self, dynamic=False)

    # SQLContext's surface, which AWS's GlueContext inherits
    @property
    def sparkSession(self) -> Any:  # noqa: N802 - SQLContext's name
        return self.spark_session

    @property
    def read(self) -> Any:
        return self.spark_session.read

    def sql(self, query: str) -> Any:
        return self.spark_session.sql(query)

    def table(self, name: str) -> Any:
        return self.spark_session.table(name)

    def createDataFrame(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
        return self.spark_session.createDataFrame(*args, **kwargs)

    def getSink(  # noqa: N802 - AWS's name
        self,
        connection_type: str,
        format: str | None = None,  # noqa: A002
        transformation_ctx: str = "",
        **options: Any,
    ) -> DataSink:
        """A sink to S3 (``path``, ``partitionKeys``); ``enableUpdateCatalog`` (with
        ``updateBehavior``) creates or updates the table ``setCatalogInfo`` names."""
        return DataSink.opened(self, connection_type, format, options)

    def getSource(  # noqa: N802 - AWS's name
        self,
        connection_type: str,
        format: str | None = None,  # noqa: A002
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        **options: Any,
    ) -> DataSource:
        return DataSource.opened(self, connection_type, format, options)

    def purge_s3_path(
        self, s3_path: str, options: Mapping[str, Any] | None = None, transformation_ctx: str = ""
    ) -> None:
        """Deletes the files under the path older than ``retentionPeriod`` hours (AWS's
        default 168, a week), as AWS's "purge_s3_path" documents.  Local paths and
        ``file://`` here; ``s3://`` through boto3's S3 client, as configured for the
        session (the local endpoint's object store when it serves S3)."""
        options = dict(options or {})
        hours = float(options.get("retentionPeriod", 168))
        if options.get("excludeStorageClasses"):
            pass  # a local object store has one storage class: nothing to exclude
        cutoff = time.time() - hours * 3600
        if s3_path.startswith(("s3://", "s3a://", "s3n://")):
            _purge_s3(s3_path, cutoff)
            return
        root = s3_path[len("file://") :] if s3_path.startswith("file://") else s3_path
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                if os.path.getmtime(path) < cutoff:
                    os.remove(path)

    def get_logger(self) -> _Logger:
        return _Logger()

    def __getattr__(self, name: str) -> Any:
        """The flat forms AWS's page lists beside the readers and writers
        (``create_dynamic_frame_from_options`` is ``create_dynamic_frame.from_options``),
        else what is not covered, named."""
        reader, _, method = name.rpartition("_from_")
        found = self.__dict__.get(reader) if reader in _FLAT_READERS else None
        if found is not None and f"from_{method}" in _FLAT_METHODS:
            return getattr(found, f"from_{method}")
        raise uncovered("GlueContext", name, NOT_COVERED)

    def __dir__(self) -> list[str]:
        flat = [f"{r}_{m}" for r in _FLAT_READERS for m in _FLAT_METHODS]
        return sorted({*super().__dir__(), *flat})


def _purge_s3(url: str, cutoff: float) -> None:
    import boto3

    bucket, _, prefix = url.split("://", 1)[1].partition("/")
    s3 = boto3.client("s3")
    stamp = datetime.datetime.fromtimestamp(cutoff, datetime.timezone.utc)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        old = [{"Key": o["Key"]} for o in page.get("Contents", []) if o["LastModified"] < stamp]
        if old:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": old})


__all__ = ["GlueContext", "NotCoveredError"]
