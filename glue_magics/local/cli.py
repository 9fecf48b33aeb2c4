"""``glue-magics local-endpoint``: run the local Glue endpoint in the foreground."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from typing import Any

from glue_magics.local.settings import STATEMENT_STATE_MODES, EndpointSettings

DEFAULT_PORT = 4599
#: The defaults of the settings, so a flag's default is the one ``LocalEndpoint`` has.
DEFAULTS = EndpointSettings()
#: The settings in seconds, each a flag of its name: (setting, help).
SECONDS = (
    ("provision_seconds", "time a new session spends PROVISIONING"),
    ("minute_seconds", "seconds per minute of Timeout/IdleTimeout, to scale them down"),
    ("stop_seconds", "time a stopped session spends STOPPING"),
    ("connect_token_seconds", "life of the tokens GetSessionEndpoint issues (Spark Connect)"),
    ("connect_start_seconds", "time a Spark Connect server may take to answer before FAILED"),
)
#: The network the endpoint plays, in milliseconds, each a flag of its name: (setting, help).
MILLISECONDS = (
    ("latency_ms", "round trip of every request, as a region that far away would take"),
    ("jitter_ms", "up to this much more per request, at random"),
)


def add_parser(subparsers: Any) -> None:
    """Add the ``local-endpoint`` subcommand to the ``glue-magics`` command."""
    parser = subparsers.add_parser(
        "local-endpoint",
        help="serve the Glue API on this machine (statements run as local Python)",
        description="Serve Glue's interactive-session API on this machine. Point a client at "
        "the printed URL (endpoint_url); statements run as Python in one process per session, "
        "as your user. It answers only requests signed (SigV4) with its credentials: the "
        "environment's or --profile's access keys, or a pair it generates and prints.",
    )
    parser.add_argument(
        "--host", default=DEFAULTS.host, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port; 0 picks a free one (default %(default)s)",
    )
    for name, text in SECONDS + MILLISECONDS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=getattr(DEFAULTS, name),
            help=f"{text} (default %(default)s)",
        )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (anyone who reaches it can run code)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject faults: KIND=RATE or OPERATION:KIND=RATE, KIND one of throttle, error5xx, "
        "drop (no answer, not handled), lose (handled, answer lost); repeatable, e.g. "
        "--fault throttle=0.3 --fault GetSession:drop=0.5",
    )
    parser.add_argument(
        "--results-bucket",
        metavar="BUCKET",
        help="put text and PNG outputs over --result-inline-limit in this S3 bucket (result.json, "
        "stdout.txt, stderr.txt) and answer MimeType text/uri-list with their s3:// URIs, "
        "as Glue does; with --statement-states completed, every FAILED statement's streams "
        "and reason go there too (default: every output inline)",
    )
    parser.add_argument(
        "--s3-endpoint-url",
        metavar="URL",
        help="S3 endpoint for --results-bucket, e.g. a local MinIO or moto server "
        "(default: the one botocore finds, AWS_ENDPOINT_URL_S3 or AWS)",
    )
    parser.add_argument(
        "--result-inline-limit",
        type=int,
        default=DEFAULTS.result_inline_limit,
        metavar="BYTES",
        help="largest output (Result and streams, in bytes) answered inline when --results-bucket "
        "is set (default %(default)s)",
    )
    parser.add_argument(
        "--busy-status",
        action="store_true",
        help="a READY session reports Status BUSY while a statement waits or runs, as the "
        "service may (RunStatement is still accepted)",
    )
    parser.add_argument(
        "--statement-states",
        choices=STATEMENT_STATE_MODES,
        default=DEFAULTS.statement_states,
        help="livy: success and Python exceptions are AVAILABLE (Output.Status ok or error); "
        "completed: success is COMPLETED and an exception FAILED, with the streams and the "
        "reason in Output.Data (default %(default)s)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="answer requests signed with this AWS profile's access keys (default: the "
        "environment's, AWS_ACCESS_KEY_ID or the default profile, else a generated pair)",
    )
    parser.add_argument(
        "--generate-credentials",
        action="store_true",
        help="answer only requests signed with a key pair generated for this run and printed "
        "at start, whatever credentials the environment has",
    )
    parser.add_argument(
        "--connect-port",
        type=int,
        default=DEFAULTS.connect_port,
        metavar="PORT",
        help="port of each Spark Connect session's TLS proxy: 443 (as AWS's recipe connects "
        "to; each session on an address of its own in 127.0.0.0/8) or 0 for a free port on "
        "127.0.0.1 that the session's Url names; 443 falls back to 0 where it cannot be "
        "bound (default %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="what outlives the endpoint: the object store, s3://BUCKET/KEY as DIR/s3/BUCKET/KEY "
        "(served as S3 here, and s3:// in sessions' Spark) (default: $GLUE_LOCAL_DATA_DIR, "
        "else ~/.local/share/glue-magics)",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="run every session's Spark on this master: spark://HOST:PORT (a standalone "
        "cluster), k8s://https://HOST:PORT, or local[N]; the driver stays in the session's "
        "process, executors are sized from WorkerType and NumberOfWorkers x --cluster-scale "
        "(default: $GLUE_LOCAL_SPARK_MASTER, else local[*])",
    )
    parser.add_argument(
        "--cluster-scale",
        type=float,
        default=DEFAULTS.cluster_scale,
        metavar="FACTOR",
        help="a session's executors on --spark-master get the worker type's 4 vCPU and 16 GB "
        "per DPU times this (default %(default)g: a G.1X executor gets 1 core and 1 GB)",
    )
    parser.add_argument(
        "--spark-ui-port",
        type=int,
        default=DEFAULTS.spark_ui_port,
        metavar="PORT",
        help="web UI port of the spark:// master, whose /json says how much room the cluster "
        "has at CreateSession (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.set_defaults(func=run)


def settings_from(args: argparse.Namespace) -> EndpointSettings:
    """The endpoint's settings from the flags: each flag named as its setting is one."""
    names = {field.name for field in dataclasses.fields(EndpointSettings)}
    return EndpointSettings(**{k: v for k, v in vars(args).items() if k in names})


