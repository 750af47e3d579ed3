"""Polling and retrying (catalog_view.waiting) without services."""

from __future__ import annotations

import threading

import pytest

from catalog_view.waiting import WaitTimeout, retry_on, wait_until

pytestmark = pytest.mark.unit


def test_retry_on_retries_the_named_errors_then_returns() -> None:
    calls: list[int] = []
    seen: list[BaseException] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")
        return "done"

    assert retry_on((ConnectionError,), flaky, attempts=5, on_retry=seen.append) == "done"
    assert len(calls) == 3 and len(seen) == 2


def test_retry_on_raises_the_last_error_after_its_attempts_and_others_at_once() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ConnectionError(f"try {len(calls)}")

    with pytest.raises(ConnectionError, match="try 3"):
        retry_on((ConnectionError,), failing, attempts=3)

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not a retry")

    calls.clear()
    with pytest.raises(ValueError):
        retry_on((ConnectionError,), broken, attempts=3)
    assert len(calls) == 1


def test_retry_on_without_limit_stops_once_given_up() -> None:
    stopped = threading.Event()

    def failing() -> None:
        stopped.set()  # the caller gives up after this failure
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        retry_on((ConnectionError,), failing, give_up=stopped.is_set, sleep=stopped.wait)


def test_wait_until_without_a_limit_ends_when_the_predicate_holds() -> None:
    values = iter([0, 0, 7])
    assert wait_until(lambda: next(values), timeout_s=None, what="seven", interval_s=0) == 7


def test_wait_until_names_what_it_waited_for() -> None:
    with pytest.raises(WaitTimeout, match=r"the answer not reached within 0s \(last: 0\)"):
        wait_until(lambda: 0, timeout_s=0.05, what="the answer", interval_s=0.01, describe_last=str)
