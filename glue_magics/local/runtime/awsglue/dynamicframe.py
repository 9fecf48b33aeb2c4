"""``DynamicFrame`` and ``DynamicFrameCollection`` on a Spark DataFrame.

AWS's "DynamicFrame class" page describes self-describing records whose schema is computed
when needed, with a ``choice`` type where a field's values disagree.  Here a DynamicFrame
is a DataFrame plus the paths of its choice fields (``_columns`` has the representation);
every method is a DataFrame plan, so nothing here needs ``_jvm`` or ``sparkContext``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from awsglue import _choice, _records, gluetypes
from awsglue._columns import (
    F,
    field_type,
    glue_name,
    resolve_path,
    rewrite_columns,
    spark_type,
    top,
)
from awsglue._parsing import ARRAY, GlueArgumentError, format_path, parse_path
from awsglue.errors import NotCoveredError, uncovered

# AWS's documented DynamicFrame methods this module does not have: each raises
# NotCoveredError naming itself instead of AttributeError.
NOT_COVERED = frozenset(
    {
        "mergeDynamicFrame",
        "spigot",
        "split_fields",
        "split_rows",
        "unbox",
        "unnest_ddb_json",
        "simplify_ddb_json",
        "errorsAsDynamicFrame",
        "errorsCount",
        "stageErrorsCount",
        "assertErrorThreshold",
        "getNumPartitions",
        "write",
        "toDF_with_options",
        "gs_now",
        "gs_concat",
        "gs_derived",
        "gs_format_timestamp",
        "gs_split",
        "gs_array_to_cols",
        "gs_explode",
        "gs_flatten",
        "gs_identifier",
        "gs_lookup",
        "gs_math",
        "gs_null_rows",
        "gs_regex_extractor",
        "gs_to_timestamp",
        "gs_union",
    }
)


def _ctx(kwargs: Mapping[str, Any]) -> None:
    """``transformation_ctx``, ``info`` and the error thresholds are accepted; local
    sessions keep no job-bookmark state and no error records (see ``job``)."""


class DynamicFrame:
    """A Glue DynamicFrame: ``DynamicFrame(dataframe, glue_ctx, name)`` (AWS's signature
    takes the JVM frame first; here it is the Spark DataFrame)."""

    def __init__(
        self, df: Any, glue_ctx: Any = None, name: str = "", choices: frozenset = frozenset()
    ) -> None:
        if isinstance(df, DynamicFrame):
            df, choices = df._df, df._choices
        self._df = df
        self.glue_ctx = glue_ctx
        self.name = name
        self._choices = frozenset(choices)

    # -- construction --------------------------------------------------------------
    @staticmethod
    def fromDF(dataframe: Any, glue_ctx: Any, name: str = "") -> DynamicFrame:  # noqa: N802
        """A DynamicFrame of a DataFrame (its structs stay structs, none is a choice)."""
        return DynamicFrame(dataframe, glue_ctx, name)

    def toDF(self, options: Any = None) -> Any:  # noqa: N802 - AWS's name
        """The DataFrame; an unresolved choice is a struct of its candidates, one field per
        type, as in Glue."""
        if options:
            raise NotCoveredError("DynamicFrame.toDF(options)", "call resolveChoice first")
        return self._df

    def _new(self, df: Any, choices: frozenset | None = None, name: str = "") -> DynamicFrame:
        kept = self._choices if choices is None else choices
        kept = frozenset(c for c in kept if field_type(df.schema, parse_path(c)) is not None)
        return DynamicFrame(df, self.glue_ctx, name or self.name, kept)

    # -- information ---------------------------------------------------------------
    def count(self) -> int:
        return self._df.count()

    def schema(self) -> gluetypes.StructType:
        """The Glue schema: Spark's types by Glue's names, ChoiceType at the choices."""
        return gluetypes.from_spark(self._df.schema, self._choices)

    def printSchema(self) -> None:  # noqa: N802 - AWS's name
        print("\n".join(gluetypes.schema_lines(self.schema())))

    def show(self, num_rows: int = 20) -> None:
        """The first records as JSON lines, as Glue's show prints a DynamicFrame."""
        f = F()
        rows = self._df.select(f.to_json(f.struct(*[top(c) for c in self._df.columns]))).take(
            num_rows
        )
        print("\n".join(r[0] for r in rows))

    def repartition(self, num_partitions: int, transformation_ctx: str = "", **kw: Any):
        return self._new(self._df.repartition(num_partitions))

    def coalesce(self, num_partitions: int, shuffle: bool = False, **kw: Any) -> DynamicFrame:
        return self._new(self._df.coalesce(num_partitions))

    def __repr__(self) -> str:
        return f"<DynamicFrame {self.name or ''} {self._df.columns}>".replace("  ", " ")

    def __getattr__(self, name: str) -> Any:
        raise uncovered("DynamicFrame", name, NOT_COVERED)

    # -- transforms ----------------------------------------------------------------
    def apply_mapping(
        self, mappings: Sequence[Sequence[Any]], case_sensitive: bool = False, **kw: Any
    ) -> DynamicFrame:
        """AWS's ApplyMapping: each (source, source type, target, target type) mapping
        gives one target field, cast to the target type; dotted targets nest into structs;
        fields no mapping names are dropped."""
        _ctx(kw)
        schema = self._df.schema
        tree: dict[str, Any] = {}
        choices: set[str] = set()
        for mapping in mappings:
            if not isinstance(mapping, (tuple, list)) or len(mapping) != 4:
                raise GlueArgumentError(
                    f"mapping {mapping!r} is not (source, source type, target, target type): "
                    "e.g. ('id', 'long', 'provider.id', 'long')"
                )
            source, source_type, target, target_type = mapping
            segments = resolve_path(schema, source)
            if segments is None and not case_sensitive:
                segments = _casefold_path(schema, source)
            if segments is None:
                continue  # no record has the field: nothing to map (Glue maps per record)
            if ARRAY in segments:
                raise NotCoveredError(f"ApplyMapping from {source!r}", "use unnest or a map")
            column = top(segments[0])
            for name in segments[1:]:
                column = column.getField(name)
            dtype = field_type(schema, segments)
            key = format_path(segments)
            keep_choice = False
            if key in self._choices:
                candidates = dtype.fieldNames()
                if source_type in candidates:
                    column, dtype = column.getField(source_type), dtype[source_type].dataType
                elif not target_type or target_type == "choice":
                    keep_choice = True
                else:
                    column = _choice._act(column, dtype, "", "cast", target_type, True)[0]
                    dtype = None
            needs_cast = target_type and (dtype is None or glue_name(dtype) != target_type)
            if needs_cast and not keep_choice and target_type not in ("struct", "array", "map"):
                column = column.try_cast(spark_type(target_type))
            target_segments = parse_path(target)
            if keep_choice:
                choices.add(format_path(target_segments))
            node = tree
            for name in target_segments[:-1]:
                node = node.setdefault(name, {})
                if not isinstance(node, dict):
                    raise GlueArgumentError(f"mapping target {target!r} is inside a non-struct")
            node[target_segments[-1]] = column
        return self._new(self._df.select(*_build(tree)), frozenset(choices))

    def resolveChoice(  # noqa: N802 - AWS's name
        self,
        specs: Sequence[tuple[str, str]] | None = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        **kw: Any,
    ) -> DynamicFrame:
        """AWS's ResolveChoice: per (path, action), ``cast:TYPE``, ``project:TYPE``,
        ``make_cols``, ``make_struct``, ``match_catalog`` (the type of the column of that
        name in the catalog table ``database.table_name``); ``a[].b`` names a field of an
        array's elements."""
        types = None
        if database or table_name:
            from awsglue import _catalog

            types = _catalog.catalog_types(database or "", table_name or "")
        df, choices = _choice.resolve(self._df, self._choices, specs, choice, types)
        return self._new(df, choices)

    def drop_fields(self, paths: Sequence[str], **kw: Any) -> DynamicFrame:
        """AWS's DropFields: each path (``a.b``, ``a[].b``) removed."""
        df = self._df
        for path in _as_list(paths):
            segments = resolve_path(df.schema, path)
            if segments is not None:
                df = df.select(*rewrite_columns(df.schema, segments, lambda c, t, n: []))
        return self._new(df)

    def select_fields(self, paths: Sequence[str], **kw: Any) -> DynamicFrame:
        """AWS's SelectFields: only the given paths, nested ones in their structs."""
        mappings = []
        for path in _as_list(paths):
            segments = resolve_path(self._df.schema, path)
            if segments is not None:
                mappings.append((path, None, format_path(segments), None))
        return self.apply_mapping(mappings)

    def rename_field(self, oldName: str, newName: str, **kw: Any) -> DynamicFrame:  # noqa: N803
        """AWS's RenameField: the field at ``oldName`` takes the last name of ``newName``
        (both full paths, backticks for names with dots), in place."""
        segments = resolve_path(self._df.schema, oldName)
        if segments is None:
            return self._new(self._df)
        new_segments = parse_path(newName)
        if newName in (self._df.columns if len(segments) == 1 else []) or len(new_segments) == 1:
            new_segments = [newName] if len(segments) == 1 else [*segments[:-1], newName]
        if new_segments[:-1] != segments[:-1]:
            raise NotCoveredError(
                f"rename_field to another struct ({oldName!r} -> {newName!r})",
                "use apply_mapping to move fields",
            )
        last = new_segments[-1]
        df = self._df.select(
            *rewrite_columns(self._df.schema, segments, lambda c, t, n: [c.alias(last)])
        )
        old_key, new_key = format_path(segments), format_path(new_segments)
        choices = {
            new_key + c[len(old_key) :] if c.startswith(old_key) else c for c in self._choices
        }
        return self._new(df, frozenset(choices))

    def filter(self, f: Callable[[dict], bool], **kw: Any) -> DynamicFrame:
        """AWS's Filter: the records for which ``f(record)`` is true (a record is a dict)."""
        from pyspark.sql.types import BooleanType

        _records.register_by_value()
        body = _records.predicate(f, [parse_path(c) for c in sorted(self._choices)])
        test = F().udf(body, BooleanType())
        return self._new(self._df.where(test(_row(self._df))))

    def map(self, f: Callable[[dict], dict], **kw: Any) -> DynamicFrame:
        """AWS's Map: ``f(record)`` for every record; the new records' schema is computed
        from them, with choices where their values disagree."""
        fn = F()
        _records.register_by_value()
        body = _records.mapper(f, [parse_path(c) for c in sorted(self._choices)])
        as_json = fn.udf(body, "string")
        out = self._df.select(as_json(_row(self._df)).alias("j")).where(fn.col("j").isNotNull())
        df, choices = _choice.from_variants(out.select(fn.parse_json("j").alias("v")), "v")
        return self._new(df, choices)

    def join(
        self,
        paths1: Sequence[str] | str,
        paths2: Sequence[str] | str,
        frame2: DynamicFrame,
        **kw: Any,
    ) -> DynamicFrame:
        """AWS's Join: an equality join keeping both frames' keys.  A non-key field in both
        frames keeps frame1's values (AWS's page does not say; a frame cannot hold two
        fields of one name)."""
        return _join(self, _as_list(paths1), _as_list(paths2), frame2)

    def relationalize(
        self,
        root_table_name: str,
        staging_path: str | None = None,
        options: Any = None,
        **kw: Any,
    ) -> DynamicFrameCollection:
        """AWS's Relationalize: the root table (structs flattened to dotted names) plus one
        table per array, ``ROOT_FIELD`` with ``id`` (the root row's link, the value of the
        array's column in the parent), ``index`` and the elements under ``FIELD.val``.
        Nothing is staged: ``staging_path`` is accepted and unused."""
        tables: dict[str, Any] = {}
        _relationalize(root_table_name, _flatten(self._df, frozenset()), tables)
        frames = {name: DynamicFrame(df, self.glue_ctx, name) for name, df in tables.items()}
        return DynamicFrameCollection(frames, self.glue_ctx)

    def unnest(self, **kw: Any) -> DynamicFrame:
        """AWS's unnest: nested structs' fields become top-level fields named by their
        dotted paths (arrays and choices stay as they are)."""
        df = _flatten(self._df, self._choices)
        return self._new(df, frozenset(c for c in self._choices if ARRAY not in parse_path(c)))


