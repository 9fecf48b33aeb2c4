"""The service layer: a real boto3 client over HTTP, and every error as one line.

Service errors come from real HTTP answers: the errors the local endpoint produces for
bad input, and, for the codes no implementation here can be made to produce on demand
(AccessDenied, quotas, expired tokens ...), a tiny loopback HTTP server that answers in
the awsJson1.1 wire format (tests/scripted.py, the ``scripted`` fixture).  Nothing of
boto3 or of ours is mocked.
"""

from __future__ import annotations

import socket
import string
import uuid

import pytest
from helpers import ROLE
from hypothesis import given
from hypothesis import strategies as st

from glue_magics import __version__, display, service
from glue_magics.service import GlueError, call, is_loopback, make_client, translate

AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_GLUE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
SECRET_KEY_ID = "AKIAGLUEMAGICSTEST01"
SECRET_KEY = "s3cr3t/GlueMagicsTestSecretKeyValue0001"


@pytest.fixture
def aws_env(tmp_path, monkeypatch):
    """No AWS configuration at all: empty config files, no env credentials, no IMDS."""
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def free_loopback_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line(err: GlueError, *must_contain: str) -> str:
    """The line a user sees for ``err`` (its next step worded by the display), checked."""
    assert "\n" not in str(err) and "%glue" not in str(err), str(err)  # neutral below display
    text = display.explain(err)
    assert "\n" not in text and "\r" not in text, text
    assert "Traceback" not in text
    for fragment in must_contain:
        assert fragment in text, (fragment, text)
    for secret in (SECRET_KEY_ID, SECRET_KEY):
        assert secret not in text
    return text


# ------------------------------------------------------------------ is_loopback


octet = st.integers(0, 255)
port = st.integers(1, 65535)
path = st.text(alphabet=string.ascii_letters + "/-_", max_size=12)


@given(octet, octet, octet, port, path, st.sampled_from(["http", "https"]))
def test_any_127_address_is_loopback(b, c, d, p, tail, scheme):
    assert is_loopback(f"{scheme}://127.{b}.{c}.{d}:{p}/{tail}")


@given(st.ip_addresses(), port)
def test_ip_addresses_are_loopback_exactly_when_ipaddress_says_so(addr, p):
    host = f"[{addr}]" if addr.version == 6 else str(addr)
    assert is_loopback(f"http://{host}:{p}/") is addr.is_loopback


@given(st.text(max_size=60))
def test_is_loopback_never_raises_on_any_text(text):
    assert is_loopback(text) in (True, False)


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(com|net|io|amazonaws\.com)", fullmatch=True))
def test_names_that_merely_contain_localhost_are_not_loopback(domain):
    assert not is_loopback(f"https://localhost.{domain}/")
    assert not is_loopback(f"https://{domain}/localhost")
    assert not is_loopback(f"https://127.0.0.1.{domain}/")


def test_localhost_forms():
    assert is_loopback("http://localhost:8080")
    assert is_loopback("http://LOCALHOST.:8080")
    assert is_loopback("http://[::1]:8080/")
    assert is_loopback("localhost:9000")
    assert not is_loopback(None)
    assert not is_loopback("")
    assert not is_loopback("https://glue.us-east-1.amazonaws.com")
    assert not is_loopback("http://192.0.2.1")


def test_bare_hosts_as_given_to_bind():
    """The local endpoint asks about the host it binds, which has no scheme or brackets."""
    for host in ("localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.0.2.1", "::ffff:127.0.0.1x"):
        assert not is_loopback(host), host


@given(st.text(), st.text(max_size=30))
def test_glue_error_is_always_one_line(message, code):
    err = GlueError(message, code=code)
    assert "\n" not in str(err) and "\r" not in str(err)
    assert err.code == code


# ------------------------------------------------------------------ make_client


def test_local_client_needs_no_aws_configuration(aws_env, scripted):
    scripted.replies["ListSessions"] = (200, {"Ids": [], "Sessions": []}, 0.0)
    client = make_client(endpoint_url=scripted.url)
    assert client.meta.region_name == service.LOCAL_REGION
    assert call(client, "ListSessions")["Sessions"] == []
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.config.retries["total_max_attempts"] == 5
    assert f"glue-magics/{__version__}" in scripted.user_agents[-1]


