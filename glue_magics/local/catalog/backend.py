"""The Data Catalog's operations: databases, tables (with versions) and partitions.

Operations take typed arguments (the responses layer validated the request against the
model and unpacked it), fold names to lowercase as the service stores them, raise the
service's errors (:mod:`glue_magics.local.exceptions`), and return the wire shapes the
service answers.  Each runs under the catalog's file lock (:class:`Store`), so several
endpoint processes on one data directory see each other's changes whole.

What the service adds to what a request gives, from recorded replies of the real service
(a GetTable body in hashicorp/terraform-provider-aws#35954; ``aws glue get-table`` output
in public repositories): ``DatabaseName``, ``CatalogId`` (the account), ``CreateTime``
and an ``UpdateTime`` equal to it at first, ``IsRegisteredWithLakeFormation`` false, and
``VersionId`` "0" for a new table, one more per UpdateTable.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

from glue_magics.local.catalog.names import fold
from glue_magics.local.catalog.partitions import Partitions
from glue_magics.local.catalog.records import find_database, find_table, page_of
from glue_magics.local.catalog.store import Record, Store
from glue_magics.local.exceptions import EntityExists, EntityNotFound, InvalidInput

#: GetDatabases/GetTables/GetTableVersions' page when MaxResults is not given (the
#: model's largest, CatalogGetterPageSize).
CATALOG_PAGE = 100
#: What DatabaseInput/TableInput/PartitionInput members a reply echoes: all of them.
Body = dict[str, Any]


def _hive_pattern(expression: str) -> re.Pattern[str]:
    """GetTables' Expression ("A regular expression pattern"), read as Hive reads a table
    pattern: alternatives split by ``|``, ``*`` any run, the rest a regular expression,
    matched against the whole name without regard to case."""
    alternatives = [part.replace("*", ".*") for part in expression.split("|")]
    try:
        return re.compile("|".join(f"(?:{part})" for part in alternatives), re.IGNORECASE)
    except re.error as exc:
        raise InvalidInput(
            f"Expression '{expression[:200]}' is not a valid pattern: {exc}"
        ) from None


#: AttributesToGet's values and the reply members they keep (the model's enums).
DATABASE_ATTRIBUTES = {"NAME": "Name", "TARGET_DATABASE": "TargetDatabase"}
TABLE_ATTRIBUTES = {"NAME": "Name", "TABLE_TYPE": "TableType"}


def _project(items: list[Body], attributes: list[str] | None, members: dict[str, str]) -> list:
    """Only the members ``attributes`` name (GetDatabases' and GetTables' AttributesToGet:
    "This parameter doesn't accept an empty list. The request must include NAME");
    ``DEFAULT`` keeps them all."""
    if attributes is None or "DEFAULT" in attributes:
        return items
    if "NAME" not in attributes:
        raise InvalidInput(f"AttributesToGet {attributes} must include NAME")
    keep = {members[a] for a in attributes if a in members}
    return [{k: v for k, v in item.items() if k in keep} for item in items]


class Catalog:
    """One account's Data Catalog, kept in ``root`` (``EndpointSettings.catalog_root``):
    databases and tables here, partitions in :attr:`partitions`."""

    def __init__(self, root: Path, account_id: str) -> None:
        self.store = Store(root)
        self.account_id = account_id
        #: The tables' partitions, kept in the same records (:mod:`.partitions`); their
        #: operations are the catalog's too, for the API's and Spark's callers.
        self.partitions = Partitions(self.store)
        self.create_partition = self.partitions.create_partition
        self.batch_create_partition = self.partitions.batch_create_partition
        self.update_partition = self.partitions.update_partition
        self.batch_update_partition = self.partitions.batch_update_partition
        self.get_partition = self.partitions.get_partition
        self.get_partitions = self.partitions.get_partitions
        self.batch_get_partition = self.partitions.batch_get_partition
        self.delete_partition = self.partitions.delete_partition
        self.batch_delete_partition = self.partitions.batch_delete_partition
        self.add_found_partitions = self.partitions.add_found

    # ----------------------------------------------------------------- lookups
    def _database(self, name: str) -> Record:
        return find_database(self.store, name)

    def _table(self, database: str, name: str) -> Record:
        return find_table(self.store, database, name)

    # ----------------------------------------------------------------- databases
    def create_database(self, database_input: Body) -> None:
        record = {**copy.deepcopy(database_input), "Name": fold(database_input["Name"])}
        record.update(CreateTime=time.time(), CatalogId=self.account_id)
        with self.store.lock(exclusive=True):
            if self.store.database(record["Name"]) is not None:
                raise EntityExists("Database")
            self.store.add_database(record)

    def get_database(self, name: str) -> Body:
        with self.store.lock(exclusive=False):
            return self._database(name)

    def get_databases(
        self, next_token: str | None, max_results: int | None, attributes: list[str] | None = None
    ) -> tuple[list, str]:
        with self.store.lock(exclusive=False):
            databases = self.store.databases()
        page, token = page_of(
            databases, lambda d: d["Name"], next_token, max_results or CATALOG_PAGE
        )
        return _project(page, attributes, DATABASE_ATTRIBUTES), token

    def update_database(self, name: str, database_input: Body) -> None:
        """Replace the database's definition; its name, CreateTime and tables stay (a new
        ``DatabaseInput.Name`` does not rename it, as in moto)."""
        with self.store.lock(exclusive=True):
            old = self._database(name)
            record = {**copy.deepcopy(database_input), "Name": old["Name"]}
            record.update(CreateTime=old["CreateTime"], CatalogId=self.account_id)
            self.store.put_database(record)

    def delete_database(self, name: str) -> None:
        """Remove the database with its tables, their versions and partitions (the API
        reference: "you no longer have access to the tables ... that might belong to the
        tables")."""
        with self.store.lock(exclusive=True):
            self.store.drop_database(self._database(name)["Name"])

    # ----------------------------------------------------------------- tables
    def create_table(self, database: str, table_input: Body) -> None:
        now = time.time()
        with self.store.lock(exclusive=True):
            database = self._database(database)["Name"]
            table = self._render_table(database, table_input, now, now, "0")
            if self.store.table(database, table["Name"]) is not None:
                raise EntityExists("Table")
            self.store.put_table(
                database, {"Name": table["Name"], "Versions": [table], "Partitions": []}
            )

    def _render_table(
        self, database: str, table_input: Body, created: float, updated: float, version: str
    ) -> Body:
        table = {**copy.deepcopy(table_input), "Name": fold(table_input["Name"])}
        table.update(
            DatabaseName=database,
            CreateTime=created,
            UpdateTime=updated,
            IsRegisteredWithLakeFormation=False,
            CatalogId=self.account_id,
            VersionId=version,
        )
        table.pop("ViewDefinition", None)  # ViewDefinitionInput is not the reply's shape
        return table

    def get_table(self, database: str, name: str) -> Body:
        with self.store.lock(exclusive=False):
            return self._table(database, name)["Versions"][-1]

    def get_tables(
        self,
        database: str,
        expression: str | None,
        next_token: str | None,
        max_results: int | None,
        attributes: list[str] | None = None,
    ) -> tuple[list[Body], str]:
        pattern = _hive_pattern(expression) if expression else None
        with self.store.lock(exclusive=False):
            records = self.store.tables(self._database(database)["Name"])
        tables = [record["Versions"][-1] for record in records]
        if pattern is not None:
            tables = [table for table in tables if pattern.fullmatch(table["Name"])]
        page, token = page_of(tables, lambda t: t["Name"], next_token, max_results or CATALOG_PAGE)
        return _project(page, attributes, TABLE_ATTRIBUTES), token

    def update_table(self, database: str, table_input: Body, skip_archive: bool = False) -> None:
        """The table's new definition, a version more (with ``skip_archive`` the current
        version is replaced instead of kept); its partitions and CreateTime stay."""
        with self.store.lock(exclusive=True):
            record = self._table(database, table_input["Name"])
            current = record["Versions"][-1]
            version = str(int(current["VersionId"]) + 1)
            table = self._render_table(
                current["DatabaseName"], table_input, current["CreateTime"], time.time(), version
            )
            versions = record["Versions"][:-1] if skip_archive else record["Versions"]
            self.store.put_table(
                current["DatabaseName"], {**record, "Versions": [*versions, table]}
            )

    def delete_table(self, database: str, name: str) -> None:
        with self.store.lock(exclusive=True):
            record = self._table(database, name)
            self.store.drop_table(record["Versions"][-1]["DatabaseName"], record["Name"])

    def batch_delete_table(self, database: str, names: list[str]) -> list[Body]:
        """Delete the tables that exist; a TableError (as moto words it) for each other."""
        errors = []
        with self.store.lock(exclusive=True):
            database = self._database(database)["Name"]
            for name in names:
                if self.store.table(database, fold(name)) is None:
                    detail = {
                        "ErrorCode": "EntityNotFoundException",
                        "ErrorMessage": "Table not found",
                    }
                    errors.append({"TableName": name, "ErrorDetail": detail})
                    continue
                self.store.drop_table(database, fold(name))
        return errors

    def get_table_version(self, database: str, table: str, version_id: str | None) -> Body:
        """One kept version as TableVersion (the current one when none is named)."""
        with self.store.lock(exclusive=False):
            record = self._table(database, table)
        if version_id is None:
            version = record["Versions"][-1]
            return {"Table": version, "VersionId": version["VersionId"]}
        if not version_id.isascii() or not version_id.isdigit():
            raise InvalidInput(f"VersionId '{version_id[:50]}' is not a number")
        for version in record["Versions"]:
            if int(version["VersionId"]) == int(version_id):
                return {"Table": version, "VersionId": version["VersionId"]}
        raise EntityNotFound("Version not found.")

    def get_table_versions(
        self, database: str, table: str, next_token: str | None, max_results: int | None
    ) -> tuple[list[Body], str]:
        """Every kept version, oldest first (as moto lists them), as TableVersion."""
        with self.store.lock(exclusive=False):
            record = self._table(database, table)
        versions = [
            {"Table": version, "VersionId": version["VersionId"]} for version in record["Versions"]
        ]

        def number(item: Body) -> str:
            return f"{int(item['VersionId']):012d}"

        return page_of(versions, number, next_token, max_results or CATALOG_PAGE)
