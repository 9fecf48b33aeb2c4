"""The Data Catalog's partitions of a table: created, updated, got (by values or by an
Expression), deleted, one at a time or in batches.

A table's partitions are kept in its record beside its versions (:class:`Store`); each
operation reads and writes that record under the catalog's file lock, a batch in one write.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from glue_magics.local.catalog.expression import compile_expression
from glue_magics.local.catalog.records import find_table, page_of
from glue_magics.local.catalog.store import Store
from glue_magics.local.exceptions import EntityExists, EntityNotFound, InvalidInput

#: GetPartitions' page when MaxResults is not given (PageSize's largest).
PARTITION_PAGE = 1000
Body = dict[str, Any]


class Partitions:
    """The partition operations of one catalog's ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _partition(self, table: Body, partition_input: Body, now: float) -> Body:
        values = partition_input.get("Values")
        keys = table.get("PartitionKeys") or []
        if values is None:
            raise InvalidInput("Partition values must be given (PartitionInput.Values)")
        if len(values) != len(keys):
            # Glue's words for it, as Athena and Glue jobs surface them.
            raise InvalidInput(
                "The number of partition keys do not match the number of partition values"
            )
        partition = copy.deepcopy(partition_input)
        partition.update(
            DatabaseName=table["DatabaseName"],
            TableName=table["Name"],
            CreationTime=now,
        )
        return partition

    def create_partition(self, database: str, table: str, partition_input: Body) -> None:
        errors = self.batch_create_partition(database, table, [partition_input], single=True)
        if errors:
            raise EntityExists("Partition")

    def batch_create_partition(
        self, database: str, table: str, inputs: list[Body], single: bool = False
    ) -> list[Body]:
        """Add the partitions that are new, in one write; the PartitionErrors of the others.
        (``single``: CreatePartition, whose bad input is an error, not a PartitionError.)"""
        now = time.time()
        with self.store.lock(exclusive=True):
            record = find_table(self.store, database, table)
            current = record["Versions"][-1]
            partitions = list(record["Partitions"])
            taken = {tuple(p["Values"]) for p in partitions}
            errors = []
            for partition_input in inputs:
                try:
                    partition = self._partition(current, partition_input, now)
                except InvalidInput as exc:
                    if single:
                        raise
                    errors.append(_partition_error(partition_input.get("Values"), exc))
                    continue
                if tuple(partition["Values"]) in taken:
                    errors.append(_partition_error(partition["Values"], EntityExists("Partition")))
                    continue
                taken.add(tuple(partition["Values"]))
                partitions.append(partition)
            if len(partitions) != len(record["Partitions"]):
                self.store.put_table(current["DatabaseName"], {**record, "Partitions": partitions})
        return errors

    def update_partition(
        self, database: str, table: str, values: list[str], partition_input: Body
    ) -> None:
        errors = self.batch_update_partition(database, table, [(values, partition_input)], True)
        if errors:
            raise EntityNotFound("Cannot find partition.")

    def batch_update_partition(
        self,
        database: str,
        table: str,
        entries: list[tuple[list[str], Body]],
        single: bool = False,
    ) -> list[Body]:
        """Replace each named partition by its new definition (its values may change; its
        CreationTime stays), in one write; a PartitionValueList error for each not found."""
        now = time.time()
        with self.store.lock(exclusive=True):
            record = find_table(self.store, database, table)
            current = record["Versions"][-1]
            partitions = list(record["Partitions"])
            errors = []
            for values, partition_input in entries:
                at = next((n for n, p in enumerate(partitions) if p["Values"] == values), None)
                if at is None:
                    detail = {
                        "ErrorCode": "EntityNotFoundException",
                        "ErrorMessage": "Partition not found.",
                    }
                    errors.append({"PartitionValueList": values, "ErrorDetail": detail})
                    continue
                try:
                    new = self._partition(current, partition_input, now)
                except InvalidInput as exc:
                    if single:
                        raise
                    errors.append({"PartitionValueList": values, **_partition_error(None, exc)})
                    continue
                if new["Values"] != values and any(
                    p["Values"] == new["Values"] for p in partitions
                ):
                    if single:
                        raise EntityExists("Partition")
                    errors.append(
                        {
                            "PartitionValueList": values,
                            **_partition_error(None, EntityExists("Partition")),
                        }
                    )
                    continue
                new["CreationTime"] = partitions[at]["CreationTime"]
                partitions[at] = new
            if len(errors) != len(entries):
                self.store.put_table(current["DatabaseName"], {**record, "Partitions": partitions})
        return errors

    def get_partition(self, database: str, table: str, values: list[str]) -> Body:
        with self.store.lock(exclusive=False):
            record = find_table(self.store, database, table)
        for partition in record["Partitions"]:
            if partition["Values"] == values:
                return partition
        raise EntityNotFound("Cannot find partition.")

    def get_partitions(
        self,
        database: str,
        table: str,
        expression: str | None,
        next_token: str | None,
        max_results: int | None,
        exclude_column_schema: bool = False,
    ) -> tuple[list[Body], str]:
        with self.store.lock(exclusive=False):
            record = find_table(self.store, database, table)
        current = record["Versions"][-1]
        keys = [column["Name"] for column in current.get("PartitionKeys") or []]
        partitions = list(record["Partitions"])
        if expression and expression.strip():
            types = {
                column["Name"]: column.get("Type", "string")
                for column in current.get("PartitionKeys") or []
            }
            predicate = compile_expression(expression, types)
            partitions = [
                p
                for p in partitions
                if predicate(dict(zip([k.lower() for k in keys], p["Values"], strict=False)))
            ]
        numbered = [{"n": f"{n:012d}", "p": p} for n, p in enumerate(partitions)]
        page, token = page_of(
            numbered, lambda item: item["n"], next_token, max_results or PARTITION_PAGE
        )
        out = [item["p"] for item in page]
        if exclude_column_schema:
            out = [_without_columns(p) for p in out]
        return out, token

    def add_found(self, table: Body, found: list[tuple[list[str], str]]) -> int:
        """Partitions found in the table's data, as ``(values, "k=v/..." directory)``, that
        the table lacks, added with their locations below the table's; how many.  What
        Spark's SHOW PARTITIONS and an awsglue write with ``partitionKeys`` both report."""
        database, name = table["DatabaseName"], table["Name"]
        known, _ = self.get_partitions(database, name, None, None, 10**9)
        have = {tuple(p["Values"]) for p in known}
        descriptor = table.get("StorageDescriptor") or {}
        base = (descriptor.get("Location") or "").rstrip("/")
        new = [
            {"Values": values, "StorageDescriptor": {**descriptor, "Location": where}}
            for values, spec in found
            for where in [f"{base}/{spec}" if base else ""]
            if tuple(values) not in have
        ]
        if not new:
            return 0
        return len(new) - len(self.batch_create_partition(database, name, new))

    def batch_get_partition(self, database: str, table: str, wanted: list[list[str]]) -> list[Body]:
        """The partitions found, in the order asked; those not found are left out."""
        with self.store.lock(exclusive=False):
            record = find_table(self.store, database, table)
        by_values = {tuple(p["Values"]): p for p in record["Partitions"]}
        return [by_values[tuple(values)] for values in wanted if tuple(values) in by_values]

    def delete_partition(self, database: str, table: str, values: list[str]) -> None:
        if self.batch_delete_partition(database, table, [values]):
            raise EntityNotFound("Cannot find partition.")

    def batch_delete_partition(
        self, database: str, table: str, wanted: list[list[str]]
    ) -> list[Body]:
        with self.store.lock(exclusive=True):
            record = find_table(self.store, database, table)
            doomed = {tuple(values) for values in wanted}
            kept = [p for p in record["Partitions"] if tuple(p["Values"]) not in doomed]
            present = {tuple(p["Values"]) for p in record["Partitions"]}
            errors = [
                _partition_error(values, EntityNotFound("Partition not found"))
                for values in wanted
                if tuple(values) not in present
            ]
            if len(kept) != len(record["Partitions"]):
                database_name = record["Versions"][-1]["DatabaseName"]
                self.store.put_table(database_name, {**record, "Partitions": kept})
        return errors


def _partition_error(values: list[str] | None, exc: Any) -> Body:
    error: Body = {"ErrorDetail": {"ErrorCode": exc.code, "ErrorMessage": exc.message}}
    if values is not None:
        error = {"PartitionValues": values, **error}
    return error


def _without_columns(partition: Body) -> Body:
    descriptor = partition.get("StorageDescriptor")
    if not descriptor or "Columns" not in descriptor:
        return partition
    return {
        **partition,
        "StorageDescriptor": {k: v for k, v in descriptor.items() if k != "Columns"},
    }
