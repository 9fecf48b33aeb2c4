"""Notebooks written for AWS's Glue kernel (aws-glue-sessions 1.0.9) run unchanged on ours.

Each behaviour is checked in a real glue_magics kernel through jupyter_client, against a
local endpoint over HTTP: AWS's cell layout (line magics, then a cell magic that takes the
rest: ``BaseKernel._execute_magics``), its magics with its meaning (``KernelMagics``), its
"There is no current session." notices, a profile the embedded endpoint does not need, and
today's Glue versions and worker types (``glue_magics.versions``, ``cost.WORKER_TYPES``).
"""

from __future__ import annotations

import datetime
import json

import pytest
from helpers import ROLE, make_glue
from hypothesis import example, given
from hypothesis import strategies as st
from test_kernel import installed  # noqa: F401 - the fixture: the kernelspec, installed

from glue_magics import cost, versions
from glue_magics.local import LocalEndpoint
from glue_magics.model import service_model
from glue_magics.routing import route_to_session, split_cell
from glue_magics.specs import aws_magics
from tests.kernels import Kernel, kernel_env, one_line

# ------------------------------------------------------------------ the cell splitter

HEAD = ["%idle_timeout 2880\n", "%glue_version 5.0\n", "# settings\n", "\n", "  \n", "!ls\n"]
CODE = ["x = 1\n", "print(x)\n", "'%%not a magic'\n", "  y = 2\n"]
MAGICS = ["%%configure\n", "%%sql\n", "%%tags\n", "%%assume_role\n", "%%configure -f\n"]
BODY = ['{"--datalake-formats": "delta"}\n', "SELECT 1\n", "%not_run 1\n", "\n", "x = 1\n"]


@given(
    st.lists(st.sampled_from(HEAD)),
    st.sampled_from([None, *MAGICS]),
    st.lists(st.sampled_from([*HEAD, *CODE, *BODY])),
)
@example(HEAD[:2], "%%configure\n", BODY[:1])
def test_a_cell_is_cut_as_aws_kernel_cuts_it(head, magic, rest):
    """Leading line magics, shell escapes, comments and blank lines run here one by one;
    then a cell magic takes everything after its line as its body (even lines that look
    like magics), or else the rest is code for the session."""
    lines = head + ([magic] if magic else []) + rest
    split = split_cell(lines)
    out = route_to_session(lines)
    if magic is None:
        # the head is as long as the leading run of head-like lines
        n = len(split.head)
        assert all(not line.strip() or line.lstrip()[0] in "%#!" for line in lines[:n])
        assert split.magic is None and split.head + [split.body] == lines[:n] + ["".join(lines[n:])]
        if split.body.strip():
            assert out[-1] == f"get_ipython().run_cell_magic('glue', '', {split.body!r})\n"
        else:
            assert out == lines
        return
    name, _, args = magic.strip()[2:].partition(" ")
    assert split == (head, name, args, "".join(rest))
    if head:
        assert out == [
            *head,
            f"get_ipython().run_cell_magic({name!r}, {args!r}, {''.join(rest)!r})\n",
        ]
    else:
        assert out == lines  # a cell that starts with its cell magic: IPython's own


# ------------------------------------------------------------------ the tables


def test_every_worker_type_of_botocore_has_dpus_and_a_price_or_says_it_has_none():
    enum = service_model().shape_for("WorkerType").enum
    assert sorted(enum) == sorted(cost.WORKER_TYPES)  # 23 in botocore 1.44.18
    for name, row in cost.WORKER_TYPES.items():
        assert row.dpus > 0 and row.source, name
        text = cost.Cost(row.dpus * 2, worker_type=name).sum()
        assert (f"no public price for {name}" in text) != row.priced, text
    # memory-optimized and Graviton workers are not priced like G.1X (no public rate)
    assert not cost.WORKER_TYPES["R.4X"].priced and cost.WORKER_TYPES["R.4X"].unit == "M-DPU"
    assert not cost.WORKER_TYPES["G.1X.GRAVITON"].priced
    assert cost.WORKER_TYPES["G.16X"].dpus == 16 and cost.WORKER_TYPES["G.025X"].dpus == 0.25


