"""What the catalog's operations on tables and on partitions share: finding a database's or
a table's record (the service's EntityNotFound when there is none) and NextToken pages."""

from __future__ import annotations

import base64
from typing import Any

from glue_magics.local.catalog.names import fold
from glue_magics.local.catalog.store import Record, Store
from glue_magics.local.exceptions import EntityNotFound, InvalidInput


def find_database(store: Store, name: str) -> Record:
    """The database ``name`` names (folded); EntityNotFound when there is none."""
    record = store.database(fold(name))
    if record is None:
        raise EntityNotFound(f"Database {fold(name)} not found.")
    return record


def find_table(store: Store, database: str, name: str) -> Record:
    """The table's record (its versions and partitions); EntityNotFound for a missing
    database or table."""
    database = find_database(store, database)["Name"]
    record = store.table(database, fold(name))
    if record is None:
        raise EntityNotFound(f"Table {fold(name)} not found.")
    return record


def _token(after: str) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode("utf-8", "surrogatepass")).decode()


def _after(token: str | None) -> str | None:
    """The name (or number) a NextToken says the next page starts after."""
    if not token:
        return None
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogatepass")
        prefix, _, after = text.partition(":")
        if prefix == "after":
            return after
    except (ValueError, UnicodeError):
        pass
    raise InvalidInput(f"NextToken '{token[:50]}' is not valid")


def page_of(
    items: list[Record], key: Any, token: str | None, size: int
) -> tuple[list[Record], str]:
    """The ``size`` items (sorted by ``key``, a str) after the token's, and the next token."""
    after = _after(token)
    rest = [item for item in items if after is None or key(item) > after]
    chosen = rest[:size]
    return chosen, _token(key(chosen[-1])) if len(rest) > size else ""
