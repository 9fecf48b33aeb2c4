"""%glue_logs, %glue_history and the Spark UI link below the magics: ``glue_magics.logs``.

The API parts run a real boto3 client against the local endpoint (through a
``SessionManager``), or against the scripted server where the real service answers what
the local endpoint does not: GetSystemLogsForSession answers InvalidInputException for a
session without fine-grained access control (AWS's docs, "Debugging fine-grained access
control (FGAC) jobs and sessions"), and GetDashboardUrl's ``Url`` is missing or an error
for a session with no live Spark UI.  Downloads go to real loopback HTTP(S) servers.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import make_glue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_magics import arguments, display, logs
from glue_magics.service import GlueError
from tests.test_sessions import Recorder, manager_for

# --------------------------------------------------------------------------- parsers


@given(st.text(max_size=30))
def test_a_count_is_ascii_digits_up_to_the_maximum(text):
    try:
        value = arguments.count(text)
    except argparse.ArgumentTypeError as exc:
        message = str(exc)
        assert "\n" not in message and (repr(text) in message or "maximum" in message)
        assert not (text.isascii() and text.isdigit()) or int(text) > arguments.MAX_COUNT
    else:
        assert text.isascii() and text.isdigit() and value == int(text) <= arguments.MAX_COUNT


@given(st.integers(0, arguments.MAX_COUNT))
def test_every_count_in_range_is_read_back(number):
    assert arguments.count(str(number)) == number


@given(st.text(max_size=300), st.integers(10, 100))
def test_first_line_is_one_line_within_its_width(code, width):
    line = logs.first_line(code, width)
    assert "\n" not in line and "\r" not in line and len(line) <= width + 4
    if code.strip() and line:
        assert line.removesuffix(" ...").removesuffix("...").strip() in code


# --------------------------------------------------------------------------- downloads


class Served:
    """A loopback HTTP server answering every GET with ``body`` (or ``status`` and a
    ``location`` to redirect to)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.body, self.status, self.location, self.kind = b"", 200, "", "text/plain"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Type", outer.kind)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = (
            f"{scheme}://127.0.0.1:{self.server.server_address[1]}/logs?X-Amz-Signature=s3cr3t"
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served()
    yield server
    server.close()


def expected(content: bytes, tail: int) -> tuple[list[str], int]:
    parts = content.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    last = parts[-tail:] if tail else []
    return [p.decode("utf-8", "replace").rstrip("\r") for p in last], len(parts)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=3000) | st.text("ab\n\r é", max_size=3000).map(str.encode),
    tail=st.integers(0, 40),
    chunk=st.integers(2, 700),
    zipped=st.booleans(),
)
def test_download_keeps_the_last_lines_whatever_the_chunks(served, content, tail, chunk, zipped):
    served.status, served.location = 200, ""
    served.body = gzip.compress(content) if zipped else content  # S3 names its type
    served.kind = "application/gzip" if zipped else "binary/octet-stream"
    sink = _Sink()
    lines, total, size = logs.download(served.url, tail, sink, chunk=chunk)
    assert (lines, total) == expected(content, tail)
    assert size == len(content) and sink.data == content


class _Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


