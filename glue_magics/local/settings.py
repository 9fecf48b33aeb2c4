"""The local endpoint's settings, in one frozen dataclass built once and passed down.

``glue-magics local-endpoint`` builds it from its flags and ``LocalEndpoint(**fields)``
from its keyword arguments; the server, the backend and the result store each read what
they need from it, so a setting is named, defaulted and checked in this one place.
Every check runs when it is built, so a bad setting raises before any thread starts.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from glue_magics.local.cluster import DEFAULT_SCALE, DEFAULT_UI_PORT, check_master
from glue_magics.service import is_loopback

#: The largest output (Result and streams, in bytes) answered inline with a results bucket.
DEFAULT_RESULT_INLINE_LIMIT = 256 * 1024
#: ``statement_states``: "livy" answers AVAILABLE for success and for a Python exception
#: (Output.Status "error"), as Livy does; "completed" answers COMPLETED and FAILED, the
#: other states AWS's Glue kernel handles (BaseKernel._construct_reply_content).
STATEMENT_STATE_MODES = ("livy", "completed")
#: How long a Spark Connect session's auth token lives: AWS's own client says Glue's are
#: "valid for ~30 minutes" (sagemaker-studio, ``utils/spark/session/glue/interceptors.py``),
#: and apache/spark PR 56496 names "AWS Athena Spark Connect with 30-min auth tokens".
DEFAULT_CONNECT_TOKEN_SECONDS = 30 * 60.0
#: The port a Spark Connect session's proxy listens on: the one AWS's recipe appends to the
#: Url ("interactive-sessions-spark-connect-connecting": ``f"{Url}:443/;use_ssl=true;..."``).
DEFAULT_CONNECT_PORT = 443
#: The longest ``latency_ms`` or ``jitter_ms``: a minute, beyond any real network.
MAX_LATENCY_MS = 60_000.0
#: S3's rules for a bucket name (AWS docs, "General purpose bucket naming rules"): 3-63
#: characters of a-z, 0-9, '.' and '-', a letter or digit at each end, no '..'.
_BUCKET = re.compile(r"(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: Where ``data_dir`` comes from when it is not given: this variable, else the per-user
#: data directory (``$XDG_DATA_HOME/glue-magics``, ``~/.local/share/glue-magics``).
DATA_DIR_ENV = "GLUE_LOCAL_DATA_DIR"
#: Where ``spark_master`` comes from when it is not given (the embedded endpoint reads it too).
SPARK_MASTER_ENV = "GLUE_LOCAL_SPARK_MASTER"


def default_data_dir() -> Path:
    """The endpoint's data directory when none is given: ``GLUE_LOCAL_DATA_DIR``, else the
    per-user one, so the object store and the catalog outlive one endpoint."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "glue-magics"


