"""glue-magics' own awsglue (glue_magics/local/runtime/awsglue) on real Spark.

Each transform and each resolveChoice action runs the example of its page in AWS's
documentation (cited at each test; the data are small files of the examples' schemas that
the test writes, read with ``from_options``), and the transformation parts of
aws-samples/aws-glue-samples' beginner examples run with their Glue code as written there.
Where AWS's pages leave a behaviour open, the test says which choice was made.

The runtime directory goes on this process's path for the module only and comes off
after it (test_awsglue_parsing checks no awsglue is importable outside a session).
"""

# aws-samples' example code is kept as written there: its long lines and a trailing space
# ruff: noqa: E501, W291

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from aws_samples import DATA_CLEANING_AND_LAMBDA
from helpers import needs_spark

import glue_magics.local

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(900)]

RUNTIME = Path(glue_magics.local.__file__).parent / "runtime"
DOCS = "https://docs.aws.amazon.com/glue/latest/dg/"
DYNAMIC_FRAME_PAGE = DOCS + "aws-glue-api-crawler-pyspark-extensions-dynamic-frame.html"


@pytest.fixture(scope="module")
def glueContext():  # noqa: N802 - the name Glue scripts use
    sys.path.insert(0, str(RUNTIME))
    from pyspark.context import SparkContext
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("awsglue-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    from awsglue.context import GlueContext

    try:
        yield GlueContext(SparkContext.getOrCreate())  # as Glue scripts write it
    finally:
        spark.stop()
        sys.path.remove(str(RUNTIME))
        for name in [m for m in sys.modules if m == "awsglue" or m.startswith("awsglue.")]:
            del sys.modules[name]


def lines(path: Path, records: list[dict]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def read_json(glueContext, path: str):  # noqa: N803
    return glueContext.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": [path]}, format="json"
    )


def partitions(path: str) -> list[str]:
    """The partition folders (key=value) a partitioned write made."""
    return sorted(name for name in os.listdir(path) if "=" in name)


def schema_text(frame, capsys) -> str:
    capsys.readouterr()
    frame.printSchema()
    return capsys.readouterr().out


# -- data of the examples' schemas -------------------------------------------------------

# s3://awsglue-datasets/examples/medicare/Medicare_Hospital_Provider.csv, with the column
# names of the crawler's table payments.medicare (lower case, as the examples use them)
MEDICARE_HEADER = [
    "drg definition",
    "provider id",
    "provider name",
    "provider street address",
    "provider city",
    "provider state",
    "provider zip code",
    "hospital referral region description",
    "total discharges",
    "average covered charges",
    "average total payments",
    "average medicare payments",
]
MEDICARE_ROWS = [
    [
        "039 - EXTRACRANIAL PROCEDURES W/O CC/MCC",
        "10001",
        "SOUTHEAST ALABAMA MEDICAL CENTER",
        "1108 ROSS CLARK CIRCLE",
        "DOTHAN",
        "AL",
        "36301",
        "AL - Dothan",
        "91",
        "$32963.07",
        "$5777.24",
        "$4763.73",
    ],
    [
        "039 - EXTRACRANIAL PROCEDURES W/O CC/MCC",
        "10011",
        "ST VINCENT'S EAST",
        "50 MEDICAL PARK EAST DRIVE",
        "MONTGOMERY",
        "AL",
        "35235",
        "AL - Birmingham",
        "25",
        "$15131.85",
        "$5787.57",
        "$4976.71",
    ],
    [
        "069 - TRANSIENT ISCHEMIA",
        "ABC",
        "SUTTER GENERAL HOSPITAL",
        "2801 L STREET",
        "SACRAMENTO",
        "CA",
        "95816",
        "CA - Sacramento",
        "14",
        "$17000.00",
        "$6000.00",
        "$5000.00",
    ],
    [
        "069 - TRANSIENT ISCHEMIA",
        "50108",
        "MERCY GENERAL",
        "4001 J STREET",
        "SACRAMENTO",
        "CA",
        "95819",
        "CA - Sacramento",
        "40",
        "$21000.50",
        "$7000.25",
        "$6000.75",
    ],
]


@pytest.fixture(scope="module")
def medicare_csv(tmp_path_factory) -> str:
    import csv

    path = tmp_path_factory.mktemp("medicare") / "Medicare_Hospital_Provider.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(MEDICARE_HEADER)
        writer.writerows(MEDICARE_ROWS)
    return str(path)


@pytest.fixture
def medicare(glueContext, medicare_csv):  # noqa: N803
    """The medicare data as AWS's examples read it (from_options, CSV with a header)."""
    return glueContext.create_dynamic_frame.from_options(
        "s3", {"paths": [medicare_csv]}, "csv", {"withHeader": True}
    )


# s3://awsglue-datasets/examples/us-legislators/all (persons, memberships, organizations)
PERSONS = [
    {
        "id": "p1",
        "name": "Ann Able",
        "family_name": "Able",
        "given_name": "Ann",
        "gender": "female",
        "birth_date": "1950-01-01",
        "sort_name": "Able, Ann",
        "image": "http://img/p1",
        "contact_details": [
            {"type": "twitter", "value": "annable"},
            {"type": "fax", "value": "555-0101"},
        ],
        "links": [{"note": "Wikipedia (en)", "url": "http://wiki/p1"}],
        "other_names": [{"lang": "en", "name": "Annie", "note": "alternate"}],
        "images": [{"url": "http://img/p1"}],
        "identifiers": [{"scheme": "bioguide", "identifier": "A000001"}],
    },
    {
        "id": "p2",
        "name": "Bob Baker",
        "family_name": "Baker",
        "given_name": "Bob",
        "gender": "male",
        "birth_date": "1960-02-02",
        "sort_name": "Baker, Bob",
        "image": "http://img/p2",
        "contact_details": [],
        "links": [{"note": "Wikipedia (en)", "url": "http://wiki/p2"}],
        "other_names": [],
        "images": [{"url": "http://img/p2"}],
        "identifiers": [{"scheme": "bioguide", "identifier": "B000002"}],
    },
]
MEMBERSHIPS = [
    {
        "area_id": "ocd/al",
        "on_behalf_of_id": "party/republican",
        "organization_id": "o1",
        "role": "member",
        "person_id": "p1",
        "legislative_period_id": "term/114",
        "start_date": "2015-01-03",
        "end_date": "2017-01-03",
    },
    {
        "area_id": "ocd/ca",
        "on_behalf_of_id": "party/democrat",
        "organization_id": "o2",
        "role": "member",
        "person_id": "p2",
        "legislative_period_id": "term/115",
        "start_date": "2017-01-03",
        "end_date": "2019-01-03",
    },
    {
        "area_id": "ocd/al",
        "on_behalf_of_id": "party/republican",
        "organization_id": "o2",
        "role": "member",
        "person_id": "p1",
        "legislative_period_id": "term/115",
        "start_date": "2017-01-03",
        "end_date": "2019-01-03",
    },
]
ORGANIZATIONS = [
    {
        "id": "o1",
        "name": "House",
        "classification": "legislature",
        "type": "lower house",
        "seats": 435,
        "image": "http://img/o1",
        "links": [{"url": "http://house", "note": "home"}],
        "identifiers": [{"scheme": "wikidata", "identifier": "Q11701"}],
        "other_names": [{"lang": "en", "name": "Lower House"}],
    },
    {
        "id": "o2",
        "name": "Senate",
        "classification": "legislature",
        "type": "upper house",
        "seats": 100,
        "image": "http://img/o2",
        "links": [{"url": "http://senate", "note": "home"}],
        "identifiers": [{"scheme": "wikidata", "identifier": "Q66096"}],
        "other_names": [{"lang": "en", "name": "Upper House"}],
    },
]


@pytest.fixture(scope="module")
def legislators(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("legislators")
    return {
        "persons_json": lines(root / "persons.json", PERSONS),
        "memberships_json": lines(root / "memberships.json", MEMBERSHIPS),
        "organizations_json": lines(root / "organizations.json", ORGANIZATIONS),
    }


# -- reading ----------------------------------------------------------------------------


def test_csv_without_withheader_names_columns_col0_on(glueContext, tmp_path):  # noqa: N803
    # "Data format options for inputs and outputs in AWS Glue", CSV: withHeader, default
    # false; the columns are then named col0, col1... as Glue names them
    path = tmp_path / "plain.csv"
    path.write_text("a,1\nb,2\n")
    frame = glueContext.create_dynamic_frame.from_options("s3", {"paths": [str(path)]}, "csv")
    assert frame.toDF().columns == ["col0", "col1"]
    assert [tuple(r) for r in frame.toDF().collect()] == [("a", 1), ("b", 2)]


def test_a_column_of_numbers_and_text_is_a_choice(medicare, capsys):
    # aws-samples resolve_choice.md: "provider id" is a choice of long and string
    shown = schema_text(medicare, capsys)
    assert "|-- provider id: choice\n|    |-- long\n|    |-- string\n" in shown
    assert "|-- total discharges: long\n" in shown
    assert "|-- average covered charges: string\n" in shown
    from awsglue.gluetypes import ChoiceType, LongType

    schema = medicare.schema()
    assert isinstance(schema.getField("provider id").dataType, ChoiceType)
    assert isinstance(schema.getField("total discharges").dataType, LongType)
    assert medicare.count() == 4


def test_json_values_of_several_types_are_a_choice_at_any_depth(glueContext, tmp_path, capsys):  # noqa: N803
    path = lines(tmp_path / "j.json", [{"a": 1, "b": {"c": "x"}}, {"a": "two", "b": {"c": 3}}])
    frame = read_json(glueContext, path)
    shown = schema_text(frame, capsys)
    assert "|-- a: choice\n|    |-- long\n|    |-- string\n" in shown
    assert "|    |-- c: choice\n" in shown


def test_show_prints_records_as_json(medicare, capsys):
    capsys.readouterr()
    medicare.select_fields(["provider name", "total discharges"]).show(1)
    shown = capsys.readouterr().out.strip()
    assert json.loads(shown) == {
        "provider name": "SOUTHEAST ALABAMA MEDICAL CENTER",
        "total discharges": 91,
    }


def test_recurse_and_exclusions(glueContext, tmp_path):  # noqa: N803
    # "Connection types and options for ETL in AWS Glue", S3: paths, recurse, exclusions
    # (a JSON list of Unix-style globs, e.g. "[\"**.pdf\"]")
    lines(tmp_path / "in" / "top.json", [{"n": 1}])
    lines(tmp_path / "in" / "deep" / "er" / "low.json", [{"n": 2}])
    lines(tmp_path / "in" / "deep" / "skip.txt", [{"n": 3}])
    base = str(tmp_path / "in")

    def ns(**options):
        frame = glueContext.create_dynamic_frame.from_options(
            "s3", {"paths": [base], **options}, "json"
        )
        return sorted(r["n"] for r in frame.toDF().collect())

    assert ns() == [1]
    assert ns(recurse=True) == [1, 2, 3]
    assert ns(recurse=True, exclusions='["**.txt"]') == [1, 2]
    assert ns(recurse=True, exclusions='["deep/**"]') == [1]


def test_create_data_frame_from_options_is_a_spark_dataframe(glueContext, medicare_csv):  # noqa: N803
    df = glueContext.create_data_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [medicare_csv]},
        format="csv",
        format_options={"withHeader": True},
    )
    assert df.columns == MEDICARE_HEADER and df.count() == 4


