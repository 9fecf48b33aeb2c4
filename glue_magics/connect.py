"""The client side of Spark Connect sessions: a live ``spark`` bound to a Glue session.

After READY, ``GetSessionEndpoint`` gives the session's ``SparkConnect.Url``, an
``AuthToken`` and its ``AuthTokenExpirationTime``; a Spark Connect ``SparkSession`` is then
built the way AWS documents ("interactive-sessions-spark-connect-connecting":
``f"{Url}:443/;use_ssl=true;x-aws-proxy-auth={quote(token, safe='')}"``, the Url's own
port when it names one).  Its channel builder reads the ``x-aws-proxy-auth`` header on
every call (pyspark asks ``ChannelBuilder.metadata()`` per RPC), and a token near its
expiry is replaced there by calling GetSessionEndpoint again, as AWS's own client
(sagemaker-studio) renews its "~30 minute" tokens: the SparkSession is never rebuilt, so
DataFrames and temp views survive.  pyspark loads at the first connection, not here.

:class:`ConnectSessions` is what ``SessionManager`` holds: one :class:`SparkConnection`
per Spark Connect session, the user namespace it binds ``spark`` in, and the session's end.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from glue_magics.session_types import DEFAULT_PORT, EXTRA, SPARK_CONNECT, TOKEN_HEADER
from glue_magics.steps import Action, NextStep

__all__ = [
    "ConnectSessions",
    "SessionGone",
    "SparkConnection",
    "Token",
    "recipe_url",
]

#: How long a GetSessionEndpoint right after READY is asked again while it fails
#: transiently (throttling, 5xx, a lost connection).
ENDPOINT_PATIENCE = 30.0
#: A token is renewed when less than this part of its life is left (and at most 5 min
#: before it expires: AWS's tokens live ~30 minutes).
RENEW_FRACTION, RENEW_MOST = 0.25, 300.0
#: The name ``spark`` is bound to in the user namespace.
NAME = "spark"


def _error(message: str, code: str, *steps: NextStep, **kwargs: Any) -> Exception:
    from glue_magics.service import GlueError

    return GlueError(message, code, next_steps=steps, **kwargs)


class SessionGone(Exception):
    """The Glue session behind ``spark`` has ended: one line, no traceback, in user code."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def recipe_url(url: str, token: str) -> str:
    """AWS's connection string: the Url, port 443 unless it names its own, TLS, and the
    token quoted as the ``x-aws-proxy-auth`` parameter (pyspark turns it into the header)."""
    authority = url.split("://", 1)[-1].split("/", 1)[0]
    named = re.search(r":[0-9]+$", authority) and not authority.endswith("]")
    base = url.rstrip("/") if named else f"{url.rstrip('/')}:{DEFAULT_PORT}"
    return f"{base}/;use_ssl=true;{TOKEN_HEADER}={urllib.parse.quote(token, safe='')}"


def _epoch(value: Any) -> float:
    """AuthTokenExpirationTime as seconds since the epoch (boto3 gives a datetime)."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


class Token:
    """The session's current token, renewed by ``fetch`` (GetSessionEndpoint) when little
    of its life is left.  Thread-safe: ``interruptAll`` may run beside a query."""

    def __init__(
        self, fetch: Callable[[], Mapping[str, Any]], clock: Callable[[], float] = time.time
    ):
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self.url = ""
        self.value = ""
        self.expires = 0.0
        self.renewals = -1  # the first fetch is not a renewal
        self._renew_at = 0.0

    def refresh(self) -> None:
        """Ask for a new token now."""
        reply = self._fetch()
        now = self._clock()
        self.url, self.value = reply["Url"], reply["AuthToken"]
        self.expires = _epoch(reply["AuthTokenExpirationTime"])
        margin = min(RENEW_MOST, RENEW_FRACTION * max(self.expires - now, 0.0))
        self._renew_at = self.expires - margin
        self.renewals += 1

    def current(self) -> str:
        """The token to send now: renewed first when it is near its expiry."""
        with self._lock:
            if self._clock() >= self._renew_at:
                self.refresh()
            return self.value


class SparkConnection:
    """One Spark Connect session's client: its token and its ``SparkSession``."""

    def __init__(self, glue: Any, session_id: str, ca_file: str | None = None) -> None:
        self.glue = glue
        self.session_id = session_id
        self.ca_file = ca_file
        self.token = Token(self._endpoint)
        self.spark: Any = None
        self.progress: Any = None

    def _endpoint(self) -> Mapping[str, Any]:
        """GetSessionEndpoint's SparkConnect; a session that ended is :class:`SessionGone`."""
        from glue_magics.service import GlueError, call

        try:
            return call(self.glue, "GetSessionEndpoint", SessionId=self.session_id)["SparkConnect"]
        except GlueError as exc:
            if exc.code in ("EntityNotFoundException", "IllegalSessionStateException"):
                raise SessionGone(
                    f"Spark Connect session {self.session_id} has ended ({exc.code}); "
                    "`spark` no longer works: start a new session with %glue_session"
                ) from None
            raise

    def connect(self) -> Any:
        """The first token (a transient failure right after READY is asked again), then the
        ``SparkSession``, built on a channel builder that reads the token per call."""
        from glue_magics import lifecycle

        lifecycle._again_while_transient(self.token.refresh, ENDPOINT_PATIENCE)
        builder = _channel_builder(recipe_url(self.token.url, self.token.value), self)
        from pyspark.sql.connect.session import SparkSession

        self.spark = SparkSession.builder.channelBuilder(builder).create()
        # As pyspark's own builder does for a remote Url (pyspark/sql/session.py): without
        # it ``pyspark.sql.functions`` (F.col...) take the classic path and fail here.
        os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
        return self.spark

    def close(self) -> None:
        """Let go of the server's session (no error if it is gone already)."""
        spark, self.spark = self.spark, None
        if spark is not None:
            try:
                spark.client.close()
            except Exception:  # noqa: BLE001 - the session may be gone: nothing to release
                pass


