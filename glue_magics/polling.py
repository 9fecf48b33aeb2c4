"""Polling: when the next poll is sent, and the wait loop that sends them.

Both waits of :mod:`glue_magics.lifecycle` (a session coming up or stopping, a statement
running) use one poll scheduler (:class:`PollScheduler`) with a plan each.  It is
prompt (poll densely when the end is near) and frugal (poll sparsely when it is far,
and never beyond a call budget).  Where the service reports ``Progress`` the scheduler
fits a rate to it and predicts when the wait ends; without it, it backs off.  It plans
when a poll should *reach* the service, and sends it half a round trip earlier: the
round trip is measured on the calls as they happen (:class:`RoundTrip`, one per client).
One call is in flight at a time, so polls never come closer than a round trip.
"""

from __future__ import annotations

import math
import statistics
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from glue_magics.service import GlueError

T = TypeVar("T")


class RoundTrip:
    """The round trip of one client's calls, measured as they happen: the median of the
    last few, so one slow call (botocore retrying inside it, a busy moment) does not sway
    it.  0 until a call has been timed."""

    def __init__(self, keep: int = 7) -> None:
        self._samples: deque[float] = deque(maxlen=keep)
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        """Record one call that took ``seconds`` from sending to its answer."""
        if math.isfinite(seconds) and seconds >= 0.0:
            self._samples.append(seconds)
            self.seconds = statistics.median(self._samples)


_ROUND_TRIPS: weakref.WeakKeyDictionary[Any, RoundTrip] = weakref.WeakKeyDictionary()


def round_trip(client: Any) -> RoundTrip:
    """The round trip of ``client``'s calls, kept as long as the client lives."""
    try:
        return _ROUND_TRIPS.setdefault(client, RoundTrip())
    except TypeError:  # a client that cannot be weakly referenced: measured per wait
        return RoundTrip()


@dataclass(frozen=True)
class PollPlan:
    """How one kind of wait polls.  All times in seconds.

    Without progress the delay is ``first``, then the larger of ``growth * elapsed`` and
    ``first + cap * (elapsed / ramp) ** 2``, capped at ``cap`` (so from ``ramp`` seconds
    on, one poll per ``cap``).  With ``steps``, polls land on round times since the
    start instead (:meth:`landing`).  With a progress-based ETA it is the time to
    ``eta - window`` (at most ``sparse_cap``) and ``dense`` inside the window.  Calls
    never exceed ``burst + rate * elapsed``.
    """

    first: float
    growth: float
    cap: float
    dense: float
    window: float
    sparse_cap: float
    burst: float = math.inf
    rate: float = math.inf
    full: float = 1.0  # the progress value that means "done"
    ramp: float = math.inf
    steps: tuple[float, ...] = ()  # round spacings, finest first, each dividing the next

    def backoff(self, elapsed: float) -> float:
        """The delay between polls without progress to go by, ``elapsed`` s into the wait."""
        ramped = self.first + self.cap * (elapsed / self.ramp) ** 2
        return min(self.cap, max(self.growth * elapsed, ramped))

    def landing(self, start: float, last: float, delay: float, trip: float) -> float:
        """When the next poll should reach the service, the last one having reached it at
        ``last``: ``delay`` later, or with ``steps`` on the grid of the step nearest
        ``delay``: a moment (:data:`GRID_MARGIN`, and a quarter of the round trip
        ``trip``) after each multiple of it since ``start``, so what lasts a round time
        (a sleep, a fixed wait) is seen by the poll just after it.  Each step divides the
        next, so a coarser grid keeps to the points of the finer one.  A step no longer
        than the round trip is no grid: polls go back to back."""
        step = min(self.steps, key=lambda s: abs(math.log(s / delay)), default=0.0)
        if step <= trip:
            return last + delay
        offset = start + GRID_MARGIN + trip / 4
        return offset + step * math.ceil((last + step / 5 - offset) / step - 1e-9)


