"""Statement results handed over as s3:// URIs: the local endpoint uploads big ones to S3
(moto's real server on loopback), and resolve_result fetches them back exactly."""

from __future__ import annotations

import argparse
import base64

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_local_helpers import ready, run

from glue_magics import results
from glue_magics.local import LocalEndpoint
from glue_magics.local import cli as local_cli
from glue_magics.service import GlueError

BUCKET = "glue-magics-results"
INLINE_LIMIT = 100

# Values with a rich repr, defined in the session; the HTML is non-ASCII on purpose.
SETUP = """
import random

class Page:
    def __init__(self, n):
        self.n = n
    def __repr__(self):
        return f"<Page {self.n}>"
    def _repr_html_(self):
        return "".join(f"<p>ligne {i}: déjà vu ✓</p>" for i in range(self.n))

class Picture:
    def __init__(self, n):
        self.data = bytes(random.Random(n).randrange(256) for _ in range(n))
    def _repr_png_(self):
        return self.data
"""


def html_of(n: int) -> str:
    return "".join(f"<p>ligne {i}: déjà vu ✓</p>" for i in range(n))


def png_of(n: int) -> bytes:
    import random

    return bytes(random.Random(n).randrange(256) for _ in range(n))


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3(moto_url):
    client = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("s3", endpoint_url=moto_url)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def results_endpoint(s3, moto_url):
    with LocalEndpoint(
        provision_seconds=0.05,
        stop_seconds=0.05,
        results_bucket=BUCKET,
        s3_endpoint_url=moto_url,
        result_inline_limit=INLINE_LIMIT,
    ) as ep:
        yield ep


@pytest.fixture(scope="module")
def session(results_endpoint):
    """(glue client, READY session id) with SETUP run in it."""
    from conftest import make_glue

    glue = make_glue(results_endpoint.url)
    session_id = ready(glue)
    assert run(glue, session_id, SETUP)["State"] == "AVAILABLE"
    yield glue, session_id
    glue.stop_session(Id=session_id)


@pytest.fixture
def factory(moto_url):
    """The factory the magics pass: the S3 client is made at its first call only."""
    return results.s3_client_factory(region="us-east-1", endpoint_url=moto_url)


def data_of(statement):
    assert statement["State"] == "AVAILABLE", statement
    return statement["Output"]["Data"]


# ------------------------------------------------------------------ endpoint + fetch


def test_big_html_goes_to_s3_and_comes_back_exactly(session, s3, factory):
    glue, session_id = session
    statement = run(glue, session_id, "Page(40)")
    data = data_of(statement)
    uri = f"s3://{BUCKET}/glue-magics/{session_id}/{statement['Id']}.html"
    assert data["MimeType"] == "text/html"
    assert data["Result"] == uri
    assert data["TextPlain"] == "<Page 40>"  # the plain text stays inline
    stored = s3.get_object(Bucket=BUCKET, Key=uri.split("/", 3)[3])
    assert stored["ContentType"].startswith("text/html")

    resolved = results.resolve_result(data, factory)
    assert resolved["Result"] == html_of(40)
    assert {k: v for k, v in resolved.items() if k != "Result"} == {
        k: v for k, v in data.items() if k != "Result"
    }
    assert data["Result"] == uri  # a copy: the statement's data is untouched


def test_big_png_comes_back_as_the_same_base64(session, s3, factory):
    glue, session_id = session
    statement = run(glue, session_id, "Picture(3000)")
    data = data_of(statement)
    key = f"glue-magics/{session_id}/{statement['Id']}.png"
    assert data["MimeType"] == "image/png"
    assert data["Result"] == f"s3://{BUCKET}/{key}"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == png_of(3000)  # raw bytes

    resolved = results.resolve_result(data, factory)
    assert resolved["Result"] == base64.b64encode(png_of(3000)).decode("ascii")


def test_small_results_stay_inline_and_need_no_client(session):
    glue, session_id = session
    made = []

    def counting_factory():
        made.append(1)
        raise AssertionError("no S3 client is needed for an inline result")

    small = data_of(run(glue, session_id, "Page(1)"))
    assert small["Result"] == html_of(1)
    assert results.resolve_result(small, counting_factory) is small
    plain = data_of(run(glue, session_id, "6 * 7"))
    assert "Result" not in plain
    assert results.resolve_result(plain, counting_factory) is plain
    assert made == []


def test_without_a_bucket_big_results_stay_inline(glue):
    session_id = ready(glue)
    try:
        run(glue, session_id, SETUP)
        data = data_of(run(glue, session_id, "Page(40)"))
        assert data["Result"] == html_of(40)
    finally:
        glue.stop_session(Id=session_id)


def test_a_failed_upload_keeps_the_result_inline_and_says_why(fresh_endpoint, moto_url):
    from conftest import make_glue

    ep = fresh_endpoint(
        results_bucket="no-such-results-bucket",
        s3_endpoint_url=moto_url,
        result_inline_limit=INLINE_LIMIT,
    )
    glue = make_glue(ep.url)
    session_id = ready(glue)
    run(glue, session_id, SETUP)
    data = data_of(run(glue, session_id, "Page(40)"))
    assert data["Result"] == html_of(40)
    assert "s3://no-such-results-bucket/glue-magics/" in data["StdErr"]
    assert "NoSuchBucket" in data["StdErr"]
    assert data["StdErr"].count("\n") == 1


# ------------------------------------------------------------------ errors


def one_line_error(data, factory, **kwargs) -> GlueError:
    with pytest.raises(GlueError) as info:
        results.resolve_result(data, factory, **kwargs)
    message = str(info.value)
    assert "\n" not in message and data["Result"] in message
    return info.value


