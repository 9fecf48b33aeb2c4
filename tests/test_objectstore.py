"""The local endpoint's object store through S3's API: boto3 against it over HTTP, the
files it keeps, the requests it refuses, and the listing against a model (hypothesis)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import PATIENCE, make_s3, new_id, ready, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_magics.local.objectstore.keys import BadName, key_parts, object_path, parse_uri
from glue_magics.local.objectstore.store import ObjectStore, S3Error


@pytest.fixture
def s3(endpoint: Any) -> Any:
    return make_s3(endpoint.url, attempts=1)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = new_id("bkt").lower().replace("_", "-")
    s3.create_bucket(Bucket=name)
    return name


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_put_get_head_keep_bytes_type_metadata_and_md5_etag(s3, bucket, endpoint):
    body = b"a,b\n1,2\n"
    put = s3.put_object(
        Bucket=bucket, Key="in/data.csv", Body=body, ContentType="text/csv", Metadata={"k": "v"}
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="in/data.csv")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["Metadata"], got["ETag"]) == (
        "text/csv",
        {"k": "v"},
        put["ETag"],
    )
    head = s3.head_object(Bucket=bucket, Key="in/data.csv")
    assert head["ContentLength"] == len(body)
    # the object is the file DATA_DIR/s3/BUCKET/KEY, and nothing else is in the bucket
    kept = endpoint.settings.s3_root / bucket
    assert (kept / "in" / "data.csv").read_bytes() == body
    assert sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*")) == ["in", "in/data.csv"]


def test_ranges_as_s3_answers_them(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=2-4")
    assert (part["Body"].read(), part["ContentRange"]) == (b"234", "bytes 2-4/10")
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=8-")["Body"].read() == b"89"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-")
    assert code_of(exc) == "InvalidRange"


def test_errors_are_s3s_codes(s3, bucket, endpoint):
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="missing")
    assert code_of(exc) == "NoSuchKey"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="missing")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="no-such-bucket-here")
    assert code_of(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
    assert code_of(exc) == "NoSuchBucket"
    # AWS's CreateBucket reference: the owner making its bucket again gets 200 OK in
    # us-east-1, BucketAlreadyOwnedByYou (409) in every other region
    s3.create_bucket(Bucket=bucket)
    elsewhere = make_s3(endpoint.url, attempts=1, region_name="eu-west-1")
    with pytest.raises(ClientError) as exc:
        elsewhere.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert code_of(exc) == "BucketAlreadyOwnedByYou"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="a/../../escape", Body=b"x")
    assert code_of(exc) == "InvalidArgument"
    # AWS's UploadPart reference: NoSuchUpload for an upload that is not there
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId="nope", PartNumber=1, Body=b"x")
    assert code_of(exc) == "NoSuchUpload"
    s3.head_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket="no-such-bucket-here")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_copy_and_delete_objects(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="a/b/c", Body=b"1", ContentType="text/plain")
    copied = s3.copy_object(
        Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "a/b/c"}
    )
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket=bucket, Key="a/b/c")["ETag"]
    assert s3.head_object(Bucket=bucket, Key="copy")["ContentType"] == "text/plain"
    s3.delete_object(Bucket=bucket, Key="a/b/c")
    s3.delete_object(Bucket=bucket, Key="a/b/c")  # absent: no error, as S3
    assert not (endpoint.settings.s3_root / bucket / "a").exists()  # no empty directories left
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copy"}, {"Key": "x"}]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["copy", "x"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_directory_markers_are_listed_and_hold_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/", Body=b"")
    s3.put_object(Bucket=bucket, Key="dir/x", Body=b"1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["dir/", "dir/x"]
    assert s3.head_object(Bucket=bucket, Key="dir/")["ContentLength"] == 0
    s3.delete_object(Bucket=bucket, Key="dir/x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/"]


def test_multipart_upload_as_upload_fileobj_sends_it(s3, bucket):
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(11 * 2**20)
    config = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    parts = [data[i : i + 5 * 2**20] for i in range(0, len(data), 5 * 2**20)]
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert head["ETag"] == f'"{digest}-3"'  # S3's multipart ETag
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big.bin", out)
    assert out.getvalue() == data


def test_requests_not_signed_by_the_endpoints_credentials_are_refused(endpoint, bucket):
    import boto3

    wrong = boto3.client(
        "s3",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="not-the-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        wrong.list_objects_v2(Bucket=bucket)
    assert code_of(exc) == "SignatureDoesNotMatch"
    other = boto3.client(
        "s3",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="SOMEONEELSE",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as exc:
        other.list_buckets()
    assert code_of(exc) == "InvalidAccessKeyId"
    # an unsigned request is not taken for S3's: it is refused as the Glue API refuses it
    with pytest.raises(urllib.error.HTTPError) as plain:
        urllib.request.urlopen(f"{endpoint.url}/{bucket}/x")
    assert plain.value.code >= 400
    assert not (endpoint.settings.s3_root / bucket / "x").exists()


def test_a_body_that_is_not_what_was_signed_is_refused(s3, bucket, endpoint):
    def tamper(request: Any, **kwargs: Any) -> None:  # after signing: the bytes change
        request.body = b"PAYLOAD"

    s3.meta.events.register("before-send.s3.PutObject", tamper)
    try:
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key="tampered", Body=b"payload")
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", tamper)
    assert code_of(exc) == "XAmzContentSHA256Mismatch"
    assert not (endpoint.settings.s3_root / bucket / "tampered").exists()


def test_a_presigned_sigv4_url_reads_the_object(endpoint, bucket):
    client = make_s3(endpoint.url, signature_version="s3v4")
    client.put_object(Bucket=bucket, Key="shared file.txt", Body=b"hi")
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared file.txt"}
    )
    assert urllib.request.urlopen(url).read() == b"hi"
    with pytest.raises(urllib.error.HTTPError) as tampered:
        urllib.request.urlopen(url.replace("shared%20file", "shared%20filf"))
    assert b"<Code>NoSuchKey</Code>" not in tampered.value.read()  # refused before looking
    v2 = make_s3(endpoint.url).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared file.txt"}
    )
    with pytest.raises(urllib.error.HTTPError) as old:
        urllib.request.urlopen(v2)
    assert b"Signature Version 2" in old.value.read()


def test_the_glue_api_still_answers_beside_s3(glue, s3, bucket):
    assert "Sessions" in glue.list_sessions()
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_boto3_inside_a_local_session_sees_the_same_objects(glue, s3, bucket):
    """The worker's environment names the endpoint (AWS_ENDPOINT_URL_S3) and its credentials,
    so a plain boto3.client("s3") in a session lists what the test put."""
    s3.put_object(Bucket=bucket, Key="from-test/hello.txt", Body=b"hello")
    session = ready(glue)
    try:
        code = (
            "import boto3\n"
            "c = boto3.client('s3')\n"
            f"print([o['Key'] for o in c.list_objects_v2(Bucket={bucket!r})['Contents']])\n"
            f"c.put_object(Bucket={bucket!r}, Key='from-session.txt', Body=b'hi')\n"
        )
        output = run(glue, session, code, patience=PATIENCE * 2)["Output"]
        assert output["Status"] == "ok", output
        assert "['from-test/hello.txt']" in output["Data"]["TextPlain"]
        assert s3.get_object(Bucket=bucket, Key="from-session.txt")["Body"].read() == b"hi"
    finally:
        glue.stop_session(Id=session)


# --------------------------------------------------------------------------- key parsing
_ODD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
)


@given(key=_ODD)
def test_a_key_is_kept_under_its_bucket_or_refused_in_one_line(key):
    root = Path("/nonexistent-root")
    try:
        path = object_path(root, "bucket", key)
    except BadName as exc:
        assert exc.code in ("InvalidArgument", "KeyTooLongError")
        assert "\n" not in exc.message  # one line, the key quoted as its repr
        return
    # never outside the bucket, and the path names the key again
    assert path.is_relative_to(root / "bucket")
    parts = key.split("/")
    assert path.relative_to(root / "bucket").parts == tuple(p for p in parts if p)


@given(
    parts=st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
            min_size=1,
            max_size=20,
        ).filter(lambda p: p not in (".", "..")),
        min_size=1,
        max_size=4,
    ),
    marker=st.booleans(),
)
def test_keys_of_file_name_parts_are_kept(parts, marker):
    key = "/".join(parts) + ("/" if marker else "")
    assert key_parts(key)[: len(parts)] == parts


@given(
    uri=st.from_regex(
        r"(s3|s3a|s3n)://[a-z0-9][a-z0-9-]{1,20}[a-z0-9]/[a-z/._-]{0,30}", fullmatch=True
    )
)
def test_s3_uris_parse_into_bucket_and_key(uri):
    parsed = parse_uri(uri)
    assert f"{parsed.scheme}://{parsed.bucket}/{parsed.key}" == uri


def test_what_is_not_an_s3_uri_is_one_line():
    with pytest.raises(BadName, match="not an s3:// URI"):
        parse_uri("hdfs://x/y")


# --------------------------------------------------------------------------- listing model
_SEGMENT = st.sampled_from(["a", "b", "a-b", "a.b", "ä", "z", "a b", "0"])
_KEYS = st.lists(
    st.lists(_SEGMENT, min_size=1, max_size=3).map("/".join), min_size=0, max_size=12, unique=True
)


def _model(keys: list[str], prefix: str, delimiter: str) -> list[tuple[str, str]]:
    """S3's listing of ``keys``: in UTF-8 byte order, each key or its common prefix once."""
    seen: list[tuple[str, str]] = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        at = key.find(delimiter, len(prefix)) if delimiter else -1
        item = ("prefix", key[: at + len(delimiter)]) if at >= 0 else ("key", key)
        if item not in seen:
            seen.append(item)
    return seen


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=_KEYS,
    prefix=st.sampled_from(["", "a", "a/", "a-", "ä", "b/a"]),
    delimiter=st.sampled_from(["", "/", "-", "b"]),
    page=st.integers(1, 5),
)
def test_listing_pages_match_the_model(tmp_path_factory, keys, prefix, delimiter, page):
    # keys that are both an object and a prefix ("a" and "a/b") cannot both be files
    kept: list[str] = []
    for key in keys:
        if not any(k.startswith(key + "/") or key.startswith(k + "/") for k in kept):
            kept.append(key)
    store = ObjectStore(tmp_path_factory.mktemp("store"))
    store.create_bucket("bkt")
    for key in kept:
        temp = store.temp_file()
        temp.write_bytes(key.encode())
        store.put("bkt", key, temp)
    listed: list[tuple[str, str]] = []
    floor = None
    for _ in range(100):
        result = store.list("bkt", prefix, delimiter, floor, page)
        listed += [("key", info.key) for info in result.contents]
        listed += [("prefix", p) for p in result.prefixes]
        if not result.truncated:
            break
        floor = result.floor
    listed.sort(key=lambda item: item[1].encode())
    assert listed == sorted(_model(kept, prefix, delimiter), key=lambda item: item[1].encode())


