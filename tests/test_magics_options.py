"""Every CreateSession member reaches the request from each place a user sets it.

In-process IPython (real magics, real parsing), ``--dry-run`` only: no endpoint is given,
so any network call would fail the test.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import fields

import pytest
from botocore.validate import validate_parameters
from helpers import ROLE
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics.magics import GlueMagics
from glue_magics.model import operation
from glue_magics.sessions import Settings

#: The Role member's own value, not ROLE: the ``shell`` fixture sets ROLE, so a source whose
#: role never reached the request would still pass if the two were the same.
MEMBER_ROLE = "arn:aws:iam::123456789012:role/Members"

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
        f"--role {MEMBER_ROLE}",
        f'{{"iam_role": "{MEMBER_ROLE}"}}',
        f'role = "{MEMBER_ROLE}"',
        {"GLUE_ROLE_ARN": MEMBER_ROLE},
        {"Role": MEMBER_ROLE},
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


# ----------------------------------------------------------------------------- properties
# The raw text a user types, through the real magics (magic_arguments parsing included).

FLAG_WORDS = [
    "--role", "--worker-type", "--workers", "--max-capacity", "--glue-version",
    "--idle-timeout", "--timeout", "--session-type", "--python-version", "--connections",
    "--security-config", "--tag", "--arg", "--conf", "--python-modules", "--extra-py-files",
    "--extra-jars", "--id", "--id-prefix", "--description", "--request-origin",
    "--worker-typ", "--bogus", "-x",
]  # fmt: skip
VALUE_WORDS = [
    ROLE, "G.1X", "G.2X", "Z.2X", "G.3X", "g.8x", "2", "0", "-1", "abc", "5.0", "1.0",
    "etl", "ray", "streaming", "a=b", "team=data", "novalue", "=x", "3", "2880", "'a b'",
    '"unterminated', "x" * 300, "é",
]  # fmt: skip
GOOD_PAIRS = {
    "--worker-type": ["G.1X", "G.2X", "g.4x"], "--workers": ["2", "10"],
    "--glue-version": ["4.0", "5.0"], "--idle-timeout": ["30"], "--timeout": ["120"],
    "--session-type": ["etl", "streaming"], "--tag": ["team=data", "a=b"],
    "--arg": ["k=v", "--enable-metrics=true"], "--conf": ["spark.sql.x=1"],
    "--connections": ["a,b"], "--description": ["demo", "'two words'"],
    "--python-modules": ["pandas==2.2"], "--id-prefix": ["nb"], "--request-origin": ["nb"],
}  # fmt: skip
good = st.sampled_from(sorted(GOOD_PAIRS)).flatmap(
    lambda flag: st.sampled_from(GOOD_PAIRS[flag]).map(lambda value: f"{flag} {value}")
)
anything = st.sampled_from(FLAG_WORDS + VALUE_WORDS)
lines = st.lists(st.one_of(good, good, anything), max_size=6).map(" ".join)


@pytest.fixture
def watched(endpoint, monkeypatch, tmp_path):
    """The in-process shell pointed at the local endpoint, whose call counter we watch."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    ip.run_cell(f'%config GlueMagics.endpoint_url = "{endpoint.url}"')
    ip.run_cell(f'%config GlueMagics.role = "{ROLE}"')
    yield ip, endpoint
    ip.configurables.remove(magics)
    ip.config.pop("GlueMagics", None)


def outcome(shell, cell: str):
    with capture_output() as cap:
        result = shell.run_cell(cell)
    return result, cap


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(line=lines)
def test_any_session_line_is_a_request_or_one_line_refusal_without_a_call(watched, line):
    shell, ep = watched
    result, cap = outcome(shell, f"%glue_session --dry-run {line}")
    event("valid" if result.success else "refused")
    if result.success:
        text = cap.stdout
        request = json.loads(text[: text.rindex("}") + 1])
        validate_parameters(request, operation("CreateSession").input_shape)
        return
    assert isinstance(result.error_in_exec, UsageError), result.error_in_exec
    message = str(result.error_in_exec)
    assert message and "\n" not in message and "Traceback" not in cap.stderr
    before = sum(ep.calls.values())
    again, _ = outcome(shell, f"%glue_session {line}")  # for real this time: still no call
    assert isinstance(again.error_in_exec, UsageError)
    assert sum(ep.calls.values()) == before