def test_status_budget_and_inventory_read_the_worker_s_price():
    """%glue_status, the budget and `glue-magics sessions` all word Cost.of_session: a
    session on R workers has DPU-seconds but no USD figure, and says why."""
    created = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)
    session = {"MaxCapacity": 8.0, "WorkerType": "R.4X", "CreatedOn": created}
    unpriced = cost.Cost.of_session(session, now=created.timestamp() + 3600)
    assert unpriced.so_far is None and unpriced.used_dpu_seconds == 8 * 3600
    assert unpriced.so_far_text() == "n/a (no public price for R.4X)"
    assert "no public price for R.4X" in unpriced.of_budget(10)
    assert unpriced.brief() == "" and unpriced.rate() == "8 M-DPU, no public price for R.4X"
    priced = cost.Cost.of_session({**session, "WorkerType": "G.4X"}, now=created.timestamp() + 3600)
    assert priced.so_far_text() == "~$3.5200 (estimated)"  # 8 DPU x 1 h x $0.44


def test_the_version_table_names_today_s_glue():
    assert versions.find("5.1")[1:3] == ("3.5.6", "3.11")
    assert versions.find("6.0")[1:4] == ("4.1.1", "3.13", "2.13.17")
    assert versions.find("6.1")[1:3] == ("4.1.3", "3.14")
    assert versions.find("6.1").default_worker == "G.1X.GRAVITON"
    before = datetime.date(2026, 3, 31)
    assert versions.refusal("2.0", before) is None  # until end of life it was allowed
    for old in ("0.9", "1.0", "2.0"):
        said = versions.refusal(old, datetime.date(2026, 4, 1))
        assert "end of life on 2026-04-01" in said and "\n" not in said
    assert "for jobs" in versions.refusal("auto")
    assert versions.pip_install_line("5.1") == 'pip install "pyspark[connect]==3.5.6"'
    assert versions.pip_install_line(None, "3.5.4-amzn-0").endswith('==3.5.4"')
    assert versions.runtime_notice("6.1", "4.1.3", "3.14.0") is None
    said = versions.runtime_notice("6.1", "4.0.1", "3.11.7")
    assert "Spark 4.1.3 and Python 3.14 on AWS" in said and "Spark 4.0.1 and Python 3.11.7" in said


def test_glue_6_1_defaults_to_graviton_workers_client_and_endpoint_alike(endpoint):
    """ "On AWS Glue version 6.1, a Spark job created without a WorkerType runs on arm64
    Graviton workers by default (G.1X.GRAVITON)" (AWS, migrating-version-61)."""
    from glue_magics.options import SessionOptions

    opts = SessionOptions.resolve([("line", {"role": ROLE, "glue_version": "6.1"})])
    assert opts.request()["WorkerType"] == "G.1X.GRAVITON"
    assert "no public price for G.1X.GRAVITON" in opts.cost().sum()
    chosen = [("line", {"role": ROLE, "glue_version": "6.1", "worker_type": "G.2X"})]
    assert SessionOptions.resolve(chosen).request()["WorkerType"] == "G.2X"  # yours wins
    five = SessionOptions.resolve([("line", {"role": ROLE, "glue_version": "5.1"})])
    assert five.request()["WorkerType"] == "G.1X"
    glue = make_glue(endpoint.url)
    glue.create_session(Id="g61", Role=ROLE, Command={"Name": "glueetl"}, GlueVersion="6.1")
    assert glue.get_session(Id="g61")["Session"]["WorkerType"] == "G.1X.GRAVITON"
    glue.stop_session(Id="g61")


def test_the_local_endpoint_refuses_end_of_life_and_auto_before_creating(endpoint):
    glue = make_glue(endpoint.url)
    before = endpoint.sessions_created
    for version, words in (("2.0", "end of life"), ("1.0", "end of life"), ("auto", "for jobs")):
        with pytest.raises(glue.exceptions.InvalidInputException, match=words):
            glue.create_session(
                Id=f"eol-{version}", Role=ROLE, Command={"Name": "glueetl"}, GlueVersion=version
            )
    assert endpoint.sessions_created == before


# ------------------------------------------------------------------ in a real kernel


@pytest.fixture(scope="module")
def endpoint():
    with LocalEndpoint(provision_seconds=0.3, stop_seconds=0.1) as ep:
        yield ep


@pytest.fixture(scope="module")
def kernel(installed, endpoint):  # noqa: F811
    k = Kernel(kernel_env(endpoint.url), kernel_name="glue_magics", kernel_spec_manager=installed)
    yield k
    k.shutdown()


def last_session(ep):
    glue = make_glue(ep.url)
    ids = glue.list_sessions()["Ids"]
    return glue.get_session(Id=ids[-1])["Session"]


