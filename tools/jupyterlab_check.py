"""Watch the %glue_session progress widget move in a real JupyterLab, in a real browser.

Why: the kernel tests read widget comm messages, which proves what the kernel sends, not
what a user sees.  This script starts JupyterLab on loopback, opens a notebook in Debian's
Chromium driven by Playwright, runs all cells, reads the progress bar's width from the DOM
while the local endpoint provisions the session, and takes screenshots.

    python tools/jupyterlab_check.py [--out /tmp/glue-lab] [--provision-seconds 8] [--theme dark]

Needs ``pip install jupyterlab playwright`` and ``apt-get install chromium`` (Playwright's
own browser download is not used).  Prints the observed values with timestamps and the
screenshot paths; exits 0 when the bar took >= 3 distinct values, ended at 100 with
"READY in" shown, and the %%glue cell printed 42.  Nothing leaves loopback: dummy AWS
credentials, AWS_CONFIG_FILE=/dev/null, the embedded endpoint, and Chromium's host
resolver maps every name but 127.0.0.1 to "not found".
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

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
NOTEBOOK = "glue_check.ipynb"
MIN_BAR_PX = 40  # narrower than this, a user cannot read the bar
ROLE = "arn:aws:iam::123456789012:role/GlueMagicsDemo"

# Reads every code cell: the progress bars (width of .progress-bar, bar_style class,
# colour), the HTML label next to each bar, and the cell's plain output text.
_READ_CELLS_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return [];
  return [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell')].map((cell) => {
    const bars = [...cell.querySelectorAll('.widget-hprogress')].map((prog) => {
      const bar = prog.querySelector('.progress-bar');
      const box = prog.closest('.widget-hbox') || prog.parentElement;
      const label = box ? box.querySelector('.widget-html-content') : null;
      const labelSpan = label ? label.querySelector('span span') || label : null;
      const rect = prog.getBoundingClientRect();
      return {
        width: bar ? bar.style.width : null,
        classes: bar ? [...bar.classList].filter((c) => c.startsWith('progress-bar-')) : [],
        barColor: bar ? getComputedStyle(bar).backgroundColor : null,
        label: label ? label.innerText : null,
        labelColor: labelSpan ? getComputedStyle(labelSpan).color : null,
        labelClipped: (() => {
          if (!label || !box) return null;
          const area = cell.querySelector('.jp-OutputArea-child') || box;
          return label.getBoundingClientRect().right > area.getBoundingClientRect().right + 1
            || box.scrollWidth > box.clientWidth + 1;
        })(),
        barPx: [Math.round(rect.width), Math.round(rect.height)],
      };
    });
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    const texts = [...cell.querySelectorAll('.jp-OutputArea-output')]
      .filter((o) => !o.querySelector('.widget-hprogress'))
      .map((o) => ({text: o.innerText, stderr: o.getAttribute('data-mime-type')
        === 'application/vnd.jupyter.stderr'}));
    return {prompt: prompt ? prompt.innerText : '', bars, texts};
  });
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(path: Path, provision_seconds: float) -> None:
    """The notebook of the brief: configure, start a session, run one statement."""
    import nbformat

    setup = "\n".join(
        [
            "%load_ext glue_magics",
            '%config GlueMagics.endpoint_url = "local"',
            f"%config GlueMagics.local_provision_seconds = {provision_seconds:g}",
            f'%config GlueMagics.role = "{ROLE}"',
            "%glue_session",
        ]
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell("%%glue\nprint(6 * 7)")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))


def _settings(settings_dir: Path, theme: str) -> None:
    """Lab user settings: no news/update checks (no network), the chosen theme."""
    apputils = settings_dir / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    name = "JupyterLab Dark" if theme == "dark" else "JupyterLab Light"
    (apputils / "themes.jupyterlab-settings").write_text(json.dumps({"theme": name}))


def _env(home: Path) -> dict[str, str]:
    """Dummy credentials, no AWS config, loopback only, Jupyter dirs of our own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("AWS_", "JUPYTER_", "HTTP_PROXY", "HTTPS_PROXY"))
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
    )
    return env


