"""The restart plan of `catalog-view verify --restart-job`."""

from __future__ import annotations

import pytest

from catalog_view.job_restarts import RestartPlanError, parse_parallelisms, restart_points

pytestmark = pytest.mark.unit


def test_parallelisms_are_parsed_in_order() -> None:
    assert parse_parallelisms("4,1") == (4, 1)
    assert parse_parallelisms(" 2 ") == (2,)


@pytest.mark.parametrize("text", ["", "4,,1", "0", "two", "-1"])
def test_bad_parallelism_list_names_the_bad_part(text: str) -> None:
    with pytest.raises(RestartPlanError, match=r"--restart-job .*is not a parallelism >= 1"):
        parse_parallelisms(text)


def test_restart_points_are_evenly_spaced_inside_the_workload() -> None:
    assert restart_points(300, 2) == [100, 200]
    assert restart_points(10, 1) == [5]
    assert restart_points(10, 0) == []