def test_flat_forms_and_keywords_as_aws_pages_write_them(glueContext, medicare_csv):  # noqa: N803
    """GlueContext page: ``create_dynamic_frame_from_options`` and the other flat forms are
    the readers' and writers' methods; the transforms take their arguments by position or
    by the page's keywords, and a missing one is named."""
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.gluetypes import DecimalType, IntegerType, StringType
    from awsglue.transforms import Filter, RenameField, SelectFields

    options = {"paths": [medicare_csv]}
    frame = glueContext.create_dynamic_frame_from_options(
        "s3", options, "csv", {"withHeader": True}
    )
    df = glueContext.create_data_frame_from_options("s3", options, "csv", {"withHeader": True})
    assert isinstance(frame, DynamicFrame) and frame.count() == df.count() == 4
    assert "write_dynamic_frame_from_catalog" in dir(glueContext)
    renamed = RenameField.apply(frame, "provider id", "pid")
    assert "pid" in renamed.toDF().columns
    assert "x" in RenameField.apply(frame=renamed, old_name="pid", new_name="x").toDF().columns
    kept = SelectFields.apply(Filter.apply(frame, lambda r: True, "ctx"), ["pid"], "ctx")
    assert kept.toDF().columns == []  # "pid" is not a field of ``frame``
    with pytest.raises(TypeError, match="missing f="):
        Filter.apply(frame=frame, transformation_ctx="ctx")
    assert repr(DecimalType(10, 2)) == "DecimalType(10, 2)" and IntegerType.typeName() == "int"
    assert repr(StringType()) == "StringType()"


