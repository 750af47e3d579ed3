"""Argument checks of `catalog-view bench` (the benchmark itself is `make bench`)."""

from __future__ import annotations

import pytest

from catalog_view.bench import BenchError, BenchReport, BurstResult, parse_sizes

pytestmark = pytest.mark.unit


def test_sizes_parse_in_order() -> None:
    assert parse_sizes("1000,10000") == [1000, 10000]


@pytest.mark.parametrize("text", ["1000,x", "10000,1000", "5", ""])
def test_bad_sizes_are_refused_with_the_input(text: str) -> None:
    with pytest.raises(BenchError, match=f"--rows {text!r}"):
        parse_sizes(text)


def test_burst_ratio_is_against_the_baseline_of_the_same_run() -> None:
    report = BenchReport(1, [BurstResult("baseline", 100, 10.0), BurstResult("aligned", 100, 15.0)])
    lines = report.lines()
    assert lines[0].endswith("1.00x the baseline's time")
    assert "aligned: 15.0s to the reference state (6.7 tx/s), 1.50x the baseline's time" in lines[1]