#: A session comes up in seconds to minutes; at most ~1 GetSession/s on average.
SESSION_PLAN = PollPlan(
    first=0.1, growth=0.5, cap=1.0, dense=0.15, window=0.3, sparse_cap=2.0,
    burst=8.0, rate=0.7, full=100.0,
)  # fmt: skip
#: Statements are often sub-second: poll every 10 ms (or back to back, when the round
#: trip is longer), so a short one's end is seen within milliseconds plus about half a
#: round trip; then ever sparser, so from ``ramp`` (3 s) on a statement costs one
#: GetStatement a second (the API's rate limits are shared by everyone in the account).
#: Polls land on round times since the statement started: multiples of 10 ms, 50 ms,
#: 100 ms, 500 ms, then of 1 s.
STATEMENT_PLAN = PollPlan(
    first=0.008, growth=0.0, cap=1.0, dense=0.02, window=0.1, sparse_cap=1.0, full=1.0,
    ramp=3.0, steps=(0.01, 0.05, 0.1, 0.5, 1.0),
)  # fmt: skip
#: How long after a predicted end a poll aimed at it arrives.
ETA_MARGIN = 0.01
#: How long after a round time since the start a poll on the grid arrives, over no round
#: trip: the service's own lag behind the code (about a millisecond here) and the clock's.
GRID_MARGIN = 0.005
#: After a poll failed for good (botocore's retries spent): the next is 0.5 s later, then
#: doubling per failure in a row, at most 8 s apart (botocore already backed off within).
FAILED_POLL_BACKOFF = (0.5, 8.0)


def _failed_delay(failures: int) -> float:
    """Seconds before asking again after ``failures`` failed calls in a row."""
    first, cap = FAILED_POLL_BACKOFF
    return min(cap, first * 2 ** (failures - 1))


#: How long a statement wait goes on when every GetStatement fails (throttling, 5xx, no
#: connection) before it gives up saying the statement may still be running.
STATEMENT_PATIENCE = 300.0
#: Waiting for STOPPED: no progress to go by.
STOP_PLAN = PollPlan(
    first=0.1, growth=0.5, cap=1.0, dense=0.15, window=0.0, sparse_cap=1.0, burst=4.0, rate=1.0
)


class PollScheduler:
    """Decides when the next poll happens, from elapsed time, progress and a call budget.

    ``observe`` is fed each poll's progress (or None); ``next_poll_at`` answers in the
    same clock as ``start``.  Progress that goes backwards restarts the rate fit, and
    a prediction that turned out wrong degrades to the dense interval, which the budget
    then stretches to ``1/rate`` — so erratic progress costs latency, never calls.
    """

    def __init__(self, plan: PollPlan, start: float, rtt: RoundTrip | None = None) -> None:
        self.plan = plan
        self.start = start
        self.rtt = rtt if rtt is not None else RoundTrip()
        self.calls = 0
        self.last_poll = start
        self._first: tuple[float, float] | None = None  # (time, progress) the fit starts at
        self._last: tuple[float, float] | None = None
        self._stalled = False  # the last poll showed no progress: the ETA is suspect

    def observe(self, at: float, progress: float | None) -> None:
        """Record one poll made at ``at`` (clock time) that reported ``progress``."""
        self.calls += 1
        self.last_poll = at
        if progress is None or not math.isfinite(progress):
            return
        if self._last is not None and progress < self._last[1]:
            self._first = None  # went backwards: start the fit again
        if self._first is None or progress <= self._first[1]:
            self._first = (at, progress)
        self._stalled = self._last is not None and progress == self._last[1]
        self._last = (at, progress)

    def eta(self) -> float | None:
        """Predicted clock time at which progress reaches ``full``, or None."""
        if self._first is None or self._last is None:
            return None
        (t0, p0), (t1, p1) = self._first, self._last
        if p1 <= p0 or t1 - t0 < 1e-3:
            return None
        rate = (p1 - p0) / (t1 - t0)
        return t1 + max(0.0, self.plan.full - p1) / rate

    def next_poll_at(self) -> float:
        """Clock time at which to send the next poll: half a round trip before it should
        reach the service (``last_poll`` is when the last one did, the middle of its call)."""
        plan = self.plan
        now = self.last_poll
        elapsed = now - self.start
        delay = min(plan.cap, plan.first) if self.calls <= 1 else plan.backoff(elapsed)
        trip = self.rtt.seconds
        eta = self.eta()
        if eta is None or self._first is None or self._last is None:
            delay = plan.landing(self.start, now, delay, trip) - now
        else:
            # hop straight to the start of the dense window (each hop refines the ETA),
            # but trust a prediction no further ahead than the span it was fitted on
            until_window = eta - plan.window - now
            longest = plan.cap if self._stalled else plan.sparse_cap
            hop = min(longest, max(plan.dense, until_window))
            soonest = max(plan.dense, trip)  # one call in flight at a time
            if until_window <= soonest < eta - now:
                # the window starts before the next poll could come: it lands just after
                # the predicted end instead (a moment early would cost another poll)
                hop = eta - now + ETA_MARGIN
            span = self._last[0] - self._first[0]
            delay = min(hop, max(delay, span))
        at = now + delay - trip / 2
        if math.isfinite(plan.rate):
            # budget: after this poll, calls + 1 <= burst + rate * elapsed
            earliest = self.start + (self.calls + 1 - plan.burst) / plan.rate
            at = max(at, earliest)
        return at