def quiet_grpc() -> None:
    """gRPC's C core logs INFO lines to the process's stderr (a GOAWAY as a session stops),
    which a notebook shows; call before grpc is first imported (unless the user chose)."""
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


def _channel_builder(url: str, connection: SparkConnection) -> Any:
    """pyspark's ``DefaultChannelBuilder`` for ``url`` whose ``x-aws-proxy-auth`` header is
    the connection's current token, and which trusts ``ca_file`` when there is one."""
    quiet_grpc()
    try:
        from pyspark.sql.connect.client import DefaultChannelBuilder
        from pyspark.sql.connect.utils import check_dependencies

        check_dependencies()
    except ImportError as exc:
        raise _error(
            f"Spark Connect sessions need pyspark's Spark Connect client ({exc}); {EXTRA}",
            "NoSparkConnect",
        ) from None

    class GlueChannelBuilder(DefaultChannelBuilder):
        def metadata(self) -> Iterable[tuple[str, str]]:
            rest = [(k, v) for k, v in super().metadata() if k != TOKEN_HEADER]
            return [*rest, (TOKEN_HEADER, connection.token.current())]

        def toChannel(self) -> Any:
            if connection.ca_file is None:
                return super().toChannel()
            import grpc

            with open(connection.ca_file, "rb") as f:
                roots = f.read()
            return self._secure_channel(self.endpoint, grpc.ssl_channel_credentials(roots))

    return GlueChannelBuilder(url)


def version_mismatch(
    client: str, server: str, session_id: str, glue_version: str | None = None
) -> str:
    """One line when the client's Spark (major.minor) is not the session's, else "": with
    the exact ``pip install`` for the session's Spark (``versions.pip_install_line``: the
    Glue version's Spark from the one table, else the server's release number)."""
    from glue_magics.versions import pip_install_line

    def major_minor(text: str) -> tuple[str, ...]:
        return tuple(re.findall(r"[0-9]+", text)[:2])

    if major_minor(client) == major_minor(server):
        return ""
    return (
        f"pyspark {client} here, Spark {server} in session {session_id}: AWS pins the Spark "
        f"Connect client to the session's Spark; if calls fail, "
        f"{pip_install_line(glue_version, server)}"
    )


class ProgressBars:
    """pyspark's progress handler: each Spark operation that reports progress drives a
    statement bar of the reporter (``reporting.Reporter.statement``), as statements do."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter
        self.count = 0
        self.bars: dict[str | None, tuple[Any, float]] = {}

    def __call__(
        self,
        stages: Iterable[Any] | None,
        inflight_tasks: int,
        operation_id: str | None,
        done: bool,
    ) -> None:
        stages = list(stages or ())
        entry = self.bars.get(operation_id)
        if entry is None and (done or not stages):
            return  # ended before it reported anything: no bar at all
        if entry is None:
            self.count += 1
            entry = self.bars[operation_id] = (
                self.reporter.statement(self.count),
                time.monotonic(),
            )
        bar, start = entry
        if done:
            del self.bars[operation_id]
            bar.done("AVAILABLE", time.monotonic() - start)
            return
        total = sum(s.num_tasks for s in stages)
        finished = sum(s.num_completed_tasks for s in stages)
        bar.update("RUNNING", finished / total if total else 0.0, time.monotonic() - start)

    def interrupted(self) -> None:
        """Mark the bars of a Ctrl-C'd cell CANCELLED."""
        for bar, start in self.bars.values():
            bar.done("CANCELLED", time.monotonic() - start)
        self.bars.clear()


