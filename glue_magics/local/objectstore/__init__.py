"""The local object store: ``s3://BUCKET/KEY`` is the file ``DATA_DIR/s3/BUCKET/KEY``.

One directory, three ways in: S3's REST API on the local endpoint (:mod:`.api`, signed as
the Glue calls are), so boto3 and ``aws s3`` work with ``AWS_ENDPOINT_URL_S3``; a Hadoop
FileSystem in a session's Spark (:mod:`.hadoop`) for ``s3://``, ``s3a://`` and ``s3n://``
paths; and the files themselves.  :mod:`.store` keeps the objects (with :mod:`.meta`,
what S3 keeps beside them; :mod:`.multipart`, uploads in parts; :mod:`.listing`, pages of
keys), :mod:`.keys` says which names it can keep; the API reads requests in
:mod:`.request` and writes replies in :mod:`.replies`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

#: The worker's variable for the Spark settings (``worker.OBJECTSTORE_ENV``: the worker
#: imports nothing of this package).
WORKER_ENV = "GLUE_MAGICS_OBJECTSTORE"


def worker_spec(data_dir: Path) -> dict[str, Any]:
    """What a session's worker needs to give its Spark ``s3://``: the Spark settings, the
    jar they name and the command that compiles it when it is not there yet (this
    interpreter's: the worker's may lack this package)."""
    from glue_magics.local.objectstore import hadoop

    try:
        jar = hadoop.jar_path()
    except hadoop.CompileFailed:  # no pyspark: no Spark to give s3:// to
        return {}
    return {
        "jar": str(jar),
        "conf": hadoop.spark_conf(data_dir, jar),
        "compile": [sys.executable, "-m", "glue_magics.local.objectstore.hadoop"],
    }


def session_environment(
    endpoint_url: str, credentials: object, region: str, data_dir: Path
) -> dict[str, str | None]:
    """What a session's worker gets so boto3 (and ``aws``) in it reach this object store:
    ``AWS_ENDPOINT_URL_S3``, ``credentials`` (the sessions' own pair, which the object
    store accepts and the Glue API does not; never printed; a token of the endpoint's
    environment is removed: None), the data directory, and the Spark settings for
    ``s3://`` (:func:`worker_spec`)."""
    env: dict[str, str | None] = {
        "AWS_ENDPOINT_URL_S3": endpoint_url,
        "AWS_ACCESS_KEY_ID": credentials.access_key,  # type: ignore[attr-defined]
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,  # type: ignore[attr-defined]
        "AWS_SESSION_TOKEN": getattr(credentials, "token", None) or None,
        "AWS_SECURITY_TOKEN": None,
        "GLUE_LOCAL_DATA_DIR": str(data_dir),
        WORKER_ENV: json.dumps(worker_spec(data_dir)),
    }
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        env["AWS_DEFAULT_REGION"] = region
    return env


def compile_ahead() -> None:
    """Compile the file system in a background thread when it is not in the cache yet and
    Java is here, so a session's first Spark finds it made (or being made: it then waits
    for that compile rather than starting another)."""
    import shutil
    import threading

    from glue_magics.local.objectstore import hadoop

    try:
        if hadoop.jar_path().exists():
            return
    except hadoop.CompileFailed:
        return
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return

    def run() -> None:
        try:
            hadoop.ensure_jar()
        except (hadoop.CompileFailed, OSError):
            pass  # each session's worker says why, in its log, when its Spark starts

    threading.Thread(target=run, name="glue-local-objectstore-compile", daemon=True).start()
