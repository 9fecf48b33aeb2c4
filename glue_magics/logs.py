"""Looking inside a session from the notebook: its system logs, its statements, its Spark UI.

No IPython here: the magics call these with the session manager and hand what they return
to the display.  Each uses the client the session was made or found with.

- System logs (``%glue_logs``): GetSystemLogsForSession answers a URL to download them, a
  presigned S3 URL valid for one hour (AWS's docs, "Debugging fine-grained access control
  (FGAC) jobs and sessions"); the service keeps them only for sessions with fine-grained
  access control and answers InvalidInputException for the others.  The URL is opened
  with urllib's default TLS context (certificates verified), only over https, or http to
  this machine (the local endpoint); a body S3 calls gzip is inflated (the format
  is not documented).  The URL holds a token: it is never shown, nor put in a message.
- Statements (``%glue_history``): ListStatements, all pages, one row each.
- Spark UI: GetDashboardUrl with ResourceType SESSION, offered where the service gives one
  (AWS's docs, "Monitoring Spark Connect sessions": while the session is READY; its link
  carries a one-time token that the browser exchanges for a cookie).  botocore's model
  types the answer ``SensitiveUrl`` (``"sensitive": true``), so the link is never printed
  nor put in a cell's saved output: a notebook gets it inside a widget (its state is not
  saved with the notebook unless the user asks), a terminal only the word "available".
  Any error means "no link", never a failed cell.

Only the standard library is imported at module import (``%load_ext`` imports this).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from glue_magics.reporting import duration
from glue_magics.states import LIVE_STATES, STATEMENT_DONE
from glue_magics.steps import Action, NextStep

#: Bytes read at a time from the logs URL.
CHUNK = 64 * 1024
#: Seconds to wait for the logs URL to answer.
DOWNLOAD_TIMEOUT = 30.0
#: The width of a statement's first line in ``%glue_history``.
CODE_WIDTH = 60


def _error(message: str, code: str, *steps: NextStep) -> Exception:
    from glue_magics.service import GlueError

    return GlueError(message, code, next_steps=steps)


def _session(manager: Any, session_id: str | None) -> tuple[str, Any]:
    """The given (or current) session's id and the client it was made with."""
    session_id = session_id or manager.session_id
    if not session_id:
        raise _error("no session yet", "UsageError", NextStep(Action.CREATE))
    return session_id, manager.client_for(session_id)


# --------------------------------------------------------------------------- system logs


@dataclass
class SystemLog:
    """What ``%glue_logs`` shows: the last lines of a session's system log, and its size."""

    session_id: str
    lines: list[str]  # the last ``tail`` lines
    total_lines: int
    size: int  # bytes, as inflated
    saved: str | None = None  # where the whole log was written


def _no_logs_rows() -> Mapping[str, Any]:
    from glue_magics.service import ErrorShape, error_table

    return error_table(
        (
            "InvalidInputException",
            ErrorShape(
                "session {sid} has no system logs in Glue ({msg}): Glue keeps them only for "
                "sessions with fine-grained access control (Lake Formation, Glue 5.0 or later)"
            ),
        )
    )


