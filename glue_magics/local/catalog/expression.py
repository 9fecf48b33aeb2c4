"""GetPartitions' ``Expression``: parsed once, then asked of each partition.

The model documents it (GetPartitionsRequest.Expression): "SQL syntax similar to the SQL
WHERE filter clause" with ``=``, ``<>``, ``>``, ``<``, ``>=``, ``<=`` and "AND, OR, IN,
BETWEEN, LIKE, NOT, IS NULL", over partition keys of types string, date, timestamp, int,
bigint, long, tinyint, smallint and decimal.  A value is compared as its key's type (a
partition's values are strings on the wire): ``year > 9`` on an ``int`` key is numeric.
An expression that does not parse, names a column that is not a partition key, or gives a
literal its key's type cannot read, is the service's InvalidInputException.

Grammar (keywords in any case)::

    expr      := and ("OR" and)*
    and       := not ("AND" not)*
    not       := "NOT" not | "(" expr ")" | predicate
    predicate := name cmp value | name ["NOT"] "BETWEEN" value "AND" value
               | name ["NOT"] "IN" "(" value ("," value)* ")" | name ["NOT"] "LIKE" value
               | name "IS" ["NOT"] "NULL"
    value     := 'text' (quote doubled inside) | number | name
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from glue_magics.local.exceptions import InvalidInput

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<op><>|!=|<=|>=|=|<|>|\(|\)|,)
      | (?P<name>`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_.$]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "LIKE", "IS", "NULL"}
_INTEGERS = {"int", "integer", "bigint", "long", "tinyint", "smallint"}


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, name, keyword, end
    text: str
    at: int


def tokens(text: str) -> list[Token]:
    """The expression's tokens; a character no token starts with is InvalidInput."""
    found = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            found.append(Token("end", "", position))
            return found
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _invalid(text, f"unexpected character {text[position]!r} at {position + 1}")
        kind = match.lastgroup or "op"
        word, start = match[kind], match.start(kind)
        if kind == "name" and word.upper() in _KEYWORDS:
            kind, word = "keyword", word.upper()
        found.append(Token(kind, word, start))
        position = match.end()


def _invalid(text: str, why: str) -> InvalidInput:
    shown = " ".join(text.split())[:200]
    return InvalidInput(f"Unsupported expression '{shown}': {why}")


# A predicate is a function of the partition's values by key name (None: no such key).
Predicate = Callable[[Mapping[str, str | None]], bool]


@dataclass(frozen=True)
class Literal:
    text: str
    kind: str  # string, number, name


