"""The cost value object: the one place cost is computed and put into words.

Prices per AWS Glue's pricing page ($0.44 per DPU-hour, billed per second); ``DPUSeconds``
is filled by the service once a session has ended (botocore's Glue model, ``Session``).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glue_magics.cost import DPU_HOUR_PRICE, Cost, billed_dpus, usd

amounts = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
maybe = st.none() | amounts | st.integers(min_value=0, max_value=10**9)


@given(dpus=maybe, price=amounts, dpu_seconds=maybe, elapsed=maybe)
def test_never_raises_for_non_negative_finite_figures(dpus, price, dpu_seconds, elapsed) -> None:
    cost = Cost(dpus, price, dpu_seconds, elapsed)
    for text in (str(cost), cost._repr_html_(), cost.rate(), cost.sum(), cost.spent()):
        assert isinstance(text, str) and "\n" not in text
    assert cost.so_far_text() == "n/a" or cost.so_far_text().lstrip("~").startswith("$")
    assert cost.estimated == (dpu_seconds is None and cost.so_far is not None)


@given(dpu_seconds=amounts, price=amounts)
def test_spent_rounds_to_cents_and_to_hundredths_of_a_cent_below_one(dpu_seconds, price) -> None:
    money = dpu_seconds / 3600 * price
    spent = Cost(dpu_seconds=dpu_seconds, price=price).spent()
    figure = re.fullmatch(r"\S+ DPU-seconds, about \$([0-9.]+)", spent)
    assert figure, spent
    decimals = len(figure[1].partition(".")[2])
    assert decimals == (2 if money >= 0.01 else 4)
    assert float(figure[1]) == pytest.approx(money, abs=10**-decimals)


@given(dpus=amounts, price=amounts)
def test_rate_and_sum_round_to_cents(dpus, price) -> None:
    cost = Cost(dpus, price)
    assert cost.rate() == f"{dpus:g} DPU, ~${dpus * price:.2f}/h"
    assert cost.sum().endswith(f"= ${dpus * price:.2f} per hour")
    assert cost.per_hour == dpus * price


def test_the_texts_users_see() -> None:
    assert Cost(5).rate() == "5 DPU, ~$2.20/h" == str(Cost(5))
    assert Cost(5).sum() == "5 DPU x $0.44 = $2.20 per hour"
    assert Cost(dpu_seconds=3600).spent() == "3600 DPU-seconds, about $0.44"
    assert Cost(dpu_seconds=10).spent() == "10 DPU-seconds, about $0.0012"
    assert Cost(dpu_seconds=3600).so_far_text() == "$0.4400"
    assert Cost().rate() == "" and Cost().spent() == "" and str(Cost()) == "n/a"
    assert DPU_HOUR_PRICE == 0.44


def test_measured_wins_over_estimated() -> None:
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    now = created.timestamp() + 360  # 6 minutes in
    live = Cost.of_session({"MaxCapacity": 5, "CreatedOn": created}, now=now)
    assert live.estimated and live.elapsed == 360
    assert live.so_far == pytest.approx(360 * 5 / 3600 * 0.44)
    assert live.so_far_text() == "~$0.2200 (estimated)" == str(live)
    ended = Cost.of_session({"MaxCapacity": 5, "CreatedOn": created, "DPUSeconds": 900}, now=now)
    assert not ended.estimated
    assert ended.so_far_text() == "$0.1100"
    assert ended.spent() == "900 DPU-seconds, about $0.11"
    # no capacity (or none yet) and no measure: nothing to say
    assert Cost.of_session({"CreatedOn": created}, now=now).so_far_text() == "n/a"
    assert Cost.of_session({"MaxCapacity": 0, "CreatedOn": created}).so_far_text() == "n/a"


def test_html_escapes_and_shows_the_working() -> None:
    html = Cost(2, 0.5)._repr_html_()
    assert html == '<span title="2 DPU x $0.5 = $1.00 per hour">2 DPU, ~$1.00/h</span>'


@pytest.mark.parametrize(
    ("max_capacity", "worker_type", "workers", "dpus"),
    [(2.5, "G.2X", 10, 2.5), (None, "G.2X", 10, 20), (None, None, 3, 3), (None, "G.025X", 2, 0.5)],
)
def test_billed_dpus(max_capacity, worker_type, workers, dpus) -> None:
    assert billed_dpus(max_capacity, worker_type, workers) == dpus


def test_importing_cost_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, glue_magics.cost; print('boto3' in sys.modules, 'IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_table_and_budget_words() -> None:
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    now = created.timestamp() + 360
    live = Cost.of_session({"MaxCapacity": 5, "CreatedOn": created}, now=now)
    assert live.used_dpu_seconds == 1800 and live.dpu_seconds_text() == "~1800"
    assert live.brief() == "~$0.22" and live.of_budget(0.25) == "~$0.22 of $0.25 (88%)"
    measured = Cost(dpu_seconds=10)
    assert measured.brief() == "$0.0012" and measured.dpu_seconds_text() == "10"
    assert Cost().brief() == "" and Cost().dpu_seconds_text() == ""
    assert Cost().of_budget(10) == "$10.00 (cost so far not known yet)"
    # an ended session's time ends at CompletedOn, however late it is listed
    ended = {"MaxCapacity": 5, "CreatedOn": created, "CompletedOn": created + dt.timedelta(60)}
    assert Cost.of_session(ended, now=now + 10**6).elapsed == 60 * 86400


@given(cost=amounts, limit=amounts.filter(lambda x: x > 0))
def test_of_budget_is_one_line_with_the_share(cost, limit) -> None:
    used = Cost(dpu_seconds=cost * 3600, price=1.0)
    text = used.of_budget(limit)
    assert "\n" not in text and text.startswith(usd(used.so_far) + " of " + usd(limit))
    assert text.endswith(f"({used.so_far / limit:.0%})")
