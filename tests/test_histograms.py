"""Quantiles computed from bucket rates, as Prometheus's `histogram_quantile` computes them."""

import math

import pandas as pd
import pytest

from app.histograms import bucket_quantile, quantiles

INF = math.inf
BUCKETS = [(0.1, 10.0), (0.5, 50.0), (1.0, 90.0), (INF, 100.0)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.05, 0.05),  # in the first bucket: from 0 to its bound
        (0.5, 0.5),  # exactly a bucket's upper count
        (0.3, 0.1 + 0.4 * (20 / 40)),  # linear within (0.1, 0.5]
        (0.9, 1.0),
        (0.95, 1.0),  # in the +Inf bucket: the highest finite bound
        (0.0, 0.0),
        (1.0, 1.0),
        (-0.1, -INF),
        (1.1, INF),
    ],
)
def test_a_quantile_interpolates_within_its_bucket(q, expected):
    assert bucket_quantile(q, BUCKETS) == pytest.approx(expected)


def test_the_order_of_the_buckets_does_not_matter():
    assert bucket_quantile(0.3, reversed(BUCKETS)) == bucket_quantile(0.3, BUCKETS)


@pytest.mark.parametrize(
    "buckets",
    [
        [(0.1, 10.0), (0.5, 50.0)],  # no +Inf bucket
        [(INF, 10.0)],  # one bound only
        [(0.1, 0.0), (INF, 0.0)],  # no observations
        [],
    ],
)
def test_without_a_usable_histogram_the_quantile_is_nan(buckets):
    assert math.isnan(bucket_quantile(0.5, buckets))


def test_a_bucket_counting_fewer_than_the_one_below_is_raised_to_it():
    # counts 10, 10, 20: the median's rank (10) is reached in the first bucket
    assert bucket_quantile(0.5, [(0.1, 10.0), (0.5, 8.0), (INF, 20.0)]) == pytest.approx(0.1)


def test_buckets_of_one_bound_count_as_one():
    assert bucket_quantile(0.5, [(0.1, 5.0), (0.1, 5.0), (INF, 20.0)]) == pytest.approx(0.1)


def test_a_rank_in_a_first_bucket_bounded_at_or_below_zero_is_that_bound():
    assert bucket_quantile(0.2, [(-1.0, 5.0), (1.0, 10.0), (INF, 10.0)]) == -1.0


def test_quantiles_per_service_from_a_frame_of_bucket_rates():
    rows = [("a", le, v) for le, v in (("0.1", 10.0), ("0.5", 50.0), ("1", 90.0), ("+Inf", 100.0))]
    rows += [("b", le, v) for le, v in (("0.1", 0.0), ("+Inf", 0.0), ("oops", 3.0))]
    frame = pd.DataFrame(rows, columns=["service", "le", "value"])
    table = quantiles(frame, "service", {"p50": 0.5, "p95": 0.95}).set_index("service")
    assert table.loc["a"].tolist() == pytest.approx([0.5, 1.0])
    assert table.loc["b"].isna().all()  # no requests: no latency, never zero
    assert list(quantiles(frame.iloc[0:0], "service", {"p50": 0.5}).columns) == ["service", "p50"]
