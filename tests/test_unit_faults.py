"""Planning faults for a verify run: parsing, spacing, the workload gate."""

from __future__ import annotations

import threading

import pytest

from catalog_view.checker.restarts import (
    FaultPlanError,
    Injected,
    WorkloadGate,
    fault_points,
    parse_faults,
    parse_parallelisms,
)

pytestmark = pytest.mark.unit


def test_parse_parallelisms() -> None:
    assert parse_parallelisms("4,1") == (4, 1)
    assert parse_parallelisms(" 2 ") == (2,)


@pytest.mark.parametrize("text", ["", "0", "2,x", "-1"])
def test_bad_parallelisms_name_the_option(text: str) -> None:
    with pytest.raises(FaultPlanError, match="--restart-job"):
        parse_parallelisms(text)


def test_parse_faults() -> None:
    assert parse_faults("connect, kafka,store") == ("connect", "kafka", "store")
    with pytest.raises(FaultPlanError, match=r"unknown fault\(s\) \['broker'\]; choose from job"):
        parse_faults("connect,broker")


def test_fault_points_are_evenly_spaced_inside_the_workload() -> None:
    assert fault_points(300, 2) == [100, 200]
    assert fault_points(10, 1) == [5]
    assert fault_points(10, 0) == []


def test_a_closed_gate_waits_for_scenarios_in_flight_and_holds_new_ones() -> None:
    gate = WorkloadGate()
    inside, release, closed, order = threading.Event(), threading.Event(), threading.Event(), []

    def scenario(name: str, hold: bool) -> None:
        with gate.scenario():
            order.append(f"{name} in")
            if hold:
                inside.set()
                release.wait(5)
            order.append(f"{name} out")

    first = threading.Thread(target=scenario, args=("a", True))
    first.start()
    inside.wait(5)

    def fault() -> None:
        with gate.closed():
            closed.set()
            order.append("fault")

    faulting = threading.Thread(target=fault)
    faulting.start()
    assert not closed.wait(0.2), "the fault must wait for the scenario in flight"
    release.set()
    faulting.join(5)
    second = threading.Thread(target=scenario, args=("b", False))
    second.start()
    for thread in (first, second):
        thread.join(5)
    assert order == ["a in", "a out", "fault", "b in", "b out"]


def test_recovery_is_the_first_sight_of_a_commit_made_after_the_fault() -> None:
    fault = Injected(at_commit=10, name="kafka", detail="", started=100.0, took_s=5.0)
    seen = [(99.0, 9), (101.0, 9), (104.0, 10), (103.0, 12), (108.0, 11)]
    assert fault.recovery_s(seen) == 3.0
    assert fault.recovery_s([(120.0, 9)]) is None