def start_lab(root: Path, home: Path, token: str, port: int, theme: str) -> subprocess.Popen:
    """Start ``jupyter lab`` on 127.0.0.1 and wait until its API answers."""
    settings_dir = home / "lab-settings"
    _settings(settings_dir, theme)
    log = open(home / "jupyter-lab.log", "w")  # noqa: SIM115 - lives as long as the server
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--IdentityProvider.token={token}",  # ServerApp.token, renamed in jupyter_server 2
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.news_url=",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers; Jupyter refuses root otherwise
        cmd.append("--allow-root")
    proc = subprocess.Popen(
        cmd, cwd=root, env=_env(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"jupyter lab exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_lab(proc)
    raise SystemExit(f"jupyter lab did not answer on port {port} within 60 s; see {log.name}")


def stop_lab(proc: subprocess.Popen) -> None:
    """SIGTERM the server we started (it shuts its kernels down), SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _percent(width: str | None) -> float | None:
    if not width or not width.endswith("%"):
        return None
    try:
        return float(width[:-1])
    except ValueError:
        return None


def _api(port: int, token: str, path: str, body: dict | None = None) -> Any:
    """One call to the Jupyter server's REST API on loopback."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read() or b"null")


def start_kernel(port: int, token: str) -> None:
    """Create the notebook's session (a python3 kernel) before the page opens.

    Lab then attaches to it instead of sometimes asking "Select Kernel" in a dialog
    (it does when the page loads before the kernelspecs on a busy machine).  The server
    reports the kernel "starting" until a client connects, so the page does the waiting.
    """
    _api(
        port,
        token,
        "/api/sessions",
        {"path": NOTEBOOK, "name": NOTEBOOK, "type": "notebook", "kernel": {"name": "python3"}},
    )


def open_notebook(page: Any, url: str, timeout: float = 60.0) -> None:
    """Open the notebook and wait for an idle kernel, accepting a kernel dialog if shown."""
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=timeout * 1000)
    # Not scoped to the panel: in a narrow window the toolbar moves these to an overflow
    # popup outside it.  There is only one notebook open.
    idle = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        elif page.locator(idle).count():
            state = page.evaluate(
                "() => document.querySelector('.jp-Toolbar-kernelName')?.textContent || ''"
            )
            if state and "No Kernel" not in state:
                return
        page.wait_for_timeout(250)
    raise SystemExit(f"the notebook's kernel was not idle in the page within {timeout:g} s")


def _run_all(page: Any) -> None:
    """Run > Run All Cells, through the menu bar as a user would; check that it queued both."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    exact = re.compile(r"^\s*Run All Cells\s*$")
    page.locator(".lm-Menu-itemLabel").filter(has_text=exact).first.click()
    page.mouse.move(5, 5)  # off the outputs, so no hover overlay is in the pictures
    page.wait_for_function(
        r"""() => {
          const p = [...document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')];
          return p.length > 1 && p.every((e) => /\[(\*|\d+)\]/.test(e.innerText));
        }""",
        timeout=10_000,
    )


def watch(page: Any, out: Path, timeout: float) -> dict[str, Any]:
    """Run all cells; poll the DOM every 0.25 s; screenshot at ~2 s, ~5 s, READY and the end."""
    samples: list[tuple[float, float | None, str, list[str], int]] = []
    shots: list[str] = []
    due = {2.0: "lab-01-at-2s", 5.0: "lab-02-at-5s"}

    def shoot(name: str) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path))
        shots.append(str(path))

    _run_all(page)
    t0 = time.monotonic()
    cells: list[dict] = []
    ready_at = None
    while time.monotonic() - t0 < timeout:
        now = time.monotonic() - t0
        cells = page.evaluate(_READ_CELLS_JS)
        bars = cells[0]["bars"] if cells else []
        if bars:
            b = bars[0]
            value = _percent(b["width"])
            last = samples[-1] if samples else None
            if not last or (value, b["label"]) != (last[1], last[2]):
                samples.append((now, value, b["label"] or "", b["classes"], b["barPx"][0]))
            if ready_at is None and "READY in" in (b["label"] or ""):
                ready_at = now
                shoot("lab-03-ready")
        for at, name in list(due.items()):
            if now >= at:
                shoot(name)
                del due[at]
        done = len(cells) > 1 and any(
            "42" in t["text"].split() for t in cells[1]["texts"] if not t["stderr"]
        )
        errors = [t["text"] for c in cells for t in c["texts"] if t["stderr"]]
        if done or (errors and ready_at is None and now > 3):
            break
        time.sleep(0.25)
    page.wait_for_timeout(500)  # let the last comm messages land before the final picture
    cells = page.evaluate(_READ_CELLS_JS)
    shoot("lab-04-final")
    try:
        page.locator(".jp-CodeCell").first.screenshot(path=str(out / "lab-05-cell1.png"))
        shots.append(str(out / "lab-05-cell1.png"))
    except Exception as exc:  # noqa: BLE001 - a missing close-up is not a failed check
        print(f"no close-up of cell 1: {exc}", file=sys.stderr)
    return {"samples": samples, "shots": shots, "cells": cells, "ready_at": ready_at}


def check(
    out: Path,
    provision_seconds: float,
    timeout: float,
    theme: str,
    viewport: tuple[int, int] = (1280, 800),
) -> int:
    """Run the whole check; return the exit code."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="glue-lab-"))
    root = home / "notebooks"
    root.mkdir()
    write_notebook(root / NOTEBOOK, provision_seconds)
    token = secrets.token_hex(24)
    port = _free_port()
    t_start = time.monotonic()
    proc = start_lab(root, home, token, port, theme)
    print(f"jupyter lab on 127.0.0.1:{port} in {time.monotonic() - t_start:.1f} s (log {home})")
    try:
        start_kernel(port, token)
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                str(home / "chromium-profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            try:
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                open_notebook(page, f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}")
                print(f"notebook open, kernel idle at {time.monotonic() - t_start:.1f} s")
                result = watch(page, out, timeout)
            finally:
                ctx.close()
    finally:
        stop_lab(proc)
    return report(result)


def report(result: dict[str, Any]) -> int:
    """Print what was seen and decide: moved through >= 3 values, 100, READY, 42."""
    samples = result["samples"]
    print("\nprogress bar (seconds after Run All, value, bar px on screen, bar_style, label):")
    for t, value, label, classes, px in samples:
        shown = "?" if value is None else f"{value:g}%"
        print(f"  {t:6.2f} s  {shown:>6}  {px:4d} px  {','.join(classes):22}  {label}")
    cells = result["cells"]
    for i, cell in enumerate(cells):
        for bar in cell["bars"]:
            print(
                f"cell {i + 1} bar: {bar['barPx'][0]}x{bar['barPx'][1]} px, bar colour "
                f"{bar['barColor']}, label colour {bar['labelColor']}, "
                f"label cut off at the right: {bar['labelClipped']}"
            )
        for t in cell["texts"]:
            stream = "stderr" if t["stderr"] else "out"
            for line in t["text"].splitlines():
                print(f"cell {i + 1} {stream}: {line}")
    print("prompts: " + " ".join(c["prompt"].strip() for c in cells))
    print("\nscreenshots:")
    for path in result["shots"]:
        print(f"  {path}")

    values = [s[1] for s in samples if s[1] is not None]
    widths = sorted({s[4] for s in samples})
    if len(widths) > 1:
        print(f"the bar's on-screen width changed while it ran: {widths} px")
    distinct = sorted(set(values))
    final_label = samples[-1][2] if samples else ""
    bars = cells[0]["bars"] if cells else []
    checks = {
        "bar moved through >= 3 values": len(distinct) >= 3,
        "bar never went backwards": values == sorted(values),
        f"bar visible (>= {MIN_BAR_PX} px wide)": bool(bars) and bars[0]["barPx"][0] >= MIN_BAR_PX,
        "bar ended at 100": bool(values) and values[-1] == 100,
        "READY shown": "READY in" in final_label,
        "bar ended green (success)": bool(samples) and "progress-bar-success" in samples[-1][3],
        "%%glue printed 42": len(cells) > 1
        and any("42" in t["text"].split() for t in cells[1]["texts"] if not t["stderr"]),
    }
    print()
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if result["ready_at"] is not None:
        print(f"READY seen in the browser {result['ready_at']:.1f} s after Run All")
    return 0 if all(checks.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/glue-lab"), help="screenshots")
    parser.add_argument("--provision-seconds", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds after Run All")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--size", default="1280x800", help="browser viewport, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found; install it with apt-get install chromium", file=sys.stderr)
        return 2
    for module in ("jupyterlab", "playwright"):
        if importlib.util.find_spec(module) is None:
            print(f"{module} is not installed; pip install {module}", file=sys.stderr)
            return 2
    try:
        width, height = (int(n) for n in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size {args.size!r} is not WIDTHxHEIGHT; use e.g. 1280x800")
    return check(args.out, args.provision_seconds, args.timeout, args.theme, (width, height))


if __name__ == "__main__":
    sys.exit(main())
