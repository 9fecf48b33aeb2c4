"""What the user sees of a wait: a session's or a statement's progress, and the reporter.

One progress abstraction, like tqdm's notebook bar: a progress (:class:`SessionProgress`,
:class:`StatementProgress`) decides what to show and when, and draws through one renderer
protocol, :class:`TextBar` (a text line rewritten in place), which :class:`WidgetBar` (an
ipywidgets bar, where the frontend renders widgets) overrides only in how it draws.  The
callers (the session manager, fed by lifecycle callbacks) call ``update`` often; redraws
are throttled so that stays cheap.  ipywidgets is imported at first use only.
:class:`Reporter` is the session manager's ``reporting.Reporter``, drawn here; words and
lines come from ``display``, below.
"""

from __future__ import annotations

import html
import math
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

from glue_magics.display import (
    _AFTER_ANY_FAILURE,
    _AFTER_FAILURE,
    _one_line,
    _printable,
    _publish,
    choose_mode,
    error_line,
    in_kernel,
    info_line,
    said,
)
from glue_magics.states import LIVE_STATES, STATEMENT_DONE, STATEMENT_SUCCESS
from glue_magics.steps import NextStep

LINE_WIDTH = 100  # widest progress line we ever draw
BAR_WIDTH = 20
MIN_INTERVAL = 0.2  # seconds between throttled redraws (at most ~5 per second)


# ---------------------------------------------------------------------------------------
# the progress line


def clamp_percent(progress: Any) -> float:
    """Progress as a float in 0-100, whatever the service or a caller sent (NaN -> 0)."""
    try:
        value = float(progress)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(value):
        return 0.0
    return max(0.0, min(100.0, value))