def fetch_logs(manager: Any, session_id: str | None, tail: int, save: str | None) -> SystemLog:
    """The system logs of the given (or current) session: the last ``tail`` lines, and
    with ``save`` the whole log written to that file (replaced only once it is complete)."""
    from glue_magics.service import call

    session_id, client = _session(manager, session_id)
    reply = call(client, "GetSystemLogsForSession", errors=_no_logs_rows(), Id=session_id)
    url = reply.get("SystemLogsUrl")
    if not isinstance(url, str) or not url:
        raise _error(f"Glue gave no system logs URL for session {session_id}", "NoSystemLogs")
    what = f"the system logs of session {session_id}"
    if save is None:
        lines, total, size = download(url, tail, what=what)
        return SystemLog(session_id, lines, total, size)
    target = os.path.expanduser(save)
    partial = f"{target}.part"
    try:
        with open(partial, "wb") as sink:
            lines, total, size = download(url, tail, sink, what=what)
        os.replace(partial, target)
    except OSError as exc:  # no such directory, the target is one, ... (download's are words)
        _remove(partial)
        raise _error(f"cannot write {what} to {save!r}: {exc.strerror}", "SaveFailed") from None
    except BaseException:
        _remove(partial)
        raise
    return SystemLog(session_id, lines, total, size, saved=target)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def download(
    url: str,
    tail: int,
    sink: IO[bytes] | None = None,
    *,
    what: str = "the system logs",
    timeout: float = DOWNLOAD_TIMEOUT,
    chunk: int = CHUNK,
) -> tuple[list[str], int, int]:
    """Download ``url``: (its last ``tail`` lines, its number of lines, its size in bytes),
    every byte also written to ``sink``.  A failure is one GlueError naming ``what``, the
    host and the answer (S3's error code and message), never the URL itself."""
    import collections
    import urllib.error
    import zlib

    opener = _opener(url, what)
    host = urlsplit(url).hostname or "?"
    last: collections.deque[bytes] = collections.deque(maxlen=tail)
    total = size = 0
    pending = b""
    inflate: Any = None
    try:
        with opener.open(url, timeout=timeout) as response:
            if _gzipped(url, response.headers):
                inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while raw := response.read(chunk):
                data = inflate.decompress(raw) if inflate is not None else raw
                size, total, pending = _take(pending, data, size, total, last, sink)
            if inflate is not None:
                size, total, pending = _take(pending, inflate.flush(), size, total, last, sink)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc, what, host) from None
    except (OSError, ValueError, zlib.error) as exc:  # URLError, TLS, a cut connection
        reason = getattr(exc, "reason", None) or exc
        raise _error(f"downloading {what} from {host} failed: {reason}", "DownloadFailed") from None
    if pending:
        total += 1
        last.append(pending)
    text = [line.decode("utf-8", "replace").rstrip("\r") for line in last]
    return text, total, size


def _gzipped(url: str, headers: Any) -> bool:
    """Whether the answer is gzip, as S3 says of an object: its Content-Encoding, its
    Content-Type, or a key ending in ``.gz``."""
    encoding = (headers.get("Content-Encoding") or "").lower()
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return (
        encoding in ("gzip", "x-gzip")
        or kind in ("application/gzip", "application/x-gzip")
        or urlsplit(url).path.endswith(".gz")
    )


def _take(
    pending: bytes,
    data: bytes,
    size: int,
    total: int,
    last: Any,
    sink: IO[bytes] | None,
) -> tuple[int, int, bytes]:
    """Count ``data``'s bytes and whole lines, keep its last lines, pass it to ``sink``."""
    if sink is not None:
        sink.write(data)
    *complete, pending = (pending + data).split(b"\n")
    last.extend(complete)
    return size + len(data), total + len(complete), pending


def _kind(url: str) -> str | None:
    """ "https", "http" (to this machine only) or None: the URLs the logs are read from."""
    from glue_magics.service import is_loopback

    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # an unclosed [ in the host, say
        return None
    if host and (scheme == "https" or (scheme == "http" and is_loopback(url))):
        return scheme
    return None


def _opener(url: str, what: str) -> Any:
    """An opener for ``url``: https with certificates verified (urllib's default context),
    or http to this machine without any proxy; any other URL is refused unopened, and so is
    a redirect to a URL of another kind (https to http, loopback to elsewhere)."""
    import urllib.request

    kind = _kind(url)
    if kind is None:
        scheme = url.split(":", 1)[0][:20] if ":" in url else "none"
        raise _error(
            f"{what}: the download URL is neither https nor on this machine (scheme {scheme!r}); "
            "it was not opened",
            "InsecureUrl",
        )

    class SameKind(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, hdrs: Any, new: str):
            if _kind(new) != kind:
                return None  # urllib raises the redirect itself as an HTTPError
            return super().redirect_request(req, fp, code, msg, hdrs, new)

    handlers = [SameKind()] if kind == "https" else [urllib.request.ProxyHandler({}), SameKind()]
    return urllib.request.build_opener(*handlers)


_S3_FIELD = re.compile(r"<(Code|Message)>([^<]{0,300})</\1>")


