"""What the user sees: words, error lines, tables and outputs (with ``progress``, the only
layer that knows frontends); the progress of waits, widget or text, is in ``progress``.

This is also the one place where what to do next (``steps.NextStep``, carried by errors
and messages from below) becomes words naming a magic: :func:`advice`, :func:`explain`.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Iterable
from typing import Any

from glue_magics import results
from glue_magics.steps import Action, NextStep, with_steps

MODES = ("auto", "widget", "text", "none")


# ---------------------------------------------------------------------------------------
# next steps, as the magics that take them

#: Each action in words that name its magic (the neutral words where no magic does it).
_ADVICE: dict[Action, str] = {
    Action.CREATE: "start a new one with %glue_session",
    Action.RENAME: Action.RENAME.neutral,
    Action.RECONNECT: "give the session id: %glue_reconnect ID (see %glue_sessions)",
    Action.WAIT: "wait for it with %glue_reconnect ID",
    Action.STOP: "give an id: %glue_stop ID",
    Action.STATUS: "check it with %glue_status",
    Action.SPARK_UI: "%glue_status in a notebook links it",
    Action.LIST: "list sessions with %glue_sessions",
    Action.RERUN: "check the session with %glue_status, then run the cell again",
    Action.QUOTA: "stop unused sessions (%glue_sessions, then %glue_stop ID) or ask AWS for a "
    "quota increase",
    Action.OPTIONS: "check the options with %glue_config, then run %glue_session again",
    Action.AUTO_RESTART: "let it restart on its own: %config GlueMagics.auto_restart = True",
    Action.REPLACE: "use %glue_session --force to stop it and create a new one",
    Action.RECONFIGURE: "use %%configure -f to stop it and create a new one with these",
    Action.BUDGET: "raise the budget with %config GlueMagics.budget_usd = <USD>",
}
#: The same for a step about one session (``{id}``), for the actions that take one.
_ABOUT_ONE: dict[Action, str] = {
    Action.RECONNECT: "attach to it with %glue_reconnect {id}",
    Action.WAIT: "wait for it with %glue_reconnect {id}",
    Action.STOP: "stop it with %glue_stop {id}",
}

#: What to do after a wait for READY failed with no step of its own, by final status.
_AFTER_FAILURE: dict[str, tuple[NextStep, ...]] = {
    "FAILED": (NextStep(Action.OPTIONS),),
    "INTERRUPTED": (),  # the caller knows whether the session was stopped and says so
}
_AFTER_ANY_FAILURE = (NextStep(Action.CREATE),)


def advice(step: NextStep) -> str:
    """A next step in words that name the magic to run: ``wait for it with %glue_reconnect abc``."""
    if step.session_id:
        return _ABOUT_ONE[step.action].format(id=_as_word(step.session_id))
    return _ADVICE[step.action]


def _as_word(session_id: str) -> str:
    """An id as a magic reads it back (shell quoting), on one line whatever it holds."""
    import shlex

    return shlex.quote(session_id) if session_id.isprintable() else repr(session_id)


def said(message: str, steps: Iterable[NextStep] = ()) -> str:
    """``message`` followed by its next steps (alternatives) as magics to run."""
    return with_steps(message, steps, advice)


def explain(error: BaseException) -> str:
    """The line a user sees for an error: what happened, then what to do, naming magics.

    A ``GlueError`` carries its next steps as data; any other error is its ``str()``.
    """
    message = getattr(error, "message", None)
    if not isinstance(message, str):
        return str(error)
    return said(message, getattr(error, "next_steps", ()))


# ---------------------------------------------------------------------------------------
# frontends


def _shell() -> Any:
    """The running IPython shell, or None (plain Python); IPython is not imported if absent."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


def in_kernel() -> bool:
    """True inside an ipykernel, whose shell (ZMQInteractiveShell) talks to a frontend."""
    shell = _shell()
    return shell is not None and any(
        cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__
    )


def _widgets_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ipywidgets") is not None


def choose_mode(mode: str = "auto") -> str:
    """Resolve ``auto`` to ``widget`` (in a kernel, with ipywidgets) or ``text``.

    A forced ``widget`` without ipywidgets installed falls back to ``text`` rather than
    failing: progress is a convenience, never a reason for a magic to fail.
    """
    if mode not in MODES:
        raise ValueError(f"progress mode {mode!r} is not one of {', '.join(MODES)}; pick one")
    if mode == "auto":
        return "widget" if in_kernel() and _widgets_available() else "text"
    if mode == "widget" and not _widgets_available():
        return "text"
    return mode


def _publish(bundle: dict[str, Any], display_id: bool = False) -> Any:
    """Display a raw MIME bundle; outside IPython print its text/plain instead.

    IPython's own ``display`` would print the dict itself when no shell is running.
    """
    shell = _shell()
    if shell is None:
        text = bundle.get("text/plain", "")
        if text:
            print(text)
        return None
    from IPython.display import display

    return display(bundle, raw=True, display_id=display_id)


# ---------------------------------------------------------------------------------------
# one-line messages


