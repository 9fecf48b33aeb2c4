"""Property tests of every parser of user input in glue_magics.options.

For each parser: no exception other than OptionError (whose text is one line), valid
input always builds a request botocore's own validator accepts, and the request is
deterministic.  Example counts are fixed by ``settings(max_examples=...)`` and printed
by ``pytest -s`` (see ``_count``); total inputs per run: 2,000 (about 5 s on 2 cores).
"""

from __future__ import annotations

import json
import string
from collections import Counter
from typing import Any

import pytest
from botocore.validate import validate_parameters
from helpers import ROLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_magics.cost import WORKER_TYPES
from glue_magics.model import operation
from glue_magics.options import (
    OptionError,
    SessionOptions,
    from_env,
    parse_configure,
    parse_line_flags,
    suggest,
)
from glue_magics.shapes import compile_pattern
from glue_magics.specs import SPECS, env_names

INPUT = operation("CreateSession").input_shape
TRIED: Counter[str] = Counter()
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _count(name: str) -> None:
    TRIED[name] += 1


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    inputs = {k: v for k, v in TRIED.items() if k != "resolved ok"}
    print(
        f"\nhypothesis inputs tried: {inputs} total {sum(inputs.values())}; "
        f"resolves that succeeded: {TRIED['resolved ok']}"
    )


def _one_line(exc: OptionError) -> None:
    assert "\n" not in str(exc) and str(exc)


def _check_valid(opts: SessionOptions) -> dict[str, Any]:
    request = opts.request(session_id="prop-session")
    validate_parameters(request, INPUT)
    assert opts.request(session_id="prop-session") == request  # deterministic
    return request


def _resolve_all_ways(layers: list[tuple[str, dict[str, Any]]]) -> SessionOptions | None:
    """Resolve twice; both agree (or both raise the same one-line OptionError)."""
    try:
        first = SessionOptions.resolve(layers)
    except OptionError as exc:
        _one_line(exc)
        with pytest.raises(OptionError) as again:
            SessionOptions.resolve(layers)
        assert str(again.value) == str(exc)
        return None
    TRIED["resolved ok"] += 1
    second = SessionOptions.resolve(layers)
    assert first == second
    assert _check_valid(first) == _check_valid(second)
    return first


# --------------------------------------------------------------------------- strategies

CONFIGURE_KEYS = [
    "iam_role",
    "role",
    "Role",
    "worker_type",
    "WorkerType",
    "number_of_workers",
    "NumberOfWorkers",
    "workers",
    "glue_version",
    "GlueVersion",
    "idle_timeout",
    "IdleTimeout",
    "timeout",
    "Timeout",
    "max_capacity",
    "MaxCapacity",
    "connections",
    "Connections",
    "security_config",
    "SecurityConfiguration",
    "session_id_prefix",
    "id",
    "Id",
    "tags",
    "Tags",
    "additional_python_modules",
    "extra_py_files",
    "extra_jars",
    "spark_conf",
    "region",
    "profile",
    "endpoint_url",
    "session_type",
    "description",
    "Description",
    "default_arguments",
    "DefaultArguments",
    "Command",
    "RequestOrigin",
    "python_version",
    "--enable-metrics",
    "--conf",
    "--additional-python-modules",
    "worker-type",
    "nonsense",
]
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Plausible values: what users actually type, valid or nearly so.
plausible = st.one_of(
    st.sampled_from(
        [
            "G.1X",
            "G.2X",
            "G.4X",
            "Z.2X",
            "g.8x",
            "Standard",
            "G.3X",
            "5.0",
            "2.0",
            "4.0",
            "3",
            "3.9",
            "etl",
            "ray",
            "glueetl",
            "streaming",
            "spark",
            "a,b",
            "k=v",
            "k=v,k2=v2",
            '{"a": "b"}',
            "a=1 --conf b=2",
            ROLE,
            "GlueRole",
            "",
            " ",
            "0",
            "-1",
            "60",
            "1e3",
        ]
    ),
    st.integers(-5, 3000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=4),
    st.lists(st.text(max_size=10), max_size=4),
    json_values,
)


# --------------------------------------------------------------------------- parse_configure


@FAST
@given(st.text(max_size=200))
def test_configure_arbitrary_text_raises_only_option_error(body: str) -> None:
    _count("configure_text")
    try:
        parsed = parse_configure(body)
    except OptionError as exc:
        _one_line(exc)
        return
    _resolve_all_ways([("configure", parsed), ("config", {"role": ROLE})])


