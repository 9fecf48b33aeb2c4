"""``s3://`` in a local session's Spark and through S3's API alike: one session (one Spark)
for the module, its statements run through RunStatement as a notebook's are, and boto3
against the same endpoint on the other side."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SPARK_PATIENCE, make_glue, make_s3, needs_spark, ready, run

pytestmark = [pytest.mark.slow, needs_spark, pytest.mark.timeout(600)]

#: The first statement may compile the file system (pyspark's scalac, 15-70 s on two busy
#: cores) before Spark starts.
FIRST_PATIENCE = SPARK_PATIENCE + 240.0


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An endpoint with a data directory of its own, its S3 client, and one session whose
    Spark has run a first statement."""
    from glue_magics.local import LocalEndpoint

    data_dir = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GLUE_MAGICS_SPARK_MASTER", "local[1]")
        patch.setenv("GLUE_MAGICS_LOCAL_SPARK", "1")  # this module's session runs Spark
        with LocalEndpoint(provision_seconds=0.05, stop_seconds=0.05, data_dir=data_dir) as ep:
            glue, s3 = make_glue(ep.url), make_s3(ep.url, bucket="lake")
            session = ready(glue, patience=FIRST_PATIENCE)  # READY once its Spark is up
            first = run(glue, session, "spark.range(1).count()", patience=FIRST_PATIENCE)
            assert first["Output"]["Status"] == "ok", first["Output"]
            yield {"glue": glue, "s3": s3, "session": session, "root": ep.settings.s3_root}
            glue.stop_session(Id=session)


def spark(place: dict[str, Any], code: str) -> str:
    """Run ``code`` in the module's session; its text output (it must succeed)."""
    output = run(place["glue"], place["session"], code, patience=SPARK_PATIENCE)["Output"]
    assert output["Status"] == "ok", output
    return output["Data"]["TextPlain"]


def test_spark_writes_partitioned_parquet_that_boto3_lists_and_reads(place):
    s3, root = place["s3"], place["root"]
    spark(
        place,
        "df = spark.range(12).selectExpr('id', 'id % 3 as part')\n"
        "df.write.mode('overwrite').partitionBy('part').parquet('s3://lake/out/table')\n",
    )
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="out/")["Contents"]]
    assert "out/table/_SUCCESS" in keys
    data = [k for k in keys if k.endswith(".parquet")]
    assert sorted({k.split("/")[2] for k in data}) == ["part=0", "part=1", "part=2"]
    assert not [k for k in keys if k.endswith(".crc") or "_temporary" in k]
    body = s3.get_object(Bucket="lake", Key=data[0])["Body"].read()
    assert body[:4] == b"PAR1" and body[-4:] == b"PAR1"
    prefixes = s3.list_objects_v2(Bucket="lake", Prefix="out/table/", Delimiter="/")
    assert [p["Prefix"] for p in prefixes["CommonPrefixes"]] == [
        "out/table/part=0/",
        "out/table/part=1/",
        "out/table/part=2/",
    ]
    # the same bytes are the files of the data directory, and nothing of ours is among them
    files = sorted(p.relative_to(root / "lake").as_posix() for p in (root / "lake").rglob("*"))
    assert not [f for f in files if f.startswith(".") or "/." in f]


def test_boto3_puts_a_csv_that_spark_reads_as_s3_and_s3a(place):
    s3 = place["s3"]
    s3.put_object(Bucket="lake", Key="in/people.csv", Body=b"name,age\nada,36\nalan,41\n")
    shown = spark(
        place,
        "from pyspark.sql.functions import input_file_name\n"
        "import json\n"
        "rows = {}\n"
        "for scheme in ('s3', 's3a', 's3n'):\n"
        "    df = spark.read.option('header', True).csv(f'{scheme}://lake/in/')\n"
        "    got = df.select('name', input_file_name().alias('f')).orderBy('name').collect()\n"
        "    rows[scheme] = [[r.name, r.f] for r in got]\n"
        "print(json.dumps(rows))\n",
    )
    rows = json.loads(shown.strip().splitlines()[-1])
    for scheme in ("s3", "s3a", "s3n"):
        # the file reads back in the scheme it was read by, never as file:/ (as S3A and
        # EMRFS name what they list)
        assert rows[scheme] == [
            ["ada", f"{scheme}://lake/in/people.csv"],
            ["alan", f"{scheme}://lake/in/people.csv"],
        ]


def test_sql_location_and_errors_name_s3_paths(place):
    shown = spark(
        place,
        "spark.sql(\"CREATE TABLE t (a INT) USING parquet LOCATION 's3://lake/tables/t'\")\n"
        "spark.sql('INSERT INTO t VALUES (1), (2)')\n"
        "print(spark.sql('SELECT sum(a) FROM t').first()[0])\n"
        "try:\n"
        "    spark.read.parquet('s3://lake/no/such/path').count()\n"
        "except Exception as exc:\n"
        "    print(str(exc).splitlines()[0])\n"
        "try:\n"
        "    spark.read.parquet('s3://no-such-bucket/x').count()\n"
        "except Exception as exc:\n"
        "    print(str(exc).splitlines()[0])\n",
    )
    lines = shown.strip().splitlines()
    assert lines[0] == "3"
    assert "s3://lake/no/such/path" in lines[1] and "file:" not in lines[1]
    assert "s3://no-such-bucket/x" in lines[2]
    keys = [
        o["Key"] for o in place["s3"].list_objects_v2(Bucket="lake", Prefix="tables/t/")["Contents"]
    ]
    assert any(k.endswith(".parquet") for k in keys)


def test_a_first_compile_is_shared_by_concurrent_uses(tmp_path):
    """Two processes asking for the file system at once compile it once, and neither sees
    half a jar (the lock and the rename of hadoop.ensure_jar); the first compile's time is
    printed, as a figure."""
    import subprocess
    import sys
    import time

    code = (
        "import sys, time; from pathlib import Path\n"
        "from glue_magics.local.objectstore import hadoop\n"
        "t = time.monotonic(); jar = hadoop.ensure_jar(Path(sys.argv[1]))\n"
        "print(jar, round(time.monotonic() - t, 1))\n"
    )
    began = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=FIRST_PATIENCE)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0][0] == outs[1][0]
    jars = list(tmp_path.glob("*.jar"))
    assert [j.name for j in jars] == [Path(outs[0][0]).name]  # one jar, no temporary left
    import zipfile

    names = zipfile.ZipFile(jars[0]).namelist()
    assert "gluemagics/objectstore/ObjectStoreFileSystem.class" in names
    print(
        f"\nfirst compile of the s3:// file system: {time.monotonic() - began:.1f} s "
        f"(each process waited {outs[0][1]} s and {outs[1][1]} s)"
    )


def test_the_compiled_file_system_reads_what_s3_put_byte_for_byte(place):
    data = bytes(range(256)) * 1000
    place["s3"].upload_fileobj(io.BytesIO(data), "lake", "bin/blob")
    shown = spark(
        place,
        "import hashlib\n"
        "b = spark.sparkContext.binaryFiles('s3://lake/bin/blob').collect()[0]\n"
        "print(b[0], hashlib.md5(b[1]).hexdigest())\n",
    )
    import hashlib

    assert shown.split() == ["s3://lake/bin/blob", hashlib.md5(data).hexdigest()]
