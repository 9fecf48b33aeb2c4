"""The program of one local Spark Connect session: Spark's own server, and a gRPC proxy in
front of it that lets in only callers with a valid ``x-aws-proxy-auth`` token.

Started by the endpoint as ``python -m glue_magics.local.connect_proxy EVENT_FD PARENT_PID``.
Its first stdin line is its configuration (JSON: the token key, the server's own secret, the
TLS certificate, where to listen); events leave as JSON lines on EVENT_FD (``spawned`` with
the JVM's pid, ``ready`` with where it listens, ``calls`` with the calls in flight,
``failed`` with a one-line reason).  When stdin closes it ends the JVM and exits.

What a client meets is what AWS documents ("interactive-sessions-spark-connect-connecting"):
pyspark's Spark Connect client with ``use_ssl=true`` and the token as the
``x-aws-proxy-auth`` gRPC header.  The JVM (``SparkConnectServer`` from the installed
pyspark, whose jars include Spark Connect) listens on 127.0.0.1 only and demands its own
pre-shared secret (``spark.connect.authenticate.token``), which only this proxy has; the
proxy adds it to every call it lets through, so the server's own port admits no one else.

Refusals: no header is UNAUTHENTICATED; a token that is not this session's, or has
expired, is PERMISSION_DENIED.  Evidence: apache/spark PR 56496 and 56497 (SPARK-57425)
report that AWS's Athena Spark Connect proxy, which takes the same ``x-aws-proxy-auth``
header, answers PERMISSION_DENIED once its 30-minute token has expired; nothing public says
what AWS answers for a missing header, so this answers UNAUTHENTICATED, as Spark's own
server does ("No authentication token provided").  The token is checked when a call
starts: a call already running is not cut when its token expires.

The program never outlives the endpoint (Linux's parent-death signal, as the statement
worker has) and the JVM never outlives the program (the same signal, set before ``exec``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from glue_magics.local.worker import (
    Channel,
    die_with_parent,
    java_found,
    objectstore_conf,
    pid_alive,
    spark_master,
    start_child,
)
from glue_magics.session_types import TOKEN_HEADER

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
#: How long the JVM may take to end after SIGTERM (Spark's shutdown hooks) before SIGKILL.
JVM_STOP_SECONDS = 10.0
#: Keys a proxy never copies from one side to the other: HTTP/2 and gRPC's own, and the
#: credentials of each hop.
_HOP_HEADERS = ("user-agent", "te", "content-type", "authorization", TOKEN_HEADER)
_UNLIMITED = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
#: pyspark's client pings every 60 s even between calls (SPARK-58094); gRPC's server
#: default would answer repeated pings with GOAWAY "too_many_pings".  Spark's own server
#: tolerates pings every 10 s; so does this one.
_SERVER_OPTIONS = [
    *_UNLIMITED,
    ("grpc.so_reuseport", 0),  # an address already taken is an error, not a shared port
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
]
#: The JVM's port is polled while it starts; retry the connection that soon.
_UPSTREAM_OPTIONS = [
    *_UNLIMITED,
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


def private_dir(prefix: str) -> Path:
    """A new private temporary directory named for this process (``PREFIX<pid>-...``).

    Those of processes that have ended go first: a program killed with SIGKILL (its
    endpoint was) could not remove its own, and a JVM's may hold shuffle files."""
    for old in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        pid = old.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


class Failure(Exception):
    """The session cannot be served; the message is the session's one-line ErrorMessage."""


# ----------------------------------------------------------------------------- tokens
_EXPIRY = struct.Struct(">Q")  # milliseconds since the epoch
_NONCE_BYTES = 16


def mint_token(key: bytes, expires: float) -> str:
    """A token for the session whose key is ``key``, valid until ``expires`` (epoch s).

    Self-contained (the expiry, a nonce and their HMAC-SHA256), so the proxy checks it with
    no list of issued tokens, and every token stays valid until its own expiry, as AWS's
    do.  Standard base64 with padding: like AWS's tokens it holds ``+``, ``/`` and ``=``,
    which is why AWS's recipe quotes it into the URL (``urllib.parse.quote(token,
    safe="")``; sagemaker-studio's ``_construct_spark_endpoint_url`` says so too).
    """
    body = _EXPIRY.pack(round(expires * 1000)) + secrets.token_bytes(_NONCE_BYTES)
    return base64.b64encode(body + hmac.new(key, body, hashlib.sha256).digest()).decode()