def _http_error(exc: Any, what: str, host: str) -> Exception:
    """An HTTP refusal in S3's words (``AccessDenied: Request has expired``), if it has any."""
    import html

    try:
        body = exc.read(4096).decode("utf-8", "replace")
    except OSError:
        body = ""
    fields = {name: html.unescape(value) for name, value in _S3_FIELD.findall(body)}
    said = ": ".join(v for v in (fields.get("Code"), fields.get("Message")) if v)
    detail = f" ({said})" if said else ""
    return _error(
        f"downloading {what} from {host} failed: HTTP {exc.code}{detail}; try again",
        "DownloadFailed",
    )


# --------------------------------------------------------------------------- statements


def history(manager: Any, session_id: str | None) -> tuple[str, list[dict[str, Any]]]:
    """``%glue_history``: the given (or current) session's id and a row per statement."""
    from glue_magics import lifecycle

    session_id, client = _session(manager, session_id)
    statements = list(lifecycle.list_statements(client, session_id))
    return session_id, history_rows(statements, time.time() * 1000)


def history_rows(statements: Iterable[dict], now_ms: float) -> list[dict[str, Any]]:
    """A row per statement, by Id: its state, how long it ran (so far, while it runs),
    and the first line of its code."""
    from glue_magics.lifecycle import statement_time

    rows = []
    for statement in sorted(statements, key=_statement_number):
        state = str(statement.get("State") or "")
        started = statement_time(statement.get("StartedOn"))  # epoch seconds
        completed = statement_time(statement.get("CompletedOn"))
        took = ""
        if started is not None and completed is not None:
            took = duration(max(0.0, completed - started))
        elif started is not None and state not in STATEMENT_DONE:
            took = f"{duration(max(0.0, now_ms / 1000 - started))} so far"
        rows.append(
            {
                "Id": statement.get("Id", ""),
                "State": state,
                "Duration": took,
                "Code": first_line(statement.get("Code")),
            }
        )
    return rows


def _statement_number(statement: dict) -> int:
    number = statement.get("Id")
    return number if isinstance(number, int) and not isinstance(number, bool) else -1


def first_line(code: Any, width: int = CODE_WIDTH) -> str:
    """The first line of code that is not blank, cut to ``width``; "..." marks more."""
    lines = [line.strip() for line in str(code or "").splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    if len(text) > width:
        return text[: width - 3] + "..."
    return text + (" ..." if len(lines) > 1 else "")


# --------------------------------------------------------------------------- Spark UI


def spark_ui(client: Any, session_id: str) -> str | None:
    """The session's Spark UI (GetDashboardUrl), or None wherever the service gives none:
    no Spark yet, not READY, not a Spark Connect session, no permission, an old botocore."""
    from glue_magics.service import GlueError, call

    try:
        reply = call(client, "GetDashboardUrl", ResourceId=session_id, ResourceType="SESSION")
    except GlueError:
        return None
    url = reply.get("Url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


#: What is shown for the Spark UI's link: the link itself is a token (see the docstring).
SPARK_UI_SHOWN = "available: its link is one-time, so it is not printed"


def announce_spark_ui(client: Any, session_id: str, reporter: Any) -> None:
    """At READY: a line saying the Spark UI is there, when the service gives one."""
    if spark_ui(client, session_id):
        from glue_magics.steps import Action, NextStep

        reporter.info(f"Spark UI: {SPARK_UI_SHOWN}", NextStep(Action.SPARK_UI))


@dataclass
class SparkUI:
    """A live session's Spark UI for ``%glue_status``: the row shown, and the link, which
    only the display's link widget may carry."""

    url: str

    @classmethod
    def of(cls, manager: Any, session: Mapping[str, Any]) -> SparkUI | None:
        """The session's Spark UI, when it is live and the service gives one."""
        session_id = session.get("Id")
        if not session_id or session.get("Status") not in LIVE_STATES:
            return None
        url = spark_ui(manager.client_for(session_id), session_id)
        return cls(url) if url else None

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [("Spark UI", SPARK_UI_SHOWN)]
