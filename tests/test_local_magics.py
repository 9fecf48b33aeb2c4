"""Statement magics in the local endpoint's sessions, as Glue's (Livy's) session has them.

Source: Apache Livy ``repl/src/main/resources/fake_shell.py`` (``parse_code_into_nodes``,
``MagicNode``, ``magic_table``, ``magic_json``, ``magic_matplot``, ``UnknownMagic``) and AWS's
Glue kernel ``%help`` (``%matplot``, ``%plotly`` run in the session).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import struct

import pytest
from helpers import needs_matplotlib, needs_plotly, ready, run
from hypothesis import given
from hypothesis import strategies as st

from glue_magics.local.worker import TABLE_MIME, _chunks, livy_table

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def session(_shared_glue, _shared_endpoint):
    """(glue, READY session) shared by this module's tests: magics only read variables."""
    glue = _shared_glue
    session_id = ready(glue)
    yield glue, session_id
    glue.stop_session(Id=session_id)


def ok_data(statement):
    assert statement["State"] == "AVAILABLE", statement
    assert statement["Output"]["Status"] == "ok", statement["Output"]
    return statement["Output"]["Data"]


def error_of(statement):
    assert statement["State"] == "AVAILABLE", statement
    output = statement["Output"]
    assert output["Status"] == "error", output
    return output


def table_of(glue, session_id, code):
    data = ok_data(run(glue, session_id, code))
    assert data["MimeType"] == TABLE_MIME
    return json.loads(data["Result"])


# ------------------------------------------------------------------ %matplot / %plotly


@needs_matplotlib
def test_matplot_is_a_png_of_the_current_figure(session):
    glue, session_id = session
    code = (
        "import matplotlib.pyplot as plt\nplt.figure()\nplt.plot([1, 3, 2])\n"
        "print('plotted')\n%matplot plt"
    )
    data = ok_data(run(glue, session_id, code))
    assert data["MimeType"] == "image/png;base64"  # AWS's display_result decodes it
    png = base64.b64decode(data["Result"], validate=True)
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (640, 480)  # matplotlib's default 6.4 x 4.8 in at 100 dpi
    assert (data["StdOut"], data["StdErr"]) == ("plotted\n", "")  # the code ran first


def test_matplot_of_an_undefined_name_is_a_name_error(session):
    glue, session_id = session
    output = error_of(run(glue, session_id, "%matplot no_such_plt"))
    assert (output["ErrorName"], output["ErrorValue"]) == (
        "NameError",
        "name 'no_such_plt' is not defined",
    )


@needs_plotly
def test_plotly_is_html_that_loads_plotly_from_the_cdn(session):
    glue, session_id = session
    code = "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(y=[2, 1, 3]))\n%plotly fig"
    data = ok_data(run(glue, session_id, code))
    assert data["MimeType"] == "text/html"
    assert "https://cdn.plot.ly/" in data["Result"]
    assert "<html" not in data["Result"]  # full_html=False: a fragment for the notebook


# ------------------------------------------------------------------ %json


def test_json_is_the_value_as_application_json(session):
    glue, session_id = session
    code = "payload = {'name': 'ü', 'n': [1, 2.5, None, True]}\n%json payload"
    data = ok_data(run(glue, session_id, code))
    assert data["MimeType"] == "application/json"
    assert json.loads(data["Result"]) == {"name": "ü", "n": [1, 2.5, None, True]}
    assert (data["StdOut"], data["StdErr"]) == ("", "")


def test_json_of_a_value_json_cannot_hold_is_an_error(session):
    glue, session_id = session
    output = error_of(run(glue, session_id, "odd = {1, 2}\n%json odd"))
    assert output["ErrorName"] == "TypeError"
    assert output["ErrorValue"] == "Object of type set is not JSON serializable"
    assert output["Traceback"] == ["TypeError: Object of type set is not JSON serializable\n"]


# ------------------------------------------------------------------ %table


def test_table_of_a_list_of_dicts(session):
    glue, session_id = session
    code = (
        "import datetime, decimal\n"
        "rows = [\n"
        "    {'name': 'a', 'n': 1, 'x': 1.5, 'ok': True, 'day': datetime.date(2024, 1, 2),\n"
        "     'at': datetime.datetime(2024, 1, 2, 3, 4, 5), 'cost': decimal.Decimal('1.10'),\n"
        "     'tags': ['p', 'q'], 'gone': None},\n"
        "    {'name': 'b', 'n': 2, 'x': None, 'ok': False, 'day': datetime.date(2024, 2, 3),\n"
        "     'at': datetime.datetime(2024, 2, 3, 0, 0), 'cost': decimal.Decimal('2'),\n"
        "     'tags': [], 'gone': None},\n"
        "]\n"
        "%table rows"
    )
    table = table_of(glue, session_id, code)
    # Livy: dict rows sorted by key; types from magic_table_types.
    assert table == {
        "headers": [
            {"name": "at", "type": "TIMESTAMP_TYPE"},
            {"name": "cost", "type": "DECIMAL_TYPE"},
            {"name": "day", "type": "DATE_TYPE"},
            {"name": "gone", "type": "NULL_TYPE"},
            {"name": "n", "type": "INT_TYPE"},
            {"name": "name", "type": "STRING_TYPE"},
            {"name": "ok", "type": "BOOLEAN_TYPE"},
            {"name": "tags", "type": "ARRAY_TYPE"},
            {"name": "x", "type": "DOUBLE_TYPE"},
        ],
        "data": [
            ["2024-01-02 03:04:05", "1.10", "2024-01-02", None, 1, "a", True, ["p", "q"], 1.5],
            ["2024-02-03 00:00:00", "2", "2024-02-03", None, 2, "b", False, [], None],
        ],
    }


