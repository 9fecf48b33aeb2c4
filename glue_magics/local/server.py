"""The HTTP side of the local endpoint: Glue's AWS JSON 1.1 wire protocol.

``POST /`` with ``X-Amz-Target: AWSGlue.<Operation>``; answers and errors are JSON as the
service sends them, so an unmodified boto3 client works through ``endpoint_url``.
"""

from __future__ import annotations

import collections
import http.server
import json
import math
import socket
import sys
import threading
import time
import uuid
from http import HTTPStatus
from typing import Any

from glue_magics.local import validation
from glue_magics.local.engine import DEFAULT_RESULT_INLINE_LIMIT, OPERATIONS, Engine
from glue_magics.local.exceptions import ServiceError
from glue_magics.local.faults import Faults
from glue_magics.service import is_loopback

TARGET_PREFIX = "AWSGlue."
CONTENT_TYPE = "application/x-amz-json-1.1"
#: The largest request body read; RunStatement's Code, the biggest member, is 68,000 chars.
MAX_BODY_BYTES = 8 * 2**20
#: Faults answered instead of the request: (code, message, HTTP status).
INJECTED = {
    "throttle": ("ThrottlingException", "Rate exceeded", 400),
    "error5xx": ("InternalServiceException", "Injected internal failure", 500),
}


def _wire_error(exc: ServiceError) -> dict[str, str]:
    return {"__type": exc.code, "message": exc.message}


def _finite(text: str) -> float:
    """json's parse_float that refuses what JSON has no spelling for (1e999 is inf)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a poll is one round trip, not a handshake
    default_request_version = "HTTP/1.1"  # a garbled request line still gets a status line
    server_version = "glue-magics-local"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small answers must not wait for the peer's delayed ACK (Nagle).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.endpoint.verbose:
            super().log_message(format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a garbled request line, a method other than POST,
        headers too long) as JSON errors like every other answer, never an HTML page."""
        self.close_connection = True
        if code == HTTPStatus.NOT_IMPLEMENTED:  # no do_<METHOD>: only POST is served
            method = (self.command or "?")[:20]
            exc = ServiceError(
                "UnknownOperationException", f"{method} is not served; use POST / with X-Amz-Target"
            )
        else:
            phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
            exc = ServiceError(
                phrase.title().replace(" ", "") + "Exception", message or phrase, code
            )
        self._error(exc)

    def _body(self) -> bytes | None:
        """The request body, or None when the client went away before sending it all.

        Raises ServiceError for a body that cannot or must not be read; the connection then
        closes, since what is left of the body would be taken for the next request."""
        if self.headers.get("Transfer-Encoding"):
            raise ServiceError(
                "LengthRequiredException",
                "chunked request bodies are not accepted; send Content-Length",
                HTTPStatus.LENGTH_REQUIRED,
            )
        text = (self.headers.get("Content-Length") or "0").strip()
        if not (text.isascii() and text.isdigit()):
            raise ServiceError(
                "SerializationException", f"Content-Length {text[:40]!r} is not a number of bytes"
            )
        length = int(text)
        if length > MAX_BODY_BYTES:
            raise ServiceError(
                "RequestEntityTooLargeException",
                f"the request body of {length} bytes is above the limit of {MAX_BODY_BYTES}",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        raw = self.rfile.read(length) if length else b""
        return raw if len(raw) == length else None

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        try:
            raw = self._body()
        except ServiceError as exc:
            self.close_connection = True
            self._error(exc)
            return
        if raw is None:
            self.close_connection = True
            return
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else target
        endpoint = self.server.endpoint
        endpoint.count(operation or "<none>")
        fault = endpoint.faults.draw(operation)
        if fault == "drop":
            self.close_connection = True  # no answer at all: the client sees a dead socket
            return
        if fault in INJECTED:
            self._error(ServiceError(*INJECTED[fault]))
            return
        try:
            status, body = 200, endpoint.dispatch(target, operation, raw)
        except ServiceError as exc:
            status, body = exc.status, _wire_error(exc)
        except Exception as exc:  # a bug of ours: say so, as a 500, and log it
            self.log_error("internal error in %s: %r", operation, exc)
            import traceback

            traceback.print_exc(file=sys.stderr)
            status, body = (
                500,
                _wire_error(ServiceError("InternalServiceException", repr(exc), 500)),
            )
        if fault == "lose":  # it took effect; the answer is lost
            self.close_connection = True
            return
        self._answer(status, body)

    def _error(self, exc: ServiceError) -> None:
        self._answer(exc.status, _wire_error(exc))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8", "surrogatepass")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        # One write for head and body: fewer packets, no Nagle stall.
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []


class _Server(http.server.ThreadingHTTPServer):
    """One daemon thread per connection (a kernel exiting must not wait for idle
    keep-alive clients), each tracked from accept until closed, so ``close`` can cut
    every connection and wait for every thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], endpoint: LocalEndpoint) -> None:
        self.endpoint = endpoint
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"glue-local-request-{self.server_address[1]}",
            daemon=True,
        )
        with self._connections_lock:  # tracked before it runs: no window for close to miss
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request is not our bug: no traceback for it."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, cut kept-alive connections (so a stopped endpoint answers
        nothing at all) and wait for the threads serving them."""
        self.server_close()
        with self._connections_lock:
            connections = dict(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))