def format_elapsed(seconds: Any) -> str:
    """``6.3 s``; negative, NaN or absurd values are clamped so the line keeps its width."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = 0.0
    if math.isnan(value) or value < 0:
        value = 0.0
    return f"{min(value, 999_999.9):.1f} s"


def _bar(percent: float) -> str:
    filled = int(percent * BAR_WIDTH / 100)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def _fit(line: str, width: int) -> str:
    width = max(int(width), 10)
    return line if len(line) <= width else line[: width - 3] + "..."


def format_line(
    status: str, progress: float, elapsed: float, label: str = "", width: int = LINE_WIDTH
) -> str:
    """The text progress line, e.g. ``[#########...........]  45%  PROVISIONING  6.3 s  id``.

    Never raises, clamps progress to 0-100 and never exceeds ``width`` characters, so a
    ``\\r`` rewrite on a terminal stays on one row.
    """
    percent = clamp_percent(progress)
    status_text = _printable(status).strip()[:24] or "?"
    parts = [f"{_bar(percent)} {int(percent):3d}%", status_text, format_elapsed(elapsed)]
    if label:
        parts.append(_printable(label))
    return _fit("  ".join(parts), width)


def _final_line(percent: float, outcome: str, label: str, width: int) -> str:
    parts = [f"{_bar(percent)} {int(percent):3d}%", _printable(outcome)]
    if label:
        parts.append(_printable(label))
    return _fit("  ".join(parts), width)


def _terminal_width() -> int:
    return max(20, min(LINE_WIDTH, shutil.get_terminal_size((LINE_WIDTH + 1, 24)).columns - 1))


class TextBar:
    """The renderer protocol, drawn as a text line: a display handle in a kernel (one
    display rewritten), ``\\r`` rewrites of one row on a terminal.

    A progress calls ``live`` (a state on the way), ``final`` (how it ended: ``kind`` is
    "success", "danger" or "warning"; a ``note`` and the time waited, ``after``, are for
    renderers with room for them), ``remove`` (take it off) and ``end`` (release the row).
    :class:`WidgetBar` overrides only these.  ``label`` names what progresses on the line,
    ``long_label`` where there is room, ``fallback`` stands for a widget where none renders.
    """

    visible = True  # whether it puts anything on screen

    def __init__(
        self, label: str, long_label: str = "", fallback: str = "", *, in_place: bool = False
    ) -> None:
        self.label = label
        self.in_place = in_place  # drawn from a thread: nothing printed, all said in its place
        self.long_label = long_label or label
        self.kernel = in_kernel()
        self.width = LINE_WIDTH if self.kernel else _terminal_width()
        self._handle: Any = None
        self._shown = 0  # length of what the terminal row holds now
        self._open = False  # a terminal row without its final newline

    def live(self, status: str, percent: float, elapsed: float) -> None:
        self._draw(format_line(status, percent, elapsed, self.label, self.width))

    def final(
        self, percent: float, outcome: str, kind: str, *, note: str = "", after: float | None = None
    ) -> None:
        """Draw how it ended and end the row; in place (a display, not a terminal row) the
        ``note`` follows on a line of its own, whole."""
        line = _final_line(percent, outcome, self.label, self.width)
        self._draw(f"{line}\n{_one_line(note)}" if note and self.in_place else line)
        self.end()

    def remove(self) -> None:
        """Remove the line: blank the display, or wipe the terminal row."""
        if self.kernel:
            if self._handle is not None:
                self._handle.update({"text/plain": ""}, raw=True)
            return
        if self._open:
            sys.stdout.write("\r" + " " * self._shown + "\r")
            sys.stdout.flush()
            self._open = False
            self._shown = 0

    def end(self) -> None:
        if self._open:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._open = False
            self._shown = 0

    def _draw(self, line: str) -> None:
        if self.kernel:
            if self._handle is None:
                self._handle = _publish({"text/plain": line}, display_id=True)
            else:
                self._handle.update({"text/plain": line}, raw=True)
            return
        pad = " " * max(0, self._shown - len(line))
        sys.stdout.write("\r" + line + pad)
        sys.stdout.flush()
        self._shown = max(self._shown, len(line))  # what the row holds, padding included
        self._open = True


class WidgetBar(TextBar):
    """The same protocol drawn as an HBox of an IntProgress bar and an HTML label.

    Displayed once; setting trait values sends comm messages, so the bar moves while the
    cell still runs.  The bundle's text/plain is ``fallback`` (else the long label), so
    frontends without widgets show a fact instead of ``HBox(children=...)``.  A success
    is also printed as plain text, which logs and nbconvert output keep.
    """

    def __init__(
        self, label: str, long_label: str = "", fallback: str = "", *, in_place: bool = False
    ) -> None:
        import ipywidgets as widgets

        super().__init__(label, long_label, in_place=in_place)
        # The bar keeps its width and the label wraps below it in a narrow notebook, rather
        # than the label's unbreakable text squeezing the bar to nothing (seen in JupyterLab).
        self.bar = widgets.IntProgress(
            value=0, min=0, max=100, bar_style="info", layout=widgets.Layout(flex="0 0 auto")
        )
        self.text = widgets.HTML(
            value="", layout=widgets.Layout(min_width="0", max_width="100%", overflow="hidden")
        )
        self.box = widgets.HBox([self.bar, self.text], layout=widgets.Layout(flex_flow="row wrap"))
        try:
            bundle = self.box._repr_mimebundle_()
        except AttributeError:  # pragma: no cover - ipywidgets without mimebundle repr
            bundle = None
        self._bundle = bundle
        if bundle:
            bundle["text/plain"] = fallback or self.long_label
            # in place: a display id, so how it ended can become its plain text (below)
            self._handle = _publish(bundle, display_id=in_place)
        else:  # pragma: no cover
            from IPython.display import display

            display(self.box)

    def live(self, status: str, percent: float, elapsed: float) -> None:
        kind = "success" if status in LIVE_STATES else "info"  # BUSY is live, never a failure
        text = f"{_printable(status)} {int(percent)}%  {format_elapsed(elapsed)}"
        self._set(int(percent), f"{text}  {self.long_label}", kind)

    def final(
        self, percent: float, outcome: str, kind: str, *, note: str = "", after: float | None = None
    ) -> None:
        parts = [f"{outcome}: {_one_line(note)}" if note else outcome]
        if after is not None:
            parts.append(format_elapsed(after))
        self._set(int(percent), "  ".join([*parts, self.long_label]), kind)
        if kind == "success" and not self.in_place:
            info_line(f"{self.long_label} {outcome}")
        elif self.in_place and self._handle is not None and self._bundle:
            # printed from a thread, the line would land in whatever cell runs then: it
            # becomes this display's plain text instead, which logs and nbconvert keep
            text = "  ".join([self.long_label, *parts])
            self._handle.update({**self._bundle, "text/plain": text}, raw=True)

    def remove(self) -> None:
        self.box.close()
        self.bar.close()
        self.text.close()

    def _set(self, value: int, text: str, kind: str) -> None:
        """Set only what changed: each set trait is one comm message."""
        if self.bar.value != value:
            self.bar.value = value
        if self.bar.bar_style != kind:
            self.bar.bar_style = kind
        body = html.escape(text)
        color = _COLORS.get(kind)
        if color:
            body = f'<span style="color:{color}">{body}</span>'
        # Wraps (keeping the double spaces between parts) where the output area is narrower
        # than the line, down to inside the session id: an ellipsis would cut off the time
        # and cost (JupyterLab at 800 px with its file browser open).  Lines closer than the
        # widget's line height; the padding centres one line on the bar as that height did.
        wrap = (
            "white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.4;"
            "padding:calc((var(--jp-widgets-inline-height, 28px) - 1.4em) / 2) 0"
        )
        body = f'<div style="{wrap}">{body}</div>'
        if self.text.value != body:
            self.text.value = body


class HiddenBar(TextBar):
    """The protocol drawing nothing (progress ``none``): the messages still go out."""

    visible = False

    def _draw(self, line: str) -> None:
        pass


_COLORS = {
    "success": "var(--jp-success-color1, #388e3c)",
    "danger": "var(--jp-error-color1, #d32f2f)",
}
_RENDERERS: dict[str, type[TextBar]] = {"widget": WidgetBar, "text": TextBar, "none": HiddenBar}


class _Throttle:
    """Redraw when the status changes or ``interval`` seconds passed: keeps update cheap."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = -math.inf
        self._status: str | None = None

    def due(self, status: str) -> bool:
        now = time.monotonic()
        if status != self._status or now - self._last >= self.interval:
            self._last = now
            self._status = status
            return True
        return False


class _Progress:
    """What both progresses share: a concrete mode's renderer and throttled redraws."""

    def __init__(self, mode: str, min_interval: float) -> None:
        if mode not in _RENDERERS:
            raise ValueError(f"progress mode {mode!r} is not concrete; resolve it with choose_mode")
        self.mode = mode
        self._renderer = _RENDERERS[mode]
        self._throttle = _Throttle(min_interval)
        self._percent = 0.0


# ---------------------------------------------------------------------------------------
# session progress


class SessionProgress(_Progress):
    """Progress of a session from CreateSession to READY (or failure).

    ``mode`` is concrete (see ``choose_mode``).  ``update`` may be called every 0.1 s; the
    elapsed time on screen keeps moving between polls, redraws are throttled to
    ``min_interval`` (status changes draw at once).
    """

    def __init__(
        self,
        mode: str,
        session_id: str,
        title: str = "Glue session",
        *,
        min_interval: float = MIN_INTERVAL,
        in_place: bool = False,
    ) -> None:
        super().__init__(mode, min_interval)
        self.session_id = str(session_id)
        self.title = title
        self._status = ""
        self._elapsed = 0.0
        self._finished = False
        label = f"{title} {self.session_id}"
        self._bar = self._renderer(self.session_id, label, in_place=in_place)

    def __enter__(self) -> SessionProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, status: str, progress: float, elapsed: float) -> None:
        """Record the latest state; redraw if due.  ``progress`` is 0-100."""
        if self._finished:
            return
        self._status, self._elapsed = status, elapsed
        self._percent = clamp_percent(progress)
        if self._throttle.due(status):
            self._bar.live(status, self._percent, elapsed)

    def succeed(self, elapsed: float, message: str = "") -> None:
        """Full green bar and ``READY in 14.2 s``; widgets also print it as plain text.

        A session found BUSY (running a statement) is ready too: it says so.
        """
        if self._finished:
            return
        self._finished = True
        outcome = f"READY in {format_elapsed(elapsed)}"
        if self._status == "BUSY":
            outcome += " (BUSY: running a statement)"
        if message:
            outcome += f"  {_one_line(message)}"
        self._bar.final(100, outcome, "success")

    def fail(self, status: str, message: str, *steps: NextStep) -> None:
        """Red bar, the message and what to do next (``steps``), as one error line."""
        if self._finished:
            return
        self._finished = True
        status = _printable(status).strip() or "FAILED"
        outcome = f"{status} after {format_elapsed(self._elapsed)}"
        self._bar.final(self._percent, outcome, "danger", note=said(message, steps))
        error_line(self.failure_message(status, message, *steps))

    def failure_message(self, status: str, message: str, *steps: NextStep) -> str:
        """``Glue session <id> FAILED: <ErrorMessage>; <next step>``.

        Without ``steps``, the next step is the usual one after that status.
        """
        line = f"{self.title} {self.session_id} {status}"
        text = _one_line(message).rstrip(" .")
        if text:
            line += f": {text}"
        return said(line, steps or _AFTER_FAILURE.get(status, _AFTER_ANY_FAILURE))

    def close(self) -> None:
        """End the display; if neither succeed nor fail was called, say we stopped waiting."""
        if not self._finished:
            self._finished = True
            outcome = f"{_printable(self._status) or 'waiting'} (stopped waiting)"
            self._bar.final(self._percent, outcome, "warning", after=self._elapsed)
        self._bar.end()


