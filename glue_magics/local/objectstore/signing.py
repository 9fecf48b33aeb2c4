"""Whom the object store answers: S3 requests signed (SigV4, service ``s3``) by the
endpoint's credentials, in S3's own words when they are not.

As for the Glue calls (:mod:`glue_magics.local.auth`), the signature is recomputed with
botocore's signer over what arrived; S3's differ in three ways (AWS docs, "Authenticating
Requests (AWS Signature Version 4)" for S3): the path is signed as sent, not normalised
(botocore's ``S3SigV4Auth``); the payload's hash is the one the client states in
``x-amz-content-sha256`` (a hex SHA-256, checked against the body as it is read,
``UNSIGNED-PAYLOAD``, or a ``STREAMING-...`` aws-chunked body whose chunks are signed in
turn, "Signature Calculations for the Authorization Header: Transferring Payload in
Multiple Chunks"); and a presigned URL carries the signature in its query.  Refusals are
S3's codes ("Error responses", List of error codes): AccessDenied, InvalidAccessKeyId,
SignatureDoesNotMatch, RequestTimeTooSkewed, AuthorizationHeaderMalformed,
XAmzContentSHA256Mismatch.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
from collections.abc import Sequence
from email.message import Message
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from glue_magics.local.auth import Identity, parse_authorization
from glue_magics.local.exceptions import ServiceError
from glue_magics.local.objectstore.errors import S3Error

SERVICE = "s3"
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
MAX_SKEW = datetime.timedelta(minutes=15)
#: The longest a presigned URL may live (AWS: seven days).
MAX_EXPIRES = 7 * 24 * 3600
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your key and signing method."
)


class Signed(NamedTuple):
    """What a verified request's body must be checked against: ``payload`` is a hex
    SHA-256, UNSIGNED-PAYLOAD or a STREAMING-... value; ``seed`` the request's signature
    (a signed aws-chunked body's first chunk signs after it), ``key`` the signing key,
    ``stamp`` and ``scope`` its date and credential scope."""

    payload: str
    seed: str = ""
    key: bytes = b""
    stamp: str = ""
    scope: str = ""


def denied(message: str = "Access Denied") -> S3Error:
    return S3Error("AccessDenied", message, 403)


def mismatch() -> S3Error:
    return S3Error("SignatureDoesNotMatch", _MISMATCH, 403)


def malformed(message: str) -> S3Error:
    return S3Error("AuthorizationHeaderMalformed", message, 400)


def verify(
    identities: Sequence[Identity],
    method: str,
    path: str,
    headers: Message,
    now: datetime.datetime | None = None,
) -> Signed:
    """Refuse, with S3's error, a request not signed by one of ``identities`` (the
    endpoint's credentials, the sessions' own pair), by its Authorization header or its
    presigned query; return what its body must match."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    if "X-Amz-Credential" in query or "X-Amz-Signature" in query:
        return _verify_query(identities, method, path, headers, query, now)
    if "AWSAccessKeyId" in query:
        raise denied(
            "Signature Version 2 presigned URLs are not accepted here; presign with SigV4 "
            "(boto3: Config(signature_version='s3v4'))"
        )
    value = headers.get("Authorization")
    if not value:
        raise denied(
            "Access Denied: the request is not signed; sign it (SigV4) with the "
            "local endpoint's credentials, as boto3 and the AWS CLI do"
        )
    try:
        auth = parse_authorization(value)
    except ServiceError as exc:
        raise malformed(f"The authorization header is malformed; {exc.message}") from None
    if auth.service != SERVICE or auth.terminator != "aws4_request":
        raise malformed(
            f"The authorization header is malformed; the scope names service "
            f"'{auth.service[:20]}', expecting '{SERVICE}'."
        )
    stamp = (headers.get("X-Amz-Date") or "").strip()
    when = _parse_stamp(stamp)
    if when is None or auth.date != stamp[:8]:
        raise malformed(
            "The authorization header is malformed; X-Amz-Date must be YYYYMMDDTHHMMSSZ "
            "and its date that of the credential scope."
        )
    expected = _credentials(identities, auth.access_key, headers.get("X-Amz-Security-Token"))
    if abs(now - when) > MAX_SKEW:
        raise S3Error(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
        )
    payload = (headers.get("X-Amz-Content-SHA256") or "").strip()
    if not payload:
        raise S3Error(
            "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
        )
    signer = _signer(False)(expected, auth.region, _signed_headers(headers, auth.signed_headers))
    request = _request(method, path, {"X-Amz-Content-SHA256": payload})
    request.context["timestamp"] = stamp
    signature = _signature(signer, request)
    if not _same(auth.signature, signature):
        raise mismatch()
    scope = f"{auth.date}/{auth.region}/{SERVICE}/aws4_request"
    key = _signing_key(expected.secret_key, auth.date, auth.region)
    return Signed(payload, signature, key, stamp, scope)


