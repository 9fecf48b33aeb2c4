"""The Data Catalog in a local session with ``--enable-glue-datacatalog``: real Spark, one
endpoint and one session for the module, tables made through boto3 against the endpoint,
data in its object store at ``s3://`` paths.

What each form does is AWS's:
- "AWS Glue Data Catalog support for Spark SQL jobs": with ``--enable-glue-datacatalog``
  ``spark.sql("SELECT ... FROM db.t")`` reads catalog tables, ``saveAsTable`` makes them;
- "GlueContext class": ``create_dynamic_frame.from_catalog`` (``push_down_predicate``,
  ``additional_options`` ``catalogPartitionPredicate``), ``create_data_frame.from_catalog``,
  ``write_dynamic_frame.from_catalog``;
- "Updating the schema, and adding new partitions in the Data Catalog using AWS Glue ETL
  jobs": ``enableUpdateCatalog`` with ``partitionKeys`` on ``from_catalog`` writes and on
  ``getSink`` + ``setCatalogInfo`` (which creates the table when it is not there);
- "DynamicFrame class", resolveChoice: ``choice="match_catalog"`` with ``database`` and
  ``table_name`` casts each choice to the catalog column's type;
- aws-samples/aws-glue-samples examples/data_cleaning_and_lambda.py and
  examples/join_and_relationalize.py: their ``from_catalog`` reads as written, on tables
  this module makes as the samples' crawler would (payments.medicare, a CSV table with a
  header; legislators.*_json, JSON tables), the data at the samples' s3:// paths.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_samples import DATA_CLEANING_AND_LAMBDA
from helpers import SPARK_PATIENCE, create, make_glue, needs_spark, run, spark_sessions, wait_status

from glue_magics.local import LocalEndpoint

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(SPARK_PATIENCE * 6)]

CSV_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
GLUE_CONTEXT = "from awsglue.context import GlueContext\nglueContext = GlueContext(sc)\n"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: Any) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("catalog-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GLUE_MAGICS_SPARK_MASTER", "local[1]")  # two cores, shared
        patch.setenv("GLUE_LOCAL_DATA_DIR", str(data))
        with LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, data_dir=data) as ep:
            yield ep


@pytest.fixture(scope="module")
def glue(endpoint: Any) -> Any:
    return make_glue(endpoint.url)


@pytest.fixture(scope="module")
def session(glue: Any) -> str:
    arguments = {"--enable-glue-datacatalog": "true", "--conf": "spark.sql.shuffle.partitions=1"}
    with spark_sessions():
        session_id = create(glue, DefaultArguments=arguments)
    wait_status(glue, session_id, "READY", patience=SPARK_PATIENCE * 2)
    first = out(glue, session_id, "print('up')")
    assert first.splitlines()[-1] == "up" and "--enable-glue-datacatalog" not in first
    return session_id


def out(glue: Any, session_id: str, code: str) -> str:
    """A statement's output; it must succeed."""
    statement = run(glue, session_id, code, patience=SPARK_PATIENCE)
    output = statement["Output"]
    assert output["Status"] == "ok", output
    return output["Data"]["TextPlain"]


def put(endpoint: Any, url: str, text: str) -> None:
    """An object at ``s3://BUCKET/KEY`` of the endpoint's object store."""
    path = Path(endpoint.settings.s3_root) / url[len("s3://") :]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def bucket(endpoint: Any, name: str) -> None:
    (Path(endpoint.settings.s3_root) / name).mkdir(parents=True, exist_ok=True)


def add_partitions(
    glue: Any, database: str, table: str, location: str, key: str, values: list[str]
) -> None:
    """The table's partitions by one key, each at ``location/key=value/`` (a crawler's)."""
    glue.batch_create_partition(
        DatabaseName=database,
        TableName=table,
        PartitionInputList=[
            {"Values": [v], "StorageDescriptor": {"Location": f"{location}{key}={v}/"}}
            for v in values
        ],
    )


def csv_table(name: str, location: str, serde: dict[str, Any], parameters: dict) -> dict:
    return {
        "Name": name,
        "Parameters": parameters,
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "name", "Type": "string"}],
            "Location": location,
            "SerdeInfo": serde,
        },
    }


