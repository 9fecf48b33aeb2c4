"""The local object store: ``s3://BUCKET/KEY`` is the file ``DATA_DIR/s3/BUCKET/KEY``.

One directory, three ways in: S3's REST API on the local endpoint (:mod:`.api`, signed as
the Glue calls are), so boto3 and ``aws s3`` work with ``AWS_ENDPOINT_URL_S3``; a Hadoop
FileSystem in a session's Spark (:mod:`.hadoop`) for ``s3://``, ``s3a://`` and ``s3n://``
paths; and the files themselves.  :mod:`.store` keeps the objects, :mod:`.keys` says which
names it can keep.
"""

from __future__ import annotations

import os
from pathlib import Path


def spark_conf(data_dir: Path | str | None = None) -> dict[str, str]:
    """Spark settings for ``s3://`` over ``DATA_DIR/s3`` (``data_dir`` defaults to the
    endpoint's: ``GLUE_LOCAL_DATA_DIR``, else the per-user one); compiles the file system
    at first use (see :mod:`.hadoop`)."""
    from glue_magics.local.objectstore import hadoop
    from glue_magics.local.settings import default_data_dir

    return hadoop.spark_conf(Path(data_dir) if data_dir else default_data_dir())


def session_environment(
    endpoint_url: str, credentials: object, region: str, data_dir: Path
) -> dict[str, str | None]:
    """What a session's worker gets so boto3 (and ``aws``) in it reach this object store:
    ``AWS_ENDPOINT_URL_S3``, ``credentials`` (the sessions' own pair, which the object
    store accepts and the Glue API does not; never printed; a token of the endpoint's
    environment is removed: None) and the data directory."""
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL_S3": endpoint_url,
        "AWS_ACCESS_KEY_ID": credentials.access_key,  # type: ignore[attr-defined]
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,  # type: ignore[attr-defined]
        "AWS_SESSION_TOKEN": getattr(credentials, "token", None) or None,
        "AWS_SECURITY_TOKEN": None,
        "GLUE_LOCAL_DATA_DIR": str(data_dir),
    }
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        env["AWS_DEFAULT_REGION"] = region
    return env


def session_spark_conf() -> dict[str, str]:
    """:func:`spark_conf` for a session's Spark, or ``{}`` (and one line in the session's
    log, its stderr) where the file system cannot be compiled: Spark then starts without
    ``s3://`` rather than not at all."""
    import sys

    from glue_magics.local.objectstore.hadoop import CompileFailed

    try:
        return spark_conf()
    except (CompileFailed, OSError) as exc:
        print(f"WARN objectstore: s3:// paths are not available in Spark: {exc}", file=sys.stderr)
        return {}
