"""Fault injection for the local endpoint: throttling, 5xx and dropped connections.

Kinds: ``throttle`` (400 ThrottlingException), ``error5xx`` (500 InternalServiceException),
``drop`` (the connection closes before the request is handled) and ``lose`` (the request
takes effect, then the connection closes without the answer, so a retried CreateSession
meets its own session).  Rates are probabilities per request, for every operation or for
one.  Draws come from a seeded ``random.Random`` so a test that sets a seed sees the same
faults every run.
"""

from __future__ import annotations

import random
import threading

KINDS = ("throttle", "error5xx", "drop", "lose")


class Faults:
    """Per-operation fault rates; thread-safe, changeable while the endpoint runs."""

    def __init__(self, seed: int | None = 0) -> None:
        self._lock = threading.Lock()
        self._rates: dict[tuple[str, str | None], float] = {}
        self._counted: dict[str | None, list[str]] = {}  # operation -> kinds still to answer
        self._random = random.Random(seed)

    def set(self, kind: str, rate: float, operation: str | None = None) -> None:
        """Inject ``kind`` with probability ``rate`` (0..1) on ``operation`` (None: all)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        rate = float(rate)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate {rate} is outside 0..1")
        with self._lock:
            if rate == 0.0:
                self._rates.pop((kind, operation), None)
            else:
                self._rates[(kind, operation)] = rate

    def next(self, kind: str, count: int, operation: str | None = None) -> None:
        """Answer the next ``count`` requests of ``operation`` (None: any) with ``kind``,
        then none: a spell of faults counted in requests, not seconds, so a test's outcome
        does not depend on how fast a loaded machine gets through it."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        with self._lock:
            self._counted.setdefault(operation, []).extend([kind] * int(count))

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._rates.clear()
            self._counted.clear()

    def seed(self, seed: int | None) -> None:
        """Restart the random sequence, so a test's draws do not depend on earlier tests."""
        with self._lock:
            self._random.seed(seed)

    def parse(self, spec: str) -> None:
        """Apply one command-line spec: ``throttle=0.3`` or ``GetSession:drop=0.5``."""
        target, sep, value = spec.partition("=")
        operation, colon, kind = target.rpartition(":")
        try:
            rate = float(value)
        except ValueError:
            rate = None
        if not sep or rate is None or (colon and not operation):
            raise ValueError(
                f"fault spec {spec!r} is not KIND=RATE or OPERATION:KIND=RATE "
                "(e.g. throttle=0.3, GetSession:drop=0.5)"
            )
        self.set(kind.strip(), rate, operation.strip() or None)

    def draw(self, operation: str) -> str | None:
        """The fault for this request, if any (one draw per kind with a rate)."""
        with self._lock:
            for key in (operation, None):
                if self._counted.get(key):
                    return self._counted[key].pop(0)
            if not self._rates:
                return None
            for kind in KINDS:
                rate = self._rates.get((kind, operation), self._rates.get((kind, None), 0.0))
                if rate and self._random.random() < rate:
                    return kind
        return None

    def __repr__(self) -> str:
        with self._lock:
            items = ", ".join(
                f"{op + ':' if op else ''}{kind}={rate}" for (kind, op), rate in self._rates.items()
            )
        return f"Faults({items})"
