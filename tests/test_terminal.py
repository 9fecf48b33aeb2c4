"""Terminal IPython: no widgets there, so the wait is a text line rewritten in place."""

from __future__ import annotations

import subprocess
import sys

from glue_magics.local import LocalEndpoint
from tests.kernels import kernel_env

SCRIPT = """\
%load_ext glue_magics
%glue_session --id terminal-1
%glue print(6 * 7)
"""


def test_terminal_ipython_shows_a_live_text_line(tmp_path):
    script = tmp_path / "session.ipy"
    script.write_text(SCRIPT)
    with LocalEndpoint(provision_seconds=1.5, stop_seconds=0.1) as ep:
        run = subprocess.run(
            [sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", str(script)],
            capture_output=True,
            timeout=60,
            env=kernel_env(ep.url),
        )
        calls = dict(ep.calls)
    stdout, stderr = run.stdout.decode(), run.stderr.decode()  # bytes: keep the \r rewrites
    assert run.returncode == 0, stdout + stderr
    frames = [f.strip() for f in stdout.split("\r") if f.strip().startswith("[")]  # bar frames
    assert len(frames) >= 4, frames  # the line was rewritten while provisioning
    assert "PROVISIONING" in frames[0]
    assert "READY in" in frames[-1]
    assert "\n42\n" in stdout
    assert "stopped session terminal-1" in stdout  # stop_on_exit at interpreter exit
    assert calls["StopSession"] == 1
    assert "Traceback" not in stdout + stderr
