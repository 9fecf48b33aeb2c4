"""Glue's schema types (``awsglue.gluetypes``): what ``DynamicFrame.schema()`` answers.

A DynamicFrame here is a Spark DataFrame plus the paths of its ``choice`` fields (see
``dynamicframe``); these classes describe it as Glue does, with :class:`ChoiceType` where a
field holds values of several types.
"""

from __future__ import annotations

from typing import Any


class DataType:
    """A Glue type; ``typeName()`` is Glue's name for it (``long``, ``string``, ``choice``)."""

    name = "unknown"

    def __init__(self, properties: dict[str, Any] | None = None) -> None:
        self.properties = dict(properties or {})

    @classmethod
    def typeName(cls) -> str:  # noqa: N802 - AWS's name
        return cls.name

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(self.typeName())

    def __repr__(self) -> str:
        """``StringType()``, ``DecimalType(10, 2)``, ``ArrayType(LongType())``: what the
        type holds (the properties of a type that holds nothing else)."""
        held = [repr(v) for k, v in vars(self).items() if k != "properties"]
        return f"{type(self).__name__}({', '.join(held) or self.properties or ''})"


#: Glue's atomic types: the class, then Glue's name for it (``typeName()``), then the names
#: Spark gives the types that read as it (SQL's and ``DataType.typeName()``'s).
ATOMIC = {
    "BinaryType": ("binary", "binary"),
    "BooleanType": ("boolean", "boolean"),
    "ByteType": ("byte", "tinyint", "byte"),
    "DateType": ("date", "date"),
    "DoubleType": ("double", "double"),
    "FloatType": ("float", "float"),
    "IntegerType": ("int", "int", "integer"),
    "LongType": ("long", "bigint", "long"),
    "NullType": ("null", "void", "null"),
    "ShortType": ("short", "smallint", "short"),
    "StringType": ("string", "string"),
    "TimestampType": ("timestamp", "timestamp", "timestamp_ntz"),
    "UnknownType": ("unknown",),
}
_ATOMIC_TYPES: dict[str, type[DataType]] = {
    cls: type(cls, (DataType,), {"name": names[0], "__doc__": f"Glue's {names[0]}."})
    for cls, names in ATOMIC.items()
}
globals().update(_ATOMIC_TYPES)  # BinaryType, ..., UnknownType, as AWS's module has them
_SPARK_NAMES = {spark: _ATOMIC_TYPES[cls] for cls, names in ATOMIC.items() for spark in names[1:]}


class DecimalType(DataType):
    """Glue's decimal, with precision and scale."""

    name = "decimal"

    def __init__(self, precision: int = 10, scale: int = 2, properties: dict | None = None):
        super().__init__(properties)
        self.precision, self.scale = precision, scale


class ArrayType(DataType):
    """Glue's array of ``elementType``."""

    name = "array"

    def __init__(self, elementType: DataType, properties: dict | None = None) -> None:  # noqa: N803
        super().__init__(properties)
        self.elementType = elementType


class MapType(DataType):
    """Glue's map (string keys) of ``valueType``."""

    name = "map"

    def __init__(self, valueType: DataType, properties: dict | None = None) -> None:  # noqa: N803
        super().__init__(properties)
        self.valueType = valueType


class Field:
    """A named field of a struct or a choice."""

    def __init__(self, name: str, dataType: DataType, properties: dict | None = None) -> None:  # noqa: N803
        self.name, self.dataType, self.properties = name, dataType, dict(properties or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Field) and (self.name, self.dataType) == (
            other.name,
            other.dataType,
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Field({self.name}, {self.dataType!r})"


class StructType(DataType):
    """Glue's struct: named fields in order."""

    name = "struct"

    def __init__(self, fields: list[Field] | None = None, properties: dict | None = None) -> None:
        super().__init__(properties)
        self.fields = list(fields or [])
        self.field_map = {f.name: f for f in self.fields}

    def add(self, field: Field) -> None:
        self.fields.append(field)
        self.field_map[field.name] = field

    def hasField(self, field: str | Field) -> bool:  # noqa: N802 - AWS's name
        return (field.name if isinstance(field, Field) else field) in self.field_map

    def getField(self, field: str | Field) -> Field | None:  # noqa: N802 - AWS's name
        return self.field_map.get(field.name if isinstance(field, Field) else field)

    def __iter__(self):  # noqa: ANN204
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __repr__(self) -> str:
        return f"StructType([{', '.join(map(repr, self.fields))}])"


class ChoiceType(DataType):
    """Glue's choice: a field whose values have several types (one Field per type, named
    by the type's name)."""

    name = "choice"

    def __init__(self, choices: list[DataType] | None = None, properties: dict | None = None):
        super().__init__(properties)
        self.choices = {c.typeName(): c for c in (choices or [])}

    def __repr__(self) -> str:
        return f"ChoiceType([{', '.join(self.choices)}])"


EntityType = StructType  # Glue's named struct; the same shape here


def from_spark(spark_type: Any, choices: frozenset[str] = frozenset(), path: str = "") -> DataType:
    """The Glue type of a Spark type; fields at the paths in ``choices`` (a struct of one
    field per candidate type, see ``dynamicframe``) become :class:`ChoiceType`."""
    from pyspark.sql import types as T  # noqa: N812 - pyspark's own convention

    if path in choices and isinstance(spark_type, T.StructType):
        return ChoiceType([from_spark(f.dataType) for f in spark_type.fields])
    if isinstance(spark_type, T.StructType):
        return StructType(
            [
                Field(f.name, from_spark(f.dataType, choices, _join(path, f.name)))
                for f in spark_type.fields
            ]
        )
    if isinstance(spark_type, T.ArrayType):
        return ArrayType(from_spark(spark_type.elementType, choices, path + "[]"))
    if isinstance(spark_type, T.MapType):
        return MapType(from_spark(spark_type.valueType, choices, path))
    if isinstance(spark_type, T.DecimalType):
        return DecimalType(spark_type.precision, spark_type.scale)
    return _SPARK_NAMES.get(spark_type.typeName(), _ATOMIC_TYPES["UnknownType"])()


def _join(path: str, name: str) -> str:
    from awsglue._parsing import format_path, parse_path

    return format_path([*(parse_path(path) if path else []), name])


def schema_lines(schema: StructType) -> list[str]:
    """``printSchema``'s lines, in the layout AWS's examples show (``root``, then
    ``|-- name: type`` nested by ``|    ``)."""
    lines = ["root"]

    def walk(dtype: DataType, depth: int) -> None:
        pad = "|    " * depth
        if isinstance(dtype, StructType):
            for f in dtype.fields:
                lines.append(f"{pad}|-- {f.name}: {f.dataType.typeName()}")
                walk(f.dataType, depth + 1)
        elif isinstance(dtype, ChoiceType):
            for name, choice in dtype.choices.items():
                lines.append(f"{pad}|-- {name}")
                walk(choice, depth + 1)
        elif isinstance(dtype, ArrayType):
            lines.append(f"{pad}|-- element: {dtype.elementType.typeName()}")
            walk(dtype.elementType, depth + 1)
        elif isinstance(dtype, MapType):
            lines.append(f"{pad}|-- keyType: string")
            lines.append(f"{pad}|-- valueType: {dtype.valueType.typeName()}")
            walk(dtype.valueType, depth + 1)

    walk(schema, 0)
    return lines
