"""The one walker over botocore shapes: problems as data, property-tested against botocore.

botocore's ``botocore/validate.py`` (``ParamValidator``) is the reference for types; the
CreateSession input shape of botocore's Glue model is the reference value space.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.validate import ParamValidator
from helpers import ROLE
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from glue_magics import model
from glue_magics.shapes import INT32_MAX, KINDS, Problem, compile_pattern, walk
from tests.test_local_validation import for_shape, json_values

CREATE = model.operation("CreateSession").input_shape
VALID = {"Id": "s", "Role": ROLE, "Command": {"Name": "glueetl"}}

# Any JSON, null and booleans included, and Python's tuples, which no JSON reader makes.
json_any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)


def at(value: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path``; raises when the path does not exist."""
    for step in path:
        if isinstance(value, dict):
            assert step in value, (step, value)
        else:
            assert isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
        value = value[step]
    return value


def shape_at(shape: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if shape.type_name == "structure":
            shape = shape.members[step]
        else:
            shape = shape.member if shape.type_name == "list" else shape.value
    return shape


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(for_shape(CREATE, wrong=json_any), json_any))
@example({"Tags": {"": "x" * 300}, "Connections": {"Connections": [None, "c" * 256]}})
@example({"DefaultArguments": {"bad key": None}, "NumberOfWorkers": 2**31, "Timeout": True})
@example({"Connections": {"Connections": ("c" * 300,)}})  # no JSON reader makes a tuple
def test_any_value_walks_without_raising_to_problems_whose_paths_exist(body: Any) -> None:
    for problem in walk(body, CREATE):
        assert problem.kind in KINDS
        found = at(body, problem.path)
        if problem.key:  # the problem is the map key at the end of the path
            assert problem.value == problem.path[-1] in at(body, problem.path[:-1])
            continue
        assert found is problem.value
        shape = shape_at(CREATE, problem.path)
        if problem.kind == "type":
            assert problem.limit == shape.type_name
        elif problem.kind == "required":
            assert problem.limit in shape.required_members and found.get(problem.limit) is None
        elif problem.kind in ("enum", "pattern"):
            assert isinstance(found, str) and problem.limit == shape.metadata[problem.kind]
        elif problem.kind == "int32":
            assert shape.type_name == "integer" and found > INT32_MAX == problem.limit
        else:
            assert problem.limit == shape.metadata[problem.kind]


def botocore_style(problem: Problem) -> str:
    """Our path in botocore's spelling: ``.Member``, ``[0]``, ``.key``, `` (key: k)``."""
    text = ""
    for position, step in enumerate(problem.path, 1):
        if isinstance(step, int):
            text += f"[{step}]"
        elif problem.key and position == len(problem.path):
            text += f" (key: {step})"
        else:
            text += f".{step}"
    return text


def botocore_type_errors(body: Any, shape: Any) -> list[str]:
    report = ParamValidator().validate(body, shape)
    return sorted(name for reason, name, _ in report._errors if reason == "invalid type")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(for_shape(CREATE), json_values))
@example({"Id": 5, "Tags": {"k": 1.5}, "Connections": {"Connections": ["a", 3]}, "Timeout": 2.5})
@example(["not", "an", "object"])
def test_type_problems_are_botocores(body: Any) -> None:
    # No null or booleans (json_values): botocore takes True as a number and null as a
    # value of the wrong type, where the service's JSON reader reads null as absent.
    ours = sorted(botocore_style(p) for p in walk(body, CREATE) if p.kind == "type")
    assert ours == botocore_type_errors(body, CREATE)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["RunStatement", "TagResource", "ListSessions", "CreateJob"]), st.data())
def test_type_problems_are_botocores_for_other_operations(operation: str, data: Any) -> None:
    shape = model.operation(operation).input_shape
    body = data.draw(for_shape(shape))
    ours = sorted(botocore_style(p) for p in walk(body, shape) if p.kind == "type")
    assert ours == botocore_type_errors(body, shape)