class LocalEndpoint:
    """A Glue endpoint on this machine; statements run as Python in one process per session.

    ``with LocalEndpoint() as ep:`` serves on ``ep.url`` in a daemon thread until the block
    ends; ``ep.stop()`` ends the server and every worker process.  With ``results_bucket``,
    text and PNG outputs over ``result_inline_limit`` bytes are put in
    ``s3://<bucket>/glue-magics/<session>/<statement>/`` as ``result.json``, ``stdout.txt``
    and ``stderr.txt`` (PutObject to ``s3_endpoint_url``, or the S3 botocore finds) and
    Output.Data is MimeType ``text/uri-list`` with their URIs, as the service sends.
    ``busy_status`` makes a READY session report BUSY while a statement waits or runs;
    ``statement_states="completed"`` answers COMPLETED/FAILED instead of Livy's AVAILABLE.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        provision_seconds: float = 3.0,
        minute_seconds: float = 60.0,
        stop_seconds: float = 0.3,
        allow_remote: bool = False,
        faults: Faults | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        verbose: bool = False,
        results_bucket: str | None = None,
        s3_endpoint_url: str | None = None,
        result_inline_limit: int = DEFAULT_RESULT_INLINE_LIMIT,
        busy_status: bool = False,
        statement_states: str = "livy",
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(
                f"host {host!r} is not a loopback address; the endpoint runs any code it is "
                "sent, so listening beyond this machine needs allow_remote=True (--allow-remote)"
            )
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.verbose = verbose
        self.faults = faults if faults is not None else Faults()
        self.engine = Engine(
            provision_seconds=provision_seconds,
            minute_seconds=minute_seconds,
            stop_seconds=stop_seconds,
            region=region,
            account_id=account_id,
            results_bucket=results_bucket,
            s3_endpoint_url=s3_endpoint_url,
            result_inline_limit=result_inline_limit,
            busy_status=busy_status,
            statement_states=statement_states,
        )
        self.calls: collections.Counter[str] = collections.Counter()
        self._calls_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def results_bucket(self) -> str | None:
        """The bucket big results go to, or None when every result is inline."""
        return self.engine.results.bucket if self.engine.results is not None else None

    # ----------------------------------------------------------------- serving
    def start(self) -> LocalEndpoint:
        """Bind and serve in a daemon thread; returns self (``ep.url`` is then known)."""
        if self._server is not None:
            return self
        if not is_loopback(self.host):
            print(
                f"WARNING: the local Glue endpoint listens on {self.host}, beyond this "
                "machine; anyone who reaches it can run code as you.",
                file=sys.stderr,
            )
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="glue-local-endpoint",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and end every worker process; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.engine.close()

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- views
    def count(self, operation: str) -> None:
        with self._calls_lock:
            self.calls[operation] += 1

    @property
    def sessions_created(self) -> int:
        """Sessions that CreateSession actually created (not rejected, not faulted)."""
        return self.engine.sessions_created

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes still alive."""
        return self.engine.worker_pids()

    # ----------------------------------------------------------------- requests
    def dispatch(self, target: str, operation: str, raw: bytes) -> dict[str, Any]:
        """Answer one request body, or raise the ServiceError the service would send."""
        handler = OPERATIONS.get(operation) if target.startswith(TARGET_PREFIX) else None
        if handler is None:
            raise ServiceError(
                "UnknownOperationException",
                f"Operation '{target or '(no X-Amz-Target)'}' is not supported here",
            )
        try:
            text = raw.decode("utf-8", "surrogatepass")
            body = (
                json.loads(text, parse_float=_finite, parse_constant=_no_constant)
                if text.strip()
                else {}
            )
        except (ValueError, RecursionError) as exc:  # RecursionError: [[[[... nested too deep
            reason = " ".join(str(exc).split())[:200]
            message = f"Request body is not JSON: {reason}"
            raise ServiceError("SerializationException", message) from None
        from glue_magics import model

        shape = model.operation(operation).input_shape
        answer = validation.summary(validation.problems(body, shape))
        if answer is not None:
            raise answer
        return handler(self.engine, body)

    def __repr__(self) -> str:
        state = "serving" if self._server is not None else "stopped"
        return f"<LocalEndpoint {self.url} {state}>"