def test_only_https_or_this_machine_is_opened_and_the_token_is_never_told(served):
    for url in ("file:///etc/passwd", "http://192.0.2.1/logs?X-Amz-Signature=s3cr3t", "ftp://x/y"):
        with pytest.raises(GlueError, match="was not opened") as info:
            logs.download(url, 5)
        assert "s3cr3t" not in str(info.value) and info.value.code == "InsecureUrl"
    served.status, served.location, served.body = 302, "http://192.0.2.1/elsewhere", b""
    with pytest.raises(GlueError, match="HTTP 302") as info:  # a redirect off this machine
        logs.download(served.url, 5)
    assert "s3cr3t" not in str(info.value)
    served.status, served.location = 403, ""
    served.body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    with pytest.raises(GlueError) as info:
        logs.download(served.url, 5, what="the system logs of session s1")
    message = str(info.value)
    assert "the system logs of session s1" in message and "127.0.0.1" in message
    assert "HTTP 403 (AccessDenied: Request has expired)" in message and "s3cr3t" not in message


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory) -> Iterator[tuple[Served, str]]:
    """An https server on loopback whose certificate no CA signed: its path too."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Served(tls=context)
    server.body = b"over tls\n"
    yield server, str(cert)
    server.close()


def test_https_certificates_are_verified(self_signed, monkeypatch):
    server, cert = self_signed
    with pytest.raises(GlueError, match="CERTIFICATE_VERIFY_FAILED") as info:
        logs.download(server.url, 5)
    assert "s3cr3t" not in str(info.value)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # trusted, as a company CA would be
    assert logs.download(server.url, 5) == (["over tls"], 1, 9)


# --------------------------------------------------------------------------- on the endpoint


@pytest.fixture
def manager(endpoint) -> Iterator[Any]:
    made = manager_for(endpoint, Recorder())
    yield made
    made.close()


def test_fetch_logs_tails_and_saves_the_whole_log(manager, endpoint, tmp_path):
    session_id = manager.create(manager.resolve())
    for n in range(3):
        manager.run(f"x = {n}")
    found = logs.fetch_logs(manager, None, 2, None)
    assert found.session_id == session_id and found.saved is None
    assert len(found.lines) == 2 and found.total_lines >= 8
    assert "GlueWorker: statement 3 started" in found.lines[0]
    assert "GlueWorker: statement 3 ok in" in found.lines[1]
    target = tmp_path / "session.log"
    saved = logs.fetch_logs(manager, session_id, 0, str(target))
    assert saved.lines == [] and saved.saved == str(target)
    text = target.read_text()
    assert len(text.splitlines()) == saved.total_lines and len(text.encode()) == saved.size
    assert not os.path.exists(f"{target}.part")
    with pytest.raises(GlueError, match="cannot write the system logs"):
        logs.fetch_logs(manager, session_id, 5, str(tmp_path / "no" / "such" / "dir.log"))
    with pytest.raises(GlueError, match="cannot write the system logs .* Is a directory"):
        logs.fetch_logs(manager, session_id, 5, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["session.log"]  # no part left behind
    with pytest.raises(GlueError, match="was not found"):
        logs.fetch_logs(manager, "no-such-session", 5, None)


def test_history_lists_every_statement_in_order(manager):
    session_id = manager.create(manager.resolve())
    manager.run("import time\ntime.sleep(0.2)\n'slept'")
    manager.run("\n\n   1 / 0  \n")
    shown, rows = logs.history(manager, None)
    assert shown == session_id
    assert [(r["Id"], r["State"], r["Code"]) for r in rows] == [
        (1, "AVAILABLE", "import time ..."),
        (2, "AVAILABLE", "1 / 0"),
    ]
    assert rows[0]["Duration"].endswith(" ms") and not rows[0]["Duration"].startswith("0 ")
    manager.stop()
    with pytest.raises(GlueError, match="no session yet"):
        logs.history(manager, None)


def test_history_rows_say_how_long_each_ran_or_has_run():
    rows = logs.history_rows(
        [
            {"Id": 3, "State": "RUNNING", "StartedOn": 1_700_000_000_000, "Code": "run()"},
            {"Id": 1, "State": "AVAILABLE", "StartedOn": 10, "CompletedOn": 12.5, "Code": "a"},
            {"Id": 2, "State": "WAITING", "Code": "x" * 100},
            {"Id": 4, "State": "CANCELLED", "StartedOn": 1_700_000_000_000, "Code": ""},
        ],
        now_ms=1_700_000_030_000,
    )
    assert [r["Id"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["Duration"] == "2.5 s"  # StartedOn in seconds, as some send it
    assert rows[1]["Duration"] == "" and rows[1]["Code"] == "x" * 57 + "..."
    assert rows[2]["Duration"] == "30.0 s so far"
    assert rows[3]["Duration"] == ""  # done, with no CompletedOn: unknown


def test_spark_ui_only_where_the_service_gives_one(endpoint, scripted):
    glue = make_glue(endpoint.url)
    assert logs.spark_ui(glue, "no-such-session") is None  # EntityNotFound: no link
    scripted_glue = make_glue(scripted.url)
    scripted.reply("GetDashboardUrl", {})  # no Url
    assert logs.spark_ui(scripted_glue, "s1") is None
    scripted.reply("GetDashboardUrl", {"Url": "javascript:alert(1)"})
    assert logs.spark_ui(scripted_glue, "s1") is None
    scripted.reply("GetDashboardUrl", {"Url": "https://ui.example/?token=t1"})
    assert logs.spark_ui(scripted_glue, "s1") == "https://ui.example/?token=t1"
    reporter = Recorder()
    logs.announce_spark_ui(scripted_glue, "s1", reporter)
    # botocore's model types the answer SensitiveUrl ("sensitive": true): never printed
    [(kind, line)] = reporter.lines
    assert kind == "info" and "token" not in line and "ui.example" not in line
    assert line == f"Spark UI: {logs.SPARK_UI_SHOWN}; %glue_status in a notebook links it"
    ui = logs.SparkUI.of(manager_for(scripted), {"Id": "s1", "Status": "READY"})
    assert ui.url == "https://ui.example/?token=t1" and "token" not in str(ui.rows)
    assert logs.SparkUI.of(manager_for(scripted), {"Id": "s1", "Status": "STOPPED"}) is None
    scripted.error("GetDashboardUrl", "OperationNotSupportedException", "not in this region")
    assert logs.spark_ui(scripted_glue, "s1") is None


def test_no_system_logs_outside_fine_grained_access_control_is_said_so(scripted):
    scripted.error(
        "GetSystemLogsForSession",
        "InvalidInputException",
        "System logs are available only for FGAC-enabled sessions",
    )
    manager = manager_for(scripted)
    with pytest.raises(GlueError) as info:
        logs.fetch_logs(manager, "s1", 5, None)
    message = str(info.value)
    assert message.startswith("session s1 has no system logs in Glue (System logs are available")
    assert "fine-grained access control" in message and "\n" not in message


def test_a_link_in_a_table_opens_and_shows_no_token():
    bundle = display.key_values_bundle(
        [("Spark UI", "https://ui.example/p?token=t1"), ("Note", "<b>not a link</b>")]
    )
    html = bundle["text/html"]
    assert '<a href="https://ui.example/p?token=t1" target="_blank"' in html
    assert ">https://ui.example/p</a>" in html and "&lt;b&gt;not a link" in html
    assert "https://ui.example/p?token=t1" in bundle["text/plain"]
