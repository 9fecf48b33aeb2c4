"""The object store: buckets are directories of ``ROOT``, objects their files.

What S3 keeps beside an object is in ``ROOT/.glue-magics/meta`` (:mod:`.meta`), multipart
uploads in ``ROOT/.glue-magics/uploads`` (:mod:`.multipart`); nothing of ours is inside a
bucket's directory, so neither S3 listings (:mod:`.listing`) nor Spark see it (a bucket
name cannot start with ``.``).

Every write lands whole or not at all: bytes go to ``ROOT/.glue-magics/tmp`` and are moved
into place with one ``rename``.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from glue_magics.local.objectstore import listing
from glue_magics.local.objectstore.errors import S3Error, bad_name, no_bucket, no_key
from glue_magics.local.objectstore.keys import (
    BadName,
    check_bucket,
    is_marker,
    object_path,
    valid_bucket,
)
from glue_magics.local.objectstore.listing import MAX_KEYS, Listed
from glue_magics.local.objectstore.meta import (
    DEFAULT_CONTENT_TYPE,
    HIDDEN,
    Metadata,
    ObjectInfo,
    md5_file,
    temp_file,
)
from glue_magics.local.objectstore.multipart import Multipart

#: What other modules and tests import from here (its place before the split).
__all__ = ["MAX_KEYS", "Listed", "ObjectInfo", "ObjectStore", "S3Error", "no_bucket"]


class ObjectStore:
    """S3's operations over ``root``; safe to call from the endpoint's request threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hidden = self.root / HIDDEN
        self._lock = threading.Lock()  # around directory creation and removal only
        self.meta = Metadata(self.hidden)
        self.multipart = Multipart(self.hidden)

    # ------------------------------------------------------------------ places
    def temp_file(self) -> Path:
        """A fresh path in the store's own temporary directory (same file system)."""
        return temp_file(self.hidden)

    def bucket_dir(self, bucket: str) -> Path:
        """The directory of an existing bucket; NoSuchBucket otherwise."""
        if not valid_bucket(bucket):
            raise no_bucket(bucket)
        path = self.root / bucket
        if not path.is_dir():
            raise no_bucket(bucket)
        return path

    def _path(self, bucket: str, key: str) -> Path:
        self.bucket_dir(bucket)
        try:
            return object_path(self.root, bucket, key)
        except BadName as exc:
            raise bad_name(exc) from None

    # ------------------------------------------------------------------ buckets
    def buckets(self) -> list[tuple[str, datetime.datetime]]:
        """Every bucket and when it was made, by name."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if entry.is_dir() and valid_bucket(entry.name):
                made = entry.stat().st_mtime
                found.append(
                    (entry.name, datetime.datetime.fromtimestamp(made, datetime.timezone.utc))
                )
        return found

    def create_bucket(self, bucket: str) -> None:
        """Make a bucket; BucketAlreadyOwnedByYou if it exists (us-east-1 answers so too)."""
        try:
            check_bucket(bucket)
        except BadName as exc:
            raise bad_name(exc) from None
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            (self.root / bucket).mkdir()
        except FileExistsError:
            raise S3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                409,
                BucketName=bucket,
            ) from None

    def delete_bucket(self, bucket: str) -> None:
        path = self.bucket_dir(bucket)
        try:
            path.rmdir()
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise S3Error(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                    409,
                    BucketName=bucket,
                ) from None
            raise
        self.meta.drop_bucket(bucket)

    # ------------------------------------------------------------------ objects
    def head(self, bucket: str, key: str) -> ObjectInfo:
        """An object's description; NoSuchKey when there is none."""
        path = self._path(bucket, key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise no_key(key) from None
        if is_marker(key):
            if not self.meta.is_marker(bucket, key, path):
                raise no_key(key)
            return self.meta.marker_info(bucket, key, path)
        if not os.path.isfile(path):
            raise no_key(key)
        return self.meta.info(bucket, key, path, stat)

    def put(
        self,
        bucket: str,
        key: str,
        source: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
    ) -> ObjectInfo:
        """Move the file ``source`` (in :meth:`temp_file`'s directory) into place as
        ``key``; the object appears whole.  ``etag`` defaults to the MD5 of its bytes."""
        path = self._path(bucket, key)
        meta: dict[str, Any] = {
            "content_type": content_type or DEFAULT_CONTENT_TYPE,
            "metadata": metadata or {},
            "headers": headers or {},
        }
        if is_marker(key):
            if source.stat().st_size:
                source.unlink()
                raise S3Error(
                    "InvalidArgument",
                    f"the key {key!r} ends in '/', which this store keeps as a directory: "
                    "it holds no bytes; leave out the trailing '/'",
                )
            source.unlink()
            self._make_parents(bucket, path, inclusive=True)
            self.meta.write(bucket, key, dict(meta, marker=True))
            return self.meta.marker_info(bucket, key, path)
        meta["etag"] = etag or md5_file(source)
        try:
            for attempt in range(5):  # a parent removed by a concurrent delete is made again
                self._make_parents(bucket, path)
                if path.is_dir():
                    raise S3Error(
                        "InvalidArgument",
                        f"the key {key!r} cannot be stored: keys under {key + '/'!r} exist, "
                        "and this store keeps keys as files (a name is a file or a directory)",
                    )
                try:
                    os.replace(source, path)
                    break
                except FileNotFoundError:
                    if attempt == 4:
                        raise
        except BaseException:
            source.unlink(missing_ok=True)
            raise
        stat = path.stat()
        self.meta.write(bucket, key, dict(meta, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
        return self.meta.info(bucket, key, path, stat)

    def _make_parents(self, bucket: str, path: Path, inclusive: bool = False) -> None:
        target = path if inclusive else path.parent
        try:
            target.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            # some part of the way is an object
            bucket_dir = self.root / bucket
            for parent in [target, *target.parents]:
                if parent == bucket_dir:
                    break
                if parent.is_file():
                    key = parent.relative_to(bucket_dir).as_posix()
                    raise S3Error(
                        "InvalidArgument",
                        f"the key cannot be stored under {key!r}: {key!r} is an object, and "
                        "this store keeps keys as files (a name is a file or a directory)",
                    ) from None
            raise

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object (no error when there is none, as S3); empty directories left
        above it go too, unless a marker was put for them."""
        path = self._path(bucket, key)
        self.meta.drop(bucket, key)
        if is_marker(key):
            with contextlib.suppress(OSError):
                path.rmdir()  # only when empty: keys under it are objects of their own
        else:
            try:
                if path.is_dir():
                    return
                path.unlink()
            except (FileNotFoundError, NotADirectoryError):
                return
        bucket_dir = self.root / bucket
        for parent in path.parents:
            if parent == bucket_dir or not str(parent).startswith(str(bucket_dir)):
                break
            marker = parent.relative_to(bucket_dir).as_posix() + "/"
            if self.meta.read(bucket, marker) is not None:
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def copy(
        self,
        bucket: str,
        key: str,
        source_bucket: str,
        source_key: str,
        *,
        replace: dict[str, Any] | None = None,
    ) -> ObjectInfo:
        """CopyObject: the source's bytes and (unless ``replace`` gives new ones) its
        Content-Type and metadata."""
        source = self.head(source_bucket, source_key)
        self.bucket_dir(bucket)
        if (bucket, key) == (source_bucket, source_key) and replace is None:
            raise S3Error(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to "
                "itself without changing the object's metadata, storage class, website "
                "redirect location or encryption attributes.",
            )
        temp = self.temp_file()
        if is_marker(source_key):
            temp.touch()
        else:
            shutil.copyfile(source.path, temp)
        checksums = {k: v for k, v in source.headers.items() if k.startswith("x-amz-checksum-")}
        if replace is not None:  # new metadata; the bytes' checksums stay theirs
            replace = dict(replace, headers={**(replace.get("headers") or {}), **checksums})
        kept = (
            replace
            if replace is not None
            else {
                "content_type": source.content_type,
                "metadata": source.metadata,
                "headers": source.headers,
            }
        )
        return self.put(bucket, key, temp, etag=source.etag, **kept)

    # ------------------------------------------------------------------ listing
    def list(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str = "",
        floor: bytes | None = None,
        max_keys: int = MAX_KEYS,
    ) -> Listed:
        """One page of ListObjectsV2 (:func:`listing.page`); NoSuchBucket first."""
        bucket_dir = self.bucket_dir(bucket)
        return listing.page(self.meta, bucket, bucket_dir, prefix, delimiter, floor, max_keys)

    # ------------------------------------------------------------------ multipart
    def create_upload(
        self, bucket: str, key: str, content_type: str | None, metadata: dict[str, str]
    ) -> str:
        """A new upload of ``key`` (a bucket and key the store can keep) and its id."""
        self._path(bucket, key)
        return self.multipart.create(bucket, key, content_type, metadata)

    def complete_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        """The parts joined and put as ``key``, with what the upload was created with."""
        done = self.multipart.assemble(bucket, key, upload_id, parts)
        info = self.put(
            bucket,
            key,
            done.file,
            content_type=done.content_type,
            metadata=done.metadata,
            etag=done.etag,
        )
        shutil.rmtree(done.place, ignore_errors=True)
        return info
