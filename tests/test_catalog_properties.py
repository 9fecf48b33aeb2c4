"""Properties of the catalog's parsers of user input: GetPartitions' Expression and names."""

from __future__ import annotations

import operator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_magics.local.catalog.expression import compile_expression
from glue_magics.local.catalog.names import file_name, fold
from glue_magics.local.exceptions import InvalidInput

KEYS = {"year": "int", "region": "string"}
OPERATORS = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
years = st.integers(min_value=-(10**6), max_value=10**6)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A predicate as (expression text, the Python function it must be).
@st.composite
def comparisons(draw):
    if draw(st.booleans()):
        symbol, literal = draw(st.sampled_from(sorted(OPERATORS))), draw(years)
        return f"year {symbol} {literal}", lambda p: OPERATORS[symbol](int(p["year"]), literal)
    symbol, literal = draw(st.sampled_from(sorted(OPERATORS))), draw(texts)
    return f"region {symbol} {quoted(literal)}", lambda p: OPERATORS[symbol](p["region"], literal)


def trees(leaves):
    def extend(children):
        def join(pair, word, combine):
            (left, f), (right, g) = pair
            return f"({left}) {word} ({right})", lambda p: combine(f(p), g(p))

        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda pair: join(pair, "AND", lambda a, b: a and b)),
            pairs.map(lambda pair: join(pair, "or", lambda a, b: a or b)),
            children.map(lambda c: (f"NOT ({c[0]})", lambda p, f=c[1]: not f(p))),
        )

    return st.recursive(leaves, extend, max_leaves=6)


partitions = st.fixed_dictionaries({"year": years.map(str), "region": texts})


@settings(deadline=None)
@given(trees(comparisons()), st.lists(partitions, max_size=6))
def test_expression_agrees_with_python(tree, values):
    text, expected = tree
    predicate = compile_expression(text, KEYS)
    for partition in values:
        assert predicate(partition) == expected(partition), (text, partition)


@settings(deadline=None)
@given(years, years, years)
def test_between_and_in_are_inclusive_sets(value, low, high):
    partition = {"year": str(value), "region": "eu"}
    assert compile_expression(f"year BETWEEN {low} AND {high}", KEYS)(partition) == (
        low <= value <= high
    )
    assert compile_expression(f"year IN ({low}, {high})", KEYS)(partition) == (value in (low, high))
    assert compile_expression(f"year NOT IN ({low})", KEYS)(partition) == (value != low)


@settings(deadline=None)
@given(st.text(max_size=40))
def test_any_text_parses_or_is_invalid_input(text):
    try:
        compile_expression(text, KEYS)
    except InvalidInput as exc:
        assert "\n" not in exc.message or "\n" in text
        assert exc.code == "InvalidInputException"


@settings(deadline=None)
@given(texts, texts)
def test_like_matches_literal_text_with_wildcards(prefix, rest):
    escaped = prefix.replace("%", "").replace("_", "")
    predicate = compile_expression(f"region LIKE {quoted(escaped + '%')}", KEYS)
    assert predicate({"year": "1", "region": escaped + rest})


names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=255)


@settings(deadline=None)
@given(names)
def test_file_names_are_safe(name):
    spelled = file_name(fold(name))
    assert "/" not in spelled and "\\" not in spelled and "\x00" not in spelled
    assert spelled not in ("", ".", "..") and not spelled.startswith(".")
    assert len((spelled + ".json").encode()) <= 255


@settings(deadline=None)
@given(names, names)
def test_file_names_tell_names_apart(one, two):
    if one != two:
        assert file_name(one) != file_name(two)


@settings(deadline=None)
@given(names)
def test_fold_is_idempotent(name):
    assert fold(fold(name)) == fold(name)


# Any name the model's NameString allows (1-255 characters, no control character but tab)
# is a database over HTTP: stored, found by itself and by its folded form, then deleted.
model_names = st.text(
    alphabet=st.one_of(
        st.just("\t"),
        st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)).filter(
            lambda c: c not in "\ufffe\uffff"
        ),
    ),
    min_size=1,
    max_size=255,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(model_names)
def test_any_model_name_is_a_database(glue, name):
    try:
        glue.create_database(DatabaseInput={"Name": name})
    except glue.exceptions.AlreadyExistsException:
        pass  # hypothesis tried the same folded name before
    try:
        assert glue.get_database(Name=name)["Database"]["Name"] == fold(name)
        assert glue.get_database(Name=fold(name))["Database"]["Name"] == fold(name)
    finally:
        glue.delete_database(Name=name)
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_database(Name=name)
