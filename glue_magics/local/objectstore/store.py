"""The object store: buckets are directories of ``ROOT``, objects their files.

What S3 keeps beside an object (its ETag, Content-Type, ``x-amz-meta-*``) is a small JSON
file under ``ROOT/.glue-magics/meta/BUCKET/`` named by the key's hash, valid while the
object's size and modification time are those it records; an object written by Spark
(through the Hadoop file system of this package) has none, and its ETag, the MD5 of its
bytes, is computed when first asked and recorded.  Nothing of ours is inside a bucket's
directory, so neither S3 listings nor Spark see it (a bucket name cannot start with ``.``).

Every write lands whole or not at all: bytes go to ``ROOT/.glue-magics/tmp`` and are moved
into place with one ``rename``.  Listing walks the directories in S3's order (keys by
their UTF-8 bytes: a directory sorts as its name followed by ``/``).  An empty directory,
or one whose marker key ``dir/`` was put, is listed as that marker, as S3A leaves them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import errno
import hashlib
import json
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glue_magics.local.objectstore.keys import (
    BadName,
    check_bucket,
    is_marker,
    key_parts,
    object_path,
    valid_bucket,
)

HIDDEN = ".glue-magics"
#: S3's Content-Type for an object put without one.
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
#: S3's default and largest page of ListObjectsV2.
MAX_KEYS = 1000
#: Past every key that starts with a given prefix: no UTF-8 byte is 0xff.
_PAST = b"\xff"


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


@dataclass
class Listed:
    """One page of a listing."""

    contents: list[ObjectInfo]
    prefixes: list[str]
    truncated: bool
    floor: bytes | None  # where the next page starts (after it)


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ObjectStore:
    """S3's operations over ``root``; safe to call from the endpoint's request threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.hidden = self.root / HIDDEN
        self._lock = threading.Lock()  # around directory creation and removal only

    # ------------------------------------------------------------------ places
    def _dir(self, name: str) -> Path:
        path = self.hidden / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def temp_file(self) -> Path:
        """A fresh path in the store's own temporary directory (same file system)."""
        return self._dir("tmp") / f"upload-{secrets.token_hex(12)}"

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

    def _meta_path(self, bucket: str, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.hidden / "meta" / bucket / digest[:2] / f"{digest}.json"

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
        shutil.rmtree(self.hidden / "meta" / bucket, ignore_errors=True)

    # ------------------------------------------------------------------ metadata
    def _read_meta(self, bucket: str, key: str) -> dict[str, Any] | None:
        try:
            with open(self._meta_path(bucket, key)) as stream:
                meta = json.load(stream)
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) and meta.get("key") == key else None

    def _write_meta(self, bucket: str, key: str, meta: dict[str, Any]) -> None:
        path = self._meta_path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.temp_file()
        temp.write_text(json.dumps(dict(meta, key=key)))
        os.replace(temp, path)

    def _drop_meta(self, bucket: str, key: str) -> None:
        with contextlib.suppress(OSError):
            self._meta_path(bucket, key).unlink()

    def _info(self, bucket: str, key: str, path: Path, stat: os.stat_result) -> ObjectInfo:
        """An object's description; its ETag computed (and kept) when none is recorded
        for these very bytes."""
        meta = self._read_meta(bucket, key) or {}
        if meta.get("size") != stat.st_size or meta.get("mtime_ns") != stat.st_mtime_ns:
            meta = {"etag": md5_file(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            with contextlib.suppress(OSError):
                self._write_meta(bucket, key, meta)
        return ObjectInfo(
            key=key,
            path=path,
            size=stat.st_size,
            mtime=stat.st_mtime,
            etag=meta["etag"],
            content_type=meta.get("content_type") or DEFAULT_CONTENT_TYPE,
            metadata=dict(meta.get("metadata") or {}),
            headers=dict(meta.get("headers") or {}),
        )

    def _marker_info(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        stat = path.stat()
        meta = self._read_meta(bucket, key) or {}
        return ObjectInfo(
            key,
            path,
            0,
            stat.st_mtime,
            hashlib.md5(b"").hexdigest(),
            content_type=meta.get("content_type") or DEFAULT_CONTENT_TYPE,
            metadata=dict(meta.get("metadata") or {}),
            headers=dict(meta.get("headers") or {}),
        )

    # ------------------------------------------------------------------ objects
    def head(self, bucket: str, key: str) -> ObjectInfo:
        """An object's description; NoSuchKey when there is none."""
        path = self._path(bucket, key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise no_key(key) from None
        if is_marker(key):
            if not self._is_marker(bucket, key, path):
                raise no_key(key)
            return self._marker_info(bucket, key, path)
        if not os.path.isfile(path):
            raise no_key(key)
        return self._info(bucket, key, path, stat)

    def _is_marker(self, bucket: str, key: str, path: Path) -> bool:
        """Whether the directory ``path`` shows as the marker ``key``: empty, or put."""
        if not path.is_dir():
            return False
        if self._read_meta(bucket, key) is not None:
            return True
        with os.scandir(path) as entries:
            return next(entries, None) is None

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
            self._write_meta(bucket, key, dict(meta, marker=True))
            return self._marker_info(bucket, key, path)
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
        self._write_meta(bucket, key, dict(meta, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
        return self._info(bucket, key, path, stat)

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
        self._drop_meta(bucket, key)
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
            if self._read_meta(bucket, marker) is not None:
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
        """One page of ListObjectsV2: keys after ``floor`` (bytes) that start with
        ``prefix``, those with ``delimiter`` after the prefix rolled into common prefixes."""
        bucket_dir = self.bucket_dir(bucket)
        contents: list[ObjectInfo] = []
        prefixes: list[str] = []
        state = {"floor": floor}
        last_floor: bytes | None = floor
        truncated = False
        for key, path, marker in self._walk(bucket, bucket_dir, "", prefix, state):
            if delimiter:
                at = key.find(delimiter, len(prefix))
                if at >= 0:
                    common = key[: at + len(delimiter)]
                    if len(contents) + len(prefixes) >= max_keys:
                        truncated = True
                        break
                    prefixes.append(common)
                    last_floor = common.encode("utf-8") + _PAST
                    state["floor"] = last_floor  # skip the rest of it
                    continue
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            try:
                if marker:
                    info = self._marker_info(bucket, key, path)
                else:
                    info = self._info(bucket, key, path, path.stat())
            except OSError:  # gone while listed
                continue
            contents.append(info)
            last_floor = key.encode("utf-8")
        return Listed(contents, prefixes, truncated, last_floor if truncated else None)

    def _walk(
        self, bucket: str, directory: Path, base: str, prefix: str, state: dict[str, Any]
    ) -> Iterator[tuple[str, Path, bool]]:
        """(key, path, is a marker) under ``directory`` (whose keys start with ``base``), in
        S3's order, starting after ``state["floor"]`` as it is when each entry is reached."""
        entries = []
        try:
            with os.scandir(directory) as scan:
                for entry in scan:
                    try:
                        name = entry.name.encode("utf-8")
                    except UnicodeEncodeError:  # not a name a key can have
                        continue
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if not is_dir and not entry.is_file():
                        continue
                    entries.append((name + b"/" if is_dir else name, entry.name, is_dir))
        except (FileNotFoundError, NotADirectoryError):
            return
        entries.sort()
        base_bytes = base.encode("utf-8")
        prefix_bytes = prefix.encode("utf-8")
        for sort_key, name, is_dir in entries:
            whole = base_bytes + sort_key
            floor = state["floor"]
            if is_dir:
                if not (whole.startswith(prefix_bytes) or prefix_bytes.startswith(whole)):
                    continue
                if floor is not None and whole < floor and not floor.startswith(whole):
                    continue  # every key in it is before the floor
                key = whole.decode("utf-8")
                path = directory / name
                if (
                    (floor is None or whole > floor)
                    and whole.startswith(prefix_bytes)
                    and self._is_marker(bucket, key, path)
                ):
                    yield key, path, True
                yield from self._walk(bucket, path, key, prefix, state)
            else:
                if not whole.startswith(prefix_bytes):
                    continue
                if floor is not None and whole <= floor:
                    continue
                try:
                    key_parts(whole.decode("utf-8"))
                except BadName:
                    continue
                yield whole.decode("utf-8"), directory / name, False

    # ------------------------------------------------------------------ multipart
    def create_upload(
        self, bucket: str, key: str, content_type: str | None, metadata: dict[str, str]
    ) -> str:
        self._path(bucket, key)
        upload_id = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        place = self._dir("uploads") / upload_id
        place.mkdir()
        (place / "upload.json").write_text(
            json.dumps(
                {
                    "bucket": bucket,
                    "key": key,
                    "content_type": content_type,
                    "metadata": metadata,
                }
            )
        )
        return upload_id

    def _upload(self, bucket: str, key: str, upload_id: str) -> Path:
        place = self.hidden / "uploads" / upload_id
        try:
            if "/" in upload_id or upload_id in ("", ".", ".."):
                raise FileNotFoundError
            upload = json.loads((place / "upload.json").read_text())
        except (OSError, ValueError):
            upload = None
        if not upload or upload.get("bucket") != bucket or upload.get("key") != key:
            raise S3Error(
                "NoSuchUpload",
                "The specified upload does not exist. The upload ID may be invalid, or the "
                "upload may have been aborted or completed.",
                404,
                UploadId=upload_id,
            )
        return place

    def upload_part(self, bucket: str, key: str, upload_id: str, number: int, source: Path) -> str:
        place = self._upload(bucket, key, upload_id)
        if not 1 <= number <= 10000:
            source.unlink(missing_ok=True)
            raise S3Error(
                "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"
            )
        etag = md5_file(source)
        os.replace(source, place / f"part-{number:05d}")
        (place / f"part-{number:05d}.etag").write_text(etag)
        return etag

    def complete_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        place = self._upload(bucket, key, upload_id)
        upload = json.loads((place / "upload.json").read_text())
        if not parts:
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
            )
        numbers = [n for n, _ in parts]
        if numbers != sorted(set(numbers)):
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
            )
        digest = hashlib.md5(usedforsecurity=False)
        temp = self.temp_file()
        with open(temp, "wb") as out:
            for number, etag in parts:
                part = place / f"part-{number:05d}"
                try:
                    recorded = (place / f"part-{number:05d}.etag").read_text()
                except OSError:
                    recorded = None
                if recorded is None or recorded != etag.strip('"'):
                    temp.unlink()
                    raise S3Error(
                        "InvalidPart",
                        "One or more of the specified parts could not be found. The part may "
                        "not have been uploaded, or the specified entity tag may not match the "
                        "part's entity tag.",
                    )
                digest.update(bytes.fromhex(recorded))
                with open(part, "rb") as stream:
                    shutil.copyfileobj(stream, out, 1 << 20)
        etag = f"{digest.hexdigest()}-{len(parts)}"
        info = self.put(
            bucket,
            key,
            temp,
            content_type=upload.get("content_type"),
            metadata=upload.get("metadata") or {},
            etag=etag,
        )
        shutil.rmtree(place, ignore_errors=True)
        return info

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        shutil.rmtree(self._upload(bucket, key, upload_id), ignore_errors=True)
