"""One session option's value: read by its kind, checked against the Glue model's shape.

Pure data, no IPython and no network.  The options are the rows of
:data:`glue_magics.specs.SPECS`; here are the lookups in that table and in botocore's
CreateSession input shape (choices, the members a newer botocore adds), the coercion of a
value by the option's ``kind`` (:func:`coerce`), and a value's problems against the shape
(:func:`_check_shape`) as :class:`OptionError`'s one line.  ``options`` merges the
sources, holds the service's own rules and builds the request.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from glue_magics import shapes
from glue_magics.specs import (
    OPTION_NAMES,
    SPECS,
    OptionSpec,
)


class OptionError(ValueError):
    """A user's option is wrong: one line naming the option, the value and the fix."""

    def __init__(self, message: str, option: str | None = None) -> None:
        message = " ".join(str(message).split("\n"))  # one line, always
        super().__init__(message)
        self.option = option


# --------------------------------------------------------------------------- constants
# (the options themselves are glue_magics.specs.SPECS)

SOURCES = ("line", "configure", "config", "env", "profile", "default")
_SESSION_TYPES = {"etl": "glueetl", "streaming": "gluestreaming", "ray": "glueray"}
_COMMAND_TO_TYPE = {v: k for k, v in _SESSION_TYPES.items()}
#: A Spark Connect session: Command.Name glueetl and SessionType SPARK_CONNECT (its other
#: names: the model's value, and the flag's spelling ``spark-connect``).
SPARK_CONNECT = "spark_connect"
_SESSION_TYPES[SPARK_CONNECT] = "glueetl"
_MAX_SHOWN = 60

_BY_NAME: dict[str, OptionSpec] = {s.name: s for s in SPECS}
_BY_ARG: dict[str, OptionSpec] = {s.arg: s for s in SPECS if s.arg}


# --------------------------------------------------------------------------- helpers


def _show(value: Any) -> str:
    """A value as it appears in a message: strings quoted, one line, not too long."""
    if isinstance(value, str):
        text = repr(value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "...")
    elif isinstance(value, float) and value.is_integer() and math.isfinite(value):
        text = str(int(value)) if abs(value) < 1e15 else repr(value)
    elif isinstance(value, (bool, int, float)) or value is None:
        text = json.dumps(value) if not isinstance(value, float) else repr(value)
    else:
        text = json.dumps(value, default=str, ensure_ascii=True)
        if len(text) > _MAX_SHOWN:
            text = text[:_MAX_SHOWN] + "..."
    return text.replace("\n", "\\n")


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for a misspelt key or flag, else ``""``."""
    choices = list(dict.fromkeys(str(c) for c in choices))
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if not match:  # case and -/_ differences are common: compare normalised forms too
        norm = {c.lower().replace("-", "_").strip("_"): c for c in choices}
        key = str(word).lower().replace("-", "_").strip("_")
        close = difflib.get_close_matches(key, list(norm), n=1, cutoff=0.6)
        match = [norm[close[0]]] if close else []
    return f"; did you mean {match[0]}?" if match else ""


def _arg_key(key: str) -> str:
    key = key.strip()
    return key if key.startswith("--") else f"--{key}"


def _split_kv(text: str, name: str, sep: str = ",") -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(sep):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            spec = _BY_NAME.get(name)
            example = spec.example if spec else "key=value"
            raise OptionError(
                f"{name} {_show(part.strip())} is not KEY=VALUE; write e.g. {example}", name
            )
        out[key.strip()] = value.strip()
    return out


def _split_conf(text: str, name: str = "spark_conf") -> dict[str, str]:
    """Glue's --conf form ``k1=v1 --conf k2=v2`` (a leading ``--conf`` is allowed)."""
    parts = re.split(r"(?:^|\s+)--conf(?:\s+|$)", text.strip())
    return _split_kv("\x00".join(p for p in parts if p.strip()), name, sep="\x00")


def _join_conf(conf: Mapping[str, str]) -> str:
    return " --conf ".join(f"{k}={v}" for k, v in conf.items())


def _scalar_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    raise OptionError(f"{name} value {_show(value)} is not text, a number or true/false", name)


# --------------------------------------------------------------------------- the model


_SHAPE: ContextVar[Any] = ContextVar("glue_magics_create_session_shape", default=None)


@functools.lru_cache(maxsize=1)
def _model_input_shape() -> Any:
    from glue_magics.model import operation

    return operation("CreateSession").input_shape


def _input_shape() -> Any:
    return _SHAPE.get() or _model_input_shape()


@contextmanager
def using_input_shape(shape: Any) -> Iterator[None]:
    """Validate against another CreateSession input shape (e.g. a newer botocore model).

    Within the block every parser and :meth:`SessionOptions.resolve` read ``shape``; the
    options it resolves keep it for :meth:`SessionOptions.request`.
    """
    token = _SHAPE.set(shape)
    try:
        yield
    finally:
        _SHAPE.reset(token)


