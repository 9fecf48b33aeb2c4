"""Statement output in every shape the service sends, read into what the user sees.

``Output.Data`` comes in three shapes (AWS's Glue kernel, aws-glue-sessions 1.0.9,
``BaseKernel.display_result``; Apache Livy ``repl/src/main/resources/fake_shell.py``):

- text: ``{TextPlain}`` alone, stdout then stderr;
- rich: ``{MimeType, Result, StdOut, StdErr}``, where a ``;base64`` parameter on the
  MIME type says ``Result`` is base64;
- S3-held: ``MimeType`` ``text/uri-list`` with ``Result`` the s3:// URI of a JSON object
  ``{mime: content}`` (``{}`` means "only the streams") and ``StdOut``/``StdErr`` the
  s3:// URIs of the streams' text.

:func:`read_data` turns any of them into one :class:`Output` (streams, values by MIME type,
one-line problems), and :func:`read_statement` adds how the cell ends from the statement's
``State`` (AVAILABLE, COMPLETED, FAILED, ERROR, CANCELLED).  Objects in S3 are fetched
through a factory of the session's own S3 client; every failure is one line.

Only the standard library is imported here at module import time; boto3 and the S3
client come at the first URI, never for inline results.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from glue_magics.service import Call, ErrorShape, GlueError, error_for, error_table
from glue_magics.states import STATEMENT_SUCCESS
from glue_magics.steps import Action, NextStep

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

    This is our older shape (a real ``MimeType`` whose ``Result`` was left in S3);
    :func:`read_data` reads it and the service's ``text/uri-list`` shape alike.
    ``data`` comes back unchanged (the same object) unless its ``Result`` is an S3 URI;
    then a copy is returned whose ``Result`` is the text (UTF-8) for a text ``MimeType``
    and base64 for a binary one.  ``s3_client_factory`` is called only then, so inline
    results never import boto3.  Raises :class:`GlueError` (one line, naming the URI)
    when the object cannot be read or is larger than ``max_bytes``.
    """
    if not isinstance(data, dict):
        return data
    uri = data.get("Result")
    if parse_s3_uri(uri) is None:
        return data
    _, result = _fetch_value(s3_client_factory, uri, data.get("MimeType"), max_bytes)
    return {**data, "Result": result}


def _fetch_value(
    factory: Callable[[], Any] | None, uri: str, mime: Any, max_bytes: int
) -> tuple[str, str]:
    """``(mime, value)`` of an object holding one result: text, or base64 for binary.

    The MIME type is the one given, else the object's Content-Type; without either the
    content is text if it reads as UTF-8.
    """
    content, content_type = fetch_bytes(factory, uri, max_bytes)
    mime = mime or content_type or ""
    if mime:
        text = is_text_mime(mime)
    else:
        try:
            content.decode("utf-8")
            text = True
        except UnicodeDecodeError:
            text = False
    if text:
        return mime, content.decode("utf-8", "replace")
    return mime, base64.b64encode(content).decode("ascii")


