"""Which bucket names and keys the object store keeps, and where each one's file is.

``s3://BUCKET/KEY`` is the file ``ROOT/BUCKET/KEY``: a key's ``/`` are directories, so a
key is kept only when each of its parts can be a file name (none empty, ``.`` or ``..``,
none over 255 bytes); a key ending in ``/`` (a directory marker) is the directory itself.
S3 allows more (``a//b``, ``../x``); such keys are refused with one line rather than
stored under another name, so what boto3 and Spark see is the same file.

S3's own limits are AWS's ("Naming Amazon S3 objects": a key is up to 1,024 bytes of
UTF-8; "General purpose bucket naming rules": 3-63 characters of a-z, 0-9, ``.`` and
``-``, a letter or digit at each end, no ``..``, not shaped like an IP address).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

#: S3's longest key, in bytes of UTF-8 ("Naming Amazon S3 objects").
MAX_KEY_BYTES = 1024
#: The longest file name most file systems take (ext4, tmpfs, APFS: 255 bytes).
MAX_PART_BYTES = 255
_BUCKET = re.compile(r"(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+")
#: The scheme names Spark and Hadoop use for S3; all mean the same store here.
SCHEMES = ("s3", "s3a", "s3n")


class BadName(ValueError):
    """A bucket name or key this store cannot keep: ``code`` is S3's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def valid_bucket(name: str) -> bool:
    """Whether ``name`` follows S3's general purpose bucket naming rules."""
    return bool(_BUCKET.fullmatch(name)) and not _IP_LIKE.fullmatch(name)


def check_bucket(name: str) -> str:
    """``name`` when it is a valid bucket name, else BadName (InvalidBucketName)."""
    if not valid_bucket(name):
        raise BadName(
            "InvalidBucketName",
            f"The specified bucket is not valid: {name[:70]!r}; use 3-63 characters of a-z, "
            "0-9, '.' and '-', a letter or digit at each end",
        )
    return name


def key_parts(key: str) -> list[str]:
    """The file names a key is kept as (a directory marker's last part is ``""``); raises
    BadName for a key the store cannot keep."""
    if not key:
        raise BadName("InvalidArgument", "an object key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadName("InvalidArgument", "an object key must be UTF-8 text") from None
    if size > MAX_KEY_BYTES:
        raise BadName("KeyTooLongError", f"Your key is too long: {size} bytes, over 1024")
    parts = key.split("/")
    body = parts[:-1] if parts[-1] == "" else parts
    for part in body:
        if part in ("", ".", "..") or "\x00" in part:
            raise BadName(
                "InvalidArgument",
                f"the key {key[:200]!r} has a part {part!r} that cannot be a file name here "
                "(the local object store keeps keys as files): leave out empty, '.' and '..' "
                "parts",
            )
        if len(part.encode("utf-8")) > MAX_PART_BYTES:
            raise BadName(
                "KeyTooLongError",
                f"the key {key[:80]!r}... has a part of {len(part.encode())} bytes; the local "
                f"object store keeps keys as files, whose names take at most {MAX_PART_BYTES}",
            )
    if not body:
        raise BadName("InvalidArgument", f"the key {key!r} names no object")
    return parts


def object_path(root: Path, bucket: str, key: str) -> Path:
    """The file (or, for a key ending in ``/``, the directory) that holds ``key``."""
    parts = key_parts(key)
    return root.joinpath(bucket, *[p for p in parts if p])


def is_marker(key: str) -> bool:
    """Whether ``key`` is a directory marker (it ends in ``/``)."""
    return key.endswith("/")


class S3Uri(NamedTuple):
    """``s3://BUCKET/KEY`` (or s3a://, s3n://) as its parts."""

    scheme: str
    bucket: str
    key: str


def parse_uri(uri: str) -> S3Uri:
    """An ``s3://``, ``s3a://`` or ``s3n://`` URI as its parts; raises BadName otherwise."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise BadName(
            "InvalidArgument", f"{uri[:200]!r} is not an s3:// URI; write s3://BUCKET/KEY"
        )
    bucket, _, key = rest.partition("/")
    return S3Uri(scheme.lower(), check_bucket(bucket), key)