def test_boto3_tables_read_by_from_catalog_and_spark_sql(glue, endpoint, session):
    put(endpoint, "s3://shop-data/people/a.csv", "id;name\n1;ann\n2;bob\n")
    put(endpoint, "s3://shop-data/quoted/a.csv", 'id|name\n3|"c|d"\n')
    glue.create_database(DatabaseInput={"Name": "shop"})
    # by classification, the separator in LazySimpleSerDe's field.delim (a crawler's table)
    glue.create_table(
        DatabaseName="shop",
        TableInput=csv_table(
            "people",
            "s3://shop-data/people/",
            {"SerializationLibrary": CSV_SERDE, "Parameters": {"field.delim": ";"}},
            {"classification": "csv", "skip.header.line.count": "1"},
        ),
    )
    # by SerDe alone: OpenCSVSerde, no classification
    glue.create_table(
        DatabaseName="shop",
        TableInput=csv_table(
            "quoted",
            "s3://shop-data/quoted/",
            {"SerializationLibrary": OPEN_CSV, "Parameters": {"separatorChar": "|"}},
            {"skip.header.line.count": "1"},
        ),
    )
    # a Parquet table, partitioned, its files written by the session's Spark
    out(
        glue,
        session,
        "spark.createDataFrame([(1, 'x', 2020), (2, 'y', 2021), (3, 'z', 2021)], "
        "'id bigint, label string, year int').write.partitionBy('year')"
        ".parquet('s3://shop-data/orders/')",
    )
    glue.create_table(
        DatabaseName="shop",
        TableInput={
            "Name": "orders",
            "Parameters": {"classification": "parquet"},
            "PartitionKeys": [{"Name": "year", "Type": "int"}],
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "id", "Type": "bigint"},
                    {"Name": "label", "Type": "string"},
                ],
                "Location": "s3://shop-data/orders/",
            },
        },
    )
    add_partitions(glue, "shop", "orders", "s3://shop-data/orders/", "year", ["2020", "2021"])
    code = """
from awsglue.context import GlueContext
glueContext = GlueContext(sc)
people = glueContext.create_dynamic_frame.from_catalog(database="shop", table_name="people")
print(sorted(tuple(r) for r in people.toDF().collect()))
quoted = glueContext.create_data_frame.from_catalog(database="shop", table_name="quoted")
print([tuple(r) for r in quoted.collect()], quoted.dtypes)
print(spark.sql("SELECT id, name FROM shop.people ORDER BY id").collect())
print(spark.sql("SELECT count(*) FROM shop.orders WHERE year = 2021").first()[0])
orders = glueContext.create_dynamic_frame.from_catalog(
    database="shop", table_name="orders", push_down_predicate="year = 2020")
print(sorted(tuple(r) for r in orders.toDF().select("id", "label", "year").collect()))
late = glueContext.create_dynamic_frame.from_catalog(
    database="shop", table_name="orders",
    additional_options={"catalogPartitionPredicate": "year > 2020"})
print(late.count(), sorted(late.toDF().columns))
"""
    lines = out(glue, session, code).splitlines()[-6:]
    assert lines[0] == "[(1, 'ann'), (2, 'bob')]"
    assert lines[1] == "[(3, 'c|d')] [('id', 'bigint'), ('name', 'string')]"
    assert lines[2] == "[Row(id=1, name='ann'), Row(id=2, name='bob')]"
    assert lines[3] == "2"
    assert lines[4] == "[(1, 'x', 2020)]"
    assert lines[5] == "2 ['id', 'label', 'year']"


def test_a_partitioned_json_table_keeps_its_partition_keys(glue, endpoint, session):
    """GlueContext class, from_catalog: a table's partition keys are fields of the frame
    whatever its format (the page's push_down_predicate example filters on them); after
    the table's columns, as a table's partition keys come after its columns."""
    put(endpoint, "s3://event-data/events/day=1/a.json", '{"id": 1, "kind": "a"}\n')
    put(endpoint, "s3://event-data/events/day=2/a.json", '{"id": 2, "kind": "b"}\n')
    put(endpoint, "s3://event-data/events/day=2/b.json", '{"id": 3, "kind": "c"}\n')
    glue.create_database(DatabaseInput={"Name": "events_db"})
    glue.create_table(
        DatabaseName="events_db",
        TableInput={
            "Name": "events",
            "Parameters": {"classification": "json"},
            "PartitionKeys": [{"Name": "day", "Type": "int"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "kind", "Type": "string"}],
                "Location": "s3://event-data/events/",
                "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
            },
        },
    )
    add_partitions(glue, "events_db", "events", "s3://event-data/events/", "day", ["1", "2"])
    code = """
events = glueContext.create_dynamic_frame.from_catalog(database="events_db", table_name="events")
print(events.toDF().columns, events.count())
later = glueContext.create_dynamic_frame.from_catalog(
    database="events_db", table_name="events", push_down_predicate="day = 2")
print(sorted((r["id"], r["day"]) for r in later.toDF().collect()))
"""
    lines = out(glue, session, GLUE_CONTEXT + code).splitlines()[-2:]
    assert lines[0] == "['id', 'kind', 'day'] 3"
    assert lines[1] == "[(2, 2), (3, 2)]"


