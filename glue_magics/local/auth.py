"""Whom the local endpoint answers: its owner, signing with its credentials, on this machine.

The endpoint runs any Python it is sent, as its own user, so every request must pass:

- ``screen``: the ``Host`` is a loopback name with the endpoint's port (a web page whose
  name an attacker points at 127.0.0.1 reaches the port, but its requests carry its own
  Host: DNS rebinding), and there is no ``Origin`` (browsers add it to every POST a page
  sends; SDKs never do);
- ``verify``: an AWS Signature Version 4 by the credentials the endpoint was started with.

The signature is recomputed with botocore's own signer (``SigV4Auth``'s canonical request,
string to sign and signature) over the received method, path, the headers the client named
in ``SignedHeaders``, the body and ``X-Amz-Date``, as moto does (``moto/iam/
access_control.py``, ``IAMRequestBase._calculate_signature``), and compared in constant time.

Refusals are the errors AWS's JSON services answer, all HTTP 400: the "Error handling with
DynamoDB" guide lists ``MissingAuthenticationTokenException``,
``IncompleteSignatureException`` and ``UnrecognizedClientException`` (botocore's CloudWatch
Logs model names the last too); Glue answers an unknown key with ``UnrecognizedClientException``
"The security token included in the request is invalid." at 400 (databricks/
iceberg-rest-image#101); a bad or stale signature is ``InvalidSignatureException`` ("Signature
expired: ... (... - 15 min.)", aws/aws-sdk-js#254).  The 15 minutes are AWS's ("Common
Errors", RequestExpired).  Host and Origin refusals are ours: ``ForbiddenException``, 403.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hmac
import re
import secrets
import string
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from glue_magics.local.exceptions import ServiceError
from glue_magics.local.settings import EndpointSettings
from glue_magics.service import is_loopback

ALGORITHM = "AWS4-HMAC-SHA256"
#: The signing name in a request's credential scope (botocore's Glue model, signingName).
SERVICE = "glue"
#: How far a request's date may be from the endpoint's clock, either way.
MAX_SKEW = datetime.timedelta(minutes=15)
#: SigV4's timestamp (X-Amz-Date): ISO 8601 basic format, UTC.
STAMP = "%Y%m%dT%H%M%SZ"
_STAMP = re.compile(r"\d{8}T\d{6}Z")
#: A Host header: a name or address (IPv6 in brackets) and an optional port, nothing else
#: (no user info, path or spaces that a URL parser would read past).
_HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
#: Where a generated key id starts, so it is recognisably this endpoint's.
GENERATED_PREFIX = "GLUELOCAL"
GENERATED = "generated"

_FIX = (
    "sign it with AWS Signature Version 4 (service glue) and the credentials the local "
    "endpoint was started with, as boto3 does"
)
_WRONG_KEY = (
    "The security token included in the request is invalid. This local endpoint accepts only "
    "the credentials it was started with: those `glue-magics local-endpoint` printed, or its "
    "environment's."
)
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)


def missing(message: str) -> ServiceError:
    return ServiceError("MissingAuthenticationTokenException", message)


def incomplete(message: str) -> ServiceError:
    return ServiceError("IncompleteSignatureException", message)


def unrecognized() -> ServiceError:
    return ServiceError("UnrecognizedClientException", _WRONG_KEY)


def invalid(message: str = _BAD_SIGNATURE) -> ServiceError:
    return ServiceError("InvalidSignatureException", message)


def forbidden(message: str) -> ServiceError:
    return ServiceError("ForbiddenException", message, 403)


# ------------------------------------------------------------------ the Authorization header
class Authorization(NamedTuple):
    """The parts of a SigV4 ``Authorization`` header."""

    access_key: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization:
    """``AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/glue/aws4_request,
    SignedHeaders=host;x-amz-date, Signature=<hex>`` as its parts.

    Raises IncompleteSignatureException, in the service's words, for anything else."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise incomplete(
            f"Unsupported AWS 'algorithm': '{_said(algorithm)}'; sign with {ALGORITHM} "
            "(Signature Version 4)"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field = part.strip().partition("=")
        if sep and name in ("Credential", "SignedHeaders", "Signature"):
            fields.setdefault(name, field.strip())
    absent = [n for n in ("Credential", "SignedHeaders", "Signature") if not fields.get(n)]
    if absent:
        said = " ".join(f"Authorization header requires '{n}' parameter." for n in absent)
        raise incomplete(f"{said} {_FIX}")
    scope = fields["Credential"].rsplit("/", 4)
    if len(scope) != 5 or not all(scope):
        raise incomplete(
            f"Credential '{_said(fields['Credential'], 120)}' is not "
            "ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request"
        )
    signed = tuple(fields["SignedHeaders"].split(";"))
    if not all(signed):
        raise incomplete(
            f"SignedHeaders '{_said(fields['SignedHeaders'], 120)}' names an empty header"
        )
    return Authorization(*scope, signed, fields["Signature"])


