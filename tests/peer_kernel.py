"""AWS's own Glue kernel (aws-glue-sessions, the "peer") run unchanged against the local endpoint.

Shared by tests/test_aws_kernel.py and benchmarks/bench_kernels.py: the peer's venv (made once
and cached), its kernelspec, and an environment in which it reaches the local endpoint and
nothing beyond this machine.

The venv holds the unmodified PyPI package installed ``--no-deps`` plus only what its kernel
imports at run time (``PEER_RUNTIME``), not its declared dependencies (autovizwidget,
notebook, nose, ipywidgets, click, rich: jupyterlab and some 200 packages in all, which its
kernel never imports; click and rich serve only its ``install-glue-kernels`` command).
Measured on the 2-core machine with an empty pip cache: 54 s and 163 MB this way, 121 s and
541 MB for a full ``pip install aws-glue-sessions==1.0.9``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from helpers import ROLE

PEER_DIST = "aws-glue-sessions"
PEER_VERSION = "1.0.9"
PEER_PACKAGE = "aws_glue_interactive_sessions_kernel"
PEER_KERNEL = "glue_pyspark"
# What the peer's kernel modules import at run time, at the minimums its package declares:
# glue_kernel_base/BaseKernel.py (ipykernel, IPython, importlib_metadata, requests, botocore),
# glue_kernel_utils/KernelGateway.py (boto3, urllib3 via botocore) and
# glue_kernel_utils/GlueSessionsConstants.py (tabulate).
PEER_RUNTIME = (
    "ipykernel>=6.12.1",
    "ipython>=4.0.2",
    "tornado>=4",
    "boto3>=1.21.31",
    "botocore>=1.24.24",
    "importlib-metadata>=4.11.3",
    "requests",
    "tabulate",
)
CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, connect fails at once
_COMPLETE = ".complete"  # written only after a whole install: a half-made venv is redone
# pip's words for "could not reach the index" (pip/_internal/exceptions.py, urllib3's errors)
_OFFLINE = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "No matching distribution found",
    "Could not fetch URL",
    "ProxyError",
    "ConnectTimeoutError",
)


class PeerUnavailable(RuntimeError):
    """The peer's venv could not be made because its packages could not be fetched."""


# ------------------------------------------------------------------ the venv
def peer_cache_dir() -> Path:
    """Where the peer's venv is kept across runs: outside the repo, per version."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "glue-magics-tests" / f"{PEER_DIST}-{PEER_VERSION}"


def peer_venv(where: Path | None = None) -> Path:
    """The python of a venv with aws-glue-sessions installed from PyPI; made once, reused.

    A lock keeps two test runs from building it at once; the marker file is written only
    after the kernel module imports, so an interrupted install is thrown away and redone.
    Raises PeerUnavailable (with pip's own words) when PyPI cannot be reached.
    """
    where = where or peer_cache_dir()
    python = where / "bin" / "python"
    where.parent.mkdir(parents=True, exist_ok=True)
    with open(where.parent / f"{where.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (where / _COMPLETE).exists():
            return python
        shutil.rmtree(where, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _pip(pip + ["--no-deps", f"{PEER_DIST}=={PEER_VERSION}"])
        _pip(pip + list(PEER_RUNTIME))
        subprocess.run(
            [str(python), "-c", f"import {PEER_PACKAGE}.{PEER_KERNEL}.GlueKernel"],
            check=True,
            capture_output=True,
        )
        (where / _COMPLETE).write_text(f"{PEER_DIST}=={PEER_VERSION}\n")
        return python


def _pip(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode == 0:
        return
    said = (done.stdout + done.stderr).strip()
    last = said.splitlines()[-1] if said else f"exit {done.returncode}"
    if any(word in said for word in _OFFLINE):
        raise PeerUnavailable(f"PyPI could not be reached for {argv[-1]}: {last}")
    raise RuntimeError(f"{' '.join(argv)} failed:\n{said[-3000:]}")


# ------------------------------------------------------------------ environment
def loopback_env(endpoint_url: str, **extra: str) -> dict[str, str]:
    """An environment in which a kernel can reach the local endpoint and nothing else."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("AWS_", "GLUE_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"))
    }
    env.update(
        AWS_ENDPOINT_URL_GLUE=endpoint_url,
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        HTTP_PROXY=CLOSED_PORT_PROXY,
        HTTPS_PROXY=CLOSED_PORT_PROXY,
        http_proxy=CLOSED_PORT_PROXY,
        https_proxy=CLOSED_PORT_PROXY,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.update(extra)
    return env


def peer_env(endpoint_url: str, proxy: str = CLOSED_PORT_PROXY, **extra: str) -> dict[str, str]:
    """AWS's kernel reads ``glue_<option>`` variables (glue_kernel_configs/
    SystemEnvConfigRetriever.py); with request origin ``GlueStudioNotebook`` it takes the
    owner tag from ``userId`` instead of calling STS, and skips its PyPI version check
    (BaseKernel._get_additional_arguments, _get_latest_kernel_version).

    ``proxy`` takes every HTTP(S) call not meant for loopback: a closed port by default,
    or a local STS (see ``sts_proxy``).  Our PYTHONPATH is not passed: the peer's venv sees
    only itself.
    """
    env = loopback_env(
        endpoint_url,
        glue_endpoint_url=endpoint_url,
        glue_role_arn=ROLE,
        region="us-east-1",
        request_origin="GlueStudioNotebook",
        userId="bench",
        HTTP_PROXY=proxy,
        HTTPS_PROXY=proxy,
        http_proxy=proxy,
        https_proxy=proxy,
        **extra,
    )
    env.pop("PYTHONPATH", None)
    return env


@contextlib.contextmanager
def sts_proxy() -> Iterator[str]:
    """moto's HTTPS proxy on loopback (``moto_proxy``): the only AWS host AWS's kernel calls
    beyond its endpoint is STS, whose URL it builds itself (KernelGateway.create_sts_client,
    ``https://sts.<region>.amazonaws.com``, ``verify=False``) for ``%status``'s account id.
    moto answers every AWS host itself and passes nothing through, so nothing leaves."""
    import logging
    from http.server import ThreadingHTTPServer

    from moto.moto_proxy import logger
    from moto.moto_proxy.proxy3 import ProxyRequestHandler

    logger.setLevel(logging.WARNING)
    ProxyRequestHandler.validate()  # its CA files and the openssl it signs host certs with
    server = ThreadingHTTPServer(("127.0.0.1", 0), ProxyRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------ kernelspec
def install_peer(root: Path, peer_python: str | Path, kernel: str = PEER_KERNEL) -> Any:
    """Install the peer's glue_pyspark kernelspec (``kernel``: or its glue_spark one, for
    Scala) as its README does, into a temp prefix.

    Its kernel.json says ``python``, which jupyter_client would replace by *this*
    interpreter, so argv[0] is pinned to the peer venv's interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager

    peer_python = str(peer_python)
    where = subprocess.run(
        [peer_python, "-c", f"import {PEER_PACKAGE} as m, os; print(os.path.dirname(m.__file__))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    prefix = root / "peer"
    subprocess.run(
        [
            peer_python,
            "-m",
            "jupyter_client.kernelspecapp",
            "install",
            "--prefix",
            str(prefix),
            "--replace",
            os.path.join(where, kernel),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
    )
    kernels = prefix / "share" / "jupyter" / "kernels"
    spec_file = kernels / kernel / "kernel.json"
    spec = json.loads(spec_file.read_text())
    spec["argv"][0] = peer_python
    spec_file.write_text(json.dumps(spec, indent=1))
    return KernelSpecManager(kernel_dirs=[str(kernels)])