class BackgroundProgress(SessionProgress):
    """A wait for READY going on in a thread while the user runs other cells
    (``%glue_session --background``): ``reporting.BackgroundBar``.

    Whatever a thread prints lands in the cell running at that moment, so in a kernel it
    prints nothing: the widget moves by comm messages and the text line by updates of its
    own display, both in the cell that started it, and how it ended (a failure's message
    too) is said there.  Outside a kernel (terminal IPython) the prompt is up meanwhile, and
    a ``\\r`` rewrite would scribble over it: nothing is drawn, and one line says how it
    ended (IPython's ``patch_stdout`` prints it above the prompt).  Created, and first drawn,
    on the caller's thread, so a display is made in the cell that asked.
    """

    def __init__(
        self, mode: str, session_id: str, *, kernel: bool, min_interval: float = MIN_INTERVAL
    ) -> None:
        self.kernel = kernel
        self._line = not kernel  # the one line at the end, where nothing is drawn
        super().__init__(
            mode if kernel else "none", session_id, min_interval=min_interval, in_place=True
        )

    def joined(self) -> None:
        """A cell waits for it now, drawing its own bar: a line from here would be one
        too many (on a terminal, it would land on that bar's row)."""
        self._line = False

    def succeed(self, elapsed: float, message: str = "") -> None:
        if self._finished:
            return
        super().succeed(elapsed, message)
        if self._line:
            ready = f"READY in {format_elapsed(elapsed)}"
            info_line(f"{self.title} {self.session_id} {ready}  {_one_line(message)}".rstrip())

    def fail(self, status: str, message: str, *steps: NextStep) -> None:
        if self._finished:
            return
        self._finished = True
        status = _printable(status).strip() or "FAILED"
        line = self.failure_message(status, message, *steps)
        if not self.kernel:
            if self._line:
                error_line(line)
            return
        outcome = f"{status} after {format_elapsed(self._elapsed)}"
        self._bar.final(self._percent, outcome, "danger", note=said(message, steps))

    def cancel(self, message: str) -> None:
        """The wait was called off (the session is being stopped, or no longer current):
        said in its place, never printed (the magic that called it off says its own)."""
        if self._finished:
            return
        self._finished = True
        outcome = f"{_printable(self._status) or 'PROVISIONING'}: {_one_line(message)}"
        self._bar.final(self._percent, outcome, "warning", after=self._elapsed)


