"""AWS's own Glue kernel (aws-glue-sessions 1.0.9, unchanged) against the local endpoint.

The kernel was written against the real service, so what it shows from our endpoint is
what it would show from Glue only if the endpoint answers in the service's shapes.  Each
test names the code path of AWS's kernel it goes through (glue_kernel_base/BaseKernel.py
in the package): ``_construct_reply_content`` turns a finished statement into the execute
reply, ``display_result`` turns ``Output.Data`` into what the user sees:

- ``{TextPlain}`` alone: ``_send_output`` to stdout;
- ``{MimeType, Result, StdOut, StdErr}``: the streams, then ``Result`` as display data
  (``;base64`` decoded); ``MimeType`` ``text/uri-list`` (MimeTypes.S3URI): each of them an
  s3:// URI that KernelGateway.get_results fetches, ``Result`` a JSON ``{mime: content}``;
- anything else: nothing at all.

The kernels run from a venv of their own (tests/peer_kernel.py), reach the endpoint and
moto on loopback only, and everything else through a proxy that answers itself.
"""

from __future__ import annotations

import base64
import importlib.util
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers import ROLE, make_glue, make_s3, s3_endpoint
from kernels import Kernel, Reply
from peer_kernel import (
    PEER_KERNEL,
    PeerUnavailable,
    install_peer,
    peer_env,
    peer_venv,
    sts_proxy,
)

from glue_magics.local import LocalEndpoint

# The first run builds the peer's venv inside the first test's setup (about a minute).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BUCKET = "glue-magics-aws-kernel-results"
INLINE_LIMIT = 100  # bytes: any output above it is handed over in S3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def peer_specs() -> Iterator[Any]:
    """The KernelSpecManager holding AWS's glue_pyspark kernelspec, pinned to its venv."""
    try:
        python = peer_venv()
    except PeerUnavailable as e:
        pytest.skip(str(e))
    with tempfile.TemporaryDirectory(prefix="peer-kernelspec-") as root:
        yield install_peer(Path(root), python)


@contextmanager
def peer_kernel(specs: Any, env: dict[str, str]) -> Iterator[Kernel]:
    kernel = Kernel(env, kernel_name=PEER_KERNEL, kernel_spec_manager=specs)
    try:
        yield kernel
    finally:
        kernel.shutdown()


def start_session(kernel: Kernel) -> str:
    """A first plain cell: AWS's kernel creates its session (BaseKernel.create_session) and
    waits for READY; returns the session id it printed."""
    reply = kernel.execute("session_started = True", timeout=120)
    assert reply.status == "ok", shown(reply)
    lines = reply.stdout.splitlines()
    created = [line for line in lines if line.startswith("Session ") and "created" in line]
    assert created, shown(reply)
    return next(line.split(": ", 1)[1] for line in lines if line.startswith("Session ID: "))


def signing_with(ep: LocalEndpoint) -> dict[str, str]:
    """The environment variables that give a kernel the endpoint's credentials."""
    keys = ep.credentials
    return {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key}


@pytest.fixture(scope="module")
def aws(peer_specs: Any) -> Iterator[Kernel]:
    """AWS's kernel with a READY session on a plain local endpoint (results inline) that
    answers only a pair generated for it, handed to the kernel as AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY: the kernel signs every call (SigV4) and the endpoint checks it."""
    ep = LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, generate_credentials=True)
    with ep, peer_kernel(peer_specs, peer_env(ep.url, **signing_with(ep))) as kernel:
        start_session(kernel)
        yield kernel


@pytest.fixture(scope="module")
def results_endpoint(moto_server: str) -> Iterator[LocalEndpoint]:
    make_s3(moto_server, BUCKET)
    with s3_endpoint(moto_server, BUCKET, INLINE_LIMIT, provision_seconds=0.3) as ep:
        yield ep


@pytest.fixture(scope="module")
def aws_s3(peer_specs: Any, results_endpoint: LocalEndpoint, moto_server: str) -> Iterator[Any]:
    """(kernel, glue client, session id): AWS's kernel on an endpoint that hands results over
    in S3.  Its own S3 client (KernelGateway.create_s3_client, no endpoint_url) finds moto
    through ``AWS_ENDPOINT_URL_S3``, as botocore reads it."""
    env = peer_env(results_endpoint.url, AWS_ENDPOINT_URL_S3=moto_server)
    with peer_kernel(peer_specs, env) as kernel:
        session_id = start_session(kernel)
        yield kernel, make_glue(results_endpoint.url), session_id


# ------------------------------------------------------------------ helpers
def shown(reply: Reply) -> str:
    """What AWS's kernel showed for a cell, for assertion messages."""
    head = f"reply {reply.status!r}"
    if reply.ename:
        head += f" {reply.ename}: {reply.evalue}"
    parts = [head]
    for m in reply.messages:
        kind, content = m["msg_type"], m["content"]
        if kind == "stream":
            text = content["text"]
            text = text if len(text) < 400 else f"{text[:200]}...{text[-200:]}"
            parts.append(f"{content['name']} {text!r}")
        elif kind in ("display_data", "execute_result"):
            parts.append(f"{kind} {sorted(content['data'])}")
        elif kind == "error":
            parts.append(f"error {content['ename']}: {content['evalue']}")
    return "AWS's kernel showed: " + "; ".join(parts)


