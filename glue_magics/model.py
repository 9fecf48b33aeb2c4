"""The one source of truth for the Glue API: botocore's service model plus our sdk-extras.

botocore's public Glue model lacks what the service sends in replies and AWS's own
clients read: the rich statement output fields (``MimeType``, ``Result``, ``StdOut``,
``StdErr``), ``Output.Status`` as Livy's ``ok``/``error`` (typed a statement state),
session status ``BUSY``, statement states ``COMPLETED`` and ``FAILED``, and
``Session.Timeout``.  Sources: aws-glue-sessions 1.0.9 (``BaseKernel.display_result``,
``_construct_reply_content``, ``GlueSessionsConstants.FINAL_STATEMENT_STATUS`` and the
Glue model it ships, ``glue_pyspark/glue/2017-03-31/service-2.json``) and the model in
PyPI's ``sagemaker_studio_dataengineering_sessions``.  We ship them as a small
``service-2.sdk-extras.json`` (botocore merges it into its own model) and load it through
a botocore ``Loader`` of our own, so neither the whole model is copied nor the
process-wide ``AWS_DATA_PATH`` is changed.
Client-side validation, the client and the local endpoint all read this model.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # heavy imports stay out of ``%load_ext``
    import botocore.loaders
    import botocore.model
    import botocore.session

DATA_DIR = Path(__file__).parent / "data"
SERVICE = "glue"


@functools.lru_cache(maxsize=1)
def loader() -> botocore.loaders.Loader:
    """A botocore loader that also searches our data dir, where only the sdk-extras live."""
    import botocore.loaders

    base = botocore.loaders.create_loader()
    return botocore.loaders.Loader(
        extra_search_paths=[str(DATA_DIR), *base.search_paths],
        include_default_search_paths=False,
        include_default_extras=True,
    )


def botocore_session() -> botocore.session.Session:
    """A fresh botocore session whose Glue model includes our extras."""
    import botocore.session

    session = botocore.session.Session()
    session.register_component("data_loader", loader())
    return session


@functools.lru_cache(maxsize=1)
def service_model() -> botocore.model.ServiceModel:
    """The Glue service model (with extras), loaded once per process."""
    import botocore.model

    data = loader().load_service_model(SERVICE, "service-2")
    return botocore.model.ServiceModel(data, service_name=SERVICE)


def operation(name: str) -> botocore.model.OperationModel:
    """The model of one Glue operation, e.g. ``operation("CreateSession")``."""
    return service_model().operation_model(name)


def dpu_per_worker(worker_type: str) -> float:
    """DPU (M-DPU for Ray) per worker, read from the type's name: G.025X 0.25, G.16X 16.

    Read from the name rather than a table, so a worker type a botocore upgrade brings
    is priced without an edit of ours; ``Standard`` and unknown shapes count as 1.
    """
    match = re.fullmatch(r"[A-Z]+\.([0-9]+)X", worker_type)
    if not match:
        return 1.0
    digits = match[1]
    size = float(f"0.{digits[1:]}") if digits.startswith("0") and len(digits) > 1 else float(digits)
    return size or 1.0  # "G.0X" names no size