def test_missing_key_is_one_line(s3, factory):
    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/glue-magics/gone/1.html"}
    error = one_line_error(data, factory)
    assert error.code == "NoSuchKey"
    assert "run the statement again" in str(error)


def test_missing_bucket_is_one_line(s3, factory):
    data = {"MimeType": "image/png", "Result": "s3://no-such-bucket-here/a/b.png"}
    error = one_line_error(data, factory)
    assert error.code == "NoSuchBucket"
    assert "no-such-bucket-here does not exist" in str(error)


def test_too_large_is_refused_before_reading(s3, factory):
    s3.put_object(Bucket=BUCKET, Key="big/result.html", Body=b"x" * 5000)
    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/big/result.html"}
    error = one_line_error(data, factory, max_bytes=4096)
    assert error.code == "ResultTooLarge"
    assert "5000 bytes" in str(error) and "aws s3 cp" in str(error)
    assert results.resolve_result(data, factory, max_bytes=5000)["Result"] == "x" * 5000


def test_no_credentials_is_one_line(s3, moto_url, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    def factory():
        return boto3.Session(region_name="us-east-1").client("s3", endpoint_url=moto_url)

    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/any/key.html"}
    error = one_line_error(data, factory)
    assert error.code == "NoCredentials"


def test_unreachable_s3_is_one_line():
    def factory():
        from botocore.config import Config

        return boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client(
            "s3",
            endpoint_url="http://127.0.0.1:9",
            config=Config(retries={"total_max_attempts": 1}),
        )

    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/any/key.html"}
    error = one_line_error(data, factory)
    assert error.code == "EndpointUnreachable"
    assert "http://127.0.0.1:9" in str(error)


def test_the_factory_makes_one_client_lazily(moto_url):
    factory = results.s3_client_factory(endpoint_url=moto_url)
    first = factory()
    assert factory() is first
    assert first.meta.endpoint_url == moto_url


def test_mime_type_missing_falls_back_to_the_objects_content_type(s3, factory):
    s3.put_object(Bucket=BUCKET, Key="typed.png", Body=b"\x89PNG\x00\xff", ContentType="image/png")
    s3.put_object(Bucket=BUCKET, Key="untyped", Body="é".encode())
    typed = results.resolve_result({"Result": f"s3://{BUCKET}/typed.png"}, factory)
    assert typed["Result"] == base64.b64encode(b"\x89PNG\x00\xff").decode()
    untyped = results.resolve_result({"Result": f"s3://{BUCKET}/untyped"}, factory)
    assert untyped["Result"] == base64.b64encode("é".encode()).decode()  # S3 says binary


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"results_bucket": "s3://b/x"}, "not a valid S3 bucket name"),
        ({"results_bucket": "ok-bucket", "result_inline_limit": -1}, "below the minimum of 0"),
        ({"results_bucket": "ok-bucket", "s3_endpoint_url": "localhost:9000"}, "not valid"),
    ],
)
def test_bad_settings_are_refused_before_serving(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        LocalEndpoint(**kwargs)


def test_cli_flags_reach_the_endpoint(capsys):
    parser = argparse.ArgumentParser()
    local_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["local-endpoint", "--results-bucket", "s3://bad", "--s3-endpoint-url", "http://x:1"]
    )
    assert args.result_inline_limit == 256 * 1024
    assert local_cli.run(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'s3://bad' is not a valid S3 bucket name" in err


def test_text_and_binary_mime_types():
    for mime in (
        "text/html",
        "text/markdown",
        "image/svg+xml",
        "application/json",
        "application/vnd.plotly.v1+json",
        "TEXT/Plain; charset=utf-8",
    ):
        assert results.is_text_mime(mime), mime
    for mime in ("image/png", "image/jpeg", "application/octet-stream", "application/pdf", ""):
        assert not results.is_text_mime(mime), mime


# ------------------------------------------------------------------ the URI parser

buckets = st.from_regex(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", fullmatch=True).filter(
    lambda b: ".." not in b
)
keys = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=200)


@given(buckets, keys)
def test_any_bucket_and_key_round_trip(bucket, key):
    assert results.parse_s3_uri(f"s3://{bucket}/{key}") == (bucket, key)


@given(st.text())
def test_a_parse_is_always_the_uri_it_came_from(text):
    parsed = results.parse_s3_uri(text)
    if parsed is not None:
        assert f"s3://{parsed[0]}/{parsed[1]}" == text


def no_factory():
    raise AssertionError("a non-s3 Result must not make an S3 client")


@settings(max_examples=200)
@given(
    st.text().filter(lambda s: not s.startswith("s3://")),
    st.sampled_from(["text/html", "image/png"]),
)
def test_non_s3_results_are_left_alone(text, mime):
    data = {"MimeType": mime, "Result": text, "TextPlain": "x"}
    assert results.resolve_result(data, no_factory) is data


@pytest.mark.parametrize(
    "text",
    [
        "s3://",
        "s3://bucket",
        "s3://bucket/",
        "s3:///key",
        "s3://b/key",
        "s3://bu..cket/k",
        "S3://bucket/key",
        "s3://bucket/line\nnext",
        " s3://bucket/key",
        "https://bucket/key",
        "s3://bucket_/k",
        "s3://" + "b" * 256 + "/k",
    ],
)
def test_malformed_uris_are_not_fetched(text):
    data = {"MimeType": "text/html", "Result": text}
    assert results.parse_s3_uri(text) is None
    assert results.resolve_result(data, no_factory) is data