# ------------------------------------------------------------------ the endpoint's credentials
class Identity(NamedTuple):
    """The credentials the endpoint checks signatures against, and where they came from.

    ``credentials`` is botocore's, never one it refreshes (see ``resolve``); ``source``
    names its provider ("env", "shared-credentials-file", ...) or "generated"; ``reason``
    why a pair was generated when none was asked for."""

    credentials: Any
    source: str
    reason: str = ""

    @property
    def generated(self) -> bool:
        return self.source == GENERATED

    def frozen(self) -> Any:
        """botocore's ``ReadOnlyCredentials`` (access_key, secret_key, token) as of now."""
        return self.credentials.get_frozen_credentials()


def generate() -> Any:
    """A fresh key pair for this run, shaped like AWS's (a 20-character id, 40-character
    secret), its id starting with GLUELOCAL."""
    from botocore.credentials import Credentials

    alphabet = string.ascii_uppercase + string.digits
    key_id = GENERATED_PREFIX + "".join(secrets.choice(alphabet) for _ in range(11))
    secret = secrets.token_urlsafe(30)
    return Credentials(key_id, secret, method=GENERATED)


def resolve(settings: EndpointSettings) -> Identity:
    """The credentials the endpoint answers to: a generated pair when asked, else those
    botocore's chain finds (``settings.profile``, or the environment and default profile).

    With no ``profile``, a pair is generated when the chain finds none, or finds temporary
    credentials that each process refreshes on its own (SSO, assume-role, instance roles):
    a client's would not be the endpoint's.  Raises ValueError, one line, for a profile
    that cannot be used."""
    if settings.generate_credentials:
        return Identity(generate(), GENERATED)
    import botocore.session
    from botocore.credentials import RefreshableCredentials
    from botocore.exceptions import BotoCoreError

    named = f"profile {settings.profile!r}" if settings.profile else "the environment"
    instead = (
        "leave out --profile so the endpoint generates a pair"
        if settings.profile
        else "pass --generate-credentials for a pair of the endpoint's own"
    )
    try:
        found = botocore.session.Session(profile=settings.profile).get_credentials()
        if isinstance(found, RefreshableCredentials):  # not fetched: they are of no use here
            why = (
                f"the credentials of {named} are temporary ones ({found.method}) that each "
                "process refreshes on its own, so a client's would not be the endpoint's"
            )
            if settings.profile:
                raise ValueError(f"{why}; {instead}")
            return Identity(generate(), GENERATED, why)
        frozen = found.get_frozen_credentials() if found is not None else None
    except BotoCoreError as exc:
        said = " ".join(str(exc).split())
        raise ValueError(
            f"the credentials of {named} cannot be loaded ({said}); {instead}"
        ) from None
    if frozen is None or not (frozen.access_key and frozen.secret_key):
        if settings.profile:
            raise ValueError(
                f"{named} has no credentials; give it aws_access_key_id and "
                f"aws_secret_access_key, or {instead}"
            )
        return Identity(generate(), GENERATED, "no AWS credentials were found here")
    return Identity(found, found.method or "environment")


