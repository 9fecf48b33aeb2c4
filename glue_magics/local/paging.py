"""NextToken paging, as the service pages ListSessions and ListStatements.

A token says "after the item numbered N" (a position would skip an item deleted between
two pages); an unreadable token is the service's InvalidInputException.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TypeVar

from glue_magics.local.exceptions import InvalidInput

T = TypeVar("T")
#: ListSessions' page when MaxResults is not given; ListStatements' page (it has none).
LIST_PAGE = 1000
STATEMENT_PAGE = 100


def token(after: int) -> str:
    """A NextToken: the page goes on after the item numbered ``after``.  A position in the
    list would skip an item whenever one before it is deleted between two pages."""
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode()


def after(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix == "after" and number.isascii() and number.isdigit():
            return int(number)
    except (ValueError, UnicodeError):
        pass
    raise InvalidInput(f"NextToken '{token[:50]}' is not valid")


def page(items: list[T], number: Callable[[T], int], after: int, size: int) -> tuple[list[T], str]:
    """The ``size`` items numbered after ``after`` (items in rising order), and the token
    of the next page ("" when this is the last)."""
    rest = [item for item in items if number(item) > after]
    page = rest[:size]
    return page, token(number(page[-1])) if len(rest) > size else ""
