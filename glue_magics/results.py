"""Statement results the service hands over as ``s3://bucket/key`` instead of inline data.

Glue may answer a large rich result (``Output.Data.Result``) with the URI of an S3 object
rather than the content.  :func:`resolve_result` fetches such an object and returns the
``Output.Data`` as if the result had been inline (text for text MIME types, base64 for
binary ones, exactly what the display layer takes), so nothing above needs to know where
a result came from.  Every failure is a one-line :class:`~glue_magics.service.GlueError`.

Only the standard library is imported here at module import time; boto3 and the S3
client come at the first URI, never for inline results.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from typing import Any

from glue_magics.service import EXPIRED_CODES, GlueError, redact

SCHEME = "s3://"
#: The most a result may weigh before we refuse to pull it into the notebook.
DEFAULT_MAX_BYTES = 50 * 2**20

# Bucket names as S3 accepts them, legacy us-east-1 names (capitals, underscores, up to
# 255 characters) included; 3 characters at least.
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")
# Control characters are legal in S3 keys but never in a key the service writes; refusing
# them keeps a multi-line text result that merely starts with "s3://" from being fetched.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_KEY_BYTES = 1024

# Non-``text/*`` MIME types whose content is text; ``+json`` and ``+xml`` suffixes also are.
_TEXT_APPLICATION = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/xml",
        "application/x-latex",
        "application/x-tex",
        "application/x-sh",
        "application/sql",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/csv",
    }
)


def is_text_mime(mime: str | None) -> bool:
    """Whether a result of this MIME type travels as text (else as base64 of its bytes).

    The split Jupyter uses: ``text/*``, JSON, XML (SVG included) and script types are
    text; images, ``application/octet-stream``, PDF and the like are binary.
    """
    kind = (mime or "").split(";", 1)[0].strip().lower()
    return (
        kind.startswith("text/")
        or kind in _TEXT_APPLICATION
        or kind.endswith("+json")
        or kind.endswith("+xml")
    )


def parse_s3_uri(text: Any) -> tuple[str, str] | None:
    """``(bucket, key)`` when ``text`` is an ``s3://bucket/key`` URI, else None.

    The key is everything after the first slash, taken literally: S3 URIs are not
    percent-encoded, and ``?``, ``#``, spaces and further slashes are part of the key.
    """
    if not isinstance(text, str) or not text.startswith(SCHEME):
        return None
    bucket, slash, key = text[len(SCHEME) :].partition("/")
    if not slash or not key or not _BUCKET.fullmatch(bucket) or ".." in bucket:
        return None
    if _CONTROL.search(key) or len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        return None
    return bucket, key


def resolve_result(
    data: dict,
    s3_client_factory: Callable[[], Any],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """``Output.Data`` with an ``s3://`` ``Result`` replaced by the object's content.

    ``data`` comes back unchanged (the same object) unless its ``Result`` is an S3 URI;
    then a copy is returned whose ``Result`` is the text (UTF-8) for a text ``MimeType``
    and base64 for a binary one.  ``s3_client_factory`` is called only then, so inline
    results never import boto3.  Raises :class:`GlueError` (one line, naming the URI)
    when the object cannot be read or is larger than ``max_bytes``.
    """
    if not isinstance(data, dict):
        return data
    uri = data.get("Result")
    where = parse_s3_uri(uri)
    if where is None:
        return data
    bucket, key = where
    content, content_type = _fetch(s3_client_factory, uri, bucket, key, max_bytes)
    mime = data.get("MimeType") or content_type
    if mime:
        text = is_text_mime(mime)
    else:  # neither side says: text if it reads as UTF-8
        try:
            content.decode("utf-8")
            text = True
        except UnicodeDecodeError:
            text = False
    if text:
        result = content.decode("utf-8", "replace")
    else:
        result = base64.b64encode(content).decode("ascii")
    return {**data, "Result": result}


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def _too_large(uri: str, size: int, max_bytes: int) -> GlueError:
    return GlueError(
        f"statement result {uri} is {_size(size)}, above the {_size(max_bytes)} limit for "
        f"showing it in the notebook; download it with `aws s3 cp {uri} .`",
        code="ResultTooLarge",
    )


def _fetch(
    factory: Callable[[], Any], uri: str, bucket: str, key: str, max_bytes: int
) -> tuple[bytes, str | None]:
    """The object's bytes (at most ``max_bytes``) and its Content-Type."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = factory()
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        raise _client_error(exc, uri, bucket, key) from None
    except BotoCoreError as exc:
        raise _botocore_error(exc, uri) from None
    except ValueError as exc:  # botocore rejects a malformed endpoint URL with ValueError
        raise GlueError(
            f"cannot make an S3 client to read statement result {uri}: {exc}; "
            "check AWS_ENDPOINT_URL_S3",
            code="InvalidEndpoint",
        ) from None
    body = response["Body"]
    try:
        length = response.get("ContentLength")
        if isinstance(length, int) and length > max_bytes:
            raise _too_large(uri, length, max_bytes)
        content = body.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise _too_large(uri, length if isinstance(length, int) else len(content), max_bytes)
    except BotoCoreError as exc:
        raise _botocore_error(exc, uri) from None
    finally:
        body.close()
    content_type = response.get("ContentType")
    return content, content_type


def _client_error(exc: Any, uri: str, bucket: str, key: str) -> GlueError:
    error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(error.get("Code") or "Unknown")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    msg = " ".join(redact(error.get("Message") or "no message").split()).rstrip(".")[:300]
    if code in ("NoSuchKey", "404", "NotFound"):
        text = (
            f"statement result {uri} does not exist (NoSuchKey); it may have been deleted "
            "or expired by a lifecycle rule: run the statement again"
        )
    elif code == "NoSuchBucket":
        text = (
            f"statement result {uri}: bucket {bucket} does not exist (NoSuchBucket); check "
            "that the results bucket exists in this account, or run the statement again"
        )
    elif code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        text = (
            f"reading statement result {uri} was denied ({code}); grant s3:GetObject on "
            f"arn:aws:s3:::{bucket}/{key} (and kms:Decrypt if the bucket is encrypted with "
            "KMS) to your identity, or use another --profile"
        )
    elif code in EXPIRED_CODES:
        text = (
            f"reading statement result {uri}: the AWS credentials were rejected as expired "
            f"or invalid ({code}); run `aws sso login` or refresh your credentials"
        )
    elif code == "InvalidObjectState":
        text = (
            f"statement result {uri} is archived (InvalidObjectState); restore it with "
            "`aws s3api restore-object` or run the statement again"
        )
    else:
        where = f" (HTTP {status})" if status else ""
        text = f"reading statement result {uri} failed: {code}{where}: {msg}"
    return GlueError(text, code=code)


def _botocore_error(exc: Any, uri: str) -> GlueError:
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return GlueError(
            f"reading statement result {uri} needs AWS credentials and none were found; "
            "run `aws configure` or `aws sso login`, or pass --profile",
            code="NoCredentials",
        )
    if isinstance(exc, bx.ProfileNotFound):
        name = exc.kwargs.get("profile", "")
        return GlueError(
            f"AWS profile {name!r} was not found, so statement result {uri} cannot be read; "
            "check the name with `aws configure list-profiles`",
            code="ProfileNotFound",
        )
    if isinstance(exc, bx.NoRegionError):
        return GlueError(
            f"no AWS region is set to read statement result {uri}; set AWS_REGION or pass --region",
            code="NoRegion",
        )
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectionClosedError):
        url = exc.kwargs.get("endpoint_url", "")
        return GlueError(
            f"cannot reach S3 at {url} to read statement result {uri}; check the network "
            "and AWS_ENDPOINT_URL_S3, then run the cell again",
            code="EndpointUnreachable",
        )
    if isinstance(exc, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        url = exc.kwargs.get("endpoint_url", "")
        return GlueError(
            f"S3 at {url} did not answer in time while reading statement result {uri}; try again",
            code="EndpointUnreachable",
        )
    text = " ".join(str(exc).split())
    return GlueError(
        f"reading statement result {uri} failed: {type(exc).__name__}: {text}",
        code=type(exc).__name__,
    )


def s3_client_factory(
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    connect_timeout: float = 5,
    read_timeout: float = 60,
) -> Callable[[], Any]:
    """A factory for :func:`resolve_result`: the S3 client is made at its first call only.

    Same credential chain, profile and region as the Glue client (pass what was passed to
    ``service.make_client``); the S3 endpoint is ``endpoint_url`` or what botocore reads
    (``AWS_ENDPOINT_URL_S3``).  Retries are botocore's standard mode; TLS is verified.
    """
    made: list[Any] = []

    def factory() -> Any:
        if made:
            return made[0]
        import boto3
        from botocore.config import Config

        from glue_magics.service import LOCAL_CREDENTIALS, LOCAL_REGION, is_loopback

        session = boto3.Session(profile_name=profile, region_name=region)
        kwargs: dict[str, Any] = {
            "config": Config(
                retries={"mode": "standard"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            )
        }
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        target = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3")
        if not session.region_name:
            fallback = os.environ.get("AWS_REGION") or (
                LOCAL_REGION if is_loopback(target) else None
            )
            if fallback:
                kwargs["region_name"] = fallback
        if is_loopback(target) and session.get_credentials() is None:
            kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = LOCAL_CREDENTIALS
        made.append(session.client("s3", **kwargs))
        return made[0]

    return factory