def test_endpoint_url_from_environment_is_honoured(aws_env, scripted, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", scripted.url)
    scripted.replies["ListSessions"] = (200, {"Ids": ["from-env"], "Sessions": []}, 0.0)
    client = make_client()  # no endpoint, no region, no credentials: all from "local"
    assert client.meta.endpoint_url == scripted.url
    assert call(client, "ListSessions")["Ids"] == ["from-env"]


def test_users_credentials_win_over_dummy_ones_on_loopback(aws_env, scripted, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SECRET_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    client = make_client(endpoint_url=scripted.url)
    assert client.meta.region_name == "eu-west-1"
    assert client._request_signer._credentials.access_key == SECRET_KEY_ID


def test_no_credentials_for_a_real_endpoint_is_one_line(aws_env):
    # Credentials are checked while signing, before any byte leaves the machine.
    client = make_client(region="us-east-1")
    assert not is_loopback(client.meta.endpoint_url)
    with pytest.raises(GlueError) as info:
        call(client, "ListSessions")
    assert info.value.code == "NoCredentials"
    one_line(info.value, "ListSessions", "no AWS credentials", "aws configure")


def test_no_region_is_one_line(aws_env):
    with pytest.raises(GlueError) as info:
        make_client()
    assert info.value.code == "NoRegion"
    one_line(info.value, "region", "--region", "AWS_REGION")


def test_unknown_profile_is_one_line(aws_env):
    with pytest.raises(GlueError) as info:
        make_client(profile="no-such-profile-xyz")
    assert info.value.code == "ProfileNotFound"
    one_line(info.value, "'no-such-profile-xyz'", "aws configure")


def test_s3_client_on_loopback_needs_no_aws_configuration(aws_env):
    """The results reader's S3 client is the same builder: loopback fallback, TLS on."""
    client = make_client("s3", endpoint_url="http://127.0.0.1:1", max_attempts=None)
    assert client.meta.service_model.service_name == "s3"
    assert client.meta.region_name == service.LOCAL_REGION
    assert client._request_signer._credentials.access_key == service.LOCAL_CREDENTIALS[0]
    assert client.meta.config.retries == {"mode": "standard"}  # botocore's own count
    assert client._endpoint.http_session._verify is not False


def test_s3_endpoint_from_environment_counts_as_loopback(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1")
    client = make_client("s3")
    assert client.meta.endpoint_url == "http://127.0.0.1:1"
    assert client.meta.region_name == service.LOCAL_REGION
    # ... and it is S3's own: the Glue client is not pointed there, nor given dummy keys.
    with pytest.raises(GlueError) as info:
        make_client()
    assert info.value.code == "NoRegion"


def test_untranslated_errors_are_botocores_own(aws_env):
    from botocore.exceptions import ProfileNotFound

    with pytest.raises(ProfileNotFound):
        make_client("s3", profile="no-such-profile-xyz", translate_errors=False)
    with pytest.raises(ValueError):
        make_client("s3", endpoint_url="http://[::1", translate_errors=False)
    with pytest.raises(GlueError) as info:
        make_client("s3", region="us-east-1", endpoint_url="http://[::1")
    assert info.value.code == "InvalidEndpoint"


def test_expired_sso_login_says_to_log_in_with_the_profile(aws_env):
    # A legacy SSO profile whose token was never cached: botocore fails before any
    # network traffic, exactly as it does for an expired `aws sso login`.
    start_url = f"https://glue-magics-test-{uuid.uuid4().hex}.awsapps.com/start"
    (aws_env / "aws-empty").write_text(
        "[profile team-sso]\n"
        f"sso_start_url = {start_url}\n"
        "sso_region = us-east-1\n"
        "sso_account_id = 123456789012\n"
        "sso_role_name = Developer\n"
        "region = us-east-1\n"
    )
    client = make_client(profile="team-sso")
    with pytest.raises(GlueError) as info:
        call(client, "ListSessions")
    assert info.value.code == "ExpiredToken"
    one_line(info.value, "aws sso login --profile team-sso")


def test_bad_retry_settings_are_one_line(aws_env):
    with pytest.raises(GlueError, match="retry mode 'sometimes'"):
        make_client(endpoint_url="http://127.0.0.1:1", retry_mode="sometimes")
    with pytest.raises(GlueError, match="max_attempts 0"):
        make_client(endpoint_url="http://127.0.0.1:1", max_attempts=0)


def test_tls_verification_is_on(aws_env):
    client = make_client(region="us-east-1")
    assert client._endpoint.http_session._verify is not False


# ------------------------------------------------------------------ transport errors


def test_unreachable_endpoint_names_the_url(aws_env):
    url = f"http://127.0.0.1:{free_loopback_port()}"
    client = make_client(endpoint_url=url, max_attempts=1)
    with pytest.raises(GlueError) as info:
        call(client, "GetSession", Id="s1")
    assert info.value.code == "EndpointUnreachable"
    one_line(info.value, "GetSession", url, "AWS_ENDPOINT_URL_GLUE")


def test_read_timeout_names_the_url(aws_env, scripted):
    scripted.replies["GetSession"] = (200, {}, 1.0)
    client = make_client(endpoint_url=scripted.url, max_attempts=1, read_timeout=0.2)
    with pytest.raises(GlueError) as info:
        call(client, "GetSession", Id="s1")
    assert info.value.code == "EndpointUnreachable"
    one_line(info.value, scripted.url, "read_timeout")


def test_a_dropped_connection_names_the_url(aws_env, scripted):
    scripted.replies["GetSession"] = (0, {}, 0.0)
    before = scripted.calls["GetSession"]
    client = make_client(endpoint_url=scripted.url, max_attempts=2)
    with pytest.raises(GlueError) as info:
        call(client, "GetSession", Id="s1")
    assert scripted.calls["GetSession"] - before == 2
    assert info.value.code == "EndpointUnreachable"
    one_line(info.value, scripted.url, "closed the connection")


def test_parameter_validation_is_one_line(aws_env):
    client = make_client(endpoint_url="http://127.0.0.1:1")
    with pytest.raises(GlueError) as info:
        call(client, "CreateSession", Id=7, Role="r")  # Id must be a string; Command missing
    assert info.value.code == "ParamValidation"
    one_line(info.value, "CreateSession", "Command")


# ------------------------------------------------------------------ service errors

SERVICE_ERRORS = [
    ("AccessDeniedException", "User is not authorized", "glue:CreateSession"),
    ("IdempotentParameterMismatchException", "Id reused", "choose a new session id"),
    ("InternalServiceException", "boom", "try again"),
    ("OperationTimeoutException", "slow", "try again"),
    ("InvalidInputException", "Role is not valid", "Role is not valid"),
    ("ValidationException", "WorkerType bad", "WorkerType bad"),
    ("AlreadyExistsException", "Session exists", "%glue_reconnect sess-42"),
    ("ResourceNumberLimitExceededException", "Too many", "%glue_stop"),
    ("EntityNotFoundException", "No session", "%glue_sessions"),
    ("ExpiredTokenException", "The security token included in the request is expired",
     "aws sso login --profile"),
    ("ConcurrentModificationException", "busy", "try again"),
    ("SomethingNewException", "surprise", "SomethingNewException"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "message", "fix"), SERVICE_ERRORS)
def test_every_service_error_is_one_line_with_the_value_and_the_fix(
    aws_env, scripted, code, message, fix
):
    scripted.error("CreateSession", code, message)
    client = make_client(endpoint_url=scripted.url, profile=None, max_attempts=1)
    service._client_profiles[client] = "dev"  # as if made with --profile dev
    with pytest.raises(GlueError) as info:
        call(client, "CreateSession", Id="sess-42", Role=ROLE, Command={"Name": "glueetl"})
    assert info.value.code == code
    text = one_line(info.value, fix)
    assert "sess-42" in text or code in ("ExpiredTokenException",)


def test_throttling_is_reported_only_after_botocore_retried(aws_env, scripted):
    scripted.error("GetSession", "ThrottlingException", "Rate exceeded")
    before = scripted.calls["GetSession"]
    client = make_client(endpoint_url=scripted.url, max_attempts=3)
    with pytest.raises(GlueError) as info:
        call(client, "GetSession", Id="s-throttled")
    assert scripted.calls["GetSession"] - before == 3  # botocore retried, not us
    assert info.value.code == "ThrottlingException"
    one_line(info.value, "s-throttled", "adaptive")


def test_a_proxy_error_page_becomes_one_short_line(aws_env, scripted):
    scripted.replies["GetSession"] = (403, {"message": "<html>\n<body>\nDenied\n" * 50}, 0.0)
    client = make_client(endpoint_url=scripted.url, max_attempts=1)
    with pytest.raises(GlueError) as info:
        call(client, "GetSession", Id="s1")
    assert len(one_line(info.value)) < 500


def test_translate_passes_glue_errors_through_and_keeps_bugs_visible():
    original = GlueError("x", code="y")
    assert translate(original, "GetSession") is original
    bug = translate(ValueError("bad\nthing"), "GetSession", "s1")
    assert bug.code == "ValueError" and "\n" not in str(bug)


def test_create_whose_response_was_lost_carries_on_with_the_session(aws_env, scripted):
    """The first CreateSession is processed but its answer lost; botocore retries, the
    service says AlreadyExists for our Id, and create_session adopts the session."""
    from glue_magics import lifecycle

    session = {"Id": "sess-lost", "Status": "PROVISIONING", "Role": ROLE,
               "Command": {"Name": "glueetl"}, "Progress": 0.0}  # fmt: skip
    exists = {"__type": "AlreadyExistsException", "message": "Session sess-lost already exists"}
    scripted.replies["CreateSession"] = [(0, {}, 0.0), (400, exists, 0.0)]
    scripted.replies["GetSession"] = (200, {"Session": session}, 0.0)
    before = scripted.calls["CreateSession"]
    client = make_client(endpoint_url=scripted.url, max_attempts=3)
    got = lifecycle.create_session(
        client, {"Id": "sess-lost", "Role": ROLE, "Command": {"Name": "glueetl"}}
    )
    assert scripted.calls["CreateSession"] - before == 2  # botocore's retry, not ours
    assert got["Id"] == "sess-lost" and got["Status"] == "PROVISIONING"


@pytest.mark.parametrize("operation", ["GetStatement", "CancelStatement"])
def test_statement_errors_name_the_session_not_the_statement_number(aws_env, scripted, operation):
    scripted.error(operation, "EntityNotFoundException", "Session sess-gone not found")
    client = make_client(endpoint_url=scripted.url, max_attempts=1)
    with pytest.raises(GlueError) as info:
        call(client, operation, SessionId="sess-gone", Id=7)
    text = one_line(info.value, "session sess-gone was not found")
    assert "session 7 " not in text


def test_a_signature_error_does_not_echo_the_credentials(aws_env, scripted, monkeypatch):
    token = "IQoJb3JpZ2luX2VjEGlueGlzdGluZ1Rva2VuVmFsdWU0MDA"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SECRET_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    message = (  # what SigV4 services answer: the canonical request, signed headers and all
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.\n\nThe Canonical String for this "
        f"request should have been\n'POST\n/\n\nx-amz-security-token:{token}\n'\n\n"
        "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20240101T000000Z\n'"
    )
    scripted.error("GetSession", "InvalidSignatureException", message)
    client = make_client(endpoint_url=scripted.url, max_attempts=1)
    with pytest.raises(GlueError) as info:
        call(client, "GetSession", Id="s1")
    text = one_line(info.value, "InvalidSignatureException", "signature we calculated")
    assert token not in text and "Canonical" not in text


@given(st.text(max_size=80), st.from_regex(r"(AKIA|ASIA)[A-Z0-9]{16}", fullmatch=True))
def test_redact_removes_key_ids_and_tokens_wherever_they_are(text, key_id):
    for raw in (f"{text}{key_id}", f"{key_id} {text}", f"{text}\nX-Amz-Security-Token: {key_id}"):
        assert key_id not in service.redact(raw)


# ------------------------------------------------------------------ the one error table


def test_every_message_shape_names_only_facts_the_table_knows():
    from glue_magics.results import S3_ERRORS, _reading

    known = set(service._facts(ValueError("x"), _reading("s3://b/k", "b", "k"))) - {"status"}
    for key, shape in {**service.ERRORS, **S3_ERRORS}.items():
        fields = {name for _, name, _, _ in string.Formatter().parse(shape.text) if name}
        assert fields <= known, (key, fields - known)


def test_glue_and_s3_share_the_table_and_s3_adds_only_its_own_rows():
    from botocore.exceptions import ClientError

    from glue_magics.results import S3_ERRORS, _reading

    assert not set(S3_ERRORS) & set(service.ERRORS)  # no row written twice
    assert service.ERRORS["AccessDenied"] is service.ERRORS["AccessDeniedException"]
    denied = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
              "ResponseMetadata": {"HTTPStatusCode": 403}}  # fmt: skip
    reading = _reading("s3://b-1/out/1.json", "b-1", "out/1.json")
    s3 = service.error_for(ClientError(denied, "GetObject"), reading, S3_ERRORS)
    assert s3.code == "AccessDenied" and "s3://b-1/out/1.json was denied" in str(s3)
    assert "s3:GetObject on arn:aws:s3:::b-1/out/1.json" in str(s3)
    glue = translate(ClientError(denied, "GetSession"), "GetSession", "s1")
    assert "GetSession s1 was denied" in str(glue) and "glue:GetSession" in str(glue)


def test_a_service_error_carries_its_next_step_as_data(aws_env, scripted):
    from glue_magics.steps import Action, NextStep

    scripted.error("CreateSession", "AlreadyExistsException", "Session exists")
    client = make_client(endpoint_url=scripted.url, max_attempts=1)
    with pytest.raises(GlueError) as info:
        call(client, "CreateSession", Id="sess-7", Role=ROLE, Command={"Name": "glueetl"})
    assert info.value.next_steps == (NextStep(Action.RENAME), NextStep(Action.RECONNECT, "sess-7"))
    assert str(info.value).endswith("choose a new session id or reconnect to session sess-7")
    assert display.explain(info.value).endswith(
        "choose a new session id or attach to it with %glue_reconnect sess-7"
    )
