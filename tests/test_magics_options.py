"""Every CreateSession member reaches the request from each place a user sets it.

In-process IPython (real magics, real parsing), ``--dry-run`` only: no endpoint is given,
so any network call would fail the test.
"""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics.magics import GlueMagics

ROLE = "arn:aws:iam::123456789012:role/Members"

# member -> (flag line, %%configure JSON, %config assignment, environment, expected request)
MEMBERS = {
    "Id": ("--id s-1", '{"Id": "s-1"}', 'id = "s-1"', {"GLUE_ID": "s-1"}, {"Id": "s-1"}),
    "Description": (
        "--description demo",
        '{"description": "demo"}',
        'description = "demo"',
        {"GLUE_DESCRIPTION": "demo"},
        {"Description": "demo"},
    ),
    "Role": (
        f"--role {ROLE}",
        f'{{"iam_role": "{ROLE}"}}',
        f'role = "{ROLE}"',
        {"GLUE_ROLE_ARN": ROLE},
        {"Role": ROLE},
    ),
    "Command": (
        "--session-type streaming --python-version 3",
        '{"session_type": "streaming", "python_version": "3"}',
        'session_type = "streaming"',
        {"GLUE_SESSION_TYPE": "streaming"},
        {"Command": {"Name": "gluestreaming"}},
    ),
    "Timeout": (
        "--timeout 120",
        '{"timeout": 120}',
        "timeout = 120",
        {"GLUE_TIMEOUT": "120"},
        {"Timeout": 120},
    ),
    "IdleTimeout": (
        "--idle-timeout 30",
        '{"idle_timeout": 30}',
        "idle_timeout = 30",
        {"GLUE_IDLE_TIMEOUT": "30"},
        {"IdleTimeout": 30},
    ),
    "DefaultArguments": (
        "--arg enable-glue-datacatalog=true",
        '{"--enable-glue-datacatalog": "true"}',
        'default_arguments = {"--enable-glue-datacatalog": "true"}',
        {"GLUE_DEFAULT_ARGUMENTS": '{"--enable-glue-datacatalog": "true"}'},
        {"DefaultArguments": {"--enable-glue-datacatalog": "true"}},
    ),
    "Connections": (
        "--connections a,b",
        '{"connections": ["a", "b"]}',
        'connections = ["a", "b"]',
        {"GLUE_CONNECTIONS": "a,b"},
        {"Connections": {"Connections": ["a", "b"]}},
    ),
    "MaxCapacity": (
        "--max-capacity 3",
        '{"max_capacity": 3}',
        "max_capacity = 3.0",
        {"GLUE_MAX_CAPACITY": "3"},
        {"MaxCapacity": 3.0},
    ),
    "NumberOfWorkers": (
        "--workers 7",
        '{"number_of_workers": 7}',
        "number_of_workers = 7",
        {"GLUE_NUMBER_OF_WORKERS": "7"},
        {"NumberOfWorkers": 7},
    ),
    "WorkerType": (
        "--worker-type G.2X",
        '{"worker_type": "G.2X"}',
        'worker_type = "G.2X"',
        {"GLUE_WORKER_TYPE": "G.2X"},
        {"WorkerType": "G.2X"},
    ),
    "SecurityConfiguration": (
        "--security-config sec",
        '{"security_config": "sec"}',
        'security_config = "sec"',
        {"GLUE_SECURITY_CONFIG": "sec"},
        {"SecurityConfiguration": "sec"},
    ),
    "GlueVersion": (
        "--glue-version 4.0",
        '{"glue_version": "4.0"}',
        'glue_version = "4.0"',
        {"GLUE_VERSION": "4.0"},
        {"GlueVersion": "4.0"},
    ),
    "Tags": (
        "--tag team=data",
        '{"tags": {"team": "data"}}',
        'tags = {"team": "data"}',
        {"GLUE_TAGS": "team=data"},
        {"Tags": {"team": "data"}},
    ),
    "RequestOrigin": (
        "--request-origin nb",
        '{"RequestOrigin": "nb"}',
        'request_origin = "nb"',
        {"GLUE_REQUEST_ORIGIN": "nb"},
        {"RequestOrigin": "nb"},
    ),
}


@pytest.fixture
def shell(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)  # %config persists in the shell's config: start clean
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    ip.run_cell(f'%config GlueMagics.role = "{ROLE}"')
    yield ip
    ip.configurables.remove(magics)


def dry_run(shell, line: str = "") -> dict:
    with capture_output() as cap:
        result = shell.run_cell(f"%glue_session --dry-run {line}")
    assert result.success, cap.stderr
    return json.loads(cap.stdout[: cap.stdout.rindex("}") + 1])


def contains(request: dict, expected: dict) -> bool:
    for key, value in expected.items():
        if isinstance(value, dict):
            if not isinstance(request.get(key), dict) or not contains(request[key], value):
                return False
        elif request.get(key) != value:
            return False
    return True


@pytest.mark.parametrize("member", MEMBERS)
@pytest.mark.parametrize("source", ["line", "configure", "config", "env"])
def test_member_from_each_source_is_sent_as_given(shell, monkeypatch, member, source):
    line, configure, config, env, expected = MEMBERS[member]
    if source == "line":
        request = dry_run(shell, line)
    elif source == "configure":
        shell.run_cell_magic("configure", "", configure)
        request = dry_run(shell)
    elif source == "config":
        assert shell.run_cell(f"%config GlueMagics.{config}").success
        request = dry_run(shell)
    else:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        if member == "Role":
            shell.run_cell("%config GlueMagics.role = None")
        request = dry_run(shell)
    assert contains(request, expected), (request, expected)


def test_bad_input_leaves_pending_options_and_makes_no_call(shell):
    shell.run_cell_magic("configure", "", '{"worker_type": "G.2X"}')
    with pytest.raises(UsageError, match="worker_type 'G.3X'"):
        shell.run_cell_magic("configure", "", '{"worker_type": "G.3X"}')
    assert dry_run(shell)["WorkerType"] == "G.2X"


def test_managing_sessions_needs_no_complete_request(endpoint, monkeypatch, tmp_path):
    """No role yet: %glue_sessions still lists, while %glue_session says how to set one."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for name in ("GLUE_ROLE_ARN", "GLUE_ROLE", "GLUE_IAM_ROLE"):
        monkeypatch.delenv(name, raising=False)
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    try:
        assert ip.run_cell(f'%config GlueMagics.endpoint_url = "{endpoint.url}"').success
        with capture_output() as cap:
            assert ip.run_cell("%glue_sessions").success, cap.stderr
        assert "Glue session(s)" in str([o.data for o in cap.outputs])
        with capture_output() as cap:
            assert not ip.run_cell("%glue_session").success
        assert "role" in cap.stderr and "GLUE_ROLE_ARN" in cap.stderr
    finally:
        ip.configurables.remove(magics)
        ip.config.pop("GlueMagics", None)
