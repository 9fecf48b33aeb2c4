"""Where ``choice`` fields come from (CSV text, JSON values, a map's records) and how
``resolveChoice`` settles them.  The representation is in ``_columns``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from awsglue._columns import (
    F,
    field_type,
    glue_name,
    leaf_values,
    resolve_path,
    rewrite_columns,
    spark_type,
    top,
    variant_paths,
)
from awsglue._parsing import GlueArgumentError, format_path, parse_action

Choices = frozenset[str]

# A CSV value's type, as Glue's CSV reader types values: whole numbers long, other numbers
# double, the rest string (AWS's resolve_choice example shows `provider id: choice` of long
# and string for medicare's CSV).
_LONG = r"^\s*[+-]?\d+\s*$"
_DOUBLE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"


def _kinds_of_text(column: Any) -> tuple[Any, Any, Any]:
    is_long = column.rlike(_LONG) & column.try_cast("bigint").isNotNull()
    is_double = ~is_long & column.rlike(_DOUBLE) & column.try_cast("double").isNotNull()
    is_string = column.isNotNull() & ~is_long & ~is_double
    return is_long, is_double, is_string


def type_text_columns(df: Any, keep: Sequence[str] = ()) -> tuple[Any, Choices]:
    """A frame of text columns (CSV's) typed per value: a column of only whole numbers is
    long, of numbers double, of text string; numbers and text together are a choice.
    One pass over the data decides.  Columns in ``keep`` stay as they are."""
    f = F()
    names = [c for c in df.columns if c not in keep]
    if not names:
        return df, frozenset()
    aggs = []
    for i, name in enumerate(names):
        kinds = _kinds_of_text(top(name))
        aggs += [f.max(k.cast("int")).alias(f"k{i}_{j}") for j, k in enumerate(kinds)]
    seen = df.agg(*aggs).first()
    columns, choices = [], set()
    for name in df.columns:
        if name in keep:
            columns.append(top(name))
            continue
        j = names.index(name)
        has_long, has_double, has_string = (bool(seen[f"k{j}_{k}"]) for k in range(3))
        column = top(name)
        is_long, is_double, is_string = _kinds_of_text(column)
        if has_string and (has_long or has_double):
            parts = []
            if has_double:  # sorted as Glue prints a choice's candidates
                parts.append(f.when(is_double, column.try_cast("double")).alias("double"))
            if has_long:
                parts.append(f.when(is_long, column.try_cast("bigint")).alias("long"))
            parts.append(f.when(is_string, column).alias("string"))
            columns.append(f.struct(*parts).alias(name))
            choices.add(format_path([name]))
        elif has_double:  # whole numbers with other numbers: double (Glue's docs are silent)
            columns.append(column.try_cast("double").alias(name))
        elif has_long:
            columns.append(column.try_cast("bigint").alias(name))
        else:
            columns.append(column.alias(name))
    return df.select(*columns), frozenset(choices)


def _variant_kind(x: Any) -> Any:
    f = F()
    s = f.schema_of_variant(x)
    return (
        f.when(x.isNull() | (s == "VOID"), f.lit(None))
        .when(s.startswith("OBJECT"), "struct")
        .when(s.startswith("ARRAY"), "array")
        .when(s.isin("BIGINT", "INT", "SMALLINT", "TINYINT"), "long")
        .when(s.startswith("DECIMAL") | s.isin("DOUBLE", "FLOAT"), "double")
        .when(s == "BOOLEAN", "boolean")
        .when(s == "DATE", "date")
        .when(s.startswith("TIMESTAMP"), "timestamp")
        .otherwise("string")
    )


def typed_ddl(ddl: str) -> str:
    """schema_of_variant_agg's answer as a type to cast to: JSON's decimals as double
    (Glue types JSON fractions double), structs for objects, all-null fields string."""
    ddl = ddl.replace("OBJECT<", "STRUCT<")
    ddl = re.sub(r"DECIMAL\(\d+,\s*\d+\)", "DOUBLE", ddl)
    return re.sub(r"\bVOID\b", "STRING", ddl)


def from_variants(df: Any, column: str, keep: Sequence[str] = ()) -> tuple[Any, Choices]:
    """A frame of one VARIANT column of records (JSON objects) as typed columns: the merged
    schema of all records, and a choice wherever a field's values have several types; the
    columns in ``keep`` (a table's partition keys) after them as they are, in place of a
    record's field of the same name."""
    f = F()
    ddl = df.agg(f.schema_of_variant_agg(top(column))).first()[0]
    if ddl is None:
        empty = df.sparkSession.createDataFrame([], "dummy string").drop("dummy")
        return (df.select(*map(top, keep)).limit(0) if keep else empty), frozenset()
    if not ddl.startswith("OBJECT<"):
        raise GlueArgumentError(f"the records are not JSON objects but {ddl[:60]}")
    record = df.select(f.variant_get(top(column), "$", typed_ddl(ddl)).alias("r"), *map(top, keep))
    kept = {k.lower() for k in keep}
    fields = [n for n in record.schema["r"].dataType.names if n.lower() not in kept]
    typed = record.select(*[f.col("r").getField(n).alias(n) for n in fields], *map(top, keep))
    paths = variant_paths(typed.schema)
    if not paths:
        return typed, frozenset()
    kinds_of = [
        f.array_distinct(
            f.flatten(
                f.collect_set(
                    f.transform(
                        leaf_values(top(p[0]), typed.schema[p[0]].dataType, p[1:]), _variant_kind
                    )
                )
            )
        ).alias(f"p{i}")
        for i, p in enumerate(paths)
    ]
    seen = typed.agg(*kinds_of).first()
    choices: set[str] = set()
    for i, path in enumerate(paths):
        kinds = sorted(k for k in (seen[f"p{i}"] or []) if k is not None)
        types = {k: _kind_type(typed, path, k) for k in kinds}
        if len(kinds) > 1:
            choices.add(format_path(path))

        def settle(column: Any, dtype: Any, name: str, kinds=kinds, types=types) -> list[Any]:
            if not kinds:
                return [f.lit(None).cast("string").alias(name)] if name else [f.lit(None)]
            if len(kinds) == 1:
                value = f.try_variant_get(column, "$", types[kinds[0]])
            else:
                value = f.struct(
                    *[
                        f.when(_variant_kind(column) == k, f.try_variant_get(column, "$", t)).alias(
                            k
                        )
                        for k, t in types.items()
                    ]
                )
            return [value.alias(name)] if name else [value]

        typed = typed.select(*rewrite_columns(typed.schema, path, settle))
    return typed, frozenset(choices)


def _kind_type(typed: Any, path: list[str], kind: str) -> str:
    """Spark's type for one candidate of a choice; a struct's or array's from the merged
    schema of those values alone (conflicts within them left as JSON text)."""
    if kind not in ("struct", "array"):
        return spark_type(kind)
    f = F()
    values = typed.select(
        f.explode(leaf_values(top(path[0]), typed.schema[path[0]].dataType, path[1:])).alias("v")
    ).where(_variant_kind(f.col("v")) == kind)
    ddl = values.agg(f.schema_of_variant_agg("v")).first()[0] or "STRING"
    return typed_ddl(ddl).replace("VARIANT", "STRING")


def resolve(
    df: Any,
    choices: Choices,
    specs: Iterable[tuple[str, str]] | None,
    choice: str,
    catalog_types: dict[str, str] | None = None,
) -> tuple[Any, Choices]:
    """resolveChoice: each (path, action) applied in turn, or ``choice`` to every choice.
    Actions and the ``a[].b`` paths as on AWS's ResolveChoice class page; ``match_catalog``
    casts to ``catalog_types`` (a catalog table's column types by lower-cased name)."""
    if specs is not None and choice:
        raise GlueArgumentError("resolveChoice takes specs or choice, not both: drop one")
    if specs is None:
        if not choice:
            raise GlueArgumentError(
                "resolveChoice needs specs=[(path, action)] or choice=ACTION: e.g. "
                "choice='match_catalog', database='db', table_name='t'"
            )
        specs = [(path, choice) for path in sorted(choices)]
    left = set(choices)
    for spec in specs:
        if not (isinstance(spec, (tuple, list)) and len(spec) == 2):
            raise GlueArgumentError(
                f"resolveChoice spec {spec!r} is not a (path, action) pair: e.g. "
                "('provider id', 'cast:long')"
            )
        path, action = spec
        kind, arg = parse_action(action)
        if kind == "match_catalog":
            if catalog_types is None:
                raise GlueArgumentError(
                    "resolveChoice match_catalog needs the table: pass database= and "
                    "table_name= of a Data Catalog table"
                )
            wanted = catalog_types.get(str(path).split(".")[0].split("[")[0].lower())
            if wanted is None:  # a field the table has not: left as it is
                continue
            kind, arg = "cast", wanted
        segments = resolve_path(df.schema, path)
        if segments is None:  # a field no record has: nothing to resolve (as a record-wise
            continue  # transform finds nothing); AWS's page does not say otherwise
        key = format_path(segments)
        is_choice = key in left

        def act(column: Any, dtype: Any, name: str, kind=kind, arg=arg, is_choice=is_choice):
            return _act(column, dtype, name, kind, arg, is_choice)

        df = df.select(*rewrite_columns(df.schema, segments, act))
        left.discard(key)
    return df, frozenset(left)


_ATOMIC = {"long", "int", "short", "byte", "double", "float", "string", "boolean", "date"}


def _act(column: Any, dtype: Any, name: str, kind: str, arg: str | None, is_choice: bool):
    f = F()

    def named(value: Any, suffix: str = "") -> Any:
        return value.alias(name + suffix) if name else value

    if not is_choice:
        if kind == "cast":
            return [named(column.try_cast(spark_type(arg or "")))]
        if kind == "project" and glue_name(dtype) != arg:
            return [named(f.lit(None).cast(spark_type(arg or "")))]
        return [named(column)]
    candidates = list(dtype.fieldNames())
    if kind == "cast":
        target = spark_type(arg or "")
        usable = [c for c in candidates if c in _ATOMIC or c == arg]
        values = [column.getField(c).try_cast(target) for c in usable]
        return [named(f.coalesce(*values) if values else f.lit(None).cast(target))]
    if kind == "project":
        if arg in candidates:
            return [named(column.getField(arg))]
        return [named(f.lit(None).cast(spark_type(arg or "")))]
    if kind == "make_cols":
        if not name:
            raise GlueArgumentError("make_cols cannot split an array's elements: use cast")
        return [column.getField(c).alias(f"{name}_{c}") for c in candidates]
    return [named(column)]  # make_struct: the struct of candidates is the answer


def choice_type(schema: Any, key: str) -> Any:
    """The struct type of the choice at ``key``."""
    return field_type(schema, resolve_path(schema, key) or [])
