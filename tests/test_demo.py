"""The Quick start's demo, and the demo notebook executed headless by nbclient."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).parent.parent


def clean_env() -> dict[str, str]:
    """No AWS configuration at all: the demo must need none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLUE_"))}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def test_glue_magics_demo_runs_end_to_end():
    run = subprocess.run(
        [sys.executable, "-m", "glue_magics", "demo", "--provision-seconds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "PROVISIONING" in out and "READY in" in out
    assert "\n42\n" in out
    assert "STOPPED" in out
    assert "Traceback" not in out + run.stderr


def test_demo_notebook_executes_with_nbclient(tmp_path):
    notebook = nbformat.read(ROOT / "notebooks" / "demo.ipynb", as_version=4)
    env = clean_env()
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    finally:
        os.environ.clear()
        os.environ.update(old)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    texts = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "42" in texts
    assert not [o for o in outputs if o.output_type == "error"]
