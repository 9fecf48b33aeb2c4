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
Here are the routing and the operations; the request's reading and parsing are in
:mod:`.request`, the replies' XML in :mod:`.replies`.
"""

from __future__ import annotations

import uuid
from email.message import Message
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

from glue_magics.local.auth import Identity
from glue_magics.local.objectstore import signing
from glue_magics.local.objectstore.errors import S3Error, no_bucket
from glue_magics.local.objectstore.keys import BadName, check_bucket, key_parts
from glue_magics.local.objectstore.replies import (
    OWNER_ID,
    Response,
    document,
    error_response,
    http_date,
    iso,
    list_result,
    quoted,
)
from glue_magics.local.objectstore.request import (
    Body,
    Request,
    byte_range,
    check_conditions,
    copy_source,
    deleted_keys,
    list_query,
    parse_xml,
    upload_parts,
)
from glue_magics.local.objectstore.store import ObjectStore


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
                return Response(body=document("LocationConstraint", []))
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
            self.store.multipart.abort(r.bucket, r.key, q["uploadId"])
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
            ("Bucket", [("Name", name), ("CreationDate", iso(made))])
            for name, made in self.store.buckets()
        ]
        owner = [("ID", OWNER_ID)]
        body = document("ListAllMyBucketsResult", [("Owner", owner), ("Buckets", buckets)])
        return Response(body=body)

    def create_bucket(self, r: Request) -> Response:
        body = r.body_bytes()
        if body.strip():
            parse_xml(body)
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
        query = list_query(r.query)
        listed = self.store.list(
            r.bucket, query.prefix, query.delimiter, query.floor, query.max_keys
        )
        return Response(body=list_result(r.bucket, query, listed))

    def delete_objects(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        quiet, keys = deleted_keys(r.xml())
        results: list[tuple[str, Any]] = []
        for key in keys:
            try:
                self.store.delete(r.bucket, key)
                if not quiet:
                    results.append(("Deleted", [("Key", key)]))
            except (S3Error, BadName) as exc:
                results.append(
                    ("Error", [("Key", key), ("Code", exc.code), ("Message", exc.message)])
                )
        return Response(body=document("DeleteResult", results))

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
        headers = {"ETag": quoted(info.etag), **checksums}
        if checksums:
            headers["x-amz-checksum-type"] = "FULL_OBJECT"
        return Response(headers=headers)

    def get_object(self, r: Request, head: bool) -> Response:
        info = self.store.head(r.bucket, r.key)
        headers = {
            "Content-Type": info.content_type,
            "ETag": quoted(info.etag),
            "Last-Modified": http_date(info.last_modified),
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
        check_conditions(r, info)
        start, length, status = 0, info.size, 200
        span = byte_range(r.header("Range"), info.size)
        if span:
            start, end = span
            length = end - start + 1
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        headers["Content-Length"] = str(length)
        if head or info.key.endswith("/"):
            return Response(status, headers)
        return Response(status, headers, file=info.path, start=start, length=length)

    def copy_object(self, r: Request) -> Response:
        source_bucket, source_key = copy_source(r)
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
            ("LastModified", iso(info.last_modified)),
            ("ETag", quoted(info.etag)),
        ]
        for name, value in info.headers.items():
            if name.startswith("x-amz-checksum-"):
                result.append(("Checksum" + name[len("x-amz-checksum-") :].upper(), value))
        body = document("CopyObjectResult", result)
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
        body = document(
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
        self.store.multipart.place(r.bucket, r.key, r.query["uploadId"])
        temp = r.body_file(self.store)
        etag = self.store.multipart.upload_part(r.bucket, r.key, r.query["uploadId"], number, temp)
        return Response(headers={"ETag": quoted(etag)})

    def complete_upload(self, r: Request) -> Response:
        self.store.bucket_dir(r.bucket)
        parts = upload_parts(r.xml())
        info = self.store.complete_upload(r.bucket, r.key, r.query["uploadId"], parts)
        body = document(
            "CompleteMultipartUploadResult",
            [
                ("Location", f"/{r.bucket}/{quote(r.key)}"),
                ("Bucket", r.bucket),
                ("Key", r.key),
                ("ETag", quoted(info.etag)),
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


__all__ = ["Request", "Response", "S3Api", "check_bucket", "error_response"]
