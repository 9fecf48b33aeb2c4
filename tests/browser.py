"""JupyterLab in a real browser, for tests that check what a user sees.

Why: the kernel tests read widget comm messages, which proves what the kernel sends, not
what JupyterLab draws.  Here a JupyterLab server runs on loopback (token auth, a temporary
root dir), Debian's Chromium is driven through Playwright (``executable_path``: Playwright's
own browser download is not used), and the page's DOM is read: every state a progress bar
took is recorded in the page by a MutationObserver, so nothing is sampled on a timer.

Nothing leaves loopback: dummy AWS credentials, ``AWS_CONFIG_FILE=/dev/null``, the embedded
endpoint, and Chromium's host resolver maps every name but 127.0.0.1 to "not found".

Import it as ``browser`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from helpers import ROLE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
HOW_TO_GET = (
    'apt-get install chromium (Debian\'s, at /usr/bin/chromium) and pip install -e ".[test]" '
    "(jupyterlab, playwright); .ci/run does both"
)
#: Narrower than this, a user cannot read the bar.
MIN_BAR_PX = 40
#: Guards against a hang, not timing: a loaded 2-core machine is slow to start JupyterLab.
LAB_START = 120.0


def unavailable(reason: str) -> NoReturn:
    """Skip, saying why and how to get the browser; in CI (``CI=true``) fail instead, so a
    CI machine without the browser cannot pass by skipping the browser tests."""
    message = f"browser tests need {reason}: {HOW_TO_GET}"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def check_installed() -> None:
    """Skip (fail in CI) unless Chromium, jupyterlab and playwright are here."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM}, which is missing")
    for module in ("jupyterlab", "playwright"):
        if importlib.util.find_spec(module) is None:
            unavailable(f"the Python package {module}, which is not installed")


# --------------------------------------------------------------------------- notebooks


def setup_cell(provision_seconds: float) -> list[str]:
    """The lines that load the magics on the embedded endpoint with a slow enough start."""
    return [
        "%load_ext glue_magics",
        '%config GlueMagics.endpoint_url = "local"',
        f"%config GlueMagics.local_provision_seconds = {provision_seconds:g}",
        f'%config GlueMagics.role = "{ROLE}"',
    ]


