"""Multipart uploads: each upload a directory ``ROOT/.glue-magics/uploads/UPLOAD_ID`` of its
parts (with their ETags) and what CreateMultipartUpload was given, until it is completed
into one file (which the store then puts as the object) or aborted."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import NamedTuple

from glue_magics.local.objectstore.errors import S3Error, malformed
from glue_magics.local.objectstore.meta import hidden_dir, md5_file, temp_file


class Assembled(NamedTuple):
    """A completed upload's bytes (a temporary file of the store) and what it was given."""

    file: Path
    etag: str
    content_type: str | None
    metadata: dict[str, str]
    place: Path  # the upload's directory, to remove once the object is in place


class Multipart:
    """The uploads under ``hidden`` (the store's ``ROOT/.glue-magics``); they know nothing
    of objects: the store checks the key first and puts what :meth:`assemble` made."""

    def __init__(self, hidden: Path) -> None:
        self.hidden = hidden

    def create(
        self, bucket: str, key: str, content_type: str | None, metadata: dict[str, str]
    ) -> str:
        """A new upload of ``key`` and its id (random, URL-safe)."""
        upload_id = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        place = hidden_dir(self.hidden, "uploads") / upload_id
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

    def place(self, bucket: str, key: str, upload_id: str) -> Path:
        """The upload's directory; NoSuchUpload when there is no such upload of that key."""
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
        place = self.place(bucket, key, upload_id)
        if not 1 <= number <= 10000:
            source.unlink(missing_ok=True)
            raise S3Error(
                "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"
            )
        etag = md5_file(source)
        os.replace(source, place / f"part-{number:05d}")
        (place / f"part-{number:05d}.etag").write_text(etag)
        return etag

    def assemble(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> Assembled:
        """The parts named (by number and ETag, in ascending order) joined in one file, and
        the multipart ETag: the MD5 of their MD5s, a dash, their count."""
        place = self.place(bucket, key, upload_id)
        upload = json.loads((place / "upload.json").read_text())
        if not parts:
            raise malformed()
        numbers = [n for n, _ in parts]
        if numbers != sorted(set(numbers)):
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
            )
        digest = hashlib.md5(usedforsecurity=False)
        temp = temp_file(self.hidden)
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
        metadata = upload.get("metadata") or {}
        return Assembled(temp, etag, upload.get("content_type"), metadata, place)

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        shutil.rmtree(self.place(bucket, key, upload_id), ignore_errors=True)
