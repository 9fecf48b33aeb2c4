"""The local endpoint answers only its owner: SigV4 by its credentials, a loopback Host, no
browser Origin (glue_magics/local/auth.py).

Every refusal is sent as raw HTTP (tests/sigv4.py signs with botocore's SigV4Auth, then the
test spoils one thing), and each is checked for its code and status, and for what did not
happen: no session created, no statement run, no call counted.  The codes and statuses
are AWS's JSON services' (auth.py's docstring names the sources): an unknown key is
``UnrecognizedClientException`` (Glue answers it with 400, databricks/iceberg-rest-image#101),
a wrong or stale signature ``InvalidSignatureException`` (400, "Signature expired: ...
(... - 15 min.)", aws/aws-sdk-js#254), no signature ``MissingAuthenticationTokenException``
and a malformed one ``IncompleteSignatureException`` (both 400, "Error handling with
DynamoDB").  boto3, AWS's own kernel (tests/test_aws_kernel.py) and our embedded endpoint's
client, given the endpoint's credentials, work.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import signal
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
import sigv4
from botocore.credentials import ReadOnlyCredentials
from helpers import ROLE, new_id, ready, run
from hypothesis import example, given
from hypothesis import strategies as st

from glue_magics import model
from glue_magics.local import LocalEndpoint, auth
from glue_magics.local.exceptions import ServiceError
from glue_magics.service import is_loopback

NOW = datetime.datetime.now


def client(ep: Any, credentials: Any, **config: Any) -> Any:
    """A boto3 Glue client for ``ep`` signing with ``credentials`` (one attempt)."""
    from botocore.config import Config

    session = boto3.Session(
        botocore_session=model.botocore_session(),
        region_name="eu-west-1",  # any region: the endpoint checks the service, not the region
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )
    retries = {"mode": "standard", "total_max_attempts": 1}
    return session.client("glue", endpoint_url=ep.url, config=Config(retries=retries, **config))


def code_of(info: pytest.ExceptionInfo[BaseException]) -> tuple[str, int, str]:
    response = info.value.response  # type: ignore[attr-defined]
    error = response["Error"]
    return error["Code"], response["ResponseMetadata"]["HTTPStatusCode"], error["Message"]


# ------------------------------------------------------------------ refusals over raw HTTP
@dataclasses.dataclass
class Target:
    """An endpoint with a READY session, and a RunStatement body whose code, were it ever
    run, would leave a file behind."""

    ep: LocalEndpoint
    glue: Any
    session_id: str
    marker: Path
    statement: bytes


@pytest.fixture
def target(fresh_endpoint: Callable[..., Any], tmp_path: Path) -> Target:
    ep = fresh_endpoint()  # the suite's credentials, from the environment
    glue = client(ep, sigv4.environment_credentials())
    session_id = ready(glue)
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('ran')"
    statement = json.dumps({"SessionId": session_id, "Code": code}).encode()
    return Target(ep, glue, session_id, marker, statement)


def wrong(**credentials: str) -> ReadOnlyCredentials:
    base = sigv4.environment_credentials()._asdict()
    return ReadOnlyCredentials(**{**base, **credentials})


def dated(minutes: int) -> Callable[[str, str, bytes], tuple[dict, bytes]]:
    """A request signed ``minutes`` from now (when it is sent)."""

    def make(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
        when = NOW(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
        return sigv4.sign(host, target, body, when=when), body

    return make


def unsigned(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    headers = sigv4.sign(host, target, body)
    for name in ("Authorization", "X-Amz-Date"):
        del headers[name]
    return headers, body


def resigned(**change: Any) -> Callable[[str, str, bytes], tuple[dict, bytes]]:
    """A request signed with ``change`` to ``sigv4.sign``'s arguments."""
    return lambda host, target, body: (sigv4.sign(host, target, body, **change), body)


