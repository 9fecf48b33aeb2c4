"""The object store against moto's S3 (moto[server], a real server on loopback): the same
boto3 calls to both, the answers' shapes, values and error codes compared.

moto is the oracle here because it is the S3 imitation most tested against real S3; where
the two differ by design, the test says so and why.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from helpers import make_s3, new_id

#: Values that differ by nature between two servers (time, ids, opaque tokens): compared
#: by presence and type only.
OPAQUE = {
    "LastModified",
    "CreationDate",
    "RequestId",
    "HostId",
    "UploadId",
    "NextContinuationToken",
    "ContinuationToken",
    "Owner",
    "ID",
    "DisplayName",
    "Expiration",
    "VersionId",
    "ChecksumCRC32",
    "ServerSideEncryption",
    "BucketArn",
    "Location",
}


#: Members S3 sends that moto 5.2 leaves out: PutObject's ChecksumType (AWS's PutObject
#: reference, "x-amz-checksum-type": FULL_OBJECT for a full-object checksum).
UNSENT_BY_MOTO = {"ChecksumType"}


def shape(value: Any) -> Any:
    """A reply with its opaque values replaced by their type."""
    if isinstance(value, dict):
        return {
            k: (type(v).__name__ if k in OPAQUE else shape(v))
            for k, v in value.items()
            if k != "ResponseMetadata" and k not in UNSENT_BY_MOTO
        }
    if isinstance(value, list):
        return [shape(v) for v in value]
    if hasattr(value, "read"):
        return value.read()
    if isinstance(value, datetime.datetime):
        return "datetime"
    return value


def outcome(client: Any, operation: str, **kwargs: Any) -> Any:
    """A call's reply shape, or its error as (code, HTTP status)."""
    try:
        return shape(getattr(client, operation)(**kwargs))
    except ClientError as exc:
        return (
            "error",
            exc.response["Error"]["Code"],
            exc.response["ResponseMetadata"]["HTTPStatusCode"],
        )


@pytest.fixture
def pair(endpoint: Any, moto_server: str) -> tuple[Any, Any, str]:
    ours, theirs = make_s3(endpoint.url, attempts=1), make_s3(moto_server, attempts=1)
    bucket = new_id("diff").lower().replace("_", "-")
    return ours, theirs, bucket


def both(pair: tuple[Any, Any, str], operation: str, **kwargs: Any) -> Any:
    ours, theirs, _ = pair
    mine, oracle = outcome(ours, operation, **kwargs), outcome(theirs, operation, **kwargs)
    assert mine == oracle, (operation, kwargs)
    return mine


KEYS = [
    "a.txt",
    "dir/one.csv",
    "dir/two.csv",
    "dir/sub/three.csv",
    "dir-x/four",
    "é/ünïcode key+plus=eq&amp.txt",
    "space name/with%percent",
]


