"""A local statement session's DefaultArguments: what each one does here, decided once.

The endpoint reads a session's DefaultArguments into a :class:`Plan` (:func:`plan`: no
Spark, no network, no files) and hands it to the session's worker, which carries it out
while the session is PROVISIONING.  An argument is either honoured or named in a notice,
one line each, which the worker writes to the session's system log and to the first
statement's output: never silently dropped.

What Glue does with each argument is AWS's "Using job parameters in AWS Glue jobs"
(aws-glue-programming-etl-glue-arguments); the chained ``--conf`` form is the one its
"Using the Iceberg framework in AWS Glue" page gives as the value of the ``--conf`` key:
``spark.sql.extensions=... --conf spark.sql.catalog.glue_catalog=... --conf ...``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

#: The arguments this module turns into the session's set-up.
CONF, PY_FILES, JARS, MODULES, MODULE_OPTIONS = (
    "--conf",
    "--extra-py-files",
    "--extra-jars",
    "--additional-python-modules",
    "--python-modules-installer-option",
)
DATALAKE, TEMP_DIR, CATALOG = "--datalake-formats", "--TempDir", "--enable-glue-datacatalog"

#: ``--datalake-formats``: the Maven artifact of each format's Spark runtime, ``{spark}``
#: the running Spark's major.minor and ``{scala}`` its Scala version, at the newest release
#: AWS's pages name for Glue 5.1 (Iceberg 1.10.0, "Using the Iceberg framework in AWS
#: Glue") or that the project publishes for Spark 4 (Delta 4.0.0, Hudi 1.1.0).  As on Glue,
#: the format only brings the jars: its Spark settings (``spark.sql.extensions`` and the
#: catalog) are the user's ``--conf``, as each format's AWS page tells the user to set.
DATALAKE_PACKAGES: dict[str, str] = {
    "iceberg": "org.apache.iceberg:iceberg-spark-runtime-{spark}_{scala}:1.10.0",
    "delta": "io.delta:delta-spark_{scala}:4.0.0",
    "hudi": "org.apache.hudi:hudi-spark{spark}-bundle_{scala}:1.1.0",
}

#: Glue's own arguments that mean nothing here, with why (one line each when set to
#: anything but "false").  Arguments Glue does not know are the user's own: the script
#: reads them from ``sys.argv`` (``getResolvedOptions``), as a job's script does.
NOT_HONOURED: dict[str, str] = {
    "--enable-metrics": "CloudWatch metrics need AWS",
    "--enable-observability-metrics": "CloudWatch metrics need AWS",
    "--enable-continuous-cloudwatch-log": "the session's log is GetSystemLogsForSession's",
    "--enable-continuous-log-filter": "the session's log is GetSystemLogsForSession's",
    "--continuous-log-logGroup": "the session's log is GetSystemLogsForSession's",
    "--continuous-log-logStreamPrefix": "the session's log is GetSystemLogsForSession's",
    "--continuous-log-conversionPattern": "the session's log is GetSystemLogsForSession's",
    "--enable-job-insights": "job insights need CloudWatch",
    "--enable-auto-scaling": "local Spark has a fixed set of cores",
    "--enable-spark-ui": "the Spark UI runs anyway: GetDashboardUrl gives it",
    "--spark-event-logs-path": "Spark's event logs are not kept",
    "--job-bookmark-option": "job bookmarks are not supported in interactive sessions",
    "--enable-lakeformation-fine-grained-access": "Lake Formation needs AWS",
    "--enable-s3-parquet-optimized-committer": "the object store is a local directory",
    "--enable-rename-algorithm-v2": "the object store is a local directory",
    "--write-shuffle-files-to-s3": "shuffle files stay on local disk",
    "--write-shuffle-spills-to-s3": "shuffle files stay on local disk",
    "--user-jars-first": "--extra-jars are added after Spark's own",
    "--extra-files": "extra files are not copied into the session",
    "--customer-driver-env-vars": "the driver is this machine's process",
    "--customer-executor-env-vars": "the executors are this machine's processes",
    "--executor-cores": "local Spark has a fixed set of cores",
    "--use-postgres-driver": "JDBC drivers are --extra-jars here",
    "--auto-scale-within-microbatch": "local Spark has a fixed set of cores",
}


@dataclass
class Plan:
    """What a session's worker does with its DefaultArguments before it is READY.

    ``conf``: Spark settings (``--conf``, ``--extra-jars`` as ``spark.jars``);
    ``py_files``: (as given, local path) for ``sys.path``; ``modules`` and
    ``module_options``: what pip installs into the session's own directory; ``packages``:
    (format, Maven coordinate) the data lake formats need; ``argv``: the script's ``sys.argv``
    tail; ``notices``: one line for each argument not honoured as given; ``catalog``
    (``--enable-glue-datacatalog``): the ``module`` of the catalog's Spark side and the
    ``account_id`` its tables are written back under, empty when the session has none."""

    conf: dict[str, str] = field(default_factory=dict)
    py_files: list[tuple[str, str]] = field(default_factory=list)  # (as given, local path)
    modules: list[str] = field(default_factory=list)
    module_options: list[str] = field(default_factory=list)
    packages: list[tuple[str, str]] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    catalog: dict[str, str] = field(default_factory=dict)


#: The module whose ``CatalogSync`` a session with ``--enable-glue-datacatalog`` keeps its
#: Spark catalog in step with (named, not imported: the worker imports nothing of ours
#: but this, at run time, when the session asks for the catalog).
CATALOG_MODULE = "glue_magics.local.catalog.spark"


_CONF_SPLIT = re.compile(r"(?:^|\s+)--conf(?:\s+|$)")


def parse_conf(value: str) -> tuple[dict[str, str], list[str]]:
    """``k1=v1 --conf k2=v2`` (a leading ``--conf`` allowed) as Glue chains Spark settings
    in one ``--conf`` value: the settings in order (a later key wins), and the parts that
    are not ``KEY=VALUE``.  A value keeps its own spaces and ``=``."""
    conf: dict[str, str] = {}
    bad: list[str] = []
    for part in _CONF_SPLIT.split(value.strip()):
        part = part.strip()
        if not part:
            continue
        key, eq, setting = part.partition("=")
        if not eq or not key.strip() or any(c.isspace() for c in key.strip()):
            bad.append(part)
            continue
        conf[key.strip()] = setting.strip()
    return conf, bad


def split_list(value: str) -> list[str]:
    """A comma-separated argument (``--extra-py-files``, ``--extra-jars``,
    ``--additional-python-modules``, ``--datalake-formats``): its items, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def show(value: str) -> str:
    """A value as a one-line notice shows it: as given when it prints on one line, else
    its repr."""
    return value if value.isprintable() and value.strip() == value and value else repr(value)