# -- resolveChoice: one test per action (DynamicFrame page, "Example: Use resolveChoice to
# handle a column that contains multiple types", medicare's provider id) -----------------


def provider_ids(frame, column="provider id"):
    return [r[column] for r in frame.toDF().orderBy("provider name").collect()]


# ordered by provider name: MERCY (50108), SOUTHEAST (10001), ST VINCENT'S (10011), SUTTER (ABC)


def test_resolve_choice_cast(medicare):
    resolved = medicare.resolveChoice(specs=[("provider id", "cast:long")])
    assert provider_ids(resolved) == [50108, 10001, 10011, None]  # "ABC" cannot cast: null
    assert resolved.schema().getField("provider id").dataType.typeName() == "long"


def test_resolve_choice_project(medicare):
    resolved = medicare.resolveChoice(specs=[("provider id", "project:string")])
    assert provider_ids(resolved) == [None, None, None, "ABC"]  # only the strings stay


def test_resolve_choice_make_cols(medicare):
    resolved = medicare.resolveChoice(specs=[("provider id", "make_cols")])
    columns = resolved.toDF().columns
    assert "provider id_long" in columns and "provider id_string" in columns
    assert "provider id" not in columns
    assert provider_ids(resolved, "provider id_long") == [50108, 10001, 10011, None]
    assert provider_ids(resolved, "provider id_string") == [None, None, None, "ABC"]


