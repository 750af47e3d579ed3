"""Poll for a condition, or retry a call that failed: the one way this project
waits (never a fixed sleep) and retries."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    stop_never,
    wait_fixed,
)

from catalog_view.errors import CatalogViewError

T = TypeVar("T")


class WaitTimeout(CatalogViewError):
    """A condition did not come true in time."""


def _sleeper(sleep: Callable[[float], object] | None) -> Callable[[float], None]:
    def pause(seconds: float) -> None:
        (sleep or time.sleep)(seconds)

    return pause


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout_s: float | None,
    what: str,
    interval_s: float = 0.25,
    describe_last: Callable[[T], str] | None = None,
    sleep: Callable[[float], object] | None = None,
) -> T:
    """Call `predicate` until it returns something truthy and return that.

    An exception raised by the predicate ends the wait at once (a failure is not
    a reason to keep polling); running out of time raises WaitTimeout naming
    `what` and, with `describe_last`, the last value seen. `timeout_s` None:
    no limit (the predicate itself decides when to give up); `sleep` waits
    between calls (an Event's wait ends it early).
    """
    retrying = Retrying(
        stop=stop_after_delay(timeout_s) if timeout_s is not None else stop_never,
        wait=wait_fixed(interval_s),
        retry=retry_if_result(lambda result: not result),
        sleep=_sleeper(sleep),
        reraise=True,
    )
    try:
        return retrying(predicate)
    except RetryError as exc:
        last = exc.last_attempt.result()
        detail = f" (last: {describe_last(last)})" if describe_last else ""
        raise WaitTimeout(f"{what} not reached within {timeout_s:.0f}s{detail}") from None


def retry_on(
    errors: tuple[type[BaseException], ...],
    call: Callable[[], T],
    *,
    attempts: int | None = None,
    interval_s: float = 0.0,
    give_up: Callable[[], bool] | None = None,
    on_retry: Callable[[BaseException], None] | None = None,
    sleep: Callable[[float], object] | None = None,
) -> T:
    """Call `call` until it returns, again after each of `errors`: at most
    `attempts` times (None: without limit) and not once `give_up()` is true;
    then the last error is raised. `on_retry` is told of each error retried;
    `sleep` waits between tries (an Event's wait ends it early)."""
    stop = stop_after_attempt(attempts) if attempts is not None else stop_never

    def stop_or_give_up(state: RetryCallState) -> bool:
        return bool(stop(state)) or (give_up is not None and give_up())

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        if on_retry is not None and error is not None:
            on_retry(error)

    retrying = Retrying(
        stop=stop_or_give_up,
        wait=wait_fixed(interval_s),
        retry=retry_if_exception_type(errors),
        before_sleep=before_sleep,
        sleep=_sleeper(sleep),
        reraise=True,
    )
    return retrying(call)