def _wait(
    fetch: Callable[[], T],
    finished: Callable[[T], bool],
    plan: PollPlan,
    *,
    progress: Callable[[T], float | None] = lambda item: None,
    on_tick: Callable[[T, float], None] | None,
    timeout: float,
    tick: float = 0.1,
    patience: float | None = None,
    rtt: RoundTrip | None = None,
    start: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """Poll ``fetch`` until ``finished``; returns (last item, finished?).

    ``on_tick(item, elapsed)`` runs after every poll and every ``tick`` seconds between
    polls.  A last poll is made at the timeout.  Sleeps are short (``tick``), so a
    KeyboardInterrupt arrives promptly; nothing here catches it.  Each answered poll's
    round trip goes to ``rtt`` (the client's, :func:`round_trip`; by default this wait's
    own), which the schedule reads; ``start`` is when what is waited for began (clock
    time; default now).

    A poll that fails with a transient :class:`GlueError` (throttling, 5xx, a lost
    connection, after botocore's own retries) does not end the wait: polling goes on,
    backing off (:data:`FAILED_POLL_BACKOFF`), until the timeout or ``patience`` seconds of
    nothing but failures; then that error is raised with ``last_item`` (the last answer,
    or None) on it, so the caller can tell the truth about what it was waiting for.
    """
    start = clock() if start is None else start
    rtt = rtt if rtt is not None else RoundTrip()
    scheduler = PollScheduler(plan, start, rtt)
    deadline = clock() + timeout
    item: T | None = None
    failing_since: float | None = None
    failures = 0
    while True:
        sent = clock()
        try:
            got_item = fetch()
        except GlueError as exc:
            if not exc.transient:
                raise
            got = clock()
            failures += 1
            failing_since = sent if failing_since is None else failing_since
            if got >= deadline or (patience is not None and got - failing_since >= patience):
                exc.last_item = item  # type: ignore[attr-defined]
                raise
            at = min(deadline, got + _failed_delay(failures))
        else:
            item, got = got_item, clock()
            failures, failing_since = 0, None
            rtt.add(got - sent)
            scheduler.observe((sent + got) / 2, progress(item))
            if on_tick is not None:
                on_tick(item, got - start)
            if finished(item):
                return item, True
            if got >= deadline:
                return item, False
            at = min(scheduler.next_poll_at(), deadline)
        while (now := clock()) < at:
            sleep(min(tick, at - now))
            # the display moves on between polls, unless one is due (drawing must not delay it)
            if on_tick is not None and item is not None and clock() < at - tick / 2:
                on_tick(item, clock() - start)
