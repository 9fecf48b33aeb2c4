"""Which clients each session goes with, and the clients of the current settings.

A session keeps the clients it was created or reconnected with (:class:`SessionClients`),
whatever the settings become since; the newest settings' clients are made once
(:class:`ClientCache`), with the embedded local endpoint when ``endpoint_url`` is
``local``.  No IPython here; boto3 loads at the first client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from glue_magics.reporting import Reporter
from glue_magics.settings import Settings

LOCAL = "local"  # the endpoint_url value that starts the embedded endpoint in this process
# CreateSession failures after which the service may have made the session all the same
_MAYBE_CREATED = frozenset(
    {"EndpointUnreachable", "InternalServiceException", "OperationTimeoutException"}
)


@dataclass
class SessionClients:
    """The clients of one session: those it was created or reconnected with.

    A session keeps them whatever the settings become since (``%config
    GlueMagics.region = ...``): its statements, its results in S3 and its stop all go to
    its own region, profile and endpoint.
    """

    glue: Any
    region: str | None
    profile: str | None
    endpoint_url: str | None
    s3: Callable[[], Any]  # the S3 client for results held in S3, made at its first use
    embedded: bool = False  # on the endpoint in this process, which dies with it


def _watched(settings: Settings) -> Any:
    """The registry of sessions created here, which the watchdog stops if the kernel dies
    (imported at first use: it brings ``signal``, and ``%load_ext`` must stay light)."""
    from glue_magics.watchdog import WatchedSessions

    return WatchedSessions(settings)


class ClientCache:
    """The clients of the newest client settings, made once for each (region, profile,
    endpoint, retry settings), and the embedded local endpoint when one is asked for."""

    def __init__(self, settings: Settings, reporter: Reporter) -> None:
        self.settings = settings
        self.reporter = reporter
        self._newest: SessionClients | None = None
        self._key: tuple | None = None
        self._local: Any = None  # the embedded endpoint, when endpoint_url is 'local'
        self.assumed: tuple[str, str, str | None] | None = None  # %%assume_role's keys
        self._said: set[str] = set()  # notices given once

    def get(self, wanted: Mapping[str, Any]) -> SessionClients:
        """The clients for ``wanted`` region, profile and endpoint_url (each may be unset)."""
        from glue_magics import results, service

        region, profile = wanted.get("region"), wanted.get("profile")
        endpoint = wanted.get("endpoint_url")
        embedded = endpoint == LOCAL
        if embedded:
            endpoint = self._local_endpoint()
            if profile:  # it answers only its own pair: a profile (maybe not here) is moot
                self._once(f"AWS profile {profile!r} is ignored by the local endpoint")
                profile = None
        retry_mode, max_attempts = self.settings.retry_mode, self.settings.max_attempts
        assumed = None if embedded else self.assumed
        key = (region, profile, endpoint, retry_mode, max_attempts, assumed)
        if self._newest is None or key != self._key:
            glue = service.make_client(
                region=region,
                profile=profile,
                endpoint_url=endpoint,
                retry_mode=retry_mode,
                max_attempts=max_attempts,
                credentials=self._local.credentials if embedded else assumed,  # it answers no other
            )
            s3 = results.s3_client_factory(region, profile)
            self._newest = SessionClients(glue, region, profile, endpoint, s3, embedded)
            self._key = key
        return self._newest

    def _once(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self.reporter.info(message)

    def runtime_notice(self, clients: SessionClients, glue_version: str | None) -> str:
        """Once per version: what the embedded endpoint really runs, where that is not the
        Spark and Python of ``glue_version`` on AWS (``LocalEndpoint.runtime_notice``)."""
        if not clients.embedded or self._local is None:
            return ""
        notice = self._local.runtime_notice(glue_version) or ""
        if notice in self._said:
            return ""
        self._said.add(notice)
        return notice

    @property
    def local(self) -> Any:
        """The embedded endpoint, once one is running (None before): its credentials and
        settings, for clients of its other services (its object store, for a job's script)."""
        return self._local

    def _local_endpoint(self) -> str:
        if self._local is None:
            from glue_magics.local import LocalEndpoint

            seconds = self.settings.local_provision_seconds
            # a pair of its own, handed to the client below: no other process can call it
            local = LocalEndpoint(provision_seconds=seconds, generate_credentials=True)
            self._local = local.start()
            self.reporter.info(f"Started the local Glue endpoint at {self._local.url}")
        return self._local.url

    def close(self) -> None:
        """Stop the embedded endpoint, if one was started."""
        if self._local is not None:
            self._local.stop()
            self._local = None


class ClientRegistry:
    """The sessions known here and the clients each goes with: those created here (watched:
    the watchdog stops them if the kernel dies), those reconnected to, and the clients of
    the current settings (:class:`ClientCache`) for any other and for a new session."""

    def __init__(self, settings: Settings, reporter: Reporter, options: Any) -> None:
        self.settings = settings
        self.options = options  # the pending options: the current client settings
        self.created = _watched(settings)  # sessions created here (watchdog.py)
        self.attached: dict[str, SessionClients] = {}  # sessions reconnected to
        self.cache = ClientCache(settings, reporter)

    def client(self, opts: Any = None) -> Any:
        """The Glue client of the current settings (``opts``'s when given); without ``opts``
        an incomplete session request (no role yet, say) does not stand in the way."""
        return self.current_clients(opts).glue

    def client_for(self, session_id: str) -> Any:
        """The client a known session was made or found with (options may have changed since)."""
        return self.clients_for(session_id).glue

    def clients_for(self, session_id: str) -> SessionClients:
        """A known session's own clients; for any other, those of the current settings."""
        known = self.created.get(session_id) or self.attached.get(session_id)
        return known or self.current_clients()

    def current_clients(self, opts: Any = None) -> SessionClients:
        """The clients of the current settings (``opts``'s when given), for a new session."""
        wanted = opts.client_settings() if opts is not None else self.options.client_settings()
        return self.cache.get(wanted)

    def create(self, request: dict[str, Any], clients: SessionClients, patience: float) -> None:
        """CreateSession with ``clients``, the session tracked before the call: one whose
        answer got lost must still be stopped.  Ctrl-C stops it; a failure after which it
        may exist keeps it tracked, said in one line."""
        from glue_magics import lifecycle
        from glue_magics.service import GlueError
        from glue_magics.steps import Action, NextStep

        session_id = request["Id"]
        # Tracked before the call: a session whose answer got lost must still be stopped.
        self.created[session_id] = clients
        try:
            lifecycle.create_session(clients.glue, request, patience=patience)
        except KeyboardInterrupt:
            self.stop_quietly(session_id, self.settings.stop_wait)
            raise
        except GlueError as exc:
            if exc.code not in _MAYBE_CREATED or not exc.connected:  # never reached Glue
                self.created.pop(session_id, None)
                raise
            exits = f"session {session_id} may exist: it is stopped when this kernel exits"
            step = NextStep(Action.STOP, session_id)
            message = f"{exc.message}; {exits}"
            raise GlueError(message, exc.code, next_steps=(step,)) from None

    def stop_quietly(self, session_id: str, wait: float) -> str:
        """Stop and return the status, or "stop failed: <why>" (never raises a GlueError)."""
        from glue_magics import lifecycle
        from glue_magics.options import OptionError
        from glue_magics.service import GlueError

        try:
            client = self.client_for(session_id)
            status = lifecycle.stop_session(client, session_id, wait=wait)
        except (GlueError, OptionError) as exc:
            return f"stop failed: {exc}"
        self.created.pop(session_id, None)
        return status

    def close(self) -> None:
        """The watchdog stops those whose stop failed (if stop_on_exit); the embedded
        endpoint stops."""
        self.created.close()
        self.cache.close()