class ConnectSessions:
    """The Spark Connect sessions of one ``SessionManager``: which sessions are of that
    type, their connections, and ``spark`` in ``namespace`` (the user's, set by the magics)."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager
        self.types: dict[str, str] = {}  # session id -> SessionType, as GetSession said
        self.glue_versions: dict[str, str | None] = {}  # session id -> its GlueVersion
        self.connections: dict[str, SparkConnection] = {}
        self.namespace: dict[str, Any] | None = None

    def note(self, session: Mapping[str, Any]) -> None:
        """Remember a session's type from its GetSession reply."""
        if session.get("Id"):
            self.types[session["Id"]] = session.get("SessionType") or "LIVY"
            self.glue_versions[session["Id"]] = session.get("GlueVersion")

    def is_connect(self, session_id: str) -> bool:
        return self.types.get(session_id) == SPARK_CONNECT

    def ready(self, session: Mapping[str, Any]) -> None:
        """A session turned READY: a Spark Connect one is connected and bound as ``spark``."""
        self.note(session)
        if self.is_connect(session["Id"]):
            self.spark(session["Id"])

    def spark(self, session_id: str) -> Any:
        """The ``SparkSession`` of a Spark Connect session, connected at first use."""
        known = self.connections.get(session_id)
        if known is not None and known.spark is not None:
            return known.spark
        clients = self.manager.clients_for(session_id)
        connection = SparkConnection(clients.glue, session_id, self._ca_file(clients))
        try:
            spark = connection.connect()
        except SessionGone as exc:
            raise _error(str(exc), "SessionGone", NextStep(Action.CREATE)) from None
        except Exception as exc:
            if getattr(exc, "code", None) or type(exc).__name__ == "GlueError":
                raise
            raise _error(
                f"could not connect to Spark Connect session {session_id}: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                "SparkConnectFailed",
                NextStep(Action.STATUS),
                NextStep(Action.STOP, session_id),
            ) from None
        self.connections[session_id] = connection
        connection.progress = ProgressBars(self.manager.reporter)
        spark.registerProgressHandler(connection.progress)
        self._check_version(spark, session_id)
        if self.namespace is not None:
            self.namespace[NAME] = spark
        self.manager.reporter.info(
            f"Spark Connect session {session_id}: `{NAME}` is bound here "
            f"(Spark {getattr(spark, 'version', '?')})"
        )
        return spark

    def _check_version(self, spark: Any, session_id: str) -> None:
        import pyspark

        glue_version = self.glue_versions.get(session_id)
        line = version_mismatch(pyspark.__version__, spark.version, session_id, glue_version)
        if line:
            self.manager.reporter.info(line)

    def _ca_file(self, clients: Any) -> str | None:
        """The authority to trust: the embedded endpoint's, else the setting's (an external
        local endpoint's ``connect_ca_file``), else the system's roots (AWS)."""
        local = self.manager.clients._local
        if getattr(clients, "embedded", False) and local is not None:
            return str(local.connect_ca_file)
        setting = getattr(self.manager.settings, "connect_ca_file", "")
        return setting or os.environ.get("GLUE_CONNECT_CA_FILE") or None

    def end(self, session_id: str) -> None:
        """The session ended or is forgotten: let go of its connection and of ``spark``."""
        self.types.pop(session_id, None)
        connection = self.connections.pop(session_id, None)
        if connection is None:
            return
        if self.namespace is not None and self.namespace.get(NAME) is connection.spark:
            del self.namespace[NAME]
        connection.close()

    def interrupt(self, session_id: str) -> int:
        """Interrupt every running operation of the session (Ctrl-C); how many there were."""
        connection = self.connections.get(session_id)
        if connection is None or connection.spark is None:
            return 0
        if connection.progress is not None:
            connection.progress.interrupted()
        return len(connection.spark.interruptAll())

    def close(self) -> None:
        for session_id in list(self.connections):
            self.end(session_id)

    def _interrupted(self, session_id: str | None) -> None:
        """Ctrl-C: interrupt the session's running Spark operations, and say so."""
        try:  # pyspark interrupts the operation it was waiting for; this, any other
            self.interrupt(session_id) if session_id else 0
        except Exception as exc:  # noqa: BLE001 - the interrupt itself may fail: say so
            first = (str(exc).splitlines() or [""])[0]
            print(f"Interrupted; cancelling the Spark operations failed: {first}")
            return
        print(f"Interrupted: the running Spark operations of session {session_id} were cancelled")

    @contextlib.contextmanager
    def interrupting(self, session_id: str | None) -> Iterator[None]:
        """Ctrl-C in the block interrupts the session's Spark operations (``interruptAll``)
        and fails the cell with one line (``reporting.Shown``)."""
        from glue_magics.reporting import Shown

        try:
            yield
        except KeyboardInterrupt:
            self._interrupted(session_id)
            raise Shown("interrupted") from None

    def run_in_shell(self, shell: Any, code: str, session_id: str | None) -> None:
        """Run a cell in this kernel (``spark`` is bound here), its output, value and
        tracebacks as IPython shows them (under the cell's own execution count: no second
        history entry); Ctrl-C interrupts the session's running Spark operations and says
        so in one line.  A failed cell raises ``reporting.Shown`` (shown already)."""
        from glue_magics.reporting import Shown
        from glue_magics.routing import cells_stay_local

        def interrupted(
            shell: Any, etype: type, value: Any, tb: Any, tb_offset: Any = None
        ) -> None:
            self._interrupted(session_id)

        saved = shell.custom_exceptions, shell.CustomTB
        shell.set_custom_exc((KeyboardInterrupt,), interrupted)
        try:
            with cells_stay_local(shell):
                result = shell.run_cell(code, store_history=False)
        finally:
            shell.custom_exceptions, shell.CustomTB = saved
        if not result.success:
            raise Shown("the cell failed")