def fetch_bytes(
    factory: Callable[[], Any] | None, uri: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[bytes, str | None]:
    """The bytes (at most ``max_bytes``) and Content-Type of the object at ``uri``.

    Raises a one-line :class:`GlueError` when ``uri`` is not an s3:// URI, there is no
    S3 client to read it with, or the read fails.
    """
    where = parse_s3_uri(uri)
    if where is None:
        raise GlueError(
            f"statement output {_short(uri)} is not an s3:// URI, so it cannot be fetched",
            code="InvalidResultUri",
        )
    if factory is None:
        raise GlueError(
            f"statement result {uri} is in S3 and no S3 client is at hand to read it; "
            f"download it with `aws s3 cp {uri} .`",
            code="NoS3Client",
        )
    return _fetch(factory, uri, where[0], where[1], max_bytes)


def _short(value: Any, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ---------------------------------------------------------------------------------------
# MIME types and the shapes of Output.Data

#: ``MimeType`` of the S3-held shape (AWS's kernel ``GlueSessionsConstants.MimeTypes.S3URI``).
URI_LIST = "text/uri-list"
TEXT_PLAIN = "text/plain"


def split_mime(mime: Any) -> tuple[str, bool]:
    """``(type, base64)`` of a MimeType: ``"image/png;base64"`` -> ``("image/png", True)``.

    The service marks a base64 ``Result`` with a bare ``base64`` parameter (AWS's kernel,
    ``BaseKernel.display_result``, strips it the same way).  Other parameters
    (``charset=...``) are dropped, since Jupyter keys a bundle by the bare type; the type
    is lower-cased, as MIME types are case-insensitive.  Never raises.
    """
    if not isinstance(mime, str):
        return "", False
    head, *params = mime.split(";")
    encoded = any(param.strip().lower() == "base64" for param in params)
    return "".join(head.split()).lower(), encoded


@dataclass
class Output:
    """What a statement shows, whatever shape its ``Output.Data`` came in.

    ``values`` maps a display MIME type (no parameters) to its content: text for text
    types, base64 for binary ones (what a Jupyter bundle takes); ``text/plain`` values
    are put on ``stdout`` instead, as the service's ``TextPlain`` is.  ``fallback`` is
    plain text that stands for the values (an older shape's TextPlain beside a rich
    Result); ``problems`` are one-line messages about what could not be shown.
    """

    stdout: str = ""
    stderr: str = ""
    values: dict[str, str] = field(default_factory=dict)
    fallback: str = ""
    problems: list[str] = field(default_factory=list)

    def add_value(self, mime: str, content: str) -> None:
        """Add one value; plain text joins stdout, after what the code printed."""
        if not mime or mime == TEXT_PLAIN:
            self.stdout = _joined(self.stdout, content)
        else:
            self.values[mime] = content


def _joined(first: str, second: str) -> str:
    """Two texts, the second on a line of its own."""
    if not first or not second:
        return first or second
    return (first if first.endswith("\n") else first + "\n") + second


def _text(value: Any) -> str:
    """A field as text: None is empty; JSON values other than strings as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def read_data(
    data: Any, s3: Callable[[], Any] | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Output:
    """Read a statement's ``Output.Data`` in any of its shapes (see the module doc).

    ``s3`` makes the session's own S3 client and is called only when something is in
    S3.  Never raises for any dict: what cannot be shown becomes one line in
    ``problems``.
    """
    out = Output()
    if not isinstance(data, dict) or not data:
        return out
    mime, encoded = split_mime(data.get("MimeType"))
    if mime == URI_LIST:
        _read_s3_held(data, s3, max_bytes, out)
    elif data.get("Result") is not None and (mime or "TextPlain" not in data):
        _read_rich(data, mime, encoded, s3, max_bytes, out)
    else:
        # The text shape: TextPlain is stdout then stderr (Livy fake_shell.py).  Older
        # dialects sent StdOut beside it (TextPlain holds it already) and StdErr apart.
        if "TextPlain" in data:
            out.stdout = _text(data.get("TextPlain"))
        else:
            out.stdout = _text(data.get("StdOut"))
        out.stderr = _text(data.get("StdErr"))
    return out


def _read_rich(data: dict, mime: str, encoded: bool, s3: Any, max_bytes: int, out: Output) -> None:
    """``{MimeType, Result, StdOut, StdErr}``; our older shape may hold Result in S3."""
    out.stdout = _text(data.get("StdOut"))
    out.stderr = _text(data.get("StdErr"))
    text_plain = _text(data.get("TextPlain"))  # older shape: stdout then the value's text
    printed = out.stdout.rstrip("\n")
    if printed and text_plain.startswith(printed):
        text_plain = text_plain[len(printed) :]
    out.fallback = text_plain.strip()
    result = data.get("Result")
    if parse_s3_uri(result) is not None:
        try:
            mime, value = _fetch_value(s3, result, mime, max_bytes)
        except GlueError as exc:
            out.problems.append(str(exc))
            return
        out.add_value(split_mime(mime)[0], value)
        return
    _add_encoded(out, mime or TEXT_PLAIN, encoded, _text(result))


def _add_encoded(out: Output, mime: str, encoded: bool, content: str) -> None:
    """Add a value whose MIME type said ``;base64`` (or not), in the form a bundle takes."""
    if is_text_mime(mime):
        if encoded:
            packed = "".join(content.split())
            if not is_base64(packed):
                out.problems.append(
                    f"the {mime} result is marked base64 but is not; it is not shown"
                )
                return
            packed = packed.rstrip("=")
            raw = base64.b64decode(packed + "=" * (-len(packed) % 4))
            content = raw.decode("utf-8", "replace")
        out.add_value(mime, content)
        return
    # binary: Jupyter takes base64 text; our older shape sent it without ";base64"
    packed = "".join(content.split())
    if not is_base64(packed):
        out.problems.append(f"the {mime} result is not valid base64; it is not shown")
        return
    out.add_value(mime, packed)


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def is_base64(text: str) -> bool:
    """Whether ``text`` decodes as base64 the way browsers read a data: URL.

    The WHATWG "forgiving-base64 decode": padding may be left out, but a length of
    4n + 1 or a character outside the alphabet is an error.
    """
    stripped = text[:-2] if text.endswith("==") else text[:-1] if text.endswith("=") else text
    return (
        _BASE64.fullmatch(text) is not None
        and (len(text) % 4 == 0 or "=" not in text)
        and len(stripped) % 4 != 1
    )


def _stream(value: Any, s3: Any, max_bytes: int, out: Output) -> str:
    """A stream's text: inline, or fetched when it is an s3:// URI."""
    if parse_s3_uri(value) is None:
        return _text(value)
    try:
        content, _ = fetch_bytes(s3, value, max_bytes)
    except GlueError as exc:
        out.problems.append(str(exc))
        return ""
    return content.decode("utf-8", "replace")


def _read_s3_held(data: dict, s3: Any, max_bytes: int, out: Output) -> None:
    """``text/uri-list``: Result is a JSON object {mime: content} in S3; streams too.

    As AWS's kernel (``BaseKernel.display_result``): ``{}`` means the output is only on
    the streams.  Every key is shown (AWS's kernel shows only image/png and text/plain).
    """
    out.stdout = _stream(data.get("StdOut"), s3, max_bytes, out)
    out.stderr = _stream(data.get("StdErr"), s3, max_bytes, out)
    uri = data.get("Result")
    if uri is None or uri == "":
        return
    try:
        content, _ = fetch_bytes(s3, uri, max_bytes)
    except GlueError as exc:
        out.problems.append(str(exc))
        return
    try:
        values = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        values = None
    if not isinstance(values, dict):
        out.problems.append(
            f"statement result {uri} is not a JSON object of MIME types; "
            f"download it with `aws s3 cp {uri} .`"
        )
        return
    for key, value in values.items():
        mime, encoded = split_mime(key)
        _add_encoded(out, mime or TEXT_PLAIN, encoded, _text(value))


# ---------------------------------------------------------------------------------------
# statement states


@dataclass
class Outcome:
    """A finished statement, read for the user: what it shows and how the cell ends.

    The cell fails when ``ename`` is set: with the session's own exception (``evalue``,
    ``traceback``), or, when ``error`` is set (``one_line``), with that one-line error,
    whose next step the display words.
    """

    statement: dict
    output: Output
    ename: str | None = None
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    error: GlueError | None = None

    @property
    def failed(self) -> bool:
        return self.ename is not None

    @property
    def one_line(self) -> bool:
        """Whether the cell fails with our one-line ``error`` (no remote exception)."""
        return self.error is not None


class RemoteError(Exception):
    """An exception raised in the session (an :class:`Outcome` that failed), shown with its
    remote traceback.

    IPython renders ``_render_traceback_`` instead of a local traceback, and the
    execute reply's ``ename`` is the remote exception's name, so "Run all" stops here.
    """

    ename = "RemoteError"

    def __init__(self, evalue: str, traceback: list[str]) -> None:
        super().__init__(evalue)
        self.evalue = evalue
        self.remote_traceback = traceback

    @classmethod
    def make(cls, ename: str, evalue: str, traceback: list[str]) -> RemoteError:
        """An instance whose class is named ``ename``, so the execute reply carries it."""
        name = ename or "RemoteError"
        safe = name if name.isidentifier() else "RemoteError"
        sub = type(safe, (cls,), {"ename": name, "__module__": "glue_session"})
        return sub(evalue, [str(line) for line in traceback])

    def _render_traceback_(self) -> list[str]:
        lines = [line.rstrip("\n") for line in self.remote_traceback]
        if not lines or self.ename not in lines[-1]:
            lines.append(f"{self.ename}: {self.evalue}")
        return lines


def read_statement(
    statement: dict,
    session_id: str,
    s3: Callable[[], Any] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Outcome:
    """How a statement in a done state ends, as AWS's kernel reads it and better.

    AWS's kernel (aws-glue-sessions 1.0.9, ``BaseKernel._construct_reply_content``):
    AVAILABLE and COMPLETED succeed when ``Output.Status`` is ``ok`` (COMPLETED also
    without a Status); with Status ``error`` the cell fails with ErrorName, ErrorValue
    and Traceback.  FAILED shows StdOut, then the reason (``Data.Result``) and StdErr
    on stderr, each possibly an s3:// URI.  ERROR means the statement could not run.
    """
    state = str(statement.get("State") or "")
    output = statement.get("Output")
    output = output if isinstance(output, dict) else {}
    what = f"statement {statement.get('Id', '?')} in session {session_id}"
    if state == "FAILED":
        return _read_failed(statement, output, what, s3, max_bytes)
    shown = read_data(output.get("Data"), s3, max_bytes)
    status = str(output.get("Status") or "").lower()
    if state in STATEMENT_SUCCESS and status != "error":
        return Outcome(statement, shown)
    if state in STATEMENT_SUCCESS or (state == "ERROR" and _has_error(output)):
        default = "StatementError" if state == "ERROR" else "RemoteError"
        return Outcome(
            statement,
            shown,
            ename=_text(output.get("ErrorName")) or default,
            evalue=_text(output.get("ErrorValue")),
            traceback=_lines(output.get("Traceback")),
        )
    if state == "ERROR":
        error = GlueError(
            f"{what} could not be run (State ERROR): its worker or the session ended under it",
            "StatementError",
            next_steps=(NextStep(Action.RERUN),),
        )
    elif state == "CANCELLED":
        error = GlueError(
            f"{what} was cancelled before it finished (by another client, or the session "
            "is stopping); run the cell again",
            "StatementError",
        )
    else:
        error = GlueError(
            f"{what} ended in state {state or '(none)'}",
            "StatementError",
            next_steps=(NextStep(Action.STATUS),),
        )
    return Outcome(statement, shown, ename="StatementError", evalue=str(error), error=error)


def _has_error(output: dict) -> bool:
    return any(output.get(key) for key in ("ErrorName", "ErrorValue", "Traceback"))


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [_text(line) for line in value]
    return []


def _read_failed(statement: dict, output: dict, what: str, s3: Any, max_bytes: int) -> Outcome:
    """FAILED: ``Data`` is ``{StdOut, Result: the reason, StdErr}``, each inline or in S3."""
    data = output.get("Data")
    data = data if isinstance(data, dict) else {}
    out = Output()
    out.stdout = _stream(data.get("StdOut"), s3, max_bytes, out)
    reason = _stream(data.get("Result"), s3, max_bytes, out)
    stderr = _stream(data.get("StdErr"), s3, max_bytes, out)
    ename = _text(output.get("ErrorName")) or "StatementFailed"
    first = next((line.strip() for line in reason.splitlines() if line.strip()), "")
    evalue = _text(output.get("ErrorValue")) or first or f"{what} failed"
    traceback = _lines(output.get("Traceback"))
    if not _covered(reason, traceback, f"{ename}: {evalue}"):
        out.stderr = reason
    out.stderr = _joined(out.stderr, stderr)
    return Outcome(statement, out, ename=ename, evalue=evalue, traceback=traceback)


def _covered(reason: str, traceback: list[str], last: str) -> bool:
    """Whether the error shown for the cell already says all the reason says.

    The reason is usually the exception line and its traceback: printing it as well
    as the traceback would show the same lines twice.
    """
    if not traceback:
        return not reason.strip() or reason.strip() == last
    shown = {line.strip() for line in "\n".join(traceback).splitlines()} | {last.strip()}
    return all(line.strip() in shown for line in reason.splitlines())


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def _too_large(uri: str, size: int, max_bytes: int) -> GlueError:
    return GlueError(
        f"statement result {uri} is {_size(size)}, above the {_size(max_bytes)} limit for "
        f"showing it in the notebook; download it with `aws s3 cp {uri} .`",
        code="ResultTooLarge",
    )


#: S3's own errors about a result object; the rest are the service's error table's.
S3_ERRORS = error_table(
    (
        ("NoSuchKey", "404", "NotFound"),
        ErrorShape(
            "statement result {uri} does not exist (NoSuchKey); it may have been deleted "
            "or expired by a lifecycle rule: run the statement again"
        ),
    ),
    (
        "NoSuchBucket",
        ErrorShape(
            "statement result {uri}: bucket {bucket} does not exist (NoSuchBucket); check "
            "that the results bucket exists in this account, or run the statement again"
        ),
    ),
    (
        "InvalidObjectState",
        ErrorShape(
            "statement result {uri} is archived (InvalidObjectState); restore it with "
            "`aws s3api restore-object` or run the statement again"
        ),
    ),
)


def _reading(uri: str, bucket: str, key: str) -> Call:
    """Reading a result object from S3, as the error table words it."""
    return Call(
        doing=f"reading statement result {uri}",
        service="S3",
        endpoints="AWS_ENDPOINT_URL_S3",
        grant=(
            f"s3:GetObject on arn:aws:s3:::{bucket}/{key} "
            "(and kms:Decrypt if the bucket is encrypted with KMS)"
        ),
        values={"uri": uri, "bucket": bucket},
    )


def _fetch(
    factory: Callable[[], Any], uri: str, bucket: str, key: str, max_bytes: int
) -> tuple[bytes, str | None]:
    """The object's bytes (at most ``max_bytes``) and its Content-Type."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = factory()
        response = client.get_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        raise error_for(exc, _reading(uri, bucket, key), S3_ERRORS) from None
    except ValueError as exc:  # botocore rejects a malformed endpoint URL with ValueError
        raise error_for(exc, _reading(uri, bucket, key), key="InvalidEndpoint") from None
    body = response["Body"]
    try:
        length = response.get("ContentLength")
        if isinstance(length, int) and length > max_bytes:
            raise _too_large(uri, length, max_bytes)
        content = body.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise _too_large(uri, length if isinstance(length, int) else len(content), max_bytes)
    except BotoCoreError as exc:
        raise error_for(exc, _reading(uri, bucket, key), S3_ERRORS) from None
    finally:
        body.close()
    content_type = response.get("ContentType")
    return content, content_type


def s3_client_factory(
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    connect_timeout: float = 5,
    read_timeout: float = 60,
) -> Callable[[], Any]:
    """A factory for :func:`resolve_result`: the S3 client is made at its first call only.

    The client is ``service.make_client("s3", ...)``: the same credential chain, profile,
    region and loopback fallback as the Glue client (pass what was passed for that one); the
    S3 endpoint is ``endpoint_url`` or what botocore reads (``AWS_ENDPOINT_URL_S3``).
    Retries are botocore's standard mode; TLS is verified.  botocore's errors come through
    as they are, for :func:`_fetch` to word with the result's URI.
    """
    made: list[Any] = []

    def factory() -> Any:
        if not made:
            from glue_magics.service import make_client

            made.append(
                make_client(
                    "s3",
                    region=region,
                    profile=profile,
                    endpoint_url=endpoint_url,
                    max_attempts=None,  # botocore's standard count, as before
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    translate_errors=False,  # _fetch words them with the result's URI
                )
            )
        return made[0]

    return factory
