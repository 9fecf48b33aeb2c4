"""The endpoint's model-driven validator, property-tested against botocore's own."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.validate import ParamValidator
from helpers import ROLE
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from glue_magics import model, shapes
from glue_magics.local import validation
from glue_magics.local.faults import KINDS, Faults

CREATE = model.operation("CreateSession").input_shape
# What botocore's ParamValidator checks; the rest (max, enum, pattern, map size) only the
# service checks.
BOTOCORE_KINDS = {"type", "required", "min"}

# JSON values, without null and booleans: botocore takes True as an integer and rejects
# None where the wire format treats null as absent, so those two say nothing about the walk.
scalars = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def for_shape(
    shape: Any, depth: int = 0, wrong: st.SearchStrategy[Any] = json_values
) -> st.SearchStrategy[Any]:
    """Values mostly of the right type for ``shape``, sometimes one of ``wrong``."""
    kind = shape.type_name
    if kind == "structure" and depth < 4:
        members = {
            name: for_shape(member, depth + 1, wrong) for name, member in shape.members.items()
        }
        right: st.SearchStrategy[Any] = st.fixed_dictionaries({}, optional=members)
    elif kind == "map":
        # JSON object keys are always strings.
        values = for_shape(shape.value, depth + 1, wrong)
        right = st.dictionaries(st.text(max_size=40), values, max_size=4)
    elif kind == "list":
        right = st.lists(for_shape(shape.member, depth + 1, wrong), max_size=4)
    elif kind == "string":
        enum = shape.metadata.get("enum")
        options = [st.text(max_size=40)]
        if enum:
            options.append(st.sampled_from(enum))
        if "Role" in shape.name or "Arn" in shape.name:
            options.append(st.just(ROLE))
        right = st.one_of(*options)
    elif kind in ("integer", "long"):
        right = st.integers(min_value=-5, max_value=3000)
    elif kind in ("double", "float"):
        right = st.one_of(st.floats(-10, 100), st.integers(-5, 100))
    else:
        right = json_values
    return st.one_of(right, right, right, wrong)


create_bodies = for_shape(CREATE)


def botocore_errors(body: Any, shape: Any) -> int:
    """botocore's count of type, required and minimum errors.  Unknown members are left
    out: botocore refuses them, the service (like any AWS JSON reader) ignores them."""
    report = ParamValidator().validate(body, shape)
    return sum(1 for reason, _, _ in report._errors if reason != "unknown field")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(create_bodies)
@example({"Id": "", "Timeout": "5", "Command": []}).via("four errors for both")
@example({"Id": "x", "Role": "r", "Command": {}, "Tags": {str(i): "" for i in range(60)}}).via(
    "only the service's checks fail"
)
def test_validator_agrees_with_botocore_on_types_required_and_minimums(body):
    found = validation.problems(body, CREATE)
    assert all(p.kind in validation.KINDS for p in found)
    ours = [p for p in found if p.kind in BOTOCORE_KINDS]
    assert len(ours) == botocore_errors(body, CREATE), (ours, body)


@settings(max_examples=200, deadline=None)
@given(json_values)
@example("\n").via("a body of a newline: its message once had the newline in it")
def test_validator_never_crashes_on_any_json(body):
    found = validation.problems(body, CREATE)
    answer = validation.summary(found)
    if answer is not None:
        code, message = answer.code, answer.message
        assert answer.status == 400
        assert code in ("ValidationException", "SerializationException")
        assert "\n" not in message or code == "ValidationException"
    if not isinstance(body, dict):
        assert [p.kind for p in found] == ["type"]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["ListSessions", "RunStatement", "GetStatement", "TagResource"]), st.data())
def test_every_operation_is_walked_the_same_way(operation, data):
    shape = model.operation(operation).input_shape
    body = data.draw(for_shape(shape))
    ours = [p for p in validation.problems(body, shape) if p.kind in BOTOCORE_KINDS]
    assert len(ours) == botocore_errors(body, shape)


@pytest.mark.parametrize(
    "body",
    [
        "\n",
        {"Id": "a\nb", "Role": "r\u2028", "Command": {}},
        {"Id": "x", "Role": ROLE, "Command": {}, "DefaultArguments": {"a\r\nb": "\x85"}},
    ],
)
def test_a_message_that_quotes_the_users_text_is_one_line(body):
    # Errors a user can cause are one line: line breaks in values and map keys are escaped.
    message = validation.summary(validation.problems(body, CREATE)).message
    assert len(message.splitlines()) == 1, message
    assert "\\n" in message or "\\r" in message


def test_a_valid_request_has_no_problems():
    body = {
        "Id": "ok",
        "Role": ROLE,
        "Command": {"Name": "glueetl", "PythonVersion": "3"},
        "DefaultArguments": {"--enable-glue-datacatalog": "true"},
        "WorkerType": "G.1X",
        "NumberOfWorkers": 2,
        "GlueVersion": "4.0",
        "Tags": {"team": "data"},
        "Connections": {"Connections": ["vpc"]},
    }
    assert validation.problems(body, CREATE) == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [("plain id", True), ("emoji \U0001f600 too", True), ("tab\tok", True), ("new\nline", False)],
)
def test_surrogate_ranges_of_the_model_match_astral_characters(text, ok):
    pattern = CREATE.members["Id"].metadata["pattern"]
    assert "\\uD800\\uDC00" in pattern  # the model's UTF-16 spelling
    assert (shapes.compile_pattern(pattern).fullmatch(text) is not None) is ok


def test_every_model_pattern_compiles_except_unicode_property_classes():
    service = model.service_model()
    skipped = []
    for name in service.shape_names:
        pattern = service.shape_for(name).metadata.get("pattern")
        if pattern and shapes.compile_pattern(pattern) is None:
            skipped.append(pattern)
    assert all(re.search(r"\\p\{", p) for p in skipped), skipped


# ---------------------------------------------------------------- fault specs (user input)

operations = st.sampled_from(["", "GetSession", "CreateSession", "ListStatements"])
rates = st.floats(0, 1)


@given(operations, st.sampled_from(KINDS), rates)
def test_fault_specs_round_trip(operation, kind, rate):
    faults = Faults(seed=0)
    spec = f"{operation + ':' if operation else ''}{kind}={rate!r}"
    faults.parse(spec)
    expected = {} if rate == 0 else {(kind, operation or None): rate}
    assert faults._rates == expected


@given(st.text(max_size=40))
def test_any_fault_spec_is_applied_or_refused_with_a_value_error(spec):
    faults = Faults(seed=0)
    try:
        faults.parse(spec)
    except ValueError as exc:
        assert repr(spec)[1:-1][:10] in str(exc) or "fault" in str(exc)
    else:
        assert "=" in spec
