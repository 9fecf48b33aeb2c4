"""The local Data Catalog against moto's: the same boto3 calls to both, compared shape by shape.

Each step's outcome (a reply, or an error code) must be the same; replies are compared by
their keys and value types all the way down, and by value where it is deterministic (not
timestamps).  Where moto and the real service differ and public evidence says what the
service does, the service wins; each such difference is one entry of ``SERVICE_WINS``,
with its source, and is checked to be exactly that difference.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from helpers import make_glue

# Key paths (dotted, "[]" for list items) where ours follows the service, not moto.
SERVICE_WINS: dict[str, str] = {
    # A recorded GetTable reply of the service (hashicorp/terraform-provider-aws#35954) and
    # `aws glue get-table` output in public repositories carry these on every table; moto's
    # table has neither.
    "Table.IsRegisteredWithLakeFormation": "key only ours",
    "TableList[].IsRegisteredWithLakeFormation": "key only ours",
    "TableVersions[].Table.IsRegisteredWithLakeFormation": "key only ours",
    # ... and UpdateTime equal to CreateTime on a table never updated (moto adds it at the
    # first update).
    "Table.UpdateTime": "key only ours before an update",
    "TableList[].UpdateTime": "key only ours before an update",
    "TableVersions[].Table.UpdateTime": "key only ours before an update",
    # A new table is VersionId "0" at the service (`aws glue get-table` output, CreateTime =
    # UpdateTime, VersionId "0"; one update later "1"); moto counts from "1".
    "Table.VersionId": "value: ours one less",
    "TableList[].VersionId": "value: ours one less",
    "TableVersions[].VersionId": "value: ours one less",
    "TableVersions[].Table.VersionId": "value: ours one less",
    "TableVersion.Table.IsRegisteredWithLakeFormation": "key only ours",
    # GetTableVersion without a VersionId: moto echoes the request's (absent) VersionId, so
    # its reply has none; the model's TableVersion has one, the current version's.
    "TableVersion.VersionId": "key only ours",
    "TableVersion.Table.VersionId": "value: ours one less",
}
# Steps whose outcome differs, with the reason: the model's constraints, which the service
# checks (NameString is 1-255 characters; moto's server checks no constraint).
OUTCOME_WINS = {
    "name too long": ("ValidationException", "ok"),
    # The model: TableInput.Name "is folded to lowercase when it is stored"; moto stores
    # the name as given, so it finds no table by the folded name.
    "get the table by another case": ("ok", "EntityNotFoundException"),
}


def run_sequence(glue: Any, db: str) -> list[tuple[str, Any]]:
    """The catalog calls, each step's name and outcome (the reply, or the error code)."""
    table_input = {
        "Name": "sales",
        "Description": "sales by year",
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "amount", "Type": "double"}],
            "Location": "s3://bucket/sales/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"field.delim": ","},
            },
        },
        "PartitionKeys": [{"Name": "year", "Type": "string"}],
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "csv"},
    }
    steps: list[tuple[str, Any]] = []

    def step(label: str, call: Any, **kwargs: Any) -> None:
        try:
            reply = call(**kwargs)
            reply.pop("ResponseMetadata", None)
            steps.append((label, reply))
        except glue.exceptions.ClientError as exc:
            steps.append((label, exc.response["Error"]["Code"]))

    step("create database", glue.create_database, DatabaseInput={"Name": db, "Description": "d"})
    step("get database", glue.get_database, Name=db)
    step("duplicate database", glue.create_database, DatabaseInput={"Name": db})
    step("unknown database", glue.get_database, Name=db + "_missing")
    step(
        "table in unknown database",
        glue.create_table,
        DatabaseName=db + "_missing",
        TableInput=table_input,
    )
    step("create table", glue.create_table, DatabaseName=db, TableInput=table_input)
    step("duplicate table", glue.create_table, DatabaseName=db, TableInput=table_input)
    step("get table", glue.get_table, DatabaseName=db, Name="sales")
    step("get the table by another case", glue.get_table, DatabaseName=db, Name="SALES")
    step("unknown table", glue.get_table, DatabaseName=db, Name="missing")
    step("get tables", glue.get_tables, DatabaseName=db)
    step("get tables by pattern", glue.get_tables, DatabaseName=db, Expression="sal*")
    step(
        "update table",
        glue.update_table,
        DatabaseName=db,
        TableInput={**table_input, "Description": "updated"},
    )
    step("get updated table", glue.get_table, DatabaseName=db, Name="sales")
    step("table versions", glue.get_table_versions, DatabaseName=db, TableName="sales")
    step(
        "create partitions",
        glue.batch_create_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionInputList=[
            {"Values": [year], "StorageDescriptor": {"Location": f"s3://bucket/sales/{year}/"}}
            for year in ("2019", "2020", "2021")
        ],
    )
    step(
        "duplicate partition in a batch",
        glue.batch_create_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionInputList=[{"Values": ["2020"]}],
    )
    step(
        "duplicate partition",
        glue.create_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionInput={"Values": ["2020"]},
    )
    step(
        "get partition",
        glue.get_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionValues=["2020"],
    )
    step(
        "unknown partition",
        glue.get_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionValues=["1999"],
    )
    step("get partitions", glue.get_partitions, DatabaseName=db, TableName="sales")
    step(
        "partitions by expression",
        glue.get_partitions,
        DatabaseName=db,
        TableName="sales",
        Expression="year >= '2020' AND year <> '2021' OR year = '2019'",
    )
    step(
        "partitions by a bad expression",
        glue.get_partitions,
        DatabaseName=db,
        TableName="sales",
        Expression="nosuchkey = '1'",
    )
    step(
        "batch get partitions",
        glue.batch_get_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionsToGet=[{"Values": ["2021"]}, {"Values": ["1999"]}],
    )
    step(
        "batch delete partitions",
        glue.batch_delete_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionsToDelete=[{"Values": ["2019"]}, {"Values": ["1999"]}],
    )
    step(
        "delete unknown partition",
        glue.delete_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionValues=["1999"],
    )
    step(
        "delete partition",
        glue.delete_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionValues=["2020"],
    )
    step(
        "update partition",
        glue.update_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionValueList=["2021"],
        PartitionInput={"Values": ["2022"], "Parameters": {"k": "v"}},
    )
    step(
        "update unknown partition",
        glue.update_partition,
        DatabaseName=db,
        TableName="sales",
        PartitionValueList=["1999"],
        PartitionInput={"Values": ["1999"]},
    )
    step(
        "batch update partitions",
        glue.batch_update_partition,
        DatabaseName=db,
        TableName="sales",
        Entries=[
            {"PartitionValueList": ["2022"], "PartitionInput": {"Values": ["2022"]}},
            {"PartitionValueList": ["1999"], "PartitionInput": {"Values": ["1999"]}},
        ],
    )
    step("partitions after updates", glue.get_partitions, DatabaseName=db, TableName="sales")
    step("current table version", glue.get_table_version, DatabaseName=db, TableName="sales")
    step("name too long", glue.create_database, DatabaseInput={"Name": "n" * 256})
    step("another table", glue.create_table, DatabaseName=db, TableInput={"Name": "other"})
    step(
        "batch delete tables",
        glue.batch_delete_table,
        DatabaseName=db,
        TablesToDelete=["other", "missing"],
    )
    step("delete table", glue.delete_table, DatabaseName=db, Name="sales")
    step("deleted table", glue.get_table, DatabaseName=db, Name="sales")
    step("delete unknown table", glue.delete_table, DatabaseName=db, Name="sales")
    step("delete database", glue.delete_database, Name=db)
    step("deleted database", glue.get_database, Name=db)
    step("delete unknown database", glue.delete_database, Name=db)
    return steps