def _one_line(message: Any) -> str:
    """Collapse a message to one printable line (service messages can hold newlines)."""
    parts = str(message).splitlines()
    return " ".join(part.strip() for part in parts if part.strip())


def _printable(text: Any) -> str:
    """Replace control characters (newline, CR, ESC...) so a line stays one line."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text))


def _color_stderr() -> bool:
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    return "NO_COLOR" not in os.environ and bool(isatty and isatty())


def error_line(message: str) -> None:
    """One line to stderr, red on a terminal; a user or service error, never a traceback."""
    line = _one_line(message)
    if _color_stderr():
        line = f"\x1b[31m{line}\x1b[0m"
    print(line, file=sys.stderr, flush=True)


def info_line(message: str) -> None:
    """One line to stdout (kept as plain text so logs and nbconvert output carry it)."""
    print(_one_line(message), file=sys.stdout, flush=True)


# ---------------------------------------------------------------------------------------
# tables


def _cell(value: Any) -> str:
    """A cell's text: JSON for dicts and lists, empty for None, one line always."""
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return " ".join(_printable(text).split()) if not text.isprintable() else text


def _text_grid(header: list[str] | None, rows: list[list[str]]) -> list[str]:
    grid = ([header] if header else []) + rows
    if not grid:
        return []
    widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]

    def fmt(row: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    lines = []
    if header:
        lines.append(fmt(header))
        lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt(r) for r in rows)
    return lines


_TH = '<th style="text-align:left">'
_TD = '<td style="text-align:left">'
_LINK = re.compile(r"https?://[^\s<>\"']+")


def _html_cell(text: str) -> str:
    """A cell's HTML: a web address is a link (opened in a new tab) whose text leaves out
    the query, where a one-time token may ride; any other text is escaped."""
    if not _LINK.fullmatch(text):
        return html.escape(text)
    shown = text.split("?", 1)[0]
    return f'<a href="{html.escape(text)}" target="_blank" rel="noopener">{html.escape(shown)}</a>'


def _html_table(
    header: list[str] | None,
    rows: list[list[str]],
    title: str | None,
    key_column: bool = False,
    empty: str = "(no rows)",
) -> str:
    e = html.escape
    out = ["<table>"]
    if title:
        out.append(f"<caption>{e(title)}</caption>")
    if header:
        out.append("<thead><tr>" + "".join(f"{_TH}{e(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = [
            (f"{_TH}{e(c)}</th>" if key_column and i == 0 else f"{_TD}{_html_cell(c)}</td>")
            for i, c in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        span = len(header) if header else 1
        out.append(f'<tr><td colspan="{span}"><i>{e(empty)}</i></td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def table_bundle(
    rows: list[dict], columns: list[str] | None = None, title: str | None = None
) -> dict[str, str]:
    """The text/html + text/plain bundle of ``table`` (separate so it can be tested pure)."""
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    return grid_bundle(columns, [[row.get(c) for c in columns] for row in rows], title)


def grid_bundle(columns: list[Any], rows: list[Any], title: str | None = None) -> dict[str, str]:
    """A table bundle from a header and rows of cells by position.

    Columns may repeat (``SELECT a, a``), which rows keyed by name cannot hold; a row
    that is short is padded, one that is long cut, one that is not a list is one cell.
    """
    header = [_cell(c) for c in columns]
    width = len(header)
    body = []
    for row in rows if width else []:
        cells = list(row) if isinstance(row, list | tuple) else [row]
        cells = (cells + [None] * width)[:width]
        body.append([_cell(v) for v in cells])
    lines = [_printable(title)] if title else []
    lines += _text_grid(header or None, body)
    if not body:
        lines.append("(no rows)")
    return {
        "text/html": _html_table(header or None, body, title),
        "text/plain": "\n".join(lines),
    }


def table(rows: list[dict], columns: list[str] | None = None, title: str | None = None) -> None:
    """Show rows as an HTML table in notebooks and an aligned text table elsewhere.

    ``columns`` defaults to the keys of the rows in order of first appearance.
    """
    _publish(table_bundle(rows, columns, title))


def key_values_bundle(
    pairs: list[tuple[str, Any]] | list[tuple[str, Any, str]], title: str | None = None
) -> dict[str, str]:
    """The bundle of ``key_values``: a header-less table, keys in the first column."""
    body = [[_cell(p) for p in pair] for pair in pairs]
    n = max((len(r) for r in body), default=2)
    body = [r + [""] * (n - len(r)) for r in body]
    lines = [_printable(title)] if title else []
    lines += _text_grid(None, body)
    if not pairs:
        lines.append("(nothing)")
    return {
        "text/html": _html_table(None, body, title, key_column=True, empty="(nothing)"),
        "text/plain": "\n".join(lines),
    }


def key_values(
    pairs: list[tuple[str, Any]] | list[tuple[str, Any, str]], title: str | None = None
) -> None:
    """Show ``name value [source]`` rows, for ``%glue_status`` and ``%glue_config``."""
    _publish(key_values_bundle(pairs, title))


def secret_link(label: str, url: str | None) -> None:
    """A link that carries a token (the Spark UI's): in a notebook, inside an ipywidgets
    HTML widget, whose value lives in the frontend and is not written into the saved
    notebook (JupyterLab and Notebook save widget state only when asked); nowhere else,
    since printed text is kept in outputs, logs and scrollback."""
    if not url or not (in_kernel() and _widgets_available()):
        return
    import ipywidgets
    from IPython.display import display

    link = f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">'
    widget = ipywidgets.HTML(value=f"{link}{html.escape(label)}</a>")
    # the widget's own bundle has its repr, value and all, as text/plain: saved with the cell
    view = widget._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
    display({"application/vnd.jupyter.widget-view+json": view, "text/plain": label}, raw=True)


def system_log(log: Any) -> None:
    """``%glue_logs``: a line saying what is shown, the log's last lines as they are, and
    where the whole log was saved (``log`` is a ``logs.SystemLog``)."""
    size = f"{log.size / 1024:.1f} kB"
    lines, total = len(log.lines), log.total_lines
    if not total:
        info_line(f"The system log of session {log.session_id} is empty.")
    elif lines:
        shown = f"last {lines} of {total}" if lines < total else f"all {total}"
        info_line(f"System log of session {log.session_id}, {shown} lines ({size}):")
        _write(sys.stdout, "\n".join(log.lines))
    elif not log.saved:
        info_line(f"System log of session {log.session_id}: {total} lines ({size}), none shown")
    if log.saved:
        info_line(f"Saved all {log.total_lines} lines ({size}) to {log.saved}")


# ---------------------------------------------------------------------------------------
# statement output


def _write(stream: Any, text: str) -> None:
    if text:
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()


#: Apache Livy's ``%table`` result (repl/src/main/resources/fake_shell.py, magic_table):
#: ``{"headers": [{"name", "type"}], "data": [[...], ...]}``.
LIVY_TABLE = "application/vnd.livy.table.v1+json"
_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})


