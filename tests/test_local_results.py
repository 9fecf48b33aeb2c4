"""Outputs over the inline limit are held in S3, in the service's shape (moto's real S3).

Source: AWS's own Glue kernel, aws-glue-sessions 1.0.9, ``BaseKernel.display_result``:
MimeType ``text/uri-list`` (``GlueSessionsConstants.MimeTypes.S3URI``) means Result,
StdOut and StdErr are ``s3://`` URIs read with ``KernelGateway.get_results``; Result holds a
JSON object ``{mime: content}`` (``image/png`` content as base64, ``text/plain`` as text,
the only two keys it reads), and ``{}`` means the output is only on the streams.
``_construct_reply_content`` reads a FAILED statement's StdOut, Result (the reason) and
StdErr the same way.  Rich results come from the statement magics only (Livy's
fake_shell.py ``%matplot``, ``%json``; a value is always its text repr), so a PNG here is
drawn with ``%matplot plt``.
"""

from __future__ import annotations

import base64
import json

import pytest
from helpers import PLOT, make_glue, make_s3, needs_matplotlib, ready, run, s3_endpoint

BUCKET = "glue-magics-local-results"
INLINE_LIMIT = 100
TEXT = "text/plain; charset=utf-8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A rich result other than PNG: Livy's ``%json`` (application/json), over the inline limit.
BIG_JSON = "payload = ['déjà vu ✓'] * 40\n%json payload"


@pytest.fixture(scope="module")
def s3(moto_server):
    return make_s3(moto_server, BUCKET)


def start(moto_server, **kwargs):
    ep = s3_endpoint(moto_server, kwargs.pop("bucket", BUCKET), INLINE_LIMIT, **kwargs).start()
    try:
        glue = make_glue(ep.url)
        session_id = ready(glue)
        assert run(glue, session_id, "import sys")["Output"]["Status"] == "ok"
    except BaseException:
        ep.stop()
        raise
    return ep, glue, session_id


@pytest.fixture(scope="module")
def session(s3, moto_server):
    """(glue, READY session with sys imported) of an endpoint with a results bucket."""
    ep, glue, session_id = start(moto_server)
    yield glue, session_id
    ep.stop()


@pytest.fixture(scope="module")
def completed(s3, moto_server):
    """The same with statement_states="completed"."""
    ep, glue, session_id = start(moto_server, statement_states="completed")
    yield glue, session_id
    ep.stop()


def held(s3, session_id, statement, *names):
    """The statement's Data URIs checked against the key layout, and each object's
    (ContentType, text), field by field."""
    data = statement["Output"]["Data"]
    prefix = f"s3://{BUCKET}/glue-magics/{session_id}/{statement['Id']}/"
    fields = {"Result": names[0], "StdOut": "stdout.txt", "StdErr": "stderr.txt"}
    objects = {}
    for field, name in fields.items():
        assert data[field] == prefix + name, (field, data)
        stored = s3.get_object(Bucket=BUCKET, Key=data[field][len(f"s3://{BUCKET}/") :])
        objects[field] = (stored["ContentType"], stored["Body"].read().decode("utf-8"))
    return objects


def test_a_big_text_output_is_held_with_its_value_in_result_json(session, s3):
    glue, session_id = session
    code = "print('o' * 150)\nprint('e', file=sys.stderr)\n'v' * 10"
    statement = run(glue, session_id, code)
    assert statement["State"] == "AVAILABLE"
    assert statement["Output"]["Status"] == "ok"
    data = statement["Output"]["Data"]
    assert set(data) == {"MimeType", "Result", "StdOut", "StdErr"}
    assert data["MimeType"] == "text/uri-list"
    objects = held(s3, session_id, statement, "result.json")
    assert objects["Result"][0] == "application/json"
    assert json.loads(objects["Result"][1]) == {"text/plain": "'vvvvvvvvvv'"}
    assert objects["StdOut"] == (TEXT, "o" * 150 + "\n")
    assert objects["StdErr"] == (TEXT, "e\n")


def test_streams_only_is_an_empty_result_object(session, s3):
    glue, session_id = session
    statement = run(glue, session_id, "print('déjà ' * 40)")
    objects = held(s3, session_id, statement, "result.json")
    assert json.loads(objects["Result"][1]) == {}
    assert objects["StdOut"] == (TEXT, "déjà " * 40 + "\n")
    assert objects["StdErr"] == (TEXT, "")