def shape(value: Any, path: str = "") -> dict[str, Any]:
    """Every key path in ``value`` with its value's type, and its value where it is
    deterministic (timestamps are only their type)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(shape(item, f"{path}.{key}" if path else key))
    elif isinstance(value, list):
        out[path] = ("list", len(value))
        for item in value:
            out.update(shape(item, f"{path}[]"))
    elif isinstance(value, datetime.datetime):
        out[path] = ("timestamp",)
    else:
        out[path] = (type(value).__name__, value)
    return out


@pytest.fixture
def moto_glue(moto_server: str) -> Any:
    return make_glue(moto_server, attempts=1, parameter_validation=False)


def test_catalog_calls_answer_as_motos_do(moto_glue, glue_client, endpoint):
    ours = glue_client(endpoint, attempts=1, parameter_validation=False)
    db = f"diff_{uuid.uuid4().hex[:10]}"
    theirs_steps = run_sequence(moto_glue, db)
    our_steps = run_sequence(ours, db)
    assert [label for label, _ in our_steps] == [label for label, _ in theirs_steps]
    for (label, mine), (_, theirs) in zip(our_steps, theirs_steps, strict=True):
        mine_kind = mine if isinstance(mine, str) else "ok"
        theirs_kind = theirs if isinstance(theirs, str) else "ok"
        if label in OUTCOME_WINS:
            assert (mine_kind, theirs_kind) == OUTCOME_WINS[label], label
            continue
        assert mine_kind == theirs_kind, f"{label}: ours {mine_kind}, moto's {theirs_kind}"
        if mine_kind != "ok":
            continue
        compare(label, shape(mine), shape(theirs))


def compare(label: str, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    for path in sorted(set(mine) | set(theirs)):
        rule = SERVICE_WINS.get(path)
        if path not in theirs:
            assert rule is not None and rule.startswith("key only ours"), (
                f"{label}: {path} only in ours"
            )
            if rule == "key only ours before an update":
                assert mine[path] == ("timestamp",)
            continue
        assert path in mine, f"{label}: {path} only in moto's reply"
        if rule == "value: ours one less":
            assert int(mine[path][1]) == int(theirs[path][1]) - 1, f"{label}: {path}"
            continue
        assert mine[path] == theirs[path], (
            f"{label}: {path}: ours {mine[path]}, moto's {theirs[path]}"
        )
