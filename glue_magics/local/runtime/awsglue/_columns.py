"""Column expressions at Glue field paths, and the ``choice`` representation.

A DynamicFrame here is a Spark DataFrame plus the set of its choice paths.  A ``choice``
field (values of several types, as AWS's DynamicFrame page describes) is held as a struct
with one field per candidate type, named by Glue's type name (``long``, ``string``...), a
row's value in the field of its own type and null in the others.  That is also what
``toDF()`` hands over for an unresolved choice, and what ``make_struct`` keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from awsglue._parsing import ARRAY, GlueArgumentError, format_path, parse_path

# Glue's type names in casts and candidates, and Spark's names for them
SPARK_TYPES = {
    "long": "bigint",
    "int": "int",
    "integer": "int",
    "short": "smallint",
    "byte": "tinyint",
    "double": "double",
    "float": "float",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "binary": "binary",
}
# Spark's names back to Glue's (``integer`` is an alias one way only), and the nested kinds
GLUE_NAMES = {
    **{spark: glue for glue, spark in SPARK_TYPES.items() if glue != "integer"},
    "struct": "struct",
    "array": "array",
    "map": "map",
}


def F():  # noqa: N802 - pyspark's functions, imported at first use
    from pyspark.sql import functions

    return functions


def spark_type(glue_name: str) -> str:
    """Spark's name for a Glue type name (``long`` -> ``bigint``); decimals and unknown
    names pass through for Spark to judge."""
    return SPARK_TYPES.get(glue_name.strip().lower(), glue_name.strip())


def glue_name(dtype: Any) -> str:
    """Glue's name of a Spark type (``bigint`` -> ``long``)."""
    name = dtype.typeName() if hasattr(dtype, "typeName") else str(dtype)
    name = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}.get(
        name, name
    )
    return GLUE_NAMES.get(name, name)


def top(name: str) -> Any:
    """A top-level column by its exact name (dots and spaces in names are names)."""
    return F().col("`" + name.replace("`", "``") + "`")


def field_type(schema: Any, segments: Sequence[str]) -> Any | None:
    """The Spark type at a path, or None where the path is not in the schema."""
    from pyspark.sql import types as T  # noqa: N812

    dtype = schema
    for segment in segments:
        if segment == ARRAY:
            if not isinstance(dtype, T.ArrayType):
                return None
            dtype = dtype.elementType
        else:
            if not isinstance(dtype, T.StructType) or segment not in dtype.fieldNames():
                return None
            dtype = dtype[segment].dataType
    return dtype


Rewrite = Callable[[Any, Any, str], list[Any]]


def rewrite_columns(schema: Any, segments: Sequence[str], fn: Rewrite) -> list[Any]:
    """The columns of a frame with the field at ``segments`` replaced by ``fn(column, type,
    name)`` (a list of aliased columns: none drops the field, several add fields), through
    structs and arrays (``[]``)."""
    return _fields(top, schema, list(segments), fn)


def _fields(get: Callable[[str], Any], struct: Any, segments: list[str], fn: Rewrite) -> list:
    name, rest = segments[0], segments[1:]
    if name == ARRAY:
        raise GlueArgumentError(f"field path {format_path(segments)!r} starts with []")
    out: list[Any] = []
    for field in struct.fields:
        column = get(field.name)
        if field.name != name:
            out.append(column.alias(field.name))
        elif not rest:
            out.extend(fn(column, field.dataType, field.name))
        else:
            out.append(_value(column, field.dataType, rest, fn).alias(field.name))
    return out


def _value(column: Any, dtype: Any, segments: list[str], fn: Rewrite) -> Any:
    from pyspark.sql import types as T  # noqa: N812

    f = F()
    if segments[0] == ARRAY:
        if not isinstance(dtype, T.ArrayType):
            raise GlueArgumentError(f"field with [] is not an array but {dtype.simpleString()}")
        rest = segments[1:]
        if not rest:
            return f.transform(column, lambda e: _only(fn(e, dtype.elementType, "")))
        return f.transform(column, lambda e: _value(e, dtype.elementType, rest, fn))
    if not isinstance(dtype, T.StructType):
        raise GlueArgumentError(f"field {segments[0]!r} is inside a {dtype.simpleString()}")
    built = f.struct(*_fields(lambda n: column.getField(n), dtype, segments, fn))
    return f.when(column.isNull(), f.lit(None)).otherwise(built)


def _only(columns: list[Any]) -> Any:
    if len(columns) != 1:
        raise GlueArgumentError("an array's elements cannot be split into several columns")
    return columns[0]


def path_of(text: str) -> list[str]:
    """A user's path; ``a.b`` is the top-level field ``a.b`` when the frame has one (Glue's
    paths name fields by their dotted names after unnest and relationalize)."""
    return parse_path(text)


def resolve_path(schema: Any, text: str) -> list[str] | None:
    """The segments of a user's path in this schema: the parsed path, or the whole text as
    one top-level name when that is a field (``a.b`` after unnest), else None."""
    segments = parse_path(text)
    if field_type(schema, segments) is not None:
        return segments
    if text in schema.fieldNames():
        return [text]
    return None


def leaf_values(column: Any, dtype: Any, segments: Sequence[str]) -> Any:
    """An array of every value at ``segments`` below ``column`` (arrays flattened), for
    aggregating over a path that crosses arrays."""
    f = F()
    if not segments:
        return f.array(column)
    head, rest = segments[0], list(segments[1:])
    if head == ARRAY:
        return f.flatten(
            f.transform(
                f.coalesce(column, f.array().cast(dtype)),
                lambda e: leaf_values(e, dtype.elementType, rest),
            )
        )
    return leaf_values(column.getField(head), dtype[head].dataType, rest)


def variant_paths(dtype: Any, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """The paths of the VARIANT leaves of a Spark type (where JSON's values conflict)."""
    from pyspark.sql import types as T  # noqa: N812

    if isinstance(dtype, T.VariantType):
        return [list(prefix)]
    if isinstance(dtype, T.StructType):
        return [p for fl in dtype.fields for p in variant_paths(fl.dataType, (*prefix, fl.name))]
    if isinstance(dtype, T.ArrayType):
        return variant_paths(dtype.elementType, (*prefix, ARRAY))
    return []