@dataclass(frozen=True)
class EndpointSettings:
    """How one local endpoint behaves; the fields are ``LocalEndpoint``'s keyword arguments.

    ``provision_seconds``: time a new session is PROVISIONING; ``minute_seconds``: seconds
    per minute of Timeout/IdleTimeout (to scale them down); ``stop_seconds``: time a stopped
    session is STOPPING; ``results_bucket``: where outputs over ``result_inline_limit``
    bytes go (through ``s3_endpoint_url``, or the S3 botocore finds); ``busy_status``: a
    READY session reports BUSY while a statement waits or runs; ``statement_states``: one
    of :data:`STATEMENT_STATE_MODES`; ``cancel_grace_seconds``: how long a cancelled
    statement may ignore SIGINT before its worker is killed; ``latency_ms``: the round trip
    of a network to the service (a request is handled half of it after it came and
    answered the other half later), plus up to ``jitter_ms`` more at random.  Spark Connect
    sessions: ``connect_token_seconds`` is the life of the tokens GetSessionEndpoint issues;
    ``connect_port`` the port each session's proxy takes (443, on an address of its own in
    127.0.0.0/8, as AWS's recipe connects to; 0 for a free port on 127.0.0.1, which the Url
    then names); ``connect_start_seconds`` how long Spark's server may take to answer before
    the session is FAILED.  ``data_dir``: what outlives the endpoint, the object store
    (``DATA_DIR/s3/BUCKET/KEY``) and the Data Catalog (``DATA_DIR/catalog``); default
    :func:`default_data_dir`.  ``spark_master``: the Spark master every session's Spark
    uses (default ``GLUE_LOCAL_SPARK_MASTER``, else each worker's own, ``local[*]``); on a
    cluster a session's executors are sized from its request times ``cluster_scale``, and a
    standalone master's free room is read at ``spark_ui_port`` (see :mod:`cluster`).

    Requests must be signed (SigV4) by the endpoint's credentials: with
    ``generate_credentials`` a pair made for this run; else those of ``profile``, or of the
    environment and default profile (botocore's chain), or a generated pair when that chain
    has none the endpoint can share with its clients (see ``auth.resolve``).
    """

    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False
    verbose: bool = False
    provision_seconds: float = 3.0
    minute_seconds: float = 60.0
    stop_seconds: float = 0.3
    cancel_grace_seconds: float = 2.0
    region: str = "us-east-1"
    account_id: str = "123456789012"
    busy_status: bool = False
    statement_states: str = "livy"
    results_bucket: str | None = None
    s3_endpoint_url: str | None = None
    result_inline_limit: int = DEFAULT_RESULT_INLINE_LIMIT
    profile: str | None = None
    generate_credentials: bool = False
    connect_token_seconds: float = DEFAULT_CONNECT_TOKEN_SECONDS
    connect_port: int = DEFAULT_CONNECT_PORT
    connect_start_seconds: float = 300.0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    data_dir: str | Path | None = None
    spark_master: str | None = None
    cluster_scale: float = DEFAULT_SCALE
    spark_ui_port: int = DEFAULT_UI_PORT

    def __post_init__(self) -> None:
        data_dir = default_data_dir() if self.data_dir in (None, "") else Path(self.data_dir)
        object.__setattr__(self, "data_dir", data_dir.expanduser().absolute())
        if not is_loopback(self.host) and not self.allow_remote:
            raise ValueError(
                f"host {self.host!r} is not a loopback address; the endpoint runs any code it "
                "is sent, so listening beyond this machine needs allow_remote=True "
                "(--allow-remote)"
            )
        if self.statement_states not in STATEMENT_STATE_MODES:
            raise ValueError(
                f"statement states {self.statement_states!r} are not known; use one of "
                f"{', '.join(STATEMENT_STATE_MODES)}"
            )
        for name in ("provision_seconds", "minute_seconds", "stop_seconds"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("connect_token_seconds", "connect_start_seconds"):
            value = float(getattr(self, name))
            if not 0 < value < math.inf:
                raise ValueError(f"{name.replace('_', ' ')} {value:g} must be above 0 and finite")
            object.__setattr__(self, name, value)
        port = self.connect_port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(
                f"connect port {port!r} is not a port; use 0-65535 (443 as AWS's recipe "
                "connects to, 0 for any free port)"
            )
        for name in ("latency_ms", "jitter_ms"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= MAX_LATENCY_MS:  # NaN fails too
                raise ValueError(
                    f"{name} {value:g} is not from 0 to {MAX_LATENCY_MS:g} milliseconds; "
                    "give one such as 50"
                )
            object.__setattr__(self, name, value)
        object.__setattr__(self, "busy_status", bool(self.busy_status))
        object.__setattr__(self, "generate_credentials", bool(self.generate_credentials))
        if self.profile is not None and (not isinstance(self.profile, str) or not self.profile):
            raise ValueError(f"profile {self.profile!r} is not a profile name; give one, or none")
        if self.profile and self.generate_credentials:
            raise ValueError(
                f"profile {self.profile!r} and generated credentials exclude each other; give "
                "--profile to check signatures against a profile's keys, or "
                "--generate-credentials for a pair made for this run"
            )
        if self.results_bucket:
            self._check_results()
        self._check_cluster()

    def _check_cluster(self) -> None:
        master = self.spark_master or os.environ.get(SPARK_MASTER_ENV) or None
        if master is not None:
            master = check_master(master)
        object.__setattr__(self, "spark_master", master)
        scale = float(self.cluster_scale)
        if not 0 < scale <= 64:  # NaN fails too
            raise ValueError(
                f"cluster scale {scale:g} is not above 0 and at most 64; give one such as "
                f"{DEFAULT_SCALE:g} (a G.1X executor then gets 1 core and 1 GB)"
            )
        object.__setattr__(self, "cluster_scale", scale)
        port = self.spark_ui_port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535:
            raise ValueError(
                f"Spark UI port {port!r} is not a port; give the standalone master's web UI "
                f"port (1-65535, Spark's default {DEFAULT_UI_PORT})"
            )

    def _check_results(self) -> None:
        bucket, limit, url = self.results_bucket, self.result_inline_limit, self.s3_endpoint_url
        if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
            raise ValueError(
                f"results bucket {bucket!r} is not a valid S3 bucket name; use 3-63 "
                "characters of a-z, 0-9, '.' and '-', without the s3:// prefix"
            )
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValueError(f"result inline limit {limit!r} must be a whole number")
        if limit < 0:
            raise ValueError(f"result inline limit {limit} is below the minimum of 0")
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    f"S3 endpoint URL {url!r} is not valid; use a full URL such as "
                    "http://127.0.0.1:9000 or https://s3.us-east-1.amazonaws.com"
                )

    @property
    def s3_root(self) -> Path:
        """The object store: ``s3://BUCKET/KEY`` is the file ``s3_root/BUCKET/KEY``."""
        return Path(self.data_dir) / "s3"

    @property
    def catalog_root(self) -> Path:
        """The Data Catalog's files."""
        return Path(self.data_dir) / "catalog"

    def arn(self, session_id: str) -> str:
        """The ARN of a session here (what GetTags and TagResource name it by)."""
        return f"arn:aws:glue:{self.region}:{self.account_id}:session/{session_id}"
