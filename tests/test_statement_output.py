"""Reading statement output in every shape and state the service sends (results.py) and
building what a frontend shows from it (display.py), below IPython.

Sources of the shapes: AWS's Glue kernel, aws-glue-sessions 1.0.9,
``glue_kernel_base/BaseKernel.py`` (``display_result``, ``_construct_reply_content``) and
``glue_kernel_utils/GlueSessionsConstants.py`` (``MimeTypes``, FINAL_STATEMENT_STATUS);
Apache Livy ``repl/src/main/resources/fake_shell.py`` (TextPlain, ``%table``, ``%json``).
S3-held outputs are read from moto's real S3 server on loopback.
"""

from __future__ import annotations

import base64
import html as html_text
import json
import string

import pytest
from helpers import make_s3
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics import display, results
from glue_magics.results import Output, read_data, read_statement, split_mime
from glue_magics.states import STATEMENT_DONE

BUCKET = "glue-magics-shapes"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
    "60e6kgAAAABJRU5ErkJggg=="
)
TRACEBACK = [
    "Traceback (most recent call last):\n",
    '  File "<stdin>", line 1, in <module>\n',
    "ZeroDivisionError: division by zero\n",
]


# ------------------------------------------------------------------ MIME type parameters


def test_split_mime_examples():
    assert split_mime("image/png;base64") == ("image/png", True)  # the service's binary form
    assert split_mime("image/jpeg; base64") == ("image/jpeg", True)
    assert split_mime("IMAGE/PNG;BASE64") == ("image/png", True)
    assert split_mime("text/plain; charset=utf-8") == ("text/plain", False)
    assert split_mime("application/vnd.livy.table.v1+json") == (display.LIVY_TABLE, False)
    assert split_mime("text/uri-list") == (results.URI_LIST, False)
    assert split_mime(None) == ("", False)
    assert split_mime(7) == ("", False)


token = st.text(alphabet=string.ascii_letters + string.digits + "+-.", min_size=1, max_size=12)
param = st.one_of(
    st.just("base64"),
    st.just("BASE64"),
    st.builds(lambda k, v: f"{k}={v}", token, token),
)


@given(token, token, st.lists(param, max_size=3), st.sampled_from(["", " "]))
def test_split_mime_strips_every_parameter_and_finds_base64(kind, sub, params, space):
    mime = f"{kind}/{sub}" + "".join(f";{space}{p}" for p in params)
    assert split_mime(mime) == (f"{kind}/{sub}".lower(), any(p.lower() == "base64" for p in params))


@given(st.text())
def test_split_mime_never_raises_and_gives_a_bare_type(text):
    mime, encoded = split_mime(text)
    assert ";" not in mime and not any(ch.isspace() for ch in mime)
    assert mime == mime.lower() and isinstance(encoded, bool)


@given(st.binary(max_size=64))
def test_base64_of_any_bytes_is_base64_with_or_without_padding(raw):
    text = base64.b64encode(raw).decode()
    assert results.is_base64(text) and results.is_base64(text.rstrip("="))


@given(st.text(max_size=40))
def test_whatever_is_base64_decodes(text):
    if results.is_base64(text):
        packed = text.rstrip("=")
        base64.b64decode(packed + "=" * (-len(packed) % 4), validate=True)


# ------------------------------------------------------------------ Output.Data shapes


def test_text_shape_is_stdout():
    """Livy fake_shell.py: TextPlain is stdout then stderr, rstripped, and nothing else."""
    out = read_data({"TextPlain": "hi\n42"})
    assert (out.stdout, out.stderr, out.values, out.problems) == ("hi\n42", "", {}, [])


def test_older_text_shape_with_streams_beside_it_is_still_read():
    """Our endpoint's older dialect: TextPlain (stdout + value) with StdOut and StdErr."""
    out = read_data({"TextPlain": "hi\n42", "StdOut": "hi\n", "StdErr": "warn\n"})
    assert (out.stdout, out.stderr) == ("hi\n42", "warn\n")


def test_rich_base64_image_with_streams():
    """AWS's kernel display_result: MimeType image/png;base64, Result base64, StdOut/StdErr."""
    data = {"MimeType": "image/png;base64", "Result": PNG, "StdOut": "a\n", "StdErr": "w\n"}
    out = read_data(data)
    assert (out.stdout, out.stderr, out.values) == ("a\n", "w\n", {"image/png": PNG})


