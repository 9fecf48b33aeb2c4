"""Where the local endpoint puts outputs above the inline limit: an S3 bucket, as Glue does.

The service answers a large statement output as MimeType ``text/uri-list`` with s3://
URIs of ``result.json``, ``stdout.txt`` and ``stderr.txt`` (AWS's Glue kernel,
GlueSessionsConstants.MimeTypes.S3URI); :mod:`glue_magics.local.outputs` decides what is
held, this module only puts it there.  The endpoint process uploads (the worker never sees
AWS credentials) with one boto3 S3 client made at the first upload.
"""

from __future__ import annotations

import threading
from typing import Any

from glue_magics.local.settings import EndpointSettings

#: The first part of every key: ``glue-magics/<session>/<statement>/<name>``.
RESULT_PREFIX = "glue-magics"


class UploadFailed(Exception):
    """A result could not be put in the results bucket; the message is one line."""


class ResultStore:
    """The results bucket of one endpoint; botocore retries each upload.

    An output that cannot be uploaded stays inline and the statement's stderr says why
    (the message of :class:`UploadFailed`), so no output is lost.
    """

    def __init__(self, settings: EndpointSettings) -> None:
        if not settings.results_bucket:
            raise ValueError("a result store needs a results bucket")
        self.bucket = settings.results_bucket
        self.endpoint_url = settings.s3_endpoint_url
        self.inline_limit = settings.result_inline_limit
        self.region = settings.region
        self._client: Any = None
        self._lock = threading.Lock()

    def too_big(self, data: dict[str, str]) -> bool:
        """Whether this inline Output.Data weighs more than the inline limit (UTF-8)."""
        texts = [v for v in data.values() if isinstance(v, str)]
        if sum(map(len, texts)) * 4 <= self.inline_limit:  # 4 UTF-8 bytes per char at most
            return False
        size = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
        return size > self.inline_limit

    def prefix(self, session_id: str, statement_id: int) -> str:
        """The key prefix of one statement's objects: ``glue-magics/<session>/<statement>``."""
        return f"{RESULT_PREFIX}/{session_id}/{statement_id}"

    def client(self) -> Any:
        """The S3 client, made at the first upload by the one client builder.

        ``service.make_client``: the user's credential chain and region, dummy credentials
        only for a loopback S3 (a local MinIO or moto), botocore's standard retries, TLS
        verified; botocore's own errors come through, for :meth:`put` to word.
        """
        with self._lock:
            if self._client is None:
                from glue_magics.service import make_client

                self._client = make_client(
                    "s3",
                    region=self.region,
                    endpoint_url=self.endpoint_url,
                    max_attempts=None,  # botocore's standard count (AWS_MAX_ATTEMPTS)
                    read_timeout=60,
                    translate_errors=False,
                )
            return self._client

    def put(
        self, session_id: str, statement_id: int, objects: dict[str, tuple[str, str, str]]
    ) -> dict[str, str]:
        """Upload ``{field: (name, text, content type)}`` under the statement's prefix and
        return ``{field: s3:// URI}``; raises UploadFailed (one line) when one fails."""
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = self.prefix(session_id, statement_id)
        uris = {}
        for field_name, (name, text, content_type) in objects.items():
            key = f"{prefix}/{name}"
            uri = f"s3://{self.bucket}/{key}"
            try:
                self.client().put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=text.encode("utf-8", "surrogatepass"),
                    ContentType=content_type,
                )
            except (BotoCoreError, ClientError, ValueError) as exc:
                if isinstance(exc, ClientError):
                    reason = str(exc.response.get("Error", {}).get("Code") or exc)
                else:
                    reason = f"{type(exc).__name__}: {exc}"
                reason = " ".join(reason.split())
                raise UploadFailed(
                    f"glue-magics local endpoint: could not upload the output to {uri} "
                    f"({reason}); it is returned inline instead: check --results-bucket and "
                    "--s3-endpoint-url\n"
                ) from None
            uris[field_name] = uri
        return uris