bodies = st.one_of(
    st.text(max_size=60),
    st.dictionaries(
        st.sampled_from(
            ["worker_type", "number_of_workers", "iam_role", "idle_timeout", "tags",
             "glue_version", "--conf", "WorkerType", "number_of_worker", "bogus",
             "max_capacity", "connections", "session_type"]
        ),
        st.one_of(st.sampled_from(VALUE_WORDS), st.integers(-5, 3000), st.none(),
                  st.booleans(), st.lists(st.sampled_from(["a", "b"]), max_size=2),
                  st.dictionaries(st.sampled_from(["k", "--k"]), st.sampled_from(["v", "1"]))),
        max_size=5,
    ).map(json.dumps),
)  # fmt: skip


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_any_configure_body_is_taken_or_refused_in_one_line_and_nothing_lost(watched, body):
    shell, ep = watched
    shell.run_cell_magic("configure", "", '{"worker_type": "G.2X"}')
    before = sum(ep.calls.values())
    result, cap = outcome(shell, f"%%configure\n{body}")
    assert sum(ep.calls.values()) == before
    event("taken" if result.success else "refused")
    if not result.success:
        assert isinstance(result.error_in_exec, UsageError), result.error_in_exec
        assert "\n" not in str(result.error_in_exec) and "Traceback" not in cap.stderr
        assert shell.run_cell(f'%config GlueMagics.role = "{ROLE}"').success
        request, _ = outcome(shell, "%glue_session --dry-run")
        kept = json.loads(_.stdout[: _.stdout.rindex("}") + 1])
        assert kept["WorkerType"] == "G.2X"  # the refused body changed nothing


@pytest.fixture
def lossy(fresh_endpoint):
    """An in-process shell on an endpoint that loses every CreateSession answer."""
    ep = fresh_endpoint(provision_seconds=0.2, stop_seconds=0.05)
    ep.faults.set("lose", 1.0, operation="CreateSession")
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    ip.run_cell(
        f'%config GlueMagics.endpoint_url = "{ep.url}"\n%config GlueMagics.max_attempts = 1\n'
        "%config GlueMagics.progress = 'none'"
    )
    yield ip, magics, ep
    ep.faults.clear()
    magics.close()
    ip.configurables.remove(magics)
    ip.config.pop("GlueMagics", None)


def test_session_whose_create_answer_was_lost_is_found_and_stopped_at_exit(lossy, glue_client):
    """CreateSession took effect but no answer came back: one GetSession finds the session
    (no second create), it comes up READY, and it is not orphaned: exit stops it."""
    ip, magics, ep = lossy
    with capture_output() as cap:
        result = ip.run_cell(f"%glue_session --role {ROLE} --id lost-answer-1")
    assert result.success, cap.stderr
    assert ep.sessions_created == 1 and ep.calls["CreateSession"] == 1
    magics.close()  # what kernel shutdown or interpreter exit runs
    status = glue_client(ep).get_session(Id="lost-answer-1")["Session"]["Status"]
    assert status in ("STOPPING", "STOPPED")


def test_session_that_may_exist_is_said_and_still_stopped_at_exit(lossy, glue_client):
    """The answer was lost and Glue cannot be asked either (every GetSession fails): the
    user is told the session may exist and how to stop it, and exit stops it."""
    ip, magics, ep = lossy
    ep.faults.set("error5xx", 1.0, operation="GetSession")
    ip.run_cell("%config GlueMagics.wait_timeout = 1.0")  # bounds the create's patience too
    with capture_output() as cap:
        result = ip.run_cell(f"%glue_session --role {ROLE} --id lost-answer-2")
    message = str(result.error_in_exec)
    assert isinstance(result.error_in_exec, UsageError), cap.stderr
    assert "may exist" in message and "%glue_stop lost-answer-2" in message
    assert ep.sessions_created == 1
    ep.faults.clear()
    magics.close()
    status = glue_client(ep).get_session(Id="lost-answer-2")["Session"]["Status"]
    assert status in ("STOPPING", "STOPPED")


# ----------------------------------------------------------------------------- quoting
# Issue: `%glue_session --description 'nightly backfill'` sent the quotes to the service,
# because IPython's parse_argstring splits in shlex's non-POSIX mode.  Values are read as a
# POSIX shell reads words.  IPython itself expands `$name` and `{expr}` in every magic line
# before the magic sees it (whatever the quotes), so those three characters are left out.
one_line_text = st.text(
    # no line breaks: IPython splits a cell at any (U+2028 too) before the magic sees it
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="${}"),
    min_size=1,
    max_size=40,
)


def test_description_with_spaces_loses_its_quotes(shell):
    assert dry_run(shell, "--description 'nightly backfill'")["Description"] == "nightly backfill"
    assert dry_run(shell, '--description "it\'s late"')["Description"] == "it's late"
    assert dry_run(shell, r"--description a\ b")["Description"] == "a b"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=one_line_text)
def test_any_quoted_value_arrives_unchanged_in_the_request(shell, value):
    assume(value != "--")  # argparse drops a value of exactly "--", its end-of-options marker
    quoted, tag = shlex.quote(value), shlex.quote(f"k={value}")
    # A value that is itself a flag (--timeout) needs the = form, as with any argparse CLI.
    joiner = "=" if value.startswith("-") else " "
    request = dry_run(shell, f"--description{joiner}{quoted} --tag {tag}")
    assert request["Description"] == value
    assert request["Tags"]["k"] == value


