"""S3's replies: :class:`Response` (status, headers, bytes or a slice of a file) and the
XML documents of S3's REST API (``<Root xmlns=S3>``, errors' ``<Error>``), rendered from
what the operations found."""

from __future__ import annotations

import base64
import datetime
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from glue_magics.local.objectstore.errors import S3Error
from glue_magics.local.objectstore.listing import Listed
from glue_magics.local.objectstore.meta import ObjectInfo

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
OWNER_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"


@dataclass
class Response:
    """What the server sends: status, headers, and bytes or a slice of a file."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: Path | None = None
    start: int = 0
    length: int = 0
    keep_alive: bool = True  # False: the request's body was not all read; close after

    def chunks(self) -> Iterator[bytes]:
        if self.file is None:
            yield self.body
            return
        with open(self.file, "rb") as stream:
            stream.seek(self.start)
            left = self.length
            while left > 0:
                block = stream.read(min(left, 1 << 20))
                if not block:
                    break
                left -= len(block)
                yield block


def document(root: str, children: list[tuple[str, Any]]) -> bytes:
    """``<root xmlns=S3>`` with children (name, text | list of children | None to skip)."""
    element = ElementTree.Element(root, xmlns=XMLNS)
    _fill(element, children)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(element)


def _fill(parent: ElementTree.Element, children: list[tuple[str, Any]]) -> None:
    for name, value in children:
        if value is None:
            continue
        child = ElementTree.SubElement(parent, name)
        if isinstance(value, list):
            _fill(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        else:
            child.text = str(value)


def error_response(exc: S3Error, resource: str, head: bool = False) -> Response:
    """S3's error: ``<Error><Code>...`` (no body for HEAD, as S3)."""
    children = [("Code", exc.code), ("Message", exc.message)]
    children += list(exc.extra.items())
    children += [("Resource", resource), ("RequestId", uuid.uuid4().hex[:16].upper())]
    element = ElementTree.Element("Error")
    _fill(element, children)
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(element)
    headers = {"Content-Type": "application/xml"}
    return Response(exc.status, headers, b"" if head or exc.status == 304 else body)


def iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def http_date(when: datetime.datetime) -> str:
    return format_datetime(when, usegmt=True)


def quoted(value: str) -> str:
    return f'"{value}"'


def object_entry(info: ObjectInfo, text: Callable[[str], str], owner: bool) -> list:
    """One object of a listing (``<Contents>``'s children)."""
    entry: list[tuple[str, Any]] = [
        ("Key", text(info.key)),
        ("LastModified", iso(info.last_modified)),
        ("ETag", quoted(info.etag)),
    ]
    for name in info.headers:
        if name.startswith("x-amz-checksum-"):
            entry.append(("ChecksumAlgorithm", name[len("x-amz-checksum-") :].upper()))
            entry.append(("ChecksumType", "FULL_OBJECT"))
            break
    entry.append(("Size", info.size))
    if owner:
        entry.append(("Owner", [("ID", OWNER_ID)]))
    entry.append(("StorageClass", "STANDARD"))
    return entry


def list_result(bucket: str, query: Any, listed: Listed) -> bytes:
    """``<ListBucketResult>`` of one page, as ListObjects (v1) or ListObjectsV2 words it
    (``query``: :class:`request.ListQuery`)."""
    encode, start, delimiter, v2 = query.encode, query.start, query.delimiter, query.v2

    def text(value: str) -> str:
        return quote(value, safe="/") if encode == "url" else value

    contents = [("Contents", object_entry(info, text, owner=not v2)) for info in listed.contents]
    prefixes = [("CommonPrefixes", [("Prefix", text(p))]) for p in listed.prefixes]
    children: list[tuple[str, Any]] = [("Name", bucket), ("Prefix", text(query.prefix))]
    if v2:
        if query.token is not None:
            children.append(("ContinuationToken", query.token))
        if start:
            children.append(("StartAfter", text(start)))
        children.append(("KeyCount", len(listed.contents) + len(listed.prefixes)))
    else:
        children.append(("Marker", text(start)))
    children.append(("MaxKeys", query.max_keys))
    if delimiter:
        children.append(("Delimiter", text(delimiter)))
    if encode:
        children.append(("EncodingType", encode))
    children.append(("IsTruncated", listed.truncated))
    if listed.truncated and listed.floor is not None:
        if v2:
            next_token = base64.urlsafe_b64encode(listed.floor).decode().rstrip("=")
            children.append(("NextContinuationToken", next_token))
        elif delimiter:
            last = listed.floor.rstrip(b"\xff").decode("utf-8")
            children.append(("NextMarker", text(last)))
    return document("ListBucketResult", children + contents + prefixes)
