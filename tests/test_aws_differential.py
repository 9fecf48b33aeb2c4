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
TAGS = {"team": "data", "cost-center": "42"}


def request_of(ep: LocalEndpoint, kernel: Kernel, cells: tuple[str, ...]) -> dict[str, Any]:
    """Run the cells, then a plain one (the session is made), and return the request."""
    before = set(ep.backend.sessions)
    for cell in cells:
        reply = kernel.execute(cell)
        assert reply.status == "ok" and "Traceback" not in reply.stderr, (cell, reply.stderr)
    reply = kernel.execute("x = 6 * 7", timeout=180)
    assert reply.status == "ok", reply.stderr
    [new] = set(ep.backend.sessions) - before
    return dict(ep.backend.sessions[new].request.members)


def both(specs: Any, installed: Any, cells: tuple[str, ...]) -> tuple[dict, dict]:  # noqa: F811
    """(ours, theirs): the requests of both kernels for ``cells``, less the differences every
    request has (the module docstring), each checked on the way."""
    ep = LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, generate_credentials=True)
    with ep:
        with peer_kernel(specs, peer_env(ep.url, **signing_with(ep))) as aws:
            theirs = request_of(ep, aws, cells)
        ours_kernel = Kernel(
            kernel_env(ep.url, **signing_with(ep)),
            kernel_name="glue_magics",
            kernel_spec_manager=installed,
        )
        try:
            ours = request_of(ep, ours_kernel, cells)
        finally:
            ours_kernel.shutdown()
    their_tags, our_tags = theirs.pop("Tags"), ours.pop("Tags")
    assert theirs["DefaultArguments"].pop("--glue_kernel_version") == "1.0.9"
    if not theirs["DefaultArguments"]:
        theirs.pop("DefaultArguments")
    assert theirs["Command"].pop("PythonVersion") == "3" and "PythonVersion" not in ours["Command"]
    theirs.pop("Id"), ours.pop("Id")
    assert their_tags.pop("owner") == "bench"  # AWS's: userId (peer_env)
    ours["Tags"] = {k: v for k, v in our_tags.items() if not k.startswith(PREFIX)}
    theirs["Tags"] = their_tags
    return ours, theirs


def test_aws_kernel_and_ours_send_the_same_create_session(peer_specs, installed):  # noqa: F811
    ours, theirs = both(peer_specs, installed, CELLS)
    assert ours["Tags"] == TAGS  # the user's %%tags, through both
    assert ours == theirs, json.dumps({"ours": ours, "theirs": theirs}, indent=1, default=str)


def test_with_nothing_set_only_our_documented_defaults_differ(peer_specs, installed):  # noqa: F811
    """Where the notebook sets nothing, each kernel's defaults: AWS's kernel sends Glue 4.0
    and leaves the size and the idle timeout to the service (whose idle timeout is the
    session's whole timeout, 2880 minutes, CreateSession's docs); ours sends Glue 5.0, 5 G.1X
    workers and a 60-minute idle timeout (specs.DEFAULTS), so a forgotten session stops
    within the hour.  AWS's kernel also turns the Data Catalog on
    (``--enable-glue-datacatalog``, its ``enable_data_catalog`` default); we send only the
    arguments the notebook gives (AWS's sample notebooks set it in %%configure)."""
    ours, theirs = both(peer_specs, installed, (f"%iam_role {ROLE}",))
    assert theirs.pop("DefaultArguments") == {"--enable-glue-datacatalog": "true"}
    assert "DefaultArguments" not in ours
    assert theirs.pop("GlueVersion") == "4.0" and ours.pop("GlueVersion") == "5.0"
    mine = {k: ours.pop(k) for k in ("WorkerType", "NumberOfWorkers", "IdleTimeout")}
    assert mine == {"WorkerType": "G.1X", "NumberOfWorkers": 5, "IdleTimeout": 60}
    assert ours == theirs, json.dumps({"ours": ours, "theirs": theirs}, indent=1, default=str)
