"""The HTTP side of the local endpoint: Glue's AWS JSON 1.1 wire protocol on loopback.

``POST /`` with ``X-Amz-Target: AWSGlue.<Operation>``; answers and errors are JSON as the
service sends them, so an unmodified boto3 client works through ``endpoint_url``.  This
module is HTTP only: it screens the request (:mod:`~glue_magics.local.auth`: a loopback
Host, no browser Origin, a SigV4 signature by the endpoint's credentials), reads the body,
routes the target to :class:`~glue_magics.local.responses.Responses`, injects faults, and
runs the server's thread; what an operation does is the responses' and the backend's.
"""

from __future__ import annotations

import collections
import dataclasses
import http.server
import json
import random
import socket
import sys
import threading
import time
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from glue_magics.local import auth
from glue_magics.local.backend import Backend
from glue_magics.local.exceptions import ServiceError
from glue_magics.local.faults import Faults
from glue_magics.local.jobs.backend import JobsBackend
from glue_magics.local.logs import LogLinks
from glue_magics.local.objectstore.api import S3Api
from glue_magics.local.objectstore.store import ObjectStore
from glue_magics.local.responses import Responses
from glue_magics.local.settings import EndpointSettings
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

    def _is_s3(self) -> bool:
        """Whether this request is S3's (the object store) rather than Glue's: one signed
        for service ``s3``, by its Authorization header or a presigned URL's query.  Glue's
        calls are ``POST /`` with X-Amz-Target, a log link a GET its own signature signs;
        anything else is answered as before, as an unknown Glue operation."""
        if self.headers.get("X-Amz-Target") is not None:
            return False
        scope = (self.headers.get("Authorization") or "").partition("Credential=")[2]
        if scope:
            return scope.split(",")[0].strip().split("/")[3:4] == ["s3"]
        query = dict(parse_qsl(urlsplit(self.path).query))
        credential = query.get("X-Amz-Credential", "")
        return credential.split("/")[3:4] == ["s3"] or "AWSAccessKeyId" in query

    def _s3(self) -> None:
        """One S3 request, answered by the object store (:mod:`glue_magics.local.objectstore`)."""
        endpoint = self.server.endpoint
        try:
            endpoint.guard.screen(self.headers, endpoint.port)
        except ServiceError as exc:
            self.close_connection = True
            self._refuse(exc)
            return
        endpoint.count("S3." + self.command)
        try:
            response = endpoint.s3.handle(self.command, self.path, self.headers, self.rfile)
        except Exception as exc:  # a bug of ours: say so, as a 500, and log it
            self.log_error("internal error in S3 %s %s: %r", self.command, self.path, exc)
            import traceback

            traceback.print_exc(file=sys.stderr)
            from glue_magics.local.objectstore.api import error_response
            from glue_magics.local.objectstore.store import S3Error

            self.close_connection = True
            response = error_response(S3Error("InternalError", repr(exc), 500), self.path)
        if not response.keep_alive:  # what is left of the body must not be the next request
            self.close_connection = True
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        size = response.length if response.file is not None else len(response.body)
        if "Content-Length" not in response.headers:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        for block in response.chunks():
            self.wfile.write(block)

    def _s3_only(self) -> None:
        """PUT, HEAD and DELETE: S3's alone (the Glue API is POSTs)."""
        if self._is_s3():
            self._s3()
        else:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED)

    do_PUT = do_HEAD = do_DELETE = _s3_only  # noqa: N815 - http.server's naming

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if self._is_s3():
            self._s3()
            return
        endpoint = self.server.endpoint
        try:
            endpoint.guard.screen(self.headers, endpoint.port)  # before a byte of the body
            raw = self._body()
        except ServiceError as exc:
            self.close_connection = True
            self._refuse(exc)
            return
        if raw is None:
            self.close_connection = True
            return
        try:
            endpoint.guard.verify(self.command, self.path, self.headers, raw)
        except ServiceError as exc:
            self._refuse(exc)
            return
        target = self.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else target
        endpoint.count(operation or "<none>")
        endpoint.travel()  # the request's way to the service (latency_ms)
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
            status, body = exc.status, exc.wire()
        except Exception as exc:  # a bug of ours: say so, as a 500, and log it
            self.log_error("internal error in %s: %r", operation, exc)
            import traceback

            traceback.print_exc(file=sys.stderr)
            status, body = 500, ServiceError("InternalServiceException", repr(exc), 500).wire()
        if fault == "lose":  # it took effect; the answer is lost
            self.close_connection = True
            return
        self._answer(status, body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """A GetSystemLogsForSession link (``local/logs.py``): its signature is its
        authorization, as a presigned URL's is; any other GET is not served.  The Host and
        Origin are screened as for the API: no DNS-rebound name, no browser page."""
        if self._is_s3():
            self._s3()
            return
        endpoint = self.server.endpoint
        try:
            endpoint.guard.screen(self.headers, endpoint.port)
        except ServiceError as exc:
            self._refuse(exc)
            return
        reply = endpoint.log_links.answer(self.path)
        if reply is None:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _error(self, exc: ServiceError) -> None:
        self._answer(exc.status, exc.wire())

    def _refuse(self, exc: ServiceError) -> None:
        """A request turned away before any operation: answered, and logged when verbose."""
        if self.server.endpoint.verbose:
            self.log_message("refused: %s: %s", exc.code, exc.message)
        self._error(exc)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8", "surrogatepass")
        self.server.endpoint.travel()  # the answer's way back (latency_ms)
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
    ends; ``ep.stop()`` ends the server and every worker process.  Its keyword arguments
    are the fields of :class:`~glue_magics.local.settings.EndpointSettings` (or pass
    ``settings=``), plus ``faults``, which can change while it serves.  With
    ``results_bucket``, text and PNG outputs over ``result_inline_limit`` bytes are put in
    ``s3://<bucket>/glue-magics/<session>/<statement>/`` as ``result.json``, ``stdout.txt``
    and ``stderr.txt`` (PutObject to ``s3_endpoint_url``, or the S3 botocore finds) and
    Output.Data is MimeType ``text/uri-list`` with their URIs, as the service sends.
    ``busy_status`` makes a READY session report BUSY while a statement waits or runs (or
    a Spark Connect call is served); ``statement_states="completed"`` answers
    COMPLETED/FAILED instead of Livy's AVAILABLE.  ``SessionType="SPARK_CONNECT"`` sessions
    run Spark's own Spark Connect server behind a token-checking TLS proxy (see
    :mod:`glue_magics.local.spark_connect`); :attr:`connect_ca_file` is what clients trust.

    It answers only requests signed (SigV4) by ``credentials`` (see
    :func:`glue_magics.local.auth.resolve`): a client it hands them to, or one with the same
    environment, works; any other request is refused with the service's error.
    """

    def __init__(
        self,
        settings: EndpointSettings | None = None,
        *,
        faults: Faults | None = None,
        **fields: Any,
    ) -> None:
        if settings is None:
            settings = EndpointSettings(**fields)
        elif fields:
            settings = dataclasses.replace(settings, **fields)
        self.settings = settings
        self.port = settings.port  # the bound one once started
        self.identity = auth.resolve(settings)
        self.guard = auth.Guard(self.identity, check_host=is_loopback(settings.host))
        self.faults = faults if faults is not None else Faults()
        self.backend = Backend(settings)
        self.log_links = LogLinks(self.backend, lambda: self.url)
        self.jobs = JobsBackend(settings, self.backend.workers)
        self.responses = Responses(self.backend, self.log_links, self.jobs)
        self.objectstore = ObjectStore(settings.s3_root)
        #: The sessions' own key pair: the object store accepts it, the Glue API does not,
        #: so statements reach S3 without ever holding the endpoint's credentials.
        self.session_identity = auth.Identity(
            auth.generate(), auth.GENERATED, "the sessions' pair for the object store"
        )
        self.s3 = S3Api(self.objectstore, (self.identity, self.session_identity))
        self.calls: collections.Counter[str] = collections.Counter()
        self._calls_lock = threading.Lock()
        self._jitter = random.Random()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def verbose(self) -> bool:
        return self.settings.verbose

    @property
    def credentials(self) -> Any:
        """The credentials requests must be signed with, as botocore's ReadOnlyCredentials
        (access_key, secret_key, token): what a client of this endpoint is handed."""
        return self.identity.frozen()

    def runtime_notice(self, glue_version: str | None) -> str | None:
        """One line when this endpoint's sessions run another Spark or Python than
        ``glue_version`` (else the default) gives on AWS (``glue_magics.versions``): its
        workers run this interpreter and the installed pyspark."""
        import platform
        from importlib.metadata import PackageNotFoundError, version

        from glue_magics import versions
        from glue_magics.local.models import DEFAULT_GLUE_VERSION

        try:
            spark = version("pyspark")
        except PackageNotFoundError:
            spark = "none (pyspark is not installed)"
        asked = glue_version or DEFAULT_GLUE_VERSION
        return versions.runtime_notice(asked, spark, platform.python_version())

    @property
    def results_bucket(self) -> str | None:
        """The bucket big results go to, or None when every result is inline."""
        return self.settings.results_bucket or None

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
        master = self.settings.spark_master
        if master is not None:  # before binding: a master that is not there is one line
            from glue_magics.local import cluster

            why = cluster.unreachable(master)
            if why:
                raise ValueError(why)
            self.backend.workers.env["GLUE_MAGICS_SPARK_MASTER"] = master
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        from glue_magics.local import objectstore

        environment = objectstore.session_environment(
            self.url, self.session_identity.frozen(), self.settings.region, self.settings.data_dir
        )
        self.backend.workers.env.update(environment)
        from glue_magics.local import java

        found = java.find()  # the user's Java, else the local extra's: sessions' and jobs' Spark
        if found is not None:
            self.backend.workers.env.update(found.env())
        objectstore.compile_ahead()  # s3:// in Spark: compiled once per user, in the background
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
        self.jobs.close()
        self.backend.close()

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def travel(self) -> None:
        """One way of a network round trip (``latency_ms``, ``jitter_ms``), slept in the
        request's own thread: half the latency and up to half the jitter each way."""
        settings = self.settings
        if settings.latency_ms or settings.jitter_ms:
            extra = self._jitter.uniform(0.0, settings.jitter_ms) if settings.jitter_ms else 0.0
            time.sleep((settings.latency_ms + extra) / 2000.0)

    # ----------------------------------------------------------------- views
    def count(self, operation: str) -> None:
        with self._calls_lock:
            self.calls[operation] += 1

    @property
    def sessions_created(self) -> int:
        """Sessions that CreateSession actually created (not rejected, not faulted)."""
        return self.backend.sessions_created

    def worker_pids(self) -> list[int]:
        """Process ids of the worker processes still alive (a Spark Connect session's
        program included)."""
        return self.backend.worker_pids()

    def spark_connect_pids(self) -> list[int]:
        """Process ids of the Spark Connect sessions' JVMs still alive."""
        return self.backend.spark_connect_pids()

    @property
    def connect_ca_file(self) -> Path:
        """The certificate (PEM) of the authority that signs the Spark Connect sessions'
        TLS certificates: a client trusts it to connect with ``use_ssl=true`` and
        verification on (``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``, or
        ``grpc.ssl_channel_credentials(root_certificates=...)``).  Made at first use; it
        needs ``cryptography`` (the spark-connect extra); removed when the endpoint stops."""
        return self.backend.certificates.ca_file

    # ----------------------------------------------------------------- requests
    def dispatch(self, target: str, operation: str, raw: bytes) -> dict[str, Any]:
        """Route one request body to its operation, or raise the ServiceError the service
        would send."""
        if not target.startswith(TARGET_PREFIX) or operation not in self.responses.operations:
            raise ServiceError(
                "UnknownOperationException",
                f"Operation '{target or '(no X-Amz-Target)'}' is not supported here",
            )
        return self.responses.answer(operation, raw)

    def __repr__(self) -> str:
        state = "serving" if self._server is not None else "stopped"
        return f"<LocalEndpoint {self.url} {state}>"
