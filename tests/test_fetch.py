"""Large results home as Arrow (glue_magics.fetch): the payload's reader, the magic's line,
and ``%glue_fetch`` in a real kernel against the local endpoint, no Spark (the session
builds a pandas DataFrame; the Spark paths are in test_fetch_spark.py).

The payload is plain stdout, the only output user code has on AWS Glue: botocore's Glue
model (``botocore/data/glue/2017-03-31/service-2.json``) gives ``Statement.Output`` the
shape ``StatementOutput`` whose ``Data`` is ``StatementOutputData`` with one member,
``TextPlain`` (a string); rich MimeType results come only from Livy's statement magics
(Apache Livy ``repl/src/main/resources/fake_shell.py``).  Large stdout goes through S3 as
``text/uri-list`` (AWS's Glue kernel, aws-glue-sessions 1.0.9, BaseKernel.display_result).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os

import botocore.session
import pandas as pd
import pytest
from helpers import make_glue, make_s3, s3_endpoint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from glue_magics import arguments, fetch
from glue_magics.local import LocalEndpoint
from glue_magics.magics import GlueMagics
from glue_magics.service import GlueError
from tests.kernels import Kernel, kernel_env, one_line

BUCKET = "glue-magics-fetch-results"


def printed(frame_or_value, name: str = "df", limit: int = 10**9) -> str:
    """What the session prints for ``%glue_fetch name``, run here as the worker runs it."""
    namespace = {"__name__": "__main__", name: frame_or_value}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(fetch.name_code(name, limit), namespace)
    assert not [key for key in namespace if key.startswith("_gm")]  # it leaves nothing behind
    return out.getvalue()


FRAME = pd.DataFrame({"i": [1, 2, 3], "d": [0.5, float("nan"), -2.0], "s": ["a", "é ✓", ""]})
GOOD = printed(FRAME)

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
frames = st.lists(
    st.tuples(
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        texts,
    ),
    max_size=30,
).map(
    lambda rows: pd.DataFrame(rows, columns=["i", "d", "s"]).astype({"i": "int64", "d": "float64"})
)


# ------------------------------------------------------------------ the payload's reader
@settings(max_examples=60, deadline=None)
@given(frames)
def test_any_frame_comes_back_equal(frame):
    got = fetch.read(printed(frame))
    assert got.rows == len(frame) and got.columns == ["i", "d", "s"]
    pd.testing.assert_frame_equal(got.frame, frame, check_dtype=False, check_index_type=False)
    assert str(got.frame["i"].dtype) == "int64" and str(got.frame["d"].dtype) == "float64"


def test_a_series_and_the_codec():
    text = printed(FRAME["d"], "s")
    got = fetch.read(text)
    assert got.columns == ["d"] and got.rows == 3
    assert got.codec in ("zstd", "lz4", "none")
    assert got.nbytes == len(base64.b64decode(text.splitlines()[1]))


def test_the_users_marker_lines_before_the_result_do_not_count():
    noise = f"{fetch.MARKER}{{nonsense\n  {fetch.MARKER}\n"
    got = fetch.read(noise + GOOD + f"later {fetch.MARKER} mid-line\n")
    assert got.frame["s"].tolist() == ["a", "é ✓", ""]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(GOOD) - 2))
def test_a_payload_cut_anywhere_is_one_line(cut):
    with pytest.raises(ValueError) as caught:
        fetch.read(GOOD[:cut])
    assert "\n" not in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.characters(blacklist_categories=("Cs",)))
def test_a_payload_changed_anywhere_reads_or_is_one_line(at, char):
    """Never a traceback: a changed character gives a frame (base64 and Arrow do not
    all checksum) or one line."""
    try:
        fetch.read(GOOD[:at] + char + GOOD[at + 1 :])
    except ValueError as exc:
        assert "\n" not in str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts,
    st.dictionaries(
        st.sampled_from(["v", "rows", "columns", "bytes", "codec", "error", "detail"]) | texts,
        json_values,
    ),
    st.text(alphabet="ABCDEFabcdef0123456789+/=\n\r \x00é", max_size=80),
)
def test_any_header_and_payload_is_a_frame_or_one_line(before, head, payload):
    text = f"{before}\n{fetch.MARKER}{json.dumps(head)}\n{payload}"
    try:
        fetch.read(text)
    except ValueError as exc:
        assert "\n" not in str(exc) and str(exc)


@settings(max_examples=100, deadline=None)
@given(texts)
def test_text_without_a_result_is_one_line(text):
    with pytest.raises(ValueError, match="no Arrow result"):
        fetch.read(text.replace(fetch.MARKER, ""))


@pytest.mark.parametrize(
    ("head", "says"),
    [
        ({"error": "nopyarrow"}, "has no pyarrow"),
        ({"error": "unknown"}, "has no variable df"),
        ({"error": "type", "detail": "builtins.int"}, "builtins.int, not a Spark or pandas"),
        ({"error": "toolarge", "bytes": 3_500_000, "rows": 7}, "more than 3.5 MB"),
    ],
)
def test_what_the_session_reports_is_one_line(head, says):
    with pytest.raises(ValueError, match=says) as caught:
        fetch.read(f"{fetch.MARKER}{json.dumps({'v': 1, **head})}\n", 2.0, "df")
    assert "\n" not in str(caught.value)
    if head["error"] == "toolarge":
        assert "fetch_max_mb 2" in str(caught.value) and "%config GlueMagics.fetch_max_mb = 8" in (
            str(caught.value)
        )


# ------------------------------------------------------------------ the magic's line
def fetch_line(line: str) -> tuple[str, str]:
    args = arguments.parse(GlueMagics.glue_fetch, line)
    name = fetch.variable(args.name, "NAME")
    return name, fetch.variable(args.output, "-o") if args.output else name


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_glue_fetch_line_is_names_or_one_line(line):
    try:
        name, local = fetch_line(line)
    except (UsageError, GlueError) as exc:
        assert "\n" not in str(exc).strip()
        return
    assert name.isidentifier() and local.isidentifier()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_glue_sql_line_is_a_name_and_a_count_or_one_line(line):
    try:
        args = arguments.parse(GlueMagics.glue_sql, line)
        name = fetch.variable(args.output, "-o") if args.output else None
    except (UsageError, GlueError) as exc:
        assert "\n" not in str(exc).strip()
        return
    assert name is None or name.isidentifier()
    assert isinstance(args.max_rows, int) and args.max_rows >= 0


def test_glue_fetch_lines():
    assert fetch_line("df") == ("df", "df")
    assert fetch_line("df -o here -n 5") == ("df", "here")
    for bad in ("", "'a b'", "df -o class", "df -n -1", "1x", "df extra"):
        with pytest.raises((UsageError, GlueError)):
            fetch_line(bad)


# ------------------------------------------------------------------ in a kernel, no Spark
BUILD = (
    "%%glue\nimport pandas as pd\n"
    "df = pd.DataFrame({'i': range(1000), 'd': [x / 4 for x in range(1000)], "
    "'s': ['r%d' % x for x in range(1000)]})\nx = 3"
)


@pytest.fixture(scope="module")
def ep():
    with LocalEndpoint(provision_seconds=0.2, stop_seconds=0.05) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def kernel(ep):
    k = Kernel(kernel_env(ep.url, GLUE_MAGICS_LOCAL_SPARK="0"))
    try:
        k.ok("%load_ext glue_magics\n%glue_session")
        k.ok(BUILD)
        yield k
    finally:
        k.shutdown()


def test_glue_fetch_of_a_pandas_frame_in_the_session(kernel, ep):
    reply = kernel.ok("%glue_fetch df -o here -n 3")
    assert reply.stdout.startswith("here: 1000 rows x 3 columns, ")
    assert "1000 rows fetched, first 3 shown" in "".join(reply.data("text/plain"))
    check = kernel.ok(
        "print(here.shape, here['i'].sum(), here['d'].iloc[-1], here['s'].iloc[999], "
        "str(here['i'].dtype), str(here['d'].dtype))"
    )
    assert check.stdout.split() == ["(1000,", "3)", "499500", "249.75", "r999", "int64", "float64"]
    # strings stay in Arrow's buffers (pandas 3's str dtype; string[pyarrow] on pandas 2),
    # not a Python object per value
    strings = kernel.ok(
        "import pandas as pd; print(type(here['s'].dtype).__name__, here['s'].dtype.storage)"
    )
    assert strings.stdout.split() == ["StringDtype", "pyarrow"], strings.stdout
    # the payload rode in the one member botocore's model has for Data: TextPlain
    glue = make_glue(ep.url)
    [session_id] = glue.list_sessions()["Ids"]
    last = max(glue.list_statements(SessionId=session_id)["Statements"], key=lambda s: s["Id"])
    assert set(last["Output"]["Data"]) == {"TextPlain"}
    model = botocore.session.get_session().get_service_model("glue")
    assert set(model.shape_for("StatementOutputData").members) == {"TextPlain"}
    assert fetch.MARKER in last["Output"]["Data"]["TextPlain"]


def test_the_table_shows_each_column_as_its_own_type(kernel):
    # numbers only: ``.values`` would make one float array of them, 2 shown as 2.0
    kernel.ok("%%glue\nnum = df[['i', 'd']]")
    reply = kernel.ok("%glue_fetch num -n 3")
    text = "".join(reply.data("text/plain"))
    assert "2.0" not in text and "0.5" in text, text
    assert [line.split() for line in text.splitlines()[-1:]] == [["2", "0.5"]], text


def test_glue_fetch_of_a_series_keeps_its_name(kernel):
    kernel.ok("%%glue\nser = df['d']")
    reply = kernel.ok("%glue_fetch ser")
    assert reply.stdout.startswith("ser: 1000 rows x 1 columns")
    assert kernel.ok("print(list(ser.columns), ser['d'].iloc[4])").stdout.split() == [
        "['d']",
        "1.0",
    ]


def test_glue_fetch_errors_are_one_line(kernel, ep):
    before = ep.calls["RunStatement"]
    one_line(kernel.execute("%glue_fetch 'a b'"), "NAME", "'a b'")
    one_line(kernel.execute("%glue_fetch df -o 'x-y'"), "-o", "'x-y'")
    assert ep.calls["RunStatement"] == before  # a bad line never reaches the service
    one_line(kernel.execute("%glue_fetch nope"), "no variable nope")
    one_line(kernel.execute("%glue_fetch x"), "builtins.int")
    kernel.ok("%%glue\nmixed = pd.DataFrame({'m': [1, 'one']})")
    one_line(kernel.execute("%glue_fetch mixed"), "could not make Arrow of mixed: Arrow")


def test_a_result_above_fetch_max_mb_is_one_line_with_its_size(kernel):
    kernel.ok("%config GlueMagics.fetch_max_mb = 0.001")
    try:
        one_line(kernel.execute("%glue_fetch df -o big"), "fetch_max_mb 0.001", "kB")
        assert "big" not in kernel.ok("print(sorted(globals()))").stdout
    finally:
        kernel.ok("%config GlueMagics.fetch_max_mb = 512")


def test_a_payload_held_in_s3_comes_home(moto_server):
    """Over the inline limit the endpoint answers text/uri-list and the kernel reads the
    stdout object from S3 with its own client, up to what fetch_max_mb allows."""
    make_s3(moto_server, BUCKET)
    with s3_endpoint(moto_server, BUCKET, 1000, provision_seconds=0.2) as big:
        k = Kernel(
            kernel_env(big.url, AWS_ENDPOINT_URL_S3=moto_server, GLUE_MAGICS_LOCAL_SPARK="0")
        )
        try:
            k.ok("%load_ext glue_magics\n%glue_session")
            k.ok(BUILD)
            reply = k.ok("%glue_fetch df")
            assert reply.stdout.startswith("df: 1000 rows x 3 columns")
            assert k.ok("print(df['s'].iloc[500])").stdout.strip() == "r500"
            glue = make_glue(big.url)
            [session_id] = glue.list_sessions()["Ids"]
            statements = glue.list_statements(SessionId=session_id)["Statements"]
            last = max(statements, key=lambda s: s["Id"])
            assert last["Output"]["Data"]["MimeType"] == "text/uri-list"  # it went by S3
        finally:
            k.shutdown()


@pytest.fixture
def no_pyarrow(tmp_path):
    """A PYTHONPATH on which ``import pyarrow`` fails, as on a Python without it."""
    (tmp_path / "pyarrow").mkdir()
    (tmp_path / "pyarrow" / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    return os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])


def test_a_session_without_pyarrow_is_one_line(ep, monkeypatch, no_pyarrow):
    kept = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", no_pyarrow)  # the next session's worker inherits it
    k = Kernel(kernel_env(ep.url, GLUE_MAGICS_LOCAL_SPARK="0", PYTHONPATH=kept))
    try:
        k.ok("%load_ext glue_magics\n%glue_session")
        k.ok("%%glue\nimport pandas as pd\ndf = pd.DataFrame({'a': [1]})")
        one_line(k.execute("%glue_fetch df"), "the session has no pyarrow")
    finally:
        k.shutdown()


def test_a_kernel_without_pyarrow_is_one_line_before_any_statement(ep, no_pyarrow):
    k = Kernel(kernel_env(ep.url, GLUE_MAGICS_LOCAL_SPARK="0", PYTHONPATH=no_pyarrow))
    try:
        k.ok("%load_ext glue_magics\n%glue_session")
        before = ep.calls["RunStatement"]
        one_line(k.execute("%glue_fetch df"), "pyarrow is not installed in this kernel")
        assert ep.calls["RunStatement"] == before
    finally:
        k.shutdown()