def test_table_of_a_list_of_tuples(session):
    glue, session_id = session
    table = table_of(glue, session_id, "pairs = [('a', 1), ('b', 2), (None, 3)]\n%table pairs")
    assert table == {
        "headers": [{"name": "0", "type": "STRING_TYPE"}, {"name": "1", "type": "INT_TYPE"}],
        "data": [["a", 1], ["b", 2], [None, 3]],
    }


def test_table_of_a_single_value_and_of_unknown_types(session):
    glue, session_id = session
    table = table_of(glue, session_id, "class Thing:\n    def __str__(self):\n        return 'T'\n"
                     "one = Thing()\n%table one")  # fmt: skip
    # Livy: a value that is no list is one row; an unknown type is STRING_TYPE of its str.
    assert table == {"headers": [{"name": "0", "type": "STRING_TYPE"}], "data": [["T"]]}


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark is not installed")
def test_table_of_spark_rows_uses_as_dict(session):
    glue, session_id = session
    code = "from pyspark.sql import Row\nrows = [Row(b=2, a='x'), Row(b=3, a='y')]\n%table rows"
    assert table_of(glue, session_id, code) == {
        "headers": [{"name": "a", "type": "STRING_TYPE"}, {"name": "b", "type": "INT_TYPE"}],
        "data": [["x", 2], ["y", 3]],
    }


def test_table_rows_of_different_types_are_an_error(session):
    glue, session_id = session
    output = error_of(run(glue, session_id, "mixed = [{'a': 1}, {'a': 'one'}]\n%table mixed"))
    assert output["ErrorName"] == "ValueError"
    assert output["ErrorValue"].startswith("table rows have different types")


# ------------------------------------------------------------------ magic lines


def test_an_unknown_magic_is_an_error(session):
    glue, session_id = session
    output = error_of(run(glue, session_id, "%sparkle x"))
    assert (output["ErrorName"], output["ErrorValue"]) == (
        "UnknownMagic",
        "unknown magic command 'sparkle'",
    )
    assert output["Traceback"] == ["UnknownMagic: unknown magic command 'sparkle'\n"]
    assert error_of(run(glue, session_id, "%"))["ErrorValue"] == "magic command not specified"


def test_code_before_a_magic_runs_first_and_the_last_chunk_is_the_result(session):
    glue, session_id = session
    data = ok_data(run(glue, session_id, "seen = []\nseen.append(1)\n%json seen"))
    assert json.loads(data["Result"]) == [1]
    # As Livy: a chunk's last value is printed; the last chunk, code here, is the result.
    data = ok_data(run(glue, session_id, "seen\n%json seen\nseen.append(2)\nseen"))
    assert data == {"TextPlain": "[1]\n[1, 2]"}


def test_a_percent_line_inside_code_that_parses_is_not_a_magic(session):
    glue, session_id = session
    data = ok_data(run(glue, session_id, "text = '''\n%json text\n'''\ntext.strip()"))
    assert data == {"TextPlain": "'%json text'"}


def test_errors_after_a_magic_name_their_own_line(session):
    glue, session_id = session
    output = error_of(run(glue, session_id, "v = 1\n%json v\nv = (\n"))
    assert output["ErrorName"] == "SyntaxError"
    assert 'File "<statement-' in output["Traceback"][0] and "line 3" in output["Traceback"][0]
    output = error_of(run(glue, session_id, "w = 1\n%json w\n\nw / 0"))
    assert output["ErrorName"] == "ZeroDivisionError"
    assert "line 4" in "".join(output["Traceback"])
    assert "worker.py" not in "".join(output["Traceback"])


# ------------------------------------------------------------------ properties of the parsers


LINES = st.lists(
    st.text(alphabet="%ab =(:1\t", max_size=8).filter(lambda line: "\n" not in line), max_size=12
)


@given(LINES)
def test_chunks_cover_the_code_and_split_only_at_percent_lines(lines):
    code = "\n".join(lines)
    chunks = _chunks(code)
    kept = code.rstrip().split("\n")
    assert [line for _, text in chunks for line in text.split("\n")] == kept
    for start, text in chunks:
        assert kept[start - 1] == text.split("\n")[0]  # the line number each chunk starts on
        if text.startswith("%"):
            assert "\n" not in text  # a magic is one line
        else:
            assert not any(line.startswith("%") for line in text.split("\n"))


SCALARS = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.floats(allow_nan=False))


@given(
    st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=4, unique=True).flatmap(
        lambda keys: st.tuples(
            st.just(sorted(keys)),
            st.lists(st.fixed_dictionaries({k: st.integers() for k in keys}), max_size=5),
        )
    )
)
def test_dict_rows_become_columns_sorted_by_key(keys_and_rows):
    keys, rows = keys_and_rows
    table = livy_table(rows)
    if rows:
        assert table["headers"] == [{"name": k, "type": "INT_TYPE"} for k in keys]
    assert table["data"] == [[row[k] for k in keys] for row in rows]


@given(st.lists(SCALARS, max_size=6))
def test_a_list_of_scalars_is_one_column_or_an_error(values):
    kinds = {type(v) for v in values}
    if len(kinds) > 1:
        with pytest.raises(ValueError, match="different types"):
            livy_table(values)
        return
    table = livy_table(values)
    assert table["data"] == [[v if not isinstance(v, str) else str(v)] for v in values]
    assert len(table["headers"]) == (1 if values else 0)
