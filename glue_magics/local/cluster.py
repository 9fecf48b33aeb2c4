"""Local sessions on a Spark cluster: the master URL checked, a session's size as Spark settings.

On AWS, Glue is the cluster; here a session's Spark runs in ``local[*]`` unless the endpoint
is given a master (``--spark-master``, ``GLUE_LOCAL_SPARK_MASTER``).  Then each session's
driver stays in its worker process and its executors run on the cluster, as many and as big
as the session would get on Glue, scaled down by ``cluster_scale``:

- executors = NumberOfWorkers - 1: Glue counts the driver as one of the workers (AWS docs,
  "Defining job properties for Spark jobs", Number of workers: "one DPU is reserved for the
  driver"; "AWS Glue worker types": every worker, driver or executor, is one of the type);
- per executor: the worker type's DPUs (:data:`glue_magics.cost.WORKER_TYPES`) x 4 vCPU and
  x 16 GB (AWS docs, "AWS Glue worker types": "1 DPU = 4 vCPUs, 16 GB of memory"), times
  ``cluster_scale`` (R workers' M-DPU has 32 GB: "double the memory allocation"); at
  least 1 core and 512 MB, and at least one executor.  The default scale, 1/16, gives a G.1X
  executor 1 core and 1 GB, what a small test cluster has.  ``MaxCapacity`` sessions get
  that many 1-DPU workers.

Pure: nothing of Spark is imported; the master's status is its web UI's ``/json``.
"""

from __future__ import annotations

import json
import math
import re
import socket
import urllib.request
from typing import Any

from glue_magics.cost import worker as worker_row

#: vCPUs and GB of memory per DPU (AWS docs, "AWS Glue worker types").
VCPU_PER_DPU, GB_PER_DPU = 4, 16
#: The default ``cluster_scale``: a G.1X executor gets 1 core and 1 GB.
DEFAULT_SCALE = 1 / 16
#: The default port of a standalone master's web UI (Spark's ``spark.master.ui.port``).
DEFAULT_UI_PORT = 8080
#: The smallest executor heap Spark accepts without complaint, in MB.
MIN_EXECUTOR_MB = 512
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})")
_LOCAL = re.compile(r"local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?")


def check_master(url: str) -> str:
    """``url`` if Spark takes it as a master here, else ValueError (one line)."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"Spark master {url!r} is empty; give local[*] or spark://HOST:PORT")
    url = url.strip()
    if _LOCAL.fullmatch(url) or _standalone(url) is not None:
        return url
    if url.startswith("k8s://https://") and len(url) > len("k8s://https://"):
        return url
    raise ValueError(
        f"Spark master {url!r} is not one Spark takes; use local, local[N], local[*], "
        "spark://HOST:PORT[,HOST:PORT] or k8s://https://HOST:PORT"
    )


def _standalone(url: str) -> list[tuple[str, int]] | None:
    """The (host, port) of each master of a ``spark://`` URL, or None when it is not one."""
    if not url.startswith("spark://"):
        return None
    hosts = []
    for part in url[len("spark://") :].split(","):
        found = _HOST_PORT.fullmatch(part)
        if not found or not 0 < int(found.group(2)) <= 65535:
            return None
        hosts.append((found.group(1).strip("[]"), int(found.group(2))))
    return hosts


def is_cluster(url: str) -> bool:
    """Whether sessions' executors run elsewhere than in their own process."""
    return not _LOCAL.fullmatch(url)


def unreachable(url: str, timeout: float = 3.0) -> str | None:
    """Why no master of a ``spark://`` URL answers on its port (one line), or None."""
    hosts = _standalone(url) or []
    reasons = []
    for host, port in hosts:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return None
        except OSError as exc:
            reasons.append(f"{host}:{port}: {exc.strerror or exc}")
    if not hosts:
        return None
    return (
        f"Spark master {url} does not answer ({'; '.join(reasons)}); start it, or give "
        "another --spark-master"
    )


