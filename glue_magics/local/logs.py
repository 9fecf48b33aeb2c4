"""A session's system log at an expiring link, as GetSystemLogsForSession hands it out.

The service answers with a presigned S3 URL, valid for one hour (AWS's docs, "Debugging
fine-grained access control (FGAC) jobs and sessions"), that anyone holding it may
download without signing.  Here the link is to this endpoint's own HTTP server:
``GET /system-logs/<session>?X-Amz-Date=...&X-Amz-Expires=3600&X-Amz-Signature=...``, the
signature an HMAC-SHA256 of the path and times under a key made when the endpoint starts,
so a link cannot be guessed, altered or reused for another session.  Refusals are S3's:
an XML ``<Error>`` with 403 ``SignatureDoesNotMatch`` for a link not made here, 403
``AccessDenied`` "Request has expired" once past its time, 404 ``NoSuchKey`` for a
session deleted since.  The log is the file the session's worker writes
(:mod:`glue_magics.local.workers`).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import html
import secrets
import time
import uuid
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from glue_magics.local.backend import Backend
from glue_magics.local.exceptions import EntityNotFound

#: The path under which links are served; the session id follows, quoted.
PREFIX = "/system-logs/"
#: How long a link works: the service's presigned URL is valid for one hour.
LINK_SECONDS = 3600
_DATE = "%Y%m%dT%H%M%SZ"  # X-Amz-Date, as in S3's presigned URLs


class Reply(NamedTuple):
    """What the HTTP server sends for a link: status, content type and body."""

    status: int
    content_type: str
    body: bytes


class LogLinks:
    """Makes the links of GetSystemLogsForSession and answers their GETs."""

    def __init__(self, backend: Backend, base_url: Callable[[], str]) -> None:
        self.backend = backend
        self.base_url = base_url  # the endpoint's URL, known once it listens
        self._key = secrets.token_bytes(32)

    def url(self, session_id: str, now: float | None = None) -> str:
        """A link to the session's log, valid :data:`LINK_SECONDS` from ``now``; the
        service's EntityNotFoundException for a session that does not exist."""
        self.backend.log_path(session_id)  # raises SessionNotFound
        path = PREFIX + quote(session_id, safe="")
        date = time.strftime(_DATE, time.gmtime(time.time() if now is None else now))
        expires = str(LINK_SECONDS)
        query = {"X-Amz-Date": date, "X-Amz-Expires": expires}
        query["X-Amz-Signature"] = self._sign(path, date, expires)
        return f"{self.base_url()}{path}?{urlencode(query)}"

    def _sign(self, path: str, date: str, expires: str) -> str:
        message = f"{path}\n{date}\n{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def answer(self, target: str, now: float | None = None) -> Reply | None:
        """The reply to ``GET target``; None when ``target`` is not a log link."""
        parts = urlsplit(target)
        if not parts.path.startswith(PREFIX):
            return None
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
        signature = query.get("X-Amz-Signature", "")
        try:
            signed = calendar.timegm(time.strptime(date, _DATE))
            lasts = int(expires) if expires.isascii() and expires.isdigit() else -1
        except ValueError:
            signed, lasts = 0, -1
        if lasts < 0 or not signature:
            return _error(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Date, X-Amz-Expires and X-Amz-Signature must all be given",
            )
        expected = self._sign(parts.path, date, expires)
        if not (signature.isascii() and hmac.compare_digest(signature, expected)):
            return _error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if (time.time() if now is None else now) > signed + lasts:
            return _error(403, "AccessDenied", "Request has expired")
        session_id = unquote(parts.path[len(PREFIX) :])
        try:
            path = self.backend.log_path(session_id)
        except EntityNotFound:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        try:
            with open(path or "", "rb") as log:
                body = log.read()
        except OSError:  # not started yet, or deleted with its session a moment ago
            body = b""
        return Reply(200, "text/plain; charset=utf-8", body)


def _error(status: int, code: str, message: str) -> Reply:
    """S3's error document: ``<Error><Code>...</Code><Message>...</Message>...``."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{html.escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return Reply(status, "application/xml", body.encode())