def test_resolve_choice_make_struct(medicare, capsys):
    resolved = medicare.resolveChoice(specs=[("provider id", "make_struct")])
    shown = schema_text(resolved, capsys)
    assert "|-- provider id: struct\n|    |-- long: long\n|    |-- string: string\n" in shown
    assert [(v.long, v.string) for v in provider_ids(resolved)][-1] == (None, "ABC")


def test_resolve_choice_of_an_array_field(glueContext, tmp_path):  # noqa: N803
    # ResolveChoice class page: "myList": [{"price": 100.00}, {"price": "$100.00"}], path
    # "myList[].price", action "cast:double"
    path = lines(tmp_path / "list.json", [{"myList": [{"price": 100.00}, {"price": "$100.00"}]}])
    frame = read_json(glueContext, path)
    resolved = frame.resolveChoice(specs=[("myList[].price", "cast:double")])
    assert [p.price for p in resolved.toDF().first().myList] == [100.0, None]
    from awsglue.transforms import ResolveChoice

    same = ResolveChoice.apply(frame, specs=[("myList[].price", "cast:double")])
    assert same.toDF().collect() == resolved.toDF().collect()


def test_resolve_choice_with_choice_resolves_every_choice(medicare):
    from awsglue.transforms import ResolveChoice

    resolved = ResolveChoice.apply(medicare, choice="make_cols")
    assert "provider id_string" in resolved.toDF().columns


def test_match_catalog_without_a_table_says_what_it_needs(medicare):
    # ResolveChoice class page: match_catalog casts to the table's types, database= and
    # table_name= name it (test_awsglue_catalog.py runs it on a catalog table)
    from awsglue.errors import GlueArgumentError

    with pytest.raises(GlueArgumentError, match="database= and table_name=") as caught:
        medicare.resolveChoice(specs=[("provider id", "match_catalog")])
    assert "\n" not in str(caught.value)


# -- the other transforms, each with its page's example ---------------------------------


def test_apply_mapping(glueContext, legislators):  # noqa: N803
    # DynamicFrame page, "Example: Use apply_mapping to rename fields and change field
    # types" (legislators' persons), and the ApplyMapping class page's dotted source name
    # ("`this.old.name`", "string", "thisNewName", "string")
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.transforms import ApplyMapping

    persons = read_json(glueContext, legislators["persons_json"])
    persons_mapped = persons.apply_mapping(
        [
            ("family_name", "String", "last_name", "String"),
            ("name", "String", "first_name", "String"),
            ("birth_date", "String", "date_of_birth", "Date"),
        ]
    )
    df = persons_mapped.toDF()
    assert df.columns == ["last_name", "first_name", "date_of_birth"]  # unlisted: dropped
    assert str(df.orderBy("last_name").first().date_of_birth) == "1950-01-01"
    dotted = DynamicFrame.fromDF(
        df.selectExpr("last_name AS `this.old.name`", "first_name"), glueContext, "dotted"
    )
    renamed = ApplyMapping.apply(
        frame=dotted,
        mappings=[
            ("`this.old.name`", "string", "thisNewName", "string"),
            ("first_name", "string", "person.first", "string"),  # a dotted target nests
        ],
    )
    row = renamed.toDF().orderBy("thisNewName").first()
    assert row.asDict(recursive=True) == {"thisNewName": "Able", "person": {"first": "Ann Able"}}


def test_drop_null_fields(glueContext, legislators):  # noqa: N803
    # DropNullFields class page: an empty_column of NullType added to persons is dropped
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.transforms import DropNullFields
    from pyspark.sql.functions import lit
    from pyspark.sql.types import NullType

    persons = read_json(glueContext, legislators["persons_json"])
    persons_with_nulls = persons.toDF().withColumn("empty_column", lit(None).cast(NullType()))
    persons_with_nulls_dyf = DynamicFrame.fromDF(persons_with_nulls, glueContext, "nulls")
    persons_no_nulls = DropNullFields.apply(persons_with_nulls_dyf)
    assert "empty_column" in persons_with_nulls_dyf.toDF().columns
    assert persons_no_nulls.toDF().columns == persons.toDF().columns