def test_spark_and_awsglue_writes_reach_the_catalog(glue, endpoint, session):
    bucket(endpoint, "made-data")
    glue.create_database(DatabaseInput={"Name": "made", "LocationUri": "s3://made-data/warehouse/"})
    glue.create_table(
        DatabaseName="made",
        TableInput={
            "Name": "events",
            "Parameters": {"classification": "parquet"},
            "PartitionKeys": [{"Name": "region", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}],
                "Location": "s3://made-data/events/",
            },
        },
    )
    code = """
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
glueContext = GlueContext(sc)
df = spark.createDataFrame([(1, 'eu'), (2, 'us'), (3, 'us')], 'id bigint, region string')
spark.createDataFrame([(1, 'a')], 'id bigint, v string').write.format('parquet').option(
    'path', 's3://made-data/saved/').saveAsTable('made.saved')
frame = DynamicFrame.fromDF(df, glueContext, "events")
glueContext.write_dynamic_frame.from_catalog(
    frame=frame, database="made", table_name="events",
    additional_options={"enableUpdateCatalog": True, "partitionKeys": ["region"]})
sink = glueContext.getSink(connection_type="s3", path="s3://made-data/sunk/",
    enableUpdateCatalog=True, updateBehavior="UPDATE_IN_DATABASE", partitionKeys=["region"])
sink.setFormat("glueparquet")
sink.setCatalogInfo(catalogDatabase="made", catalogTableName="sunk")
sink.writeFrame(frame)
print("written")
"""
    assert out(glue, session, code).splitlines()[-1] == "written"
    saved = glue.get_table(DatabaseName="made", Name="saved")["Table"]
    assert saved["StorageDescriptor"]["Location"] == "s3://made-data/saved"
    assert saved["Parameters"]["classification"] == "parquet"
    parts = glue.get_partitions(DatabaseName="made", TableName="events")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["eu", "us"]
    locations = sorted(p["StorageDescriptor"]["Location"] for p in parts)
    assert locations == ["s3://made-data/events/region=eu", "s3://made-data/events/region=us"]
    sunk = glue.get_table(DatabaseName="made", Name="sunk")["Table"]
    assert sunk["PartitionKeys"] == [{"Name": "region", "Type": "string"}]
    assert sunk["StorageDescriptor"]["Columns"] == [{"Name": "id", "Type": "bigint"}]
    assert sunk["StorageDescriptor"]["Location"] == "s3://made-data/sunk/"
    parts = glue.get_partitions(DatabaseName="made", TableName="sunk")["Partitions"]
    assert sorted(p["Values"][0] for p in parts) == ["eu", "us"]
    # the next statement's Spark SQL sees what the last one made
    code = (
        "print(spark.sql('SELECT count(*) FROM made.sunk').first()[0],"
        " spark.sql(\"SELECT count(*) FROM made.events WHERE region = 'us'\").first()[0])"
    )
    assert out(glue, session, code).splitlines()[-1] == "3 2"


# -- aws-samples/aws-glue-samples, their from_catalog reads as written ------------------

MEDICARE_HEADER = [
    "DRG Definition",
    "Provider Id",
    "Provider Name",
    "Provider Street Address",
    "Provider City",
    "Provider State",
    "Provider Zip Code",
    "Hospital Referral Region Description",
    "Total Discharges",
    "Average Covered Charges",
    "Average Total Payments",
    "Average Medicare Payments",
]
MEDICARE_ROWS = [
    ["039 - X", "10001", "SOUTHEAST ALABAMA MEDICAL CENTER", "1108 ROSS CLARK CIRCLE", "DOTHAN",
     "AL", "36301", "AL - Dothan", "91", "$32963.07", "$5777.24", "$4763.73"],
    ["069 - Y", "ABC", "SUTTER GENERAL HOSPITAL", "2801 L STREET", "SACRAMENTO", "CA", "95816",
     "CA - Sacramento", "14", "$17000.00", "$6000.00", "$5000.00"],
    ["069 - Y", "50108", "MERCY GENERAL", "4001 J STREET", "SACRAMENTO", "CA", "95819",
     "CA - Sacramento", "40", "$21000.50", "$7000.25", "$6000.75"],
]  # fmt: skip