def credentials_note(endpoint: Any) -> str:
    """What a client must sign with: a generated pair in full (printed once, as Jupyter
    prints its token), or which of the user's credentials, never their secret."""
    identity = endpoint.identity
    if identity.generated:
        keys = endpoint.credentials
        because = f" ({identity.reason})" if identity.reason else ""
        return (
            f"It answers only requests signed with this key pair, generated for this run"
            f"{because}; give it to the client, e.g.:\n"
            f"  export AWS_ACCESS_KEY_ID={keys.access_key}\n"
            f"  export AWS_SECRET_ACCESS_KEY={keys.secret_key}"
        )
    whose = (
        f"profile {endpoint.settings.profile!r}"
        if endpoint.settings.profile
        else "this environment"
    )
    key = endpoint.credentials.access_key
    return (
        f"It answers only requests signed with the credentials of {whose} "
        f"({identity.source}, access key ...{key[-4:]}); clients using them work as they are"
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM, then end every worker and return 0."""
    from glue_magics.local import LocalEndpoint
    from glue_magics.local.faults import Faults

    faults = Faults(seed=args.seed)
    try:
        for spec in args.fault:
            faults.parse(spec)
        endpoint = LocalEndpoint(settings_from(args), faults=faults)
        endpoint.start()
    except ValueError as exc:
        print(f"glue-magics local-endpoint: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"glue-magics local-endpoint: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}; choose another --port (0 picks a free one)",
            file=sys.stderr,
        )
        return 2
    done = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        done.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"Local Glue endpoint at {endpoint.url}", flush=True)
    print(credentials_note(endpoint), flush=True)
    if args.fault:
        print(f"Faults: {faults!r}", flush=True)
    try:
        print(
            f"Spark Connect sessions: TLS from {endpoint.connect_ca_file} "
            "(trust it, e.g. GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=that file)",
            flush=True,
        )
    except RuntimeError as exc:  # no cryptography: statement sessions only
        print(f"Spark Connect sessions: unavailable ({exc})", flush=True)
    print(
        f"Object store: {endpoint.settings.s3_root} (S3 at {endpoint.url}, e.g. "
        f"AWS_ENDPOINT_URL_S3={endpoint.url} aws s3 ls; s3:// paths in sessions)",
        flush=True,
    )
    if args.results_bucket:
        print(
            f"Results over {args.result_inline_limit} bytes go to "
            f"s3://{args.results_bucket}/glue-magics/",
            flush=True,
        )
    try:
        while not done.wait(0.5):
            pass
    finally:
        endpoint.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Local Glue endpoint stopped", flush=True)
    return 0
