"""What S3 keeps beside an object's bytes (its ETag, Content-Type, ``x-amz-meta-*``, kept
headers), in the store's own directory ``ROOT/.glue-magics``, apart from the buckets.

Each object's is a small JSON file under ``meta/BUCKET/`` named by the key's hash, valid
while the object's size and modification time are those it records; an object written by
Spark (through the Hadoop file system of this package) has none, and its ETag, the MD5 of
its bytes, is computed when first asked and recorded.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HIDDEN = ".glue-magics"
#: S3's Content-Type for an object put without one.
DEFAULT_CONTENT_TYPE = "binary/octet-stream"


@dataclass
class ObjectInfo:
    """One object as S3 describes it (HeadObject, a listing's Contents)."""

    key: str
    path: Path
    size: int
    mtime: float
    etag: str
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def last_modified(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(int(self.mtime), datetime.timezone.utc)


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hidden_dir(hidden: Path, name: str) -> Path:
    """``hidden/name``, made when it is not there."""
    path = hidden / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def temp_file(hidden: Path) -> Path:
    """A fresh path in the store's own temporary directory (same file system)."""
    return hidden_dir(hidden, "tmp") / f"upload-{secrets.token_hex(12)}"


class Metadata:
    """The metadata files under ``hidden`` (the store's ``ROOT/.glue-magics``)."""

    def __init__(self, hidden: Path) -> None:
        self.hidden = hidden

    def _path(self, bucket: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.hidden / "meta" / bucket / digest[:2] / f"{digest}.json"

    def read(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            with open(self._path(bucket, key)) as stream:
                meta = json.load(stream)
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and meta.get("key") == key else None

    def write(self, bucket: str, key: str, meta: dict[str, Any]) -> None:
        path = self._path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = temp_file(self.hidden)
        temp.write_text(json.dumps(dict(meta, key=key)))
        os.replace(temp, path)

    def drop(self, bucket: str, key: str) -> None:
        with contextlib.suppress(OSError):
            self._path(bucket, key).unlink()

    def drop_bucket(self, bucket: str) -> None:
        shutil.rmtree(self.hidden / "meta" / bucket, ignore_errors=True)

    def info(self, bucket: str, key: str, path: Path, stat: os.stat_result) -> ObjectInfo:
        """An object's description; its ETag computed (and kept) when none is recorded
        for these very bytes."""
        meta = self.read(bucket, key) or {}
        if meta.get("size") != stat.st_size or meta.get("mtime_ns") != stat.st_mtime_ns:
            meta = {"etag": md5_file(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            with contextlib.suppress(OSError):
                self.write(bucket, key, meta)
        return _described(key, path, stat.st_size, stat.st_mtime, meta["etag"], meta)

    def marker_info(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        """A directory marker's description: no bytes, what was put with it."""
        mtime = path.stat().st_mtime
        meta = self.read(bucket, key) or {}
        return _described(key, path, 0, mtime, hashlib.md5(b"").hexdigest(), meta)

    def is_marker(self, bucket: str, key: str, path: Path) -> bool:
        """Whether the directory ``path`` shows as the marker ``key``: empty, or put."""
        if not path.is_dir():
            return False
        if self.read(bucket, key) is not None:
            return True
        with os.scandir(path) as entries:
            return next(entries, None) is None


def _described(
    key: str, path: Path, size: int, mtime: float, etag: str, meta: dict[str, Any]
) -> ObjectInfo:
    return ObjectInfo(
        key,
        path,
        size,
        mtime,
        etag,
        content_type=meta.get("content_type") or DEFAULT_CONTENT_TYPE,
        metadata=dict(meta.get("metadata") or {}),
        headers=dict(meta.get("headers") or {}),
    )