def test_rich_text_types_are_text():
    html = read_data({"MimeType": "text/html", "Result": "<b>é</b>", "StdOut": "", "StdErr": ""})
    assert html.values == {"text/html": "<b>é</b>"}
    encoded = base64.b64encode("<b>é</b>".encode()).decode()
    assert read_data({"MimeType": "text/html;base64", "Result": encoded}).values == html.values
    plain = read_data({"MimeType": "text/plain", "Result": "42", "StdOut": "hi"})
    assert plain.stdout == "hi\n42" and plain.values == {}


def test_bad_base64_is_one_line_not_a_broken_image():
    out = read_data({"MimeType": "image/png;base64", "Result": "not base64!", "StdOut": "x"})
    assert out.stdout == "x" and out.values == {}
    assert out.problems == ["the image/png result is not valid base64; it is not shown"]


def test_a_uri_with_no_s3_client_is_one_line():
    out = read_data({"MimeType": "text/uri-list", "Result": "s3://b-1/k", "StdOut": "s3://b-1/o"})
    assert len(out.problems) == 2 and all("\n" not in p for p in out.problems)
    assert "aws s3 cp s3://b-1/k" in out.problems[1]


field_values = st.one_of(st.text(max_size=40), st.sampled_from([PNG, "s3://b/k", "e30=", "{}"]))
keys = st.sampled_from(["TextPlain", "MimeType", "Result", "StdOut", "StdErr", "Other"])
mimes = st.sampled_from(
    ["image/png;base64", "text/uri-list", "text/html", "application/json", display.LIVY_TABLE,
     "text/plain", "image/png", "application/pdf;base64", "", "x"]
)  # fmt: skip


@settings(max_examples=300)
@given(st.dictionaries(keys, field_values, max_size=6), mimes)
def test_any_data_of_strings_shows_or_gives_one_line(data, mime):
    """Never raises: it shows, or says in one line what it could not show."""
    if "MimeType" in data:
        data["MimeType"] = mime
    out = read_data(data)  # no S3 client: URIs become problems
    assert isinstance(out.stdout, str) and isinstance(out.stderr, str)
    assert all(isinstance(p, str) and "\n" not in p for p in out.problems)
    for value_mime, content in out.values.items():
        assert ";" not in value_mime and isinstance(content, str)
        bundle = display.output_bundle(value_mime, content, out.fallback)
        assert isinstance(bundle["text/plain"], str)


@given(st.text(max_size=30), st.text(max_size=60), st.text(max_size=10))
def test_output_bundle_never_raises(mime, result, text):
    bundle = display.output_bundle(mime, result, text)
    assert isinstance(bundle.get("text/plain"), str)


# ------------------------------------------------------------------ rendering values


def test_livy_table_is_an_html_and_text_table():
    """Livy fake_shell.py magic_table: headers [{name, type}] and rows by position."""
    table = {
        "headers": [{"name": "id", "type": "INT_TYPE"}, {"name": "id", "type": "STRING_TYPE"}],
        "data": [[1, "a<b"], [2, None], [3]],
    }
    bundle = display.output_bundle(display.LIVY_TABLE, json.dumps(table))
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"].count("<tr>") == 4  # header + 3 rows; a short row is padded
    assert "a&lt;b" in bundle["text/html"]
    lines = bundle["text/plain"].splitlines()
    assert lines[0].split() == ["id", "id"] and lines[2].split() == ["1", "a<b"]
    assert lines[-1] == "(3 rows)"


@given(
    st.lists(st.text(max_size=8), min_size=1, max_size=4),
    st.lists(st.lists(st.one_of(st.integers(), st.text(max_size=6), st.none()), max_size=5)),
)
def test_any_livy_table_keeps_its_headers_and_row_count(names, rows):
    headers = [{"name": n, "type": "STRING_TYPE"} for n in names]
    bundle = display.output_bundle(
        display.LIVY_TABLE, json.dumps({"headers": headers, "data": rows})
    )
    assert bundle["text/html"].count("<tr>") == 1 + max(len(rows), 1)  # "(no rows)" row
    head = bundle["text/html"].split("</thead>")[0]
    assert all(html_text.escape(display._cell(n)) in head for n in names)


