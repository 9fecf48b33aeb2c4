"""AWS Glue's transforms (``from awsglue.transforms import *``), on DynamicFrame's methods.

Each follows its page in AWS's "AWS Glue PySpark transforms reference".  The transforms not
covered here are still importable and say so in one line when called.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        specs: Sequence[tuple[str, str]] | None = None,
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


class _FrameMethod(GlueTransform):
    """A transform that is DynamicFrame's ``method`` on the transform's own arguments,
    given by position or by the keywords AWS's page names (``arguments``)."""

    method = ""
    arguments: tuple[str, ...] = ()

    def __init_subclass__(cls, method: str = "", arguments: tuple[str, ...] = (), **kw: Any):
        super().__init_subclass__(**kw)
        cls.method, cls.arguments = method, arguments

    def __call__(
        self, frame: DynamicFrame, *args: Any, transformation_ctx: str = "", **kw: Any
    ) -> DynamicFrame:
        values = list(args[: len(self.arguments)])
        for name in self.arguments[len(values) :]:
            if name not in kw:
                raise TypeError(f"{type(self).__name__}.apply() is missing {name}=")
            values.append(kw[name])
        return getattr(frame, self.method)(*values)


class DropFields(_FrameMethod, method="drop_fields", arguments=("paths",)):
    """Drops the fields at the given paths."""


class SelectFields(_FrameMethod, method="select_fields", arguments=("paths",)):
    """Keeps only the fields at the given paths."""


class RenameField(_FrameMethod, method="rename_field", arguments=("old_name", "new_name")):
    """Renames the field at old_name to new_name."""


class Filter(_FrameMethod, method="filter", arguments=("f",)):
    """Keeps the records for which f(record) is true."""


class Map(_FrameMethod, method="map", arguments=("f",)):
    """Applies f to every record."""


class UnnestFrame(_FrameMethod, method="unnest"):
    """Nested structs' fields as top-level fields named by their dotted paths."""


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


class SelectFromCollection(GlueTransform):
    """One frame of a DynamicFrameCollection by its key."""

    def __call__(
        self, dfc: DynamicFrameCollection, key: str, transformation_ctx: str = "", **kw: Any
    ) -> DynamicFrame:
        return dfc.select(key)


#: AWS's transforms that local sessions do not have, each with what to use instead: they
#: import as AWS's do, and calling one is a one-line NotCoveredError.
NOT_COVERED = {
    "ErrorsAsDynamicFrame": "local sessions keep no error records",
    "FillMissingValues": "a machine-learning transform of AWS's",
    "FindMatches": "a machine-learning transform of AWS's",
    "FindIncrementalMatches": "a machine-learning transform",
    "FlatMap": "use DynamicFrameCollection.map",
    "MapToCollection": "use DynamicFrameCollection.map",
    "Spigot": "write a sample with write_dynamic_frame.from_options",
    "SplitFields": "use select_fields and drop_fields",
    "SplitRows": "use filter twice",
    "Unbox": "parse the string with from_json on toDF()",
}
globals().update(
    {
        name: type(name, (NotCoveredTransform,), {"instead": why, "__doc__": f"{name}: {why}"})
        for name, why in NOT_COVERED.items()
    }
)

__all__ = [
    "ApplyMapping",
    "DropFields",
    "DropNullFields",
    "Filter",
    "GlueTransform",
    "Join",
    "Map",
    "Relationalize",
    "RenameField",
    "ResolveChoice",
    "SelectFields",
    "SelectFromCollection",
    "UnnestFrame",
    *NOT_COVERED,
]
