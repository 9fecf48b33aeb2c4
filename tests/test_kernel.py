"""The installable kernel: installed by ``glue-magics install-kernel``, started by jupyter_client
from that kernelspec, plain cells run in the Glue session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import make_glue
from hypothesis import given
from hypothesis import strategies as st
from jupyter_client.kernelspec import KernelSpecManager

from glue_magics import options
from glue_magics.local import LocalEndpoint
from glue_magics.specs import aws_magics
from tests.kernels import Kernel, install_kernels, kernel_env, run_notebook


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out, kernels = install_kernels(tmp_path_factory.mktemp("prefix"))
    assert "Installed kernelspec glue_magics" in out
    spec = json.loads((kernels / "glue_magics" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def test_plain_cells_run_in_the_session(installed):
    with LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1) as ep:
        k = Kernel(kernel_env(ep.url), kernel_name="glue_magics", kernel_spec_manager=installed)
        try:
            # AWS Glue kernel's option magics, then code: the magics run here, the code there
            bad = k.execute("%worker_type G.3X")
            assert bad.status == "error" and "G.3X" in bad.stderr and "G.2X" in bad.stderr
            assert "Traceback" not in bad.stderr
            k.ok("%streaming\n%etl\n%spark_conf spark.sql.shuffle.partitions=4")
            k.ok('%%tags\n{"team": "data"}')
            reply = k.ok("%worker_type G.2X\n%number_of_workers 2\nprint(6 * 7)")
            assert "42" in reply.stdout
            assert ep.calls["RunStatement"] == 1
            session = ep_session(ep)
            assert session["WorkerType"] == "G.2X" and session["NumberOfWorkers"] == 2
            assert session["Command"]["Name"] == "glueetl"
            assert "spark.sql.shuffle.partitions=4" in session["DefaultArguments"]["--conf"]
            assert session["Id"] in k.ok("%session_id").stdout
            assert "local" in k.ok("%%local\nimport os\nprint('local', os.getpid())").stdout
            assert ep.calls["RunStatement"] == 1
            reply = k.execute("undefined_name")
            assert reply.status == "error" and reply.ename == "NameError"
            k.ok("%stop_session")
        finally:
            k.shutdown()


def test_silent_executions_stay_local_and_create_no_session(installed):
    """Frontends send silent / store_history=False requests on their own (VS Code probes,
    variable viewers): they run in the kernel and never create or use a Glue session.
    Source: microsoft/vscode-jupyter#15977, aws-glue-sessions 1.0.9 BaseKernel.do_execute."""
    with LocalEndpoint(provision_seconds=0.1, stop_seconds=0.05) as ep:
        k = Kernel(kernel_env(ep.url), kernel_name="glue_magics", kernel_spec_manager=installed)
        try:
            assert k.execute("import os\nprobe = os.getpid()", silent=True).status == "ok"
            reply = k.execute("print('probe', probe)", store_history=False)
            assert reply.status == "ok" and "probe" in reply.stdout
            assert ep.calls["CreateSession"] == 0 and ep.calls["RunStatement"] == 0
            # the user's own cell still goes to the session, and a later probe stays here
            assert "42" in k.ok("print(6 * 7)").stdout
            assert ep.calls["RunStatement"] == 1
            k.execute("probe2 = 1", store_history=False)
            assert ep.calls["RunStatement"] == 1 and ep.sessions_created == 1
            assert "local" in k.ok("%%local\nprint('local', probe, probe2)").stdout
        finally:
            k.shutdown()


def ep_session(ep):
    client = make_glue(ep.url)
    ids = client.list_sessions()["Ids"]
    return client.get_session(Id=ids[-1])["Session"]


@given(
    st.sampled_from(sorted({option for option, _ in aws_magics().values()})), st.text(max_size=40)
)
def test_compat_option_text_is_taken_or_refused_in_one_line(option, text):
    try:
        options.coerce(option, text)
    except options.OptionError as exc:
        message = str(exc)
        assert "\n" not in message and option.split("_")[0] in message


def test_aws_glue_kernel_style_notebook_runs_unchanged(installed, tmp_path):
    """A notebook of AWS Glue kernel magics, executed headless on our installed kernel."""
    import nbformat

    path = Path(__file__).parent.parent / "notebooks" / "aws_glue_kernel_style.ipynb"
    notebook = nbformat.read(path, as_version=4)
    outputs = run_notebook(notebook, "glue_magics", installed, tmp_path, timeout=120)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "\n6\n" in "\n" + text and "\n3\n" in "\n" + text  # ran in the session
    assert "notebook's own kernel" in text and "STOPPED" in text