def test_drop_fields(glueContext, legislators):  # noqa: N803
    # DropFields class page / drop_fields: full paths, nested ones with dots, arrays' with []
    from awsglue.transforms import DropFields

    orgs = read_json(glueContext, legislators["organizations_json"])
    dropped = DropFields.apply(frame=orgs, paths=["other_names", "identifiers"])
    assert "other_names" not in dropped.toDF().columns
    assert "identifiers" not in dropped.toDF().columns and "seats" in dropped.toDF().columns
    nested = orgs.drop_fields(["links[].note"])
    assert nested.toDF().first().links[0].asDict() == {"url": "http://house"}


def test_select_fields(glueContext, legislators):  # noqa: N803
    from awsglue.transforms import SelectFields

    persons = read_json(glueContext, legislators["persons_json"])
    selected = SelectFields.apply(frame=persons, paths=["family_name", "given_name"])
    assert selected.toDF().columns == ["family_name", "given_name"]


def test_rename_field(glueContext, legislators):  # noqa: N803
    # join_and_relationalize: orgs.rename_field('id', 'org_id').rename_field('name', ...)
    from awsglue.transforms import RenameField

    orgs = read_json(glueContext, legislators["organizations_json"])
    renamed = RenameField.apply(frame=orgs, old_name="id", new_name="org_id")
    assert "org_id" in renamed.toDF().columns and "id" not in renamed.toDF().columns
    assert renamed.toDF().columns.index("org_id") == orgs.toDF().columns.index("id")


def test_filter(medicare):
    # DynamicFrame page, "Example: Use filter to get a filtered selection of fields"
    sac_or_mon_deaths = medicare.filter(
        f=lambda x: (
            x["provider state"] in ["CA", "AL"]
            and x["provider city"] in ["SACRAMENTO", "MONTGOMERY"]
        )
    )
    names = sorted(r["provider name"] for r in sac_or_mon_deaths.toDF().collect())
    assert names == ["MERCY GENERAL", "ST VINCENT'S EAST", "SUTTER GENERAL HOSPITAL"]
    from awsglue.transforms import Filter

    # a choice field holds its one value in the record (Glue's records are typed values)
    strings = Filter.apply(frame=medicare, f=lambda r: isinstance(r["provider id"], str))
    assert [r["provider name"] for r in strings.toDF().collect()] == ["SUTTER GENERAL HOSPITAL"]


def test_map(medicare, capsys):
    # DynamicFrame page, "Example: Use map to apply a function to every record" (medicare)
    def MergeAddress(rec):  # noqa: N802 - the example's name
        rec["Address"] = {}
        rec["Address"]["Street"] = rec["provider street address"]
        rec["Address"]["City"] = rec["provider city"]
        rec["Address"]["State"] = rec["provider state"]
        rec["Address"]["Zip.Code"] = rec["provider zip code"]
        rec["Address"]["Array"] = [
            rec["provider street address"],
            rec["provider city"],
            rec["provider state"],
            rec["provider zip code"],
        ]
        del rec["provider street address"]
        del rec["provider city"]
        del rec["provider state"]
        del rec["provider zip code"]
        return rec

    from awsglue.transforms import Map

    mapped_medicare = Map.apply(frame=medicare, f=MergeAddress)
    columns = mapped_medicare.toDF().columns
    assert "Address" in columns and "provider city" not in columns
    shown = schema_text(mapped_medicare, capsys)
    assert "|-- Address: struct\n" in shown and "|    |-- Zip.Code: long\n" in shown
    # the array holds strings and the zip's long: its elements are a choice (AWS's page
    # shows the schema but not this case; a record-typed Glue would make the same choice)
    assert "|    |-- Array: array\n|    |    |-- element: choice\n" in shown
    first = mapped_medicare.toDF().orderBy("provider name").first()
    assert first.Address.City == "SACRAMENTO" and first.Address["Zip.Code"] == 95819


def test_join_keeps_both_keys(glueContext, legislators):  # noqa: N803
    # Join class page / join: an equality join; both frames' keys stay in the result
    from awsglue.transforms import Join

    persons = read_json(glueContext, legislators["persons_json"])
    memberships = read_json(glueContext, legislators["memberships_json"])
    joined = Join.apply(persons, memberships, "id", "person_id")
    df = joined.toDF()
    assert "id" in df.columns and "person_id" in df.columns
    assert df.count() == 3
    assert all(r.id == r.person_id for r in df.collect())
    assert persons.join(["id"], ["person_id"], memberships).count() == 3