def _extra_specs() -> tuple[OptionSpec, ...]:
    return _extra_specs_of(_input_shape())


@functools.lru_cache(maxsize=4)
def _extra_specs_of(input_shape: Any) -> tuple[OptionSpec, ...]:
    """Specs for request members our table does not know: settable by PascalCase name."""
    known = {s.path[0] for s in SPECS if s.path} | {m for s in SPECS for m in s.members}
    kinds = {
        "string": "str",
        "integer": "int",
        "long": "int",
        "double": "float",
        "float": "float",
        "boolean": "bool",
        "list": "list",
        "map": "dict",
    }
    extras = []
    for member, shape in input_shape.members.items():
        if member in known:
            continue
        kind = kinds.get(shape.type_name, "json")
        if kind == "list" and shape.member.type_name != "string":
            kind = "json"
        if kind == "dict" and shape.value.type_name != "string":
            kind = "json"
        extras.append(OptionSpec(member, kind, (member,), example="...", help=f"{member}."))
    return tuple(extras)


def extra_member_names() -> tuple[str, ...]:
    """CreateSession members botocore's model has and our table does not (PascalCase)."""
    return tuple(s.name for s in _extra_specs())


def _spec(name: str) -> OptionSpec | None:
    spec = _BY_NAME.get(name)
    if spec is None:
        spec = next((s for s in _extra_specs() if s.name == name), None)
    return spec


def _all_specs() -> tuple[OptionSpec, ...]:
    return SPECS + _extra_specs()


def _shape_at(path: Sequence[str]) -> Any:
    shape = _input_shape()
    for part in path:
        shape = shape.members[part]
    return shape


def choices(spec: OptionSpec) -> list[str]:
    """The values botocore's model allows an option (its member's enum; none if it names none)."""
    return _enum(spec.path)


def _enum(path: Sequence[str] | None) -> list[str]:
    if not path:
        return []
    try:
        return list(getattr(_shape_at(path), "enum", []) or [])
    except KeyError:
        return []


# --------------------------------------------------------------------------- coercion


def _coerce(spec: OptionSpec, value: Any) -> Any:
    """One value to the spec's type; strings from flags, env and profiles are parsed."""
    name, kind = spec.name, spec.kind
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise OptionError(f"{name} {_show(value)} is not text; give e.g. {spec.example}", name)
        if isinstance(value, float) and not math.isfinite(value):
            raise OptionError(f"{name} {_show(value)} is not text; give e.g. {spec.example}", name)
        text = str(value)
        text = text if name == "description" else text.strip()
        if name == "session_type":
            low = text.lower().replace("-", "_")
            low = _COMMAND_TO_TYPE.get(low, "etl" if low == "livy" else low)  # SessionType's
            if low not in _SESSION_TYPES:
                raise OptionError(
                    f"session_type {_show(text)} is not a session type; "
                    f"choose one of {', '.join(_SESSION_TYPES)}",
                    name,
                )
            return low
        enum = _enum(spec.path)
        if enum and text not in enum:
            folded = {e.lower(): e for e in enum}
            text = folded.get(text.lower(), text)
        return text
    if kind == "int":
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]{1,30}\s*", value):
            return int(value)
        raise OptionError(
            f"{name} {_show(value)} is not a whole number; give e.g. {spec.example}", name
        )
    if kind == "float":
        number: float | None = None
        if isinstance(value, bool):
            pass
        elif isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9.eE+-]{1,40}\s*", value):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            raise OptionError(
                f"{name} {_show(value)} is not a number; give e.g. {spec.example}", name
            )
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise OptionError(f"{name} {_show(value)} is not true or false", name)
    if kind == "list":
        if isinstance(value, Mapping) and set(value) == {spec.path[-1] if spec.path else ""}:
            value = value[spec.path[-1]]  # {"Connections": [...]} as in the request
        if isinstance(value, str):
            items = value.split(",")
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise OptionError(
                f"{name} {_show(value)} is not a list; give e.g. {spec.example},other", name
            )
        out = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise OptionError(f"{name} item {_show(item)} is not a name", name)
            if str(item).strip():
                out.append(str(item).strip())
        return out
    if kind == "args":
        if isinstance(value, (list, tuple)):
            parts = [_scalar_text(name, v).strip() for v in value]
            return ",".join(p for p in parts if p)
        if isinstance(value, str):
            return value.strip()
        raise OptionError(f"{name} {_show(value)} is not text; give e.g. {spec.example}", name)
    if kind == "dict":
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise OptionError(
                        f"{name} {_show(value)} is not a JSON object ({exc.msg}); "
                        f"write e.g. {spec.example}",
                        name,
                    ) from None
            elif name == "spark_conf":
                value = _split_conf(text)
            else:
                value = _split_kv(text, name)
        if not isinstance(value, Mapping):
            raise OptionError(
                f"{name} {_show(value)} is not a mapping; write e.g. {spec.example}", name
            )
        out_map: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip():
                raise OptionError(f"{name} key {_show(key)} is empty or not text", name)
            key = _arg_key(key) if name == "default_arguments" else key.strip()
            out_map[key] = _scalar_text(name, item)
        return out_map
    if kind == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise OptionError(f"{name} {_show(value)} is not JSON ({exc.msg})", name) from None
        return value
    raise AssertionError(f"unknown kind {kind!r} of option {name}")  # a bug of ours


