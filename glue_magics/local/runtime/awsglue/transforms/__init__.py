"""AWS Glue's transforms (``from awsglue.transforms import *``), on DynamicFrame's methods.

Each follows its page in AWS's "AWS Glue PySpark transforms reference".  The transforms not
covered here are still importable and say so in one line when called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection
from awsglue.transforms.transform import GlueTransform, NotCoveredTransform


class ApplyMapping(GlueTransform):
    """Applies (source, source type, target, target type) mappings; unlisted fields drop."""

    def __call__(
        self,
        frame: DynamicFrame,
        mappings: Sequence,
        case_sensitive: bool = False,
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrame:
        return frame.apply_mapping(mappings, case_sensitive=case_sensitive)


class ResolveChoice(GlueTransform):
    """Resolves choice fields: cast, project, make_cols, make_struct."""

    def __call__(
        self,
        frame: DynamicFrame,
        specs: Sequence | None = None,
        choice: str = "",
        database: str | None = None,
        table_name: str | None = None,
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrame:
        return frame.resolveChoice(specs, choice, database=database, table_name=table_name)


class DropNullFields(GlueTransform):
    """Drops the fields that are null (or missing) in every record."""

    def __call__(self, frame: DynamicFrame, transformation_ctx: str = "", **kw: Any):
        from awsglue._columns import F, top

        df = frame.toDF()
        if not df.columns:
            return frame
        f = F()
        counts = df.agg(*[f.count(top(c)).alias(f"c{i}") for i, c in enumerate(df.columns)])
        seen = counts.first()
        empty = [c for i, c in enumerate(df.columns) if seen[f"c{i}"] == 0]
        return frame._new(df.drop(*empty)) if empty else frame


class DropFields(GlueTransform):
    """Drops the fields at the given paths."""

    def __call__(
        self, frame: DynamicFrame, paths: Sequence[str], transformation_ctx: str = "", **kw: Any
    ) -> DynamicFrame:
        return frame.drop_fields(paths)


class SelectFields(GlueTransform):
    """Keeps only the fields at the given paths."""

    def __call__(
        self, frame: DynamicFrame, paths: Sequence[str], transformation_ctx: str = "", **kw: Any
    ) -> DynamicFrame:
        return frame.select_fields(paths)


class RenameField(GlueTransform):
    """Renames the field at old_name to new_name."""

    def __call__(
        self,
        frame: DynamicFrame,
        old_name: str,
        new_name: str,
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrame:
        return frame.rename_field(old_name, new_name)


class Filter(GlueTransform):
    """Keeps the records for which f(record) is true."""

    def __call__(
        self,
        frame: DynamicFrame,
        f: Callable[[dict], bool],
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrame:
        return frame.filter(f)


class Map(GlueTransform):
    """Applies f to every record."""

    def __call__(
        self,
        frame: DynamicFrame,
        f: Callable[[dict], dict],
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrame:
        return frame.map(f)


class Join(GlueTransform):
    """Equality join of two frames on keys, keeping both frames' keys."""

    def __call__(
        self,
        frame1: DynamicFrame,
        frame2: DynamicFrame,
        keys1: Any,
        keys2: Any,
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrame:
        return frame1.join(keys1, keys2, frame2)


class Relationalize(GlueTransform):
    """The root table plus one table per array, linked by id and index."""

    def __call__(
        self,
        frame: DynamicFrame,
        staging_path: str | None = None,
        name: str = "roottable",
        options: Any = None,
        transformation_ctx: str = "",
        **kw: Any,
    ) -> DynamicFrameCollection:
        return frame.relationalize(name, staging_path, options)


class UnnestFrame(GlueTransform):
    """Nested structs' fields as top-level fields named by their dotted paths."""

    def __call__(self, frame: DynamicFrame, transformation_ctx: str = "", **kw: Any):
        return frame.unnest()


class SelectFromCollection(GlueTransform):
    """One frame of a DynamicFrameCollection by its key."""

    def __call__(
        self, dfc: DynamicFrameCollection, key: str, transformation_ctx: str = "", **kw: Any
    ) -> DynamicFrame:
        return dfc.select(key)


def _not_covered(name: str, instead: str) -> type[NotCoveredTransform]:
    return type(name, (NotCoveredTransform,), {"instead": instead, "__doc__": f"{name}: {instead}"})


ErrorsAsDynamicFrame = _not_covered("ErrorsAsDynamicFrame", "local sessions keep no error records")
FillMissingValues = _not_covered("FillMissingValues", "a machine-learning transform of AWS's")
FindMatches = _not_covered("FindMatches", "a machine-learning transform of AWS's")
FindIncrementalMatches = _not_covered("FindIncrementalMatches", "a machine-learning transform")
FlatMap = _not_covered("FlatMap", "use DynamicFrameCollection.map")
MapToCollection = _not_covered("MapToCollection", "use DynamicFrameCollection.map")
Spigot = _not_covered("Spigot", "write a sample with write_dynamic_frame.from_options")
SplitFields = _not_covered("SplitFields", "use select_fields and drop_fields")
SplitRows = _not_covered("SplitRows", "use filter twice")
Unbox = _not_covered("Unbox", "parse the string with from_json on toDF()")

__all__ = [
    "ApplyMapping",
    "DropFields",
    "DropNullFields",
    "ErrorsAsDynamicFrame",
    "FillMissingValues",
    "Filter",
    "FindIncrementalMatches",
    "FindMatches",
    "FlatMap",
    "GlueTransform",
    "Join",
    "Map",
    "MapToCollection",
    "Relationalize",
    "RenameField",
    "ResolveChoice",
    "SelectFields",
    "SelectFromCollection",
    "Spigot",
    "SplitFields",
    "SplitRows",
    "Unbox",
    "UnnestFrame",
]