@FAST
@given(
    st.dictionaries(st.sampled_from(CONFIGURE_KEYS) | st.text(max_size=12), plausible, max_size=6)
)
def test_configure_json_objects_raise_only_option_error(data: dict[str, Any]) -> None:
    _count("configure_json")
    body = json.dumps(data)
    try:
        parsed = parse_configure(body)
    except OptionError as exc:
        _one_line(exc)
        return
    assert parse_configure(body) == parsed
    _resolve_all_ways([("configure", parsed), ("env", {"role": ROLE})])


# Valid options, drawn only from what the model and the rules allow.
no_surrogates = st.characters(blacklist_categories=("Cs", "Cc"))
name_text = st.text(no_surrogates, min_size=1, max_size=40).filter(lambda s: s.strip() == s)
arg_key = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=30).filter(
    lambda k: (
        k.lstrip("-") not in ("conf", "additional-python-modules", "extra-py-files", "extra-jars")
    )
)
conf_key = st.text(string.ascii_letters + string.digits + "._", min_size=1, max_size=30)
arg_value = st.text(no_surrogates, max_size=40).filter(lambda s: s.strip() == s and "," not in s)


@st.composite
def valid_options(draw: st.DrawFn) -> dict[str, Any]:
    session_type = draw(st.sampled_from(["etl", "streaming", "ray"]))
    opts: dict[str, Any] = {"role": ROLE, "session_type": session_type}
    if session_type == "ray":
        opts["worker_type"] = "Z.2X"
    elif draw(st.booleans()):
        opts["max_capacity"] = draw(st.floats(0.0625, 100, allow_nan=False))
    else:
        enum = [w for w in INPUT.members["WorkerType"].enum if not w.startswith("Z.")]
        opts["worker_type"] = draw(st.sampled_from(enum))
    if "max_capacity" not in opts:
        opts["number_of_workers"] = draw(st.integers(1, 1000))
    # a version the worker type runs on (G.12X, G.16X and R.*: 4.0 or later, cost.WORKER_TYPES)
    newer = WORKER_TYPES.get(opts.get("worker_type", ""), None)
    oldest = ["3.0", "4.0"].index(newer.min_glue) if newer and newer.min_glue == "4.0" else 0
    opts["glue_version"] = draw(st.sampled_from(["3.0", "4.0", "5.0", "6.1"][oldest:]))
    timeout = draw(st.integers(1, 10080))
    opts["timeout"] = timeout
    opts["idle_timeout"] = draw(st.integers(1, timeout))
    optional = {
        "description": st.text(no_surrogates, max_size=100),
        "id": name_text,
        "id_prefix": st.text(string.ascii_letters + "-", min_size=1, max_size=30),
        "security_config": name_text,
        "request_origin": st.text(string.ascii_letters + "._-", min_size=1, max_size=30),
        "python_version": st.sampled_from(["2", "3", "3.9"]),
        "connections": st.lists(name_text.filter(lambda s: "," not in s), max_size=4),
        "tags": st.dictionaries(
            name_text.filter(lambda s: "=" not in s and "," not in s), arg_value, max_size=5
        ),
        "default_arguments": st.dictionaries(arg_key, arg_value, max_size=5),
        "spark_conf": st.dictionaries(
            conf_key, st.text(string.ascii_letters + "=./", max_size=20), max_size=4
        ),
        "additional_python_modules": st.sampled_from(["polars", "polars,pyarrow==15.0.0"]),
        "extra_py_files": st.just("s3://bucket/a.py,s3://bucket/b.zip"),
        "extra_jars": st.just("s3://bucket/a.jar"),
        "region": st.sampled_from(["us-east-1", "eu-west-1"]),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        opts[name] = draw(optional[name])
    return opts


@FAST
@given(valid_options())
def test_valid_configure_always_builds_a_valid_request(opts: dict[str, Any]) -> None:
    _count("configure_valid")
    parsed = parse_configure(json.dumps(opts))
    resolved = _resolve_all_ways([("configure", parsed)])
    assert resolved is not None
    request = _check_valid(resolved)
    if "tags" in opts and opts["tags"]:
        assert request["Tags"] == opts["tags"]
    if "number_of_workers" in opts:
        assert request["NumberOfWorkers"] == opts["number_of_workers"]


def _as_flags(opts: dict[str, Any]) -> dict[str, Any]:
    """The same options as the strings %glue_session's argparse would hand over."""
    ns: dict[str, Any] = {}
    for name, value in opts.items():
        spec = next(s for s in SPECS if s.name == name)
        dest = spec.flag or name
        if dest in ("tag", "arg", "conf"):
            ns[dest] = [f"{k}={v}" for k, v in value.items()] or None
        elif isinstance(value, list):
            ns[dest] = ",".join(value) if value else None
        else:
            ns[dest] = str(value)
    return ns


@FAST
@given(valid_options())
def test_valid_line_flags_always_build_the_same_request(opts: dict[str, Any]) -> None:
    _count("line_valid")
    from_line = _resolve_all_ways([("line", parse_line_flags(_as_flags(opts)))])
    from_configure = _resolve_all_ways([("configure", parse_configure(json.dumps(opts)))])
    assert from_line is not None and from_configure is not None
    assert _check_valid(from_line) == _check_valid(from_configure)


LINE_DESTS = [
    "role",
    "worker_type",
    "workers",
    "max_capacity",
    "glue_version",
    "idle_timeout",
    "timeout",
    "session_type",
    "python_version",
    "connections",
    "security_config",
    "python_modules",
    "extra_py_files",
    "extra_jars",
    "id",
    "id_prefix",
    "description",
    "region",
    "profile",
    "endpoint_url",
]
flag_text = st.one_of(st.text(max_size=30), st.sampled_from(["5", "G.2X", "ray", "4.0", ROLE, "0"]))


@FAST
@given(
    st.fixed_dictionaries(
        {},
        optional={
            **{d: st.none() | flag_text for d in LINE_DESTS},
            **{
                d: st.none() | st.lists(st.text(max_size=20), max_size=3)
                for d in ("tag", "arg", "conf")
            },
        },
    )
)
def test_line_flags_raise_only_option_error(ns: dict[str, Any]) -> None:
    _count("line_any")
    try:
        flags = parse_line_flags(ns)
    except OptionError as exc:
        _one_line(exc)
        return
    _resolve_all_ways([("line", flags), ("config", {"role": ROLE})])


ENV_NAMES = sorted({n for s in SPECS for n in env_names(s)})


@FAST
@given(st.dictionaries(st.sampled_from(ENV_NAMES), flag_text, max_size=6))
def test_env_raises_only_option_error(environ: dict[str, str]) -> None:
    _count("env_any")
    _resolve_all_ways([("env", from_env(environ)), ("profile", {"role": ROLE})])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.lists(st.text(max_size=20), max_size=10))
