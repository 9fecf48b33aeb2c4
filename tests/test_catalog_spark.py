"""What Spark and ``from_catalog`` see of the Data Catalog, with real Spark on local paths
(one SparkSession for the module): tables made through boto3 read by Spark SQL and by
``table_source``, and tables made by ``saveAsTable`` written back for boto3 to see."""

from __future__ import annotations

import uuid

import pytest
from helpers import make_glue, needs_spark

from glue_magics.local.catalog.source import table_source
from glue_magics.local.catalog.spark import register_catalog, write_back

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(600)]

CSV_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("warehouse")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("catalog-tests")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture
def ep(fresh_endpoint, tmp_path):
    return fresh_endpoint(data_dir=tmp_path / "data")


@pytest.fixture
def glue(ep):
    return make_glue(ep.url)


def fresh(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_catalog_tables_read_by_spark_sql_and_table_source(spark, ep, glue, tmp_path):
    db = fresh("shop")
    data = tmp_path / "files"
    people = spark.createDataFrame([(1, "ann", 2020), (2, "bob", 2021), (3, "cy", 2021)])
    people = people.toDF("id", "name", "year")
    people.write.partitionBy("year").parquet(str(data / "orders"))
    (data / "csv").mkdir(parents=True)
    (data / "csv" / "a.csv").write_text("id;name\n1;ann\n2;bob\n")
    (data / "quoted").mkdir()
    (data / "quoted" / "a.csv").write_text('id|name\n1|"a|b"\n')

    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": "orders",
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
                "Location": str(data / "orders"),
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
            },
            "PartitionKeys": [{"Name": "year", "Type": "int"}],
        },
    )
    glue.batch_create_partition(
        DatabaseName=db,
        TableName="orders",
        PartitionInputList=[
            {"Values": [y], "StorageDescriptor": {"Location": str(data / "orders" / f"year={y}")}}
            for y in ("2020", "2021")
        ],
    )
    # csv by classification, with the separator in the SerDe and a header line
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": "People_CSV",
            "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "int"}, {"Name": "name", "Type": "string"}],
                "Location": str(data / "csv"),
                "SerdeInfo": {
                    "SerializationLibrary": CSV_SERDE,
                    "Parameters": {"field.delim": ";"},
                },
            },
        },
    )
    # csv by SerDe alone (OpenCSVSerde), no columns: Spark reads the header's names
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": "quoted",
            "Parameters": {"skip.header.line.count": "1"},
            "StorageDescriptor": {
                "Location": str(data / "quoted"),
                "SerdeInfo": {
                    "SerializationLibrary": OPEN_CSV,
                    "Parameters": {"separatorChar": "|", "quoteChar": '"'},
                },
            },
        },
    )
    glue.create_table(DatabaseName=db, TableInput={"Name": "nowhere"})  # no format: skipped

    root = ep.settings.catalog_root
    made = register_catalog(spark, root)
    assert sorted(made) == [f"{db}.orders", f"{db}.people_csv", f"{db}.quoted"]
    rows = spark.sql(f"SELECT id, name, year FROM {db}.orders ORDER BY id").collect()
    assert [tuple(r) for r in rows] == [(1, "ann", 2020), (2, "bob", 2021), (3, "cy", 2021)]
    rows = spark.sql(f"SELECT count(*) FROM {db}.orders WHERE year = 2021").collect()
    assert rows[0][0] == 2
    rows = spark.sql(f"SELECT id, name FROM {db}.people_csv ORDER BY id").collect()
    assert [tuple(r) for r in rows] == [(1, "ann"), (2, "bob")]
    rows = spark.sql(f"SELECT * FROM {db}.quoted").collect()
    assert [tuple(r) for r in rows] == [("1", "a|b")]
    assert register_catalog(spark, root) == []  # known tables are left alone

    paths, fmt, options = table_source(db, "PEOPLE_csv", root)
    assert (paths, fmt) == ([str(data / "csv")], "csv")
    assert options == {"sep": ";", "header": "true"}
    rows = spark.read.format(fmt).options(**options).load(paths).collect()
    assert [tuple(r) for r in rows] == [("1", "ann"), ("2", "bob")]
    paths, fmt, options = table_source(db, "orders", root)
    assert fmt == "parquet" and options == {"basePath": str(data / "orders")}
    frame = spark.read.format(fmt).options(**options).load(paths)
    assert sorted(frame.columns) == ["id", "name", "year"] and frame.count() == 3
    with pytest.raises(ValueError, match="no format"):
        table_source(db, "nowhere", root)