@pytest.fixture
def compat(shell):
    """The in-process shell with the AWS-kernel option magics of the glue-magics kernel."""
    from glue_magics.kernel import CompatMagics

    glue = shell.magics_manager.registry["GlueMagics"]
    shell.register_magics(CompatMagics(shell, glue))
    yield shell


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=one_line_text.map(str.strip).filter(bool))  # names are trimmed; descriptions not
def test_aws_kernel_option_magics_read_quoted_values_unchanged(compat, value):
    with capture_output():
        assert compat.run_cell(f"%security_config {shlex.quote(value)}").success
        assert compat.run_cell("%idle_timeout '45'").success
    request = dry_run(compat)
    assert request["SecurityConfiguration"] == value
    assert request["IdleTimeout"] == 45


def test_an_unterminated_quote_is_one_line(compat):
    for cell in ("%security_config 'abc", "%glue_stop 'x", "%glue_session --description 'a b"):
        with capture_output() as cap:
            result = compat.run_cell(cell)
        assert isinstance(result.error_in_exec, UsageError), cell
        assert "close the quote" in str(result.error_in_exec) and "Traceback" not in cap.stderr


def test_a_dash_value_is_the_flags_value_not_another_flag(shell):
    """A shell passes ``-1`` to ``--workers``; argparse alone would say "expected one argument"."""
    with capture_output() as cap:
        result = shell.run_cell("%glue_session --dry-run --workers -1")
    assert "number_of_workers -1 is below the minimum of 1" in str(result.error_in_exec), cap.stderr
    assert dry_run(shell, "--description -x")["Description"] == "-x"


def test_endpoint_url_works_together_with_a_profile(fresh_endpoint, monkeypatch, tmp_path):
    """AWS's kernel drops the endpoint whenever a profile is set (aws-glue-sessions 1.0.9
    KernelGateway._authenticate_with_profile); here both hold: the profile's credentials
    and region, our endpoint (which answers that profile's keys only)."""
    config = tmp_path / "config"
    config.write_text(
        "[profile dev]\nregion = eu-west-1\n"
        "aws_access_key_id = devkey\naws_secret_access_key = devsecret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):  # they would win over the profile's
        monkeypatch.delenv(name)
    endpoint = fresh_endpoint(profile="dev")
    from glue_magics.kernel import CompatMagics

    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    ip.register_magics(CompatMagics(ip, magics))
    try:
        before = endpoint.sessions_created
        with capture_output() as cap:
            result = ip.run_cell(
                f"%glue_session --profile dev --endpoint-url {endpoint.url} --role {ROLE} --no-wait"
            )
        assert result.success, cap.stderr
        assert endpoint.sessions_created == before + 1
        client = magics.manager.client_for(magics.session_id)
        assert client.meta.endpoint_url == endpoint.url
        assert client.meta.region_name == "eu-west-1"
        assert client._request_signer._credentials.access_key == "devkey"
        with capture_output():
            assert ip.run_cell("%glue_stop").success
        with capture_output() as cap:  # the AWS-kernel magics, in either order
            assert ip.run_cell(f"%endpoint {endpoint.url}\n%profile dev").success, cap.stderr
            assert ip.run_cell(f"%iam_role {ROLE}\n%glue_session --no-wait").success, cap.stderr
        assert endpoint.sessions_created == before + 2
        assert magics.manager.client_for(magics.session_id).meta.region_name == "eu-west-1"
    finally:
        magics.close()
        ip.configurables.remove(magics)
        ip.config.pop("GlueMagics", None)


#: The numeric settings with a least value (settings.Settings' ``min``), by name.
BOUNDED = {f.name: f.metadata["min"] for f in fields(Settings) if f.metadata.get("min") is not None}


def test_the_bounded_settings_are_the_numbers_a_user_sets():
    assert set(BOUNDED) >= {"budget_usd", "dpu_hour_price", "wait_timeout", "fetch_max_mb"}
    assert BOUNDED["max_attempts"] == 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(sorted(BOUNDED)),
    value=st.one_of(st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False)),
)
def test_a_numeric_setting_below_its_least_is_refused_in_one_line_and_kept(shell, name, value):
    # %config reports a TraitError as one line on the log (IPython's ``config`` magic);
    # a negative budget was taken before and then broke every later %glue_status
    magics = next(c for c in shell.configurables if isinstance(c, GlueMagics))
    before = getattr(magics, name)
    if isinstance(before, int) and not isinstance(value, int):
        value = int(value)
    with capture_output() as cap:
        result = shell.run_cell(f"%config GlueMagics.{name} = {value!r}")
    assert result.success and "Traceback" not in cap.stdout + cap.stderr
    if value >= BOUNDED[name]:
        assert getattr(magics, name) == value
        shell.run_cell(f"%config GlueMagics.{name} = {before!r}")
    else:
        assert getattr(magics, name) == before, (name, value)