def test_suggest_is_empty_or_one_suggestion(word: str, choices: list[str]) -> None:
    _count("suggest")
    hint = suggest(word, choices)
    assert hint == "" or (hint.startswith("; did you mean ") and hint[15:-1] in choices)


def test_model_patterns_with_surrogate_pairs_compile_and_mean_what_they_say() -> None:
    pattern = INPUT.members["Id"].metadata["pattern"]
    assert "\\uD800" in pattern  # the Java-style escapes Python's re rejects as written
    regex = compile_pattern(pattern)
    assert regex is not None
    assert regex.fullmatch("ok \U0001f600 \u4e2d")
    assert not regex.fullmatch("bad\x00") and not regex.fullmatch("lone\ud800")
    from glue_magics.model import service_model

    model = service_model()
    patterns = {
        shape.metadata["pattern"]
        for name in model.shape_names
        if "pattern" in (shape := model.shape_for(name)).metadata
    }
    # Every pattern of the whole Glue model compiles, except Unicode property classes
    # (\\p{L}) that Python's re lacks: those are left to the service, not guessed at.
    failing = [p for p in patterns if compile_pattern(p) is None and "\\p{" not in p]
    assert len(patterns) > 50 and not failing, failing[:3]
    create_session = [s.metadata["pattern"] for s in _walk(INPUT) if "pattern" in s.metadata]
    assert create_session and all(compile_pattern(p) is not None for p in create_session)


def _walk(shape: Any) -> list[Any]:
    out = [shape]
    for sub in getattr(shape, "members", {}).values():
        out += _walk(sub)
    for attr in ("member", "key", "value"):
        if hasattr(shape, attr):
            out += _walk(getattr(shape, attr))
    return out
