"""The service layer: one boto3 Glue client, botocore's retries, one-line errors.

Everything that talks to AWS goes through :func:`call`, so every failure a user can
cause (credentials, region, endpoint, bad input, quotas) reaches the magics as a
:class:`GlueError` whose ``str()`` is a single line: what happened, the value, and what
to do.  Retries are botocore's own (``standard`` or ``adaptive`` retry mode); there is
no retry loop here.  Only the standard library is imported at module import time.
"""

from __future__ import annotations

import ipaddress
import os
import re
import weakref
from typing import Any
from urllib.parse import urlsplit

#: Error codes the service answers with when credentials have expired.
EXPIRED_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "TokenRefreshRequired",
    }
)

#: Error codes of a request refused for its rate; nothing was done, asking later is safe.
THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
#: Error codes of a fault inside the service (HTTP 5xx as well): asking later may succeed.
SERVER_CODES = frozenset(
    {"InternalServiceException", "OperationTimeoutException", "ServiceUnavailable"}
)

#: Dummy credentials and region used only for loopback endpoints (the local endpoint).
LOCAL_CREDENTIALS = ("local", "local")
LOCAL_REGION = "us-east-1"

# Which profile a client was made with, so expired-credential messages can name it.
_client_profiles: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()
_client_endpoints: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


class GlueError(Exception):
    """A user's or the service's error, shown as one line with no traceback.

    ``code`` is the service error code (``"AccessDeniedException"``) or a short slug for
    client-side failures (``"NoCredentials"``), so callers can branch on it.
    """

    #: The session status this error is about (e.g. ``"FAILED"``), when there is one.
    status: str | None = None
    #: True when the error means the session is gone for good (the caller forgets it).
    session_ended: bool = False
    #: True when asking again later may well succeed (throttling, 5xx, a lost connection):
    #: botocore's retries ran out, but a wait on a live session keeps polling.
    transient: bool = False
    #: For connection failures: whether a connection was made (False: refused or timed out
    #: connecting, so the request never reached the service).
    connected: bool = True

    def __init__(
        self,
        message: str,
        code: str = "GlueError",
        *,
        status: str | None = None,
        session_ended: bool = False,
        transient: bool = False,
    ) -> None:
        super().__init__(_one_line(message))
        self.code = code
        self.status = status
        self.session_ended = session_ended
        self.transient = transient


# What a service message may echo of the request's credentials: SigV4 errors quote the
# canonical request, whose signed headers include the session token.
_ECHOED_REQUEST = re.compile(r"(?is)\s*the (canonical string|string-to-sign)\b.*")
_SECRET = re.compile(r"(?i)(x-amz-security-token\s*[:=]\s*)[^\s'\"&]+|(?:AKIA|ASIA)[A-Z0-9]{16}")


def redact(text: str) -> str:
    """A service message without the request it may quote, or any key id or token in it."""
    text = _ECHOED_REQUEST.sub("", str(text))
    return _SECRET.sub(lambda m: (m.group(1) or "") + "<redacted>", text)


def _one_line(text: str) -> str:
    """Collapse whitespace and newlines so a message is always exactly one line."""
    return re.sub(r"\s*\n\s*", "; ", str(text).strip()).replace("\r", " ")


def is_loopback(url: str | None) -> bool:
    """Whether ``url`` (or a bare host) points at this machine (127.0.0.0/8, ::1, localhost).

    Dummy credentials are only ever used for such endpoints, and the local endpoint only
    listens beyond them when asked, so this errs on "no": anything unparsable, or a name
    that merely starts with ``localhost.``, is not loopback.
    """
    if not url or not isinstance(url, str):
        return False
    try:  # a bare address, as given to bind: ``::1`` has no brackets to find it by
        return ipaddress.ip_address(url.strip()).is_loopback
    except ValueError:
        pass
    try:
        host = urlsplit(url.strip() if "//" in url else "//" + url.strip()).hostname
    except ValueError:
        return False
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _version() -> str:
    from glue_magics import __version__

    return __version__


