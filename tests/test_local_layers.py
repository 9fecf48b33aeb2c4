"""The local endpoint's shape: its layers, what it imports, and its one settings object.

The layers follow moto's Glue backend (``moto/glue/responses.py`` over ``models.py``, with
``exceptions.py``): each module may import only the ones below it, and of the client's
modules only the facts both sides share.  The settings are built once, from keyword
arguments or from the command line's flags, and checked there.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from glue_magics import results
from glue_magics.local import EndpointSettings, LocalEndpoint
from glue_magics.local import cli as local_cli

LOCAL = Path(__file__).resolve().parent.parent / "glue_magics" / "local"
#: Client modules the endpoint may import, and which of their names (None: any).
SHARED = {
    "model": None,
    "states": None,
    "shapes": None,
    "cost": None,
    "session_types": None,  # Spark Connect sessions' documented rules, the header, the port
    "versions": None,  # the Glue versions table: end of life, what each version runs
    # the one loopback check and the one boto3 client builder (for the results bucket)
    "service": {"is_loopback", "make_client"},
}
#: The endpoint's modules from the top down: each may import only those after it.
LAYERS = (
    "cli",
    "server",
    "auth",
    "responses",
    "logs",
    "validation",
    "backend",
    "statements",
    "spark_connect",
    "models",
    "session_arguments",
    "workers",
    "outputs",
    "result_store",
    "paging",
    "settings",
    "cluster",  # --spark-master: the URL's check, a session's executors, the cluster's room
    "java",  # which Java the sessions' and jobs' Spark runs on (nothing of ours below it)
    "exceptions",
)
#: Modules beside the layers: the fault table (read by the server), the worker's own
#: program (a child process; imports nothing of ours), a Spark Connect session's program
#: (a child process; imports only the worker's helpers) and the package's lazy names.
ASIDE = ("faults", "worker", "connect_proxy", "__init__")


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """``(module, names)`` for every ``glue_magics`` import in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module in ("glue_magics", "glue_magics.local"):
                found += [(f"{node.module}.{name}", set()) for name in names]
            else:
                found.append((node.module, names))
    return [(module, names) for module, names in found if module.startswith("glue_magics.")]


def test_the_endpoint_imports_no_client_code_but_the_shared_facts():
    for path in sorted(LOCAL.glob("*.py")):
        for module, names in imports(path):
            if module.startswith("glue_magics.local"):
                continue
            name = module.removeprefix("glue_magics.")
            assert name in SHARED, f"{path.name} imports {module}"
            allowed = SHARED[name]
            assert allowed is None or names <= allowed, f"{path.name}: {module} {names}"


def test_each_layer_imports_only_the_layers_below_it():
    assert {p.stem for p in LOCAL.glob("*.py")} == set(LAYERS) | set(ASIDE)
    for position, layer in enumerate(LAYERS):
        for module, _ in imports(LOCAL / f"{layer}.py"):
            name = module.removeprefix("glue_magics.local.")
            if name in LAYERS:
                assert LAYERS.index(name) > position, f"{layer} imports {name}, a layer above it"
    assert imports(LOCAL / "worker.py") == []  # the child program runs without the package
    # nor does a Spark Connect session's, but for the worker's helpers and the header's name
    # (session_types: the standard library only, shared with the client)
    found = sorted(m for m, _ in imports(LOCAL / "connect_proxy.py"))
    assert found == ["glue_magics.local.worker", "glue_magics.session_types"]


def parse(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    local_cli.add_parser(parser.add_subparsers())
    return parser.parse_args(["local-endpoint", *flags])


def test_the_command_line_defaults_are_the_settings_defaults():
    settings = local_cli.settings_from(parse())
    assert settings == EndpointSettings(port=local_cli.DEFAULT_PORT)


def test_every_flag_named_as_a_setting_reaches_it():
    args = parse(
        *("--host", "::1", "--port", "0", "--allow-remote", "--verbose", "--busy-status"),
        *("--provision-seconds", "0.5", "--minute-seconds", "2", "--stop-seconds", "0.25"),
        *("--results-bucket", "my-bucket", "--s3-endpoint-url", "http://127.0.0.1:9"),
        *("--result-inline-limit", "7", "--statement-states", "completed"),
        *("--fault", "throttle=0.5", "--seed", "3", "--latency-ms", "50", "--jitter-ms", "5"),
    )
    settings = local_cli.settings_from(args)
    assert dataclasses.asdict(settings) == {
        **dataclasses.asdict(EndpointSettings()),
        "host": "::1",
        "port": 0,
        "allow_remote": True,
        "verbose": True,
        "busy_status": True,
        "provision_seconds": 0.5,
        "minute_seconds": 2.0,
        "stop_seconds": 0.25,
        "results_bucket": "my-bucket",
        "s3_endpoint_url": "http://127.0.0.1:9",
        "result_inline_limit": 7,
        "statement_states": "completed",
        "latency_ms": 50.0,
        "jitter_ms": 5.0,
    }


def test_keyword_arguments_are_the_settings_and_may_amend_a_given_one():
    base = EndpointSettings(stop_seconds=1.0, busy_status=True)
    ep = LocalEndpoint(base, provision_seconds=0.2)
    assert ep.settings == dataclasses.replace(base, provision_seconds=0.2)
    assert LocalEndpoint(stop_seconds=1.0, busy_status=True).settings == base
    with pytest.raises(TypeError, match="no_such_setting"):
        LocalEndpoint(no_such_setting=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.stop_seconds = 2.0  # type: ignore[misc]


def test_a_bad_setting_is_one_line_naming_its_value():
    for kwargs, fragment in (
        ({"statement_states": "spark"}, "statement states 'spark' are not known"),
        ({"host": "192.0.2.1"}, "host '192.0.2.1' is not a loopback address"),
        ({"results_bucket": "Caps_Bucket"}, "'Caps_Bucket' is not a valid S3 bucket name"),
        ({"latency_ms": -1}, "latency_ms -1 is not from 0 to 60000 milliseconds"),
        ({"jitter_ms": float("nan")}, "jitter_ms nan is not from 0 to 60000 milliseconds"),
    ):
        with pytest.raises(ValueError, match=fragment) as info:
            EndpointSettings(**kwargs)
        assert "\n" not in str(info.value)


# S3's naming rules (AWS docs, "General purpose bucket naming rules").
s3_bucket_names = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True).filter(
    lambda name: ".." not in name
)


@given(s3_bucket_names)
@example("a.b-c")
def test_every_bucket_name_s3_allows_is_a_results_bucket(name):
    assert EndpointSettings(results_bucket=name).results_bucket == name


@given(st.text(max_size=80))
@example("b..b")
@example("s3://bucket")
@example("ab")
@example("a" * 64)
def test_a_results_bucket_is_one_the_client_can_read_back(name):
    """Whatever bucket the endpoint writes to, the client's reader takes its URIs."""
    try:
        EndpointSettings(results_bucket=name)
    except ValueError as exc:
        assert "\n" not in str(exc) and "not a valid S3 bucket name" in str(exc)
        return
    assert not name or results.parse_s3_uri(f"s3://{name}/glue-magics/s/1/result.json")