class Parser:
    """A recursive-descent parser of one expression against the table's partition keys."""

    def __init__(self, text: str, keys: Mapping[str, str]) -> None:
        self.text = text
        self.keys = {name.lower(): kind.lower() for name, kind in keys.items()}
        self.tokens = tokens(text)
        self.position = 0

    # ----------------------------------------------------------------- reading tokens
    def _peek(self) -> Token:
        return self.tokens[self.position]

    def _take(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _keyword(self, *words: str) -> bool:
        token = self._peek()
        if token.kind == "keyword" and token.text in words:
            self.position += 1
            return True
        return False

    def _expect(self, kind: str, text: str | None = None) -> Token:
        token = self._take()
        if token.kind != kind or (text is not None and token.text != text):
            wanted = text or kind
            got = token.text or "the end"
            raise _invalid(self.text, f"expected {wanted} at {token.at + 1}, found {got}")
        return token

    # ----------------------------------------------------------------- grammar
    def parse(self) -> Predicate:
        predicate = self._or()
        if self._peek().kind != "end":
            token = self._peek()
            raise _invalid(self.text, f"unexpected {token.text} at {token.at + 1}")
        return predicate

    def _or(self) -> Predicate:
        return self._joined(self._and, "OR", any)

    def _and(self) -> Predicate:
        return self._joined(self._not, "AND", all)

    def _joined(
        self, operand: Callable[[], Predicate], keyword: str, combine: Callable[[Any], bool]
    ) -> Predicate:
        """Operands joined by ``keyword`` (OR, AND), true when ``combine`` (any, all) of
        them is; a single operand as it is."""
        parts = [operand()]
        while self._keyword(keyword):
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return lambda values: combine(part(values) for part in parts)

    def _not(self) -> Predicate:
        if self._keyword("NOT"):
            inner = self._not()
            return lambda values: not inner(values)
        token = self._peek()
        if token.kind == "op" and token.text == "(":
            self._take()
            inner = self._or()
            self._expect("op", ")")
            return inner
        return self._predicate()

    def _value(self) -> Literal:
        token = self._take()
        if token.kind == "string":
            return Literal(token.text[1:-1].replace("''", "'"), "string")
        if token.kind in ("number", "name"):
            return Literal(token.text, token.kind)
        got = token.text or "the end"
        raise _invalid(self.text, f"expected a value at {token.at + 1}, found {got}")

    def _column(self) -> tuple[str, str]:
        token = self._expect("name")
        name = token.text
        if name.startswith("`"):
            name = name[1:-1].replace("``", "`")
        key = name.lower()
        if key not in self.keys:
            known = ", ".join(self.keys) or "none (the table is not partitioned)"
            raise _invalid(self.text, f"{name} is not a partition key; the keys are {known}")
        return key, self.keys[key]

    def _predicate(self) -> Predicate:
        key, kind = self._column()
        negate = False
        if self._keyword("IS"):
            negate = self._keyword("NOT")
            self._expect("keyword", "NULL")
            return lambda values: (values.get(key) is None) != negate
        negate = self._keyword("NOT")
        if self._keyword("BETWEEN"):
            low = self._typed(self._value(), kind)
            self._expect("keyword", "AND")
            high = self._typed(self._value(), kind)
            return self._test(key, kind, lambda v: (low <= v <= high) != negate)
        if self._keyword("IN"):
            self._expect("op", "(")
            choices = [self._typed(self._value(), kind)]
            while self._peek().text == ",":
                self._take()
                choices.append(self._typed(self._value(), kind))
            self._expect("op", ")")
            return self._test(key, kind, lambda v: (v in choices) != negate)
        if self._keyword("LIKE"):
            pattern = _like(self._value().text)
            return self._test(key, "string", lambda v: bool(pattern.fullmatch(v)) != negate)
        if negate:
            token = self._peek()
            raise _invalid(self.text, f"expected BETWEEN, IN or LIKE at {token.at + 1}")
        operator = self._expect("op").text
        if operator not in _COMPARE:
            raise _invalid(self.text, f"{operator} is not a comparison")
        compare = _COMPARE[operator]
        right = self._typed(self._value(), kind)
        return self._test(key, kind, lambda v: compare(v, right))

    def _typed(self, literal: Literal, kind: str) -> Any:
        try:
            return cast(kind, literal.text)
        except (ValueError, ArithmeticError):
            raise _invalid(self.text, f"{literal.text} is not a {kind}") from None

    @staticmethod
    def _test(key: str, kind: str, check: Callable[[Any], bool]) -> Predicate:
        """A predicate on one key; a partition value its type cannot read does not match
        (nor does a missing one: NULL compares to nothing)."""

        def predicate(values: Mapping[str, str | None]) -> bool:
            raw = values.get(key)
            if raw is None:
                return False
            try:
                value = cast(kind, raw)
            except (ValueError, ArithmeticError):
                return False
            return check(value)

        return predicate


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def cast(kind: str, text: str) -> Any:
    """``text`` as a value of the partition key type ``kind`` (ValueError if it is not)."""
    base = kind.split("(")[0].strip()
    if base in _INTEGERS:
        return int(text.strip())
    if base == "decimal":
        value = decimal.Decimal(text.strip())
        if not value.is_finite():
            raise ValueError(text)
        return value
    if base == "date":
        return datetime.date.fromisoformat(text.strip())
    if base == "timestamp":
        return datetime.datetime.fromisoformat(text.strip())
    return text


def _like(pattern: str) -> re.Pattern[str]:
    """SQL LIKE as a regular expression: ``%`` any run, ``_`` one character."""
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def compile_expression(text: str, keys: Mapping[str, str]) -> Predicate:
    """The predicate of ``text`` over partitions of a table with these partition ``keys``
    (name -> type), or InvalidInput saying what is wrong with it."""
    return Parser(text, keys).parse()
