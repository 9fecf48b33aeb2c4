"""Loopback servers for tests: Glue answering scripted replies, and moto's S3 recorded.

``ScriptedGlue`` answers Glue calls in the awsJson1.1 wire format with the replies a test
scripts, so the client meets what the real service sends (statement shapes and states,
session BUSY, error codes) whatever the local endpoint says.  ``RecordingS3`` is moto's
real S3 server with a record of each request's signing region, so a test can tell which
client made a request.  Fixtures for both live in ``conftest.py``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def signing_region(authorization: str) -> str | None:
    """The region of a SigV4 ``Authorization`` header's credential scope."""
    match = _SCOPE.search(authorization or "")
    return match.group(1) if match else None


class ScriptedGlue:
    """A loopback HTTP server answering Glue calls with scripted awsJson1.1 replies.

    ``replies[op]`` is ``(status, body, delay)``, or a list of them: one per call, the
    last repeating; status 0 drops the connection.  Without a reply for the operation,
    the sessions in ``sessions`` (by Id) answer CreateSession, GetSession and
    StopSession.  Each call is recorded in ``requests`` as ``(op, request body, signing
    region)``.
    """

    def __init__(self) -> None:
        self.replies: dict[str, Any] = {}
        self.calls: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self.requests: list[tuple[str, dict, str | None]] = []
        self.sessions: dict[str, dict] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                op = self.headers.get("X-Amz-Target", ".").split(".")[-1]
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                outer.calls[op] += 1
                outer.user_agents.append(self.headers.get("User-Agent", ""))
                region = signing_region(self.headers.get("Authorization", ""))
                outer.requests.append((op, body, region))
                reply = outer.replies.get(op) or outer._session_reply(op, body)
                if isinstance(reply, list):  # a sequence: one reply per call, last repeats
                    reply = reply.pop(0) if len(reply) > 1 else reply[0]
                status, answer, delay = reply
                if status == 0:  # drop: close the connection without an answer
                    self.close_connection = True
                    return
                if delay:
                    time.sleep(delay)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _session_reply(self, op: str, body: dict) -> tuple[int, dict, float]:
        session = self.sessions.get(body.get("Id") or "")
        if session is None:
            return (200, {}, 0.0)
        if op == "CreateSession":
            return (200, {"Session": {**session, "Status": "PROVISIONING"}}, 0.0)
        if op == "GetSession":
            return (200, {"Session": session}, 0.0)
        if op == "StopSession":
            session["Status"] = "STOPPED"
            return (200, {"Id": session["Id"]}, 0.0)
        return (200, {}, 0.0)

    def reply(self, op: str, body: dict) -> None:
        """Answer ``op`` with ``body`` (HTTP 200) from now on."""
        self.replies[op] = (200, body, 0.0)

    def error(self, op: str, code: str, message: str, status: int = 400) -> None:
        """Answer ``op`` with a service error from now on."""
        self.replies[op] = (status, {"__type": code, "message": message}, 0.0)

    def session(self, session_id: str, status: str = "READY", **fields: Any) -> None:
        """A session: CreateSession answers PROVISIONING, GetSession ``status``, StopSession
        makes it STOPPED."""
        base = {
            "Id": session_id,
            "Command": {"Name": "glueetl"},
            "GlueVersion": "5.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "MaxCapacity": 2.0,
            **fields,
            "Status": status,
        }
        self.sessions[session_id] = base

    def statement(self, state: str, output: dict | None = None, statement_id: int = 1) -> None:
        """RunStatement answers ``statement_id``; GetStatement that statement, done."""
        statement: dict[str, Any] = {"Id": statement_id, "State": state, "Progress": 1.0}
        if output is not None:
            statement["Output"] = output
        self.reply("RunStatement", {"Id": statement_id})
        self.reply("GetStatement", {"Statement": statement})

    def regions(self, op: str) -> list[str | None]:
        """The signing region of every ``op`` call so far."""
        return [region for name, _, region in self.requests if name == op]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RecordingS3:
    """moto's S3 server on loopback; ``requests`` holds (method, path, signing region)."""

    def __init__(self) -> None:
        from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self.requests: list[tuple[str, str, str | None]] = []

        def recording(environ: dict, start_response: Any) -> Any:
            region = signing_region(environ.get("HTTP_AUTHORIZATION", ""))
            self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), region))
            return app(environ, start_response)

        self.server = make_server(
            "127.0.0.1", 0, recording, threaded=True, request_handler=MotoRequestHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def gets(self, bucket: str) -> list[tuple[str, str | None]]:
        """(path, signing region) of every GET of an object in ``bucket``."""
        prefix = f"/{bucket}/"
        return [(p, r) for m, p, r in self.requests if m == "GET" and p.startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self._thread.join()
