"""Where session options come from, read into values: the environment, the AWS config
profile's ``glue_*`` keys, ``%%configure``'s JSON body and ``%glue_session``'s flags.

Pure data, no IPython and no network; each source is read here and coerced, merged and
validated by ``options.SessionOptions.resolve``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from glue_magics.option_values import OptionError, _extra_specs, _show, suggest
from glue_magics.specs import (
    FLAGS,
    SPECS,
    OptionSpec,
    configure_keys,
    env_names,
)

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


def _python_literal(body: str) -> dict[str, Any] | None:
    """A body that is a Python dict literal of JSON's kinds (``{'--conf': '...', 'x': True}``,
    as AWS's Glue kernel takes it with ``ast.literal_eval``), as JSON would give it; else None."""
    import ast

    try:
        data = json.loads(json.dumps(ast.literal_eval(body.strip())))
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None
    return data if isinstance(data, dict) else None


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
        data = _python_literal(body)  # AWS's Glue kernel reads the body as a Python literal
        if data is None:
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