# ------------------------------------------------------------------ the checks
@dataclasses.dataclass
class Guard:
    """The checks every request passes before it reaches an operation.

    ``check_host``: whether the endpoint listens on loopback only, so that any other Host
    is a page's (with ``--allow-remote`` clients name the machine as they reach it, and the
    signature alone decides)."""

    identity: Identity
    check_host: bool = True

    def screen(self, headers: Message, port: int) -> None:
        """Refuse a request from a browser (an ``Origin``) or addressed to a name that is not
        this machine's loopback with the endpoint's port (DNS rebinding)."""
        origin = headers.get("Origin")
        if origin is not None:
            raise forbidden(
                f"requests from a web page (Origin {origin[:200]!r}) are refused: the local "
                "Glue endpoint runs code as its user and answers SDK clients such as boto3 only"
            )
        if self.check_host:
            check_host(headers.get_all("Host") or [], port)

    def verify(
        self,
        method: str,
        path: str,
        headers: Message,
        body: bytes,
        now: datetime.datetime | None = None,
    ) -> None:
        """Refuse, with the service's error, a request not signed by the endpoint's
        credentials over this very method, path, signed headers, body and date."""
        value = headers.get("Authorization")
        if not value:
            raise missing(f"Request is missing Authentication Token; {_FIX}")
        auth = parse_authorization(value)
        stamp, when = _timestamp(headers)
        if auth.service != SERVICE:
            raise invalid(f"Credential should be scoped to correct service: '{SERVICE}'.")
        if auth.terminator != "aws4_request":
            raise invalid(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{_said(auth.terminator)}'."
            )
        if auth.date != stamp[:8]:
            raise invalid(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{_said(auth.date)}' != '{stamp[:8]}', from '{stamp}'."
            )
        if "host" not in auth.signed_headers:
            raise incomplete(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        expected = self.identity.frozen()
        if not _same(auth.access_key, expected.access_key):
            raise unrecognized()
        token = headers.get("X-Amz-Security-Token")
        if (token is not None or expected.token) and not _same(token or "", expected.token or ""):
            raise unrecognized()
        _check_skew(stamp, when, now or datetime.datetime.now(datetime.timezone.utc))
        if not _same(
            auth.signature, _signature(expected, auth, method, path, headers, body, stamp)
        ):
            raise invalid()


def check_host(values: list[str], port: int) -> None:
    """Refuse unless there is one Host and it is a loopback name (127.0.0.0/8, ::1,
    localhost) with ``port`` (80 when it names none)."""
    if len(values) != 1:
        raise forbidden(
            f"a request must carry one Host header, not {len(values)}; address the local "
            f"endpoint as http://127.0.0.1:{port}"
        )
    value = values[0].strip()
    match = _HOST.fullmatch(value)
    named = int(match["port"]) if match and match["port"] else 80
    if not (match and is_loopback(match["name"].strip("[]")) and named == port):
        raise forbidden(
            f"Host {value[:200]!r} is not this machine's loopback with port {port}: the local "
            "endpoint answers only requests addressed to it as 127.0.0.1, localhost or [::1] "
            f"(a page on another name reaching it is DNS rebinding); use http://127.0.0.1:{port}"
        )


def _timestamp(headers: Message) -> tuple[str, datetime.datetime]:
    """The request's signing time: X-Amz-Date, else Date, as SigV4's stamp and a datetime."""
    stamp = headers.get("X-Amz-Date")
    if stamp is not None:
        stamp = stamp.strip()
        try:
            if not _STAMP.fullmatch(stamp):
                raise ValueError(stamp)
            digits = (stamp[0:4], stamp[4:6], stamp[6:8], stamp[9:11], stamp[11:13], stamp[13:15])
            when = datetime.datetime(*map(int, digits))  # strptime's fixed format, faster
        except ValueError:
            raise incomplete(
                f"Date must be in ISO-8601 'basic format'. Got '{_said(stamp)}'. "
                "See http://en.wikipedia.org/wiki/ISO_8601"
            ) from None
        return stamp, when.replace(tzinfo=datetime.timezone.utc)
    date = headers.get("Date")
    if date is not None:
        try:
            when = parsedate_to_datetime(date).astimezone(datetime.timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise incomplete(f"Date header {date[:60]!r} is not an HTTP date") from None
        return when.strftime(STAMP), when
    raise incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def _check_skew(stamp: str, when: datetime.datetime, now: datetime.datetime) -> None:
    earliest, latest = now - MAX_SKEW, now + MAX_SKEW
    if when < earliest:
        raise invalid(
            f"Signature expired: {stamp} is now earlier than {earliest.strftime(STAMP)} "
            f"({now.strftime(STAMP)} - 15 min.)"
        )
    if when > latest:
        raise invalid(
            f"Signature not yet current: {stamp} is still later than {latest.strftime(STAMP)} "
            f"({now.strftime(STAMP)} + 15 min.)"
        )


def _signature(
    credentials: Any,
    auth: Authorization,
    method: str,
    path: str,
    headers: Message,
    body: bytes,
    stamp: str,
) -> str:
    """The signature botocore computes for this request as received, with these credentials."""
    from botocore.awsrequest import AWSRequest
    from botocore.compat import HTTPHeaders

    signed = HTTPHeaders()
    for name in auth.signed_headers:
        for value in headers.get_all(name) or []:
            signed[name] = value  # a repeated header stays repeated, as the client signed it
    signer = _signer()(credentials, auth.region, signed)
    try:
        # The body's own hash, never a claimed X-Amz-Content-SHA256: the request is built
        # without the received headers, so botocore hashes what arrived.
        request = AWSRequest(method=method, url="http://localhost" + path, data=body)
        request.context["timestamp"] = stamp
        canonical = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical), request)
    except (ValueError, UnicodeError):
        return ""


@functools.cache
def _signer() -> type:
    """botocore's SigV4 signer, over the headers the client signed rather than those it
    would sign itself (it leaves out a few, such as User-Agent).  Made at first use, so
    importing this module does not import botocore."""
    from botocore.auth import SigV4Auth

    class Received(SigV4Auth):
        def __init__(self, credentials: Any, region: str, signed: Any) -> None:
            super().__init__(credentials, SERVICE, region)
            self._signed = signed

        def headers_to_sign(self, request: Any) -> Any:
            return self._signed

    return Received


def _said(value: str, limit: int = 40) -> str:
    """Part of what a client sent, quoted in a message: cut short, on one line, printable."""
    return value[:limit].encode("unicode_escape").decode("ascii")


def _same(given: str, expected: str) -> bool:
    """Equal, in time that does not depend on where they differ."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
