"""Session options: merge sources, validate against the Glue model, build the request.

Pure data, no IPython and no network.  The options and every name users give them come
from the one table, :data:`glue_magics.specs.SPECS`; this module reads values by each
option's ``kind``, puts them where the request wants them, and holds the service's rules
the model does not state (:func:`_rules`).  Everything the Glue API itself says about
CreateSession (enums, lengths, patterns, map sizes) is read from botocore's service model
at run time, so a new worker type or a new request member arrives with a botocore upgrade,
not with an edit here.

Sources, highest first: ``line`` (``%glue_session`` flags), ``configure`` (``%%configure``),
``config`` (traitlets), ``env``, ``profile`` (the AWS config profile's ``glue_*`` keys),
``default``.  :meth:`SessionOptions.resolve` merges them per option (dicts per key),
coerces, validates and raises :class:`OptionError`, a one-line message, on anything wrong.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from glue_magics import shapes
from glue_magics.cost import DPU_HOUR_PRICE, Cost, billed_dpus
from glue_magics.specs import (
    DEFAULTS,
    FLAGS,
    OPTION_NAMES,
    ROLE_EXAMPLE,
    SPECS,
    OptionSpec,
    configure_keys,
    env_names,
)

__all__ = [
    "OptionError",
    "SessionOptions",
    "account_id_from_env",
    "choices",
    "coerce",
    "dry_run_text",
    "extra_member_names",
    "from_env",
    "from_profile",
    "parse_configure",
    "parse_line_flags",
    "suggest",
    "using_input_shape",
]


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
_WORKER_MIN_GLUE = {"G.4X": (3, 0), "G.8X": (3, 0)}
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


# --------------------------------------------------------------------------- sources


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Options from environment variables (strings; coerced and validated by ``resolve``)."""
    out: dict[str, Any] = {}
    for spec in SPECS:
        for env in env_names(spec):
            value = environ.get(env)
            if value is not None and value.strip():
                out[spec.name] = value
                break
    return out


def account_id_from_env(environ: Mapping[str, str]) -> str | None:
    """The account id given explicitly (``GLUE_ACCOUNT_ID`` or ``AWS_ACCOUNT_ID``), if any."""
    for name in ("GLUE_ACCOUNT_ID", "AWS_ACCOUNT_ID", "glue_account_id"):
        if environ.get(name, "").strip():
            return environ[name].strip()
    return None


def from_profile(profile: str | None, config_file: str | None = None) -> dict[str, Any]:
    """The ``glue_*`` keys of an AWS config profile, read from the file only (no network).

    A missing profile or file means no values.  ``config_file`` overrides
    ``AWS_CONFIG_FILE``/``~/.aws/config`` (tests pass a temporary one).
    """
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=profile or None)
    if config_file is not None:
        session.set_config_variable("config_file", config_file)
    try:
        scoped = session.get_scoped_config()
    except botocore.exceptions.ProfileNotFound:
        return {}
    except botocore.exceptions.ConfigParseError as exc:
        raise OptionError(f"profile {_show(profile)} cannot be read: {exc}", "profile") from None
    out: dict[str, Any] = {}
    for spec in SPECS:
        if spec.name == "profile":
            continue
        for key in env_names(spec):
            value = scoped.get(key.lower())
            if isinstance(value, str) and value.strip():
                out[spec.name] = value
                break
    return out


def _configure_keys() -> dict[str, str]:
    """Every %%configure key -> canonical name (or extra PascalCase member)."""
    return {**configure_keys(), **{spec.name: spec.name for spec in _extra_specs()}}