def last_statement(glue: Any, session_id: str) -> dict[str, Any]:
    statements = glue.list_statements(SessionId=session_id)["Statements"]
    return max(statements, key=lambda s: s["Id"])


# ------------------------------------------------------------------ text
def test_print_shows_on_stdout(aws: Kernel) -> None:
    """BaseKernel.display_result: ``Data`` {TextPlain} alone goes to stdout."""
    reply = aws.execute("print(6 * 7)")
    assert reply.status == "ok", shown(reply)
    assert reply.stdout == "42\n", shown(reply)
    assert reply.stderr == "", shown(reply)


def test_last_expression_value_shows(aws: Kernel) -> None:
    """BaseKernel.display_result: the last expression's repr is in TextPlain (Livy's REPL
    prints it), so it shows on stdout."""
    reply = aws.execute("answer = 6 * 7\n{'answer': answer}")
    assert reply.status == "ok", shown(reply)
    assert reply.stdout == "{'answer': 42}\n", shown(reply)
    assert reply.stderr == "", shown(reply)


def test_state_is_kept_across_cells(aws: Kernel) -> None:
    """One session, one interpreter: a name bound in one cell is there in the next
    (BaseKernel.do_execute runs every cell as a statement of the same session)."""
    for code in ("counter = 41", "counter += 1"):
        reply = aws.execute(code)
        assert reply.status == "ok", shown(reply)
    reply = aws.execute("print(counter)")
    assert reply.status == "ok", shown(reply)
    assert reply.stdout == "42\n", shown(reply)


# ------------------------------------------------------------------ errors
def test_exception_is_an_error_reply_with_the_remote_traceback(aws: Kernel) -> None:
    """BaseKernel._construct_reply_content: State AVAILABLE with Output.Status "error" is an
    error reply carrying ErrorName, ErrorValue and Traceback, and the one line
    "ErrorName: ErrorValue" on stdout.  (State ERROR instead writes the raw Output dict to
    stderr and replies "abort": _construct_reply_error looks for a "TraceBack" key.)"""
    reply = aws.execute("def divide(a, b):\n    return a / b\n\ndivide(1, 0)")
    assert reply.status == "error", shown(reply)
    assert (reply.ename, reply.evalue) == ("ZeroDivisionError", "division by zero"), shown(reply)
    traceback = "".join(reply.traceback)
    assert "Traceback (most recent call last)" in traceback, reply.traceback
    assert "return a / b" in traceback, reply.traceback  # the remote frame, from the session
    assert "ZeroDivisionError: division by zero" in traceback, reply.traceback
    assert reply.stdout == "ZeroDivisionError: division by zero\n", shown(reply)
    assert reply.stderr == "", shown(reply)  # no raw Output dict


def test_session_lives_on_after_an_error(aws: Kernel) -> None:
    """An exception in the code is the code's, not the statement's: the next cell runs."""
    aws.execute("1 / 0")
    reply = aws.execute("print('still here')")
    assert reply.status == "ok", shown(reply)
    assert reply.stdout == "still here\n", shown(reply)


# ------------------------------------------------------------------ images
def test_matplot_shows_a_png(aws: Kernel) -> None:
    """AWS's kernel's %help example, run as it says: the code and ``%matplot plt`` go to the
    session in one statement (BaseKernel._execute_magics stops at the first plain line), the
    session answers the rich shape with MimeType ``image/png;base64``, and
    BaseKernel.display_result decodes it and publishes display_data image/png."""
    assert importlib.util.find_spec("matplotlib"), (
        f"matplotlib is not installed for {sys.executable}, the interpreter the local "
        "endpoint's sessions run: %matplot needs it (it belongs in the test extra)"
    )
    code = (
        "import matplotlib.pyplot as plt\n"
        "x = [5, 2, 8, 4, 9]\n"
        "y = [10, 4, 8, 5, 2]\n"
        "plt.bar(x, y)\n"
        "%matplot plt"
    )
    reply = aws.execute(code)
    assert reply.status == "ok", shown(reply)
    images = reply.data("image/png")
    assert len(images) == 1, shown(reply)
    assert base64.b64decode(images[0]).startswith(PNG_SIGNATURE), images[0][:40]
    assert reply.stderr == "", shown(reply)