def check_token(key: bytes, token: str, now: float) -> str | None:
    """None for a token of ``key`` that has not expired at ``now``; else why not."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return "invalid"
    body, mac = raw[: -hashlib.sha256().digest_size], raw[-hashlib.sha256().digest_size :]
    if len(body) != _EXPIRY.size + _NONCE_BYTES:
        return "invalid"
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        return "invalid"
    if _EXPIRY.unpack(body[: _EXPIRY.size])[0] <= now * 1000:
        return "expired"
    return None


def token_expiry(token: str) -> float:
    """The expiry (epoch seconds) written in a well-formed token."""
    return _EXPIRY.unpack(base64.b64decode(token)[: _EXPIRY.size])[0] / 1000


# ----------------------------------------------------------------------------- warm-up
def _field(number: int, payload: bytes | str) -> bytes:
    """One length-delimited protobuf field (wire type 2)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


#: The first query a new server runs takes seconds longer than the next (about 12 s more
#: on a 2-core machine); the session runs one before it is READY, so the user's is fast.
WARM_UP_SQL = "SELECT sum(id) FROM range(10)"
_USER = _field(2, _field(1, "glue-magics"))  # UserContext{user_id}


def warm_up_request(session_id: str) -> bytes:
    """``ExecutePlanRequest{session_id, user_context, plan{root{sql{query}}}}`` in
    Spark Connect's wire format (``base.proto``: fields 1, 2, 3; ``Plan.root`` 1;
    ``Relation.sql`` 10; ``SQL.query`` 1), so the proxy needs no pyspark protos."""
    return _field(1, session_id) + _USER + _field(3, _field(1, _field(10, _field(1, WARM_UP_SQL))))


def release_session_request(session_id: str) -> bytes:
    """``ReleaseSessionRequest{session_id, user_context}`` (fields 1, 2)."""
    return _field(1, session_id) + _USER


# ----------------------------------------------------------------------------- the proxy
def _copied(metadata: Any) -> list[tuple[str, Any]]:
    """Metadata a proxy passes on: not HTTP/2's (``:authority``), gRPC's or a hop's own."""
    return [
        (key, value)
        for key, value in metadata or ()
        if not key.startswith((":", "grpc-")) and key not in _HOP_HEADERS
    ]


class Proxy:
    """Every call: check the token, then relay it, bytes as they are, to the JVM."""

    def __init__(
        self, upstream: Any, key: bytes, secret: str, on_calls: Callable[[int], None]
    ) -> None:
        import grpc

        self.grpc = grpc
        self.upstream = upstream
        self.key = key
        self.auth = ("authorization", f"Bearer {secret}")
        self.on_calls = on_calls
        self.active = 0
        self.lock = threading.Lock()

    def handler(self) -> Any:
        """The generic handler the gRPC server routes every method to."""
        proxy, grpc = self, self.grpc

        class Handler(grpc.GenericRpcHandler):
            def service(self, details: Any) -> Any:
                relay = functools.partial(proxy.relay, details.method, details.invocation_metadata)
                return grpc.stream_stream_rpc_method_handler(relay)

        return Handler()

    def refusal(self, metadata: Any) -> tuple[Any, str] | None:
        """The status and message a call with this metadata is refused with, if it is."""
        codes = self.grpc.StatusCode
        tokens = [value for key, value in metadata or () if key == TOKEN_HEADER]
        if not tokens:
            return (
                codes.UNAUTHENTICATED,
                f"no {TOKEN_HEADER} header; get a token with GetSessionEndpoint",
            )
        verdict = check_token(self.key, tokens[0], time.time())
        if verdict == "expired":
            when = datetime.datetime.fromtimestamp(token_expiry(tokens[0]), datetime.timezone.utc)
            return (
                codes.PERMISSION_DENIED,
                f"the {TOKEN_HEADER} token expired at {when:%Y-%m-%dT%H:%M:%SZ}; "
                "get a new one with GetSessionEndpoint",
            )
        if verdict is not None:
            return (
                codes.PERMISSION_DENIED,
                f"the {TOKEN_HEADER} token is not one of this session's; "
                "get one with GetSessionEndpoint",
            )
        return None

    def _count(self, change: int) -> None:
        with self.lock:
            self.active += change
            active = self.active
        self.on_calls(active)

    def relay(self, method: str, metadata: Any, requests: Iterator[bytes], context: Any) -> Any:
        refused = self.refusal(metadata)
        if refused is not None:
            context.abort(*refused)
        self._count(1)
        try:
            call = self.upstream.stream_stream(method)(
                requests, metadata=[*_copied(metadata), self.auth]
            )
            context.add_callback(call.cancel)
            try:
                context.send_initial_metadata(_copied(call.initial_metadata()))
                yield from call
            except self.grpc.RpcError as error:
                if not context.is_active():  # the client went away; nothing to tell it
                    return
                # Spark's errors travel in the trailers (grpc-status-details-bin): pyspark
                # reads the exception class and message from there.
                context.set_trailing_metadata(_passed_trailers(error.trailing_metadata()))
                context.abort(error.code(), error.details() or "")
            context.set_trailing_metadata(_passed_trailers(call.trailing_metadata()))
        finally:
            self._count(-1)