def test_a_valid_request_has_no_problems() -> None:
    assert list(walk(VALID, CREATE)) == []


def test_problems_are_data_in_walk_order() -> None:
    body = {"Timeout": 0, "Tags": {"": "v"}, "WorkerType": "G.3X", "Command": "etl"}
    assert list(walk(body, CREATE)) == [
        Problem((), "required", "Id", body),
        Problem((), "required", "Role", body),
        Problem(("Command",), "type", "structure", "etl"),
        Problem(("Timeout",), "min", 1, 0),
        Problem(("WorkerType",), "enum", CREATE.members["WorkerType"].enum, "G.3X"),
        Problem(("Tags", ""), "min", 1, "", key=True),
    ]


def test_null_is_absent_and_unknown_members_are_ignored() -> None:
    body = {**VALID, "Description": None, "Surprise": [1], "Tags": {"k": None}}
    assert list(walk(body, CREATE)) == []
    assert [p.kind for p in walk({**VALID, "Role": None}, CREATE)] == ["required"]


@pytest.mark.parametrize(
    ("member", "value", "kinds"),
    [
        ("NumberOfWorkers", INT32_MAX, []),
        ("NumberOfWorkers", INT32_MAX + 1, ["int32"]),
        ("NumberOfWorkers", True, ["type"]),  # a boolean is not a number on the wire
        ("MaxCapacity", 1e300, []),  # a double: no implicit bound
        ("Id", "x" * 256, ["max"]),
        ("Id", "new\nline", ["pattern"]),
        ("Id", "", ["min"]),
    ],
)
def test_bounds_and_patterns(member: str, value: Any, kinds: list[str]) -> None:
    found = list(walk({**VALID, member: value}, CREATE))
    assert [p.kind for p in found] == kinds
    assert all(p.path == (member,) and p.value == value for p in found)


def test_a_walk_can_start_inside_a_larger_value() -> None:
    connections = CREATE.members["Connections"].members["Connections"]
    too_long = "c" * 256
    assert list(walk(["ok", too_long], connections, ("C",))) == [
        Problem(("C", 1), "max", 255, too_long)
    ]
    (problem,) = walk({"": "v"}, CREATE.members["Tags"], ("Tags",))
    assert problem == Problem(("Tags", ""), "min", 1, "", key=True)


class CountingList(list):
    """A list that counts how many of its items were read."""

    read = 0

    def __iter__(self):
        for item in super().__iter__():
            self.read += 1
            yield item


def test_the_walk_is_lazy() -> None:
    """A caller that wants only the first problem (the client) stops the walk there."""
    items = CountingList(["x" * 300] * 3)
    problems = walk({**VALID, "Connections": {"Connections": items}}, CREATE)
    assert next(problems) == Problem(("Connections", "Connections", 0), "max", 255, items[0])
    assert items.read == 1
    assert len(list(problems)) == 2 and items.read == 3


@given(st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF))
def test_a_utf16_surrogate_pair_in_a_pattern_is_the_code_point_it_encodes(char: str) -> None:
    units = char.encode("utf-16-be")
    high, low = int.from_bytes(units[:2], "big"), int.from_bytes(units[2:], "big")
    regex = compile_pattern(f"a\\u{high:04X}\\u{low:04x}+")  # either case, as Java reads it
    assert regex is not None
    assert regex.fullmatch(f"a{char}{char}")
    assert not regex.fullmatch(f"a{chr(high)}{chr(low)}")


def test_a_pattern_python_cannot_read_is_not_checked() -> None:
    assert compile_pattern("\\p{L}+") is None
    assert list(walk("anything", _string_shape(pattern="\\p{L}+"))) == []


def _string_shape(**metadata: Any) -> Any:
    import botocore.model

    return botocore.model.StringShape("S", {"type": "string", **metadata})
