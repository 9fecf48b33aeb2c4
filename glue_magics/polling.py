"""Polling: when the next poll is sent, and the wait loop that sends them.

Both waits of :mod:`glue_magics.lifecycle` (a session coming up or stopping, a statement
running) use one poll scheduler (:class:`PollScheduler`) with a plan each.  It is
prompt (poll densely when the end is near) and frugal (poll sparsely when it is far,
and never beyond a call budget).  Where the service reports ``Progress`` the scheduler
fits a rate to it and predicts when the wait ends; without it, it backs off.  It plans
when a poll should *reach* the service, and sends it half a round trip earlier: the
round trip is measured on the calls as they happen (:class:`RoundTrip`, one per client).
A session's polls go one at a time, so never closer than a round trip; a statement's, over
a round trip longer than the plan's 40 ms gaps, are sent on the plan's times, up to
:data:`IN_FLIGHT` at once (:func:`statement_in_flight`, :func:`_overlapped`), so they
reach the service as often as they would at loopback, no more.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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
    ``base + cap * (elapsed / ramp) ** power``, capped at ``cap`` (so from ``ramp``
    seconds on, one poll per ``cap``); ``base`` is ``first``, or with ``steady`` it grows
    from ``first`` to ``steady`` over the first ``steady - first`` seconds.  With a
    progress-based ETA it is the time to ``eta - window`` (at most ``sparse_cap``) and
    ``dense`` inside the window.  Calls never exceed ``burst + rate * elapsed``.
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
    power: float = 2.0
    steady: float = 0.0  # 0: the base delay is ``first`` throughout

    def backoff(self, elapsed: float) -> float:
        """The delay between polls without progress to go by, ``elapsed`` s into the wait."""
        base = min(self.steady, self.first + elapsed) if self.steady else self.first
        ramped = base + self.cap * (elapsed / self.ramp) ** self.power
        return min(self.cap, max(self.growth * elapsed, ramped))


#: A session comes up in seconds to minutes; at most ~1 GetSession/s on average.
SESSION_PLAN = PollPlan(
    first=0.1, growth=0.5, cap=1.0, dense=0.15, window=0.3, sparse_cap=2.0,
    burst=8.0, rate=0.7, full=100.0,
)  # fmt: skip
#: Statements are often sub-second, and when one ends cannot be known: nothing in its
#: code or its answers says (a Spark job's Progress, when there is one, is used).  Polls
#: reach the service 20 ms after it took the statement, then ever less often up to one
#: each ``steady`` (40 ms) from 20 ms on, so a statement ending anywhere in its first
#: second is seen about 20 ms after its end on average (half a gap), for about 15
#: GetStatement calls over lengths of 0.1 to 1 s; then the gaps grow with the fourth
#: power of the time (52 ms at 1 s, 0.24 s at 2 s), to one GetStatement a second from
#: ``ramp`` (3 s) on (the API's rate limits are shared by everyone in the account).
#: Over a round trip longer than a gap the polls overlap (:data:`IN_FLIGHT`).
STATEMENT_PLAN = PollPlan(
    first=0.02, growth=0.0, cap=1.0, dense=0.02, window=0.1, sparse_cap=1.0, full=1.0,
    ramp=3.0, power=4.0, steady=0.04,
)  # fmt: skip
#: How long after a predicted end a poll aimed at it arrives.
ETA_MARGIN = 0.01
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
        self.planned(at)
        self.answered(at, progress)

    def planned(self, at: float) -> None:
        """Record one poll sent to reach the service at ``at``, its answer still to come
        (overlapped polls: the next is planned from this one, not from its answer)."""
        self.calls += 1
        self.last_poll = at

    def answered(self, at: float, progress: float | None) -> None:
        """Record the ``progress`` a poll that reached the service at ``at`` reported."""
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
        if eta is not None and self._first is not None and self._last is not None:
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
    first_on_plan: bool = False,
    in_flight: int = 1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, bool]:
    """Poll ``fetch`` until ``finished``; returns (last item, finished?).

    ``on_tick(item, elapsed)`` runs after every poll and every ``tick`` seconds between
    polls.  A last poll is made at the timeout.  Sleeps are short (``tick``), so a
    KeyboardInterrupt arrives promptly; nothing here catches it.  Each answered poll's
    round trip goes to ``rtt`` (the client's, :func:`round_trip`; by default this wait's
    own), which the schedule reads; ``start`` is when what is waited for began (clock
    time; default now).  The first poll is made at once, or with ``first_on_plan`` when
    the plan says (``first`` after ``start``: what was only just begun is not done yet).
    With ``in_flight`` above 1 the polls are sent when the plan says whether or not the
    last has been answered (:func:`_overlapped`), up to that many at once.

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
    if in_flight > 1:
        return _overlapped(
            Polls(fetch, finished, progress, on_tick, scheduler, rtt, in_flight),
            deadline=deadline,
            tick=tick,
            patience=patience,
            first_on_plan=first_on_plan,
            clock=clock,
            sleep=sleep,
        )
    item: T | None = None
    failing_since: float | None = None
    failures = 0
    at = scheduler.next_poll_at() if first_on_plan else clock()
    while True:
        while (now := clock()) < at:
            sleep(min(tick, at - now))
            # the display moves on between polls, unless one is due (drawing must not delay it)
            if on_tick is not None and item is not None and clock() < at - tick / 2:
                on_tick(item, clock() - start)
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