def test_a_livy_table_that_is_not_one_is_text():
    assert display.output_bundle(display.LIVY_TABLE, "[1, 2]") == {"text/plain": "[1, 2]"}


def test_json_is_parsed_and_uri_list_values_bundle_together():
    """Livy %json: application/json, JSON as text; shown as an object."""
    assert display.output_bundle("application/json", '{"a": [1]}') == {
        "application/json": {"a": [1]},
        "text/plain": '{\n  "a": [\n    1\n  ]\n}',
    }
    bundle = display.values_bundle({"image/png": PNG, "text/html": "<i>x</i>"})
    assert bundle["image/png"] == PNG and bundle["text/html"] == "<i>x</i>"
    assert bundle["text/plain"] == "[image/png, 0.1 kB]"  # the first value's plain text


# ------------------------------------------------------------------ statement states


def statement(state: str, output: dict | None = None) -> dict:
    return {"Id": 3, "State": state, **({"Output": output} if output is not None else {})}


@pytest.mark.parametrize("state", ["AVAILABLE", "COMPLETED"])
def test_success_states(state):
    """AWS's kernel _construct_reply_content: AVAILABLE or COMPLETED with Status ok."""
    done = read_statement(statement(state, {"Status": "ok", "Data": {"TextPlain": "42"}}), "s")
    assert not done.failed and done.output.stdout == "42"


def test_completed_without_status_is_ok_available_with_error_is_not():
    assert not read_statement(statement("COMPLETED", {"Data": {"TextPlain": "1"}}), "s").failed
    output = {"Status": "error", "ErrorName": "ZeroDivisionError", "ErrorValue": "division by zero",
              "Traceback": TRACEBACK, "Data": {"TextPlain": "before"}}  # fmt: skip
    done = read_statement(statement("AVAILABLE", output), "s")
    assert (done.ename, done.evalue, done.traceback) == (
        "ZeroDivisionError",
        "division by zero",
        TRACEBACK,
    )
    assert done.output.stdout == "before" and not done.one_line


def test_failed_with_the_reason_and_no_error_name():
    """AWS's kernel: FAILED shows StdOut, then the reason (Result) and StdErr on stderr."""
    output = {"Data": {"StdOut": "out\n", "Result": "Job aborted\nstage 3 lost", "StdErr": "e"}}
    done = read_statement(statement("FAILED", output), "s")
    assert (done.ename, done.evalue, done.one_line) == ("StatementFailed", "Job aborted", False)
    assert done.output.stdout == "out\n"
    assert done.output.stderr == "Job aborted\nstage 3 lost\ne"


def test_failed_reason_already_in_the_traceback_is_not_shown_twice():
    reason = "ZeroDivisionError: division by zero\n" + "".join(TRACEBACK)
    output = {"Status": "error", "ErrorName": "ZeroDivisionError", "ErrorValue": "division by zero",
              "Traceback": TRACEBACK,
              "Data": {"StdOut": "", "Result": reason, "StdErr": "w"}}  # fmt: skip
    done = read_statement(statement("FAILED", output), "s")
    assert done.ename == "ZeroDivisionError" and done.traceback == TRACEBACK
    assert done.output.stderr == "w"
    output["Data"]["Result"] = reason + "and one more thing"
    assert read_statement(statement("FAILED", output), "s").output.stderr.startswith(reason)


def test_error_with_and_without_the_remote_error():
    """State ERROR: the statement could not run; the remote error when there is one."""
    output = {"Status": "error", "ErrorName": "WorkerDied", "ErrorValue": "exit 137"}
    done = read_statement(statement("ERROR", output), "sess-9")
    assert (done.ename, done.evalue, done.one_line) == ("WorkerDied", "exit 137", False)
    bare = read_statement(statement("ERROR"), "sess-9")
    assert bare.failed and bare.one_line
    assert "statement 3 in session sess-9 could not be run" in bare.evalue
    assert "%glue_status" in display.explain(bare.error) and "\n" not in bare.evalue


def test_cancelled_by_someone_else_is_one_line():
    done = read_statement(statement("CANCELLED"), "sess-9")
    assert done.one_line and "was cancelled" in done.evalue and "\n" not in done.evalue