# ------------------------------------------------------------------ results held in S3
def test_large_printed_output_held_in_s3_is_shown(aws_s3: Any) -> None:
    """BaseKernel.display_result, MimeType ``text/uri-list``: StdOut is an s3:// URI that
    KernelGateway.get_results fetches with the kernel's own S3 client; Result holds ``{}``
    ("output only on the streams"), so nothing else is shown."""
    kernel, glue, session_id = aws_s3
    rows = [f"row {i:04d}" for i in range(400)]
    reply = kernel.execute('print("\\n".join(f"row {i:04d}" for i in range(400)))')
    assert reply.status == "ok", shown(reply)
    assert [line for line in reply.stdout.splitlines() if line] == rows, shown(reply)
    assert reply.stderr == "", shown(reply)
    data = last_statement(glue, session_id)["Output"]["Data"]
    assert data.get("MimeType") == "text/uri-list", data  # it did come through S3


def test_large_value_held_in_s3_is_shown_once(aws_s3: Any) -> None:
    """BaseKernel.display_result, MimeType ``text/uri-list`` with Result ``{"text/plain":
    value}``: the value is published as display data text/plain (and the streams, if any,
    on stdout/stderr); a user sees it once."""
    kernel, glue, session_id = aws_s3
    value = repr("wide " * 1000)
    reply = kernel.execute('"wide " * 1000')
    assert reply.status == "ok", shown(reply)
    seen = reply.stdout + "".join(reply.data("text/plain"))
    assert seen.count(value) == 1, shown(reply)
    data = last_statement(glue, session_id)["Output"]["Data"]
    assert data.get("MimeType") == "text/uri-list", data  # it did come through S3


def test_an_arrow_result_read_by_aws_kernel_is_the_same_frame(aws_s3: Any) -> None:
    """%glue_fetch's statement (glue_magics.fetch) run by AWS's own kernel through S3:
    BaseKernel.display_result, MimeType ``text/uri-list``, StdOut fetched by
    KernelGateway.get_results and written to stdout.  The base64 Arrow payload is plain
    stdout, so a client written against the service carries it intact, and our reader
    makes the same frame of what that client showed."""
    import pandas as pd

    from glue_magics import fetch

    kernel, glue, session_id = aws_s3
    build = "import pandas as pd\ndf = pd.DataFrame({'i': range(500)})\n"
    build += "df['s'] = 'r' + df.i.astype(str)"
    assert kernel.execute(build).status == "ok"
    reply = kernel.execute(fetch.name_code("df", 10**8))
    assert reply.status == "ok", shown(reply)
    got = fetch.read(reply.stdout)
    expected = pd.DataFrame({"i": range(500), "s": [f"r{i}" for i in range(500)]})
    pd.testing.assert_frame_equal(got.frame, expected, check_dtype=False)
    data = last_statement(glue, session_id)["Output"]["Data"]
    assert data.get("MimeType") == "text/uri-list", data  # it did come through S3


# ------------------------------------------------------------------ session magics
def test_without_the_endpoints_credentials_the_kernel_is_refused(peer_specs: Any) -> None:
    """The same kernel with the environment's keys, not the endpoint's generated pair: its
    CreateSession (BaseKernel.create_session) gets the service's UnrecognizedClientException
    and no session is created."""
    ep = LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1, generate_credentials=True)
    with ep, peer_kernel(peer_specs, peer_env(ep.url)) as kernel:  # testing / testing
        reply = kernel.execute("refused = True", timeout=120)
        shown_text = shown(reply)
        assert "UnrecognizedClientException" in shown_text, shown_text
        assert ep.sessions_created == 0


def test_status_and_stop_session(peer_specs: Any) -> None:
    """AWS's kernel's own magics on our endpoint (glue_kernel_utils/KernelMagics.py):
    ``%status`` (GetSession, and GetTags on the ARN it builds from STS GetCallerIdentity,
    answered by moto's proxy) and ``%stop_session`` (StopSession).  Also the whole setup:
    its venv, kernelspec, kernel start and a session reaching READY."""
    with sts_proxy() as proxy, LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1) as ep:
        with peer_kernel(peer_specs, peer_env(ep.url, proxy=proxy)) as kernel:
            reply = kernel.execute("%status")
            assert reply.status == "ok", shown(reply)
            assert "There is no current session." in reply.stdout.splitlines(), shown(reply)

            session_id = start_session(kernel)
            reply = kernel.execute("%status")
            assert reply.status == "ok", shown(reply)
            assert not reply.of_type("error"), shown(reply)
            lines = reply.stdout.splitlines()
            for line in (
                f"Session ID: {session_id}",
                "Status: READY",
                f"Role: {ROLE}",
                "Session Type: glueetl",
                "Tags: {'owner': 'bench'}",  # userId, tagged at CreateSession
                "Region: us-east-1",
            ):
                assert line in lines, shown(reply)

            reply = kernel.execute("%stop_session")
            assert reply.status == "ok", shown(reply)
            assert reply.stdout.splitlines() == [
                f"Stopping session: {session_id}",
                "Stopped session.",
            ], shown(reply)
            status = make_glue(ep.url).get_session(Id=session_id)["Session"]["Status"]
            assert status in ("STOPPING", "STOPPED")

            reply = kernel.execute("%status")
            assert "There is no current session." in reply.stdout.splitlines(), shown(reply)
