"""Latency of the local Glue endpoint on loopback, through a real boto3 client.

Prints median and p95 of GetSession and GetStatement over N calls, the time from
CreateSession until GetSession says READY (with the default 3 s provisioning and with
none), and how soon a finished statement is visible.  Run: ``python benchmarks/bench_endpoint.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

ROLE = "arn:aws:iam::123456789012:role/Bench"


def client(ep):
    """A boto3 client signing with the endpoint's credentials (it answers no others)."""
    import boto3
    from botocore.config import Config

    from glue_magics import model

    session = boto3.Session(
        botocore_session=model.botocore_session(),
        region_name="us-east-1",
        aws_access_key_id=ep.credentials.access_key,
        aws_secret_access_key=ep.credentials.secret_key,
        aws_session_token=ep.credentials.token,
    )
    config = Config(retries={"mode": "standard"})
    return session.client("glue", endpoint_url=ep.url, config=config)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {statistics.median(ordered) * 1e3:6.2f} ms   p95 {p95 * 1e3:6.2f} ms   "
        f"max {ordered[-1] * 1e3:6.2f} ms   (n={len(ordered)})"
    )


def timed(call, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def ready_time(glue, poll: float) -> float:
    session_id = f"bench-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    glue.create_session(Id=session_id, Role=ROLE, Command={"Name": "glueetl"})
    while glue.get_session(Id=session_id)["Session"]["Status"] != "READY":
        time.sleep(poll)
    elapsed = time.perf_counter() - start
    glue.stop_session(Id=session_id)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500, help="calls per measured operation")
    args = parser.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

    from glue_magics.local import LocalEndpoint

    with LocalEndpoint(provision_seconds=0.0) as ep:
        glue = client(ep)
        session_id = f"bench-{uuid.uuid4().hex[:8]}"
        glue.create_session(Id=session_id, Role=ROLE, Command={"Name": "glueetl"})
        while glue.get_session(Id=session_id)["Session"]["Status"] != "READY":
            time.sleep(0.01)
        statement_id = glue.run_statement(SessionId=session_id, Code="6 * 7")["Id"]
        while (
            glue.get_statement(SessionId=session_id, Id=statement_id)["Statement"]["State"]
            != "AVAILABLE"
        ):
            pass
        for _ in range(20):  # warm up connections and botocore's caches
            glue.get_session(Id=session_id)

        print(f"local endpoint {ep.url}, boto3 client, keep-alive on loopback")
        get_session = timed(lambda: glue.get_session(Id=session_id), args.n)
        print(f"GetSession     {percentiles(get_session)}")
        get_statement = timed(
            lambda: glue.get_statement(SessionId=session_id, Id=statement_id), args.n
        )
        print(f"GetStatement   {percentiles(get_statement)}")

        # Statement round trip: RunStatement, then GetStatement until AVAILABLE, no sleeps.
        trips, polls = [], []
        for _ in range(50):
            start = time.perf_counter()
            new_id = glue.run_statement(SessionId=session_id, Code="1 + 1")["Id"]
            count = 0
            while (
                glue.get_statement(SessionId=session_id, Id=new_id)["Statement"]["State"]
                != "AVAILABLE"
            ):
                count += 1
            trips.append(time.perf_counter() - start)
            polls.append(count)
        print(
            f"RunStatement -> AVAILABLE seen  {percentiles(trips)}   "
            f"median extra polls {statistics.median(polls)}"
        )
        glue.stop_session(Id=session_id)

        instant = [ready_time(glue, 0.005) for _ in range(5)]
        print(f"READY, provision_seconds=0    {percentiles(instant)}")

    with LocalEndpoint() as ep:  # the default 3 s provisioning, as users see it
        glue = client(ep)
        print(f"READY, provision_seconds=3    {percentiles([ready_time(glue, 0.05)])}")

    print("worker start: first statement of a new session, including process start:")
    with LocalEndpoint(provision_seconds=0.0) as ep:
        glue = client(ep)
        firsts = []
        for _ in range(5):
            start = time.perf_counter()
            session_id = f"bench-{uuid.uuid4().hex[:8]}"
            glue.create_session(Id=session_id, Role=ROLE, Command={"Name": "glueetl"})
            while glue.get_session(Id=session_id)["Session"]["Status"] != "READY":
                pass
            new_id = glue.run_statement(SessionId=session_id, Code="1")["Id"]
            while (
                glue.get_statement(SessionId=session_id, Id=new_id)["Statement"]["State"]
                != "AVAILABLE"
            ):
                time.sleep(0.001)
            firsts.append(time.perf_counter() - start)
            glue.stop_session(Id=session_id)
        print(f"Create -> first result       {percentiles(firsts)}")


if __name__ == "__main__":
    main()