def test_relationalize(glueContext, legislators):  # noqa: N803
    # DynamicFrame page, "Example: Use relationalize to flatten a nested schema": the root
    # table and one table per array, named ROOT_FIELD, linked by id with an index, the
    # elements' fields under FIELD.val.* (as aws-samples join_and_relationalize.md shows:
    # id, index, contact_details.val.type, contact_details.val.value)
    from awsglue.transforms import Relationalize

    persons = read_json(glueContext, legislators["persons_json"])
    dfc = Relationalize.apply(frame=persons, staging_path="/unused", name="root")
    assert set(dfc.keys()) == {
        "root",
        "root_contact_details",
        "root_links",
        "root_other_names",
        "root_images",
        "root_identifiers",
    }
    root = dfc.select("root").toDF()
    contacts = dfc.select("root_contact_details").toDF()
    assert contacts.columns == [
        "id",
        "index",
        "contact_details.val.type",
        "contact_details.val.value",
    ]
    ann = root.where("id = 'p1'").first()
    rows = contacts.where(contacts["id"] == ann["contact_details"]).orderBy("index").collect()
    assert [(r["index"], r["contact_details.val.type"]) for r in rows] == [
        (0, "twitter"),
        (1, "fax"),
    ]


def test_select_from_collection(glueContext, legislators):  # noqa: N803
    # SelectFromCollection class page: one frame of a DynamicFrameCollection by its key
    from awsglue.transforms import SelectFromCollection

    persons = read_json(glueContext, legislators["persons_json"])
    dfc = persons.relationalize("root", "/unused")
    images = SelectFromCollection.apply(dfc=dfc, key="root_images")
    assert images.toDF().columns == ["id", "index", "images.val.url"]
    with pytest.raises(KeyError, match="root_nothing"):
        dfc.select("root_nothing")


def test_unnest(glueContext, tmp_path):  # noqa: N803
    # DynamicFrame page, unnest: nested fields become top-level fields (the FlatMap page's
    # sample.json shape: firstname, lastname, address{street, city, state, country}, phone)
    path = lines(
        tmp_path / "sample.json",
        [
            {
                "firstname": "Arnav",
                "lastname": "Desai",
                "phone": 17235550101,
                "address": {
                    "street": "6 Anyroad Avenue",
                    "city": "London",
                    "state": "England",
                    "country": "UK",
                },
            }
        ],
    )
    unnested = read_json(glueContext, path).unnest()
    assert sorted(unnested.toDF().columns) == sorted(
        [
            "firstname",
            "lastname",
            "phone",
            "address.street",
            "address.city",
            "address.state",
            "address.country",
        ]
    )


# -- writing ----------------------------------------------------------------------------


def test_write_appends_and_partitions(glueContext, medicare, tmp_path):  # noqa: N803
    # Connection types page, S3: partitionKeys; Glue's S3 sink appends to what is there
    out = str(tmp_path / "out")
    frame = medicare.resolveChoice(specs=[("provider id", "cast:long")])
    for _ in range(2):
        glueContext.write_dynamic_frame.from_options(
            frame=frame,
            connection_type="s3",
            connection_options={"path": out, "partitionKeys": ["provider state"]},
            format="parquet",
        )
    assert partitions(out) == ["provider state=AL", "provider state=CA"]
    back = glueContext.create_dynamic_frame.from_options("s3", {"paths": [out]}, "parquet")
    assert back.count() == 8


def test_get_sink_set_format_write_frame(glueContext, medicare, tmp_path):  # noqa: N803
    out = str(tmp_path / "sink")
    sink = glueContext.getSink(connection_type="s3", path=out, partitionKeys=["provider state"])
    sink.setFormat("json")
    sink.writeFrame(medicare.resolveChoice(specs=[("provider id", "cast:long")]))
    assert partitions(out) == ["provider state=AL", "provider state=CA"]


def test_purge_s3_path_keeps_files_younger_than_the_retention(glueContext, tmp_path):  # noqa: N803
    # GlueContext page, purge_s3_path: retentionPeriod in hours, 168 by default
    folder = tmp_path / "purge"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "old.txt").write_text("x")
    glueContext.purge_s3_path(str(folder))
    assert (folder / "a" / "old.txt").exists()  # a fresh file is within the 168 hours
    glueContext.purge_s3_path(f"file://{folder}", {"retentionPeriod": 0})
    assert not (folder / "a" / "old.txt").exists()


# -- what is not covered, and the job's surface -----------------------------------------