def coerce(name: str, value: Any) -> Any:
    """One option's value from user text (as a flag or the environment gives it).

    For magics that set a single option, such as AWS's Glue kernel's ``%worker_type G.2X``:
    the value is checked against the model as far as it stands alone (enum, range, pattern).
    """
    value = _coerce_layer("line", {name: value})[name]
    spec = _spec(name)
    if spec is not None and spec.path and spec.path[0] != "Command":  # Command: coerced above
        _check_shape(value, _shape_at(spec.path), spec.path)
    return value


def _coerce_layer(source: str, layer: Mapping[str, Any]) -> dict[str, Any]:
    """Coerce one source's values; job arguments owned by an option move to that option."""
    out: dict[str, Any] = {}
    for key, value in layer.items():
        if value is None:
            continue
        spec = _spec(key)
        if spec is None:
            accepted = [*OPTION_NAMES, *extra_member_names()]
            raise OptionError(
                f"{key} is not a session option ({source}){suggest(key, accepted)}", key
            )
        out[spec.name] = _coerce(spec, value)
    args = out.get("default_arguments")
    if args:
        for key in [k for k in args if k in _BY_ARG]:
            owner = _BY_ARG[key]
            moved = _coerce(owner, args.pop(key))
            if owner.kind == "dict":
                out[owner.name] = {**moved, **out.get(owner.name, {})}
            else:
                out.setdefault(owner.name, moved)
    return out


def _option_of(path: Sequence[str | int]) -> str:
    """The option a request location came from, for messages (list indices aside)."""
    path = [p for p in path if not isinstance(p, int)]
    if path and path[0] == "DefaultArguments" and len(path) > 1 and path[1] in _BY_ARG:
        return _BY_ARG[path[1]].name
    for spec in _all_specs():
        if spec.path and tuple(path[: len(spec.path)]) == spec.path:
            return spec.name
    return ".".join(path)


def _check_shape(value: Any, shape: Any, path: tuple[str, ...], name: str = "") -> None:
    """What the model says about one request value: lengths, ranges, patterns, enums.

    Raises the first problem :func:`shapes.walk` finds, in our words (``name`` names the
    value at ``path`` itself).  Types and required members are botocore's
    ``validate_parameters``' to report: :func:`_validate_request` runs it next.
    """
    for problem in shapes.walk(value, shape, path):
        if problem.kind not in ("type", "required"):
            raise _phrase(problem, name if problem.path == path and not problem.key else "")


def _phrase(problem: shapes.Problem, name: str = "") -> OptionError:
    """One problem of the walk as the option's one-line message."""
    path, kind, limit, value = problem.path, problem.kind, problem.limit, problem.value
    name = name or _option_of(path[:-1] if problem.key else path)
    where = f"{name} key" if problem.key else name
    if isinstance(value, str):
        if kind == "min":
            plural = "s" if limit != 1 else ""
            text = f"is shorter than the minimum of {limit} character{plural}"
        elif kind == "max":
            text = f"is {len(value)} characters, above the maximum of {limit}; shorten it"
        elif kind == "enum":
            label = "a Glue worker type" if name == "worker_type" else f"a valid {name}"
            text = f"is not {label}; choose one of {', '.join(sorted(limit))}"
        else:
            text = f"does not match the pattern the Glue API requires ({limit})"
        return OptionError(f"{where} {_show(value)} {text}", name)
    if isinstance(value, (list, dict)):
        noun = "items" if isinstance(value, list) else "entries"
        if kind == "min":
            return OptionError(f"{name} has {len(value)} {noun}, fewer than {limit}", name)
        counting = ""
        if path == ("DefaultArguments",):
            ours = sorted({_BY_ARG[k].name for k in value if k in _BY_ARG})
            counting = f" counting {' and '.join(ours)}" if ours else ""
        return OptionError(
            f"{name} has {len(value)} {noun}{counting}; the Glue API allows at most {limit}", name
        )
    if kind == "min":
        unit = _spec(name).unit if _spec(name) else ""
        plural = "s" if unit and limit != 1 else ""
        suffix = f" {unit}{plural}" if unit else ""
        return OptionError(f"{name} {_show(value)} is below the minimum of {limit}{suffix}", name)
    return OptionError(f"{name} {_show(value)} is above the maximum of {limit}", name)  # or int32
