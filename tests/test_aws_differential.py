"""The same settings cells on AWS's own Glue kernel (aws-glue-sessions 1.0.9) and on ours send
the same CreateSession request.

Both kernels run against one local endpoint; the requests are compared as the endpoint
received them (``Backend.sessions[id].request.members``: the body as sent, without
RequestOrigin and nulls).  Equal apart from what each kernel does on purpose, named here
and in README ("Differences from AWS's Glue kernel"):

- ``Id``: each kernel makes its own (AWS: a uuid; ours: the id prefix and a uuid).
- ``Tags``: each kernel's own tags (AWS: ``owner`` from its user id; ours: the
  ``glue-magics:*`` tags that find a kernel's sessions again, ``tag_sessions``); the
  user's ``%%tags`` reach both.
- ``DefaultArguments["--glue_kernel_version"]``: AWS's kernel marks its sessions with its
  own version (BaseKernel); ours are marked by the tags above.
- ``Command.PythonVersion``: AWS's kernel always sends "3"; we send only what the user set
  (``python_version``) and leave the rest to the service, whose only Python for glueetl
  since Glue 2.0 is 3 (the version table, ``glue_magics.versions``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import ROLE
from kernels import Kernel, kernel_env
from test_aws_kernel import peer_kernel, peer_specs, signing_with  # noqa: F401 - fixtures
from test_kernel import installed  # noqa: F401 - the fixture: the kernelspec, installed

from glue_magics.local import LocalEndpoint
from glue_magics.tags import PREFIX
from tests.peer_kernel import peer_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CONFIGURE = {  # keys AWS documents for %%configure (interactive sessions' magics page)
    "--datalake-formats": "delta",
    "--enable-glue-datacatalog": "true",
    "--enable-metrics": "true",
}
#: The settings cells, in AWS's layout (line magics, then a cell magic), as written for
#: AWS's kernel; each is run unchanged on both.
CELLS = (
    f"%iam_role {ROLE}\n%region us-east-1\n%idle_timeout 2880\n%timeout 4000\n"
    "%glue_version 5.0\n%worker_type G.2X\n%number_of_workers 3",
    "%additional_python_modules polars,pyarrow\n%extra_py_files s3://bucket/lib.zip\n"
    "%extra_jars s3://bucket/lib.jar\n%spark_conf spark.sql.shuffle.partitions=4",
    "%connections my-connection\n%security_config my-security-config\n"
    f"%%configure\n{json.dumps(CONFIGURE, indent=1)}",
    '%%tags\n{"team": "data", "cost-center": "42"}',
)


def request_of(ep: LocalEndpoint, kernel: Kernel) -> dict[str, Any]:
    """Run the cells, then a plain one (the session is made), and return the request."""
    before = set(ep.backend.sessions)
    for cell in CELLS:
        reply = kernel.execute(cell)
        assert reply.status == "ok" and "Traceback" not in reply.stderr, (cell, reply.stderr)
    reply = kernel.execute("x = 6 * 7", timeout=180)
    assert reply.status == "ok", reply.stderr
    [new] = set(ep.backend.sessions) - before
    return dict(ep.backend.sessions[new].request.members)


def test_aws_kernel_and_ours_send_the_same_create_session(peer_specs, installed):  # noqa: F811
    ep = LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, generate_credentials=True)
    with ep:
        with peer_kernel(peer_specs, peer_env(ep.url, **signing_with(ep))) as aws:
            theirs = request_of(ep, aws)
        ours_kernel = Kernel(
            kernel_env(ep.url, **signing_with(ep)),
            kernel_name="glue_magics",
            kernel_spec_manager=installed,
        )
        try:
            ours = request_of(ep, ours_kernel)
        finally:
            ours_kernel.shutdown()
    # deliberate: each kernel's own id and tags (module docstring)
    their_tags, our_tags = theirs.pop("Tags"), ours.pop("Tags")
    assert theirs["DefaultArguments"].pop("--glue_kernel_version") == "1.0.9"
    assert theirs["Command"].pop("PythonVersion") == "3" and "PythonVersion" not in ours["Command"]
    theirs.pop("Id"), ours.pop("Id")
    assert their_tags.pop("owner") == "bench"  # AWS's: userId (peer_env)
    our_tags = {k: v for k, v in our_tags.items() if not k.startswith(PREFIX)}
    assert their_tags == our_tags == {"team": "data", "cost-center": "42"}
    assert ours == theirs, json.dumps({"ours": ours, "theirs": theirs}, indent=1, default=str)