def _verify_query(
    identities: Sequence[Identity],
    method: str,
    path: str,
    headers: Message,
    query: dict[str, str],
    now: datetime.datetime,
) -> Signed:
    """A presigned URL (botocore's ``generate_presigned_url``, ``aws s3 presign``)."""
    needed = (
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    )
    absent = [name for name in needed if not query.get(name)]
    if absent or query["X-Amz-Algorithm"] != ALGORITHM:
        raise denied(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters."
        )
    scope = query["X-Amz-Credential"].rsplit("/", 4)
    if len(scope) != 5 or scope[3] != SERVICE:
        raise malformed(
            "The credential scope of the presigned URL is not ACCESS/DATE/REGION/s3/aws4_request."
        )
    access_key, date, region = scope[0], scope[1], scope[2]
    stamp = query["X-Amz-Date"]
    when = _parse_stamp(stamp)
    if when is None or date != stamp[:8]:
        raise malformed("X-Amz-Date must be YYYYMMDDTHHMMSSZ and its date that of the scope.")
    expected = _credentials(identities, access_key, query.get("X-Amz-Security-Token"))
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 0 < expires <= MAX_EXPIRES:
        raise denied("X-Amz-Expires must be a number of seconds from 1 to 604800")
    if now > when + datetime.timedelta(seconds=expires) or when - now > MAX_SKEW:
        raise denied("Request has expired")
    signed = tuple(query["X-Amz-SignedHeaders"].split(";"))
    parts = urlsplit(path)
    kept = "&".join(
        item for item in parts.query.split("&") if not item.startswith("X-Amz-Signature=")
    )
    signer = _signer(True)(expected, region, _signed_headers(headers, signed))
    request = _request(method, parts.path + ("?" + kept if kept else ""), {})
    request.context["timestamp"] = stamp
    if not _same(query["X-Amz-Signature"], _signature(signer, request)):
        raise mismatch()
    return Signed(UNSIGNED)


def _credentials(identities: Sequence[Identity], access_key: str, token: str | None) -> Any:
    """The credentials of the identity whose key signed, or S3's refusal."""
    for identity in identities:
        expected = identity.frozen()
        if not _same(access_key, expected.access_key):
            continue
        if (token is not None or expected.token) and not _same(token or "", expected.token or ""):
            raise S3Error("InvalidToken", "The provided token is malformed or otherwise invalid.")
        return expected
    raise S3Error(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records: the local "
        "endpoint accepts only the credentials it was started with.",
        403,
    )


def _parse_stamp(stamp: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc
        )
    except ValueError:
        return None


def _signed_headers(headers: Message, names: tuple[str, ...]) -> Any:
    from botocore.compat import HTTPHeaders

    signed = HTTPHeaders()
    for name in names:
        for value in headers.get_all(name) or []:
            signed[name] = value
    return signed


def _request(method: str, path: str, headers: dict[str, str]) -> Any:
    from botocore.awsrequest import AWSRequest

    return AWSRequest(method=method, url="http://localhost" + path, headers=headers)


def _signature(signer: Any, request: Any) -> str:
    try:
        canonical = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical), request)
    except (ValueError, UnicodeError):
        return ""


@functools.cache
def _signer(presigned: bool) -> type:
    """botocore's S3 signer (the path as sent) over the headers the client signed."""
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth

    base = S3SigV4QueryAuth if presigned else S3SigV4Auth

    class Received(base):  # type: ignore[misc, valid-type]
        def __init__(self, credentials: Any, region: str, signed: Any) -> None:
            if presigned:
                super().__init__(credentials, SERVICE, region, expires=3600)
            else:
                super().__init__(credentials, SERVICE, region)
            self._signed = signed

        def headers_to_sign(self, request: Any) -> Any:
            return self._signed

        def canonical_query_string(self, request: Any) -> str:
            return self._canonical_query_string_url(urlsplit(request.url))

        def payload(self, request: Any) -> str:
            return UNSIGNED

    return Received


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def chunk_signature(signed: Signed, previous: str, chunk_sha256: str) -> str:
    """The signature of one aws-chunked chunk, chained from the previous one."""
    text = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            signed.stamp,
            signed.scope,
            previous,
            EMPTY_SHA256,
            chunk_sha256,
        ]
    )
    return hmac.new(signed.key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