def test_what_is_not_covered_says_so_in_one_line(glueContext, medicare):  # noqa: N803
    from awsglue.errors import NotCoveredError
    from awsglue.transforms import SplitRows

    calls = [
        lambda: medicare.spigot("/tmp/x"),
        lambda: glueContext.transition_table("db", "t", "GLACIER"),
        lambda: SplitRows.apply(medicare, {}, "a", "b"),
        lambda: glueContext.create_dynamic_frame.from_options("dynamodb", {}),
        lambda: glueContext.create_dynamic_frame.from_options("s3", {"paths": ["/x"]}, "avro"),
    ]
    for call in calls:
        with pytest.raises(NotCoveredError) as caught:
            call()
        assert "\n" not in str(caught.value) and "not available" in str(caught.value)
    with pytest.raises(AttributeError):  # a typo is an AttributeError, not "not covered"
        medicare.aply_mapping([])
    assert not hasattr(medicare, "__deepcopy__")  # Python's own probes still work


def test_job_init_and_commit_and_bookmarks_declared(glueContext, capsys):  # noqa: N803
    from awsglue.job import BOOKMARKS_OFF, Job
    from awsglue.utils import getResolvedOptions

    args = getResolvedOptions(
        ["script.py", "--JOB_NAME", "nightly", "--job-bookmark-option", "job-bookmark-enable"],
        ["JOB_NAME"],
    )
    job = Job(glueContext)
    job.init(args["JOB_NAME"], {**args, "job_bookmark_option": "job-bookmark-enable"})
    assert job.isInitialized()
    job.commit()
    assert BOOKMARKS_OFF in capsys.readouterr().err


def test_the_runtime_uses_no_jvm_handle_and_no_spark_context():
    # so the same code can serve Spark Connect sessions (no _jvm, no sparkContext)
    for path in (RUNTIME / "awsglue").rglob("*.py"):
        code = re.sub(r'""".*?"""', "", path.read_text(), flags=re.S)
        code = "\n".join(line.split("#")[0] for line in code.splitlines())
        assert not re.search(r"\._jvm|\._jsc|\.sparkContext|_jdf", code), path


# -- aws-samples/aws-glue-samples' beginner examples, their Glue code as written ---------


def test_join_and_relationalize_example(glueContext, legislators, tmp_path):  # noqa: N803
    # examples/join_and_relationalize.py; the from_catalog reads are from_options reads of
    # the crawled tables' files here (test_catalog_session.py runs them from_catalog, in a
    # session), and the outputs are local
    from awsglue.transforms import Join

    persons = read_json(glueContext, legislators["persons_json"])
    memberships = read_json(glueContext, legislators["memberships_json"])
    orgs = read_json(glueContext, legislators["organizations_json"])
    output_history_dir = str(tmp_path / "legislator_history")
    output_lg_single_dir = str(tmp_path / "legislator_single")
    output_lg_partitioned_dir = str(tmp_path / "legislator_part")
    redshift_temp_dir = str(tmp_path / "temp-dir")
    tables = {}

    # the example's code as aws-samples writes it
    # fmt: off
    # Keep the fields we need and rename some.
    orgs = orgs.drop_fields(['other_names', 'identifiers']).rename_field('id', 'org_id').rename_field('name', 'org_name')

    # Join the frames to create history
    l_history = Join.apply(orgs, Join.apply(persons, memberships, 'id', 'person_id'), 'org_id', 'organization_id').drop_fields(['person_id', 'org_id'])

    # ---- Write out the history ----

    # Write out the dynamic frame into parquet in "legislator_history" directory
    print("Writing to /legislator_history ...")
    glueContext.write_dynamic_frame.from_options(frame = l_history, connection_type = "s3", connection_options = {"path": output_history_dir}, format = "parquet")

    # Write out a single file to directory "legislator_single"
    s_history = l_history.toDF().repartition(1)
    print("Writing to /legislator_single ...")
    s_history.write.parquet(output_lg_single_dir)

    # Convert to data frame, write to directory "legislator_part", partitioned by (separate) Senate and House.
    print("Writing to /legislator_part, partitioned by Senate and House ...")
    l_history.toDF().write.parquet(output_lg_partitioned_dir, partitionBy=['org_name'])

    # ---- Write out to relational databases ----

    # Convert the data to flat tables
    print("Converting to flat tables ...")
    dfc = l_history.relationalize("hist_root", redshift_temp_dir)

    # Cycle through and write to Redshift.
    for df_name in dfc.keys():
        m_df = dfc.select(df_name)
        print("Writing to Redshift table: ", df_name, " ...")
        tables[df_name] = m_df  # here, instead of write_dynamic_frame.from_jdbc_conf
    # fmt: on
    history = l_history.toDF()
    assert history.count() == 3
    assert {"org_name", "organization_id", "id", "family_name", "role"} <= set(history.columns)
    assert "person_id" not in history.columns and "org_id" not in history.columns
    assert partitions(output_lg_partitioned_dir) == ["org_name=House", "org_name=Senate"]
    assert "hist_root" in tables and "hist_root_contact_details" in tables
    contacts = tables["hist_root_contact_details"].toDF()
    assert contacts.columns[:2] == ["id", "index"]