def _livy_table(result: str) -> dict[str, str] | None:
    """A Livy table as an HTML + text table; None when it is not one."""
    try:
        table = json.loads(result)
    except (TypeError, ValueError):
        return None
    if not isinstance(table, dict):
        return None
    headers, data = table.get("headers"), table.get("data", [])
    if not isinstance(headers, list) or not isinstance(data, list):
        return None
    names = [h.get("name", "") if isinstance(h, dict) else h for h in headers]
    bundle = grid_bundle(names, data)
    rows = len(data)
    bundle["text/plain"] += f"\n({rows} row{'' if rows == 1 else 's'})" if data else ""
    return bundle


def output_bundle(mime: str, result: str, text: str = "") -> dict[str, Any]:
    """A displayable bundle for one statement value of type ``mime``.

    Images stay base64 as sent; JSON is parsed (frontends want an object); a Livy table
    is a table; other text types are shown as they are, with themselves as plain text.
    ``text`` is the plain fallback when the service sent one.  Never raises.
    """
    mime = results.split_mime(mime)[0]
    result = str(result)
    size = f"{len(result) / 1024:.1f} kB"
    described = text or f"[{mime or 'result'}, {size}]"
    if mime == LIVY_TABLE:
        return _livy_table(result) or {"text/plain": text or result}
    if mime == "application/json" or mime.endswith("+json"):
        try:
            parsed = json.loads(result)
        except (TypeError, ValueError):
            return {"text/plain": text or result}
        return {mime: parsed, "text/plain": text or json.dumps(parsed, indent=2)}
    if mime in ("text/html", "image/svg+xml"):
        return {mime: result, "text/plain": described}
    if mime in _IMAGES:
        return {mime: result.strip(), "text/plain": described}
    if not mime or mime == "text/plain":
        return {"text/plain": text or result}
    if results.is_text_mime(mime):  # markdown, LaTeX, CSV ...: the text itself reads well
        return {mime: result, "text/plain": text or result}
    return {mime: result, "text/plain": described}  # binary, base64 as Jupyter takes it


def values_bundle(values: dict[str, str], text: str = "") -> dict[str, Any]:
    """One bundle of several values (``text/uri-list`` results may hold more than one).

    The first value's plain text wins; a later one never replaces an earlier one.
    """
    bundle: dict[str, Any] = {}
    for mime, content in values.items():
        bundle = {**output_bundle(mime, content, text), **bundle}
    return bundle


def show_output(output: results.Output | dict) -> None:
    """Show a statement's output the way a notebook user expects.

    ``output`` is what :func:`glue_magics.results.read_data` made of ``Output.Data`` (a
    raw ``Data`` dict is read here, without S3).  Order as AWS's kernel
    (``BaseKernel.display_result``): stdout, stderr, then the value; a problem (a result
    that could not be fetched) is one error line.
    """
    if not isinstance(output, results.Output):
        output = results.read_data(output)
    _write(sys.stdout, output.stdout)
    _write(sys.stderr, output.stderr)
    for problem in output.problems:
        error_line(problem)
    if output.values:
        _publish(values_bundle(output.values, output.fallback))
