"""A Spark standalone cluster on this machine from pip's pyspark: one master and N workers.

pyspark's wheel has ``bin/spark-class`` and the Master and Worker classes (not
``sbin/start-master.sh``): each is started here as its own process and stopped by its PID.
Used by tests/test_cluster.py and benchmarks/bench_cluster.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Standalone:
    """``spark://127.0.0.1:PORT`` with ``workers`` workers of ``cores`` and ``memory``."""

    def __init__(self, workers: int = 2, cores: int = 1, memory: str = "1g") -> None:
        import pyspark

        from glue_magics.local import java

        self.home = Path(pyspark.__file__).parent
        self.port, self.ui_port = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="glue-standalone-"))
        found = java.find()
        self.env = dict(
            os.environ,
            SPARK_HOME=str(self.home),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_WORKER_DIR=str(self.dir / "work"),
            SPARK_LOG_DIR=str(self.dir),
            **(found.env() if found else {}),
        )
        self.workers, self.cores, self.memory = workers, cores, memory
        self.processes: list[subprocess.Popen[bytes]] = []

    def _start(self, name: str, *args: str) -> None:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - the process keeps it
        self.processes.append(
            subprocess.Popen(
                [str(self.home / "bin" / "spark-class"), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.dir,
                start_new_session=True,
            )
        )

    def start(self, patience: float = 180.0) -> Standalone:
        """Start the master, then the workers; returns once all are ALIVE in its /json."""
        self._start("master", MASTER, "--host", "127.0.0.1", "--port", str(self.port),
                    "--webui-port", str(self.ui_port))  # fmt: skip
        for n in range(self.workers):
            self._start(f"worker{n}", WORKER, "--host", "127.0.0.1", "--cores", str(self.cores),
                        "--memory", self.memory, "--webui-port", "0", self.url)  # fmt: skip
        deadline = time.monotonic() + patience
        while True:
            try:
                alive = [w for w in self.status()["workers"] if w["state"] == "ALIVE"]
                if len(alive) >= self.workers:
                    return self
            except (OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                self.stop()
                raise RuntimeError(f"standalone cluster did not start; logs in {self.dir}")
            time.sleep(0.2)

    def status(self) -> dict[str, Any]:
        """The master's status: its web UI's /json."""
        url = f"http://127.0.0.1:{self.ui_port}/json"
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        """End every process by its PID (workers first), waiting for each."""
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> Standalone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