# ---------------------------------------------------------------------------------------
# statement progress


class StatementProgress(_Progress):
    """Progress of one statement; shows nothing for the first ``delay`` seconds.

    Short statements (the common case) thus print no bar at all.  On success the bar is
    removed; on any other final state it stays, marked, so the user sees what happened.
    """

    def __init__(
        self,
        mode: str,
        statement_id: int,
        delay: float = 1.0,
        *,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        super().__init__(mode, min_interval)
        self.statement_id = statement_id
        self.delay = delay
        self._label = f"statement {statement_id}"
        self._bar: TextBar | None = None  # made once the delay has passed
        self._done = False

    @property
    def shown(self) -> bool:
        """Whether a bar has been put on screen."""
        return self._bar is not None and self._bar.visible

    def update(self, state: str, progress: float, elapsed: float) -> None:
        """Record the state; ``progress`` is 0-1 (as the Glue Statement reports it)."""
        if self._done:
            return
        try:
            if float(elapsed) < self.delay:
                return
        except (TypeError, ValueError):
            return
        self._percent = clamp_percent(_to_percent(progress))
        if self._bar is None and state in STATEMENT_DONE:
            return  # over before its bar was drawn: nothing to draw, done() follows
        if not self._throttle.due(state):
            return
        if self._bar is None:
            self._bar = self._renderer(self._label, fallback=f"Glue {self._label}")
        self._bar.live(state, self._percent, elapsed)

    def done(self, state: str, elapsed: float) -> None:
        """Remove the bar after AVAILABLE or COMPLETED; mark it with the state otherwise."""
        if self._done:
            return
        self._done = True
        if self._bar is None:
            return
        if state in STATEMENT_SUCCESS:
            self._bar.remove()
        else:
            outcome = f"{_printable(state)} after {format_elapsed(elapsed)}"
            self._bar.final(self._percent, outcome, "danger")


class Reporter:
    """The session manager's progress and messages (``reporting.Reporter``), drawn here.

    ``mode`` gives the progress setting ("auto", "widget", "text" or "none"); it is read
    at each wait, so ``%config GlueMagics.progress`` applies to the next one.
    """

    def __init__(self, mode: Callable[[], str] = lambda: "auto") -> None:
        self._mode = mode

    def info(self, message: str, *steps: NextStep) -> None:
        info_line(said(message, steps))

    def error(self, message: str, *steps: NextStep) -> None:
        error_line(said(message, steps))

    def session(self, session_id: str) -> SessionProgress:
        return SessionProgress(choose_mode(self._mode()), session_id)

    def statement(self, statement_id: int) -> StatementProgress:
        return StatementProgress(choose_mode(self._mode()), statement_id)

    def background(self, session_id: str) -> BackgroundProgress:
        return BackgroundProgress(choose_mode(self._mode()), session_id, kernel=in_kernel())


def _to_percent(fraction: Any) -> float:
    try:
        return float(fraction) * 100.0
    except (TypeError, ValueError):
        return 0.0