def test_a_key_and_a_prefix_of_the_same_name_cannot_both_be_files(tmp_path):
    store = ObjectStore(tmp_path)
    store.create_bucket("bkt")
    temp = store.temp_file()
    temp.write_bytes(b"1")
    store.put("bkt", "a", temp)
    temp = store.temp_file()
    temp.write_bytes(b"2")
    with pytest.raises(S3Error, match="'a' is an object"):
        store.put("bkt", "a/b", temp)
    assert not temp.exists()


# --------------------------------------------------------------------------- aws-chunked
def test_chunk_signatures_are_those_of_aws_documented_example():
    """AWS's "Signature Calculations for the Authorization Header: Transferring Payload in
    Multiple Chunks" example: 64 KiB then 1 KiB of 'a', its seed and chunk signatures."""
    from glue_magics.local.objectstore import signing

    key = signing._signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1")
    signed = signing.Signed(
        signing.STREAMING_SIGNED,
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        key,
        "20130524T000000Z",
        "20130524/us-east-1/s3/aws4_request",
    )
    first = signing.chunk_signature(signed, signed.seed, hashlib.sha256(b"a" * 65536).hexdigest())
    second = signing.chunk_signature(signed, first, hashlib.sha256(b"a" * 1024).hexdigest())
    last = signing.chunk_signature(signed, second, hashlib.sha256(b"").hexdigest())
    assert (first, second, last) == (
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    )


