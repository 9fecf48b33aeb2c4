"""Request validation as the Glue service does it, read from the botocore model.

:func:`glue_magics.shapes.walk`, the one walker over shapes, finds what the service checks
(required members, JSON types, min/max of strings, lists, maps and numbers, enums,
patterns), so no operation has hand-written rules; here its problems are phrased as the
service phrases them.  Errors carry a ``kind`` so tests can compare them with botocore's
own ``ParamValidator``, which checks only types, required members and minimums.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glue_magics import shapes
from glue_magics.local.exceptions import ServiceError

if TYPE_CHECKING:
    import botocore.model

# Kinds of problems.  "type" is a serialisation problem (the service answers
# SerializationException); the others are constraint violations (ValidationException).
# A map's min and max are its "size".
KINDS = ("type", "required", "min", "max", "size", "enum", "pattern")


@dataclass(frozen=True)
class Violation:
    """One problem as the service words it: where (its dotted path), what kind, the sentence."""

    path: str
    kind: str
    message: str


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


# Characters that end a line (str.splitlines) or are invisible controls: shown escaped.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    """``text`` with control and line-break characters escaped as Python writes them
    (``\\n``), so a message that quotes a user's value stays one line."""
    return _LINE_BREAKING.sub(lambda m: repr(m.group())[1:-1], text)


def _show(value: Any) -> str:
    text = _one_line(str(value))
    return text if len(text) <= 200 else text[:200] + "..."


def _where(shape: botocore.model.Shape, path: tuple[str | int, ...], key: bool = False) -> str:
    """The service's name of a location: camelCase members, ``.N.member`` list items
    (from 1), ``.KEY.value`` map values and ``.KEY.key`` map keys."""
    text = ""
    for position, step in enumerate(path, 1):
        if shape.type_name == "structure":
            text = f"{text}.{_camel(str(step))}" if text else _camel(str(step))
            shape = shape.members[step]
        elif shape.type_name == "list":
            text = f"{text}.{int(step) + 1}.member"
            shape = shape.member
        else:
            # a map key is the user's text too: one line, like every quoted value
            part = "key" if key and position == len(path) else "value"
            text = f"{text}.{_one_line(str(step))}.{part}"
            shape = shape.value
    return text


def _phrase(problem: shapes.Problem, shape: botocore.model.Shape) -> Violation:
    where = _where(shape, problem.path, problem.key)
    kind, limit = problem.kind, problem.limit
    shown = _show(problem.value)
    if kind == "type":
        return Violation(where, kind, f"Value '{shown}' at '{where}' is not a valid {limit}")
    if kind == "required":
        where = f"{where}.{_camel(limit)}" if where else _camel(limit)
        return Violation(
            where,
            kind,
            f"Value null at '{where}' failed to satisfy constraint: Member must not be null",
        )
    if kind in ("min", "max"):
        what = "length" if isinstance(problem.value, (str, list, dict)) else "value"
        than = "greater than" if kind == "min" else "less than"
        rule = f"Member must have {what} {than} or equal to {limit}"
        kind = "size" if isinstance(problem.value, dict) else kind
    elif kind == "enum":
        rule = f"Member must satisfy enum value set: [{', '.join(limit)}]"
    else:
        rule = f"Member must satisfy regular expression pattern: {limit}"
    message = f"Value '{shown}' at '{where}' failed to satisfy constraint: {rule}"
    return Violation(where, kind, message)


def problems(body: Any, shape: botocore.model.Shape | None) -> list[Violation]:
    """Every violation of ``shape`` in the decoded JSON ``body``, in walk order."""
    if shape is None:
        return []
    # This endpoint checks no implicit 32-bit bound (int32): it never has.
    found = (p for p in shapes.walk(body, shape) if p.kind != "int32")
    return [_phrase(p, shape) for p in found]


def summary(found: list[Violation]) -> ServiceError | None:
    """The error the service answers for ``found``, or None when valid.

    Type errors win: the service fails to deserialise before it checks constraints.
    """
    if not found:
        return None
    typed = [p for p in found if p.kind == "type"]
    if typed:
        return ServiceError("SerializationException", typed[0].message)
    count = len(found)
    noun = "error" if count == 1 else "errors"
    detail = "; ".join(p.message for p in found)
    return ServiceError("ValidationException", f"{count} validation {noun} detected: {detail}")
