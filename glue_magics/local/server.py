"""The HTTP side of the local endpoint: Glue's AWS JSON 1.1 wire protocol.

``POST /`` with ``X-Amz-Target: AWSGlue.<Operation>``; answers and errors are JSON as the
service sends them, so an unmodified boto3 client works through ``endpoint_url``.
"""

from __future__ import annotations

import collections
import http.server
import ipaddress
import json
import socket
import sys
import threading
import uuid
from typing import Any

from glue_magics.local import validation
from glue_magics.local.engine import DEFAULT_RESULT_INLINE_LIMIT, OPERATIONS, Engine, GlueError
from glue_magics.local.faults import Faults

TARGET_PREFIX = "AWSGlue."
CONTENT_TYPE = "application/x-amz-json-1.1"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a poll is one round trip, not a handshake
    server_version = "glue-magics-local"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small answers must not wait for the peer's delayed ACK (Nagle).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.endpoint.verbose:
            super().log_message(format, *args)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else target
        endpoint = self.server.endpoint
        endpoint.count(operation or "<none>")
        fault = endpoint.faults.draw(operation)
        if fault == "drop":
            self.close_connection = True  # no answer at all: the client sees a dead socket
            return
        if fault == "throttle":
            self._error(GlueError("ThrottlingException", "Rate exceeded"))
            return
        if fault == "error5xx":
            self._error(
                GlueError("InternalServiceException", "Injected internal failure", status=500)
            )
            return
        if fault == "lose":
            try:
                endpoint.dispatch(target, operation, raw)
            except GlueError:
                pass
            self.close_connection = True
            return
        try:
            self._answer(200, endpoint.dispatch(target, operation, raw))
        except GlueError as exc:
            self._error(exc)
        except Exception as exc:  # a bug of ours: say so, as a 500, and log it
            self.log_error("internal error in %s: %r", operation, exc)
            import traceback

            traceback.print_exc(file=sys.stderr)
            self._error(GlueError("InternalServiceException", repr(exc), status=500))

    def do_GET(self) -> None:  # noqa: N802
        self._error(GlueError("UnknownOperationException", "Use POST / with X-Amz-Target"))

    def _error(self, exc: GlueError) -> None:
        self._answer(exc.status, {"__type": exc.code, "message": exc.message})

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
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], endpoint: LocalEndpoint) -> None:
        self.endpoint = endpoint
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Cut kept-alive connections, so a stopped endpoint answers nothing at all."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class LocalEndpoint:
    """A Glue endpoint on this machine; statements run as Python in one process per session.

    ``with LocalEndpoint() as ep:`` serves on ``ep.url`` in a daemon thread until the block
    ends; ``ep.stop()`` ends the server and every worker process.  With ``results_bucket``,
    rich results over ``result_inline_limit`` bytes are put in
    ``s3://<bucket>/glue-magics/<session>/<statement>.<ext>`` (PutObject to
    ``s3_endpoint_url``, or the S3 botocore finds) and Result is that URI.
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
            server.server_close()
            server.close_connections()
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
        """Answer one request body, or raise the GlueError the service would send."""
        handler = OPERATIONS.get(operation) if target.startswith(TARGET_PREFIX) else None
        if handler is None:
            raise GlueError(
                "UnknownOperationException",
                f"Operation '{target or '(no X-Amz-Target)'}' is not supported here",
            )
        try:
            body = json.loads(raw.decode("utf-8", "surrogatepass")) if raw.strip() else {}
        except ValueError as exc:
            raise GlueError("SerializationException", f"Request body is not JSON: {exc}") from None
        from glue_magics import model

        shape = model.operation(operation).input_shape
        answer = validation.summary(validation.problems(body, shape))
        if answer is not None:
            raise GlueError(*answer)
        return handler(self.engine, body)

    def __repr__(self) -> str:
        state = "serving" if self._server is not None else "stopped"
        return f"<LocalEndpoint {self.url} {state}>"
