"""What a session costs: the one place it is computed and put into words.

Glue bills interactive sessions by the DPU-hour (AWS Glue pricing page: $0.44 per
DPU-hour in us-east-1, billed per second).  A session's capacity is ``MaxCapacity``, or
workers x DPU per worker (:data:`WORKER_TYPES`, one row per member of botocore's
``WorkerType`` enum, each with its source); what it has used is ``DPUSeconds``,
which the service fills only once the session has ended (botocore's Glue model,
``Session.DPUSeconds``), so until then the cost so far is estimated from the time since
``CreatedOn`` x ``MaxCapacity``.  Pure: no boto3, no IPython, cheap to import.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from glue_magics.model import dpu_per_worker

#: USD per DPU-hour, the default of ``GlueMagics.dpu_hour_price``.
DPU_HOUR_PRICE = 0.44


class WorkerPrice(NamedTuple):
    """A worker type's size and price, and where each comes from.

    ``dpus``: DPUs per worker (M-DPUs for R and Z workers); ``priced``: billed at the
    DPU-hour rate (``dpu_hour_price``, $0.44 in us-east-1), or False where AWS publishes no
    price we could read (never a guess); ``min_glue``: the oldest Glue version it runs on.
    """

    dpus: float
    unit: str
    priced: bool
    source: str
    min_glue: str | None = None


# Sources.  SIZE: botocore's Glue model (1.44.18), CreateSession ``WorkerType`` docs, and
# AWS's "AWS Glue worker types" page (worker-types.html): G.nX is n DPU, R.nX is n M-DPU
# ("double the memory allocation for a given size"), G.12X/G.16X/R.* "only for Glue version
# 4.0 or later".  GRAVITON: "Migrating ... to AWS Glue version 6.1" (migrating-version-61):
# G.1X.GRAVITON through G.16X.GRAVITON and R.1X.GRAVITON through R.8X.GRAVITON, the arm64
# form of each size.  PRICE: AWS Glue pricing page (aws.amazon.com/glue/pricing, "ETL jobs
# and interactive sessions": $0.44 per DPU-hour, the interactive-session example 5 DPU x
# $0.44); Ray: AWS Price List, "$0.44 per Memory optimized Data Processing Unit-Hour for
# AWS Glue for Ray interactive sessions".  No AWS page or price-list entry we could read
# gives an M-DPU-hour rate for Spark R workers or a rate for Graviton workers: those say so.
_SIZE = "botocore WorkerType docs; AWS 'AWS Glue worker types'"
_PRICE = "AWS Glue pricing: $0.44 per DPU-hour"
_NO_PRICE = "no public price (AWS Glue pricing gives none for this type)"
_GRAVITON = "AWS 'Migrating to AWS Glue version 6.1' (Graviton forms)"


def _worker_table() -> dict[str, WorkerPrice]:
    table = {
        "Standard": WorkerPrice(1, "DPU", True, f"{_SIZE} (4 vCPU, 16 GB); {_PRICE}"),
        "G.025X": WorkerPrice(0.25, "DPU", True, f"{_SIZE}; {_PRICE}"),
        "Z.2X": WorkerPrice(
            2, "M-DPU", True, f"{_SIZE}; AWS Price List: $0.44 per M-DPU-hour (Ray sessions)"
        ),
    }
    for size in (1, 2, 4, 8, 12, 16):
        newer = "4.0" if size >= 12 else ("3.0" if size >= 4 else None)
        table[f"G.{size}X"] = WorkerPrice(size, "DPU", True, f"{_SIZE}; {_PRICE}", newer)
        table[f"G.{size}X.GRAVITON"] = WorkerPrice(size, "DPU", False, f"{_GRAVITON}; {_NO_PRICE}")
    for size in (1, 2, 4, 8):
        table[f"R.{size}X"] = WorkerPrice(size, "M-DPU", False, f"{_SIZE}; {_NO_PRICE}", "4.0")
        table[f"R.{size}X.GRAVITON"] = WorkerPrice(
            size, "M-DPU", False, f"{_GRAVITON}; {_NO_PRICE}"
        )
    return table


#: Every worker type of botocore's model (tests check the two agree), with its sources.
WORKER_TYPES: dict[str, WorkerPrice] = _worker_table()


def worker(worker_type: str | None) -> WorkerPrice:
    """The row of a worker type; one the table lacks is sized from its name (a type a newer
    botocore brings) and has no public price until it is added here."""
    if worker_type in WORKER_TYPES:
        return WORKER_TYPES[worker_type]  # type: ignore[index]
    name = worker_type or "G.1X"
    return WorkerPrice(dpu_per_worker(name), "DPU", False, f"{name}: not in our table; {_NO_PRICE}")


def billed_dpus(
    max_capacity: float | None = None,
    worker_type: str | None = None,
    number_of_workers: float | None = None,
) -> float:
    """DPUs billed while a session lives: ``MaxCapacity``, or workers x DPU per worker."""
    if max_capacity is not None:
        return float(max_capacity)
    return (number_of_workers or 0) * worker(worker_type).dpus


def usd(amount: float) -> str:
    """ "$8.40", or "$0.0012" below a cent (a small session's cost is still worth reading)."""
    return f"${amount:.2f}" if amount >= 0.01 else f"${amount:.4f}"


def _number(value: Any) -> float | None:
    """``value`` when the service gave a number, else None (absent, or not yet known)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Cost:
    """A session's capacity and price, and what it has used as far as that is known.

    ``dpus`` gives the rate; ``dpu_seconds`` (measured by the service) or else ``elapsed``
    (seconds since creation, x ``dpus``) gives the cost so far.
    """

    dpus: float | None = None
    price: float = DPU_HOUR_PRICE
    dpu_seconds: float | None = None
    elapsed: float | None = None
    worker_type: str | None = None  # its row in WORKER_TYPES says whether a price is public

    @classmethod
    def of_session(
        cls, session: Mapping[str, Any], price: float = DPU_HOUR_PRICE, now: float | None = None
    ) -> Cost:
        """The cost of a ``GetSession`` reply's ``Session``, ``now`` (epoch seconds) for the
        estimate while ``DPUSeconds`` is not filled yet (an ended session's ``CompletedOn``
        ends it)."""
        created, completed = session.get("CreatedOn"), session.get("CompletedOn")
        elapsed = None
        if hasattr(created, "timestamp"):
            end = completed.timestamp() if hasattr(completed, "timestamp") else now
            elapsed = (time.time() if end is None else end) - created.timestamp()
        return cls(
            dpus=_number(session.get("MaxCapacity")),
            price=price,
            dpu_seconds=_number(session.get("DPUSeconds")),
            elapsed=elapsed,
            worker_type=session.get("WorkerType"),
        )

    @property
    def priced(self) -> bool:
        """Whether AWS publishes a price for this session's workers (else no USD figures)."""
        return self.worker_type is None or worker(self.worker_type).priced

    @property
    def unpriced(self) -> str:
        """ "no public price for R.4X" where there is none, else ""."""
        return "" if self.priced else f"no public price for {self.worker_type}"

    @property
    def unit(self) -> str:
        return worker(self.worker_type).unit if self.worker_type else "DPU"

    # ------------------------------------------------------------------ figures
    @property
    def per_hour(self) -> float | None:
        """USD per hour while the session lives, or None when its capacity is unknown."""
        return None if self.dpus is None or not self.priced else self.dpus * self.price

    @property
    def estimated(self) -> bool:
        """Whether the cost so far is an estimate (no ``DPUSeconds`` yet)."""
        return self.dpu_seconds is None and self.so_far is not None

    @property
    def used_dpu_seconds(self) -> float | None:
        """DPU-seconds used: ``DPUSeconds`` as measured, else elapsed x DPUs."""
        if self.dpu_seconds is not None:
            return self.dpu_seconds
        if self.elapsed is not None and self.dpus is not None:
            return max(0.0, self.elapsed) * self.dpus
        return None

    @property
    def so_far(self) -> float | None:
        """USD used: measured from ``DPUSeconds``, else estimated from the elapsed time."""
        if not self.priced:
            return None
        if self.dpu_seconds is not None:
            return self.dpu_seconds / 3600 * self.price
        if self.elapsed is not None and self.dpus:
            return self.elapsed * self.dpus / 3600 * self.price
        return None

    # ------------------------------------------------------------------ words
    def rate(self) -> str:
        """ "5 DPU, ~$2.20/h": the meter, shown when a session starts; "" when unknown."""
        if self.dpus is None:
            return ""
        if not self.priced:
            return f"{self.dpus:g} {self.unit}, {self.unpriced}"
        return f"{self.dpus:g} {self.unit}, ~${self.dpus * self.price:.2f}/h"

    def sum(self) -> str:
        """ "5 DPU x $0.44 = $2.20 per hour": the rate with its working, before creating."""
        dpus = self.dpus or 0
        if not self.priced:
            return f"{dpus:g} {self.unit}; {self.unpriced} on AWS's Glue pricing page"
        return f"{dpus:g} {self.unit} x ${self.price:g} = ${dpus * self.price:.2f} per hour"

    def spent(self) -> str:
        """ "3600 DPU-seconds, about $0.44" once the service has measured it, else ""."""
        if self.dpu_seconds is None:
            return ""
        if not self.priced:
            return f"{self.dpu_seconds:g} DPU-seconds ({self.unpriced})"
        cost = self.dpu_seconds / 3600 * self.price  # measured: so_far without an estimate
        return f"{self.dpu_seconds:g} DPU-seconds, about {usd(cost)}"

    def so_far_text(self) -> str:
        """ "$0.4400", "~$0.0100 (estimated)" or "n/a": ``%glue_status``'s cost so far."""
        cost = self.so_far
        if cost is None:
            return f"n/a ({self.unpriced})" if self.unpriced else "n/a"
        return f"~${cost:.4f} (estimated)" if self.estimated else f"${cost:.4f}"

    def brief(self) -> str:
        """ "$0.11" measured, "~$0.22" estimated, "" unknown: a table's cost column."""
        cost = self.so_far
        if cost is None:
            return ""
        return ("~" if self.estimated else "") + usd(cost)

    def dpu_seconds_text(self) -> str:
        """ "900" measured, "~1800" estimated, "" unknown: a table's DPU-seconds column."""
        used = self.used_dpu_seconds
        if used is None:
            return ""
        return f"{'~' if self.dpu_seconds is None else ''}{used:.0f}"

    def of_budget(self, limit: float) -> str:
        """ "~$8.40 of $10.00 (84%)": the cost so far against a budget (``%glue_status``)."""
        cost = self.so_far
        if cost is None:
            why = self.unpriced or "cost so far not known yet"
            return f"{usd(limit)} ({why})"
        share = f" ({cost / limit:.0%})" if limit > 0 else ""
        return f"{'~' if self.estimated else ''}{usd(cost)} of {usd(limit)}{share}"

    def __str__(self) -> str:
        """The cost so far when anything is used, else the rate."""
        if self.so_far is not None:
            return self.so_far_text()
        return self.rate() or "n/a"

    def _repr_html_(self) -> str:
        """The same words in a notebook, the working (rate and price) on hover."""
        title = self.sum() if self.dpus is not None else f"${self.price:g} per DPU-hour"
        import html  # at first display, not at %load_ext

        return f'<span title="{html.escape(title)}">{html.escape(str(self))}</span>'
