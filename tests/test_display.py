"""The display layer, run in real frontends: a plain interpreter, IPython, an ipykernel."""

from __future__ import annotations

import html.parser
import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics import display, progress
from glue_magics.steps import Action, NextStep

PERCENT = re.compile(r"\]\s*(\d+)%")


# ---------------------------------------------------------------------------------------
# pure formatting


@given(
    status=st.text(),
    percent=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers()),
    elapsed=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers()),
    label=st.text(),
    width=st.integers(min_value=10, max_value=300),
)
def test_format_line_is_bounded_one_line_and_clamped(status, percent, elapsed, label, width):
    line = progress.format_line(status, percent, elapsed, label, width)
    assert len(line) <= width
    assert line.isprintable()  # no \r, \n, ESC: a rewrite stays on one row
    if width >= 30:
        shown = int(PERCENT.search(line).group(1))
        assert 0 <= shown <= 100
        assert shown == int(progress.clamp_percent(percent))
        assert line.startswith("[" + "#" * (shown * progress.BAR_WIDTH // 100))


@given(st.one_of(st.floats(allow_nan=True), st.integers(), st.text(), st.none()))
def test_clamp_percent_stays_in_range(value):
    clamped = progress.clamp_percent(value)
    assert 0.0 <= clamped <= 100.0


def test_format_line_example():
    line = progress.format_line("PROVISIONING", 45, 6.34, "glue-magics-abc123")
    assert line == "[#########...........]  45%  PROVISIONING  6.3 s  glue-magics-abc123"
    assert progress.format_line("X", 250, -3, "")[:27] == "[####################] 100%"
    assert "0.0 s" in progress.format_line("X", float("nan"), float("nan"))


def test_choose_mode():
    # pytest is no kernel: auto means text; explicit modes pass through
    assert display.choose_mode() == "text"
    assert [display.choose_mode(m) for m in ("widget", "text", "none")] == [
        "widget",
        "text",
        "none",
    ]
    with pytest.raises(ValueError, match="'bar' is not one of auto, widget, text, none"):
        display.choose_mode("bar")


# ---------------------------------------------------------------------------------------
# next steps: the only place they name magics


@given(
    st.sampled_from(list(Action)),
    st.one_of(st.none(), st.from_regex(r"[a-z0-9-]{1,30}", fullmatch=True)),
)
def test_every_next_step_is_worded_with_a_magic_or_plainly(action, session_id):
    step = NextStep(action, session_id)
    text = display.advice(step)
    assert text and "\n" not in text
    assert "%" in text or text == str(step)  # a magic to run, or the neutral words themselves
    if step.session_id:
        assert f" {session_id}" in text  # the magic is given the session's id


@given(st.sampled_from([a for a in Action if a.takes_id]), st.text(min_size=1))
def test_any_session_id_in_advice_stays_one_line_and_reads_back(action, session_id):
    """An id from a user's line (``%glue_reconnect 'a b'``) is quoted as a shell reads it."""
    import shlex

    text = display.advice(NextStep(action, session_id))
    assert "\n" not in text and "\r" not in text
    if session_id.isprintable():
        assert shlex.quote(session_id) in text


def test_errors_and_messages_end_with_the_magic_to_run():
    from glue_magics.service import GlueError

    error = GlueError(
        "session s1 is TIMEOUT", next_steps=(NextStep(Action.CREATE), NextStep(Action.AUTO_RESTART))
    )
    assert display.explain(error) == (
        "session s1 is TIMEOUT; start a new one with %glue_session or let it restart on its "
        "own: %config GlueMagics.auto_restart = True"
    )
    assert display.explain(ValueError("bad")) == "bad"  # anything else: its own words
    assert display.said("Session s1 is already READY", [NextStep(Action.REPLACE)]) == (
        "Session s1 is already READY; use %glue_session --force to stop it and create a new one"
    )
    assert display.said("keeps its own.", [NextStep(Action.RECONFIGURE)]) == (
        "keeps its own. Use %%configure -f to stop it and create a new one with these."
    )
    assert display.said("gone", [NextStep(Action.STOP)]) == "gone; give an id: %glue_stop ID"


def test_one_renderer_protocol_the_widget_overrides_only_drawing():
    """tqdm's notebook bar is the model: the widget is the text bar drawn otherwise."""
    assert issubclass(progress.WidgetBar, progress.TextBar)
    assert issubclass(progress.HiddenBar, progress.TextBar)
    protocol = {"live", "final", "remove", "end"}
    assert protocol <= set(vars(progress.TextBar))
    drawing = {"__init__", "__doc__", "__module__", "_set", "_draw", "visible"} | protocol
    assert set(vars(progress.WidgetBar)) <= drawing
    assert set(vars(progress.HiddenBar)) <= drawing
    for kind in (progress.SessionProgress, progress.StatementProgress):
        assert not any("widget" in name for name in vars(kind))


# ---------------------------------------------------------------------------------------
# text mode in a plain interpreter (no IPython): \r rewrites of one row


def _run(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        timeout=60,
        check=True,
        **kwargs,
    )


def test_session_text_progress_rewrites_one_line_in_a_terminal():
    proc = _run(
        """
        from glue_magics.progress import SessionProgress
        p = SessionProgress("text", "glue-magics-abc123", min_interval=0)
        p.update("PROVISIONING", 5, 0.1)
        p.update("PROVISIONING", 45.7, 6.3)
        p.update("PROVISIONING", 80, 11.0)
        p.update("STARTING", 95, 13.9)
        p.succeed(14.2)
        p.close()
        print("next")
        """
    )
    out = proc.stdout.decode()
    assert out.endswith("\nnext\n")
    frames = out.split("\nnext")[0].split("\r")
    assert frames[0] == ""
    frames = frames[1:]
    assert [int(PERCENT.search(f).group(1)) for f in frames] == [5, 45, 80, 95, 100]
    assert "45%  PROVISIONING  6.3 s  glue-magics-abc123" in frames[1]
    assert "STARTING  13.9 s" in frames[3]
    assert frames[-1].rstrip() == "[####################] 100%  READY in 14.2 s  glue-magics-abc123"
    # each rewrite is padded to cover the previous one
    assert all(len(b) >= len(a) for a, b in zip(frames, frames[1:], strict=False))
    assert proc.stderr == b""


def test_updates_are_throttled_but_status_changes_draw_at_once():
    proc = _run(
        """
        from glue_magics.progress import SessionProgress
        p = SessionProgress("text", "s1")
        for i in range(2000):
            p.update("PROVISIONING", i / 20, i / 10)
        p.update("STARTING", 100, 200.0)
        p.succeed(201.0)
        """
    )
    frames = proc.stdout.decode().split("\r")[1:]
    assert len(frames) < 200  # 2000 updates in a few ms: a handful of redraws
    assert "PROVISIONING" in frames[0]
    assert "STARTING  200.0 s" in frames[-2]
    assert "READY in 201.0 s" in frames[-1]


def test_session_fail_in_text_and_none_modes():
    proc = _run(
        """
        from glue_magics.progress import SessionProgress
        from glue_magics.steps import Action, NextStep
        p = SessionProgress("text", "s1", min_interval=0)
        p.update("PROVISIONING", 30, 2.5)
        p.fail("FAILED", "Insufficient capacity for G.8X.\\nTry later.")
        q = SessionProgress("none", "s2")
        q.update("PROVISIONING", 30, 2.5)
        q.fail("TIMEOUT", "Session did not become READY", NextStep(Action.WAIT, "s2"))
        r = SessionProgress("none", "s3")
        r.fail("STOPPED", "Session was stopped.")
        """
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert out.endswith("\n") and out.rstrip().endswith("30%  FAILED after 2.5 s  s1")
    assert "s2" not in out  # none: nothing on stdout
    assert err.splitlines() == [
        "Glue session s1 FAILED: Insufficient capacity for G.8X. Try later; "
        "check the options with %glue_config, then run %glue_session again",
        # the failure carries its own next step: no generic advice appended
        "Glue session s2 TIMEOUT: Session did not become READY; "
        "wait for it with %glue_reconnect s2",
        "Glue session s3 STOPPED: Session was stopped; start a new one with %glue_session",
    ]
    assert "Traceback" not in err


def test_close_without_outcome_ends_the_line():
    proc = _run(
        """
        from glue_magics.progress import SessionProgress
        with SessionProgress("text", "s1", min_interval=0) as p:
            p.update("PROVISIONING", 30, 2.5)
        print("after")
        """
    )
    assert proc.stdout.decode().endswith("PROVISIONING (stopped waiting)  s1\nafter\n")


def test_error_line_is_red_on_a_terminal_only():
    primary, secondary = pty.openpty()
    code = "from glue_magics.display import error_line; error_line('bad value\\nfix it')"
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    subprocess.run([sys.executable, "-c", code], stderr=secondary, timeout=60, check=True, env=env)
    os.close(secondary)
    tty_err = os.read(primary, 4096).decode()
    os.close(primary)
    assert tty_err.strip() == "\x1b[31mbad value fix it\x1b[0m"

    piped = _run(code)
    assert piped.stderr.decode() == "bad value fix it\n"


# ---------------------------------------------------------------------------------------
# statement progress (plain streams, in process)


def test_statement_progress_hidden_before_delay_and_removed_after(capsys):
    s = progress.StatementProgress("text", 7, delay=1.0, min_interval=0)
    s.update("RUNNING", 0.2, 0.4)
    s.update("RUNNING", 0.5, 0.9)
    assert not s.shown and capsys.readouterr().out == ""
    s.done("AVAILABLE", 0.95)
    assert capsys.readouterr().out == ""  # short statement: no bar at all

    s = progress.StatementProgress("text", 11, delay=1.0, min_interval=0)
    s.update("RUNNING", 0.5, 0.9)
    s.update("AVAILABLE", 1.0, 1.01)  # over at the delay: no bar drawn just to be removed
    s.done("AVAILABLE", 1.01)
    assert not s.shown and capsys.readouterr().out == ""

    s = progress.StatementProgress("text", 8, delay=1.0, min_interval=0)
    s.update("RUNNING", 0.5, 1.5)
    s.update("RUNNING", 0.75, 2.0)
    s.done("AVAILABLE", 2.1)
    out = capsys.readouterr().out
    frames = out.split("\r")
    assert "50%  RUNNING  1.5 s  statement 8" in frames[1]
    assert "75%  RUNNING  2.0 s  statement 8" in frames[2]
    assert frames[-2].strip() == "" and frames[-1] == ""  # row wiped, cursor at its start

    s = progress.StatementProgress("text", 10, delay=0, min_interval=0)
    s.update("RUNNING", 0.3, 0.5)
    s.done("COMPLETED", 0.6)  # success too (AWS's kernel, COMPLETED_STATEMENT_STATUS)
    assert capsys.readouterr().out.split("\r")[-2].strip() == ""

    s = progress.StatementProgress("text", 9, delay=0, min_interval=0)
    s.update("RUNNING", 0.3, 0.5)
    s.done("CANCELLED", 0.6)
    assert capsys.readouterr().out.endswith("30%  CANCELLED after 0.6 s  statement 9\n")


# ---------------------------------------------------------------------------------------
# tables


class _Cells(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.caption = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th", "caption"):
            self._in = tag
            if tag != "caption":
                self.rows[-1].append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "caption":
            self.caption += data
        elif self._in:
            self.rows[-1][-1] += data


cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60)
@given(
    rows=st.lists(st.dictionaries(st.sampled_from(["Id", "Sta<tus", "&x"]), cell_text), max_size=5),
    title=cell_text,
)
def test_table_html_round_trips_any_text_and_text_is_aligned(rows, title):
    bundle = display.table_bundle(rows, title=title or None)
    parser = _Cells()
    parser.feed(bundle["text/html"])
    columns = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    want = [[display._cell(r.get(c)) for c in columns] for r in rows]
    got = parser.rows[1:] if columns else parser.rows
    if columns:
        assert parser.rows[0] == columns
        assert got == want  # every cell escaped: what the browser reads is the data
    assert parser.caption == (title or "")
    lines = bundle["text/plain"].split("\n")
    assert len(lines) == (1 if title else 0) + (len(rows) + 2 if columns else 1)
    if columns:  # every row starts with its first cell, padded to the column width
        body = lines[-len(rows) :]
        width = len(lines[-len(rows) - 1].split("  ")[0])  # the dashes under column 1
        for line, row in zip(body, want, strict=True):
            assert (line + " " * width)[:width] == row[0].ljust(width)


def test_table_escapes_and_aligns():
    rows = [
        {"Id": "<script>alert(1)</script>", "Status": "READY"},
        {"Id": "s2", "Status": "FAILED", "Args": {"--job-language": "python"}},
    ]
    bundle = display.table_bundle(rows, title="Sessions & more")
    assert "<script>" not in bundle["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bundle["text/html"]
    assert "<caption>Sessions &amp; more</caption>" in bundle["text/html"]
    assert bundle["text/plain"].splitlines() == [
        "Sessions & more",
        "Id                         Status  Args",
        "-------------------------  ------  ----------------------------",
        "<script>alert(1)</script>  READY",
        's2                         FAILED  {"--job-language": "python"}',
    ]
    assert display.table_bundle([], ["Id"])["text/plain"].splitlines() == ["Id", "--", "(no rows)"]


def test_key_values_with_source_column():
    bundle = display.key_values_bundle(
        [("worker_type", "G.1X", "default"), ("idle_timeout", 30, "%%configure"), ("tags", None)],
        title="Effective options",
    )
    assert bundle["text/plain"].splitlines() == [
        "Effective options",
        "worker_type   G.1X  default",
        "idle_timeout  30    %%configure",
        "tags",
    ]
    parser = _Cells()
    parser.feed(bundle["text/html"])
    assert parser.rows[1] == ["idle_timeout", "30", "%%configure"]
    assert '<th style="text-align:left">worker_type</th>' in bundle["text/html"]


# ---------------------------------------------------------------------------------------
# in real IPython: display publisher


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def _shown(shell, data):
    from IPython.utils.capture import capture_output

    with capture_output() as cap:
        display.show_output(data)
    return cap.stdout, cap.stderr, [o.data for o in cap.outputs]


PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
    "60e6kgAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize(
    ("mime", "result", "expected"),
    [
        ("text/html", "<b>hi</b>", {"text/html": "<b>hi</b>", "text/plain": "TP"}),
        ("text/markdown", "# T", {"text/markdown": "# T", "text/plain": "TP"}),
        ("application/json", '{"a": [1]}', {"application/json": {"a": [1]}, "text/plain": "TP"}),
        ("image/svg+xml", "<svg/>", {"image/svg+xml": "<svg/>", "text/plain": "TP"}),
        ("image/png", PNG, {"image/png": PNG, "text/plain": "TP"}),
        ("application/x-weird", "cmF3", {"application/x-weird": "cmF3", "text/plain": "TP"}),
        ("application/json", "{not json", {"text/plain": "TP"}),
    ],
)
def test_show_output_rich_mime_beside_text_plain(shell, mime, result, expected):
    """Our older shape: TextPlain beside a rich Result is the value's plain text."""
    out, err, outputs = _shown(shell, {"TextPlain": "TP", "MimeType": mime, "Result": result})
    assert outputs == [expected]
    assert out == "" and err == ""  # TextPlain is the rich value's fallback, not printed twice


def test_show_output_streams_and_plain(shell):
    out, err, outputs = _shown(
        shell,
        {"StdOut": "line1\nline2\n", "StdErr": "warn\n", "TextPlain": "line1\nline2\n3"},
    )
    # TextPlain is stdout plus the last expression's value: all of it is shown, once
    assert (out, err, outputs) == ("line1\nline2\n3\n", "warn\n", [])
    out, err, outputs = _shown(shell, {"TextPlain": "42"})
    assert (out, err, outputs) == ("42\n", "", [])
    out, err, outputs = _shown(
        shell, {"StdOut": "x\n", "MimeType": "image/png", "Result": PNG, "TextPlain": "x"}
    )
    assert out == "x\n"
    assert outputs == [{"image/png": PNG, "text/plain": "[image/png, 0.1 kB]"}]


def test_table_publishes_html_and_text(shell):
    from IPython.utils.capture import capture_output

    with capture_output() as cap:
        display.table([{"Id": "a&b"}], title="T")
        display.key_values([("k", "<v>")])
    assert [sorted(o.data) for o in cap.outputs] == [["text/html", "text/plain"]] * 2
    assert "a&amp;b" in cap.outputs[0].data["text/html"]
    assert cap.outputs[1].data["text/plain"] == "k  <v>"


# ---------------------------------------------------------------------------------------
# in a real ipykernel: widget comm messages and display updates, as a frontend sees them


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _execute(kc, code: str) -> list[dict]:
    msg_id = kc.execute(textwrap.dedent(code))
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def _comm_ids(messages, model):
    return {
        m["content"]["comm_id"]
        for m in messages
        if m["msg_type"] == "comm_open" and m["content"]["data"]["state"]["_model_name"] == model
    }


def _updates(messages, comm_ids, key):
    return [
        m["content"]["data"]["state"][key]
        for m in messages
        if m["msg_type"] == "comm_msg"
        and m["content"]["comm_id"] in comm_ids
        and key in m["content"]["data"].get("state", {})
    ]


def test_widget_progress_in_a_kernel(kernel):
    messages = _execute(
        kernel,
        """
        from glue_magics import display, progress
        mode = display.choose_mode()
        print(mode)
        p = progress.SessionProgress(mode, "glue-magics-abc123", min_interval=0)
        for pct, t in [(5, 0.1), (5, 0.2), (30, 2.0), (60, 6.0), (90, 11.0)]:
            p.update("PROVISIONING", pct, t)
        p.succeed(14.2)
        s = progress.StatementProgress(mode, 3, delay=1.0, min_interval=0)
        s.update("RUNNING", 0.1, 0.5)
        s.update("RUNNING", 0.6, 1.5)
        s.done("AVAILABLE", 2.0)
        """,
    )
    stdout = "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )
    assert stdout.splitlines() == ["widget", "Glue session glue-magics-abc123 READY in 14.2 s"]

    bars = _comm_ids(messages, "IntProgressModel")
    assert len(bars) == 2  # one session bar, one statement bar (shown after the delay)
    values = _updates(messages, bars, "value")
    assert values[:4] == [5, 30, 60, 90] and 100 in values  # live, increasing
    assert _updates(messages, bars, "bar_style")[-1] == "success"
    labels = _updates(messages, _comm_ids(messages, "HTMLModel"), "value")
    assert any("PROVISIONING 60%  6.0 s  Glue session glue-magics-abc123" in v for v in labels)
    assert "READY in 14.2 s" in labels[1 + labels.index(next(v for v in labels if "90%" in v))]

    shown = [m["content"]["data"] for m in messages if m["msg_type"] == "display_data"]
    assert len(shown) == 2
    assert all("application/vnd.jupyter.widget-view+json" in d for d in shown)
    assert shown[0]["text/plain"] == "Glue session glue-magics-abc123"  # no HBox(...) repr
    # the statement's bar is closed (removed from the page) once AVAILABLE
    closed = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_close"}
    statement_box = shown[1]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert statement_box in closed


def test_text_progress_in_a_kernel_updates_one_display(kernel):
    messages = _execute(
        kernel,
        """
        from glue_magics import display, progress
        p = progress.SessionProgress("text", "glue-magics-xyz", min_interval=0)
        p.update("PROVISIONING", 10, 1.0)
        p.update("PROVISIONING", 50, 5.0)
        p.fail("FAILED", "Role arn:aws:iam::1:role/x cannot be assumed")
        display.show_output({"MimeType": "image/png", "Result": "iVBORw==", "TextPlain": "fig"})
        """,
    )
    first = [m for m in messages if m["msg_type"] == "display_data"]
    updates = [m for m in messages if m["msg_type"] == "update_display_data"]
    display_id = first[0]["content"]["transient"]["display_id"]
    assert {u["content"]["transient"]["display_id"] for u in updates} == {display_id}
    lines = [m["content"]["data"]["text/plain"] for m in [first[0], *updates]]
    assert "10%  PROVISIONING  1.0 s  glue-magics-xyz" in lines[0]
    assert "50%  PROVISIONING  5.0 s" in lines[1]
    assert lines[-1].endswith("50%  FAILED after 5.0 s  glue-magics-xyz")
    stderr = "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    )
    assert stderr == (
        "Glue session glue-magics-xyz FAILED: Role arn:aws:iam::1:role/x cannot be assumed; "
        "check the options with %glue_config, then run %glue_session again\n"
    )
    assert first[1]["content"]["data"] == {"image/png": "iVBORw==", "text/plain": "fig"}


def test_background_progress_outside_a_kernel_draws_nothing_and_says_one_line():
    """A thread's wait under terminal IPython's prompt: no ``\\r`` frames, one line at the
    end; none when a cell drew its own bar (joined) or the wait was called off."""
    proc = _run(
        """
        from glue_magics.progress import BackgroundProgress
        p = BackgroundProgress("text", "s1", kernel=False, min_interval=0)
        p.update("PROVISIONING", 30, 2.5)
        p.succeed(14.2, "5 DPU, ~$2.20/h")
        q = BackgroundProgress("text", "s2", kernel=False, min_interval=0)
        q.update("PROVISIONING", 30, 2.5)
        q.fail("FAILED", "worker died")
        r = BackgroundProgress("text", "s3", kernel=False, min_interval=0)
        r.joined()
        r.succeed(3.0)
        s = BackgroundProgress("text", "s4", kernel=False, min_interval=0)
        s.update("PROVISIONING", 30, 2.5)
        s.cancel("stopped while starting")
        """
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert out == "Glue session s1 READY in 14.2 s  5 DPU, ~$2.20/h\n"
    assert err == (
        "Glue session s2 FAILED: worker died; "
        "check the options with %glue_config, then run %glue_session again\n"
    )
