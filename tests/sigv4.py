"""Raw HTTP requests to the local endpoint, signed (or not) the way botocore signs them.

The tests of the wire protocol and of the endpoint's refusals send bytes of their own
choosing, so they sign here with botocore's ``SigV4Auth`` (its canonical request, string
to sign and signature), at a time of their choosing, and then may tamper with the result.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

CONTENT_TYPE = "application/x-amz-json-1.1"
STAMP = "%Y%m%dT%H%M%SZ"


def environment_credentials() -> ReadOnlyCredentials:
    """The suite's credentials (conftest sets them): what its endpoints answer to."""
    return ReadOnlyCredentials(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_SESSION_TOKEN"),
    )


def sign(
    host: str,
    target: str | None,
    body: bytes,
    credentials: Any = None,
    *,
    when: datetime.datetime | None = None,
    service: str = "glue",
    region: str = "us-east-1",
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers of a POST / to ``host`` signed as botocore signs it, at ``when`` (now)."""
    credentials = credentials or environment_credentials()
    when = when or datetime.datetime.now(datetime.timezone.utc)
    fields = {"Host": host, "Content-Type": CONTENT_TYPE, **(headers or {})}
    if target is not None:
        fields["X-Amz-Target"] = target
    fields["X-Amz-Date"] = when.strftime(STAMP)
    if credentials.token:
        fields["X-Amz-Security-Token"] = credentials.token
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers=fields)
    request.context["timestamp"] = fields["X-Amz-Date"]
    signer = SigV4Auth(credentials, service, region)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    fields["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={signed}, "
        f"Signature={signature}"
    )
    return fields


def host_of(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


def send(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    """POST / with exactly these headers (Host included); the status and JSON answer."""
    connection = http.client.HTTPConnection(host_of(url), timeout=30)
    try:
        connection.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        assert response.getheader("Content-Type") == CONTENT_TYPE
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def post(url: str, target: str | None, body: bytes, credentials: Any = None) -> tuple[int, dict]:
    """A signed POST, as a hand-written client (not botocore) would send it."""
    return send(url, sign(host_of(url), target, body, credentials), body)