def tampered_body(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    """Signed as sent, then changed: the statement's code, or the session's timeout."""
    changed = body.replace(b"'ran'", b"'RAN'") if b"'ran'" in body else body[:-1] + b',"Timeout":5}'
    return sigv4.sign(host, target, body), changed


def tampered_target(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    headers = sigv4.sign(host, "AWSGlue.ListSessions", body)
    headers["X-Amz-Target"] = target
    return headers, body


def foreign_host(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    port = host.rsplit(":", 1)[1]
    return sigv4.sign(f"attacker.example:{port}", target, body), body  # signed, even


def other_port(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    return sigv4.sign("127.0.0.1:1", target, body), body


def browser(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    origin = {"Origin": "http://attacker.example"}
    return sigv4.sign(host, target, body, headers=origin), body  # a valid signature, even


def unknown_token(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    return sigv4.sign(host, target, body, wrong(token="FwoGZXIvYXdzEXAMPLE")), body


def no_signature_field(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    headers = sigv4.sign(host, target, body)
    headers["Authorization"] = headers["Authorization"].rsplit(", Signature=", 1)[0]
    return headers, body


def host_unsigned(host: str, target: str, body: bytes) -> tuple[dict, bytes]:
    headers = sigv4.sign(host, target, body)
    return headers | {"Authorization": headers["Authorization"].replace("host;", "")}, body


REFUSALS = {
    # name: (request maker, HTTP status, code, a fragment of the message)
    "unsigned": (unsigned, 400, "MissingAuthenticationTokenException", "missing Authentication"),
    "wrong secret": (resigned(credentials=wrong(secret_key="not-the-secret")), 400,
                     "InvalidSignatureException", "signature we calculated does not match"),
    "unknown key": (resigned(credentials=wrong(access_key="AKIDSOMEONEELSE")), 400,
                    "UnrecognizedClientException", "security token included in the request is "
                    "invalid"),
    "a token the endpoint has none of": (unknown_token, 400, "UnrecognizedClientException",
                                         "started with"),
    "stale date": (dated(-16), 400, "InvalidSignatureException", "Signature expired"),
    "future date": (dated(16), 400, "InvalidSignatureException", "Signature not yet current"),
    "tampered body": (tampered_body, 400, "InvalidSignatureException", "does not match"),
    "tampered target": (tampered_target, 400, "InvalidSignatureException", "does not match"),
    "another service's scope": (resigned(service="s3"), 400, "InvalidSignatureException",
                                "scoped to correct service: 'glue'"),
    "no Signature": (no_signature_field, 400, "IncompleteSignatureException",
                     "requires 'Signature' parameter"),
    "Host not signed": (host_unsigned, 400, "IncompleteSignatureException", "'Host'"),
    "foreign Host": (foreign_host, 403, "ForbiddenException", "DNS rebinding"),
    "loopback Host of another port": (other_port, 403, "ForbiddenException", "127.0.0.1:1"),
    "browser Origin": (browser, 403, "ForbiddenException", "web page"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_request_not_from_the_owner_is_refused_and_does_nothing(target, name):
    make, status, code, fragment = REFUSALS[name]
    ep, host = target.ep, sigv4.host_of(target.ep.url)
    created, calls = ep.sessions_created, sum(ep.calls.values())
    create = json.dumps({"Id": new_id(), "Role": ROLE, "Command": {"Name": "glueetl"}}).encode()
    for operation, body in (("CreateSession", create), ("RunStatement", target.statement)):
        headers, sent = make(host, f"AWSGlue.{operation}", body)
        answer = sigv4.send(ep.url, headers, sent)
        assert answer[0] == status and answer[1]["__type"] == code, (operation, answer)
        message = answer[1]["message"]
        assert fragment in message and "\n" not in message, message
    assert ep.sessions_created == created
    assert sum(ep.calls.values()) == calls  # refused before any operation, faults included
    assert target.glue.list_statements(SessionId=target.session_id)["Statements"] == []
    assert not target.marker.exists()
    # the same request, signed by the owner, runs: the refusal was about what was spoiled
    signed = sigv4.sign(host, "AWSGlue.RunStatement", target.statement)
    assert sigv4.send(ep.url, signed, target.statement)[0] == 200


def test_the_owner_may_call_it_by_any_loopback_name(fresh_endpoint):
    ep = fresh_endpoint()
    for name in ("127.0.0.1", "localhost", "LOCALHOST", "[::1]", "127.0.0.2"):
        status, body = sigv4.send(
            ep.url, sigv4.sign(f"{name}:{ep.port}", "AWSGlue.ListSessions", b"{}"), b"{}"
        )
        assert status == 200 and "Ids" in body, (name, body)


# ------------------------------------------------------------------ clients that work
def test_a_request_dated_by_its_date_header_is_answered(fresh_endpoint):
    """botocore's own ``SigV4Auth.add_auth`` dates a request that has a ``Date`` header by
    that header, with no X-Amz-Date (``_set_necessary_date_headers``), as SigV4 allows."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    ep = fresh_endpoint()
    host = sigv4.host_of(ep.url)
    headers = {"Host": host, "X-Amz-Target": "AWSGlue.ListSessions", "Date": "now"}
    request = AWSRequest(method="POST", url=ep.url + "/", data=b"{}", headers=headers)
    SigV4Auth(sigv4.environment_credentials(), "glue", "us-east-1").add_auth(request)
    assert "X-Amz-Date" not in request.headers and "Date" in request.headers
    status, body = sigv4.send(ep.url, dict(request.headers.items()), b"{}")
    assert status == 200 and "Ids" in body, body


def test_boto3_with_the_endpoints_credentials_works_and_with_others_is_refused(fresh_endpoint):
    ep = fresh_endpoint()
    assert ep.identity.source == "env"  # conftest's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
    glue = client(ep, ep.credentials)
    session_id = ready(glue)
    assert run(glue, session_id, "1 + 1")["Output"]["Data"]["TextPlain"] == "2"
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client(ep, wrong(secret_key="guess")).get_session(Id=session_id)
    assert code_of(info)[:2] == ("InvalidSignatureException", 400)


def test_temporary_credentials_work_when_the_token_matches(fresh_endpoint, monkeypatch):
    """Credentials with a session token (STS's, exported as AWS_SESSION_TOKEN): the token is
    part of the credentials, so a request must carry that very token (X-Amz-Security-Token)."""
    keys = ReadOnlyCredentials(
        "ASIAEXAMPLETEMPKEY01", "temporary/secret/EXAMPLE", "FQoGZXIvEXAMPLE"
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", keys.token)
    ep = fresh_endpoint()
    assert ep.credentials == keys
    glue = client(ep, keys)
    session_id = ready(glue)
    assert run(glue, session_id, "6 * 7")["Output"]["Data"]["TextPlain"] == "42"
    for spoiled in (keys._replace(token="FQoGZXIvOTHER"), keys._replace(token=None)):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            client(ep, spoiled).get_session(Id=session_id)
        assert code_of(info)[:2] == ("UnrecognizedClientException", 400)


def test_a_generated_pair_is_the_only_one_answered(fresh_endpoint):
    ep = fresh_endpoint(generate_credentials=True)
    keys = ep.credentials
    assert ep.identity.generated and keys.access_key.startswith(auth.GENERATED_PREFIX)
    assert len(keys.access_key) == 20 and len(keys.secret_key) >= 40 and keys.token is None
    assert keys != fresh_endpoint(generate_credentials=True).credentials  # fresh each run
    with pytest.raises(botocore.exceptions.ClientError) as info:
        client(ep, sigv4.environment_credentials()).list_sessions()  # the environment's
    assert code_of(info)[:2] == ("UnrecognizedClientException", 400)
    assert client(ep, keys).list_sessions()["Ids"] == []


def test_the_embedded_endpoint_hands_its_credentials_to_its_client_only():
    """``endpoint_url = "local"``: the endpoint in this process generates a pair and the
    client made for it signs with that pair; a client of the environment is refused."""
    from glue_magics.sessions import SessionManager, Settings

    settings = Settings({"role": ROLE, "endpoint_url": "local"}, local_provision_seconds=0.1)
    manager = SessionManager(settings)
    try:
        session_id = manager.create(manager.resolve({"id": new_id("embedded")}))
        embedded = manager.clients._local
        assert embedded.identity.generated
        glue = manager.clients.get({"endpoint_url": "local"}).glue
        assert glue.get_session(Id=session_id)["Session"]["Status"] == "READY"
        with pytest.raises(botocore.exceptions.ClientError) as info:
            client(embedded, sigv4.environment_credentials()).get_session(Id=session_id)
        assert code_of(info)[:2] == ("UnrecognizedClientException", 400)
    finally:
        manager.close()


# ------------------------------------------------------------------ where credentials come from
def test_temporary_credentials_refreshed_per_process_make_it_generate_a_pair(tmp_path, monkeypatch):
    """A profile whose credentials botocore refreshes (here a credential_process with an
    Expiration; SSO and assume-role alike) gives each process keys of its own, which the
    endpoint could not check: it generates a pair and says why; --profile it refuses."""
    process = tmp_path / "creds.py"
    expires = (NOW(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat()
    process.write_text(
        "import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': 'ASIAPROCESSKEY000001', "
        f"'SecretAccessKey': 's', 'SessionToken': 't', 'Expiration': {expires!r}}}))\n"
    )
    config = tmp_path / "config"
    config.write_text(
        f"[profile temp]\ncredential_process = {sys.executable} {process}\n"
        "[profile empty]\nregion = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_PROFILE", "temp")
    ep = LocalEndpoint()
    assert ep.identity.generated and "refreshes on its own" in ep.identity.reason
    with pytest.raises(ValueError, match="leave out --profile") as info:
        LocalEndpoint(profile="temp")
    assert "\n" not in str(info.value)
    monkeypatch.delenv("AWS_PROFILE")
    assert LocalEndpoint().identity.reason == "no AWS credentials were found here"
    for name in ("empty", "absent"):
        with pytest.raises(ValueError, match="leave out --profile"):
            LocalEndpoint(profile=name)
    monkeypatch.setenv("AWS_PROFILE", "absent")  # the environment's own, broken
    with pytest.raises(ValueError, match=r"\(absent\).*pass --generate-credentials"):
        LocalEndpoint()
    assert LocalEndpoint(generate_credentials=True).identity.generated


def test_a_profile_and_a_generated_pair_exclude_each_other():
    with pytest.raises(ValueError, match="exclude each other"):
        LocalEndpoint(profile="dev", generate_credentials=True)


# ------------------------------------------------------------------ the command line
def endpoint_process(env: dict[str, str], *flags: str) -> tuple[subprocess.Popen, list[str]]:
    """``glue-magics local-endpoint`` on a free port; the lines it printed before serving:
    its URL, whose credentials it answers to, and a generated pair's two exports."""
    command = [sys.executable, "-m", "glue_magics", "local-endpoint", "--port", "0"]
    command += ["--provision-seconds", "0.1", *flags]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    lines = [process.stdout.readline(), process.stdout.readline()]
    if "generated" in lines[1]:
        lines += [process.stdout.readline(), process.stdout.readline()]
    return process, lines


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return out + err


def printed_pair(lines: list[str]) -> ReadOnlyCredentials:
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1) for line in lines if "export " in line
    )
    return ReadOnlyCredentials(exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"], None)


def no_aws_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                  "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip


@pytest.mark.parametrize(
    ("env", "flags"),
    [(os.environ, ("--generate-credentials",)), (None, ())],
    ids=["--generate-credentials", "no credentials in the environment"],
)
def test_cli_prints_a_generated_pair_that_works(env, flags):
    process, lines = endpoint_process(dict(env) if env is not None else no_aws_env(), *flags)
    try:
        assert lines[0].startswith("Local Glue endpoint at http://127.0.0.1:"), lines
        assert "generated for this run" in lines[1], lines
        keys = printed_pair(lines)
        ep = types.SimpleNamespace(url=lines[0].split(" at ", 1)[1].strip())
        glue = client(ep, keys)
        session_id = ready(glue)
        assert run(glue, session_id, "'signed'")["Output"]["Data"]["TextPlain"] == "'signed'"
        with pytest.raises(botocore.exceptions.ClientError) as info:
            client(ep, sigv4.environment_credentials()).get_session(Id=session_id)
        assert code_of(info)[0] == "UnrecognizedClientException"
        rest = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert keys.secret_key not in rest  # printed once, at start


def test_cli_names_the_environments_credentials_but_never_prints_their_secret():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    env = no_aws_env() | {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    process, lines = endpoint_process(env)
    try:
        assert "credentials of this environment (env, access key ...MPLE)" in lines[1], lines
        ep = types.SimpleNamespace(url=lines[0].split(" at ", 1)[1].strip())
        keys = ReadOnlyCredentials(env["AWS_ACCESS_KEY_ID"], secret, None)
        assert client(ep, keys).list_sessions()["Ids"] == []
        printed = "".join(lines) + stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert secret not in printed


def test_cli_refuses_an_unusable_profile_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "glue_magics", "local-endpoint", "--profile", "no-such-profile"],
        capture_output=True,
        text=True,
        timeout=60,
        env=no_aws_env(),
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no-such-profile" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ parsers, property-tested
NAMES = st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)


@given(
    access_key=st.from_regex(r"[A-Za-z0-9]{1,40}", fullmatch=True),
    date=st.from_regex(r"[0-9]{8}", fullmatch=True),
    region=NAMES,
    service=NAMES,
    signed=st.lists(NAMES, min_size=1, max_size=6, unique=True),
    signature=st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    separator=st.sampled_from([", ", ",", " , "]),
)
def test_an_authorization_header_parses_back_to_its_parts(
    access_key, date, region, service, signed, signature, separator
):
    """The header as botocore writes it (``_inject_signature_to_request``: ", " between the
    fields) and as other SDKs do (","), back to its parts."""
    credential = f"{access_key}/{date}/{region}/{service}/aws4_request"
    value = separator.join(
        [f"AWS4-HMAC-SHA256 Credential={credential}", f"SignedHeaders={';'.join(signed)}",
         f"Signature={signature}"]
    )  # fmt: skip
    assert auth.parse_authorization(value) == auth.Authorization(
        access_key, date, region, service, "aws4_request", tuple(signed), signature
    )


@given(st.text(max_size=300))
@example("AWS4-HMAC-SHA256")
@example("AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00")
@example("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host;;x, Signature=00")
@example("AWS AKIDEXAMPLE:c2lnbmF0dXJl")  # Signature Version 2
def test_any_authorization_header_parses_or_is_an_incomplete_signature(value):
    try:
        parsed = auth.parse_authorization(value)
    except ServiceError as exc:
        assert exc.code == "IncompleteSignatureException" and exc.status == 400
        assert "\n" not in exc.message and len(exc.message) < 700
    else:
        assert all(parsed) and all(parsed.signed_headers)


LOOPBACK = st.sampled_from(["127.0.0.1", "localhost", "LocalHost", "[::1]", "127.8.9.10"])
PORT = 4599


@given(LOOPBACK)
def test_a_loopback_host_with_the_port_is_accepted(name):
    auth.check_host([f"{name}:{PORT}"], PORT)


@given(
    st.one_of(
        LOOPBACK.map(lambda n: f"{n}:{PORT + 1}"),  # another port
        LOOPBACK,  # none: port 80
        st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(example|com|internal|nip\.io)", fullmatch=True),
        LOOPBACK.map(lambda n: f"attacker.example@{n}:{PORT}"),  # user info before it
        LOOPBACK.map(lambda n: f"{n}:{PORT}/path"),
        LOOPBACK.map(lambda n: f"{n}.attacker.example:{PORT}"),
        st.text(max_size=60).filter(lambda t: t.strip().lower() not in ("localhost:4599",)),
    )
)
@example("127.0.0.1.nip.io:4599")
@example("localhost.:4599")
@example("")
def test_any_other_host_is_refused_in_one_line(value):
    accepted = False
    try:
        auth.check_host([value], PORT)
        accepted = True
    except ServiceError as exc:
        assert (exc.code, exc.status) == ("ForbiddenException", 403)
        assert "\n" not in exc.message
    if accepted:  # only a loopback name with the port gets here, however it is spelled
        name, _, port = value.strip().rpartition(":")
        assert port == str(PORT) and is_loopback(name.strip("[]")), value


def test_two_host_headers_are_refused():
    with pytest.raises(ServiceError, match="one Host header"):
        auth.check_host([f"127.0.0.1:{PORT}", f"attacker.example:{PORT}"], PORT)


def test_the_worker_runs_with_the_endpoints_own_rights_not_its_credentials(fresh_endpoint):
    """Statements run as the endpoint's user, in its environment; a generated pair is the
    endpoint's alone and never reaches them: their AWS credentials are the sessions' own
    pair, which the object store (S3) accepts and the Glue API refuses."""
    ep = fresh_endpoint(generate_credentials=True)
    glue = client(ep, ep.credentials)
    session_id = ready(glue)
    code = textwrap.dedent(
        """
        import os
        (os.getuid(), os.environ.get("AWS_ACCESS_KEY_ID"))
        """
    )
    shown = run(glue, session_id, code)["Output"]["Data"]["TextPlain"]
    assert shown == repr((os.getuid(), ep.session_identity.frozen().access_key))
    assert ep.credentials.secret_key not in shown
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client(ep, ep.session_identity.frozen()).list_sessions()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
