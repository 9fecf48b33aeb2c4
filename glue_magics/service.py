"""The service layer: boto3 clients, botocore's retries, one error table.

Everything that talks to AWS goes through :func:`call` (Glue) or words its failures with
:func:`error_for` (S3 results), so every failure a user can cause (credentials, region,
endpoint, bad input, quotas) reaches the magics as a :class:`GlueError`: one line saying
what happened and the value, and a structured next step (``steps.NextStep``) that only
the display turns into a magic's name.  Retries are botocore's own (``standard`` or
``adaptive`` retry mode); there is no retry loop here.  Only the standard library is
imported at module import time.
"""

from __future__ import annotations

import ipaddress
import os
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from glue_magics.steps import Action, NextStep, steps_for, with_steps

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

#: Dummy credentials and region used only for loopback endpoints (the local endpoint).
LOCAL_CREDENTIALS = ("local", "local")
LOCAL_REGION = "us-east-1"

# Which profile a client was made with, so expired-credential messages can name it.
_client_profiles: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()
_client_endpoints: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


class GlueError(Exception):
    """A user's or the service's error, shown as one line with no traceback.

    ``code`` is the service error code (``"AccessDeniedException"``) or a short slug for
    client-side failures (``"NoCredentials"``), so callers can branch on it.  ``message``
    says what happened; ``next_steps`` what the user can do (alternatives), as data:
    ``str()`` words them neutrally, ``display.explain`` with the magics that do them.
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
        next_steps: Iterable[NextStep] = (),
    ) -> None:
        self.message = _one_line(message)
        self.next_steps = tuple(next_steps)
        super().__init__(with_steps(self.message, self.next_steps))
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
        raise error_for(exc, Call.client(service_name, profile)) from None
    except ValueError as exc:  # botocore rejects malformed endpoint URLs with ValueError
        if not translate_errors:
            raise
        raise error_for(exc, Call.client(service_name, profile), key="InvalidEndpoint") from None
    _client_profiles[client] = profile
    _client_endpoints[client] = client.meta.endpoint_url
    return client


def call(
    client: Any,
    operation: str,
    /,
    *,
    errors: Mapping[str, ErrorShape] | None = None,
    **kwargs: Any,
) -> dict:
    """Call one Glue operation by its API name; any failure becomes a :class:`GlueError`.

    botocore has already retried throttling, 5xx and dropped connections by the time an
    error reaches us, so we only translate; ``errors`` are the caller's own rows of the
    error table, looked up first.  The API's members are PascalCase, so ``errors`` is free.
    """
    from botocore import xform_name
    from botocore.exceptions import BotoCoreError, ClientError

    method = getattr(client, xform_name(operation), None)
    if method is None:  # newer than this botocore's model (GetSystemLogsForSession, say)
        import botocore

        raise GlueError(
            f"{operation}: botocore {botocore.__version__} does not know this operation; "
            "upgrade it: pip install -U boto3 botocore",
            code="UnknownOperation",
        )
    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        # the session a call is about: SessionId where there is one (a statement's Id is not)
        context = str(kwargs.get("SessionId") or kwargs.get("Id") or kwargs.get("ResourceId") or "")
        about = Call.glue(operation, context, _client_profiles.get(client))
        raise error_for(exc, about, errors) from None


def _profile_hint(profile: str | None) -> str:
    name = profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    return f"aws sso login --profile {name}" if name else "aws sso login"


# ---------------------------------------------------------------------------------------
# the error table


@dataclass(frozen=True)
class Call:
    """What a failed call was about: the facts the error table's message shapes name.

    ``doing`` leads the message (``"GetSession s1"``, ``"reading statement result
    s3://b/k"``; empty for making a client); ``values`` adds names for a caller's own rows.
    """

    doing: str = ""
    service: str = "Glue"  # who was called, as messages name it
    endpoints: str = "--endpoint-url / AWS_ENDPOINT_URL_GLUE (or use --endpoint-url local)"
    grant: str = "the permission"  # what to grant when access is denied
    session_id: str = ""
    operation: str = ""
    profile: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def glue(cls, operation: str, session_id: str = "", profile: str | None = None) -> Call:
        """A Glue API call, about ``session_id`` when it has one."""
        return cls(
            doing=f"{operation} {session_id}".strip(),
            grant=f"glue:{operation} (and iam:PassRole on the session role)",
            session_id=session_id,
            operation=operation,
            profile=profile,
        )

    @classmethod
    def client(cls, service_name: str, profile: str | None = None) -> Call:
        """Making a client (``"glue"`` or ``"s3"``): errors of the configuration."""
        if service_name == "s3":
            return cls(service="S3", endpoints="AWS_ENDPOINT_URL_S3", profile=profile)
        return cls(profile=profile)


@dataclass(frozen=True)
class ErrorShape:
    """One row of the error table: the message's shape and what to do next.

    ``text`` is a ``str.format`` template over :meth:`Call` facts and the error's own
    (``op``, ``sid``, ``msg``, ``code``, ``where``, ``url``, ``hint``, ``grant``, ...);
    a leading ``{doing}: `` is left out when the call has no ``doing``.
    """

    text: str
    actions: tuple[Action, ...] = ()  # what to do next (alternatives)
    code: str | None = None  # the code to carry, else the service's code or the class name
    transient: bool = False  # asking again later may succeed
    connected: bool = True  # False: the request never reached the service


def error_table(*rows: tuple[str | tuple[str, ...], ErrorShape]) -> dict[str, ErrorShape]:
    """A table from (key or keys, shape) pairs: keys are error codes or botocore class names."""
    table: dict[str, ErrorShape] = {}
    for keys, shape in rows:
        for key in (keys,) if isinstance(keys, str) else keys:
            table[key] = shape
    return table


_THROTTLED = ErrorShape(
    "{doing}: {service} is still throttling after retries ({msg}); wait a moment and retry, "
    "or set retry_mode to 'adaptive'",
    transient=True,
)
_EXPIRED = ErrorShape(
    "{doing}: the AWS credentials were rejected as expired or invalid ({code}: {msg}); "
    "run `{hint}` or refresh your credentials"
)
_DENIED = ErrorShape(
    "{doing} was denied: {msg}; grant {grant} to your identity, or use another --profile"
)

#: The one error table, for Glue and S3 calls alike: service error codes (``ClientError``)
#: and botocore exception classes (the most specific class of an exception that has a row
#: wins; ``Exception`` is the last resort) -> the message's shape and the next step.
ERRORS: dict[str, ErrorShape] = error_table(
    # -- what the service answered
    (("AccessDeniedException", "AccessDenied", "Forbidden", "403", "AllAccessDisabled"), _DENIED),
    (
        "IdempotentParameterMismatchException",
        ErrorShape(
            "session id {sid} was already used with different options ({msg})", (Action.RENAME,)
        ),
    ),
    (
        ("InternalServiceException", "ServiceUnavailable"),
        ErrorShape(
            "{doing}: {service} had an internal error ({msg}); try again in a minute",
            transient=True,
        ),
    ),
    (
        "OperationTimeoutException",
        ErrorShape(
            "{doing}: the operation timed out inside {service} ({msg}); try again", transient=True
        ),
    ),
    (
        "InvalidInputException",
        ErrorShape("{doing}: {service} rejected the input: {msg}; fix that value"),
    ),
    (
        "ValidationException",
        ErrorShape("{doing}: {service} rejected the request: {msg}; fix that value"),
    ),
    (
        "AlreadyExistsException",
        ErrorShape("session {sid} already exists ({msg})", (Action.RENAME, Action.RECONNECT)),
    ),
    (
        "ResourceNumberLimitExceededException",
        ErrorShape("{doing}: too many sessions or statements ({msg})", (Action.QUOTA,)),
    ),
    (
        "EntityNotFoundException",
        ErrorShape("{op}: session {sid} was not found ({msg})", (Action.LIST, Action.CREATE)),
    ),
    (
        "IllegalSessionStateException",
        ErrorShape(
            "{op}: session {sid} is not in a state that allows this ({msg})",
            (Action.STATUS, Action.CREATE),
        ),
    ),
    (
        "ConcurrentModificationException",
        ErrorShape("{doing}: the session was being changed at the same time ({msg}); try again"),
    ),
    (
        "ResourceNotReadyException",
        ErrorShape("{op}: session {sid} is not ready yet ({msg})", (Action.WAIT,)),
    ),
    (tuple(THROTTLING_CODES), _THROTTLED),
    (tuple(EXPIRED_CODES), _EXPIRED),
    ("ClientError", ErrorShape("{doing} failed: {code}{where}: {msg}")),
    # -- what botocore raised before or instead of an answer
    (
        ("NoCredentialsError", "PartialCredentialsError"),
        ErrorShape(
            "{doing}: no AWS credentials were found; run `aws configure` or `{hint}`, "
            "pass --profile, or try the local endpoint: --endpoint-url local",
            code="NoCredentials",
        ),
    ),
    (
        "SSOError",
        ErrorShape(
            "{doing}: the AWS SSO session has expired or was never started ({name}); run `{hint}`",
            code="ExpiredToken",
        ),
    ),
    (
        "TokenRetrievalError",
        ErrorShape(
            "{doing}: AWS credentials could not be refreshed ({provider}); run `{hint}`",
            code="ExpiredToken",
        ),
    ),
    (
        "CredentialRetrievalError",
        ErrorShape(
            "{doing}: AWS credentials could not be loaded from {provider}; run `{hint}` or "
            "check the profile's credential_process",
            code="ExpiredToken",
        ),
    ),
    (
        "NoRegionError",
        ErrorShape(
            "{doing}: no AWS region is set for {service}; pass --region, set AWS_REGION, "
            "or add `region = ...` to your AWS profile",
            code="NoRegion",
        ),
    ),
    (
        "ProfileNotFound",
        ErrorShape(
            "{doing}: AWS profile {profile!r} was not found; check the name with "
            "`aws configure list-profiles` or create it with `aws configure --profile NAME`",
            code="ProfileNotFound",
        ),
    ),
    (
        "ConnectTimeoutError",
        ErrorShape(
            "{doing}: connecting to the {service} endpoint {url} timed out; check the network "
            "and {endpoints}, or raise connect_timeout",
            code="EndpointUnreachable",
            transient=True,
            connected=False,
        ),
    ),
    (
        "ReadTimeoutError",
        ErrorShape(
            "{doing}: the {service} endpoint {url} did not answer in time; try again, "
            "or raise read_timeout",
            code="EndpointUnreachable",
            transient=True,
        ),
    ),
    (
        "ConnectionClosedError",
        ErrorShape(
            "{doing}: the {service} endpoint {url} closed the connection without answering, "
            "even after retries; try again, or raise max_attempts",
            code="EndpointUnreachable",
            transient=True,
        ),
    ),
    (
        "EndpointConnectionError",
        ErrorShape(
            "{doing}: cannot reach the {service} endpoint {url}; check {endpoints} and the network",
            code="EndpointUnreachable",
            transient=True,
            connected=False,
        ),
    ),
    (
        "SSLError",
        ErrorShape(
            "{doing}: TLS verification failed for {url}; set AWS_CA_BUNDLE to your CA bundle "
            "(verification cannot be turned off)",
            code="SSLError",
        ),
    ),
    (
        "ParamValidationError",
        ErrorShape(
            "{doing}: invalid parameters: {report}; fix the value named", code="ParamValidation"
        ),
    ),
    (
        "InvalidEndpoint",  # a ValueError from botocore, named by the caller that made the client
        ErrorShape(
            "{doing}: the {service} endpoint URL is not valid ({text}); check {endpoints} "
            "and give a full URL such as https://glue.us-east-1.amazonaws.com",
            code="InvalidEndpoint",
        ),
    ),
    ("Exception", ErrorShape("{doing} failed: {name}: {text}")),  # botocore's others, and bugs
)


def translate(
    exc: BaseException, operation: str, context: str = "", *, profile: str | None = None
) -> GlueError:
    """Turn the botocore/boto3 exception of one Glue call into a one-line :class:`GlueError`.

    ``context`` is the session the call was about, so the message can carry the value.
    Credentials are never part of a message.
    """
    return error_for(exc, Call.glue(operation, context, profile))


def error_for(
    exc: BaseException,
    call: Call,
    rows: Mapping[str, ErrorShape] | None = None,
    *,
    key: str | None = None,
) -> GlueError:
    """The one-line :class:`GlueError` of ``exc`` raised by ``call``, from the error table.

    ``rows`` are the caller's own (S3's NoSuchKey, say), looked up first; ``key`` names
    the row to use whatever ``exc`` is (``"InvalidEndpoint"`` for botocore's ValueError).
    """
    from botocore.exceptions import ClientError

    if isinstance(exc, GlueError):
        return exc
    facts = _facts(exc, call)
    keys = [key] if key else []
    if isinstance(exc, ClientError):
        keys.append(facts["code"])
    keys += [c.__name__ for c in type(exc).__mro__ if c.__module__.startswith("botocore")]
    table = {**ERRORS, **(rows or {})}
    shape = next((table[k] for k in [*keys, "Exception"] if k in table), table["Exception"])
    text = shape.text if call.doing else shape.text.removeprefix("{doing}: ")
    status = facts.pop("status")
    error = GlueError(
        text.format(**facts),
        code=shape.code or facts["code"],
        transient=shape.transient or (isinstance(status, int) and status >= 500),
        next_steps=steps_for(shape.actions, call.session_id),
    )
    error.connected = shape.connected
    return error


def _facts(exc: BaseException, call: Call) -> dict[str, Any]:
    """The names a message shape may use, from the call and from the exception."""
    from botocore.exceptions import ClientError

    kwargs = getattr(exc, "kwargs", None)
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    facts: dict[str, Any] = {
        **call.values,
        "doing": call.doing,
        "op": call.operation or call.doing,
        "sid": call.session_id or "?",
        "service": call.service,
        "endpoints": call.endpoints,
        "grant": call.grant,
        "hint": _profile_hint(call.profile),
        "profile": kwargs.get("profile", call.profile or ""),
        "name": type(exc).__name__,
        "code": type(exc).__name__,
        "text": _one_line(str(exc)),
        "url": kwargs.get("endpoint_url", ""),
        "provider": kwargs.get("provider") or "the credential provider",
        "report": _one_line(kwargs.get("report", str(exc))),
        "msg": "",
        "where": "",
        "status": None,
    }
    if isinstance(exc, ClientError):
        response = exc.response if isinstance(exc.response, dict) else {}
        error = response.get("Error", {})
        msg = _one_line(redact(error.get("Message") or "no message")).rstrip(".")
        if len(msg) > 300:  # e.g. an HTML error page from a proxy
            msg = msg[:297] + "..."
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        facts.update(
            code=str(error.get("Code") or "Unknown"),
            msg=msg,
            status=status,
            where=f" (HTTP {status})" if status else "",
        )
    return facts