@pytest.fixture(scope="module")
def payments(glue: Any, endpoint: Any) -> None:
    """payments.medicare as the samples' crawler makes it: CSV with a header, the columns
    named in lower case (the samples' code uses "provider id"), typed by the crawler."""
    text = io.StringIO()
    csv.writer(text).writerows([MEDICARE_HEADER, *MEDICARE_ROWS])
    put(endpoint, "s3://awsglue-datasets/examples/medicare/Medicare_Hospital_Provider.csv",
        text.getvalue())  # fmt: skip
    bucket(endpoint, "glue-sample-target")
    types = ["string", "bigint", "string", "string", "string", "string", "bigint", "string",
             "bigint", "string", "string", "string"]  # fmt: skip
    glue.create_database(DatabaseInput={"Name": "payments"})
    glue.create_table(
        DatabaseName="payments",
        TableInput={
            "Name": "medicare",
            "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
            "StorageDescriptor": {
                "Columns": [
                    {"Name": n.lower(), "Type": t}
                    for n, t in zip(MEDICARE_HEADER, types, strict=True)
                ],
                "Location": "s3://awsglue-datasets/examples/medicare/",
                "SerdeInfo": {
                    "SerializationLibrary": CSV_SERDE,
                    "Parameters": {"field.delim": ","},
                },
            },
        },
    )


def test_data_cleaning_and_lambda_example_reads_the_catalog(glue, session, payments):
    # examples/data_cleaning_and_lambda.py, its code up to the write as aws-samples has it
    code = """
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from pyspark.context import SparkContext
from pyspark.sql.functions import udf
from pyspark.sql.types import StringType

glueContext = GlueContext(SparkContext.getOrCreate())

# Data Catalog: database and table name
db_name = "payments"
tbl_name = "medicare"

# S3 location for output
output_dir = "s3://glue-sample-target/output-dir/medicare_parquet"

# Read data into a DynamicFrame using the Data Catalog metadata
medicare_dyf = glueContext.create_dynamic_frame.from_catalog(database = db_name, table_name = tbl_name)

"""  # noqa: E501 - the example's lines as written
    code += DATA_CLEANING_AND_LAMBDA
    code += """
medicare_dyf.printSchema()
back = spark.read.parquet(output_dir)
print(back.count(), back.columns)
"""
    lines = out(glue, session, code).splitlines()
    assert "|-- provider id: choice" in lines  # the data's types, as the sample says
    assert lines[-1] == "2 ['drg', 'provider', 'rr', 'charges']"  # "ABC" went
    code = """
matched = medicare_dyf.resolveChoice(choice="match_catalog", database="payments",
                                     table_name="medicare")
print(dict(matched.toDF().dtypes)["provider id"], matched.toDF().where("`provider id` IS NULL").count())
"""  # noqa: E501
    assert out(glue, session, code).splitlines()[-1] == "bigint 1"


PERSONS = [{"id": "p1", "name": "Ann Able"}, {"id": "p2", "name": "Bob Baker"}]
MEMBERSHIPS = [
    {"person_id": "p1", "organization_id": "o1", "role": "member"},
    {"person_id": "p2", "organization_id": "o2", "role": "member"},
]
ORGANIZATIONS = [
    {"id": "o1", "name": "House", "classification": "legislature"},
    {"id": "o2", "name": "Senate", "classification": "legislature"},
]


def test_join_and_relationalize_example_reads_the_catalog(glue, endpoint, session):
    # examples/join_and_relationalize.py: its three from_catalog reads, as written
    glue.create_database(DatabaseInput={"Name": "legislators"})
    for name, records in (
        ("persons", PERSONS),
        ("memberships", MEMBERSHIPS),
        ("organizations", ORGANIZATIONS),
    ):
        folder = f"s3://awsglue-datasets/examples/us-legislators/all/{name}.json"
        put(endpoint, f"{folder}/part-0.json", "".join(json.dumps(r) + "\n" for r in records))
        glue.create_table(
            DatabaseName="legislators",
            TableInput={
                "Name": f"{name}_json",
                "Parameters": {"classification": "json"},
                "StorageDescriptor": {
                    "Location": folder,
                    "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
                },
            },
        )
    code = """
from awsglue.context import GlueContext
from awsglue.transforms import Join
glueContext = GlueContext(sc)
persons = glueContext.create_dynamic_frame.from_catalog(database="legislators", table_name="persons_json")
memberships = glueContext.create_dynamic_frame.from_catalog(database="legislators", table_name="memberships_json")
orgs = glueContext.create_dynamic_frame.from_catalog(database="legislators", table_name="organizations_json")
orgs = orgs.drop_fields(['other_names', 'identifiers']).rename_field('id', 'org_id').rename_field('name', 'org_name')
l_history = Join.apply(orgs, Join.apply(persons, memberships, 'id', 'person_id'), 'org_id', 'organization_id').drop_fields(['person_id', 'org_id'])
print(sorted((r["name"], r["org_name"]) for r in l_history.toDF().collect()))
"""  # noqa: E501 - the example's lines as written
    last = out(glue, session, code).splitlines()[-1]
    assert last == "[('Ann Able', 'House'), ('Bob Baker', 'Senate')]"
