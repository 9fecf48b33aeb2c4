"""Session options: every rule, every source, the precedence order, the request.

No network and no IPython: the option layer never builds a client.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.validate import validate_parameters
from helpers import ROLE

from glue_magics.model import operation
from glue_magics.options import (
    OptionError,
    SessionOptions,
    account_id_from_env,
    dry_run_text,
    from_env,
    from_profile,
    parse_configure,
    parse_line_flags,
    suggest,
)
from glue_magics.specs import DEFAULTS, OPTION_NAMES, SPECS, env_names

INPUT = operation("CreateSession").input_shape


def resolve(*layers: tuple[str, dict[str, Any]], account_id: str | None = None) -> SessionOptions:
    return SessionOptions.resolve(list(layers), account_id=account_id)


def with_role(**values: Any) -> SessionOptions:
    return resolve(("line", {"role": ROLE, **values}))


def error_of(**values: Any) -> str:
    with pytest.raises(OptionError) as info:
        with_role(**values)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- defaults


def test_defaults_build_the_documented_request() -> None:
    request = with_role().request(session_id="s-1")
    assert request == {
        "Id": "s-1",
        "Role": ROLE,
        "Command": {"Name": "glueetl"},
        "IdleTimeout": 60,
        "NumberOfWorkers": 5,
        "WorkerType": "G.1X",
        "GlueVersion": "5.0",
    }
    validate_parameters(request, INPUT)
    assert DEFAULTS["glue_version"] == "5.0"


def test_generated_id_uses_prefix_and_fits_the_model() -> None:
    plain = with_role().request()["Id"]
    assert re.fullmatch(r"glue-magics-[0-9a-f]{32}", plain)
    prefixed = with_role(id_prefix="team-a").request()["Id"]
    assert re.fullmatch(r"team-a-[0-9a-f]{32}", prefixed)
    longest = with_role(id_prefix="p" * 222).request()["Id"]
    assert len(longest) == 255
    assert with_role().request()["Id"] != plain  # fresh per request


def test_explicit_id_wins_over_prefix() -> None:
    assert with_role(id="mine", id_prefix="x").request()["Id"] == "mine"
    assert with_role(id="mine").request(session_id="other")["Id"] == "other"


def test_request_checks_a_given_session_id() -> None:
    with pytest.raises(OptionError, match=r"^id '' is shorter"):
        with_role().request(session_id="")


# --------------------------------------------------------------------------- rules

RULES: list[tuple[dict[str, Any], str]] = [
    (
        {"worker_type": "G.3X"},
        "worker_type 'G.3X' is not a Glue worker type; choose one of "
        + ", ".join(sorted(operation("CreateSession").input_shape.members["WorkerType"].enum)),
    ),
    ({"idle_timeout": 0}, "idle_timeout 0 is below the minimum of 1 minute"),
    ({"idle_timeout": "0"}, "idle_timeout 0 is below the minimum of 1 minute"),
    ({"timeout": -3}, "timeout -3 is below the minimum of 1 minute"),
    ({"number_of_workers": "abc"}, "number_of_workers 'abc' is not a whole number; give e.g. 5"),
    ({"number_of_workers": "2.5"}, "number_of_workers '2.5' is not a whole number"),
    ({"number_of_workers": True}, "number_of_workers true is not a whole number"),
    ({"number_of_workers": 0}, "number_of_workers 0 is below the minimum of 1"),
    ({"timeout": "ten"}, "timeout 'ten' is not a whole number"),
    ({"timeout": 2**31}, "timeout 2147483648 is above the maximum of 2147483647"),
    ({"max_capacity": "lots"}, "max_capacity 'lots' is not a number; give e.g. 10"),
    ({"max_capacity": "nan"}, "max_capacity 'nan' is not a number"),
    ({"max_capacity": 0}, "max_capacity 0 is not above 0"),
    (
        {"max_capacity": 10, "worker_type": "G.2X"},
        "max_capacity 10 cannot be combined with worker_type from the same source (line)",
    ),
    (
        {"max_capacity": 10, "number_of_workers": 3},
        "max_capacity 10 cannot be combined with number_of_workers",
    ),
    ({"worker_type": "Z.2X"}, "worker_type 'Z.2X' is only for Ray sessions"),
    ({"session_type": "ray", "worker_type": "G.1X"}, "session_type 'ray' needs worker_type Z.2X"),
    ({"session_type": "ray", "max_capacity": 4}, "session_type 'ray' needs worker_type Z.2X"),
    ({"session_type": "spark"}, "session_type 'spark' is not a session type; choose one of etl"),
    ({"session_type": 3}, "session_type '3' is not a session type"),
    (
        {"worker_type": "G.12X", "glue_version": "3.0"},  # botocore WorkerType docs: 4.0+
        "worker_type 'G.12X' needs glue_version 4.0 or later, not 3.0",
    ),
    (
        {"worker_type": "R.2X", "glue_version": "3.0"},
        "worker_type 'R.2X' needs glue_version 4.0 or later, not 3.0",
    ),
    # end of life 2026-04-01 ("AWS Glue version support policy"): glue_magics.versions
    ({"glue_version": "2.0"}, "glue_version '2.0' reached end of life on 2026-04-01"),
    ({"glue_version": "0.9"}, "glue_version '0.9' reached end of life"),
    ({"glue_version": "1.5"}, "glue_version '1.5' is not supported by interactive sessions"),
    ({"glue_version": "five"}, "glue_version 'five' is not a Glue version; give e.g. 5.0"),
    ({"glue_version": "a.b"}, "glue_version 'a.b' is not a Glue version"),
    ({"glue_version": 5}, "glue_version '5' is not a Glue version; give e.g. 5.0"),
    ({"glue_version": ["5.0"]}, 'glue_version ["5.0"] is not text'),
    ({"timeout": 30, "idle_timeout": 45}, "idle_timeout 45 is above timeout 30"),
    ({"role": "arn:aws:s3:::bucket/x"}, "role 'arn:aws:s3:::bucket/x' does not match the pattern"),
    ({"role": "has space"}, "role 'has space' is not an IAM role ARN; give the full ARN"),
    ({"role": "GlueRole"}, "role 'GlueRole' is a role name, not an ARN; give the full ARN"),
    ({"description": "d" * 2049}, "description 'ddd"),
    ({"description": "bad\x00char"}, "description 'bad\\x00char' does not match the pattern"),
    ({"id": ""}, "id '' is shorter than the minimum of 1 character"),
    ({"id": "x" * 256}, "id 'xxx"),
    ({"id": "tab\x01"}, "id 'tab\\x01' does not match the pattern"),
    ({"id_prefix": "p" * 223}, "id_prefix 'ppp"),
    ({"id_prefix": "a\x08"}, "id_prefix 'a\\x08' does not match the pattern"),
    ({"security_config": ""}, "security_config '' is shorter than the minimum of 1"),
    ({"request_origin": "not ok"}, "request_origin 'not ok' does not match the pattern"),
    ({"python_version": "4"}, "python_version '4' does not match the pattern"),
    ({"connections": ["c" * 256]}, "connections 'ccc"),
    ({"connections": 5}, "connections 5 is not a list"),
    ({"connections": [["nested"]]}, 'connections item ["nested"] is not a name'),
    (
        {"tags": {f"k{i}": "v" for i in range(51)}},
        "tags has 51 entries; the Glue API allows at most 50",
    ),
    ({"tags": {"k" * 129: "v"}}, "tags key 'kkk"),
    ({"tags": {"k": "v" * 257}}, "tags 'vvv"),
    ({"tags": "novalue"}, "tags 'novalue' is not KEY=VALUE; write e.g. team=data"),
    ({"tags": "{not json"}, "tags '{not json' is not a JSON object"),
    ({"tags": ["a"]}, 'tags ["a"] is not a mapping'),
    ({"tags": {"k": {"nested": 1}}}, 'tags value {"nested": 1} is not text'),
    ({"tags": {" ": "v"}}, "tags key ' ' is empty or not text"),
    (
        {"default_arguments": {f"a{i}": "v" for i in range(75)}, "spark_conf": {"x": "1"}},
        "default_arguments has 76 entries counting spark_conf; the Glue API allows at most 75",
    ),
    (
        {
            "default_arguments": {f"a{i}": "v" for i in range(74)},
            "spark_conf": {"x": "1"},
            "additional_python_modules": "polars",
        },
        "default_arguments has 76 entries counting additional_python_modules and spark_conf",
    ),
    ({"default_arguments": {"bad key": "v"}}, "default_arguments key '--bad key' does not match"),
    ({"spark_conf": {"k": "v" * 5000}}, "spark_conf 'k=vvv"),
    ({"spark_conf": "novalue"}, "spark_conf 'novalue' is not KEY=VALUE"),
    ({"additional_python_modules": {"a": 1}}, 'additional_python_modules {"a": 1} is not text'),
    ({"endpoint_url": "ftp://x"}, "endpoint_url 'ftp://x' is not an http(s) URL"),
    ({"region": "US East"}, "region 'US East' is not an AWS region name"),
    (
        {"worker_typ": "G.1X"},
        "worker_typ is not a session option (line); did you mean worker_type?",
    ),
]


@pytest.mark.parametrize(("values", "expected"), RULES, ids=[r[1][:40] for r in RULES])
def test_rule(values: dict[str, Any], expected: str) -> None:
    message = error_of(**values)
    assert message.startswith(expected), message
    option = expected.split()[0]
    assert message.startswith(option)


def test_missing_role_says_how_to_set_it() -> None:
    with pytest.raises(OptionError) as info:
        resolve()
    message = str(info.value)
    assert message.startswith("role is not set")
    for way in ("%glue_session --role arn:", "%config GlueMagics.role", "GLUE_ROLE_ARN"):
        assert way in message
    assert info.value.option == "role"


def test_role_name_completed_only_with_an_explicit_account() -> None:
    opts = resolve(("line", {"role": "GlueRole"}), account_id="210987654321")
    assert opts.values["role"] == "arn:aws:iam::210987654321:role/GlueRole"
    opts = resolve(
        ("line", {"role": "service-role/R", "region": "cn-north-1"}), account_id="210987654321"
    )
    assert opts.values["role"] == "arn:aws-cn:iam::210987654321:role/service-role/R"
    with pytest.raises(
        OptionError, match=r"^role 'GlueRole' cannot be completed: account id 'abc'"
    ):
        resolve(("line", {"role": "GlueRole"}), account_id="abc")
    assert account_id_from_env({"GLUE_ACCOUNT_ID": " 123456789012 "}) == "123456789012"
    assert account_id_from_env({"AWS_ACCOUNT_ID": "210987654321"}) == "210987654321"
    assert account_id_from_env({}) is None


def test_max_capacity_from_a_higher_source_drops_worker_settings() -> None:
    opts = resolve(("line", {"role": ROLE, "max_capacity": "10"}))
    assert "WorkerType" not in opts.request() and "NumberOfWorkers" not in opts.request()
    assert opts.request()["MaxCapacity"] == 10.0
    opts = resolve(("line", {"max_capacity": 10}), ("env", {"role": ROLE, "worker_type": "G.2X"}))
    assert opts.request()["MaxCapacity"] == 10.0 and "WorkerType" not in opts.request()
    opts = resolve(("line", {"role": ROLE, "worker_type": "G.2X"}), ("env", {"max_capacity": "4"}))
    assert "MaxCapacity" not in opts.request()
    assert opts.request()["WorkerType"] == "G.2X" and opts.request()["NumberOfWorkers"] == 5


def test_ray_with_defaulted_worker_type_runs_on_z2x() -> None:
    opts = with_role(session_type="ray")
    request = opts.request(session_id="r")
    assert request["Command"] == {"Name": "glueray"} and request["WorkerType"] == "Z.2X"
    assert opts.sources["worker_type"] == "default"


def test_defaulted_idle_timeout_follows_a_shorter_timeout() -> None:
    assert with_role(timeout=30).request()["IdleTimeout"] == 30
    assert with_role(timeout=300).request()["IdleTimeout"] == 60


def test_worker_type_case_is_folded_to_the_models_spelling() -> None:
    assert with_role(worker_type="g.2x").request()["WorkerType"] == "G.2X"


def test_worker_type_enum_is_read_from_the_model() -> None:
    enum = INPUT.members["WorkerType"].enum
    for worker in enum:
        values: dict[str, Any] = {"worker_type": worker}
        if worker.startswith("Z."):
            values["session_type"] = "ray"
        assert with_role(**values).request()["WorkerType"] == worker


@pytest.mark.parametrize(
    ("worker", "workers", "dpus"),
    [
        ("G.025X", 4, 1.0),
        ("G.1X", 5, 5.0),
        ("G.2X", 3, 6.0),
        ("G.4X", 2, 8.0),
        ("G.8X", 2, 16.0),
        ("Standard", 3, 3.0),
        ("Z.2X", 5, 10.0),
    ],
)
def test_dpus_and_cost(worker: str, workers: int, dpus: float) -> None:
    values: dict[str, Any] = {"worker_type": worker, "number_of_workers": workers}
    if worker == "Z.2X":
        values["session_type"] = "ray"
    opts = with_role(**values)
    assert opts.dpus() == dpus
    assert opts.cost(1.0).per_hour == pytest.approx(dpus)


def test_dpus_of_max_capacity_and_dry_run_text() -> None:
    assert with_role(max_capacity=2.5).dpus() == 2.5
    text = dry_run_text(with_role(id="s"))
    request, _, cost = text.rpartition("\n")
    assert json.loads(request)["Id"] == "s"
    assert cost == "estimated cost: 5 DPU x $0.44 = $2.20 per hour"


# --------------------------------------------------------------------------- job arguments


def test_spark_conf_becomes_one_conf_argument() -> None:
    opts = with_role(spark_conf={"spark.a": "1", "spark.b": "x y"})
    assert opts.request()["DefaultArguments"] == {"--conf": "spark.a=1 --conf spark.b=x y"}


def test_arguments_get_dashes_and_owned_arguments_route_to_their_option() -> None:
    opts = with_role(
        default_arguments={
            "enable-metrics": "true",
            "--conf": "a=1 --conf b=2",
            "--additional-python-modules": "polars",
        },
        spark_conf={"b": "3"},
        extra_py_files=["s3://b/x.py", "s3://b/y.py"],
        extra_jars="s3://b/z.jar",
    )
    assert opts.values["spark_conf"] == {"a": "1", "b": "3"}
    assert opts.values["additional_python_modules"] == "polars"
    assert opts.request()["DefaultArguments"] == {
        "--enable-metrics": "true",
        "--conf": "a=1 --conf b=3",
        "--additional-python-modules": "polars",
        "--extra-py-files": "s3://b/x.py,s3://b/y.py",
        "--extra-jars": "s3://b/z.jar",
    }


def test_scalar_values_in_maps_become_text() -> None:
    opts = with_role(tags={"n": 3, "b": True, "f": 1.5})
    assert opts.request()["Tags"] == {"n": "3", "b": "true", "f": "1.5"}


# --------------------------------------------------------------------------- %%configure


def test_configure_accepts_aws_kernel_names() -> None:
    body = json.dumps(
        {
            "iam_role": ROLE,
            "worker_type": "G.2X",
            "number_of_workers": 10,
            "glue_version": "4.0",
            "idle_timeout": 30,
            "timeout": 120,
            "connections": "a, b",
            "security_config": "sec",
            "session_id_prefix": "team",
            "tags": {"t": "1"},
            "additional_python_modules": "polars",
            "extra_py_files": "s3://b/f.py",
            "extra_jars": "s3://b/j.jar",
            "spark_conf": "spark.a=1 --conf spark.b=2",
            "region": "eu-west-1",
            "profile": "dev",
            "endpoint_url": "http://127.0.0.1:9000",
            "session_type": "streaming",
            "description": "d",
            "--enable-metrics": "true",
        }
    )
    opts = resolve(("configure", parse_configure(body)))
    request = opts.request()
    assert request["Id"].startswith("team-")
    assert request["Command"] == {"Name": "gluestreaming"}
    assert request["Connections"] == {"Connections": ["a", "b"]}
    assert request["DefaultArguments"] == {
        "--enable-metrics": "true",
        "--conf": "spark.a=1 --conf spark.b=2",
        "--additional-python-modules": "polars",
        "--extra-py-files": "s3://b/f.py",
        "--extra-jars": "s3://b/j.jar",
    }
    assert opts.client_settings() == {
        "region": "eu-west-1",
        "profile": "dev",
        "endpoint_url": "http://127.0.0.1:9000",
    }
    assert set(opts.sources.values()) == {"configure"}


def test_configure_accepts_api_pascal_case() -> None:
    body = json.dumps(
        {
            "Role": ROLE,
            "WorkerType": "G.2X",
            "NumberOfWorkers": 3,
            "GlueVersion": "4.0",
            "Command": {"Name": "glueetl", "PythonVersion": "3"},
            "IdleTimeout": 10,
            "Timeout": 20,
            "DefaultArguments": {"--x": "1"},
            "Connections": {"Connections": ["c"]},
            "SecurityConfiguration": "s",
            "Tags": {"a": "b"},
            "RequestOrigin": "nb",
            "Description": "d",
            "Id": "sid",
        }
    )
    request = resolve(("configure", parse_configure(body))).request()
    assert request == {
        "Id": "sid",
        "Description": "d",
        "Role": ROLE,
        "Command": {"Name": "glueetl", "PythonVersion": "3"},
        "Timeout": 20,
        "IdleTimeout": 10,
        "DefaultArguments": {"--x": "1"},
        "Connections": {"Connections": ["c"]},
        "NumberOfWorkers": 3,
        "WorkerType": "G.2X",
        "SecurityConfiguration": "s",
        "GlueVersion": "4.0",
        "Tags": {"a": "b"},
        "RequestOrigin": "nb",
    }
    validate_parameters(request, INPUT)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "%%configure body is empty"),
        ("   \n", "%%configure body is empty"),
        (
            '{\n  "a": 1,\n  "b": 2\n  "c": 3}',
            "%%configure body is not valid JSON: Expecting ',' delimiter at line 4, column 3",
        ),
        ("[1, 2]", "%%configure body must be a JSON object"),
        (
            '{"worker_typo": "G.1X"}',
            "%%configure key 'worker_typo' is not a session option; did you mean worker_type?",
        ),
        (
            '{"WorkerTyp": "G.1X"}',
            "%%configure key 'WorkerTyp' is not a session option; did you mean WorkerType?",
        ),
        ('{"zzzz": 1}', "%%configure key 'zzzz' is not a session option"),
        ('{"iam_role": "a", "role": "b"}', "%%configure gives role twice (iam_role and role)"),
        ('{"Command": "glueetl"}', "Command 'glueetl' is not an object with Name"),
        ('{"default_arguments": [1], "--x": "1"}', "default_arguments [1] is not a JSON object"),
    ],
)
def test_configure_errors(body: str, expected: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_configure(body)
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_configure_nulls_are_not_given_and_job_args_merge() -> None:
    parsed = parse_configure('{"role": null, "default_arguments": {"a": "1"}, "--b": "2"}')
    assert parsed == {"default_arguments": {"a": "1", "--b": "2"}}


# --------------------------------------------------------------------------- line flags


def test_line_flags_map_dests() -> None:
    """%glue_session's own flags (--dry-run, --force, --no-wait) are the magic's: it hands
    over the option flags only (test_magics_options covers them)."""
    ns = {name: None for name in ("role", "worker_type", "workers", "tag", "arg", "conf")}
    ns.update(
        role=ROLE,
        workers="3",
        python_modules="polars",
        tag=["team=data", "env=dev"],
        arg=["enable-metrics=true", "--x=a=b"],
        conf=["spark.a=1"],
    )
    flags = parse_line_flags(ns)
    assert flags == {
        "role": ROLE,
        "number_of_workers": "3",
        "additional_python_modules": "polars",
        "tags": {"team": "data", "env": "dev"},
        "default_arguments": {"enable-metrics": "true", "--x": "a=b"},
        "spark_conf": {"spark.a": "1"},
    }
    request = resolve(("line", flags)).request()
    assert request["DefaultArguments"] == {
        "--enable-metrics": "true",
        "--x": "a=b",
        "--conf": "spark.a=1",
        "--additional-python-modules": "polars",
    }


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        ({"tag": ["novalue"]}, "--tag 'novalue' is not KEY=VALUE; write e.g. --tag team=data"),
        ({"arg": ["=v"]}, "--arg '=v' is not KEY=VALUE; write e.g. --arg enable-metrics=true"),
        ({"conf": ["x"]}, "--conf 'x' is not KEY=VALUE; write e.g. --conf spark.sql"),
    ],
)
def test_line_flag_errors(ns: dict[str, Any], expected: str) -> None:
    with pytest.raises(OptionError) as info:
        parse_line_flags(ns)
    assert str(info.value).startswith(expected)


def test_line_flag_value_errors_name_the_option() -> None:
    with pytest.raises(OptionError, match=r"^number_of_workers 'x' is not a whole number"):
        resolve(("line", parse_line_flags({"role": ROLE, "workers": "x"})))


def test_unknown_line_dest_is_a_bug_not_a_user_error() -> None:
    with pytest.raises(TypeError):
        parse_line_flags({"no_such_flag": "1"})


def test_suggest() -> None:
    assert (
        suggest("--worker_typ", ["--worker-type", "--workers"]) == "; did you mean --worker-type?"
    )
    assert suggest("worker-type", ["worker_type", "role"]) == "; did you mean worker_type?"
    assert suggest("zzzzzz", ["worker_type", "role"]) == ""


# --------------------------------------------------------------------------- sources


def test_option_names_match_the_table_and_the_magics_contract() -> None:
    assert OPTION_NAMES == tuple(s.name for s in SPECS)
    assert set(OPTION_NAMES) == {
        "role",
        "worker_type",
        "number_of_workers",
        "max_capacity",
        "glue_version",
        "idle_timeout",
        "timeout",
        "session_type",
        "python_version",
        "connections",
        "security_config",
        "tags",
        "default_arguments",
        "spark_conf",
        "additional_python_modules",
        "extra_py_files",
        "extra_jars",
        "session_language",
        "id",
        "id_prefix",
        "description",
        "request_origin",
        "region",
        "profile",
        "endpoint_url",
    }


def test_env_names_derive_from_the_table() -> None:
    by = {s.name: env_names(s) for s in SPECS}
    assert by["worker_type"][0] == "GLUE_WORKER_TYPE" and "glue_worker_type" in by["worker_type"]
    assert by["glue_version"][:1] == ("GLUE_VERSION",)
    assert {"GLUE_ROLE_ARN", "glue_role_arn", "glue_iam_role", "GLUE_IAM_ROLE"} <= set(by["role"])
    assert {"GLUE_ID_PREFIX", "glue_session_id_prefix"} <= set(by["id_prefix"])
    assert "glue_region" in by["region"]
    assert "GLUE_ADDITIONAL_PYTHON_MODULES" in by["additional_python_modules"]


@pytest.mark.parametrize(
    ("environ", "name", "value"),
    [
        ({"GLUE_ROLE_ARN": ROLE}, "role", ROLE),
        ({"glue_role_arn": ROLE}, "role", ROLE),
        ({"glue_iam_role": ROLE}, "role", ROLE),
        ({"GLUE_IAM_ROLE": ROLE}, "role", ROLE),
        ({"glue_version": "4.0"}, "glue_version", "4.0"),
        ({"glue_worker_type": "G.2X"}, "worker_type", "G.2X"),
        ({"glue_number_of_workers": "7"}, "number_of_workers", 7),
        ({"glue_idle_timeout": "15"}, "idle_timeout", 15),
        ({"glue_session_id_prefix": "pre"}, "id_prefix", "pre"),
        ({"GLUE_ID_PREFIX": "pre"}, "id_prefix", "pre"),
        ({"glue_connections": "a,b"}, "connections", ["a", "b"]),
        ({"glue_tags": '{"a": "1"}'}, "tags", {"a": "1"}),
        ({"GLUE_TAGS": "a=1,b=2"}, "tags", {"a": "1", "b": "2"}),
        ({"glue_region": "eu-west-1"}, "region", "eu-west-1"),
        ({"GLUE_SESSION_TYPE": "streaming"}, "session_type", "streaming"),
        ({"GLUE_MAX_CAPACITY": "3.5"}, "max_capacity", 3.5),
        ({"GLUE_SECURITY_CONFIG": "sec"}, "security_config", "sec"),
        ({"GLUE_ADDITIONAL_PYTHON_MODULES": "polars"}, "additional_python_modules", "polars"),
        ({"GLUE_SPARK_CONF": "a=1 --conf b=2"}, "spark_conf", {"a": "1", "b": "2"}),
        ({"GLUE_ENDPOINT_URL": "local"}, "endpoint_url", "local"),
    ],
)
def test_env_names_and_aws_kernel_aliases(environ: dict[str, str], name: str, value: Any) -> None:
    env = from_env(environ)
    layers: list[tuple[str, dict[str, Any]]] = [("env", env)]
    if name != "role":
        layers.insert(0, ("config", {"role": ROLE}))
    opts = SessionOptions.resolve(layers)
    assert opts.values[name] == value
    assert opts.sources[name] == "env"


def test_env_first_name_wins_and_blank_is_not_given() -> None:
    other = "arn:aws:iam::123456789012:role/Other"
    assert from_env({"GLUE_ROLE_ARN": ROLE, "glue_iam_role": other}) == {"role": ROLE}
    assert from_env({"GLUE_ROLE_ARN": "  ", "glue_iam_role": other}) == {"role": other}
    assert from_env({"AWS_REGION": "us-east-1", "HOME": "/x"}) == {}


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config"
    path.write_text(text)
    return str(path)


def test_profile_glue_keys(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "[default]\nglue_role_arn = " + ROLE + "\nglue_worker_type = G.2X\n"
        "[profile team]\nglue_iam_role = arn:aws:iam::123456789012:role/Team\n"
        'glue_number_of_workers = 9\nglue_tags = {"team": "a"}\nregion = us-west-2\n'
        "glue_profile = ignored\n",
    )
    assert from_profile(None, config_file=path) == {"role": ROLE, "worker_type": "G.2X"}
    team = from_profile("team", config_file=path)
    assert team == {
        "role": "arn:aws:iam::123456789012:role/Team",
        "number_of_workers": "9",
        "tags": '{"team": "a"}',
    }
    opts = SessionOptions.resolve([("profile", team)])
    assert opts.request()["NumberOfWorkers"] == 9 and opts.sources["role"] == "profile"


def test_missing_profile_or_file_means_no_values(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[default]\nglue_role_arn = x\n")
    assert from_profile("nope", config_file=path) == {}
    assert from_profile("team", config_file=str(tmp_path / "absent")) == {}


PRECEDENCE = ["line", "configure", "config", "env", "profile"]


def test_precedence_order_per_option() -> None:
    for top in range(len(PRECEDENCE) + 1):
        layers = [(src, {"number_of_workers": i + 1}) for i, src in enumerate(PRECEDENCE)][top:]
        opts = SessionOptions.resolve([("line", {}), ("config", {"role": ROLE}), *layers])
        expected = top + 1 if top < len(PRECEDENCE) else DEFAULTS["number_of_workers"]
        source = PRECEDENCE[top] if top < len(PRECEDENCE) else "default"
        assert opts.values["number_of_workers"] == expected
        assert opts.sources["number_of_workers"] == source


def test_precedence_per_key_for_dicts() -> None:
    layers = [
        (
            src,
            {
                "tags": {"shared": src, f"only-{src}": "1"},
                "spark_conf": {"spark.shared": src},
                "default_arguments": {"shared": src, f"--{src}": "1"},
            },
        )
        for src in PRECEDENCE
    ]
    opts = SessionOptions.resolve([*layers, ("config", {"role": ROLE})])
    tags = opts.request()["Tags"]
    assert tags["shared"] == "line"
    assert {f"only-{src}" for src in PRECEDENCE} <= set(tags)
    args = opts.request()["DefaultArguments"]
    assert args["--shared"] == "line" and args["--conf"] == "spark.shared=line"
    assert {f"--{src}" for src in PRECEDENCE} <= set(args)
    lower = SessionOptions.resolve(layers[2:] + [("config", {"role": ROLE})])
    assert lower.request()["Tags"]["shared"] == "config"


def test_table_rows_and_sources() -> None:
    opts = SessionOptions.resolve(
        [("line", {"worker_type": "G.2X"}), ("env", from_env({"GLUE_ROLE_ARN": ROLE}))]
    )
    rows = opts.table()
    assert rows[0] == ("role", ROLE, "env")
    assert ("worker_type", "G.2X", "line") in rows
    assert ("glue_version", "5.0", "default") in rows
    assert [r[0] for r in rows] == [n for n in OPTION_NAMES if n in opts.values]


def test_resolve_is_pure_and_deterministic() -> None:
    layers = [("line", {"role": ROLE, "tags": {"a": "1"}}), ("env", {"GLUE_X": "1"})]
    good = [("line", {"role": ROLE, "tags": {"a": "1"}})]
    before = json.dumps(good)
    first = SessionOptions.resolve(good)
    assert json.dumps(good) == before
    assert first == SessionOptions.resolve(good)
    assert first.request(session_id="x") == SessionOptions.resolve(good).request(session_id="x")
    with pytest.raises(OptionError):
        SessionOptions.resolve(layers)


# ------------------------------------------------------------- every member, every source

# member -> (option, flag dest, typed value for config, string for flags/env/profile, request part)
MEMBERS: dict[str, tuple[str, str, Any, Any, dict[str, Any]]] = {
    "Id": ("id", "id", "sess-1", "sess-1", {"Id": "sess-1"}),
    "Description": ("description", "description", "about", "about", {"Description": "about"}),
    "Role": ("role", "role", ROLE, ROLE, {"Role": ROLE}),
    "Command.Name": (
        "session_type",
        "session_type",
        "streaming",
        "streaming",
        {"Command": {"Name": "gluestreaming"}},
    ),
    "Command.PythonVersion": (
        "python_version",
        "python_version",
        "3",
        "3",
        {"Command": {"Name": "glueetl", "PythonVersion": "3"}},
    ),
    "Timeout": ("timeout", "timeout", 240, "240", {"Timeout": 240}),
    "IdleTimeout": ("idle_timeout", "idle_timeout", 20, "20", {"IdleTimeout": 20}),
    "DefaultArguments": (
        "default_arguments",
        "arg",
        {"--job-language": "python"},
        "job-language=python",
        {"DefaultArguments": {"--job-language": "python"}},
    ),
    "Connections": (
        "connections",
        "connections",
        ["c1", "c2"],
        "c1,c2",
        {"Connections": {"Connections": ["c1", "c2"]}},
    ),
    "MaxCapacity": ("max_capacity", "max_capacity", 8.0, "8", {"MaxCapacity": 8.0}),
    "NumberOfWorkers": ("number_of_workers", "workers", 12, "12", {"NumberOfWorkers": 12}),
    "WorkerType": ("worker_type", "worker_type", "G.2X", "G.2X", {"WorkerType": "G.2X"}),
    "SecurityConfiguration": (
        "security_config",
        "security_config",
        "sec",
        "sec",
        {"SecurityConfiguration": "sec"},
    ),
    "GlueVersion": ("glue_version", "glue_version", "4.0", "4.0", {"GlueVersion": "4.0"}),
    "Tags": ("tags", "tag", {"team": "data"}, "team=data", {"Tags": {"team": "data"}}),
    "RequestOrigin": (
        "request_origin",
        "request_origin",
        "nb-1",
        "nb-1",
        {"RequestOrigin": "nb-1"},
    ),
}


def test_members_cover_the_model() -> None:
    members = set(INPUT.members) | {"Command.Name", "Command.PythonVersion"}
    owned = {m for s in SPECS for m in s.members}  # SessionType: session_type's
    assert members - {"Command"} == set(MEMBERS) | set(_extras()) | owned


def _extras() -> tuple[str, ...]:
    from glue_magics.options import extra_member_names

    return extra_member_names()


def _layer_for(source: str, member: str, tmp_path: Path) -> dict[str, Any]:
    option, dest, typed, text, _ = MEMBERS[member]
    spec = next(s for s in SPECS if s.name == option)
    if source == "line":
        return parse_line_flags({dest: [text] if dest in ("tag", "arg") else text})
    if source == "configure":
        key = member.split(".")[0]
        value = typed
        if member == "Command.Name":
            value = {"Name": "gluestreaming"}
        elif member == "Command.PythonVersion":
            value = {"PythonVersion": "3"}
        elif member == "Connections":
            value = {"Connections": typed}
        return parse_configure(json.dumps({key: value}))
    if source == "config":
        return {option: typed}
    if source == "env":
        return from_env({env_names(spec)[0]: text})
    path = write_config(tmp_path, f"[profile p]\n{env_names(spec)[0].lower()} = {text}\n")
    return from_profile("p", config_file=path)


@pytest.mark.parametrize("source", PRECEDENCE)
@pytest.mark.parametrize("member", list(MEMBERS))
def test_every_member_settable_by_every_source(source: str, member: str, tmp_path: Path) -> None:
    option, *_, part = MEMBERS[member]
    layer = _layer_for(source, member, tmp_path)
    layers = [(source, layer)]
    if member != "Role":
        layers.append(("env" if source == "config" else "config", {"role": ROLE}))
    opts = SessionOptions.resolve(layers)
    assert opts.sources[option] == source
    request = opts.request()
    for key, value in part.items():
        assert request[key] == value, (key, request)
    validate_parameters(request, INPUT)


# ------------------------------------------------------------- a newer botocore model


def newer_create_session_shape() -> Any:
    """The real Glue model plus members a future botocore might add (SessionKind...)."""
    import copy

    from botocore.model import ServiceModel

    from glue_magics.model import loader

    data = copy.deepcopy(loader().load_service_model("glue", "service-2"))
    shapes = data["shapes"]
    shapes["FutureSessionType"] = {"type": "string", "enum": ["SPARK", "RAY", "PYTHON"]}
    shapes["FutureFlag"] = {"type": "boolean"}
    shapes["FutureCount"] = {"type": "integer", "min": 2, "max": 9}
    members = shapes["CreateSessionRequest"]["members"]
    members["SessionKind"] = {"shape": "FutureSessionType"}
    members["AutoScale"] = {"shape": "FutureFlag"}
    members["Spares"] = {"shape": "FutureCount"}
    shapes["WorkerType"]["enum"].append("G.12X")
    return ServiceModel(data, service_name="glue").operation_model("CreateSession").input_shape


def test_new_model_members_are_settable_by_pascal_case_name() -> None:
    from glue_magics.options import extra_member_names, using_input_shape

    shape = newer_create_session_shape()
    with using_input_shape(shape):
        assert set(extra_member_names()) == {"SessionKind", "AutoScale", "Spares"}
        parsed = parse_configure('{"SessionKind": "ray", "AutoScale": "true", "Spares": "3"}')
        opts = resolve(("configure", parsed), ("config", {"role": ROLE, "worker_type": "g.12x"}))
        with pytest.raises(OptionError, match=r"^Spares 10 is above the maximum of 9"):
            resolve(("configure", {"Spares": 10}), ("config", {"role": ROLE}))
        with pytest.raises(OptionError, match=r"^SessionKind 'SQL' is not a valid SessionKind"):
            resolve(("line", {"SessionKind": "SQL", "role": ROLE}))
        with pytest.raises(OptionError, match=r"^%%configure key 'SessionKin' .*SessionKind\?"):
            parse_configure('{"SessionKin": "RAY"}')
    request = opts.request(session_id="s")  # keeps the model it was resolved with
    assert request["SessionKind"] == "RAY" and request["AutoScale"] is True
    assert request["Spares"] == 3 and request["WorkerType"] == "G.12X"
    assert opts.dpus() == 5 * 12
    validate_parameters(request, shape)
    # botocore's model again outside the block: only what it adds beyond the reference's 15
    reference = {"Id", "Description", "Role", "Command", "Timeout", "IdleTimeout"}
    reference |= {"DefaultArguments", "Connections", "MaxCapacity", "NumberOfWorkers"}
    reference |= {"WorkerType", "SecurityConfiguration", "GlueVersion", "Tags", "RequestOrigin"}
    real = set(operation("CreateSession").input_shape.members)
    assert set(extra_member_names()) == real - reference - {"SessionType"}  # session_type's


def test_importing_options_loads_no_botocore() -> None:
    import subprocess
    import sys

    code = "import sys, glue_magics.options; print('botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_option_error_is_a_value_error_naming_its_option() -> None:
    with pytest.raises(ValueError) as info:
        with_role(worker_type="G.3X")
    assert isinstance(info.value, OptionError) and info.value.option == "worker_type"
