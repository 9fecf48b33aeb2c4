"""Request validation as the Glue service does it, read from the botocore model.

One generic walker over shapes checks what the service checks (required members, JSON
types, min/max of strings, lists, maps and numbers, enums, patterns), so no operation has
hand-written rules.  Errors carry a ``kind`` so tests can compare them with botocore's
own ``ParamValidator``, which checks only types, required members and minimums.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import botocore.model

# Kinds of problems.  "type" is a serialisation problem (the service answers
# SerializationException); the others are constraint violations (ValidationException).
KINDS = ("type", "required", "min", "max", "size", "enum", "pattern")


@dataclass(frozen=True)
class Problem:
    """One violation: where it is, what kind, and the AWS-style sentence for it."""

    path: str
    kind: str
    message: str


_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _join_pair(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return "\\U%08X" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a model pattern for Python's ``re``.

    The model writes astral ranges in Java's UTF-16 style (``\\uD800\\uDC00-\\uDBFF\\uDFFF``),
    which ``re`` reads as lone surrogates and rejects as a bad range; such pairs become the
    code point they encode.  A pattern that still does not compile is skipped (None) rather
    than turning a client request into a server error.
    """
    try:
        return re.compile(_SURROGATE_PAIR.sub(_join_pair, pattern))
    except re.error:
        return None


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


_JSON_TYPES = {
    "string": (str,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
}


def _type_ok(value: Any, type_name: str) -> bool:
    allowed = _JSON_TYPES.get(type_name)
    if allowed is None:  # documents and anything newer: accept any JSON
        return True
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


class _Walker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, kind: str, message: str) -> None:
        self.problems.append(Problem(path, kind, message))

    def walk(self, value: Any, shape: botocore.model.Shape, path: str) -> None:
        type_name = shape.type_name
        if not _type_ok(value, type_name):
            self.add(
                path,
                "type",
                f"Value '{_show(value)}' at '{path}' is not a valid {type_name}",
            )
            return
        meta = shape.metadata
        if type_name == "structure":
            self._structure(value, shape, path)
        elif type_name == "list":
            self._bounds(value, len(value), meta, path, "length", "min", "max")
            for index, item in enumerate(value, 1):
                if item is not None:
                    self.walk(item, shape.member, f"{path}.{index}.member")
        elif type_name == "map":
            self._bounds(value, len(value), meta, path, "length", "size", "size")
            for key, item in value.items():
                where = f"{path}.{_one_line(key)}"  # a key is the user's text too
                self.walk(key, shape.key, f"{where}.key")
                if item is not None:
                    self.walk(item, shape.value, f"{where}.value")
        elif type_name == "string":
            self._bounds(value, len(value), meta, path, "length", "min", "max")
            enum = meta.get("enum")
            if enum and value not in enum:
                self.add(
                    path,
                    "enum",
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(enum)}]",
                )
            pattern = meta.get("pattern")
            compiled = compile_pattern(pattern) if pattern else None
            if compiled is not None and compiled.fullmatch(value) is None:
                self.add(
                    path,
                    "pattern",
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}",
                )
        elif type_name in ("integer", "long", "double", "float"):
            self._bounds(value, value, meta, path, "value", "min", "max")

    def _structure(self, value: dict[str, Any], shape: Any, path: str) -> None:
        prefix = f"{path}." if path else ""
        for name in shape.required_members:
            if value.get(name) is None:
                where = prefix + _camel(name)
                self.add(
                    where,
                    "required",
                    f"Value null at '{where}' failed to satisfy constraint: "
                    "Member must not be null",
                )
        # Unknown members are ignored, as the service's JSON reader does.
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                self.walk(item, member, prefix + _camel(name))

    def _bounds(
        self, value: Any, size: float, meta: dict[str, Any], path: str, what: str, lo: str, hi: str
    ) -> None:
        shown = _show(value)
        if "min" in meta and size < meta["min"]:
            self.add(
                path,
                lo,
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must have {what} greater than or equal to {meta['min']}",
            )
        if "max" in meta and size > meta["max"]:
            self.add(
                path,
                hi,
                f"Value '{shown}' at '{path}' failed to satisfy constraint: "
                f"Member must have {what} less than or equal to {meta['max']}",
            )


def problems(body: Any, shape: botocore.model.Shape | None) -> list[Problem]:
    """Every violation of ``shape`` in the decoded JSON ``body``, in walk order."""
    if shape is None:
        return []
    walker = _Walker()
    walker.walk(body, shape, "")
    return walker.problems


def summary(found: list[Problem]) -> tuple[str, str] | None:
    """The service's answer for ``found``: (error code, message), or None when valid.

    Type errors win: the service fails to deserialise before it checks constraints.
    """
    if not found:
        return None
    typed = [p for p in found if p.kind == "type"]
    if typed:
        return "SerializationException", typed[0].message
    count = len(found)
    noun = "error" if count == 1 else "errors"
    detail = "; ".join(p.message for p in found)
    return "ValidationException", f"{count} validation {noun} detected: {detail}"
