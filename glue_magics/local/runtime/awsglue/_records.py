"""Records for ``filter`` and ``map``: a row as the dict AWS's Filter and Map pages pass
to the user's function, and back.

The functions here run in Spark's Python workers, which do not have ``awsglue`` on their
path (it is on the session's path only), so this module is pickled by value.
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable
from typing import Any

_ARRAY = "[]"


def to_record(row: Any, choices: list[list[str]]) -> dict[str, Any]:
    """A Spark Row as a plain dict; a choice field holds its one value (not the struct of
    candidates), as Glue's records hold one typed value each."""
    record = row.asDict(recursive=True) if hasattr(row, "asDict") else dict(row)
    for path in choices:
        _settle(record, path)
    return record


def _settle(node: Any, path: list[str]) -> None:
    if node is None or not path:
        return
    head, rest = path[0], path[1:]
    if head == _ARRAY:
        return
    if not isinstance(node, dict) or head not in node:
        return
    if not rest:
        value = node[head]
        if isinstance(value, dict):
            node[head] = next((v for v in value.values() if v is not None), None)
        return
    if rest[0] == _ARRAY and isinstance(node[head], list):
        for item in node[head]:
            if rest[1:]:
                _settle(item, rest[1:])
        return
    _settle(node[head], rest)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if hasattr(value, "asDict"):
        return value.asDict(recursive=True)
    return str(value)


def predicate(f: Callable[[dict], Any], choices: list[list[str]]) -> Callable[[Any], bool]:
    """The UDF body of ``filter``: the user's predicate on the record."""

    def keep(row):  # no hints: pyspark would read them as a pandas UDF's
        return bool(f(to_record(row, choices)))

    return keep


def mapper(f: Callable[[dict], Any], choices: list[list[str]]) -> Callable[[Any], str | None]:
    """The UDF body of ``map``: the user's function on the record, its result as JSON
    (typed again on the way back, like a JSON source)."""

    def apply(row):  # no hints: pyspark would read them as a pandas UDF's
        result = f(to_record(row, choices))
        if result is None:
            return None
        if not isinstance(result, dict):
            raise TypeError(
                f"the map function returned {type(result).__name__}, not a record (dict)"
            )
        return json.dumps(result, default=_json_default)

    return apply


def register_by_value() -> None:
    """Have cloudpickle ship this module's functions by value to Spark's workers."""
    import sys

    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