#: Statement polls in flight at once, at most.  Over a round trip longer than the gap the
#: plan wants (40 ms in a statement's first second), polls back to back would see its
#: end half a round trip late on average; sent on the plan's times instead, whether or
#: not the last was answered, they see it half a gap late, and a round trip costs only
#: itself.  Each needs a connection of its own (botocore keeps 10 per client).
IN_FLIGHT = 4


def statement_in_flight(rtt: RoundTrip) -> int:
    """How many of a statement's polls may be in flight: :data:`IN_FLIGHT` where a round
    trip is longer than the plan's smallest gap, else one (back to back, polls already
    keep to the plan, and a thread a poll would only add its cost)."""
    return IN_FLIGHT if rtt.seconds > STATEMENT_PLAN.steady else 1


def _submit(fetch: Callable[[], T]) -> Any:
    """One poll on a daemon thread of its own, as a Future.  Not a ThreadPoolExecutor:
    Python joins its workers at exit, so a poll still out when the kernel shuts down (a
    read timeout away over a lost connection) would hold the exit.  A thread costs about
    0.1 ms, against a poll at most every 10 ms."""
    from concurrent.futures import Future

    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fetch())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            future.set_exception(exc)

    threading.Thread(target=run, name="glue-poll", daemon=True).start()
    return future


@dataclass
class Polls(Generic[T]):
    """What an overlapped wait polls with, and how it reads the answers."""

    fetch: Callable[[], T]
    finished: Callable[[T], bool]
    progress: Callable[[T], float | None]
    on_tick: Callable[[T, float], None] | None
    scheduler: PollScheduler
    rtt: RoundTrip
    in_flight: int


def _overlapped(
    polls: Polls[T],
    *,
    deadline: float,
    tick: float,
    patience: float | None,
    first_on_plan: bool,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[T, bool]:
    """:func:`_wait` with up to ``polls.in_flight`` polls at once: each is sent on the
    plan's time (planned to reach the service half a round trip later; at least a round
    trip over ``in_flight`` after the last, so evenly spread), and the answers
    are read oldest first.  The first that says finished ends the wait; those still in
    flight are left to end on their own (their answers are dropped).  A transient failure
    holds back the next poll as :func:`_wait` does; errors and the deadline as there."""
    from concurrent.futures import wait

    scheduler, rtt = polls.scheduler, polls.rtt
    start = scheduler.start
    pending: deque[tuple[float, Any]] = deque()  # (sent, future), oldest first
    item: T | None = None
    failing_since: float | None = None
    failures = 0
    at = scheduler.next_poll_at() if first_on_plan else clock()
    while True:
        now = clock()
        if now >= at and len(pending) < polls.in_flight:
            pending.append((now, _submit(polls.fetch)))
            scheduler.planned(now + rtt.seconds / 2)
            # evenly spread when the round trip is what limits them, not in bursts
            at = max(scheduler.next_poll_at(), now + rtt.seconds / polls.in_flight)
            at = min(at, deadline) if now < deadline else math.inf
            continue
        wake = min(at if len(pending) < polls.in_flight else math.inf, now + tick)
        if not pending:
            sleep(max(0.0, wake - now))
        else:
            wait([pending[0][1]], timeout=max(0.0, wake - now))
        if not pending or not pending[0][1].done():
            # the display moves on between polls, unless one is due (drawing must not delay it)
            if polls.on_tick is not None and item is not None and clock() < at - tick / 2:
                polls.on_tick(item, clock() - start)
            continue
        sent, future = pending.popleft()
        got = clock()
        try:
            got_item = future.result()
        except GlueError as exc:
            if not exc.transient:
                raise
            failures += 1
            failing_since = sent if failing_since is None else failing_since
            if got >= deadline or (patience is not None and got - failing_since >= patience):
                exc.last_item = item  # type: ignore[attr-defined]
                raise
            at = max(at, min(deadline, got + _failed_delay(failures)))
            continue
        item = got_item
        failures, failing_since = 0, None
        rtt.add(got - sent)
        scheduler.answered((sent + got) / 2, polls.progress(item))
        if polls.on_tick is not None:
            polls.on_tick(item, got - start)
        if polls.finished(item):
            return item, True
        if got >= deadline and not pending:
            return item, False
