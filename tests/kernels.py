"""Real Jupyter kernels for tests, driven through jupyter_client.

A test sees what a user's frontend sees: the iopub stream (stdout, stderr, display data,
widget comm messages) and the execute reply (status, ename).
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpers import ROLE
from jupyter_client.manager import KernelManager


def kernel_env(endpoint_url: str, **extra: str) -> dict[str, str]:
    """An environment that can only reach the given loopback endpoint, never real AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLUE_", "glue_"))}
    # whether local sessions start Spark is the test run's choice (conftest), not an AWS one
    if "GLUE_MAGICS_LOCAL_SPARK" in os.environ:
        env["GLUE_MAGICS_LOCAL_SPARK"] = os.environ["GLUE_MAGICS_LOCAL_SPARK"]
    env.update(
        AWS_ENDPOINT_URL_GLUE=endpoint_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        GLUE_ROLE_ARN=ROLE,
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    env.update(extra)
    return env


@dataclass
class Reply:
    status: str
    ename: str | None
    evalue: str | None
    traceback: list[str]
    messages: list[dict] = field(default_factory=list)
    payload: list[dict] = field(default_factory=list)

    def text(self, name: str) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["msg_type"] == "stream" and m["content"]["name"] == name
        )

    @property
    def stdout(self) -> str:
        return self.text("stdout")

    @property
    def stderr(self) -> str:
        return self.text("stderr")

    def data(self, mime: str) -> list[Any]:
        return [
            m["content"]["data"][mime]
            for m in self.messages
            if m["msg_type"] in ("display_data", "execute_result", "update_display_data")
            and mime in m["content"].get("data", {})
        ]

    def of_type(self, msg_type: str) -> list[dict]:
        return [m for m in self.messages if m["msg_type"] == msg_type]

    def widget_state(self, key: str) -> list[Any]:
        """Every value the kernel sent for a widget trait (``value``, ``bar_style``...)."""
        states = (m["content"]["data"].get("state", {}) for m in self.of_type("comm_msg"))
        return [state[key] for state in states if key in state]

    def bar_values(self) -> list[float]:
        """The progress bars' values (a label's ``value`` is text, a bar's a number)."""
        return [v for v in self.widget_state("value") if isinstance(v, int | float)]


class Kernel:
    """One kernel process; ``execute`` returns everything the cell produced."""

    def __init__(self, env: dict[str, str], kernel_name: str = "python3", **km_kwargs: Any):
        self.km = KernelManager(kernel_name=kernel_name, **km_kwargs)
        self.km.start_kernel(env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.log: list[dict] = []  # every iopub message read, whichever cell (if any) it is of

    def drain(self, until: Callable[[list[dict]], bool], timeout: float = 60) -> None:
        """Read iopub messages into ``log`` until ``until(log)`` holds: what a kernel's
        thread sends while no cell runs (the deadline only guards against a hang)."""
        deadline = time.monotonic() + timeout
        while not until(self.log):
            try:
                self.log.append(
                    self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
                )
            except queue.Empty:
                raise TimeoutError(f"not seen within {timeout} s") from None

    def comm_states(self, comm_id: str) -> list[dict]:
        """Every state the kernel sent for one widget (by comm id), in order, from ``log``."""
        return [
            m["content"]["data"].get("state", {})
            for m in self.log
            if m["msg_type"] == "comm_msg" and m["content"].get("comm_id") == comm_id
        ]

    def execute(
        self,
        code: str,
        timeout: float = 60,
        during: Any = None,
        on_message: Callable[[Kernel, dict], None] | None = None,
        **request: Any,
    ) -> Reply:
        """Run a cell; ``during(kernel)`` is called once after the request is sent, and
        ``on_message(kernel, msg)`` with each iopub message of this cell as it arrives (to
        act at a state the cell has shown, such as Ctrl-C once its bar is drawn, whatever the
        machine's load); ``request`` overrides the execute request's fields (``silent``,
        ``store_history``)."""
        msg_id = self.kc.execute(code, **{"store_history": True, **request})
        if during is not None:
            during(self)
        messages: list[dict] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no idle from the kernel within {timeout} s") from None
            self.log.append(msg)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if on_message is not None:
                on_message(self, msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        reply = self.reply_to(msg_id, timeout)
        return Reply(
            reply["status"],
            reply.get("ename"),
            reply.get("evalue"),
            reply.get("traceback", []),
            messages,
            reply.get("payload", []),
        )

    def reply_to(self, msg_id: str, timeout: float) -> dict[str, Any]:
        """The shell reply to ``msg_id``; any other reply is skipped (AWS's kernel leaves a
        kernel_info_reply from ``wait_for_ready`` on the channel, which would otherwise be
        taken for the first cell's reply and shift every reply after it by one)."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]

    def ok(self, code: str, **kwargs: Any) -> Reply:
        """Run a cell that must succeed; on failure show what the user would have seen."""
        reply = self.execute(code, **kwargs)
        assert reply.status == "ok", (reply.ename, reply.evalue, reply.stdout, reply.stderr)
        return reply

    def interrupt(self) -> None:
        self.km.interrupt_kernel()

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


def once_shown(act: Callable[[Kernel], None]) -> Callable[[Kernel, dict], None]:
    """An ``on_message`` that calls ``act(kernel)`` once, at the cell's first display (a
    widget's comm_open or a display_data): the cell has started the wait it draws."""
    done: list[bool] = []

    def on_message(kernel: Kernel, msg: dict) -> None:
        if not done and msg["msg_type"] in ("comm_open", "display_data"):
            done.append(True)
            act(kernel)

    return on_message


def one_line(reply: Reply, *words: str) -> None:
    """The cell failed with one line (a UsageError), no traceback, saying each of ``words``."""
    assert reply.status == "error" and reply.ename == "UsageError", reply
    assert "Traceback" not in reply.stderr + reply.stdout
    assert len([line for line in reply.stderr.splitlines() if line.strip()]) == 1, reply.stderr
    for word in words:
        assert word in reply.stderr, reply.stderr


def install_kernels(prefix: Any) -> tuple[str, Any]:
    """``glue-magics install-kernel --prefix PREFIX`` as a user runs it: what it printed, and
    the kernels' directory under the prefix (for a KernelSpecManager of tests' own)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "glue_magics", "install-kernel", "--prefix", str(prefix)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out, prefix / "share" / "jupyter" / "kernels"


def run_notebook(notebook: Any, kernel_name: str, specs: Any, cwd: Any, timeout: float) -> list:
    """Execute ``notebook`` with nbclient on the installed kernel ``kernel_name`` (from the
    spec manager ``specs``), with no AWS endpoint set (a notebook that needs one says
    ``%endpoint local`` itself); its code cells' outputs, after none failed."""
    from nbclient import NotebookClient

    km = KernelManager(kernel_name=kernel_name, kernel_spec_manager=specs)
    env = kernel_env("http://127.0.0.1:9")
    del env["AWS_ENDPOINT_URL_GLUE"]
    km.start_kernel(env=env)
    try:
        NotebookClient(notebook, timeout=timeout, km=km).execute(cwd=str(cwd))
    finally:
        if km.is_alive():
            km.shutdown_kernel(now=True)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    return outputs