def test_data_cleaning_and_lambda_example(glueContext, medicare, tmp_path):  # noqa: N803
    # examples/data_cleaning_and_lambda.py (its medicare_dyf read from_options here)
    from awsglue.dynamicframe import DynamicFrame
    from pyspark.sql.functions import udf
    from pyspark.sql.types import StringType

    output_dir = str(tmp_path / "medicare_parquet")
    names = {"DynamicFrame": DynamicFrame, "udf": udf, "StringType": StringType}
    names |= {"glueContext": glueContext, "medicare_dyf": medicare, "output_dir": output_dir}
    exec(DATA_CLEANING_AND_LAMBDA, names)  # the example's code as aws-samples writes it
    back = glueContext.spark_session.read.parquet(output_dir)
    assert back.columns == ["drg", "provider", "rr", "charges"]
    row = back.where("provider.id = 10001").first().asDict(recursive=True)
    assert row["provider"] == {
        "id": 10001,
        "name": "SOUTHEAST ALABAMA MEDICAL CENTER",
        "city": "DOTHAN",
        "state": "AL",
        "zip": 36301,
    }
    assert row["charges"] == {"covered": 32963.07, "total_pay": 5777.24, "medicare_pay": 4763.73}
    assert back.count() == 3  # the "ABC" record went with its null provider id


def test_resolve_choice_example(glueContext, medicare, tmp_path):  # noqa: N803
    # examples/resolve_choice.py (its medicare_dyf read from_options here)
    from awsglue.dynamicframe import DynamicFrame

    spark = glueContext.spark_session
    medicare_dyf = medicare
    out = {n: str(tmp_path / n) for n in ("cast", "project", "cols", "struct", "sql")}
    medicare_cast, medicare_project = out["cast"], out["project"]
    medicare_cols, medicare_struct, medicare_sql = out["cols"], out["struct"], out["sql"]

    # the example's code as aws-samples writes it
    # fmt: off
    # Cast choices into integers, those values that cannot cast result in null
    medicare_res_cast = medicare_dyf.resolveChoice(specs = [('provider id','cast:long')])
    medicare_res_project = medicare_dyf.resolveChoice(specs = [('provider id','project:long')])
    medicare_res_make_cols = medicare_dyf.resolveChoice(specs = [('provider id','make_cols')])
    medicare_res_make_struct = medicare_dyf.resolveChoice(specs = [('provider id','make_struct')])

    # Spark SQL on a Spark dataframe
    medicare_df = medicare_dyf.toDF()
    medicare_df.createOrReplaceTempView("medicareTable")
    medicare_sql_df = spark.sql("SELECT * FROM medicareTable WHERE `total discharges` > 30")
    medicare_sql_dyf = DynamicFrame.fromDF(medicare_sql_df, glueContext, "medicare_sql_dyf")

    # Write it out in Json
    glueContext.write_dynamic_frame.from_options(frame = medicare_res_cast, connection_type = "s3", connection_options = {"path": medicare_cast}, format = "json")
    glueContext.write_dynamic_frame.from_options(frame = medicare_res_project, connection_type = "s3", connection_options = {"path": medicare_project}, format = "json")
    glueContext.write_dynamic_frame.from_options(frame = medicare_res_make_cols, connection_type = "s3", connection_options = {"path": medicare_cols}, format = "json")
    glueContext.write_dynamic_frame.from_options(frame = medicare_res_make_struct, connection_type = "s3", connection_options = {"path": medicare_struct}, format = "json")
    glueContext.write_dynamic_frame.from_options(frame = medicare_sql_dyf, connection_type = "s3", connection_options = {"path": medicare_sql}, format = "json")
    # fmt: on
    def records(name):
        return [
            json.loads(line)
            for f in sorted(Path(out[name]).glob("part-*"))
            for line in f.read_text().splitlines()
        ]

    abc = [r for r in records("cast") if r["provider name"].startswith("SUTTER")][0]
    assert "provider id" not in abc  # null: Spark's JSON writer leaves it out
    assert {r.get("provider id_string") for r in records("cols")} == {None, "ABC"}
    structs = [r["provider id"] for r in records("struct")]
    assert {"string": "ABC"} in structs and {"long": 10001} in structs
    assert sorted(r["total discharges"] for r in records("sql")) == [40, 91]