def test_line_magics_then_configure_in_one_cell(kernel, endpoint):
    """AWS's notebooks' first cell: settings, then %%configure (aws-samples/aws-glue-samples
    examples/notebooks); on main this failed: Line magic function `%%configure` not found."""
    conf = {"--datalake-formats": "delta", "--conf": "spark.sql.shuffle.partitions=4"}
    reply = kernel.ok(
        "%idle_timeout 2880\n%glue_version 5.0\n%worker_type G.2X\n%number_of_workers 2\n"
        f"%%configure\n{json.dumps(conf, indent=1)}"
    )
    said = reply.stdout
    # item 5: every key set, with its value
    assert "Options set for the next session" in said
    assert "'--datalake-formats': 'delta'" in said and "spark.sql.shuffle.partitions=4" in said
    assert "42" in kernel.ok("print(6 * 7)").stdout
    session = last_session(endpoint)
    assert session["DefaultArguments"]["--datalake-formats"] == "delta"
    assert "spark.sql.shuffle.partitions=4" in session["DefaultArguments"]["--conf"]
    assert session["IdleTimeout"] == 2880 and session["GlueVersion"] == "5.0"
    assert session["WorkerType"] == "G.2X" and session["NumberOfWorkers"] == 2
    # %%tags after line magics, and %status / %session_id with a session
    kernel.ok('%session_id\n%%tags\n{"team": "data"}')
    assert session["Id"] in kernel.ok("%session_id").stdout
    assert session["Id"] in str(kernel.ok("%status").messages)
    # %stop_session, then the notices again: the notebook goes on
    kernel.ok("%stop_session")
    for magic in ("%status", "%stop_session", "%session_id"):
        assert "There is no current session." in kernel.ok(magic).stdout


def test_no_session_is_a_notice_not_an_error(installed, endpoint):  # noqa: F811
    """AWS's %status / %stop_session / %session_id with no session print a notice and Run
    All goes on (KernelMagics); on main %status and %stop_session were UsageErrors."""
    k = Kernel(kernel_env(endpoint.url), kernel_name="glue_magics", kernel_spec_manager=installed)
    try:
        calls = sum(endpoint.calls.values())
        reply = k.ok("%status\n%stop_session\n%session_id")
        assert reply.stdout.count("There is no current session.") == 3
        assert sum(endpoint.calls.values()) == calls  # nothing asked of the service
        # an id given is a question for the service: it is asked, and answered
        assert "no-such-session NOT_FOUND" in k.ok("%stop_session no-such-session").stdout
        assert sum(endpoint.calls.values()) > calls
    finally:
        k.shutdown()


def test_bad_input_in_the_mixed_layout_is_one_line_and_no_call(kernel, endpoint):
    before = endpoint.calls["CreateSession"]
    one_line(kernel.execute('%idle_timeout 60\n%%configure\n{"worker_type": "G.2X",\n oops}'),
             "line 2")  # fmt: skip
    one_line(kernel.execute("%glue_version 2.0"), "'2.0'", "end of life on 2026-04-01")
    one_line(kernel.execute('%%configure\n{"glue_version": "1.0"}'), "end of life")
    one_line(kernel.execute("%glue_version auto"), "for jobs")
    # `auto` is a job setting (automatic version upgrades): a session is refused it, in one
    # line, before CreateSession (options let it through for the jobs client)
    kernel.ok('%%configure\n{"glue_version": "auto"}')
    one_line(kernel.execute("print(1)"), "'auto' is for jobs")
    kernel.ok('%%configure\n{"glue_version": "5.0"}')
    one_line(kernel.execute("%idle_timeout 60\n%worker_type G.3X\nprint(1)"), "G.3X")
    assert endpoint.calls["CreateSession"] == before


def test_help_lists_every_magic_of_aws_kernel(kernel):
    [page] = kernel.ok("%help").data("text/markdown")
    for name in aws_magics():
        assert f"`%{name}" in page, name
    for name in ("status", "stop_session", "session_id", "list_sessions", "reconnect", "help"):
        assert f"`%{name}" in page, name
    for name in ("configure", "sql", "tags", "assume_role"):
        assert f"`%%{name}" in page, name


def test_every_aws_magic_is_there(kernel):
    listed = kernel.ok("%lsmagic").data("text/plain")[0]
    for name in [*aws_magics(), "status", "stop_session", "session_id", "list_sessions",
                 "reconnect", "help"]:  # fmt: skip
        assert f"%{name} " in listed + " ", name
    for name in ("configure", "sql", "tags", "assume_role", "local"):
        assert f"%%{name} " in listed + " ", name


