"""GetSystemLogsForSession and GetDashboardUrl on the local endpoint, with a real boto3 client.

What the service sends, from botocore's model (1.44.8): GetSystemLogsForSession takes
``Id`` and answers ``SystemLogsUrl`` (errors AccessDenied, InternalService, EntityNotFound,
InvalidInput); GetDashboardUrl takes ``ResourceId`` and ``ResourceType`` (``JOB`` or
``SESSION``) and answers ``Url`` (errors also OperationNotSupported).  AWS's docs: the logs
URL is a presigned S3 URL valid for one hour ("Debugging fine-grained access control (FGAC)
jobs and sessions"); S3 refuses an expired presigned URL with 403 ``AccessDenied``
"Request has expired" and a wrong signature with 403 ``SignatureDoesNotMatch``; the Spark UI
is there while the session is READY ("Monitoring Spark Connect sessions").
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from helpers import SPARK_PATIENCE, create, needs_spark, ready, run, wait_status
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics.local.logs import LINK_SECONDS, PREFIX
from glue_magics.service import is_loopback


def get(url: str) -> tuple[int, bytes]:
    """GET ``url`` as a browser or curl would, unsigned: status and body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def log_of(glue, session_id: str) -> str:
    status, body = get(glue.get_system_logs_for_session(Id=session_id)["SystemLogsUrl"])
    assert status == 200, body
    return body.decode()


def code_of(glue, call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        getattr(glue, call)(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_logs_url_serves_what_the_worker_wrote(glue, endpoint):
    session_id = ready(glue)
    run(glue, session_id, "print('to the notebook')\n1 / 0")
    # what the worker's process writes to its stderr (itself or a child) is its system log
    to_stderr = (
        "import os, subprocess\n"
        "os.write(2, b'fd two\\n')\n"
        "subprocess.run(['sh', '-c', 'echo from a child >&2'])"
    )
    run(glue, session_id, to_stderr)
    url = glue.get_system_logs_for_session(Id=session_id)["SystemLogsUrl"]
    parts = urlsplit(url)
    assert is_loopback(url) and parts.path.startswith(PREFIX)
    assert f"X-Amz-Expires={LINK_SECONDS}" in parts.query and "X-Amz-Signature=" in parts.query
    text = log_of(glue, session_id)
    assert f"starting the worker of session {session_id}" in text
    assert "statement 1 raised ZeroDivisionError" in text and "statement 2 ok" in text
    assert "fd two\n" in text and "from a child\n" in text
    assert "to the notebook" not in text  # a statement's own output goes to GetStatement


def test_links_are_refused_as_s3_refuses_presigned_urls(glue, endpoint):
    session_id = ready(glue)
    other = ready(glue)
    url = glue.get_system_logs_for_session(Id=session_id)["SystemLogsUrl"]
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    status, body = get(tampered)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    # a link is for its own session only: the signature covers the path
    status, body = get(url.replace(session_id, other))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    old = endpoint.log_links.url(session_id, now=time.time() - LINK_SECONDS - 60)
    status, body = get(old)
    assert status == 403 and b"<Code>AccessDenied</Code><Message>Request has expired" in body
    status, body = get(url.split("?")[0])
    assert status == 400 and b"AuthorizationQueryParametersError" in body
    status, body = get(endpoint.url + "/not-a-log")  # only POST / and log links are served
    assert status >= 400 and b"UnknownOperationException" in body
    glue.delete_session(Id=session_id)
    status, body = get(url)
    assert status == 404 and b"<Code>NoSuchKey</Code>" in body
    code, _ = code_of(glue, "get_system_logs_for_session", Id=session_id)
    assert code == "EntityNotFoundException"


def test_logs_of_an_ended_session_are_kept_until_the_endpoint_stops(fresh_endpoint, glue_client):
    ep = fresh_endpoint()
    glue = glue_client(ep)
    session_id = ready(glue)
    run(glue, session_id, "x = 1")
    glue.stop_session(Id=session_id)
    wait_status(glue, session_id, "STOPPED")
    text = log_of(glue, session_id)
    assert "statement 1 ok" in text and "the worker exited" in text
    path = ep.backend.log_path(session_id)
    assert path is not None and open(path).read() == text
    ep.stop()
    assert not os.path.exists(path)  # the logs go with the endpoint


def test_dashboard_url_without_spark_is_the_services_error(glue, endpoint):
    code, message = code_of(
        glue, "get_dashboard_url", ResourceId="no-such-session", ResourceType="SESSION"
    )
    assert code == "EntityNotFoundException"
    code, _ = code_of(glue, "get_dashboard_url", ResourceId="a-job", ResourceType="JOB")
    assert code == "EntityNotFoundException"  # there are no jobs here
    provisioning = create(glue)
    code, message = code_of(
        glue, "get_dashboard_url", ResourceId=provisioning, ResourceType="SESSION"
    )
    assert code == "InvalidInputException" and "PROVISIONING" in message
    session_id = ready(glue)
    run(glue, session_id, "1 + 1")
    code, message = code_of(
        glue, "get_dashboard_url", ResourceId=session_id, ResourceType="SESSION"
    )
    assert code == "InvalidInputException" and "no Spark UI" in message


@settings(max_examples=300, deadline=None)
@given(
    target=st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda rest, query: f"{PREFIX}{rest}?{query}",
            st.text(max_size=40),
            st.text(max_size=200),
        ),
    )
)
def test_any_get_target_is_answered_or_passed_over_never_raises(_shared_endpoint, target):
    reply = _shared_endpoint.log_links.answer(target)
    if not target.startswith(PREFIX):
        assert reply is None
    else:  # only a link the endpoint made opens a log
        assert reply is not None and reply.status in (400, 403)


@pytest.mark.slow
@pytest.mark.timeout(SPARK_PATIENCE * 2)  # Spark starts before READY, then runs a query
@needs_spark
def test_dashboard_url_is_the_sessions_spark_ui_on_loopback(glue, endpoint, monkeypatch):
    monkeypatch.setenv("GLUE_MAGICS_SPARK_MASTER", "local[1]")
    monkeypatch.setenv("GLUE_MAGICS_LOCAL_SPARK", "1")  # read at CreateSession
    session_id = ready(glue, patience=SPARK_PATIENCE)
    statement = run(glue, session_id, "spark.range(3).count()", patience=SPARK_PATIENCE)
    assert "3" in statement["Output"]["Data"]["TextPlain"]
    url = glue.get_dashboard_url(ResourceId=session_id, ResourceType="SESSION")["Url"]
    assert is_loopback(url), url  # SPARK_LOCAL_IP: the UI listens on loopback only
    status, page = get(url)  # Spark's UI redirects / to /jobs/
    assert status == 200 and b"Spark" in page and b"Jobs" in page
    assert f"Spark UI at {url}" in log_of(glue, session_id)
    run(glue, session_id, "spark.stop()", patience=SPARK_PATIENCE)
    code, message = code_of(
        glue, "get_dashboard_url", ResourceId=session_id, ResourceType="SESSION"
    )
    assert code == "InvalidInputException" and "no Spark UI" in message
