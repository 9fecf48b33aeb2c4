"""A local session's DefaultArguments: the parsers (hypothesis), and what a session without
Spark does with them, through boto3 against the shared endpoint.  The Spark side (``--conf``
taking effect, Spark up at READY) is test_local_spark_session.py, slow.

Glue's forms are AWS's: "Using job parameters in AWS Glue jobs" for the arguments, and the
chained ``--conf`` value of "Using the Iceberg framework in AWS Glue"
(``spark.sql.extensions=... --conf spark.sql.catalog.glue_catalog=... --conf ...``).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import urllib.request
import zipfile
from pathlib import Path

from helpers import PATIENCE, ready, run
from hypothesis import given
from hypothesis import strategies as st

from glue_magics.local.session_arguments import (
    CATALOG_MODULE,
    NOT_HONOURED,
    datalake_coordinates,
    local_path,
    parse_conf,
    plan,
    split_list,
)
from glue_magics.local.worker import maven_pom_url

_key = st.from_regex(r"spark\.[a-z][a-zA-Z0-9_.]{0,20}", fullmatch=True)
_value = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), max_size=20
).filter(lambda v: "--conf" not in v)
_settings = st.lists(st.tuples(_key, _value), min_size=1, max_size=6)


def text(statement) -> str:
    return statement["Output"]["Data"]["TextPlain"]


def log_of(glue, session_id: str) -> str:
    url = glue.get_system_logs_for_session(Id=session_id)["SystemLogsUrl"]
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


# --------------------------------------------------------------------------- parsers


@given(_settings, st.booleans())
def test_chained_conf_reads_back_every_setting_in_order_the_last_of_a_key_winning(
    settings, leading
):
    value = " --conf ".join(f"{k}={v}" for k, v in settings)
    conf, bad = parse_conf(("--conf " if leading else "") + value)
    assert bad == []
    assert conf == dict((k, v.strip()) for k, v in settings)


@given(st.text(max_size=60))
def test_any_conf_value_parses_into_settings_and_rejects_never_raising(value):
    conf, bad = parse_conf(value)
    for key in conf:
        assert key and not any(c.isspace() for c in key)
    for part in bad:
        assert part.strip() == part and part


def test_conf_keeps_equals_and_spaces_inside_a_value():
    conf, bad = parse_conf("spark.a=x=y --conf spark.b=one two --conf nothing")
    assert conf == {"spark.a": "x=y", "spark.b": "one two"}
    assert bad == ["nothing"]


@given(st.lists(st.text(st.characters(exclude_characters=","), max_size=10), max_size=6))
def test_comma_lists_split_into_their_non_blank_items(items):
    assert split_list(",".join(items)) == [i.strip() for i in items if i.strip()]


@given(
    st.dictionaries(
        st.sampled_from(
            ["--conf", "--extra-jars", "--extra-py-files", "--datalake-formats", "--TempDir"]
            + list(NOT_HONOURED)
            + ["--enable-glue-datacatalog", "--additional-python-modules", "--MY_ARG"]
        ),
        st.text(max_size=30),
    ),
    st.booleans(),
)
def test_plan_honours_or_names_every_glue_argument_and_passes_all_to_argv(arguments, spark):
    steps = plan(arguments, spark, "why not", "/store")
    assert steps.argv == [part for pair in arguments.items() for part in pair]
    assert all("\n" not in line for line in steps.notices)  # one line each
    for key in NOT_HONOURED:
        if key in arguments and arguments[key].strip().lower() != "false":
            assert any(line.startswith(key) for line in steps.notices)
    if not spark:  # Spark's arguments are named, never applied
        assert steps.conf == {} and steps.packages == [] and steps.catalog == {}
    wanted = arguments.get("--enable-glue-datacatalog", "false").strip().lower() != "false"
    assert bool(steps.catalog) == (spark and wanted)


def test_the_catalog_is_a_module_the_worker_imports_only_when_asked():
    # AWS's kernel sends --enable-glue-datacatalog "true" by default (its enable_data_catalog)
    steps = plan({"--enable-glue-datacatalog": "true"}, True, account_id="210987654321")
    assert steps.catalog == {"module": CATALOG_MODULE, "account_id": "210987654321"}
    assert steps.notices == []
    assert importlib.import_module(CATALOG_MODULE).CatalogSync  # the name the worker uses
    assert plan({"--enable-glue-datacatalog": "false"}, True).catalog == {}


def test_s3_paths_of_the_arguments_are_the_local_object_stores_files():
    assert local_path("s3://b/k/m.py", "/store") == "/store/b/k/m.py"
    assert local_path("s3a://b/x.jar", "/store") == "/store/b/x.jar"
    assert local_path("file:///tmp/m.py", "/store") == "/tmp/m.py"
    steps = plan({"--extra-jars": "s3://b/a.jar, /opt/b.jar"}, True, s3_root="/store")
    assert steps.conf["spark.jars"] == "/store/b/a.jar,/opt/b.jar"


def test_datalake_formats_name_their_runtime_for_the_running_spark():
    # Iceberg's runtime artifact is per Spark minor and Scala version (Maven Central's
    # org.apache.iceberg:iceberg-spark-runtime-3.5_2.12, the version AWS's Iceberg page
    # names for Glue 5.1: 1.10.0).
    coordinate = datalake_coordinates("iceberg", "3.5.4", "2.12")
    assert coordinate == "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.0"
    assert maven_pom_url(coordinate) == (
        "https://repo1.maven.org/maven2/org/apache/iceberg/iceberg-spark-runtime-3.5_2.12/"
        "1.10.0/iceberg-spark-runtime-3.5_2.12-1.10.0.pom"
    )
    steps = plan({"--datalake-formats": "Iceberg, parquet"}, True)
    assert [name for name, _ in steps.packages] == ["iceberg"]
    assert steps.notices == [
        "--datalake-formats 'parquet' is not a data lake format Glue knows; use iceberg, "
        "delta, hudi"
    ]


# --------------------------------------------------------------------------- sessions


def test_a_session_without_spark_names_sparks_arguments_in_its_log_and_first_output(glue):
    # the suite's sessions run without Spark (conftest: GLUE_MAGICS_LOCAL_SPARK=0)
    arguments = {
        "--conf": "spark.sql.shuffle.partitions=7 --conf spark.b=2",
        "--enable-glue-datacatalog": "true",
        "--enable-metrics": "true",
        "--enable-continuous-cloudwatch-log": "false",  # off: nothing to say
        "--TempDir": "s3://temp-bucket/tmp/",
        "--MY_ARG": "mine",
    }
    session_id = ready(glue, DefaultArguments=arguments)
    first = text(run(glue, session_id, "import sys\nprint(sys.argv[1:])"))
    lines = first.splitlines()
    expected = [
        "--conf was not applied: Spark does not run in this session (GLUE_MAGICS_LOCAL_SPARK=0)",
        # the catalog reaches Spark SQL only: without Spark there is nothing to show it to
        "--enable-glue-datacatalog was not applied: Spark does not run in this session "
        "(GLUE_MAGICS_LOCAL_SPARK=0)",
        "--enable-metrics true is not honoured locally: CloudWatch metrics need AWS",
    ]
    assert lines[:3] == expected, first
    # the script's arguments, as a job's script gets them (getResolvedOptions reads them)
    assert eval(lines[3]) == [part for pair in arguments.items() for part in pair]
    assert len(lines) == 4
    assert text(run(glue, session_id, "print('again')")) == "again"  # said once
    log = log_of(glue, session_id)
    for line in expected:
        assert f"WARN GlueWorker: {line}" in log
    glue.stop_session(Id=session_id)


def test_extra_py_files_are_importable_from_the_first_statement(glue, tmp_path, _shared_endpoint):
    (tmp_path / "helper_plain.py").write_text("VALUE = 'plain'\n")
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as bundle:
        bundle.writestr("helper_zipped/__init__.py", "VALUE = 'zipped'\n")
    # an s3:// path is the local object store's file (settings.s3_root/BUCKET/KEY)
    store = Path(_shared_endpoint.settings.s3_root) / "py-bucket" / "lib"
    store.mkdir(parents=True, exist_ok=True)
    (store / "helper_s3.py").write_text("VALUE = 's3'\n")
    given = (
        f"{tmp_path / 'helper_plain.py'},{tmp_path / 'bundle.zip'},s3://py-bucket/lib/helper_s3.py"
    )
    session_id = ready(glue, DefaultArguments={"--extra-py-files": given + ",/no/such.py"})
    code = "import helper_plain, helper_zipped, helper_s3\n"
    code += "print(helper_plain.VALUE, helper_zipped.VALUE, helper_s3.VALUE)"
    lines = text(run(glue, session_id, code)).splitlines()
    assert lines == [
        "--extra-py-files /no/such.py was not found; it is not on sys.path",
        "plain zipped s3",
    ]
    glue.stop_session(Id=session_id)


def _wheel(directory: Path, name: str, version: str, module: str) -> Path:
    """A pure-Python wheel of one module, made here (no network, no build tools): the
    files the wheel format (PEP 427) needs, with its RECORD of hashes."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{module}.py": f"VALUE = {name!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, content in files.items():
        digest = hashlib.sha256(content.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={encoded},{len(content.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return wheel


def test_additional_python_modules_go_into_the_sessions_own_directory(glue, tmp_path):
    wheel = _wheel(tmp_path, "glue_tiny_module", "0.1", "glue_tiny_module")
    session_id = ready(
        glue, patience=PATIENCE * 6, DefaultArguments={"--additional-python-modules": str(wheel)}
    )
    code = "import glue_tiny_module, sys\nprint(glue_tiny_module.VALUE)\n"
    code += "print(glue_tiny_module.__file__.startswith(sys.prefix))"
    assert text(run(glue, session_id, code)).splitlines() == ["glue_tiny_module", "False"]
    glue.stop_session(Id=session_id)
    import importlib.util

    assert importlib.util.find_spec("glue_tiny_module") is None  # never the user's own env


def test_additional_python_modules_without_a_package_index_are_one_line(glue, monkeypatch):
    # no index reachable: pip's configuration files ignored, its index a port nobody
    # listens on (the worker inherits the endpoint's environment at its start)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    arguments = {"--additional-python-modules": "glue-tiny-not-anywhere==1.0"}
    session_id = ready(glue, patience=PATIENCE * 6, DefaultArguments=arguments)
    lines = text(run(glue, session_id, "print('ran')")).splitlines()
    assert len(lines) == 2 and lines[1] == "ran", lines
    assert lines[0].startswith(
        "--additional-python-modules glue-tiny-not-anywhere==1.0 not installed: pip says ERROR"
    ), lines[0]
    glue.stop_session(Id=session_id)