outputs = st.fixed_dictionaries(
    {},
    optional={
        "Status": st.sampled_from(["ok", "error", "", "weird"]),
        "ErrorName": st.text(max_size=10),
        "ErrorValue": st.text(max_size=20),
        "Traceback": st.lists(st.text(max_size=20), max_size=3),
        "Data": st.dictionaries(keys, field_values, max_size=5),
    },
)


@settings(max_examples=300)
@given(st.sampled_from(sorted(STATEMENT_DONE)), outputs)
def test_any_done_statement_reads_without_raising(state, output):
    done = read_statement(statement(state, output), "s")
    assert isinstance(done.output, Output)
    assert done.failed == (
        state not in ("AVAILABLE", "COMPLETED") or output.get("Status") == "error"
    )
    if done.one_line:
        assert "\n" not in done.evalue


# ------------------------------------------------------------------ S3-held output (moto)


@pytest.fixture(scope="module")
def s3(recording_s3):
    return make_s3(recording_s3.url, BUCKET)


@pytest.fixture
def factory(recording_s3):
    return results.s3_client_factory(region="us-east-1", endpoint_url=recording_s3.url)


def put(s3, key: str, body: str | bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def test_uri_list_with_an_image_and_streams_in_s3(s3, factory):
    """AWS's kernel display_result: MimeType text/uri-list; Result a JSON object in S3."""
    data = {
        "MimeType": "text/uri-list",
        "Result": put(s3, "a/result.json", json.dumps({"image/png": PNG})),
        "StdOut": put(s3, "a/stdout.txt", "printed ✓\n"),
        "StdErr": put(s3, "a/stderr.txt", "warned\n"),
    }
    out = read_data(data, factory)
    assert (out.stdout, out.stderr, out.values, out.problems) == (
        "printed ✓\n",
        "warned\n",
        {"image/png": PNG},
        [],
    )


def test_uri_list_empty_object_means_streams_only(s3, factory):
    data = {"MimeType": "text/uri-list", "Result": put(s3, "b/result.json", "{}"),
            "StdOut": put(s3, "b/stdout.txt", "only this"), "StdErr": ""}  # fmt: skip
    out = read_data(data, factory)
    assert (out.stdout, out.values, out.problems) == ("only this", {}, [])


def test_uri_list_text_value_joins_stdout_and_json_stays_json(s3, factory):
    values = {"text/plain": "'big value'", "application/json": {"k": [1, 2]}}
    data = {"MimeType": "text/uri-list", "Result": put(s3, "c/result.json", json.dumps(values)),
            "StdOut": put(s3, "c/stdout.txt", "first\n")}  # fmt: skip
    out = read_data(data, factory)
    assert out.stdout == "first\n'big value'"
    assert json.loads(out.values["application/json"]) == {"k": [1, 2]}


def test_uri_list_problems_are_one_line_and_the_rest_still_shows(s3, factory):
    data = {"MimeType": "text/uri-list", "Result": put(s3, "d/result.json", "[not an object"),
            "StdOut": put(s3, "d/stdout.txt", "kept"),
            "StdErr": f"s3://{BUCKET}/d/missing.txt"}  # fmt: skip
    out = read_data(data, factory)
    assert out.stdout == "kept"
    assert len(out.problems) == 2
    assert "d/missing.txt does not exist" in out.problems[0]
    assert "is not a JSON object of MIME types" in out.problems[1]


def test_failed_streams_and_reason_from_s3(s3, factory):
    """AWS's kernel _construct_reply_content: FAILED's StdOut, Result, StdErr via get_results."""
    output = {"Data": {"StdOut": put(s3, "e/out.txt", "o"), "Result": put(s3, "e/why.txt", "OOM"),
                       "StdErr": put(s3, "e/err.txt", "e")}}  # fmt: skip
    done = read_statement(statement("FAILED", output), "s", factory)
    assert (done.ename, done.evalue) == ("StatementFailed", "OOM")
    assert (done.output.stdout, done.output.stderr) == ("o", "OOM\ne")


def test_our_older_shape_a_real_mime_with_its_result_in_s3(s3, factory):
    data = {"MimeType": "text/html", "Result": put(s3, "f/1.html", "<p>x</p>"), "TextPlain": "<P>"}
    out = read_data(data, factory)
    assert out.values == {"text/html": "<p>x</p>"} and out.fallback == "<P>"
