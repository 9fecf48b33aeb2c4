"""``glue-magics sessions`` as a user runs it: the CLI in a subprocess against the local
endpoint, and sessions left running by earlier (real) kernels found by their tags, listed,
re-attached with ``%glue_reconnect --last`` and stopped with ``stop --mine``."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from helpers import ROLE, make_glue, new_id, ready

from glue_magics import tags
from tests.kernels import Kernel, kernel_env


def cli(ep, *args: str, answer: str | None = None) -> subprocess.CompletedProcess:
    """``glue-magics sessions ARGS`` with the environment a kernel of ``ep`` has."""
    return subprocess.run(
        [sys.executable, "-m", "glue_magics.cli", "sessions", *args],
        capture_output=True,
        text=True,
        env=kernel_env(ep.url),
        input=answer if answer is not None else "",
        timeout=120,
    )


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def status(glue, session_id: str) -> str:
    return glue.get_session(Id=session_id)["Session"]["Status"]


@pytest.fixture
def ep(fresh_endpoint):
    return fresh_endpoint(provision_seconds=0.05, stop_seconds=0.05)


def test_sessions_left_by_earlier_kernels_are_found_reattached_and_stopped(ep, tmp_path):
    """A kernel with stop_on_exit off leaves its session; the next kernel of the same notebook
    attaches to it with %glue_reconnect --last; then `sessions --mine` lists it, and `stop
    --mine` stops it and nothing of anyone else's."""
    glue = make_glue(ep.url)
    theirs = new_id("theirs")
    glue.create_session(Id=theirs, Role=ROLE, Command={"Name": "glueetl"})
    env = kernel_env(ep.url, JPY_SESSION_NAME="/srv/notebooks/left.ipynb")
    kernel_id = str(uuid.uuid4())
    first = Kernel(env, connection_file=str(tmp_path / f"kernel-{kernel_id}.json"))
    try:
        first.ok("%load_ext glue_magics\n%config GlueMagics.stop_on_exit = False")
        first.ok("%glue_session --workers 2 --id cli-left-1 --tag team=data")
        mine = "\n".join(first.ok("%glue_sessions --mine").data("text/plain"))
        assert "cli-left-1" in mine and theirs not in mine
    finally:
        first.shutdown()
    assert status(glue, "cli-left-1") == "READY"  # left running, as asked
    arn = "arn:aws:glue:us-east-1:123456789012:session/cli-left-1"
    sent = glue.get_tags(ResourceArn=arn)["Tags"]
    assert sent["team"] == "data" and sent[tags.CREATOR_KEY] == "glue-magics"
    assert sent[tags.NOTEBOOK_KEY] == "/srv/notebooks/left.ipynb"
    assert sent[tags.KERNEL_KEY] == kernel_id and sent[tags.HOST_KEY] == tags.host()

    second = Kernel(env)
    try:
        second.ok("%load_ext glue_magics\n%glue_reconnect --last")
        assert "42" in second.ok("%%glue\nprint(6 * 7)").stdout
        shown = "\n".join(second.ok("%glue_status").data("text/plain"))
        assert "cli-left-1" in shown
    finally:
        second.shutdown()
    assert status(glue, "cli-left-1") == "READY"  # attached, not created there: left running

    listed = cli(ep, "--mine")
    assert listed.returncode == 0, listed.stderr
    assert "1 Glue session(s) of yours (by tag)" in listed.stdout
    assert "cli-left-1" in listed.stdout and theirs not in listed.stdout

    refused = cli(ep, "stop", "--mine", answer="n\n")
    assert refused.returncode == 1 and "Nothing stopped." in refused.stderr
    assert status(glue, "cli-left-1") == "READY"

    stopped = cli(ep, "stop", "--mine", answer="y\n")
    assert stopped.returncode == 0, stopped.stderr
    assert "Stop 1 session(s): cli-left-1? [y/N]" in stopped.stderr
    assert "cli-left-1: STOPPED" in stopped.stdout
    assert status(glue, "cli-left-1") == "STOPPED" and status(glue, theirs) == "READY"


def test_the_listing_as_a_table_and_as_json(ep):
    glue = make_glue(ep.url)
    ids = [ready(glue) for _ in range(3)]
    table = cli(ep, "--price", "3600")
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[1].split()
    assert header == ["Id", "Status", "Created", "Age", "Idle", "Capacity", "DPU-seconds", "Cost"]
    assert all(session_id in table.stdout for session_id in ids)

    data = json.loads(cli(ep, "--json").stdout)
    assert {row["Id"] for row in data} == set(ids)
    row = data[0]
    assert row["Status"] == "READY" and row["Estimated"] is True
    assert row["AgeSeconds"] >= 0 and row["DPUs"] == 5.0
    assert row["CostUSD"] == pytest.approx(row["DPUSeconds"] / 3600 * 0.44, rel=1e-3, abs=1e-6)
    assert json.loads(cli(ep, "--json", "--mine").stdout) == []  # none is ours


def test_stop_by_id_and_by_idle_time(ep):
    glue = make_glue(ep.url)
    ids = [ready(glue) for _ in range(3)]
    done = cli(ep, "stop", ids[0], "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"Id": ids[0], "Status": "STOPPED"}]
    assert cli(ep, "stop", "--idle-over", "2h", "--yes").stdout.strip() == "No session to stop."
    done = cli(ep, "stop", "--idle-over", "0s", "--yes")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split("\n")[:-1]) == sorted(f"{i}: STOPPED" for i in ids[1:])
    assert {status(glue, i) for i in ids} == {"STOPPED"}
    gone = cli(ep, "stop", "no-such-session", "--yes")
    assert gone.returncode == 0 and "no-such-session: NOT_FOUND" in gone.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--idle-over", "3x"], "'3x' is not a duration; give a number and a unit: 90s, 30m"),
        (["stop", "--idle-over", "30"], "'30' is not a duration"),
        (["stop"], "stop needs session ids, --idle-over DURATION or --mine"),
        (["stop", "a", "--mine"], "give session ids or --mine/--idle-over, not both"),
        (["--idle-over", "30m"], "--idle-over and --yes go with stop"),
        (["list", "x"], "list takes no session ids; to stop sessions give 'stop ID...'"),
        (["start"], "'start' is not a command; give 'stop ID...', or nothing to list"),
        (["--nope"], "unrecognized arguments: --nope; see glue-magics --help"),
    ],
)
def test_bad_input_is_one_line_with_the_fix_and_exit_2(ep, args, says):
    done = cli(ep, *args)
    assert done.returncode == 2 and says in one_line(done)
    assert done.stdout == ""


def test_a_failed_call_is_one_line_and_exit_1(fresh_endpoint):
    gone = fresh_endpoint()
    gone.stop()
    done = cli(gone, "--endpoint-url", gone.url)
    assert done.returncode == 1 and one_line(done).startswith("glue-magics sessions: ")
