"""S3's REST API over the object store, path-style: ``/BUCKET/KEY?subresource``.

Served: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, ListObjectsV2 (and v1's
ListObjects), GetObject (Range), HeadObject, PutObject, DeleteObject, DeleteObjects,
CopyObject, and multipart uploads (Create, UploadPart, Complete, Abort), which boto3's
``upload_file`` and ``aws s3 cp`` use for large files.  Anything else is S3's
NotImplemented.  Wire shapes are botocore's S3 model's (``service-2.json``: the
operations' HTTP method and URI, the members' ``location``: header, query, XML body) and
S3's documented XML; moto's S3 server answers the same calls in the tests, side by side.

A request body is read to a temporary file of the store as it arrives, its SHA-256 (or
aws-chunked signatures) checked against what was signed before it becomes an object.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.etree import ElementTree

from glue_magics.local.auth import Identity
from glue_magics.local.objectstore import signing
from glue_magics.local.objectstore.keys import BadName, check_bucket, key_parts
from glue_magics.local.objectstore.store import (
    MAX_KEYS,
    ObjectInfo,
    ObjectStore,
    S3Error,
    no_bucket,
)

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
#: The largest single PutObject or part S3 takes (5 GiB).
MAX_PUT_BYTES = 5 * 2**30
#: Headers kept with an object and given back by GetObject/HeadObject.
KEPT_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_OWNER = {"ID": "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"}


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


def _xml(root: str, children: list[tuple[str, Any]]) -> bytes:
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


def _iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _http_date(when: datetime.datetime) -> str:
    return format_datetime(when, usegmt=True)


def _etag(value: str) -> str:
    return f'"{value}"'


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


class S3Api:
    """Answers S3 requests from the store, for those signed by one of ``identities``."""

    def __init__(self, store: ObjectStore, identities: tuple[Identity, ...]) -> None:
        self.store = store
        self.identities = identities

    def handle(self, method: str, path: str, headers: Message, stream: IO[bytes]) -> Response:
        """One request, answered; S3's errors as their XML.  A failure here that is not
        S3's is raised, for the server to answer as a 500 and log."""
        resource = unquote(urlsplit(path).path, errors="replace")
        head = method == "HEAD"
        body = Body(stream, headers)
        try:
            signed = signing.verify(self.identities, method, path, headers)
            request = Request(method, path, headers, body, signed)
            response = self._route(request)
        except S3Error as exc:
            response = error_response(exc, resource, head)
        except BadName as exc:
            response = error_response(S3Error(exc.code, exc.message), resource, head)
        response.keep_alive = body.drain()
        response.headers.setdefault("x-amz-request-id", uuid.uuid4().hex[:16].upper())
        return response

    # ------------------------------------------------------------------ routing
    def _route(self, r: Request) -> Response:
        q, m = r.query, r.method
        if not r.bucket:
            if m == "GET":
                return self.list_buckets(r)
            raise _not_implemented(m, "/")
        if not r.key:
            if m == "GET" and "uploads" not in q and not _subresource(q):
                return self.list_objects(r)
            if m == "GET" and "location" in q:
                self.store.bucket_dir(r.bucket)
                return Response(body=_xml("LocationConstraint", []))
            if m == "PUT" and not _subresource(q):
                return self.create_bucket(r)
            if m == "HEAD":
                self.store.bucket_dir(r.bucket)
                return Response(headers={"x-amz-bucket-region": "us-east-1"})
            if m == "DELETE" and not _subresource(q):
                self.store.delete_bucket(r.bucket)
                return Response(204)
            if m == "POST" and "delete" in q:
                return self.delete_objects(r)
            raise _not_implemented(m, "a bucket's " + (",".join(sorted(q)) or "root"))
        if m == "POST" and "uploads" in q:
            return self.create_upload(r)
        if m == "POST" and "uploadId" in q:
            return self.complete_upload(r)
        if m == "PUT" and "uploadId" in q and "partNumber" in q:
            return self.upload_part(r)
        if m == "DELETE" and "uploadId" in q:
            self.store.abort_upload(r.bucket, r.key, q["uploadId"])
            return Response(204)
        if _subresource(q):
            raise _not_implemented(m, "an object's " + ",".join(sorted(_subresource(q))))
        if m == "PUT" and r.header("x-amz-copy-source"):
            return self.copy_object(r)
        if m == "PUT":
            return self.put_object(r)
        if m in ("GET", "HEAD"):
            return self.get_object(r, head=m == "HEAD")
        if m == "DELETE":
            self.store.bucket_dir(r.bucket)
            self.store.delete(r.bucket, r.key)
            return Response(204)
        raise _not_implemented(m, "an object")

    # ------------------------------------------------------------------ buckets
    def list_buckets(self, r: Request) -> Response:
        buckets = [
            ("Bucket", [("Name", name), ("CreationDate", _iso(made))])
            for name, made in self.store.buckets()
        ]
        owner = [("ID", _OWNER["ID"])]
        body = _xml("ListAllMyBucketsResult", [("Owner", owner), ("Buckets", buckets)])
        return Response(body=body)

    def create_bucket(self, r: Request) -> Response:
        body = r.body_bytes()
        if body.strip():
            try:
                ElementTree.fromstring(body)
            except ElementTree.ParseError:
                raise S3Error(
                    "MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our "
                    "published schema",
                ) from None
        try:
            self.store.create_bucket(r.bucket)
        except S3Error as exc:
            # AWS's CreateBucket reference: "In the North Virginia Region (us-east-1), Amazon
            # S3 returns 200 OK" to the owner creating its bucket again; 409 elsewhere.
            region = r.signed.scope.split("/")[1] if r.signed.scope else "us-east-1"
            if exc.code != "BucketAlreadyOwnedByYou" or region != "us-east-1":
                raise
        return Response(headers={"Location": "/" + r.bucket})

    def list_objects(self, r: Request) -> Response:
        q = r.query
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
            raise S3Error(
                "InvalidArgument", "Provided max-keys not an integer or within integer range"
            )
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
        listed = self.store.list(r.bucket, prefix, delimiter, floor, max_keys)

        def text(value: str) -> str:
            return quote(value, safe="/") if encode == "url" else value

        contents = [("Contents", self._entry(info, text, owner=not v2)) for info in listed.contents]
        prefixes = [("CommonPrefixes", [("Prefix", text(p))]) for p in listed.prefixes]
        children: list[tuple[str, Any]] = [("Name", r.bucket), ("Prefix", text(prefix))]
        if v2:
            if token is not None:
                children.append(("ContinuationToken", token))
            if start:
                children.append(("StartAfter", text(start)))
            children.append(("KeyCount", len(listed.contents) + len(listed.prefixes)))
        else:
            children.append(("Marker", text(start)))
        children.append(("MaxKeys", max_keys))
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
        return Response(body=_xml("ListBucketResult", children + contents + prefixes))

    @staticmethod
    def _entry(info: ObjectInfo, text: Any, owner: bool) -> list[tuple[str, Any]]:
        entry: list[tuple[str, Any]] = [
            ("Key", text(info.key)),
            ("LastModified", _iso(info.last_modified)),
            ("ETag", _etag(info.etag)),
        ]
        for name in info.headers:
            if name.startswith("x-amz-checksum-"):
                entry.append(("ChecksumAlgorithm", name[len("x-amz-checksum-") :].upper()))
                entry.append(("ChecksumType", "FULL_OBJECT"))
                break
        entry.append(("Size", info.size))
        if owner:
            entry.append(("Owner", [("ID", _OWNER["ID"])]))
        entry.append(("StorageClass", "STANDARD"))
        return entry

    def delete_objects(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        try:
            root = ElementTree.fromstring(r.body_bytes())
        except ElementTree.ParseError:
            raise _malformed() from None
        quiet = (_find_text(root, "Quiet") or "").lower() == "true"
        objects = [o for o in root if _local(o.tag) == "Object"]
        if not objects or len(objects) > 1000:
            raise _malformed()
        results: list[tuple[str, Any]] = []
        for item in objects:
            key = _find_text(item, "Key") or ""
            try:
                self.store.delete(r.bucket, key)
                if not quiet:
                    results.append(("Deleted", [("Key", key)]))
            except (S3Error, BadName) as exc:
                results.append(
                    ("Error", [("Key", key), ("Code", exc.code), ("Message", exc.message)])
                )
        return Response(body=_xml("DeleteResult", results))

    # ------------------------------------------------------------------ objects
    def put_object(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        key_parts(r.key)  # refuse a key the store cannot keep before reading its body
        temp = r.body_file(self.store)
        checksums = {f"x-amz-checksum-{k}": v for k, v in r.checksums.items()}
        info = self.store.put(
            r.bucket,
            r.key,
            temp,
            content_type=r.header("Content-Type"),
            metadata=r.metadata(),
            headers={**r.kept_headers(), **checksums},
        )
        headers = {"ETag": _etag(info.etag), **checksums}
        if checksums:
            headers["x-amz-checksum-type"] = "FULL_OBJECT"
        return Response(headers=headers)

    def get_object(self, r: Request, head: bool) -> Response:
        info = self.store.head(r.bucket, r.key)
        headers = {
            "Content-Type": info.content_type,
            "ETag": _etag(info.etag),
            "Last-Modified": _http_date(info.last_modified),
            "Accept-Ranges": "bytes",
        }
        # a full object's checksum, asked for, and never with a range (it is the whole's)
        wants_checksum = (r.header("x-amz-checksum-mode") or "").upper() == "ENABLED"
        wants_checksum = wants_checksum and not r.header("Range")
        for name, value in info.headers.items():
            if wants_checksum or not name.startswith("x-amz-checksum-"):
                headers[name] = value
        for name, value in info.metadata.items():
            headers[f"x-amz-meta-{name}"] = value
        self._check_conditions(r, info)
        start, length, status = 0, info.size, 200
        wanted = r.header("Range")
        if wanted:
            match = _RANGE.fullmatch(wanted.strip())
            if match and (match[1] or match[2]):
                first, last = match[1], match[2]
                if first:
                    start = int(first)
                    end = min(int(last), info.size - 1) if last else info.size - 1
                else:
                    start = max(0, info.size - int(last))
                    end = info.size - 1
                if start >= info.size or (last and first and int(last) < start):
                    raise S3Error(
                        "InvalidRange",
                        "The requested range is not satisfiable",
                        416,
                        RangeRequested=wanted,
                        ActualObjectSize=str(info.size),
                    )
                length = end - start + 1
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        headers["Content-Length"] = str(length)
        if head or info.key.endswith("/"):
            return Response(status, headers)
        return Response(status, headers, file=info.path, start=start, length=length)

    @staticmethod
    def _check_conditions(r: Request, info: ObjectInfo) -> None:
        match = r.header("If-Match")
        if match is not None and match.strip() not in ("*", _etag(info.etag), info.etag):
            raise S3Error(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                412,
                Condition="If-Match",
            )
        none_match = r.header("If-None-Match")
        if none_match is not None and none_match.strip() in ("*", _etag(info.etag), info.etag):
            raise S3Error("NotModified", "Not Modified", 304)

    def copy_object(self, r: Request) -> Response:
        source = unquote(r.header("x-amz-copy-source") or "", errors="surrogatepass")
        source = source.partition("?")[0].lstrip("/")
        source_bucket, _, source_key = source.partition("/")
        if not source_bucket or not source_key:
            raise S3Error(
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            )
        if not self._bucket_exists(source_bucket):
            raise no_bucket(source_bucket)
        r.body_bytes()  # a copy has no body; read what was sent
        directive = (r.header("x-amz-metadata-directive") or "COPY").upper()
        replace = None
        if directive == "REPLACE":
            replace = {
                "content_type": r.header("Content-Type"),
                "metadata": r.metadata(),
                "headers": r.kept_headers(),
            }
        elif directive != "COPY":
            raise S3Error("InvalidArgument", "Unknown metadata directive.")
        info = self.store.copy(r.bucket, r.key, source_bucket, source_key, replace=replace)
        result: list[tuple[str, Any]] = [
            ("LastModified", _iso(info.last_modified)),
            ("ETag", _etag(info.etag)),
        ]
        for name, value in info.headers.items():
            if name.startswith("x-amz-checksum-"):
                result.append(("Checksum" + name[len("x-amz-checksum-") :].upper(), value))
        body = _xml("CopyObjectResult", result)
        return Response(body=body)

    def _bucket_exists(self, bucket: str) -> bool:
        try:
            self.store.bucket_dir(bucket)
        except S3Error:
            return False
        return True

    # ------------------------------------------------------------------ multipart
    def create_upload(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        r.body_bytes()
        upload_id = self.store.create_upload(
            r.bucket, r.key, r.header("Content-Type"), r.metadata()
        )
        body = _xml(
            "InitiateMultipartUploadResult",
            [("Bucket", r.bucket), ("Key", r.key), ("UploadId", upload_id)],
        )
        return Response(body=body)

    def upload_part(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        try:
            number = int(r.query["partNumber"])
        except ValueError:
            number = 0
        self.store._upload(r.bucket, r.key, r.query["uploadId"])
        temp = r.body_file(self.store)
        etag = self.store.upload_part(r.bucket, r.key, r.query["uploadId"], number, temp)
        return Response(headers={"ETag": _etag(etag)})

    def complete_upload(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        try:
            root = ElementTree.fromstring(r.body_bytes())
        except ElementTree.ParseError:
            raise _malformed() from None
        parts = []
        for part in root:
            if _local(part.tag) != "Part":
                continue
            try:
                number = int(_find_text(part, "PartNumber") or "")
            except ValueError:
                raise _malformed() from None
            parts.append((number, (_find_text(part, "ETag") or "").strip('"')))
        info = self.store.complete_upload(r.bucket, r.key, r.query["uploadId"], parts)
        body = _xml(
            "CompleteMultipartUploadResult",
            [
                ("Location", f"/{r.bucket}/{quote(r.key)}"),
                ("Bucket", r.bucket),
                ("Key", r.key),
                ("ETag", _etag(info.etag)),
            ],
        )
        return Response(body=body)


#: Query names that are an operation (a subresource) rather than a parameter.
_PARAMETERS = {
    "list-type",
    "prefix",
    "delimiter",
    "max-keys",
    "continuation-token",
    "start-after",
    "encoding-type",
    "fetch-owner",
    "marker",
    "versionId",
    "partNumber",
    "uploadId",
    "response-content-type",
    "response-content-disposition",
    "response-cache-control",
    "response-content-encoding",
    "response-content-language",
    "response-expires",
    "x-id",
}


def _subresource(query: dict[str, str]) -> set[str]:
    return {name for name in query if name not in _PARAMETERS and not name.startswith("X-Amz-")}


def _not_implemented(method: str, what: str) -> S3Error:
    return S3Error(
        "NotImplemented",
        f"A header or query you provided implies functionality that is not implemented: "
        f"{method} on {what} is not served by the local object store",
        501,
    )


def _malformed() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _find_text(element: ElementTree.Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return None


__all__ = ["Request", "Response", "S3Api", "check_bucket"]