def _put_chunked(
    endpoint: Any, bucket: str, key: str, chunks: list[bytes], mode: str, spoil: str = ""
) -> tuple[int, bytes]:
    """A PutObject with an aws-chunked body, signed as the Java SDK and hadoop-aws send it
    (``mode``: STREAMING-AWS4-HMAC-SHA256-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    import http.client
    import zlib

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from glue_magics.local.objectstore import signing

    class Streaming(S3SigV4Auth):
        def payload(self, request: Any) -> str:
            return mode

    decoded = sum(map(len, chunks))
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(decoded),
    }
    if mode == signing.STREAMING_UNSIGNED_TRAILER:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    url = f"{endpoint.url}/{bucket}/{key}"
    request = AWSRequest(method="PUT", url=url, headers=headers)
    keys = endpoint.credentials
    Streaming(Credentials(keys.access_key, keys.secret_key), "s3", "us-east-1").add_auth(request)
    seed = request.headers["Authorization"].rpartition("Signature=")[2]
    body = b""
    if mode == signing.STREAMING_SIGNED:
        stamp = request.headers["X-Amz-Date"]
        signed = signing.Signed(
            mode,
            seed,
            signing._signing_key(keys.secret_key, stamp[:8], "us-east-1"),
            stamp,
            f"{stamp[:8]}/us-east-1/s3/aws4_request",
        )
        previous = seed
        for chunk in [*chunks, b""]:
            previous = signing.chunk_signature(signed, previous, hashlib.sha256(chunk).hexdigest())
            sent = chunk.replace(b"a", b"b") if spoil == "chunk" and chunk else chunk
            body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    else:
        crc = zlib.crc32(b"".join(chunks)) ^ (1 if spoil == "crc" else 0)
        for chunk in chunks:
            body += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        trailer = base64.b64encode(crc.to_bytes(4, "big")).decode()
        body += f"0\r\nx-amz-checksum-crc32:{trailer}\r\n\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=30)
    try:
        connection.request(
            "PUT", f"/{bucket}/{key}", body=body, headers=dict(request.headers.items())
        )
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "mode", ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]
)
def test_aws_chunked_bodies_are_decoded_and_checked(endpoint, s3, bucket, mode):
    chunks = [b"a" * 70000, b"a" * 1024]
    status, said = _put_chunked(endpoint, bucket, "chunked", chunks, mode)
    assert status == 200, said
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(chunks)
    spoil = "chunk" if mode.startswith("STREAMING-AWS4") else "crc"
    status, said = _put_chunked(endpoint, bucket, "spoiled", chunks, mode, spoil=spoil)
    wanted = b"SignatureDoesNotMatch" if spoil == "chunk" else b"BadDigest"
    assert status in (400, 403) and wanted in said
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="spoiled")


def test_local_endpoint_takes_its_data_dir_from_the_command_line(tmp_path):
    import argparse

    from glue_magics.local import cli as local_cli

    parser = argparse.ArgumentParser()
    local_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["local-endpoint", "--data-dir", str(tmp_path / "d")])
    settings = local_cli.settings_from(args)
    assert settings.s3_root == tmp_path / "d" / "s3"
    # without it: GLUE_LOCAL_DATA_DIR, which conftest points at this run's own directory
    default = local_cli.settings_from(parser.parse_args(["local-endpoint"]))
    assert default.data_dir == Path(os.environ["GLUE_LOCAL_DATA_DIR"]).absolute()


def test_the_embedded_endpoint_keeps_its_objects_in_glue_local_data_dir(tmp_path, monkeypatch):
    """The magics' embedded endpoint (sessions.py) is made with no data_dir: the setting's
    default reads GLUE_LOCAL_DATA_DIR."""
    from glue_magics.local import LocalEndpoint

    monkeypatch.setenv("GLUE_LOCAL_DATA_DIR", str(tmp_path))
    with LocalEndpoint(generate_credentials=True) as ep:
        keys = ep.credentials
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=ep.url,
            region_name="us-east-1",
            aws_access_key_id=keys.access_key,
            aws_secret_access_key=keys.secret_key,
        )
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k", Body=b"v")
    assert (tmp_path / "s3" / "kept" / "k").read_bytes() == b"v"


@pytest.mark.slow  # two runs of the AWS CLI (a Python of its own) and 9 MiB: 10-50 s
@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_clis_s3_cp_and_ls_see_the_same_objects(endpoint, s3, bucket, tmp_path):
    """``aws s3 cp`` of a file over its 8 MiB multipart threshold, then ``aws s3 ls``, with
    only AWS_ENDPOINT_URL_S3 pointing the CLI here (its credentials: the environment's,
    which the suite's endpoint answers to)."""
    import subprocess

    data = os.urandom(9 * 2**20)
    (tmp_path / "big.bin").write_bytes(data)
    env = dict(os.environ, AWS_ENDPOINT_URL_S3=endpoint.url)
    target = f"s3://{bucket}/cli/big.bin"
    subprocess.run(
        ["aws", "s3", "cp", "--only-show-errors", str(tmp_path / "big.bin"), target],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert s3.get_object(Bucket=bucket, Key="cli/big.bin")["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="cli/big.bin")["ETag"].endswith('-2"')
    listed = subprocess.run(
        ["aws", "s3", "ls", "--recursive", f"s3://{bucket}/"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert listed.split()[-2:] == [str(len(data)), "cli/big.bin"]


_KEPT_PART = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"),
    min_size=1,
    max_size=12,
).filter(lambda p: p not in (".", ".."))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_KEPT_PART, min_size=1, max_size=3))
def test_odd_keys_go_through_boto3_and_come_back_the_same(s3, bucket, parts):
    """Keys with spaces, %, +, &, unicode... put, listed (boto3's url encoding) and read."""
    key = "/".join(parts)
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)
        assert [o["Key"] for o in listed["Contents"]] == [key]
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    finally:
        s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
