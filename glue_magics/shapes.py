"""One walker over botocore shapes: every problem of a value, as data, phrased elsewhere.

The client (:mod:`glue_magics.options`) and the local endpoint
(:mod:`glue_magics.local.validation`) check values against the same botocore model and say
what is wrong in their own words: the client as one line naming the option, the endpoint
as the service's ``ValidationException``.  So the walk is here, once, and yields
:class:`Problem` records (where, what kind, the limit, the value), as botocore's own
``botocore/validate.py`` does with ``ParamValidator`` (the walk) and ``ValidationErrors``
(problems recorded as data, phrased later by ``generate_report``).  Unlike botocore's, this
walk checks what the service checks: maxima, enums and patterns besides types, required
members and minima, and it reads values the way the service's JSON reader does (null is
absent, unknown members are ignored, a boolean is not a number).

No botocore import here: shapes arrive as arguments, so ``%load_ext`` stays light.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import botocore.model

__all__ = ["INT32_MAX", "KINDS", "Problem", "compile_pattern", "walk"]

#: What can be wrong.  ``type``: not the JSON type of the shape (nothing below it is
#: walked); ``required``: a required member is missing or null; ``min``/``max``: a length
#: (strings, lists, maps) or a number beyond the model's bound; ``int32``: an ``integer``
#: whose model states no maximum is beyond 32 bits; ``enum``, ``pattern``: a string the
#: model does not allow.
KINDS = ("type", "required", "min", "max", "int32", "enum", "pattern")

#: The largest value of the model's ``integer`` type (a 32-bit signed integer).
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a value, as data.

    ``path`` locates the value from where the walk began: structure member names, list
    indices (from 0) and map keys.  ``value`` is what stands there; with ``key`` the
    problem is the map key ``path[-1]`` itself (``value`` is then that key).  ``limit`` is
    what the value broke: the shape's type name (``type``), the missing member's name
    (``required``, with ``path`` and ``value`` the structure), the bound (``min``, ``max``,
    ``int32``), the allowed values (``enum``) or the model's pattern text (``pattern``).
    """

    path: tuple[str | int, ...]
    kind: str
    limit: Any
    value: Any
    key: bool = False


_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _join_pair(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return "\\U%08X" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a model pattern for Python's ``re``.

    The model writes astral ranges in Java's UTF-16 style (``\\uD800\\uDC00-\\uDBFF\\uDFFF``),
    which ``re`` reads as lone surrogates and rejects as a bad range; such pairs become the
    code point they encode.  A pattern that still does not compile (Unicode property
    classes such as ``\\p{L}``) is None: not checked here, the service will.
    """
    try:
        return re.compile(_SURROGATE_PAIR.sub(_join_pair, pattern))
    except re.error:
        return None


# The Python types a decoded JSON value may have for each shape type.
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
_NUMBERS = ("integer", "long", "double", "float")


def _type_ok(value: Any, type_name: str) -> bool:
    allowed = _JSON_TYPES.get(type_name)
    if allowed is None:  # documents and anything newer: accept any JSON
        return True
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


def walk(
    value: Any, shape: botocore.model.Shape, path: tuple[str | int, ...] = ()
) -> Iterator[Problem]:
    """Every problem of ``value`` against ``shape``, in order: depth first, members in the
    model's order, a structure's missing members before its present ones.

    Lazy, so a caller that stops at the first problem walks no further.  ``path`` is
    where ``value`` stands in a larger value, to prefix the problems' paths.
    """
    type_name = shape.type_name
    if not _type_ok(value, type_name):
        yield Problem(path, "type", type_name, value)
        return
    meta = shape.metadata
    if type_name == "structure":
        for name in shape.required_members:
            if value.get(name) is None:
                yield Problem(path, "required", name, value)
        # Unknown members are ignored, as the service's JSON reader does.
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                yield from walk(item, member, (*path, name))
    elif type_name == "list":
        yield from _bounds(value, len(value), meta, path)
        for index, item in enumerate(value):
            if item is not None:
                yield from walk(item, shape.member, (*path, index))
    elif type_name == "map":
        yield from _bounds(value, len(value), meta, path)
        for key, item in value.items():
            for problem in walk(key, shape.key, (*path, key)):
                yield replace(problem, key=True)
            if item is not None:
                yield from walk(item, shape.value, (*path, key))
    elif type_name == "string":
        yield from _bounds(value, len(value), meta, path)
        enum = meta.get("enum")
        if enum and value not in enum:
            yield Problem(path, "enum", list(enum), value)
        pattern = meta.get("pattern")
        compiled = compile_pattern(pattern) if pattern else None
        if compiled is not None and compiled.fullmatch(value) is None:
            yield Problem(path, "pattern", pattern, value)
    elif type_name in _NUMBERS:
        yield from _bounds(value, value, meta, path)
        if "max" not in meta and type_name == "integer" and value > INT32_MAX:
            yield Problem(path, "int32", INT32_MAX, value)


def _bounds(
    value: Any, size: float, meta: dict[str, Any], path: tuple[str | int, ...]
) -> Iterator[Problem]:
    """The model's min and max: of a length (strings, lists, maps) or of a number."""
    if "min" in meta and size < meta["min"]:
        yield Problem(path, "min", meta["min"], value)
    if "max" in meta and size > meta["max"]:
        yield Problem(path, "max", meta["max"], value)
