"""One language per session, fixed at creation as on Glue (DefaultArguments
``--session-language``): Python code for a Scala session, or Scala code for a Python one, is
refused in one line that says what to do, before any call.  Real kernels through
jupyter_client; no JVM is needed (the sessions refused never run a statement).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from glue_magics.local import LocalEndpoint
from tests.kernels import Kernel, kernel_env, one_line


@pytest.fixture(scope="module")
def ep():
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.05) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> KernelSpecManager:
    prefix = tmp_path_factory.mktemp("prefix")
    subprocess.run(
        [sys.executable, "-m", "glue_magics", "install-kernel", "--prefix", str(prefix)],
        capture_output=True,
        check=True,
    )
    kernels = prefix / "share" / "jupyter" / "kernels"
    spec = json.loads((kernels / "glue_magics_scala" / "kernel.json").read_text())
    assert spec["argv"][1:3] == ["-m", "glue_magics.kernel_scala"]
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def calls(ep) -> tuple[int, int]:
    return ep.calls["CreateSession"], ep.calls["RunStatement"]


def test_python_code_for_a_scala_session_is_refused_before_the_session_is_made(ep):
    k = Kernel(kernel_env(ep.url))
    try:
        k.ok("%load_ext glue_magics")
        k.ok('%%configure\n{"session_language": "scala"}')
        before = calls(ep)
        reply = k.execute("%%glue\nprint(1)")
        one_line(reply, "Python code", "Scala session", "glue_magics_scala", "session_language")
        assert calls(ep) == before
        # the request asks for Scala; the refusal came before it was sent
        assert "--session-language" in k.ok("%glue_session --dry-run").stdout
    finally:
        k.shutdown()


def test_scala_kernel_makes_scala_sessions_and_refuses_a_python_one(ep, installed):
    k = Kernel(kernel_env(ep.url), kernel_name="glue_magics_scala", kernel_spec_manager=installed)
    try:
        info = k.kc.kernel_info(reply=True)["content"]["language_info"]
        assert info["name"] == "scala"
        dry = k.ok("%glue_session --dry-run").stdout
        assert '"--session-language": "scala"' in dry  # the kernel's own default
        k.ok("%glue_session --session-language python")  # a Python session: no JVM
        before = calls(ep)
        reply = k.execute("val x = 1")
        one_line(reply, "Scala code", "Python session", "session_language scala", "--force")
        assert calls(ep) == before
        k.ok("%glue_stop")
    finally:
        k.shutdown()


def test_a_bad_language_is_one_line_and_no_call(ep):
    k = Kernel(kernel_env(ep.url))
    try:
        k.ok("%load_ext glue_magics")
        before = calls(ep)
        one_line(k.execute("%glue_session --session-language java"), "session_language", "java")
        one_line(
            k.execute("%glue_session --session-type ray --session-language scala"),
            "session_language 'scala'",
        )
        assert calls(ep) == before
    finally:
        k.shutdown()