def test_a_big_rich_result_other_than_png_stays_inline(session):
    # AWS's display_result reads only image/png and text/plain from result.json (any other
    # key would reach the notebook as a text/uri-list dict), so %json's application/json,
    # %plotly's text/html and %table's Livy table stay inline however big they are.
    glue, session_id = session
    data = run(glue, session_id, "print('made')\n" + BIG_JSON)["Output"]["Data"]
    assert data == {
        "MimeType": "application/json",
        "Result": json.dumps(["déjà vu ✓"] * 40),
        "StdOut": "made\n",
        "StdErr": "",
    }


@needs_matplotlib
def test_a_big_png_is_held_as_base64_under_the_plain_mime_type(session, s3):
    glue, session_id = session
    statement = run(glue, session_id, PLOT + "print('drawn')\n%matplot plt")
    assert statement["Output"]["Data"]["MimeType"] == "text/uri-list"
    objects = held(s3, session_id, statement, "result.json")
    result = json.loads(objects["Result"][1])
    assert list(result) == ["image/png"]  # no ;base64 in the key
    assert base64.b64decode(result["image/png"], validate=True).startswith(PNG_SIGNATURE)
    assert objects["StdOut"] == (TEXT, "drawn\n")


def test_small_outputs_stay_inline(session):
    glue, session_id = session
    assert run(glue, session_id, "6 * 7")["Output"]["Data"] == {"TextPlain": "42"}
    data = run(glue, session_id, "small = [1]\n%json small")["Output"]["Data"]
    assert data == {"MimeType": "application/json", "Result": "[1]", "StdOut": "", "StdErr": ""}


def test_an_exception_after_big_output_stays_inline(session):
    glue, session_id = session
    output = run(glue, session_id, "print('x' * 150)\n1 / 0")["Output"]
    assert output["Status"] == "error"
    assert output["Data"] == {"TextPlain": "x" * 150}


def test_without_a_bucket_big_outputs_stay_inline(glue):
    session_id = ready(glue)
    try:
        assert run(glue, session_id, "'v' * 150")["Output"]["Data"] == {
            "TextPlain": repr("v" * 150)
        }
    finally:
        glue.stop_session(Id=session_id)


@needs_matplotlib
def test_a_failed_upload_keeps_the_output_inline_and_says_why(s3, moto_server):
    ep, glue, session_id = start(moto_server, bucket="no-such-results-bucket")
    try:
        data = run(glue, session_id, PLOT + "%matplot plt")["Output"]["Data"]
        assert data["MimeType"] == "image/png;base64" and data["StdOut"] == ""
        assert base64.b64decode(data["Result"], validate=True).startswith(PNG_SIGNATURE)
        note = data["StdErr"]
        assert note.count("\n") == 1 and note.endswith("\n")
        assert "s3://no-such-results-bucket/glue-magics/" in note and "NoSuchBucket" in note
        data = run(glue, session_id, "print('t' * 150)")["Output"]["Data"]
        assert list(data) == ["TextPlain"]
        assert data["TextPlain"].startswith("t" * 150 + "\nglue-magics local endpoint: could not")
    finally:
        ep.stop()


def test_failed_streams_and_reason_are_text_objects(completed, s3):
    # statement_states="completed" with a bucket: every FAILED statement's Data is URIs.
    glue, session_id = completed
    statement = run(glue, session_id, "print('before')\n1 / 0")
    assert statement["State"] == "FAILED"
    output = statement["Output"]
    assert (output["ErrorName"], output["ErrorValue"]) == ("ZeroDivisionError", "division by zero")
    assert set(output["Data"]) == {"StdOut", "Result", "StdErr"}
    objects = held(s3, session_id, statement, "reason.txt")
    assert objects["StdOut"] == (TEXT, "before\n")
    assert objects["StdErr"] == (TEXT, "")
    content_type, reason = objects["Result"]
    assert content_type == TEXT
    assert reason == "ZeroDivisionError: division by zero\n" + "".join(output["Traceback"])


def test_completed_big_output_is_held_too(completed, s3):
    glue, session_id = completed
    statement = run(glue, session_id, "'c' * 150")
    assert statement["State"] == "COMPLETED"
    objects = held(s3, session_id, statement, "result.json")
    assert json.loads(objects["Result"][1]) == {"text/plain": repr("c" * 150)}