def test_the_same_calls_get_the_same_answers(pair):
    ours, theirs, bucket = pair
    both(pair, "create_bucket", Bucket=bucket)
    for key in KEYS:
        both(
            pair,
            "put_object",
            Bucket=bucket,
            Key=key,
            Body=key.encode() * 3,
            ContentType="text/csv",
        )
    both(pair, "put_object", Bucket=bucket, Key="marker/", Body=b"")
    both(pair, "head_bucket", Bucket=bucket)
    both(pair, "list_objects_v2", Bucket=bucket)
    both(pair, "list_objects_v2", Bucket=bucket, Delimiter="/")
    both(pair, "list_objects_v2", Bucket=bucket, Prefix="dir/", Delimiter="/")
    both(pair, "list_objects_v2", Bucket=bucket, Prefix="dir")
    both(pair, "list_objects_v2", Bucket=bucket, Prefix="nothing")
    both(pair, "list_objects_v2", Bucket=bucket, StartAfter="dir/one.csv")
    both(pair, "list_objects_v2", Bucket=bucket, MaxKeys=2)
    both(pair, "list_objects_v2", Bucket=bucket, MaxKeys=2, Delimiter="/")
    # ListObjects (v1): the same keys and prefixes (moto leaves out the empty Prefix and
    # Marker that AWS's own ListObjects example shows, and the Contents' ChecksumAlgorithm)
    v1 = [client.list_objects(Bucket=bucket, Delimiter="/") for client in (ours, theirs)]
    assert [[o["Key"] for o in r["Contents"]] for r in v1][0] == [
        o["Key"] for o in v1[1]["Contents"]
    ]
    assert v1[0]["CommonPrefixes"] == v1[1]["CommonPrefixes"]
    # pages: the same keys in the same pages
    for page_size, delimiter in ((1, ""), (3, ""), (2, "/")):
        pages = []
        for client in (ours, theirs):
            paginator = client.get_paginator("list_objects_v2")
            config = {"PageSize": page_size}
            pages.append(
                [
                    (
                        [o["Key"] for o in page.get("Contents", [])],
                        [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                    )
                    for page in paginator.paginate(
                        Bucket=bucket, Delimiter=delimiter, PaginationConfig=config
                    )
                ]
            )
        assert pages[0] == pages[1], (page_size, delimiter)
    both(pair, "get_object", Bucket=bucket, Key="dir/one.csv")
    both(pair, "get_object", Bucket=bucket, Key="dir/one.csv", Range="bytes=3-7")
    both(pair, "get_object", Bucket=bucket, Key="dir/one.csv", Range="bytes=-4")
    both(pair, "head_object", Bucket=bucket, Key=KEYS[5])
    both(pair, "head_object", Bucket=bucket, Key="marker/")
    both(
        pair,
        "copy_object",
        Bucket=bucket,
        Key="copied",
        CopySource={"Bucket": bucket, "Key": "a.txt"},
    )
    both(
        pair,
        "copy_object",
        Bucket=bucket,
        Key="replaced",
        CopySource={"Bucket": bucket, "Key": "a.txt"},
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"owner": "me"},
    )
    both(pair, "head_object", Bucket=bucket, Key="replaced")
    both(pair, "delete_object", Bucket=bucket, Key="copied")
    both(pair, "delete_object", Bucket=bucket, Key="never-was")
    both(
        pair,
        "delete_objects",
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a.txt"}, {"Key": "dir/two.csv"}, {"Key": "absent"}]},
    )
    both(pair, "list_objects_v2", Bucket=bucket)


def test_the_same_errors(pair):
    _, _, bucket = pair
    both(pair, "create_bucket", Bucket=bucket)
    both(pair, "put_object", Bucket=bucket, Key="k", Body=b"0123456789")
    both(pair, "create_bucket", Bucket=bucket)  # BucketAlreadyOwnedByYou
    both(pair, "get_object", Bucket=bucket, Key="missing")  # NoSuchKey
    both(pair, "head_object", Bucket=bucket, Key="missing")  # 404, no body
    both(pair, "list_objects_v2", Bucket=bucket + "-none")  # NoSuchBucket
    both(pair, "get_object", Bucket=bucket + "-none", Key="k")
    both(pair, "put_object", Bucket=bucket + "-none", Key="k", Body=b"x")
    both(pair, "head_bucket", Bucket=bucket + "-none")
    both(pair, "get_object", Bucket=bucket, Key="k", Range="bytes=20-30")  # InvalidRange
    both(pair, "copy_object", Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    both(pair, "copy_object", Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "no"})
    # (UploadPart to an unknown upload: S3's NoSuchUpload, 404; moto 5.2 answers a 500,
    # so test_objectstore checks ours alone)
    both(pair, "delete_bucket", Bucket=bucket)  # BucketNotEmpty


def test_multipart_uploads_agree(pair):
    ours, theirs, bucket = pair
    both(pair, "create_bucket", Bucket=bucket)
    parts = [b"a" * (5 * 2**20), b"b" * (5 * 2**20), b"tail"]
    etags = []
    for client in (ours, theirs):
        upload = client.create_multipart_upload(Bucket=bucket, Key="big", ContentType="text/plain")
        done = [
            {
                "PartNumber": n,
                "ETag": client.upload_part(
                    Bucket=bucket, Key="big", UploadId=upload["UploadId"], PartNumber=n, Body=body
                )["ETag"],
            }
            for n, body in enumerate(parts, 1)
        ]
        answer = client.complete_multipart_upload(
            Bucket=bucket, Key="big", UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
        )
        etags.append(answer["ETag"])
        out = io.BytesIO()
        client.download_fileobj(bucket, "big", out)
        assert out.getvalue() == b"".join(parts)
    assert etags[0] == etags[1]
    both(pair, "head_object", Bucket=bucket, Key="big")
