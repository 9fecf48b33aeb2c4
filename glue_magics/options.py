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

import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from glue_magics import shapes, versions
from glue_magics.cost import DPU_HOUR_PRICE, Cost, billed_dpus
from glue_magics.option_sources import (
    account_id_from_env,
    from_env,
    from_profile,
    parse_configure,
    parse_line_flags,
)
from glue_magics.option_values import (
    _SESSION_TYPES,
    _SHAPE,
    SPARK_CONNECT,
    OptionError,
    _all_specs,
    _check_shape,
    _coerce_layer,
    _enum,
    _input_shape,
    _join_conf,
    _shape_at,
    _show,
    _spec,
    choices,
    coerce,
    extra_member_names,
    suggest,
    using_input_shape,
)
from glue_magics.specs import (
    DEFAULTS,
    ROLE_EXAMPLE,
    SPECS,
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


# --------------------------------------------------------------------------- validation


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.split(".")
    if len(parts) < 2 or not all(re.fullmatch(r"[0-9]{1,9}", p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


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


def _min_glue(worker: str | None) -> tuple[int, ...] | None:
    """The oldest Glue version a worker type runs on (``cost.WORKER_TYPES``), or None."""
    from glue_magics.cost import WORKER_TYPES

    row = WORKER_TYPES.get(worker or "")
    return tuple(int(p) for p in row.min_glue.split(".")) if row and row.min_glue else None


def _rules(
    values: dict[str, Any], sources: dict[str, str], rank: dict[str, int], account_id: str | None
) -> None:
    """The service's rules the model does not state; adjusts defaulted values in place."""
    defaulted = {n for n, s in sources.items() if s == "default"}
    # Ray runs on Z.2X: a defaulted worker type follows the session type.
    if values.get("session_type") == "ray" and "worker_type" in defaulted:
        values["worker_type"] = "Z.2X"
    # A defaulted worker type follows the Glue version's default (6.1: Graviton, the version
    # table in glue_magics.versions, from AWS's 6.1 migration guide).
    row = versions.find(values.get("glue_version"))
    if row and "worker_type" in defaulted and values.get("session_type") != "ray":
        values["worker_type"] = row.default_worker
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
        # end of life; `auto` (jobs only) is the session manager's to refuse
        refused = versions.refusal(version_text, session=False)
        if refused:
            raise _fail("glue_version", refused)
        needed = _min_glue(worker)
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
        worker = None if "max_capacity" in self.values else self.values.get("worker_type")
        return Cost(self.dpus(), price_per_dpu_hour, worker_type=worker)

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
