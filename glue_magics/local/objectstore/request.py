"""An S3 request as it arrives, parsed: its path, query and headers, its body read (to a
temporary file of the store or, small, to bytes) and checked as it was signed (SHA-256,
aws-chunked signatures, flexible checksums, Content-MD5), and what its query, headers and
XML bodies ask for."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

from glue_magics.local.objectstore import signing
from glue_magics.local.objectstore.errors import S3Error, malformed
from glue_magics.local.objectstore.listing import MAX_KEYS
from glue_magics.local.objectstore.meta import ObjectInfo
from glue_magics.local.objectstore.replies import quoted
from glue_magics.local.objectstore.store import ObjectStore

#: The largest single PutObject or part S3 takes (5 GiB).
MAX_PUT_BYTES = 5 * 2**30
#: Headers kept with an object and given back by GetObject/HeadObject.
KEPT_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
#: The most of an unread request body read and dropped so the connection can be kept
#: (closing a socket with bytes unread resets it, and the client may lose the answer).
DRAIN_BYTES = 64 * 2**20


class Body:
    """The request body as it arrives: at most Content-Length bytes, and what is left of
    it drained after the answer is decided."""

    def __init__(self, stream: IO[bytes], headers: Message) -> None:
        self.stream = stream
        text = (headers.get("Content-Length") or "0").strip()
        self.chunked = bool(headers.get("Transfer-Encoding"))
        self.length = int(text) if text.isascii() and text.isdigit() else -1
        self.left = max(self.length, 0)

    def read(self, size: int) -> bytes:
        data = self.stream.read(min(size, self.left)) if self.left > 0 else b""
        self.left -= len(data)
        return data

    def drain(self) -> bool:
        """Read and drop what is left; False when it cannot be (too much, or unknown)."""
        if self.chunked or self.length < 0 or self.left > DRAIN_BYTES:
            return False
        while self.left > 0:
            if not self.read(1 << 20):
                return False
        return True


class Request:
    """One S3 request as received: method, bucket, key, query and headers, and its body
    read through :meth:`body_file`."""

    def __init__(
        self,
        method: str,
        path: str,
        headers: Message,
        stream: Body,
        signed: signing.Signed,
    ) -> None:
        self.method = method
        parts = urlsplit(path)
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw = unquote(parts.path, errors="surrogatepass")
        bucket, _, key = raw.lstrip("/").partition("/")
        self.bucket = bucket
        self.key = key
        self.headers = headers
        self.stream = stream
        self.signed = signed
        self.resource = raw
        self._read = False
        #: The body's checksums the client sent and the body matched ({"crc32": base64}).
        self.checksums: dict[str, str] = {}

    def header(self, name: str, default: str | None = None) -> str | None:
        value = self.headers.get(name)
        return default if value is None else value

    def metadata(self) -> dict[str, str]:
        return {
            name[len("x-amz-meta-") :].lower(): value
            for name, value in self.headers.items()
            if name.lower().startswith("x-amz-meta-")
        }

    def kept_headers(self) -> dict[str, str]:
        return {name: self.headers[name] for name in KEPT_HEADERS if self.headers.get(name)}

    def body_bytes(self, limit: int = 2**20) -> bytes:
        """A small XML body (DeleteObjects, CompleteMultipartUpload, CreateBucket)."""
        length = self._length()
        if length > limit:
            raise S3Error("MaxMessageLengthExceeded", "Your request was too big.")
        data = self._decoded(length)
        return b"".join(data)

    def xml(self) -> ElementTree.Element:
        """A small XML body (DeleteObjects, CompleteMultipartUpload), parsed."""
        return parse_xml(self.body_bytes())

    def body_file(self, store: ObjectStore) -> Path:
        """The body, as a temporary file of the store, checked against its signature
        and Content-MD5."""
        length = self._length()
        if length > MAX_PUT_BYTES + 2**20:
            raise S3Error(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400
            )
        temp = store.temp_file()
        md5 = hashlib.md5(usedforsecurity=False)
        sums = _Checksums()
        try:
            with open(temp, "wb") as out:
                for block in self._decoded(length):
                    md5.update(block)
                    sums.update(block)
                    out.write(block)
            self.checksums = sums.check(self.headers)
            given = self.header("Content-MD5")
            if given is not None:
                try:
                    wanted = base64.b64decode(given, validate=True)
                except binascii.Error:
                    wanted = b""
                if len(wanted) != 16:
                    raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
                if wanted != md5.digest():
                    raise S3Error(
                        "BadDigest",
                        "The Content-MD5 you specified did not match what we received.",
                    )
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp

    def _length(self) -> int:
        if self.headers.get("Transfer-Encoding"):
            raise S3Error(
                "MissingContentLength",
                "You must provide the Content-Length HTTP header (chunked transfer "
                "encoding is not accepted here).",
                411,
            )
        text = (self.headers.get("Content-Length") or "0").strip()
        if not (text.isascii() and text.isdigit()):
            raise S3Error("InvalidArgument", f"Content-Length {text[:30]!r} is not a number")
        return int(text)

    def _raw(self, length: int) -> Iterator[bytes]:
        left = length
        while left > 0:
            block = self.stream.read(min(left, 1 << 20))
            if not block:
                raise S3Error(
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the "
                    "Content-Length HTTP header",
                )
            left -= len(block)
            yield block

    def _decoded(self, length: int) -> Iterator[bytes]:
        """The payload, checked as it was signed: its SHA-256, nothing (UNSIGNED), or
        aws-chunked with signed chunks or a checksum trailer."""
        if self._read:
            raise RuntimeError("the body was read already")
        self._read = True
        payload = self.signed.payload
        if payload in signing.STREAMING:
            yield from _AwsChunked(self, length).blocks()
            return
        if payload == signing.UNSIGNED:
            yield from self._raw(length)
            return
        digest = hashlib.sha256()
        for block in self._raw(length):
            digest.update(block)
            yield block
        if digest.hexdigest() != payload.lower():
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )


class _Checksums:
    """The flexible checksums S3 verifies (x-amz-checksum-crc32, -sha1, -sha256; crc32c and
    crc64nvme are not in Python's standard library, so they are neither checked nor kept)."""

    def __init__(self) -> None:
        self.crc32 = 0
        self.sha1 = hashlib.sha1(usedforsecurity=False)
        self.sha256 = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self.crc32 = zlib.crc32(data, self.crc32)
        self.sha1.update(data)
        self.sha256.update(data)

    def value(self, algorithm: str) -> str | None:
        if algorithm == "crc32":
            return base64.b64encode(self.crc32.to_bytes(4, "big")).decode()
        if algorithm in ("sha1", "sha256"):
            return base64.b64encode(getattr(self, algorithm).digest()).decode()
        return None

    def check(self, fields: Any) -> dict[str, str]:
        """The checksums named in ``fields`` (headers or trailers) that the body matches;
        BadDigest for one it does not."""
        kept = {}
        for name, given in fields.items():
            name = name.lower()
            if not name.startswith("x-amz-checksum-") or name == "x-amz-checksum-type":
                continue
            algorithm = name[len("x-amz-checksum-") :]
            computed = self.value(algorithm)
            if computed is None:
                continue
            if computed != given.strip():
                raise S3Error(
                    "BadDigest",
                    f"The {algorithm.upper()} you specified did not match the calculated checksum.",
                )
            kept[algorithm] = computed
        return kept


class _AwsChunked:
    """An ``aws-chunked`` body: ``size;chunk-signature=SIG\\r\\nDATA\\r\\n``... then a
    zero-size chunk and, for ``...-TRAILER``, trailer lines (a checksum) (AWS docs,
    "Signature calculations for the Authorization header: Transferring payload in
    multiple chunks" and "...including trailing headers")."""

    def __init__(self, request: Request, length: int) -> None:
        self.request = request
        self.left = length
        self.buffer = b""
        self.raw = request._raw(length)
        self.signed = request.signed
        self.previous = request.signed.seed

    def _fill(self, size: int) -> None:
        while len(self.buffer) < size:
            block = next(self.raw, b"")
            if not block:
                raise S3Error("IncompleteBody", "The aws-chunked body ended inside a chunk.")
            self.buffer += block

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > 4096:
                raise S3Error("InvalidChunkSizeError", "An aws-chunked chunk header is too long.")
            self._fill(len(self.buffer) + 1)
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _take(self, size: int) -> bytes:
        self._fill(size)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def blocks(self) -> Iterator[bytes]:
        decoded = 0
        sums = _Checksums()
        signed = self.signed.payload in (signing.STREAMING_SIGNED, signing.STREAMING_SIGNED_TRAILER)
        while True:
            header = self._line().decode("ascii", "replace")
            size_text, _, extension = header.partition(";")
            try:
                size = int(size_text.strip(), 16)
            except ValueError:
                raise S3Error(
                    "InvalidChunkSizeError", "An aws-chunked chunk size is not hex."
                ) from None
            data = self._take(size)
            if signed:
                given = extension.partition("chunk-signature=")[2].strip()
                wanted = signing.chunk_signature(
                    self.signed, self.previous, hashlib.sha256(data).hexdigest()
                )
                if not given or not signing._same(given, wanted):
                    raise signing.mismatch()
                self.previous = wanted
            if size == 0:
                break
            if self._take(2) != b"\r\n":
                raise S3Error("IncompleteBody", "An aws-chunked chunk does not end in CRLF.")
            decoded += size
            sums.update(data)
            yield data
        trailers = {}
        while True:  # trailers, then an empty line (or the end of the body)
            try:
                line = self._line()
            except S3Error:
                break
            if not line:
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            trailers[name.strip()] = value.strip()
        sums.check(trailers)
        wanted_length = self.request.header("X-Amz-Decoded-Content-Length")
        if wanted_length is not None and wanted_length.strip() != str(decoded):
            raise S3Error(
                "IncompleteBody",
                "The decoded body's length is not x-amz-decoded-content-length.",
            )


def parse_xml(body: bytes) -> ElementTree.Element:
    """An XML body; MalformedXML when it is not XML."""
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise malformed() from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _find_text(element: ElementTree.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def deleted_keys(root: ElementTree.Element) -> tuple[bool, list[str]]:
    """DeleteObjects' ``<Delete>``: whether it is Quiet, and its objects' keys (1 to 1000)."""
    quiet = (_find_text(root, "Quiet") or "").lower() == "true"
    objects = [o for o in root if _local(o.tag) == "Object"]
    if not objects or len(objects) > 1000:
        raise malformed()
    return quiet, [_find_text(item, "Key") or "" for item in objects]


def upload_parts(root: ElementTree.Element) -> list[tuple[int, str]]:
    """CompleteMultipartUpload's parts: (PartNumber, ETag without its quotes)."""
    parts = []
    for part in root:
        if _local(part.tag) != "Part":
            continue
        try:
            number = int(_find_text(part, "PartNumber") or "")
        except ValueError:
            raise malformed() from None
        parts.append((number, (_find_text(part, "ETag") or "").strip('"')))
    return parts


@dataclass
class ListQuery:
    """ListObjects' (v1) or ListObjectsV2's query, read."""

    v2: bool
    prefix: str
    delimiter: str
    encode: str | None
    max_keys: int
    token: str | None
    start: str
    floor: bytes | None  # the keys listed are after it


def list_query(q: dict[str, str]) -> ListQuery:
    """The listing a query asks for; InvalidArgument for a value S3 refuses."""
    v2 = q.get("list-type") == "2"
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    encode = q.get("encoding-type")
    if encode not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request")
    try:
        max_keys = int(q.get("max-keys", MAX_KEYS))
    except ValueError:
        max_keys = -1
    if max_keys < 0:
        raise S3Error("InvalidArgument", "Provided max-keys not an integer or within integer range")
    max_keys = min(max_keys, MAX_KEYS)
    token = q.get("continuation-token") if v2 else None
    start = q.get("start-after", "") if v2 else q.get("marker", "")
    floor: bytes | None = start.encode("utf-8") if start else None
    if token is not None:
        try:
            floor = base64.urlsafe_b64decode(token.encode("ascii") + b"==")
        except (binascii.Error, ValueError):
            raise S3Error(
                "InvalidArgument", "The continuation token provided is incorrect"
            ) from None
    return ListQuery(v2, prefix, delimiter, encode, max_keys, token, start, floor)


def byte_range(wanted: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a Range header asks of an object of ``size`` bytes; None
    for the whole (no Range, or not one of ``bytes=``); InvalidRange past its end."""
    if not wanted:
        return None
    match = _RANGE.fullmatch(wanted.strip())
    if not (match and (match[1] or match[2])):
        return None
    first, last = match[1], match[2]
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:
        start = max(0, size - int(last))
        end = size - 1
    if start >= size or (last and first and int(last) < start):
        raise S3Error(
            "InvalidRange",
            "The requested range is not satisfiable",
            416,
            RangeRequested=wanted,
            ActualObjectSize=str(size),
        )
    return start, end


def check_conditions(r: Request, info: ObjectInfo) -> None:
    """If-Match and If-None-Match against the object's ETag."""
    match = r.header("If-Match")
    if match is not None and match.strip() not in ("*", quoted(info.etag), info.etag):
        raise S3Error(
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
            412,
            Condition="If-Match",
        )
    none_match = r.header("If-None-Match")
    if none_match is not None and none_match.strip() in ("*", quoted(info.etag), info.etag):
        raise S3Error("NotModified", "Not Modified", 304)


def copy_source(r: Request) -> tuple[str, str]:
    """CopyObject's source bucket and key (``x-amz-copy-source``)."""
    source = unquote(r.header("x-amz-copy-source") or "", errors="surrogatepass")
    source = source.partition("?")[0].lstrip("/")
    source_bucket, _, source_key = source.partition("/")
    if not source_bucket or not source_key:
        raise S3Error(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    return source_bucket, source_key