def _as_list(value: Sequence[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _casefold_path(schema: Any, text: str) -> list[str] | None:
    lowered = {name.lower(): name for name in schema.fieldNames()}
    segments = parse_path(text)
    if segments and segments[0].lower() in lowered:
        segments = [lowered[segments[0].lower()], *segments[1:]]
        if field_type(schema, segments) is not None:
            return segments
    return None


def _build(tree: Mapping[str, Any]) -> list[Any]:
    f = F()
    return [
        (f.struct(*_build(v)) if isinstance(v, dict) else v).alias(name) for name, v in tree.items()
    ]


def _row(df: Any) -> Any:
    return F().struct(*[top(c) for c in df.columns])


def _join(left: DynamicFrame, keys1: list[str], keys2: list[str], right: DynamicFrame):
    if len(keys1) != len(keys2) or not keys1:
        raise GlueArgumentError(
            f"join keys {keys1!r} and {keys2!r} differ in number: give one key per key"
        )
    a, b = left._df.alias("__l"), right._df.alias("__r")
    condition = None
    for k1, k2 in zip(keys1, keys2, strict=True):
        for frame, key in ((left, k1), (right, k2)):
            if key not in frame._df.columns:
                raise GlueArgumentError(
                    f"join key {key!r} is not a field of its frame: pick from {frame._df.columns}"
                )
        test = _qualified("__l", k1) == _qualified("__r", k2)
        condition = test if condition is None else condition & test
    columns = [_qualified("__l", c).alias(c) for c in left._df.columns]
    columns += [
        _qualified("__r", c).alias(c) for c in right._df.columns if c not in left._df.columns
    ]
    joined = a.join(b, condition, "inner").select(*columns)
    return left._new(joined, left._choices | right._choices)


def _qualified(alias: str, name: str) -> Any:
    return F().col(f"{alias}.`{name.replace('`', '``')}`")


def _flatten(df: Any, keep: frozenset) -> Any:
    """Structs' fields as top-level columns named by their dotted paths (the paths in
    ``keep`` stay whole)."""
    from pyspark.sql import types as T  # noqa: N812

    columns: list[Any] = []

    def walk(column: Any, dtype: Any, name: str, path: list[str]) -> None:
        if isinstance(dtype, T.StructType) and format_path(path) not in keep and dtype.fields:
            for field in dtype.fields:
                walk(
                    column.getField(field.name),
                    field.dataType,
                    f"{name}.{field.name}",
                    [*path, field.name],
                )
        else:
            columns.append(column.alias(name))

    for field in df.schema.fields:
        walk(top(field.name), field.dataType, field.name, [field.name])
    return df.select(*columns)


def _relationalize(name: str, df: Any, out: dict[str, Any]) -> None:
    from pyspark.sql import types as T  # noqa: N812

    f = F()
    arrays = [fl.name for fl in df.schema.fields if isinstance(fl.dataType, T.ArrayType)]
    if not arrays:
        out[name] = df
        return
    # one id per row of this table, fixed once (a checkpoint) so the table and its
    # children agree on it
    with_id = df.withColumn("__glue_id", f.monotonically_increasing_id() + 1).localCheckpoint()
    out[name] = with_id.select(
        *[
            f.when(top(c).isNotNull(), f.col("__glue_id")).alias(c) if c in arrays else top(c)
            for c in df.columns
        ]
    )
    for array in arrays:
        child = with_id.select(
            f.col("__glue_id").alias("id"), f.posexplode(top(array)).alias("index", "__v")
        ).withColumnRenamed("__v", f"{array}.val")
        _relationalize(f"{name}_{array}", _flatten(child, frozenset()), out)


class DynamicFrameCollection:
    """Named DynamicFrames, as Relationalize returns them (AWS's DynamicFrameCollection)."""

    def __init__(self, dynamic_frames: Mapping[str, DynamicFrame], glue_ctx: Any) -> None:
        self._frames = dict(dynamic_frames)
        self.glue_ctx = glue_ctx

    def keys(self) -> list[str]:
        return list(self._frames.keys())

    def values(self) -> list[DynamicFrame]:
        return list(self._frames.values())

    def select(self, key: str, transformation_ctx: str = "") -> DynamicFrame:
        if key not in self._frames:
            raise KeyError(f"{key!r} is not in this collection: pick from {self.keys()}")
        return self._frames[key]

    def __getitem__(self, key: str) -> DynamicFrame:
        return self.select(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, key: object) -> bool:
        return key in self._frames

    def map(self, callable: Callable[[DynamicFrame, str], DynamicFrame], transformation_ctx=""):
        """Each frame through ``callable(frame, transformation_ctx)``, as AWS's page says."""
        return DynamicFrameCollection(
            {k: callable(v, transformation_ctx) for k, v in self._frames.items()}, self.glue_ctx
        )

    def flatmap(self, f: Callable[[DynamicFrame, str], Any], transformation_ctx: str = ""):
        frames: dict[str, DynamicFrame] = {}
        for key, frame in self._frames.items():
            result = f(frame, transformation_ctx)
            if isinstance(result, DynamicFrameCollection):
                frames.update({f"{key}_{k}": v for k, v in result._frames.items()})
            else:
                frames[key] = result
        return DynamicFrameCollection(frames, self.glue_ctx)

    def __repr__(self) -> str:
        return f"<DynamicFrameCollection {self.keys()}>"


class DynamicFrameReader:
    """``glueContext.create_dynamic_frame`` and, with ``dynamic=False``,
    ``glueContext.create_data_frame``: ``from_options`` (S3) and ``from_catalog`` (a table
    of the local endpoint's Data Catalog).  One reader for both, as AWS documents the two
    with the same parameters; only what comes back differs (a DynamicFrame typed value by
    value, or a Spark DataFrame with Spark's own typing)."""

    def __init__(self, glue_context: Any, dynamic: bool = True) -> None:
        self._glue_context = glue_context
        self._dynamic = dynamic

    def from_options(
        self,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,  # noqa: A002 - AWS's name
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        **kwargs: Any,
    ) -> Any:
        from awsglue import _io

        _io.check_s3(connection_type)
        spark = self._glue_context.spark_session
        options, fmt_options = connection_options or {}, format_options or {}
        if self._dynamic:
            df, choices = _io.read(spark, options, format, fmt_options)
        else:
            df, choices = _io.read_data_frame(spark, options, format, fmt_options), {}
        if push_down_predicate:
            df = df.where(push_down_predicate)
        return self._frame(df, transformation_ctx, choices)

    def from_catalog(
        self,
        database: str | None = None,
        table_name: str | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        push_down_predicate: str = "",
        additional_options: Mapping[str, Any] | None = None,
        catalog_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The table's data at its Location, in its format (see awsglue._catalog), typed by
        the catalog's columns; ``name_space`` is the older name of ``database``."""
        from awsglue import _catalog

        df, choices = _catalog.read(
            self._glue_context,
            database or kwargs.get("name_space") or "",
            table_name or "",
            push_down_predicate,
            additional_options,
            dynamic=self._dynamic,
        )
        return self._frame(df, transformation_ctx, choices)

    def _frame(self, df: Any, transformation_ctx: str, choices: Any) -> Any:
        if not self._dynamic:
            return df
        return DynamicFrame(df, self._glue_context, transformation_ctx, choices)

    def from_rdd(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        raise NotCoveredError("create_dynamic_frame.from_rdd", "use createDataFrame and fromDF")


class DynamicFrameWriter:
    """``glueContext.write_dynamic_frame``: ``from_options`` (S3, appending)."""

    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context

    def from_options(
        self,
        frame: DynamicFrame,
        connection_type: str,
        connection_options: Mapping[str, Any] | None = None,
        format: str | None = None,  # noqa: A002 - AWS's name
        format_options: Mapping[str, Any] | None = None,
        transformation_ctx: str = "",
        **kwargs: Any,
    ) -> DynamicFrame:
        from awsglue import _io

        _io.check_s3(connection_type)
        _io.write(_frame_df(frame), connection_options or {}, format, format_options or {})
        return frame

    def from_catalog(
        self,
        frame: DynamicFrame,
        database: str | None = None,
        table_name: str | None = None,
        redshift_tmp_dir: str = "",
        transformation_ctx: str = "",
        additional_options: Mapping[str, Any] | None = None,
        catalog_id: str | None = None,
        **kwargs: Any,
    ) -> DynamicFrame:
        """Appended at the table's Location in its format; ``enableUpdateCatalog`` (with
        ``partitionKeys``) adds the partitions written (see awsglue._catalog)."""
        from awsglue import _catalog

        database = database or kwargs.get("name_space") or ""
        _catalog.write(_frame_df(frame), database, table_name or "", additional_options)
        return frame

    def from_jdbc_conf(self, *args: Any, **kwargs: Any) -> DynamicFrame:
        raise NotCoveredError("write_dynamic_frame.from_jdbc_conf", "write with Spark's jdbc")


def _frame_df(frame: Any) -> Any:
    if isinstance(frame, DynamicFrame):
        return frame._df
    if hasattr(frame, "schema") and hasattr(frame, "write"):
        return frame  # a DataFrame, as write_data_frame takes
    raise GlueArgumentError(f"frame {type(frame).__name__} is not a DynamicFrame")
