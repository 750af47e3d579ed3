"""Poll for a condition: the one way this project waits (never a fixed sleep)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from catalog_view.errors import CatalogViewError

T = TypeVar("T")


class WaitTimeout(CatalogViewError):
    """A condition did not come true in time."""


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout_s: float,
    what: str,
    interval_s: float = 0.25,
    describe_last: Callable[[T], str] | None = None,
) -> T:
    """Call `predicate` until it returns something truthy and return that.

    An exception raised by the predicate ends the wait at once (a failure is not
    a reason to keep polling); running out of time raises WaitTimeout naming
    `what` and, with `describe_last`, the last value seen.
    """
    retrying = Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_result(lambda result: not result),
        reraise=True,
    )
    try:
        return retrying(predicate)
    except RetryError as exc:
        last = exc.last_attempt.result()
        detail = f" (last: {describe_last(last)})" if describe_last else ""
        raise WaitTimeout(f"{what} not reached within {timeout_s:.0f}s{detail}") from None