def test_configure_takes_a_python_literal_as_aws_kernel_does(kernel):
    """AWS's kernel reads %%configure with ast.literal_eval: single quotes and True work."""
    said = kernel.ok("%idle_timeout 30\n%%configure\n{'--enable-metrics': True}").stdout
    assert "'--enable-metrics': True" in said


def test_spark_conf_shows_what_is_set(kernel):
    kernel.ok("%spark_conf spark.sql.shuffle.partitions=8")
    assert "spark.sql.shuffle.partitions" in kernel.ok("%spark_conf").stdout


def test_dry_run_prices_each_worker_type_or_says_there_is_no_price(kernel, endpoint):
    before = sum(endpoint.calls.values())
    priced = kernel.ok("%glue_session --dry-run --worker-type G.12X --workers 2").stdout
    assert "24 DPU x $0.44 = $10.56 per hour" in priced
    unpriced = kernel.ok("%glue_session --dry-run --worker-type R.4X --workers 2").stdout
    assert "8 M-DPU; no public price for R.4X" in unpriced and "$" not in unpriced.split("\n")[-2]
    assert sum(endpoint.calls.values()) == before


def test_a_profile_does_not_stop_the_embedded_endpoint(installed):  # noqa: F811
    """%profile sandbox (a profile that is not on this machine), then %endpoint local: the
    embedded endpoint signs with its own pair; on main every later cell failed with
    "AWS profile 'sandbox' was not found"."""
    env = kernel_env("http://127.0.0.1:9")
    del env["AWS_ENDPOINT_URL_GLUE"]
    k = Kernel(env, kernel_name="glue_magics", kernel_spec_manager=installed)
    try:
        k.ok("%profile sandbox\n%endpoint local\n%number_of_workers 2")
        reply = k.ok("print(6 * 7)", timeout=120)
        assert "42" in reply.stdout
        said = reply.stdout + k.ok("%status").stdout
        assert said.count("AWS profile 'sandbox' is ignored by the local endpoint") == 1
        # the endpoint says what it really runs when that is not Glue 5.0's Spark / Python
        notice = versions.runtime_notice("5.0", *_local_runtime())
        if notice:
            assert notice in reply.stdout
        k.ok("%stop_session")
    finally:
        k.shutdown()


def _local_runtime() -> tuple[str, str]:
    import platform
    from importlib.metadata import version

    return version("pyspark"), platform.python_version()


def test_assume_role_with_credentials_signs_the_glue_calls(installed):  # noqa: F811
    """%%assume_role with a credentials dict (AWS's second form): the Glue client signs with
    them from then on.  The endpoint answers only its own generated pair."""
    with LocalEndpoint(provision_seconds=0.3, generate_credentials=True) as ep:
        k = Kernel(kernel_env(ep.url), kernel_name="glue_magics", kernel_spec_manager=installed)
        try:
            refused = k.execute("%list_sessions")
            assert refused.status == "error" and "Traceback" not in refused.stderr
            keys = ep.credentials
            pair = {"aws_access_key_id": keys.access_key, "aws_secret_access_key": keys.secret_key,
                    "aws_session_token": ""}  # fmt: skip
            assert "Role assumed" in k.ok(f"%%assume_role\n{json.dumps(pair)}").stdout
            k.ok("%list_sessions")
            one_line(k.execute("%%assume_role\nnot a role"), "role ARN")
        finally:
            k.shutdown()


def test_assume_role_with_an_arn_asks_sts_and_signs_with_its_keys(installed, moto_server):  # noqa: F811
    """%%assume_role 'arn:...' (AWS's first form): STS AssumeRole (moto's, found through
    AWS_ENDPOINT_URL_STS as botocore reads it), then the Glue calls are signed with the
    role's temporary keys, which this endpoint does not know: it refuses them by name."""
    with LocalEndpoint(provision_seconds=0.3) as ep:
        env = kernel_env(ep.url, AWS_ENDPOINT_URL_STS=moto_server)
        k = Kernel(env, kernel_name="glue_magics", kernel_spec_manager=installed)
        try:
            k.ok("%list_sessions")  # the pair it was started with
            arn = "arn:aws:iam::123456789012:role/CrossAccount"
            assert "Role assumed" in k.ok(f"%%assume_role\n'{arn}'").stdout
            refused = k.execute("%list_sessions")
            assert refused.status == "error" and "credentials" in refused.stderr
            assert "Traceback" not in refused.stderr
        finally:
            k.shutdown()
