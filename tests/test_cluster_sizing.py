"""The Spark master URL and a session's size on a cluster (glue_magics/local/cluster.py):
fast, no JVM.

Sizing per AWS docs, "AWS Glue worker types": "A DPU is a relative measure of processing
power that consists of 4 vCPUs of compute capacity and 16 GB of memory"; a G.1X worker is
1 DPU, G.2X 2 (glue_magics/cost.py WORKER_TYPES).  Glue counts the driver among
NumberOfWorkers, so a session's executors are NumberOfWorkers - 1.
"""

from __future__ import annotations

import pytest
from helpers import needs_spark
from hypothesis import given
from hypothesis import strategies as st

from glue_magics.local import EndpointSettings
from glue_magics.local.cluster import check_master, executors, spark_conf, too_small

GOOD = [
    "local",
    "local[1]",
    "local[*]",
    "local[4,2]",
    "spark://127.0.0.1:7077",
    "spark://a.example:7077,b.example:7078",
    "spark://[::1]:7077",
    "k8s://https://10.0.0.1:6443",
]
BAD = ["", "yarn", "spark://h", "spark://h:0", "spark://h:70000", "local[0]", "k8s://h:6443",
       "spark://h:7077,", "mesos://h:5050", "local[*", " spark://h :1"]  # fmt: skip


@pytest.mark.parametrize("url", GOOD)
def test_masters_spark_takes_pass(url):
    assert check_master(url) == url
    assert EndpointSettings(spark_master=url).spark_master == url


@pytest.mark.parametrize("url", BAD)
def test_other_masters_are_one_line(url):
    with pytest.raises(ValueError) as caught:
        EndpointSettings(spark_master=url or " ")
    assert "\n" not in str(caught.value)
    assert "spark://HOST:PORT" in str(caught.value)


@given(st.text(max_size=40))
def test_any_text_is_taken_or_refused_in_one_line(text):
    try:
        assert check_master(text) == text.strip()
    except ValueError as exc:
        assert "\n" not in str(exc).replace(repr(text), "")


@given(st.integers(1, 65535), st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True))
def test_every_standalone_host_and_port_is_taken(port, host):
    assert check_master(f"spark://{host}:{port}") == f"spark://{host}:{port}"


def test_the_environment_names_the_master(monkeypatch):
    monkeypatch.setenv("GLUE_LOCAL_SPARK_MASTER", "spark://127.0.0.1:7077")
    assert EndpointSettings().spark_master == "spark://127.0.0.1:7077"
    assert EndpointSettings(spark_master="local[2]").spark_master == "local[2]"
    monkeypatch.delenv("GLUE_LOCAL_SPARK_MASTER")
    assert EndpointSettings().spark_master is None  # each worker's own: local[*]


@pytest.mark.parametrize("scale", [0, -1, float("nan"), 65])
def test_a_scale_out_of_range_is_one_line(scale):
    with pytest.raises(ValueError, match="cluster scale"):
        EndpointSettings(cluster_scale=scale)


def test_sizes_follow_the_worker_type_and_count():
    scale = EndpointSettings().cluster_scale
    assert executors("G.1X", 3, None, scale) == (2, 1, 1024)
    assert executors("G.2X", 5, None, scale) == (4, 1, 2048)
    assert executors("G.8X", 2, None, scale) == (1, 2, 8192)
    assert executors("G.1X", 10, None, 1.0) == (9, 4, 16384)  # Glue's own size
    assert executors("R.1X", 2, None, 1.0) == (1, 4, 32768)  # an M-DPU: 32 GB
    assert executors(None, None, 3.0, scale) == (2, 1, 1024)  # MaxCapacity: 1-DPU workers
    assert executors("G.1X", 1, None, scale) == (1, 1, 1024)  # never no executor at all
    conf = spark_conf(2, 1, 1024)
    assert conf == {
        "spark.executor.instances": "2",
        "spark.executor.cores": "1",
        "spark.executor.memory": "1024m",
        "spark.cores.max": "2",
        "spark.dynamicAllocation.enabled": "false",
    }


@given(
    st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8192)), max_size=5),
    st.integers(1, 8),
    st.integers(1, 4),
    st.integers(512, 4096),
)
def test_room_is_counted_per_worker(workers, count, cores, memory):
    status = {
        "workers": [
            {"state": "ALIVE", "cores": c, "coresused": min(u, c), "memory": m, "memoryused": 0}
            for c, u, m in workers
        ]
    }
    room = sum(min((c - min(u, c)) // cores, m // memory) for c, u, m in workers)
    said = too_small(status, count, cores, memory)
    assert (said is None) == (room >= count)
    if said:
        assert f"room for {room} of the {count} executors" in said and "\n" not in said


@needs_spark  # the check is made for sessions that start Spark
def test_a_master_gone_since_start_fails_the_session_in_one_line(tmp_path):
    """A port that answered at endpoint start (a bare listener stands in for the master's
    RPC port: the check is a TCP connect) and no longer does: the session is FAILED with one
    line, no worker started (a session whose start fails, as the service reports one)."""
    import socket

    from helpers import create, make_glue, spark_sessions, wait_status

    from glue_magics.local import LocalEndpoint

    listener = socket.create_server(("127.0.0.1", 0))
    url = f"spark://127.0.0.1:{listener.getsockname()[1]}"
    with LocalEndpoint(provision_seconds=0.1, spark_master=url, data_dir=tmp_path) as ep:
        listener.close()
        glue = make_glue(ep.url)
        with spark_sessions():
            session_id = create(glue, WorkerType="G.1X", NumberOfWorkers=2)
        session = wait_status(glue, session_id, "FAILED")
        assert session["ErrorMessage"].startswith(f"Spark master {url} does not answer")
        assert "\n" not in session["ErrorMessage"]
        assert ep.worker_pids() == []