def executors(
    worker_type: str | None, workers: int | None, max_capacity: float | None, scale: float
) -> tuple[int, int, int]:
    """(executors, cores each, MB each) for a session of this size (see the module's doc)."""
    gb = GB_PER_DPU
    if max_capacity is not None:
        dpus, count = 1.0, max(1, math.ceil(max_capacity))
    else:
        row = worker_row(worker_type)
        dpus, count = row.dpus, workers or 1
        gb *= 2 if row.unit == "M-DPU" else 1  # "double the memory allocation" (R workers)
    cores = max(1, math.floor(dpus * VCPU_PER_DPU * scale))
    memory = max(MIN_EXECUTOR_MB, math.floor(dpus * gb * 1024 * scale))
    return max(1, count - 1), cores, memory


def spark_conf(count: int, cores: int, memory_mb: int) -> dict[str, str]:
    """The Spark settings that hold a session to its size on the cluster."""
    return {
        "spark.executor.instances": str(count),
        "spark.executor.cores": str(cores),
        "spark.executor.memory": f"{memory_mb}m",
        "spark.cores.max": str(max(1, count * cores)),
        "spark.dynamicAllocation.enabled": "false",
    }


def master_status(url: str, ui_port: int, timeout: float = 5.0) -> dict[str, Any]:
    """The standalone master's status (its web UI's ``/json``); OSError/ValueError if none."""
    host = (_standalone(url) or [("127.0.0.1", 0)])[0][0]
    host = f"[{host}]" if ":" in host else host
    with urllib.request.urlopen(f"http://{host}:{ui_port}/json", timeout=timeout) as answer:
        return json.loads(answer.read())


def too_small(status: dict[str, Any], count: int, cores: int, memory_mb: int) -> str | None:
    """Why the cluster cannot hold ``count`` executors of this size now (one line), or None.

    A standalone master places one executor per worker with enough free cores and memory
    (and more where a worker has room for several)."""
    placed = 0
    for item in status.get("workers", []):
        if item.get("state") != "ALIVE":
            continue
        free_cores = int(item.get("cores", 0)) - int(item.get("coresused", 0))
        free_mb = int(item.get("memory", 0)) - int(item.get("memoryused", 0))
        placed += max(0, min(free_cores // cores, free_mb // memory_mb))
    if placed >= count:
        return None
    return (
        f"the Spark cluster has room for {placed} of the {count} executors this session asks "
        f"for ({cores} core(s), {memory_mb} MB each: NumberOfWorkers - 1, the worker type "
        "scaled by cluster_scale); ask for fewer or smaller workers, lower cluster_scale, "
        "or add workers to the cluster"
    )


def session_conf(
    master: str | None,
    ui_port: int,
    scale: float,
    worker_type: str | None,
    workers: int | None,
    max_capacity: float | None,
) -> tuple[dict[str, str], str]:
    """The Spark settings that size a session's executors on the endpoint's cluster (``{}``
    in local mode), and why its master does not answer ("" when it does).

    A standalone cluster without room for them is ResourceNumberLimitExceededException at
    CreateSession, nothing created: the service never runs out of room, and this is its
    answer to a request beyond what the account may have (botocore's model lists it for
    CreateSession), so a client says it in one line instead of waiting on a session whose
    Spark would hang for executors."""
    import sys

    from glue_magics.local.exceptions import ResourceNumberLimitExceeded

    if master is None or not is_cluster(master):
        return {}, ""
    count, cores, memory = executors(worker_type, workers, max_capacity, scale)
    conf = spark_conf(count, cores, memory)
    # executors start Python workers for UDFs: this machine's, on a cluster of its own;
    # a remote cluster names its own with --conf spark.pyspark.python=...
    conf["spark.pyspark.python"] = sys.executable
    gone = unreachable(master)
    if gone or not master.startswith("spark://"):
        return conf, gone
    try:
        status = master_status(master, ui_port)
    except (OSError, ValueError) as exc:
        return conf, (
            f"the Spark master's status (its web UI's /json on port {ui_port}) did not "
            f"answer: {exc}; give its web UI port as --spark-ui-port"
        )
    small = too_small(status, count, cores, memory)
    if small:
        raise ResourceNumberLimitExceeded(small)
    return conf, ""
