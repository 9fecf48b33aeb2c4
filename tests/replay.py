"""A loopback Glue endpoint that answers from recorded replies of the real service.

Each file in ``tests/replies/`` is one scenario: a ``"source"`` naming where its replies come
from (and how strong that evidence is), and ``"replies"``, a list of answers per operation::

    {"source": "...", "evidence": "recorded", "replies": {
        "GetSession": [{"Session": {... "Status": "PROVISIONING"}}, {"Session": {... "READY"}}],
        "GetStatement": [{"Statement": {...}}]}}

The server speaks AWS JSON 1.1 as Glue does (``POST /``, ``X-Amz-Target: AWSGlue.<Op>``,
JSON bodies; botocore's Glue model), so a real boto3 client and our magics in a real kernel
talk to it through ``AWS_ENDPOINT_URL_GLUE``.  Each operation's answers are served in
order and the last one is repeated, so ``[PROVISIONING, READY]`` is a session coming up.

What the replay changes in a recorded answer, and only this:

- Ids: the ``Session.Id`` of CreateSession/GetSession answers and the ``Statement.Id`` of
  GetStatement answers become the Id asked for (the client makes its own session ids).
- Timestamps: a ``timestamp`` member of the operation's output shape (botocore's model, so
  ``Session.CreatedOn`` but not ``Statement.StartedOn``, a ``long``) written in a file as an
  ISO-8601 string is sent as epoch seconds, the way awsJson1.1 puts timestamps on the wire.

Operations a scenario has no answer for get the replay's own minimal answer (not a
recording): CreateSession echoes the request as a PROVISIONING session, StopSession answers
its Id, CancelStatement ``{}``; any other one is an ``UnknownOperationException``.  An
answer ``{"__error__": {"__type": ..., "message": ..., "status": 400}}`` is sent as an error.
"""

from __future__ import annotations

import copy
import datetime as dt
import http.server
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPLIES = Path(__file__).parent / "replies"
TARGET_PREFIX = "AWSGlue."
CONTENT_TYPE = "application/x-amz-json-1.1"


def scenario_paths() -> list[Path]:
    """Every scenario file, sorted by name."""
    return sorted(REPLIES.glob("*.json"))


def load(name: str | Path) -> dict[str, Any]:
    """A scenario by file name (``"statement_text_1plus1"``, ``.json`` optional) or path."""
    path = Path(name)
    if not path.is_absolute():
        path = REPLIES / (path.name if path.suffix == ".json" else f"{path.name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _epoch(value: Any) -> Any:
    """An ISO-8601 timestamp as epoch seconds; numbers (already epoch seconds) unchanged."""
    if not isinstance(value, str):
        return value
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def to_wire(value: Any, shape: Any) -> Any:
    """``value`` as it goes on the wire for botocore ``shape``: ISO timestamps to epoch seconds.

    Members the shape does not know are passed through untouched (the parse test reports them).
    """
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "timestamp":
        return _epoch(value)
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: to_wire(v, members.get(k)) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [to_wire(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: to_wire(v, shape.value) for k, v in value.items()}
    return value


def output_shape(operation: str) -> Any:
    from glue_magics import model

    return model.operation(operation).output_shape


def _echo_session(request: dict[str, Any]) -> dict[str, Any]:
    """The replay's own CreateSession answer: the request's Session members, PROVISIONING."""
    members = output_shape("GetSession").members["Session"].members
    session = {k: v for k, v in request.items() if k in members}
    session.update(Status="PROVISIONING", CreatedOn=time.time())
    return {"Session": session}


class Replay:
    """A loopback HTTP server answering Glue calls from scenario files; ``use`` loads them.

    ``requests`` keeps every call as ``(operation, body)``, for tests that check what the
    client sent.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, list[Any]] = {}
        self._served: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.scenario: dict[str, Any] = {}
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="glue-replay", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def use(self, *scenarios: str | Path | dict[str, Any]) -> dict[str, Any]:
        """Answer from these scenarios from now on (a later one's operations win); the
        counters and the request log start again.  Returns the merged scenario."""
        merged: dict[str, Any] = {"replies": {}, "s3_objects": {}}
        for scenario in scenarios:
            data = scenario if isinstance(scenario, dict) else load(scenario)
            merged["replies"].update(data.get("replies", {}))
            merged["s3_objects"].update(data.get("s3_objects", {}))
        with self._lock:
            self._replies = copy.deepcopy(merged["replies"])
            self._served = {}
            self.requests = []
            self.scenario = merged
        return merged

    def calls(self, operation: str) -> int:
        with self._lock:
            return sum(1 for op, _ in self.requests if op == operation)

    def answer(self, operation: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) for one call."""
        with self._lock:
            self.requests.append((operation, request))
            answers = self._replies.get(operation)
            if answers:
                index = min(self._served.get(operation, 0), len(answers) - 1)
                self._served[operation] = index + 1
                reply = copy.deepcopy(answers[index])
            else:
                reply = None
        if reply is None:
            reply = self._default(operation, request)
            if reply is None:
                return 400, {
                    "__type": "UnknownOperationException",
                    "message": f"the replay has no recorded reply for {operation}",
                }
        if "__error__" in reply:
            error = dict(reply["__error__"])
            return int(error.pop("status", 400)), error
        if operation in ("CreateSession", "GetSession") and "Id" in request:
            reply.get("Session", {})["Id"] = request["Id"]
        if operation == "GetStatement" and "Id" in request:
            reply.get("Statement", {})["Id"] = request["Id"]
        return 200, to_wire(reply, output_shape(operation))

    @staticmethod
    def _default(operation: str, request: dict[str, Any]) -> dict[str, Any] | None:
        if operation == "CreateSession":
            return _echo_session(request)
        if operation == "StopSession":
            return {"Id": request.get("Id")}
        if operation == "CancelStatement":
            return {}
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler(replay: Replay) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            target = self.headers.get("X-Amz-Target", "")
            operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
            try:
                request = json.loads(raw or b"{}")
            except ValueError:
                request = {}
            status, body = replay.answer(operation, request if isinstance(request, dict) else {})
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(data)

    return Handler
