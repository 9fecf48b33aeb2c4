"""Terminal IPython: no widgets there, so the wait is a text line rewritten in place."""

from __future__ import annotations

import subprocess
import sys

from helpers import release

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
    # 3 s of provisioning: several polls redraw the line even on a loaded machine
    with LocalEndpoint(provision_seconds=3, stop_seconds=0.1) as ep:
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


def test_terminal_background_start_draws_nothing_under_the_prompt_then_one_line():
    """Terminal IPython with its prompt up (a real pty, prompt_toolkit): the background wait
    draws no bar (a ``\\r`` rewrite would land on the prompt's line) and prints one line at
    READY, which IPython's patch_stdout puts above the prompt."""
    import re

    import pexpect

    bar = re.compile(r"\[[#.]{20}\]")
    with LocalEndpoint(provision_seconds=600, stop_seconds=0.1) as ep:
        env = kernel_env(ep.url, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm")
        child = pexpect.spawn(
            sys.executable,
            ["-m", "IPython", "--no-banner", "--colors=NoColor", "--no-confirm-exit"],
            env=env,
            encoding="utf-8",
            timeout=60,
            dimensions=(40, 160),
        )
        try:
            child.expect(r"In \[1\]")
            child.sendline("%load_ext glue_magics")
            child.expect(r"In \[2\]")
            child.sendline("%glue_session --background --id terminal-bg")
            child.expect(r"In \[3\]")
            shown = child.before
            child.sendline("print('local', 1 + 1)")
            child.expect("local 2")
            shown += child.before
            child.expect(r"In \[4\]")  # the prompt is up while the session provisions
            release(ep, "terminal-bg")  # READY now, not at a time that could race the prompt
            child.expect(r"Glue session terminal-bg READY in [0-9.]+ s")
            shown += child.before
            assert "PROVISIONING" not in shown and not bar.search(shown), shown
            assert "Creating session terminal-bg" in shown
            child.sendline("%glue print(6 * 7)")
            child.expect("42")
            assert not bar.search(child.before)  # READY already: nothing to wait for
            child.sendline("exit")
            child.expect(pexpect.EOF)
            assert "stopped session terminal-bg" in child.before
        finally:
            child.close(force=True)
        assert "Traceback" not in shown