def _passed_trailers(metadata: Any) -> list[tuple[str, Any]]:
    """Trailers to pass back: the rich error status too, which ``_copied`` would drop."""
    kept = [(k, v) for k, v in metadata or () if k == "grpc-status-details-bin"]
    return [*_copied(metadata), *kept]


# ----------------------------------------------------------------------------- the server
def _spark_home() -> Path:
    """The installed pyspark, which has ``bin/spark-submit`` and the jars (one place:
    a ``SPARK_HOME`` of the user's may be another Spark)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise Failure(
            "pyspark is not installed here; Spark Connect sessions run its server "
            "(pip install 'glue-magics[spark-connect]')"
        )
    home = Path(next(iter(spec.submodule_search_locations)))
    if not list((home / "jars").glob("spark-connect_*.jar")):
        raise Failure(
            f"the pyspark at {home} has no Spark Connect server (jars/spark-connect_*.jar); "
            "install pyspark 4.0 or later"
        )
    return home


def _java() -> None:
    if not java_found():
        raise Failure(
            "Java is not installed (no java on PATH, no JAVA_HOME); Spark Connect "
            "sessions run Spark's own server, which needs Java 17 or later"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class SessionServer:
    """One session's JVM and proxy, and their end."""

    def __init__(self, config: dict[str, Any], channel: Channel) -> None:
        self.config = config
        self.channel = channel
        self.key = bytes.fromhex(config["key"])
        self.secret = secrets.token_urlsafe(32)  # the JVM's own: never leaves this program
        self.workdir = private_dir("glue-magics-connect-")
        self.log = self.workdir / "spark.log"
        self.jvm: subprocess.Popen[bytes] | None = None
        self.server: Any = None
        self.stopping = threading.Event()  # the JVM is being ended on purpose
        self.closed = threading.Event()  # stdin closed: the session is over
        self.warming: Any = None  # the warm-up call, cancelled if the session ends first

    # -- the JVM
    def start_spark(self) -> None:
        home = _spark_home()
        _java()
        self.port = _free_port()
        session = self.config.get("session_id", "glue")
        conf = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.local.dir": str(self.workdir),
            "spark.sql.warehouse.dir": str(self.workdir / "spark-warehouse"),
            "spark.log.level": "WARN",
        }
        conf.update(self.config.get("cluster_conf") or {})  # its executors on a cluster
        conf.update(objectstore_conf())  # s3://, s3a://, s3n:// paths
        argv = [str(home / "bin" / "spark-submit"), "--master", spark_master()]
        argv += ["--name", f"glue-magics {session}", "--class", SERVER_CLASS]
        argv += ["--driver-java-options", f"-Djava.io.tmpdir={self.workdir}"]
        for name, value in conf.items():
            argv += ["--conf", f"{name}={value}"]
        env = dict(
            os.environ,
            SPARK_HOME=str(home),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_CONNECT_AUTHENTICATE_TOKEN=self.secret,  # not on the command line: ps shows it
        )
        with open(self.log, "wb") as log:
            self.jvm = subprocess.Popen(
                [*argv, "spark-internal"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,  # spark-warehouse, derby.log and the like stay in here
                env=env,
                # spark-submit execs the JVM, which keeps the signal: it dies with us
                preexec_fn=functools.partial(die_with_parent, os.getpid()),
                start_new_session=True,
            )
        self.channel.send({"event": "spawned", "pid": self.jvm.pid})

    def log_tail(self) -> str:
        """The JVM's last error line (or last line), as one line."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        lines = [line.strip() for line in lines if line.strip()]
        errors = [line for line in lines if "ERROR" in line or "Exception" in line]
        chosen = (errors or lines or [""])[-1]
        return chosen[:300]

    def exited(self, code: int | None) -> Failure:
        tail = self.log_tail()
        return Failure(
            f"the Spark Connect server exited (code {code}) before it answered"
            + (f": {tail}" if tail else "")
        )

    def wait_until_answering(self, upstream: Any, deadline: float) -> bool:
        """Until the JVM listens, then its first query (see :data:`WARM_UP_SQL`); False
        if the session ended first."""
        import grpc

        assert self.jvm is not None
        while not _listening(self.port):
            if self.closed.is_set():
                return False
            if self.jvm.poll() is not None:
                raise self.exited(self.jvm.returncode)
            if time.monotonic() > deadline:
                raise Failure(
                    f"the Spark Connect server did not answer within "
                    f"{self.config['start_seconds']:g} s"
                )
            time.sleep(0.2)
        session = str(uuid.uuid4())
        auth = [("authorization", f"Bearer {self.secret}")]
        execute = upstream.unary_stream("/spark.connect.SparkConnectService/ExecutePlan")
        while True:
            remaining = deadline - time.monotonic()
            try:
                self.warming = execute(warm_up_request(session), metadata=auth, timeout=remaining)
                if self.closed.is_set():
                    self.warming.cancel()
                for _ in self.warming:
                    pass
                break
            except grpc.RpcError as error:
                if self.closed.is_set():
                    return False
                if error.code() == grpc.StatusCode.UNAVAILABLE and remaining > 0.2:
                    if self.jvm.poll() is not None:
                        raise self.exited(self.jvm.returncode) from None
                    time.sleep(0.2)
                    continue
                if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise Failure(
                        f"the Spark Connect server did not answer within "
                        f"{self.config['start_seconds']:g} s"
                    ) from None
                break  # it answered, if with an error: it serves
        release = upstream.unary_unary("/spark.connect.SparkConnectService/ReleaseSession")
        try:
            release(release_session_request(session), metadata=auth, timeout=10)
        except grpc.RpcError:
            pass
        return not self.closed.is_set()

    def read_commands(self, commands: Any) -> None:
        """Nothing more is asked of the program: it serves until its stdin closes."""
        for _ in commands:
            pass
        self.closed.set()
        warming = self.warming
        if warming is not None:
            warming.cancel()

    # -- the proxy
    def calls(self, active: int) -> None:
        self.channel.send({"event": "calls", "active": active})

    def serve(self, upstream: Any) -> tuple[str, int]:
        """Start the proxy; where it listens.  The configured address first (port 443,
        where AWS's recipe connects), else a free port on 127.0.0.1 (443 needs privileges
        this process may not have)."""
        import concurrent.futures

        import grpc

        proxy = Proxy(upstream, self.key, self.secret, self.calls)
        self.server = grpc.server(
            concurrent.futures.ThreadPoolExecutor(32, "glue-connect-proxy"),
            handlers=[proxy.handler()],
            options=_SERVER_OPTIONS,
        )
        credentials = grpc.ssl_server_credentials(
            [(self.config["cert_key"].encode(), self.config["cert"].encode())]
        )
        host, port = self.config["host"], int(self.config["port"])
        bound = 0
        if port:
            try:
                bound = self.server.add_secure_port(f"{host}:{port}", credentials)
            except RuntimeError:  # EACCES (port 443 unprivileged), EADDRINUSE, no such address
                bound = 0
        if not bound:
            host = "127.0.0.1"
            bound = self.server.add_secure_port(f"{host}:0", credentials)
        self.server.start()
        return host, bound

    # -- the whole life
    def run(self, commands: Any) -> None:
        try:
            import grpc
        except ImportError:
            raise Failure(
                "grpcio is not installed; Spark Connect sessions need the spark-connect "
                "extra (pip install 'glue-magics[spark-connect]')"
            ) from None
        self.start_spark()  # first: no other thread may hold a lock when it forks
        assert self.jvm is not None
        threading.Thread(target=self.read_commands, args=(commands,), daemon=True).start()
        upstream = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_UPSTREAM_OPTIONS)
        host, port = self.serve(upstream)
        deadline = time.monotonic() + float(self.config["start_seconds"])
        if not self.wait_until_answering(upstream, deadline):
            return
        threading.Thread(target=self._watch, daemon=True).start()
        ready = {"host": host, "port": port, "pid": self.jvm.pid, "server_port": self.port}
        self.channel.send({"event": "ready", **ready})
        self.closed.wait()

    def _watch(self) -> None:
        """A JVM that ends while serving fails the session."""
        assert self.jvm is not None
        code = self.jvm.wait()
        if self.stopping.is_set():
            return
        tail = self.log_tail()
        self.channel.send(
            {
                "event": "failed",
                "reason": f"the Spark Connect server exited unexpectedly (code {code})"
                + (f": {tail}" if tail else ""),
            }
        )
        self.cleanup()
        os._exit(1)

    def stop(self) -> None:
        """End the proxy, then the JVM (SIGTERM, then SIGKILL), then remove its files."""
        self.stopping.set()
        if self.server is not None:
            self.server.stop(0)
        jvm = self.jvm
        if jvm is not None and jvm.poll() is None:
            try:
                jvm.terminate()
                jvm.wait(JVM_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                jvm.kill()
                jvm.wait()
        self.cleanup()

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)  # unwinds through ``stop``


def main(argv: list[str] | None = None) -> int:
    channel = start_child("glue_magics.local.connect_proxy", "EVENT_FD", argv)
    if channel is None:
        return 2
    commands = sys.stdin.buffer
    try:
        config = json.loads(commands.readline())
    except ValueError:
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    server = SessionServer(config, channel)
    try:
        server.run(commands)
    except Failure as exc:
        channel.send({"event": "failed", "reason": str(exc)})
        return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