def test_save_as_table_is_written_back_with_partitions(spark, ep, glue):
    db = fresh("made")
    spark.sql(f"CREATE DATABASE {db}")
    frame = spark.createDataFrame([(1, "x", "eu"), (2, "y", "us"), (3, "z", "us")])
    frame = frame.toDF("id", "label", "region")
    frame.write.partitionBy("region").format("parquet").saveAsTable(f"{db}.events")
    frame.select("id", "label").write.format("csv").option("header", "true").option(
        "sep", ";"
    ).saveAsTable(f"{db}.flat")

    root = ep.settings.catalog_root
    added = write_back(spark, root, "123456789012")
    assert db in added and f"{db}.events" in added and f"{db}.flat" in added
    assert f"{db}.events (2 partitions)" in added

    table = glue.get_table(DatabaseName=db, Name="events")["Table"]
    assert table["Parameters"]["classification"] == "parquet"
    assert table["PartitionKeys"] == [{"Name": "region", "Type": "string"}]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "label"]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    partitions = glue.get_partitions(DatabaseName=db, TableName="events", Expression="region='us'")
    [us] = partitions["Partitions"]
    assert us["Values"] == ["us"] and us["StorageDescriptor"]["Location"].endswith("region=us")
    flat = glue.get_table(DatabaseName=db, Name="flat")["Table"]
    assert flat["Parameters"] == {"classification": "csv", "skip.header.line.count": "1"}
    assert flat["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": ";"}

    # A later append adds a partition; only it is written.
    more = spark.createDataFrame([(4, "w", "asia")]).toDF("id", "label", "region")
    more.write.partitionBy("region").format("parquet").mode("append").saveAsTable(f"{db}.events")
    assert write_back(spark, root, "123456789012") == [f"{db}.events (1 partitions)"]

    # What was written back reads back: the source of the table is where Spark wrote it.
    paths, fmt, options = table_source(db, "flat", root)
    rows = spark.read.format(fmt).options(**options).load(paths).orderBy("id").collect()
    assert [tuple(r) for r in rows] == [("1", "x"), ("2", "y"), ("3", "z")]


def test_sync_follows_the_catalog_statement_by_statement(spark, ep, glue, tmp_path):
    from glue_magics.local.catalog.spark import CatalogSync

    db = fresh("sync")
    data = tmp_path / "logs"
    frame = spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")]).toDF("n", "day")
    frame.write.partitionBy("day").parquet(str(data))
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(
        DatabaseName=db,
        TableInput={
            "Name": "logs",
            "Parameters": {"classification": "parquet"},
            "StorageDescriptor": {
                "Location": str(data),
                "Columns": [{"Name": "n", "Type": "bigint"}],
            },
            "PartitionKeys": [{"Name": "day", "Type": "string"}],
        },
    )
    glue.create_partition(DatabaseName=db, TableName="logs", PartitionInput={"Values": ["a"]})
    sync = CatalogSync(spark, ep.settings.catalog_root, "123456789012")

    def mine(added: list[str]) -> list[str]:
        # The module's one Spark holds the other tests' tables too: this catalog gets them.
        return [name for name in added if name.startswith(f"{db}.")]

    def days() -> list[str]:
        rows = spark.sql(f"SELECT day FROM {db}.logs ORDER BY day").collect()
        return [r[0] for r in rows]

    assert f"{db}.logs" in sync.pull()
    # As with the Glue catalog as metastore: only the partitions the catalog lists, though
    # Spark's CREATE TABLE found directories b and c too.
    assert days() == ["a"]
    glue.batch_create_partition(
        DatabaseName=db, TableName="logs", PartitionInputList=[{"Values": ["c"]}]
    )
    assert sync.pull() == [] and days() == ["a", "c"]
    glue.delete_partition(DatabaseName=db, TableName="logs", PartitionValues=["a"])
    sync.pull()
    assert days() == ["c"]
    assert mine(sync.push()) == []  # nothing Spark made here

    spark.range(3).write.format("json").saveAsTable(f"{db}.made")
    assert mine(sync.push()) == [f"{db}.made"]
    assert glue.get_table(DatabaseName=db, Name="made")["Table"]["Parameters"] == {
        "classification": "json"
    }
    glue.delete_table(DatabaseName=db, Name="logs")
    glue.delete_table(DatabaseName=db, Name="made")
    sync.pull()
    assert not spark.catalog.tableExists(f"{db}.logs")  # dropped: its files stay
    assert sorted(p.name for p in data.iterdir() if p.is_dir()) == ["day=a", "day=b", "day=c"]
    assert mine(sync.push()) == []  # neither comes back to the catalog
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName=db, Name="made")