def _off(value: str) -> bool:
    return value.strip().lower() == "false"


def local_path(path: str, s3_root: str | None) -> str:
    """A path as the session reads it: ``s3://BUCKET/KEY`` (``s3a``, ``s3n``) is the local
    object store's file ``S3_ROOT/BUCKET/KEY``; ``file://`` and plain paths are local."""
    for scheme in ("s3://", "s3a://", "s3n://"):
        if path.startswith(scheme) and s3_root:
            return os.path.join(s3_root, path[len(scheme) :])
    return path[len("file://") :] if path.startswith("file://") else os.path.expanduser(path)


def plan(
    arguments: dict[str, str],
    spark: bool,
    no_spark_reason: str = "",
    s3_root: str | None = None,
    account_id: str = "",
) -> Plan:
    """What to do with ``arguments`` in a session that runs Spark (``spark``) or not (then
    ``no_spark_reason`` says why, in the notices of the arguments only Spark honours);
    ``s3_root``: the local object store, where ``s3://`` files of the arguments are;
    ``account_id``: the endpoint's, the CatalogId of the tables a session writes back."""
    out = Plan()
    for key, value in arguments.items():
        out.argv += [key, value]
    without = f"Spark does not run in this session ({no_spark_reason})"
    if CONF in arguments:
        conf, bad = parse_conf(arguments[CONF])
        for part in bad:
            out.notices.append(
                f"--conf {part!r} is not KEY=VALUE and was not applied; chain settings as "
                "'k1=v1 --conf k2=v2'"
            )
        if conf and not spark:
            out.notices.append(f"--conf was not applied: {without}")
        elif conf:
            out.conf.update(conf)
    if JARS in arguments:
        jars = split_list(arguments[JARS])
        if jars and not spark:
            out.notices.append(f"--extra-jars was not applied: {without}")
        elif jars:
            given = out.conf.get("spark.jars")
            jars = [local_path(jar, s3_root) for jar in jars]
            out.conf["spark.jars"] = ",".join([*([given] if given else []), *jars])
    if PY_FILES in arguments:
        out.py_files = [(f, local_path(f, s3_root)) for f in split_list(arguments[PY_FILES])]
    if MODULES in arguments:
        # a wheel in the object store is installed from its file
        out.modules = [
            local_path(m, s3_root) if m.startswith(("s3://", "s3a://", "s3n://")) else m
            for m in split_list(arguments[MODULES])
        ]
        out.module_options = arguments.get(MODULE_OPTIONS, "").split()
    if DATALAKE in arguments:
        formats = [f.lower() for f in split_list(arguments[DATALAKE])]
        for name in formats:
            if name not in DATALAKE_PACKAGES:
                out.notices.append(
                    f"--datalake-formats {name!r} is not a data lake format Glue knows; use "
                    f"{', '.join(DATALAKE_PACKAGES)}"
                )
            elif not spark:
                out.notices.append(f"--datalake-formats {name} was not applied: {without}")
            else:
                out.packages.append((name, datalake_coordinates(name, *spark_versions())))
    if arguments.get(CATALOG) is not None and not _off(arguments[CATALOG]):
        # Spark SQL sees the catalog's tables before each statement and what a statement
        # made goes back after it (AWS Glue "AWS Glue Data Catalog support for Spark SQL
        # jobs"); from_catalog reads the catalog with or without it, as on Glue.
        if spark:
            out.catalog = {"module": CATALOG_MODULE, "account_id": account_id}
        else:
            out.notices.append(f"--enable-glue-datacatalog was not applied: {without}")
    for key, why in NOT_HONOURED.items():
        if key in arguments and not _off(arguments[key]):
            out.notices.append(f"{key} {show(arguments[key])} is not honoured locally: {why}")
    return out


def datalake_coordinates(name: str, spark_version: str, scala_version: str) -> str:
    """The Maven coordinate of a data lake format's runtime for this Spark."""
    major_minor = ".".join(spark_version.split(".")[:2])
    return DATALAKE_PACKAGES[name].format(spark=major_minor, scala=scala_version)


def spark_versions() -> tuple[str, str]:
    """The installed pyspark's version and its jars' Scala version (``2.13``, from its
    scala-library jar), read without importing pyspark."""
    import glob
    import importlib.metadata
    import importlib.util

    version = importlib.metadata.version("pyspark")
    spec = importlib.util.find_spec("pyspark")
    homes = list(spec.submodule_search_locations or []) if spec else []
    for home in homes:
        for jar in glob.glob(os.path.join(home, "jars", "scala-library-*.jar")):
            scala = os.path.basename(jar)[len("scala-library-") : -len(".jar")]
            return version, ".".join(scala.split(".")[:2])
    return version, "2.13"
