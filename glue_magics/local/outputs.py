"""A worker's ``result`` event as the Output of GetStatement, in every shape Glue sends.

The worker reports a statement's parts as they are (streams, the last value's repr, a
magic's rich result, the error); here they become the service's shapes: Livy's text and
rich ``Data`` for success and ``Status: error`` for an exception (Livy's fake_shell.py
``execute_request``), FAILED's ``{StdOut, Result, StdErr}`` with ``statement_states=
"completed"``, and the S3-held ``text/uri-list`` shape above the inline limit.  Shaping
may upload, so it runs outside the backend's lock.
"""

from __future__ import annotations

import json
from typing import Any

from glue_magics.local.result_store import ResultStore, UploadFailed

#: MimeType of an S3-held result (AWS's kernel: GlueSessionsConstants.MimeTypes.S3URI).
S3_URI_MIME = "text/uri-list"
TEXT_OBJECT = "text/plain; charset=utf-8"
#: The keys of an S3-held result.json that AWS's Glue kernel reads (BaseKernel.display_result
#: takes ``image/png``, then ``text/plain``; any other key reaches the notebook as a
#: ``text/uri-list`` dict).  So the service holds only these; other rich results (from
#: ``%plotly``, ``%json``, ``%table``) stay inline.
S3_HELD_KEYS = frozenset({"image/png", "text/plain"})


def _text(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def statement_data(event: dict[str, Any]) -> dict[str, str]:
    """Output.Data of a statement that succeeded, inline, as the service sends it.

    Text: ``{TextPlain}`` alone, stdout (with the last value's repr, as the REPL prints
    it) then stderr, ``rstrip()``ed (Livy's fake_shell.py ``execute_request``); a value is
    always text, whatever rich reprs it has.  Rich, from a statement magic (``%matplot``,
    ``%plotly``, ``%json``, ``%table``) only: ``{MimeType, Result, StdOut, StdErr}``, a
    binary MimeType with ``;base64`` (AWS's Glue kernel, BaseKernel.display_result, decodes
    Result when MimeType says ``base64``); the worker says which results it encoded.
    """
    stdout, stderr = _text(event, "stdout"), _text(event, "stderr")
    mime = _text(event, "mime")
    if mime:
        return {
            "MimeType": f"{mime};base64" if event.get("base64") else mime,
            "Result": _text(event, "result"),
            "StdOut": stdout,
            "StdErr": stderr,
        }
    shown = event.get("repr")
    value = f"{shown}\n" if isinstance(shown, str) else ""
    return {"TextPlain": (stdout + value + stderr).rstrip()}


def held_result(event: dict[str, Any]) -> dict[str, str]:
    """The JSON object an S3-held Result points to: ``{mime: content}`` with the plain
    MIME type of a magic's result (binary content as base64 text), ``{"text/plain": repr}``
    for a last value, ``{}`` when the output is only on the streams (AWS's Glue kernel,
    BaseKernel.display_result, reads ``image/png`` and ``text/plain`` keys; ``{}`` is
    "streams only")."""
    mime = _text(event, "mime")
    if mime:
        return {mime: _text(event, "result")}
    shown = event.get("repr")
    return {"text/plain": shown} if isinstance(shown, str) and shown else {}


def failure_reason(event: dict[str, Any]) -> str:
    """The text of a FAILED statement's Result: the error line, then its traceback."""
    fields = error_fields(event)
    return f"{fields['ErrorName']}: {fields['ErrorValue']}\n" + "".join(fields["Traceback"])


def error_fields(event: dict[str, Any]) -> dict[str, Any]:
    """Livy's ``ename``/``evalue``/``traceback`` as Glue names them."""
    trace = event.get("traceback")
    return {
        "ErrorName": _text(event, "error_name") or "Error",
        "ErrorValue": _text(event, "error_value"),
        "Traceback": [str(line) for line in trace] if isinstance(trace, list) else [],
    }


def error_output(event: dict[str, Any]) -> dict[str, Any]:
    """Output of a Python exception in the code (Livy: reply status "error" with ename,
    evalue, traceback); what was printed before it, if anything, as ``Data.TextPlain``."""
    output: dict[str, Any] = {
        "ExecutionCount": event.get("count", 0),
        "Status": "error",
        **error_fields(event),
    }
    printed = (_text(event, "stdout") + _text(event, "stderr")).rstrip()
    if printed:
        output["Data"] = {"TextPlain": printed}
    return output


def ended_output(name: str, value: str) -> dict[str, Any]:
    """Output of a statement that could not run to its end (State ERROR or CANCELLED)."""
    return {
        "Status": "error",
        "ErrorName": name,
        "ErrorValue": value,
        "Traceback": [f"{name}: {value}\n"],
    }


def shape_output(
    event: dict[str, Any], session_id: str, statement_states: str, store: ResultStore | None
) -> dict[str, Any]:
    """The statement's Output for a worker result: Livy's shapes for success and errors;
    with ``statement_states="completed"`` an error has FAILED's shape; over the inline limit
    with a results bucket, the S3-held shape (MimeType text/uri-list)."""
    if event.get("status") != "ok":
        if statement_states == "livy":
            return error_output(event)
        return _failed_output(event, session_id, store)
    data = statement_data(event)
    result = held_result(event)
    if store is not None and store.too_big(data) and set(result) <= S3_HELD_KEYS:
        held = json.dumps(result, ensure_ascii=False)
        objects = {
            "Result": ("result.json", held, "application/json"),
            "StdOut": ("stdout.txt", _text(event, "stdout"), TEXT_OBJECT),
            "StdErr": ("stderr.txt", _text(event, "stderr"), TEXT_OBJECT),
        }
        try:
            data = {"MimeType": S3_URI_MIME, **store.put(session_id, event["id"], objects)}
        except UploadFailed as exc:
            event["stderr"] = _text(event, "stderr") + str(exc)
            data = statement_data(event)
    return {"Data": data, "ExecutionCount": event.get("count", 0), "Status": "ok"}


def _failed_output(
    event: dict[str, Any], session_id: str, store: ResultStore | None
) -> dict[str, Any]:
    """FAILED's Output: AWS's Glue kernel (BaseKernel._construct_reply_content, FAILED)
    reads StdOut, Result (the reason) and StdErr, each through KernelGateway.get_results,
    so with a results bucket all three are held there."""
    data = {
        "StdOut": _text(event, "stdout"),
        "Result": failure_reason(event),
        "StdErr": _text(event, "stderr"),
    }
    if store is not None:
        names = {"StdOut": "stdout.txt", "Result": "reason.txt", "StdErr": "stderr.txt"}
        objects = {f: (names[f], text, TEXT_OBJECT) for f, text in data.items()}
        try:
            data = store.put(session_id, event["id"], objects)
        except UploadFailed as exc:
            data["StdErr"] += str(exc)
    return {"Status": "error", **error_fields(event), "Data": data}
