"""Statement results handed over in S3: the local endpoint holds big ones in moto's real S3
(on loopback) in the service's ``text/uri-list`` shape, and the client's reader
(``results.read_data``, what a cell shows) brings them back exactly; ``resolve_result``
fetches the ``s3://`` Result of our older shape, every failure one line.

The shape: AWS's Glue kernel, aws-glue-sessions 1.0.9, ``BaseKernel.display_result``
(``text/uri-list``: Result a JSON ``{mime: content}`` in S3, StdOut and StdErr s3:// texts).
The endpoint holds only text and PNG so (tests/test_local_results.py has the layout); a PNG
is drawn with ``%matplot plt`` (Livy's fake_shell.py ``magic_matplot``), since values are
always text.
"""

from __future__ import annotations

import argparse
import base64

import boto3
import pytest
from helpers import PLOT, make_glue, make_s3, needs_matplotlib, ready, run, s3_endpoint
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics import results
from glue_magics.local import LocalEndpoint
from glue_magics.local import cli as local_cli
from glue_magics.service import GlueError

BUCKET = "glue-magics-results"
INLINE_LIMIT = 100


@pytest.fixture(scope="module")
def s3(moto_server):
    return make_s3(moto_server, BUCKET)


@pytest.fixture(scope="module")
def session(s3, moto_server):
    """(glue client, READY session id) of an endpoint that holds big outputs in S3."""
    with s3_endpoint(moto_server, BUCKET, INLINE_LIMIT) as ep:
        glue = make_glue(ep.url)
        yield glue, ready(glue)


@pytest.fixture
def factory(moto_server):
    """The factory the magics pass: the S3 client is made at its first call only."""
    return results.s3_client_factory(region="us-east-1", endpoint_url=moto_server)


def data_of(statement):
    assert statement["State"] == "AVAILABLE", statement
    assert statement["Output"]["Status"] == "ok", statement
    return statement["Output"]["Data"]


# ------------------------------------------------------------------ endpoint + read back


def test_big_text_goes_to_s3_and_comes_back_exactly(session, factory):
    # Non-ASCII on purpose: every object is UTF-8 text.
    glue, session_id = session
    code = (
        "import sys\nprint('déjà vu ✓ ' * 20)\nprint('prévenu ✓', file=sys.stderr)\n'ligne ✓ ' * 20"
    )
    data = data_of(run(glue, session_id, code))
    assert data["MimeType"] == "text/uri-list"
    shown = results.read_data(data, factory)
    assert shown.problems == [] and shown.values == {}
    assert shown.stdout == "déjà vu ✓ " * 20 + "\n" + repr("ligne ✓ " * 20)
    assert shown.stderr == "prévenu ✓\n"


@needs_matplotlib
def test_big_png_comes_back_as_the_same_bytes(session, factory, tmp_path):
    # The session saves the same figure to a file with the same savefig as %matplot, so the
    # bytes it drew are known here.
    glue, session_id = session
    drawn = tmp_path / "drawn.png"
    code = PLOT + f"plt.gcf().savefig({str(drawn)!r}, format='png')\n%matplot plt"
    data = data_of(run(glue, session_id, code))
    assert data["MimeType"] == "text/uri-list"
    shown = results.read_data(data, factory)
    assert shown.problems == [] and list(shown.values) == ["image/png"]
    assert base64.b64decode(shown.values["image/png"], validate=True) == drawn.read_bytes()
    assert (shown.stdout, shown.stderr) == ("", "")


def test_small_results_stay_inline_and_need_no_client(session):
    glue, session_id = session
    made = []

    def counting_factory():
        made.append(1)
        raise AssertionError("no S3 client is needed for an inline result")

    small = data_of(run(glue, session_id, "small = {'a': 1}\n%json small"))
    assert results.read_data(small, counting_factory).values == {"application/json": '{"a": 1}'}
    plain = data_of(run(glue, session_id, "6 * 7"))
    assert results.read_data(plain, counting_factory).stdout == "42"
    assert made == []


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


def test_no_credentials_is_one_line(s3, moto_server, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    def factory():  # not helpers.make_s3, which gives its client the tests' credentials
        return boto3.Session(region_name="us-east-1").client("s3", endpoint_url=moto_server)

    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/any/key.html"}
    error = one_line_error(data, factory)
    assert error.code == "NoCredentials"


def test_unreachable_s3_is_one_line():
    def factory():
        return make_s3("http://127.0.0.1:9", attempts=1)

    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/any/key.html"}
    error = one_line_error(data, factory)
    assert error.code == "EndpointUnreachable"
    assert "http://127.0.0.1:9" in str(error)


def test_the_factorys_unknown_profile_names_the_result():
    # service.make_client("s3") lets botocore's error through; the reader words it.
    factory = results.s3_client_factory(profile="no-such-profile-xyz")
    data = {"MimeType": "text/html", "Result": f"s3://{BUCKET}/any/key.html"}
    error = one_line_error(data, factory)
    assert error.code == "ProfileNotFound"
    assert "'no-such-profile-xyz'" in str(error) and "list-profiles" in str(error)


def test_the_factory_makes_one_client_lazily(moto_server):
    factory = results.s3_client_factory(endpoint_url=moto_server)
    first = factory()
    assert factory() is first
    assert first.meta.endpoint_url == moto_server


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