def parse_configure(body: str) -> dict[str, Any]:
    """The ``%%configure`` cell: a JSON object -> canonical option names and raw values.

    Accepts our names, the snake_case names of AWS's Glue kernel, the API's PascalCase
    names (``Command`` splits into session_type/python_version) and ``--key`` job arguments.
    """
    if not body or not body.strip():
        raise OptionError(
            '%%configure body is empty; give a JSON object, e.g. {"worker_type": "G.2X"}'
        )
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise OptionError(
            f"%%configure body is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from None
    except RecursionError:
        raise OptionError("%%configure body is nested too deeply to read") from None
    if not isinstance(data, dict):
        raise OptionError(
            f'%%configure body must be a JSON object like {{"worker_type": "G.2X"}}, '
            f"not a {type(data).__name__}"
        )
    keys = _configure_keys()
    out: dict[str, Any] = {}
    given_as: dict[str, str] = {}

    def put(name: str, value: Any, key: str) -> None:
        if name in given_as:
            raise OptionError(
                f"%%configure gives {name} twice ({given_as[name]} and {key}); keep one", name
            )
        given_as[name] = key
        out[name] = value

    job_args: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key.startswith("--"):
            job_args[key] = value
        elif key == "Command":
            if not isinstance(value, dict) or not set(value) <= {"Name", "PythonVersion"}:
                raise OptionError(
                    f"Command {_show(value)} is not an object with Name and PythonVersion; "
                    'write e.g. {"Name": "glueetl", "PythonVersion": "3"}',
                    "session_type",
                )
            if value.get("Name") is not None:
                put("session_type", value["Name"], "Command.Name")
            if value.get("PythonVersion") is not None:
                put("python_version", value["PythonVersion"], "Command.PythonVersion")
        elif key in keys:
            put(keys[key], value, key)
        else:
            raise OptionError(
                f"%%configure key {_show(key)} is not a session option"
                f"{suggest(key, [k for k in keys if not k.startswith('-')])}",
                key,
            )
    if job_args:
        base = out.get("default_arguments", {})
        if not isinstance(base, dict):
            raise OptionError(
                f"default_arguments {_show(base)} is not a JSON object; "
                'write e.g. {"--enable-metrics": "true"}',
                "default_arguments",
            )
        out["default_arguments"] = {**base, **job_args}
    return out


def _kv_flag(spec: OptionSpec, items: Any) -> dict[str, str]:
    """The values of a repeatable ``--tag KEY=VALUE`` flag: split at the first ``=``."""
    flag = f"--{(spec.flag or spec.name).replace('_', '-')}"
    if isinstance(items, str):
        items = [items]
    out: dict[str, str] = {}
    for item in items:
        key, eq, value = str(item).partition("=")
        if not eq or not key.strip():
            raise OptionError(
                f"{flag} {_show(str(item))} is not KEY=VALUE; write e.g. {flag} {spec.example}",
                spec.name,
            )
        out[key.strip()] = value
    return out


def parse_line_flags(ns: Mapping[str, Any]) -> dict[str, Any]:
    """The option flags of ``%glue_session`` (argparse dests) -> canonical options.

    ``None`` is a flag not given.  Only option flags: a dest the table does not know is a
    bug of the caller's (``TypeError``), not a user's error.
    """
    out: dict[str, Any] = {}
    for dest, value in ns.items():
        spec = FLAGS.get(dest)
        if spec is None:
            raise TypeError(f"{dest!r} is not the flag of a session option (glue_magics.specs)")
        if value is None:
            continue
        if spec.kind == "dict":
            if value:
                out[spec.name] = _kv_flag(spec, value)
            continue
        out[spec.name] = value
    return out


# --------------------------------------------------------------------------- validation


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    if len(parts) < 2 or not all(re.fullmatch(r"[0-9]{1,9}", p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


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


def _fail(option: str, message: str) -> OptionError:
    return OptionError(message, option)


def _complete_role(role: str, account_id: str | None, region: str | None) -> str:
    if role.startswith("arn:"):
        return role
    if not re.fullmatch(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", role, re.ASCII):
        raise _fail(
            "role",
            f"role {_show(role)} is not an IAM role ARN; give the full ARN, e.g. {ROLE_EXAMPLE}",
        )
    if account_id is None:
        raise _fail(
            "role",
            f"role {_show(role)} is a role name, not an ARN; give the full ARN, e.g. "
            f"arn:aws:iam::123456789012:role/{role} (or set GLUE_ACCOUNT_ID to complete it)",
        )
    if not re.fullmatch(r"[0-9]{12}", account_id):
        raise _fail(
            "role",
            f"role {_show(role)} cannot be completed: account id {_show(account_id)} is not "
            "12 digits; give the full role ARN",
        )
    partition = "aws"
    if region and region.startswith("cn-"):
        partition = "aws-cn"
    elif region and region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def _rules(
    values: dict[str, Any], sources: dict[str, str], rank: dict[str, int], account_id: str | None
) -> None:
    """The service's rules the model does not state; adjusts defaulted values in place."""
    defaulted = {n for n, s in sources.items() if s == "default"}
    # Ray runs on Z.2X: a defaulted worker type follows the session type.
    if values.get("session_type") == "ray" and "worker_type" in defaulted:
        values["worker_type"] = "Z.2X"
    # A Spark Connect session needs Glue 5.1: a defaulted version follows the session type.
    if values.get("session_type") == SPARK_CONNECT and "glue_version" in defaulted:
        from glue_magics.session_types import SPARK_CONNECT_MIN_VERSION

        values["glue_version"] = SPARK_CONNECT_MIN_VERSION
    # A defaulted idle timeout never exceeds an explicit timeout.
    if "timeout" in values and "idle_timeout" in defaulted:
        values["idle_timeout"] = min(values["idle_timeout"], values["timeout"])
    # MaxCapacity or WorkerType+NumberOfWorkers: the higher source wins, defaults yield.
    if "max_capacity" in values:
        workers = [n for n in ("worker_type", "number_of_workers") if n in values]
        explicit = [n for n in workers if n not in defaulted]
        best = min((rank[n] for n in explicit), default=None)
        if best is None or rank["max_capacity"] < best:
            for n in workers:
                values.pop(n)
                sources.pop(n)
        elif best < rank["max_capacity"]:
            values.pop("max_capacity")
            sources.pop("max_capacity")
        else:
            raise _fail(
                "max_capacity",
                f"max_capacity {_show(values['max_capacity'])} cannot be combined with "
                f"{' and '.join(explicit)} from the same source ({sources['max_capacity']}); "
                "give either max_capacity or worker_type and number_of_workers",
            )
    if "role" not in values:
        raise _fail(
            "role",
            "role is not set; give it with %glue_session --role arn:aws:iam::<account>:role/"
            "<name>, %config GlueMagics.role = '<arn>', or the GLUE_ROLE_ARN environment variable",
        )
    if isinstance(values["role"], str):
        values["role"] = _complete_role(values["role"], account_id, values.get("region"))
    if "max_capacity" in values and not values["max_capacity"] > 0:
        raise _fail(
            "max_capacity",
            f"max_capacity {_show(values['max_capacity'])} is not above 0; give e.g. 10",
        )
    if "number_of_workers" in values and values["number_of_workers"] < 1:
        raise _fail(
            "number_of_workers",
            f"number_of_workers {_show(values['number_of_workers'])} is below the minimum of 1; "
            "give e.g. 5",
        )
    for name in ("timeout", "idle_timeout"):
        if name in values and values[name] < 1:
            raise _fail(name, f"{name} {_show(values[name])} is below the minimum of 1 minute")
    if "timeout" in values and "idle_timeout" in values:
        if values["idle_timeout"] > values["timeout"]:
            raise _fail(
                "idle_timeout",
                f"idle_timeout {values['idle_timeout']} is above timeout {values['timeout']}; "
                "lower idle_timeout or raise timeout",
            )
    worker = values.get("worker_type")
    if worker is not None:
        enum = _enum(("WorkerType",))
        if enum and worker not in enum:
            raise _fail(
                "worker_type",
                f"worker_type {_show(worker)} is not a Glue worker type; "
                f"choose one of {', '.join(sorted(enum))}",
            )
    session_type = values.get("session_type", "etl")
    is_ray_worker = isinstance(worker, str) and worker.startswith("Z.")
    if is_ray_worker and session_type != "ray":
        raise _fail(
            "worker_type",
            f"worker_type {_show(worker)} is only for Ray sessions; set session_type ray or "
            "choose a G worker type, e.g. G.1X",
        )
    if session_type == "ray" and not is_ray_worker:
        shown = _show(worker) if worker else "none (max_capacity)"
        raise _fail(
            "session_type",
            f"session_type 'ray' needs worker_type Z.2X and number_of_workers, not worker_type "
            f"{shown}; set worker_type Z.2X",
        )
    version_text = values.get("glue_version")
    if version_text is not None:
        version = _version(version_text)
        pattern = shapes.compile_pattern(_shape_at(("GlueVersion",)).metadata.get("pattern", ""))
        word = "." not in version_text
        if version is None and word and pattern is not None and pattern.fullmatch(version_text):
            version = (math.inf,)  # a word the model accepts ("auto": the service picks)
        if version is None:
            raise _fail(
                "glue_version",
                f"glue_version {_show(version_text)} is not a Glue version; give e.g. 5.0",
            )
        needed = _WORKER_MIN_GLUE.get(worker or "")
        if needed and version < needed:
            raise _fail(
                "worker_type",
                f"worker_type {_show(worker)} needs glue_version "
                f"{'.'.join(map(str, needed))} or later, not {version_text}; "
                "raise glue_version or choose G.1X or G.2X",
            )
        if version <= (2, 0):
            raise _fail(
                "glue_version",
                f"glue_version {_show(version_text)} is not supported by interactive sessions; "
                "it must be greater than 2.0, e.g. 5.0",
            )
    _language_rules(values, session_type)
    if session_type == SPARK_CONNECT:
        _spark_connect_rules(values)
    prefix = values.get("id_prefix")
    if prefix is not None:
        room = _shape_at(("Id",)).metadata.get("max", 255) - 33
        if len(prefix) > room:
            raise _fail(
                "id_prefix",
                f"id_prefix {_show(prefix)} is {len(prefix)} characters; at most {room} fit "
                "in a session id",
            )
        _check_shape(prefix, _shape_at(("Id",)), ("Id",), name="id_prefix")
    endpoint = values.get("endpoint_url")
    if endpoint is not None and endpoint != "local":
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", endpoint):
            raise _fail(
                "endpoint_url",
                f"endpoint_url {_show(endpoint)} is not an http(s) URL; give e.g. "
                "http://127.0.0.1:8998 or 'local'",
            )
    region = values.get("region")
    if region is not None and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", region):
        raise _fail(
            "region", f"region {_show(region)} is not an AWS region name; give e.g. us-east-1"
        )


#: The languages of a Glue session's statements: DefaultArguments "--session-language"
#: (AWS's Glue Spark kernel sends "scala", aws-glue-sessions 1.0.9 glue_spark/GlueKernel.py).
SESSION_LANGUAGES = ("python", "scala")


def session_language(default_arguments: Mapping[str, Any] | None) -> str:
    """A session's language from its DefaultArguments: python unless they say scala."""
    value = str((default_arguments or {}).get("--session-language", "python"))
    return value.strip().lower() or "python"


def _language_rules(values: dict[str, Any], session_type: str) -> None:
    """session_language is python or scala; Scala is for etl and streaming sessions only:
    "Spark Connect ... Python only" (AWS docs, interactive-sessions-spark-connect), Ray is
    Python, and streaming sessions take Scala (the Glue Spark kernel's %streaming)."""
    language = values.get("session_language")
    if language is None:
        return
    low = language.strip().lower()
    if low not in SESSION_LANGUAGES:
        raise _fail(
            "session_language",
            f"session_language {_show(language)} is not a session language; "
            f"choose one of {', '.join(SESSION_LANGUAGES)}",
        )
    values["session_language"] = low
    if low == "scala" and session_type not in ("etl", "streaming"):
        raise _fail(
            "session_language",
            f"session_language 'scala' is not available for session_type {_show(session_type)}"
            " (Scala sessions are etl or streaming); use session_type etl or a Python session",
        )


def _spark_connect_rules(values: Mapping[str, Any]) -> None:
    """AWS's documented limits of a Spark Connect session (``glue_magics.session_types``,
    which the local endpoint checks too)."""
    _spark_connect_version(values.get("glue_version"))
    _spark_connect_no_fgac(values.get("default_arguments") or {})
    _spark_connect_region(values.get("region"), values.get("endpoint_url"))


def _spark_connect_version(version_text: str | None) -> None:
    """ "available for AWS Glue interactive sessions running AWS Glue version 5.1 and later"."""
    from glue_magics.session_types import SPARK_CONNECT_MIN_VERSION, version_tuple

    version = _version(version_text) if version_text else None
    if version is not None and version < version_tuple(SPARK_CONNECT_MIN_VERSION):
        raise _fail(
            "glue_version",
            f"session_type 'spark_connect' needs glue_version {SPARK_CONNECT_MIN_VERSION} or "
            f"later, not {version_text}; set glue_version {SPARK_CONNECT_MIN_VERSION}",
        )


def _spark_connect_no_fgac(args: Mapping[str, str]) -> None:
    """ "Fine-grained access control through Lake Formation is not supported"."""
    from glue_magics.session_types import LAKE_FORMATION_FGAC

    if str(args.get(LAKE_FORMATION_FGAC, "")).strip().lower() == "true":
        raise _fail(
            "default_arguments",
            f"session_type 'spark_connect' does not support Lake Formation fine-grained "
            f"access ({LAKE_FORMATION_FGAC} true); remove it or use session_type etl",
        )


def _spark_connect_region(region: str | None, endpoint_url: str | None) -> None:
    """ "Region availability" (AWS's own endpoints only: another says for itself)."""
    from glue_magics.session_types import SPARK_CONNECT_REGIONS

    if region is None or endpoint_url is not None or region in SPARK_CONNECT_REGIONS:
        return
    raise _fail(
        "region",
        f"session_type 'spark_connect' is not available in region {_show(region)}; "
        f"use one of {', '.join(SPARK_CONNECT_REGIONS)}",
    )


def _build(
    values: Mapping[str, Any], session_id: str | None, auto_tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The CreateSession request, members in the model's order; ``auto_tags`` (ours: who
    made it, where) join the user's tags where there is room, never replacing one."""
    request: dict[str, Any] = {}
    args: dict[str, str] = dict(values.get("default_arguments", {}))
    for spec in _all_specs():
        if spec.name not in values or spec.client:
            continue
        value = values[spec.name]
        if spec.arg:
            text = _join_conf(value) if spec.kind == "dict" else value
            if text:
                args[spec.arg] = text
            continue
        if spec.path is None or spec.name == "default_arguments":
            continue
        if spec.name == "session_type":
            if value == SPARK_CONNECT:
                request["SessionType"] = _spark_connect_member()
            value = _SESSION_TYPES[value]
        if spec.kind in ("list", "dict") and not value:
            continue
        target = request
        for part in spec.path[:-1]:
            target = target.setdefault(part, {})
        target[spec.path[-1]] = value
    if args:
        request["DefaultArguments"] = args
    if auto_tags:
        from glue_magics import tags

        request["Tags"] = tags.fit(request.get("Tags", {}), auto_tags, _shape_at(("Tags",)))
    if session_id is None:
        session_id = values.get("id")
    if session_id is None:
        session_id = f"{values.get('id_prefix') or 'glue-magics'}-{uuid.uuid4().hex}"
    request["Id"] = session_id
    order = list(_input_shape().members)
    return {k: request[k] for k in sorted(request, key=order.index)}


def _spark_connect_member() -> str:
    """SessionType's value for a Spark Connect session, or one line when this botocore's
    model has no SessionType (it came in botocore 1.43.23)."""
    from glue_magics.session_types import EXTRA, SPARK_CONNECT

    if "SessionType" not in _input_shape().members:
        raise _fail(
            "session_type",
            "session_type 'spark_connect' needs botocore 1.43.23 or later (its Glue model "
            f"has SessionType); {EXTRA}",
        )
    return SPARK_CONNECT


def _validate_request(request: dict[str, Any]) -> None:
    shape = _input_shape()
    for member, sub in shape.members.items():
        if member in request:
            _check_shape(request[member], sub, (member,))
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    try:
        validate_parameters(request, shape)
    except ParamValidationError as exc:  # our checks should have caught it first
        raise OptionError(f"CreateSession request is invalid: {exc}") from None


# --------------------------------------------------------------------------- the model object


_STAND_IN_ROLE = "arn:aws:iam::000000000000:role/not-set-yet"


@dataclass(frozen=True)
class SessionOptions:
    """The effective options of one session request, and where each value came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    input_shape: Any = field(default=None, compare=False, repr=False)  # None: botocore's
    auto_tags: Mapping[str, str] = field(default_factory=dict)  # ours (glue_magics.tags)

    @classmethod
    def resolve(
        cls,
        layers: Sequence[tuple[str, Mapping[str, Any]]],
        account_id: str | None = None,
        partial: bool = False,
        auto_tags: Mapping[str, str] | None = None,
    ) -> SessionOptions:
        """Merge sources (highest first; defaults added last), coerce and validate.

        Dicts merge per key, the higher source winning.  Pure: raises :class:`OptionError`
        and changes nothing on any wrong value, so callers can keep their old layers.
        ``partial`` checks what is set without requiring a role yet (``%%configure`` and
        ``%glue_config`` before the role is known); such options cannot make a request.
        ``auto_tags`` are glue-magics' own tags (``glue_magics.tags.session_tags``).
        """
        all_layers = [*layers, ("default", DEFAULTS)]
        coerced = [(source, _coerce_layer(source, layer)) for source, layer in all_layers]
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        rank: dict[str, int] = {}
        for position in range(len(coerced) - 1, -1, -1):
            source, layer = coerced[position]
            for name, value in layer.items():
                spec = _spec(name)
                if spec is not None and spec.kind == "dict" and name in values:
                    values[name] = {**values[name], **value}
                else:
                    values[name] = value
                sources[name] = source
                rank[name] = position
        stand_in_role = partial and "role" not in values
        if stand_in_role:
            values["role"], sources["role"], rank["role"] = _STAND_IN_ROLE, "default", len(coerced)
        _rules(values, sources, rank, account_id)
        # A fixed stand-in for a generated Id keeps validation deterministic.
        stand_in = None if "id" in values else f"{values.get('id_prefix') or 'x'}-{'0' * 32}"
        _validate_request(_build(values, stand_in, auto_tags))
        if stand_in_role:
            del values["role"], sources["role"]
        order = {name: i for i, name in enumerate(s.name for s in _all_specs())}
        ordered = sorted(values, key=lambda n: order.get(n, len(order)))
        return cls(
            values={n: values[n] for n in ordered},
            sources={n: sources[n] for n in ordered},
            input_shape=_SHAPE.get(),
            auto_tags=dict(auto_tags or {}),
        )

    def layer(self, source: str) -> dict[str, Any]:
        """The values that came from ``source`` (e.g. "line": a restart asks for them again)."""
        return {n: v for n, v in self.values.items() if self.sources.get(n) == source}

    def request(self, session_id: str | None = None) -> dict[str, Any]:
        """The exact ``create_session(**kwargs)``; an Id is generated when none is given."""
        with using_input_shape(self.input_shape or _input_shape()):
            if session_id is not None:
                _check_shape(session_id, _shape_at(("Id",)), ("Id",))
            return _build(self.values, session_id, self.auto_tags)

    def client_settings(self) -> dict[str, Any]:
        """region, profile and endpoint_url, only those set: the client's business."""
        return {s.name: self.values[s.name] for s in SPECS if s.client and s.name in self.values}

    def dpus(self) -> float:
        """DPUs billed while the session lives: MaxCapacity, or workers x DPU per worker."""
        v = self.values
        return billed_dpus(v.get("max_capacity"), v.get("worker_type"), v.get("number_of_workers"))

    def cost(self, price_per_dpu_hour: float = DPU_HOUR_PRICE) -> Cost:
        """What the session would cost, at the given USD per DPU-hour."""
        return Cost(self.dpus(), price_per_dpu_hour)

    def table(self) -> list[tuple[str, Any, str]]:
        """(option, value, source) rows for ``%glue_config``, in the table's order."""
        return [(name, value, self.sources.get(name, "")) for name, value in self.values.items()]


def client_settings(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """region, profile and endpoint_url, each from the highest source that sets it.

    Listing, stopping or inspecting sessions needs only these, so an incomplete session
    request (no role yet, say) must not stand in their way.
    """
    settings: dict[str, Any] = {}
    for source, layer in reversed(list(layers)):
        client_only = {k: v for k, v in layer.items() if (spec := _spec(k)) and spec.client}
        settings.update(_coerce_layer(source, client_only))
    return settings


def dry_run_text(opts: SessionOptions, price: float = DPU_HOUR_PRICE) -> str:
    """The exact CreateSession request as JSON, and what it would cost per hour."""
    request = opts.request()
    return json.dumps(request, indent=2, ensure_ascii=False) + (
        f"\nestimated cost: {opts.cost(price).sum()}"
    )
