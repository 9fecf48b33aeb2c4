"""The local endpoint's Data Catalog through boto3: databases, tables, versions, partitions;
kept in the data directory across endpoints, whole or not at all, shared by processes."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from helpers import make_glue

PARQUET = {
    "Location": "s3://bucket/sales/",
    "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "amount", "Type": "double"}],
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}


def name(prefix: str = "db") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def db(glue):
    database = name()
    glue.create_database(DatabaseInput={"Name": database, "Description": "tests"})
    yield database
    try:
        glue.delete_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        pass


def partitioned(glue, db: str, table: str = "sales") -> str:
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": table,
            "StorageDescriptor": PARQUET,
            "PartitionKeys": [
                {"Name": "year", "Type": "int"},
                {"Name": "region", "Type": "string"},
            ],
            "Parameters": {"classification": "parquet"},
        },
    )
    values = [[str(y), r] for y in (2019, 2020, 2021, 999) for r in ("eu", "us")]
    out = glue.batch_create_partition(
        DatabaseName=db,
        TableName=table,
        PartitionInputList=[{"Values": v, "StorageDescriptor": PARQUET} for v in values],
    )
    assert "Errors" not in out
    return table


# --------------------------------------------------------------------------- databases


def test_database_name_is_folded_to_lowercase_and_stamped(glue):
    # The model: DatabaseInput.Name "is folded to lowercase when it is stored".
    upper = name("Mixed").upper()
    before = datetime.datetime.now(datetime.timezone.utc)
    glue.create_database(DatabaseInput={"Name": upper, "Parameters": {"k": "v"}})
    try:
        database = glue.get_database(Name=upper)["Database"]
        assert database["Name"] == upper.lower()
        assert database["CatalogId"] == "123456789012"
        assert database["Parameters"] == {"k": "v"}
        assert database["CreateTime"] >= before - datetime.timedelta(seconds=1)
        assert upper.lower() in {d["Name"] for d in glue.get_databases()["DatabaseList"]}
        with pytest.raises(glue.exceptions.AlreadyExistsException):
            glue.create_database(DatabaseInput={"Name": upper.lower()})
    finally:
        glue.delete_database(Name=upper)
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="not found"):
        glue.get_database(Name=upper)


def test_update_database_keeps_name_and_create_time(glue, db):
    created = glue.get_database(Name=db)["Database"]
    glue.update_database(Name=db, DatabaseInput={"Name": db, "Description": "new"})
    updated = glue.get_database(Name=db)["Database"]
    assert updated["Description"] == "new"
    assert updated["CreateTime"] == created["CreateTime"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.update_database(Name=name(), DatabaseInput={"Name": "x"})


def test_get_databases_pages_by_max_results(glue):
    made = sorted(name("page") for _ in range(3))
    for database in made:
        glue.create_database(DatabaseInput={"Name": database})
    try:
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
            reply = glue.get_databases(**kwargs)
            assert len(reply["DatabaseList"]) <= 2
            seen += [d["Name"] for d in reply["DatabaseList"]]
            pages += 1
            token = reply.get("NextToken")
            if not token:
                break
        assert [d for d in seen if d in made] == made
        assert pages >= 2 and len(seen) == len(set(seen))
        with pytest.raises(glue.exceptions.InvalidInputException, match="NextToken"):
            glue.get_databases(NextToken="garbage!")
    finally:
        for database in made:
            glue.delete_database(Name=database)


def test_bad_names_are_refused_by_the_models_constraints(glue_client, endpoint):
    raw = glue_client(endpoint, parameter_validation=False)
    with pytest.raises(raw.exceptions.ClientError) as info:
        raw.create_database(DatabaseInput={"Name": "x" * 256})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "databaseInput.name" in info.value.response["Error"]["Message"]
    with pytest.raises(raw.exceptions.ClientError) as info:
        raw.create_database(DatabaseInput={"Name": "two\nlines"})
    assert info.value.response["Error"]["Code"] == "ValidationException"


# --------------------------------------------------------------------------- tables


def test_table_round_trip_with_what_the_service_adds(glue, db):
    glue.create_table(
        DatabaseName=db.upper(),
        TableInput={"Name": "Sales", "StorageDescriptor": PARQUET, "TableType": "EXTERNAL_TABLE"},
    )
    table = glue.get_table(DatabaseName=db, Name="SALES")["Table"]
    assert table["Name"] == "sales" and table["DatabaseName"] == db
    assert table["StorageDescriptor"] == PARQUET
    assert table["CatalogId"] == "123456789012"
    # Recorded replies of the service: a new table is VersionId "0", UpdateTime = CreateTime,
    # IsRegisteredWithLakeFormation false (hashicorp/terraform-provider-aws#35954's body).
    assert table["VersionId"] == "0"
    assert table["UpdateTime"] == table["CreateTime"]
    assert table["IsRegisteredWithLakeFormation"] is False
    with pytest.raises(glue.exceptions.AlreadyExistsException, match="Table already exists"):
        glue.create_table(DatabaseName=db, TableInput={"Name": "sales"})
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="Database"):
        glue.create_table(DatabaseName=name(), TableInput={"Name": "t"})
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="Table nope not found"):
        glue.get_table(DatabaseName=db, Name="nope")


def test_update_table_makes_versions(glue, db):
    glue.create_table(DatabaseName=db, TableInput={"Name": "t", "Description": "one"})
    glue.update_table(DatabaseName=db, TableInput={"Name": "t", "Description": "two"})
    glue.update_table(DatabaseName=db, TableInput={"Name": "T", "Description": "three"})
    table = glue.get_table(DatabaseName=db, Name="t")["Table"]
    assert table["Description"] == "three" and table["VersionId"] == "2"
    assert table["UpdateTime"] > table["CreateTime"]
    versions = glue.get_table_versions(DatabaseName=db, TableName="t")["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["0", "1", "2"]
    assert [v["Table"]["Description"] for v in versions] == ["one", "two", "three"]
    glue.update_table(
        DatabaseName=db, TableInput={"Name": "t", "Description": "4"}, SkipArchive=True
    )
    versions = glue.get_table_versions(DatabaseName=db, TableName="t")["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["0", "1", "3"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.update_table(DatabaseName=db, TableInput={"Name": "missing"})


def test_get_tables_filters_by_pattern_and_pages(glue, db):
    for table in ("sales_2020", "sales_2021", "orders", "sales"):
        glue.create_table(DatabaseName=db, TableInput={"Name": table})
    every = [t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]]
    assert every == ["orders", "sales", "sales_2020", "sales_2021"]
    matched = glue.get_tables(DatabaseName=db, Expression="sales_*")["TableList"]
    assert [t["Name"] for t in matched] == ["sales_2020", "sales_2021"]
    # The pattern the AWS CLI is given in the wild: alternatives with '|'.
    matched = glue.get_tables(DatabaseName=db, Expression="orders|sales_2021")["TableList"]
    assert [t["Name"] for t in matched] == ["orders", "sales_2021"]
    first = glue.get_tables(DatabaseName=db, MaxResults=3)
    second = glue.get_tables(DatabaseName=db, MaxResults=3, NextToken=first["NextToken"])
    assert [t["Name"] for t in first["TableList"] + second["TableList"]] == every
    assert "NextToken" not in second
    with pytest.raises(glue.exceptions.InvalidInputException, match="pattern"):
        glue.get_tables(DatabaseName=db, Expression="sales[")


def test_delete_table_and_database_with_its_tables(glue, db):
    glue.create_table(DatabaseName=db, TableInput={"Name": "t"})
    glue.delete_table(DatabaseName=db, Name="T")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.delete_table(DatabaseName=db, Name="t")
    glue.create_table(DatabaseName=db, TableInput={"Name": "kept"})
    glue.delete_database(Name=db)
    glue.create_database(DatabaseInput={"Name": db})
    assert glue.get_tables(DatabaseName=db)["TableList"] == []


def test_create_table_needs_a_table_input(glue, db):
    with pytest.raises(glue.exceptions.InvalidInputException, match="TableInput"):
        glue.create_table(DatabaseName=db, Name="t")


# --------------------------------------------------------------------------- partitions


def test_partitions_created_got_filtered_and_deleted(glue, db):
    table = partitioned(glue, db)
    partition = glue.get_partition(DatabaseName=db, TableName=table, PartitionValues=["2020", "eu"])
    partition = partition["Partition"]
    assert partition["DatabaseName"] == db and partition["TableName"] == table
    assert partition["StorageDescriptor"] == PARQUET and "CreationTime" in partition

    def values(expression: str) -> list[list[str]]:
        reply = glue.get_partitions(DatabaseName=db, TableName=table, Expression=expression)
        return [p["Values"] for p in reply["Partitions"]]

    # year is an int key: 999 < 2020 numerically, though not as text.
    assert values("year < 2020") == [["2019", "eu"], ["2019", "us"], ["999", "eu"], ["999", "us"]]
    assert values("year >= 2020 AND region = 'us'") == [["2020", "us"], ["2021", "us"]]
    assert values("year = 2021 OR (year = 999 AND region <> 'us')") == [
        ["2021", "eu"],
        ["2021", "us"],
        ["999", "eu"],
    ]
    assert values("year BETWEEN 2020 AND 2021 AND region IN ('eu')") == [
        ["2020", "eu"],
        ["2021", "eu"],
    ]
    assert values("region LIKE 'e%' AND NOT year > 2000") == [["999", "eu"]]
    assert len(values("")) == 8
    for bad in ("yr = 1", "year = ", "year = 'abc'", "year >> 1"):
        with pytest.raises(glue.exceptions.InvalidInputException, match="expression"):
            values(bad)

    got = glue.batch_get_partition(
        DatabaseName=db,
        TableName=table,
        PartitionsToGet=[
            {"Values": ["2021", "us"]},
            {"Values": ["1", "xx"]},
            {"Values": ["2019", "eu"]},
        ],
    )
    assert [p["Values"] for p in got["Partitions"]] == [["2021", "us"], ["2019", "eu"]]

    again = glue.batch_create_partition(
        DatabaseName=db, TableName=table, PartitionInputList=[{"Values": ["2020", "eu"]}]
    )
    assert again["Errors"][0]["ErrorDetail"]["ErrorCode"] == "AlreadyExistsException"
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_partition(
            DatabaseName=db, TableName=table, PartitionInput={"Values": ["2020", "eu"]}
        )
    with pytest.raises(glue.exceptions.InvalidInputException, match="number of partition"):
        glue.create_partition(DatabaseName=db, TableName=table, PartitionInput={"Values": ["2020"]})

    glue.delete_partition(DatabaseName=db, TableName=table, PartitionValues=["2020", "eu"])
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.delete_partition(DatabaseName=db, TableName=table, PartitionValues=["2020", "eu"])
    out = glue.batch_delete_partition(
        DatabaseName=db,
        TableName=table,
        PartitionsToDelete=[{"Values": ["2021", "eu"]}, {"Values": ["2020", "eu"]}],
    )
    assert [e["PartitionValues"] for e in out["Errors"]] == [["2020", "eu"]]
    assert len(values("")) == 6


def test_get_partitions_pages(glue, db):
    table = partitioned(glue, db)
    seen, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        reply = glue.get_partitions(DatabaseName=db, TableName=table, MaxResults=3, **kwargs)
        seen += [p["Values"] for p in reply["Partitions"]]
        token = reply.get("NextToken")
        if not token:
            break
    assert len(seen) == 8 and len({tuple(v) for v in seen}) == 8
    reply = glue.get_partitions(DatabaseName=db, TableName=table, ExcludeColumnSchema=True)
    assert all("Columns" not in p["StorageDescriptor"] for p in reply["Partitions"])


# --------------------------------------------------------------------------- persistence


def test_catalog_survives_an_endpoint_restart(fresh_endpoint, tmp_path):
    first = fresh_endpoint(data_dir=tmp_path)
    glue = make_glue(first.url)
    glue.create_database(DatabaseInput={"Name": "kept"})
    partitioned(glue, "kept")
    first.stop()
    second = fresh_endpoint(data_dir=tmp_path)
    glue = make_glue(second.url)
    assert (
        glue.get_table(DatabaseName="kept", Name="sales")["Table"]["StorageDescriptor"] == PARQUET
    )
    assert len(glue.get_partitions(DatabaseName="kept", TableName="sales")["Partitions"]) == 8
    assert (tmp_path / "catalog" / "kept" / "tables" / "sales.json").is_file()


def test_two_endpoints_on_one_data_dir_share_the_catalog(fresh_endpoint, tmp_path):
    one = make_glue(fresh_endpoint(data_dir=tmp_path).url)
    two = make_glue(fresh_endpoint(data_dir=tmp_path).url)
    one.create_database(DatabaseInput={"Name": "shared"})
    with pytest.raises(two.exceptions.AlreadyExistsException):
        two.create_database(DatabaseInput={"Name": "shared"})
    two.create_table(DatabaseName="shared", TableInput={"Name": "t"})
    assert one.get_table(DatabaseName="shared", Name="t")["Table"]["Name"] == "t"


# Another process adds partitions to the same table while this one does: under the file
# lock no read-modify-write loses the other's partitions.
_WRITER = textwrap.dedent(
    """
    import sys
    from glue_magics.local.catalog import Catalog
    catalog = Catalog(sys.argv[1], "123456789012")
    for n in range(int(sys.argv[3])):
        catalog.batch_create_partition("shared", "t", [{"Values": [sys.argv[2] + str(n)]}])
    """
)


def test_processes_adding_partitions_at_once_lose_none(tmp_path):
    from glue_magics.local.catalog import Catalog

    root = tmp_path / "catalog"
    catalog = Catalog(root, "123456789012")
    catalog.create_database({"Name": "shared"})
    catalog.create_table(
        "shared", {"Name": "t", "PartitionKeys": [{"Name": "k", "Type": "string"}]}
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(root), prefix, "40"])
        for prefix in ("a", "b", "c")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    partitions, _ = catalog.get_partitions("shared", "t", None, None, None)
    assert len(partitions) == 120


# A write that fails leaves the catalog as it was: a real failure, the process's file-size
# limit (RLIMIT_FSIZE, which binds root too), met by an update larger than the limit.
_LIMITED = textwrap.dedent(
    """
    import resource, signal, sys
    from glue_magics.local.catalog import Catalog
    from glue_magics.local.exceptions import ServiceError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    catalog = Catalog(sys.argv[1], "123456789012")
    try:
        catalog.update_table("db", {"Name": "t", "Description": "x" * 2000, "Parameters":
                                    {str(n): "y" * 100 for n in range(50)}})
    except ServiceError as exc:
        print(exc.code, exc.status, exc.message)
    """
)


def test_a_failed_write_leaves_the_catalog_as_it_was(tmp_path):
    from glue_magics.local.catalog import Catalog

    root = tmp_path / "catalog"
    catalog = Catalog(root, "123456789012")
    catalog.create_database({"Name": "db"})
    catalog.create_table("db", {"Name": "t", "Description": "before"})
    table_file = root / "db" / "tables" / "t.json"
    before = table_file.read_bytes()
    out = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(root)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("InternalServiceException 500 The catalog could not be written")
    assert table_file.read_bytes() == before
    assert catalog.get_table("db", "t")["Description"] == "before"
    assert [p.name for p in table_file.parent.iterdir()] == ["t.json"]  # no temporary left
    assert json.loads(before)["Versions"][-1]["VersionId"] == "0"


def test_names_any_characters_are_stored_apart(tmp_path):
    from glue_magics.local.catalog import Catalog

    catalog = Catalog(tmp_path, "123456789012")
    names = ["a/b", "..", ".", "a%2fb", "ü", "x" * 255, "x" * 254 + "y", "business-operations"]
    for database in names:
        catalog.create_database({"Name": database})
    assert sorted(d["Name"] for d in catalog.get_databases(None, 100)[0]) == sorted(names)
    assert {p.name for p in Path(tmp_path).iterdir()} >= {"%2E%2E", "a%2Fb", "a%252fb"}


# --------------------------------------------------------------------------- what is not served


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.delete_table_version(DatabaseName="d", TableName="t", VersionId="1"),
        lambda g: g.get_column_statistics_for_table(
            DatabaseName="d", TableName="t", ColumnNames=["c"]
        ),
        lambda g: g.search_tables(),
    ],
)
def test_catalog_operations_not_served_are_unknown_operations(glue_client, endpoint, call):
    client = glue_client(endpoint, attempts=1)
    with pytest.raises(client.exceptions.ClientError) as info:
        call(client)
    error = info.value.response
    assert error["Error"]["Code"] == "UnknownOperationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


# --------------------------------------------------------------------------- the AWS CLI


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_adds_a_table_as_the_readme_shows(glue, endpoint, tmp_path):
    database = name("cli")
    table_input = {
        "Name": "orders",
        "Parameters": {"classification": "parquet"},
        "StorageDescriptor": {"Location": "s3://my-bucket/orders/"},
        "PartitionKeys": [{"Name": "year", "Type": "int"}],
    }
    (tmp_path / "orders.json").write_text(json.dumps(table_input))
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint.url}

    def aws(*args: str) -> str:
        out = subprocess.run(
            ["aws", "glue", *args, "--endpoint-url", endpoint.url, "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    aws("create-database", "--database-input", f"Name={database}")
    try:
        aws("create-table", "--database-name", database, "--table-input", "file://orders.json")
        glue.create_partition(
            DatabaseName=database, TableName="orders", PartitionInput={"Values": ["2021"]}
        )
        listed = json.loads(
            aws(
                "get-partitions",
                "--database-name",
                database,
                "--table-name",
                "orders",
                "--expression",
                "year >= 2020",
            )
        )
        assert [p["Values"] for p in listed["Partitions"]] == [["2021"]]
        table = glue.get_table(DatabaseName=database, Name="orders")["Table"]
        assert table["StorageDescriptor"]["Location"] == "s3://my-bucket/orders/"
    finally:
        glue.delete_database(Name=database)


# --------------------------------------------------------------------------- table_source


def test_table_source_reads_format_and_options_from_classification_or_serde(tmp_path):
    from glue_magics.local.catalog import Catalog
    from glue_magics.local.catalog.source import table_source

    catalog = Catalog(tmp_path, "123456789012")
    catalog.create_database({"Name": "db"})

    def table(name: str, parameters: dict, descriptor: dict, keys: list | None = None) -> None:
        descriptor = {"Location": f"/data/{name}", **descriptor}
        catalog.create_table(
            "db",
            {
                "Name": name,
                "Parameters": parameters,
                "StorageDescriptor": descriptor,
                "PartitionKeys": keys or [],
            },
        )

    table("p", {"classification": "parquet"}, {})
    table(
        "o",
        {},
        {"SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.orc.OrcSerde"}},
    )
    table("j", {}, {"SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}})
    table(
        "c",
        {"classification": "csv", "skip.header.line.count": "1"},
        {"SerdeInfo": {"Parameters": {"field.delim": "\t"}}},
    )
    table(
        "q",
        {},
        {
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                "Parameters": {"separatorChar": ";", "quoteChar": "'", "escapeChar": "\\"},
            }
        },
    )
    table("u", {"classification": "xml"}, {})
    assert tuple(table_source("db", "P", tmp_path)) == (["/data/p"], "parquet", {})
    assert table_source("db", "o", tmp_path).format == "orc"
    assert table_source("db", "j", tmp_path).format == "json"
    assert table_source("db", "c", tmp_path).options == {"sep": "\t", "header": "true"}
    assert table_source("db", "q", tmp_path).options == {
        "sep": ";",
        "quote": "'",
        "escape": "\\",
        "header": "false",
    }
    with pytest.raises(ValueError, match="no format read here \\(xml\\)"):
        table_source("db", "u", tmp_path)

    table("parts", {"classification": "parquet"}, {}, [{"Name": "year", "Type": "int"}])
    catalog.batch_create_partition("db", "parts", [{"Values": [y]} for y in ("2020", "2021")])
    assert table_source("db", "parts", tmp_path).paths == ["/data/parts"]
    source = table_source("db", "parts", tmp_path, expression="year > 2020")
    assert source.paths == ["/data/parts/year=2021"]
    assert source.options == {"basePath": "/data/parts"}


def test_batch_delete_table_and_table_version(glue, db):
    glue.create_table(DatabaseName=db, TableInput={"Name": "a", "Description": "one"})
    glue.create_table(DatabaseName=db, TableInput={"Name": "b"})
    glue.update_table(DatabaseName=db, TableInput={"Name": "a", "Description": "two"})
    current = glue.get_table_version(DatabaseName=db, TableName="a")["TableVersion"]
    assert current["VersionId"] == "1" and current["Table"]["Description"] == "two"
    first = glue.get_table_version(DatabaseName=db, TableName="a", VersionId="0")
    assert first["TableVersion"]["Table"]["Description"] == "one"
    with pytest.raises(glue.exceptions.EntityNotFoundException, match="Version"):
        glue.get_table_version(DatabaseName=db, TableName="a", VersionId="7")
    with pytest.raises(glue.exceptions.InvalidInputException):
        glue.get_table_version(DatabaseName=db, TableName="a", VersionId="x")
    out = glue.batch_delete_table(DatabaseName=db, TablesToDelete=["A", "missing", "b"])
    assert [e["TableName"] for e in out["Errors"]] == ["missing"]
    assert glue.get_tables(DatabaseName=db)["TableList"] == []


def test_update_partitions_in_place_and_to_new_values(glue, db):
    table = partitioned(glue, db)
    created = glue.get_partition(DatabaseName=db, TableName=table, PartitionValues=["2020", "eu"])
    glue.update_partition(
        DatabaseName=db,
        TableName=table,
        PartitionValueList=["2020", "eu"],
        PartitionInput={"Values": ["2020", "eu"], "Parameters": {"k": "v"}},
    )
    updated = glue.get_partition(DatabaseName=db, TableName=table, PartitionValues=["2020", "eu"])
    assert updated["Partition"]["Parameters"] == {"k": "v"}
    assert updated["Partition"]["CreationTime"] == created["Partition"]["CreationTime"]
    glue.update_partition(
        DatabaseName=db,
        TableName=table,
        PartitionValueList=["2020", "eu"],
        PartitionInput={"Values": ["2030", "eu"]},
    )
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_partition(DatabaseName=db, TableName=table, PartitionValues=["2020", "eu"])
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.update_partition(
            DatabaseName=db,
            TableName=table,
            PartitionValueList=["2030", "eu"],
            PartitionInput={"Values": ["2021", "eu"]},
        )
    out = glue.batch_update_partition(
        DatabaseName=db,
        TableName=table,
        Entries=[
            {"PartitionValueList": ["2030", "eu"], "PartitionInput": {"Values": ["2030", "eu"]}},
            {"PartitionValueList": ["1", "x"], "PartitionInput": {"Values": ["1", "x"]}},
        ],
    )
    assert [e["PartitionValueList"] for e in out["Errors"]] == [["1", "x"]]


def test_attributes_to_get_keeps_only_what_is_named(glue, db):
    glue.create_table(DatabaseName=db, TableInput={"Name": "t", "TableType": "EXTERNAL_TABLE"})
    tables = glue.get_tables(DatabaseName=db, AttributesToGet=["NAME", "TABLE_TYPE"])
    assert tables["TableList"] == [{"Name": "t", "TableType": "EXTERNAL_TABLE"}]
    tables = glue.get_tables(DatabaseName=db, AttributesToGet=["NAME"])
    assert tables["TableList"] == [{"Name": "t"}]
    with pytest.raises(glue.exceptions.InvalidInputException, match="NAME"):
        glue.get_tables(DatabaseName=db, AttributesToGet=["TABLE_TYPE"])
    databases = glue.get_databases(AttributesToGet=["NAME"])["DatabaseList"]
    assert {"Name": db} in databases and all(list(d) == ["Name"] for d in databases)
