"""S3's errors as the object store and its API raise them."""

from __future__ import annotations

from glue_magics.local.objectstore.keys import BadName


class S3Error(Exception):
    """An error S3 answers: its code, message, HTTP status and the resource it names."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


def no_bucket(bucket: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket)


def no_key(key: str) -> S3Error:
    return S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=key)


def bad_name(exc: BadName) -> S3Error:
    status = 400
    return S3Error(exc.code, exc.message, status)


def malformed() -> S3Error:
    """S3's answer to an XML body that is not what the operation takes."""
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