def write_notebook(path: Path, cells: list[str]) -> None:
    """A notebook of code cells for the python3 kernel (it imports glue_magics from
    ``PYTHONPATH``, which the server and its kernels inherit)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    spec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kernelspec"] = spec
    nbformat.write(nb, str(path))


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_settings(settings_dir: Path) -> None:
    """Lab user settings: no news or update checks (no network), the light theme."""
    apputils = settings_dir / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    (apputils / "themes.jupyterlab-settings").write_text(json.dumps({"theme": "JupyterLab Light"}))


def lab_env(home: Path) -> dict[str, str]:
    """Dummy credentials, no AWS config, loopback only, Jupyter dirs of our own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("AWS_", "GLUE_", "JUPYTER_", "HTTP_PROXY", "HTTPS_PROXY"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    return env


class JupyterLab:
    """One ``jupyter lab`` on 127.0.0.1 with a token; notebooks live in ``root``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home / "notebooks"
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = secrets.token_hex(24)
        self.port = _free_port()
        self.log = home / "jupyter-lab.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> JupyterLab:
        """Start the server and wait until its API answers."""
        settings_dir = self.home / "lab-settings"
        _lab_settings(settings_dir)
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--IdentityProvider.token={self.token}",  # ServerApp.token in jupyter_server 1
            "--ServerApp.ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={settings_dir}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=",
            "--ServerApp.terminals_enabled=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers; Jupyter refuses root
            cmd.append("--allow-root")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root,
                env=lab_env(self.home),
                stdin=subprocess.DEVNULL,  # no "Shutdown this Jupyter server (y/[n])?" on SIGINT
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + LAB_START
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"jupyter lab exited with {code}; see {self.log}")
            try:
                self.api("/api/status")
                return self
            except OSError:
                self.proc_wait(0.3)  # not up yet: wait on the process, which may also exit
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {LAB_START:g} s; see {self.log}")

    def proc_wait(self, seconds: float) -> None:
        assert self.proc is not None
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            pass

    def stop(self) -> None:
        """SIGINT the server we started (it shuts its kernels down), harder if it hangs."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def api(self, path: str, body: dict | None = None, method: str | None = None) -> Any:
        """One call to the server's REST API on loopback."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            method=method or ("GET" if body is None else "POST"),
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
            return json.loads(resp.read() or b"null")

    def url(self, notebook: str) -> str:
        """The notebook in a workspace of its own: Lab would otherwise restore the tabs of the
        notebooks opened before it (and start kernels for them)."""
        workspace = re.sub(r"\W", "-", notebook)
        return (
            f"http://127.0.0.1:{self.port}/lab/workspaces/{workspace}/tree/{notebook}"
            f"?token={self.token}"
        )

    @contextmanager
    def notebook(self, name: str, cells: list[str]) -> Iterator[str]:
        """Write a notebook and start its kernel before a page opens it; shut it down after.

        Lab then attaches to that kernel instead of sometimes asking "Select Kernel" (it
        does when the page loads before the kernelspecs on a busy machine).  Shutting the
        kernel down stops its sessions (``stop_on_exit``) and its embedded endpoint.
        """
        write_notebook(self.root / name, cells)
        session = self.api(
            "/api/sessions",
            {"path": name, "name": name, "type": "notebook", "kernel": {"name": "python3"}},
        )
        try:
            yield self.url(name)
        finally:
            self.api(f"/api/sessions/{session['id']}", method="DELETE")


# --------------------------------------------------------------------------- the browser


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright; skips (fails in CI) when it cannot launch."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            unavailable(f"a Chromium that Playwright can launch ({first})")
        try:
            yield browser
        finally:
            browser.close()


# Every progress bar in every code cell: its value (the bar's CSS width), bar_style class,
# the label's text, and geometry: the bar's box, the label's text extent, the label widget's
# box and the output area's box (to see the label is neither past the area nor clipped).
_READ_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return [];
  const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; };
  return [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell')].map((cell) => {
    const bars = [...cell.querySelectorAll('.widget-hprogress')].map((prog) => {
      const bar = prog.querySelector('.progress-bar');
      const hbox = prog.closest('.widget-hbox') || prog.parentElement;
      const label = hbox ? hbox.querySelector('.widget-html') : null;
      const content = label ? label.querySelector('.widget-html-content') : null;
      let text = null;
      if (content) { const r = document.createRange(); r.selectNodeContents(content);
        text = box(r); }
      return {
        width: bar ? bar.style.width : null,
        classes: bar ? [...bar.classList].filter((c) => c.startsWith('progress-bar-')) : [],
        label: content ? content.innerText : null,
        bar: box(prog),
        labelBox: box(label),
        text,
        area: box(prog.closest('.jp-OutputArea-output')),
      };
    });
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')]
      .filter((o) => !o.querySelector('.widget-hprogress') && o.innerText.trim())
      .map((o) => ({text: o.innerText,
        stderr: o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr'}));
    return {prompt: prompt ? prompt.innerText : '', bars, outputs};
  });
}
"""

# Records each state a bar shows, as it is drawn: a MutationObserver on the notebook sees
# every change the widget manager makes, however fast they come.
_OBSERVE_JS = """
(readJs) => {
  const read = eval(readJs);
  window.__glueBars = [];
  const last = {};
  const record = () => {
    read().forEach((cell, i) => cell.bars.forEach((b, j) => {
      const key = `${i}/${j}`;
      const state = JSON.stringify([b.width, b.classes, b.label]);
      if (last[key] !== state) {
        last[key] = state;
        window.__glueBars.push({t: performance.now() / 1000, cell: i, bar: j,
                                width: b.width, classes: b.classes, label: b.label});
      }
    }));
  };
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  new MutationObserver(record).observe(panel, {subtree: true, childList: true,
    attributes: true, characterData: true});
  record();
}
"""


def percent(width: str | None) -> float | None:
    """A bar's value from its CSS width (``"35%"``)."""
    if not width or not width.endswith("%"):
        return None
    try:
        return float(width[:-1])
    except ValueError:
        return None


class Notebook:
    """A notebook open in a page: run its cells as a user does, read what it shows."""

    def __init__(self, page: Any, shots: Path, prefix: str) -> None:
        self.page = page
        self.shots = shots
        self.prefix = prefix

    def open(self, url: str, timeout: float = 120.0) -> Notebook:
        """Open it and wait for an idle kernel, accepting a kernel dialog if one shows."""
        self.page.goto(url)
        self.page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=timeout * 1000)
        # Not scoped to the panel: in a narrow window the toolbar moves the indicator to an
        # overflow popup outside it.  There is only one notebook open.
        ready = """() => {
          const accept = document.querySelector('.jp-Dialog .jp-Dialog-button.jp-mod-accept');
          if (accept) { accept.click(); return false; }
          const idle = document.querySelector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']");
          const name = document.querySelector('.jp-Toolbar-kernelName');
          return !!idle && !!name && name.textContent.trim() !== ''
            && !name.textContent.includes('No Kernel');
        }"""
        self.page.wait_for_function(ready, timeout=timeout * 1000, polling=250)
        self.page.evaluate(_OBSERVE_JS, f"({_READ_JS})")
        return self

    def run_all(self) -> None:
        """Run > Run All Cells, through the menu bar as a user would; wait until all queued."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        exact = re.compile(r"^\s*Run All Cells\s*$")
        self.page.locator(".lm-Menu-itemLabel").filter(has_text=exact).first.click()
        self.page.mouse.move(5, 5)  # off the outputs, so no hover overlay is in the pictures
        self.page.wait_for_function(
            r"""() => [...document.querySelectorAll(
                  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
                .every((e) => /\[(\*|\d+)\]/.test(e.innerText))""",
            timeout=30_000,
        )

    def cells(self) -> list[dict[str, Any]]:
        """Each code cell's bars (with geometry), output texts and prompt, as shown now."""
        return self.page.evaluate(_READ_JS)

    def history(self, cell: int) -> list[dict[str, Any]]:
        """Every state the bars of ``cell`` showed since the notebook opened, in order."""
        return [s for s in self.page.evaluate("() => window.__glueBars") if s["cell"] == cell]

    def wait_until(self, js: str, arg: Any = None, timeout: float = 120.0) -> Any:
        """Wait for a condition on :meth:`cells` (``js`` is ``(cells, arg) => ...``); return
        its value.  On a timeout, fail showing what the cells held."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        fn = f"(arg) => {{ const cells = ({_READ_JS})(); return ({js})(cells, arg); }}"
        try:
            return self.page.wait_for_function(fn, arg=arg, timeout=timeout * 1000).json_value()
        except PlaywrightTimeout:
            shot = self.screenshot("timeout")
            pytest.fail(
                f"not seen within {timeout:g} s: {js}\ncells: {self.cells()}\nscreenshot: {shot}"
            )

    def screenshot(self, name: str, **kwargs: Any) -> Path:
        """A picture of the page (``clip=`` for a part) into the test's screenshot folder."""
        path = self.shots / f"{self.prefix}-{name}.png"
        self.page.screenshot(path=str(path), **kwargs)
        return path


def stderr_of(cells: list[dict[str, Any]]) -> list[str]:
    """Every stderr output shown (an error line, a traceback)."""
    return [o["text"] for c in cells for o in c["outputs"] if o["stderr"]]


def stdout_of(cell: dict[str, Any]) -> str:
    """A cell's text outputs other than stderr: prints and the value (``Out[n]``)."""
    return "\n".join(o["text"] for o in cell["outputs"] if not o["stderr"])