def _configured_endpoint(botocore_session: Any, service_name: str = "glue") -> str | None:
    """The endpoint botocore will use when none is passed (AWS_ENDPOINT_URL_GLUE etc.)."""
    from botocore.configprovider import ConfiguredEndpointProvider

    ignore = botocore_session.get_config_variable("ignore_configured_endpoint_urls")
    if ignore:
        return None
    return ConfiguredEndpointProvider(
        full_config=botocore_session.full_config,
        scoped_config=botocore_session.get_scoped_config(),
        client_name=service_name,
    ).provide()


def make_client(
    service_name: str = "glue",
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    retry_mode: str = "standard",
    max_attempts: int | None = 5,
    connect_timeout: float = 5,
    read_timeout: float = 30,
    *,
    translate_errors: bool = True,
    credentials: Any = None,
) -> Any:
    """A boto3 client (Glue, or S3 for results) that retries the botocore way.

    The Glue client sees our sdk-extras fields.  Credentials and region come from the
    user's own chain (env, profiles, SSO, and ``AWS_REGION`` as the other SDKs read it),
    so whatever works for the AWS CLI works here.  Only for a loopback endpoint with no
    credentials or region configured do we fall back to dummy ones, so the local endpoint
    (and a local S3) needs no AWS setup.  TLS verification is always on.

    ``max_attempts=None`` leaves the count to botocore's config (``AWS_MAX_ATTEMPTS``).
    ``translate_errors=False`` lets botocore's own exceptions through, for a caller (the
    results reader) that words them with what it was reading.  ``credentials`` (access key,
    secret key, token) are used instead of the chain's: the embedded endpoint's own.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    from glue_magics.model import botocore_session

    if retry_mode not in ("standard", "adaptive", "legacy"):
        raise GlueError(
            f"retry mode {retry_mode!r} is unknown; use 'standard' or 'adaptive'",
            code="InvalidRetryMode",
        )
    if max_attempts is not None and max_attempts < 1:
        raise GlueError(
            f"max_attempts {max_attempts} is below the minimum of 1; use 1 or more",
            code="InvalidMaxAttempts",
        )
    retries: dict[str, Any] = {"mode": retry_mode}
    if max_attempts is not None:
        retries["total_max_attempts"] = int(max_attempts)  # incl. the first
    config = Config(
        retries=retries,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent_extra=f"glue-magics/{_version()}",
    )
    try:
        core = botocore_session()
        session = boto3.Session(botocore_session=core, profile_name=profile, region_name=region)
        effective_endpoint = endpoint_url or _configured_endpoint(core, service_name)
        local = is_loopback(effective_endpoint)
        kwargs: dict[str, Any] = {"config": config}
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        if not session.region_name:
            # botocore reads AWS_DEFAULT_REGION only; the other AWS SDKs also AWS_REGION
            fallback = os.environ.get("AWS_REGION") or (LOCAL_REGION if local else None)
            if fallback:
                kwargs["region_name"] = fallback
        if credentials is not None:
            keys = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
            kwargs.update(zip(keys, credentials, strict=False))
        elif local and session.get_credentials() is None:
            kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = LOCAL_CREDENTIALS
        client = session.client(service_name, **kwargs)
    except BotoCoreError as exc:
        if not translate_errors:
            raise
        raise translate(exc, "make_client", context=profile or "") from None
    except ValueError as exc:  # botocore rejects malformed endpoint URLs with ValueError
        if not translate_errors:
            raise
        raise GlueError(
            f"endpoint URL {endpoint_url!r} is not valid ({exc}); "
            "use a full URL such as https://glue.us-east-1.amazonaws.com",
            code="InvalidEndpoint",
        ) from None
    _client_profiles[client] = profile
    _client_endpoints[client] = client.meta.endpoint_url
    return client


def call(client: Any, operation: str, **kwargs: Any) -> dict:
    """Call one Glue operation by its API name; any failure becomes a :class:`GlueError`.

    botocore has already retried throttling, 5xx and dropped connections by the time an
    error reaches us, so we only translate.
    """
    from botocore import xform_name
    from botocore.exceptions import BotoCoreError, ClientError

    method = getattr(client, xform_name(operation))
    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        # the session a call is about: SessionId where there is one (a statement's Id is not)
        context = str(kwargs.get("SessionId") or kwargs.get("Id") or "")
        raise translate(exc, operation, context, profile=_client_profiles.get(client)) from None


def _profile_hint(profile: str | None) -> str:
    name = profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    return f"aws sso login --profile {name}" if name else "aws sso login"


#: Connection failures, most specific first: (botocore exception, what happened, what to do).
_CONNECTION_ERRORS = (
    (
        "ConnectTimeoutError",
        "connecting to the Glue endpoint {url} timed out",
        "check the network, --endpoint-url and AWS_ENDPOINT_URL_GLUE, or raise connect_timeout",
    ),
    (
        "ReadTimeoutError",
        "the Glue endpoint {url} did not answer in time",
        "try again, or raise read_timeout",
    ),
    (
        "ConnectionClosedError",
        "the Glue endpoint {url} closed the connection without answering, even after retries",
        "try again, or raise max_attempts",
    ),
    (
        "EndpointConnectionError",
        "cannot reach the Glue endpoint {url}",
        "check --endpoint-url / AWS_ENDPOINT_URL_GLUE, the network, "
        "or start `glue-magics local-endpoint`",
    ),
)


#: Connection failures after the request was sent: the service may have acted on it.
_CONNECTED = frozenset({"ReadTimeoutError", "ConnectionClosedError"})


def translate(
    exc: BaseException, operation: str, context: str = "", *, profile: str | None = None
) -> GlueError:
    """Turn a botocore/boto3 exception into a one-line :class:`GlueError`.

    ``context`` names the thing the call was about (a session id, a profile), so the
    message can carry the value.  Credentials are never part of a message.
    """
    from botocore import exceptions as bx

    op = operation
    about = f" {context}" if context else ""

    if isinstance(exc, GlueError):
        return exc
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code = str(error.get("Code") or "Unknown")
        msg = _one_line(redact(error.get("Message") or "no message")).rstrip(".")
        if len(msg) > 300:  # e.g. an HTML error page from a proxy
            msg = msg[:297] + "..."
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        error = _client_error(code, msg, op, context, about, status, profile)
        error.transient = code in THROTTLING_CODES or code in SERVER_CODES or (status or 0) >= 500
        return error
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return GlueError(
            f"{op}: no AWS credentials were found; run `aws configure` or "
            f"`{_profile_hint(profile)}`, pass --profile, "
            "or try the local endpoint: --endpoint-url local",
            code="NoCredentials",
        )
    if isinstance(exc, bx.UnauthorizedSSOTokenError | bx.SSOTokenLoadError | bx.SSOError):
        return GlueError(
            f"{op}: the AWS SSO session has expired or was never started "
            f"({type(exc).__name__}); run `{_profile_hint(profile)}`",
            code="ExpiredToken",
        )
    if isinstance(exc, bx.TokenRetrievalError):
        return GlueError(
            f"{op}: AWS credentials could not be refreshed "
            f"({exc.kwargs.get('provider', 'token provider')}); run `{_profile_hint(profile)}`",
            code="ExpiredToken",
        )
    if isinstance(exc, bx.CredentialRetrievalError):
        return GlueError(
            f"{op}: AWS credentials could not be loaded from "
            f"{exc.kwargs.get('provider', 'the credential provider')}; "
            f"run `{_profile_hint(profile)}` or check the profile's credential_process",
            code="ExpiredToken",
        )
    if isinstance(exc, bx.NoRegionError):
        return GlueError(
            "no AWS region is set for Glue; pass --region, set AWS_REGION, "
            "or add `region = ...` to your AWS profile",
            code="NoRegion",
        )
    if isinstance(exc, bx.ProfileNotFound):
        name = exc.kwargs.get("profile", context)
        return GlueError(
            f"AWS profile {name!r} was not found; check the name with "
            "`aws configure list-profiles` or create it with `aws configure --profile NAME`",
            code="ProfileNotFound",
        )
    for name, what, todo in _CONNECTION_ERRORS:
        if isinstance(exc, getattr(bx, name)):
            url = exc.kwargs.get("endpoint_url", "")
            error = GlueError(
                f"{op}: {what.format(url=url)}; {todo}", code="EndpointUnreachable", transient=True
            )
            error.connected = name in _CONNECTED  # the request may have reached the service
            return error
    if isinstance(exc, bx.SSLError):
        url = exc.kwargs.get("endpoint_url", "")
        return GlueError(
            f"{op}: TLS verification failed for {url}; set AWS_CA_BUNDLE to your CA bundle "
            "(verification cannot be turned off)",
            code="SSLError",
        )
    if isinstance(exc, bx.ParamValidationError):
        report = _one_line(exc.kwargs.get("report", str(exc)))
        return GlueError(
            f"{op}: invalid parameters: {report}; fix the value named",
            code="ParamValidation",
        )
    if isinstance(exc, bx.BotoCoreError):
        return GlueError(f"{op}: {_one_line(str(exc))}", code=type(exc).__name__)
    return GlueError(f"{op}{about}: {_one_line(str(exc))}", code=type(exc).__name__)


def _client_error(
    code: str,
    msg: str,
    op: str,
    context: str,
    about: str,
    status: int | None,
    profile: str | None,
) -> GlueError:
    """The message for one service error code; unknown codes still get one line."""
    sid = context or "?"
    table = {
        "AccessDeniedException": (
            f"{op}{about} was denied: {msg}; grant glue:{op} (and iam:PassRole on the "
            "session role) to your identity, or use another --profile"
        ),
        "IdempotentParameterMismatchException": (
            f"session id {sid} was already used with different options ({msg}); "
            "choose a new session id"
        ),
        "InternalServiceException": (
            f"{op}{about}: Glue had an internal error ({msg}); try again in a minute"
        ),
        "OperationTimeoutException": (
            f"{op}{about}: the operation timed out inside Glue ({msg}); try again"
        ),
        "InvalidInputException": (f"{op}{about}: Glue rejected the input: {msg}; fix that value"),
        "ValidationException": (f"{op}{about}: Glue rejected the request: {msg}; fix that value"),
        "AlreadyExistsException": (
            f"session {sid} already exists ({msg}); choose another session id "
            f"or attach to it with %glue_reconnect {sid}"
        ),
        "ResourceNumberLimitExceededException": (
            f"{op}{about}: too many sessions or statements ({msg}); stop unused sessions "
            "(%glue_sessions, then %glue_stop ID) or ask AWS for a quota increase"
        ),
        "EntityNotFoundException": (
            f"{op}: session {sid} was not found ({msg}); list sessions with %glue_sessions "
            "or start one with %glue_session"
        ),
        "ThrottlingException": (
            f"{op}{about}: Glue is still throttling after retries ({msg}); wait a moment and "
            "retry, or set retry_mode to 'adaptive'"
        ),
        "IllegalSessionStateException": (
            f"{op}: session {sid} is not in a state that allows this ({msg}); check it with "
            "%glue_status or start a new one with %glue_session"
        ),
        "ConcurrentModificationException": (
            f"{op}{about}: the session was being changed at the same time ({msg}); try again"
        ),
        "ResourceNotReadyException": (
            f"{op}: session {sid} is not ready yet ({msg}); wait for it with %glue_reconnect {sid}"
        ),
    }
    if code in EXPIRED_CODES:
        text = (
            f"{op}: the AWS credentials were rejected as expired or invalid ({code}: {msg}); "
            f"run `{_profile_hint(profile)}` or refresh your credentials"
        )
    elif code in THROTTLING_CODES:
        text = table["ThrottlingException"]
    elif code in table:
        text = table[code]
    else:
        where = f" (HTTP {status})" if status else ""
        text = f"{op}{about} failed: {code}{where}: {msg}"
    return GlueError(text, code=code)
