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

    def get(self, wanted: Mapping[str, Any]) -> SessionClients:
        """The clients for ``wanted`` region, profile and endpoint_url (each may be unset)."""
        from glue_magics import results, service

        region, profile = wanted.get("region"), wanted.get("profile")
        endpoint = wanted.get("endpoint_url")
        embedded = endpoint == LOCAL
        if embedded:
            endpoint = self._local_endpoint()
        retry_mode, max_attempts = self.settings.retry_mode, self.settings.max_attempts
        key = (region, profile, endpoint, retry_mode, max_attempts)
        if self._newest is None or key != self._key:
            glue = service.make_client(
                region=region,
                profile=profile,
                endpoint_url=endpoint,
                retry_mode=retry_mode,
                max_attempts=max_attempts,
                credentials=self._local.credentials if embedded else None,  # it answers no other
            )
            s3 = results.s3_client_factory(region, profile)
            self._newest = SessionClients(glue, region, profile, endpoint, s3, embedded)
            self._key = key
        return self._newest

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
