"""The oracle checker in-process on the session stack (docs/design.md, "The oracle"):
the aligned pipeline passes it, the plain-join baseline fails it.

The checker resets the catalog and restarts the job with its own parallelism;
afterwards the session job is restarted fresh and awaited until the store
equals the reference again, so later tests see the usual stack.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog_view.checker.draws import Scale
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.verify import run_verify
from catalog_view.reference import converged
from catalog_view.settings import Settings
from catalog_view.stack.job import wrote_since
from catalog_view.stack.local import LocalStack
from catalog_view.waiting import wait_until

pytestmark = pytest.mark.e2e

SMALL = Scale(bulk_rows=500, fan_out_products=100, toast_bytes=4096)


@pytest.fixture
def checker_settings(stack: LocalStack) -> Iterator[Settings]:
    """The session stack's settings; the session job is back when the test ends."""
    try:
        yield stack.settings
    finally:
        since = stack.job.restart(fresh=True)
        wait_until(
            lambda: wrote_since(stack.settings, since) and converged(stack.settings),
            timeout_s=600,
            what="session job back and store == reference",
            interval_s=1.0,
        )


def _options(**changes: object) -> VerifyOptions:
    fields: dict[str, object] = {
        "transactions": 60,
        "parallelism": 1,
        "seed": 20240611,
        "products": 20,
        "scale": SMALL,
        "ensure_stack": False,
    }
    return VerifyOptions(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("parallelism", [1, 4])
def test_verify_small(checker_settings: Settings, parallelism: int) -> None:
    """C1-C3: every observed state is Q(S(watermark)), the watermark never
    goes back, and the store ends equal to Q(S(last)); with 3 partitions per
    table topic, at parallelism 1 and 4."""
    report = run_verify(checker_settings, _options(parallelism=parallelism))
    print("\n".join(report.lines()))
    assert report.observations > 0
    assert report.violations == 0, report.violation_examples
    assert report.final_equal, report.final_difference
    assert report.lag_observed > 0 and report.lag_p50_ms is not None
    assert report.passed


def test_verify_baseline_shows_violations(checker_settings: Settings) -> None:
    """The checker can fail: the plain join without transaction alignment
    exposes states that never existed in the source."""
    # Even at parallelism 1 and over perfectly ordered input, a plain join
    # shows states that never existed (half-applied transactions, null-padded
    # rows). Do not wait long for a final state.
    options = _options(baseline="python", transactions=120, final_timeout_s=120.0)
    report = run_verify(checker_settings, options)
    print("\n".join(report.lines()))
    assert report.observations > 0
    assert report.violations > 0
    assert not report.passed


@pytest.mark.chaos
def test_verify_survives_hard_restarts_and_rescaling(checker_settings: Settings) -> None:
    """C4: the job is killed (SIGKILL, whole process group) twice during the
    workload and restored from its newest checkpoint, rescaled 2 -> 4 -> 1.
    Buffered transactions and uncommitted checkpoints come back from the
    checkpoint, none lost or doubled, and the store never shows a state the
    source did not have."""
    options = _options(parallelism=2, transactions=90, restart_parallelisms=(4, 1))
    report = run_verify(checker_settings, options)
    print("\n".join(report.lines()))
    assert len(report.job_restarts) == 2
    assert report.observations > 0
    assert report.violations == 0, report.violation_examples
    assert report.final_equal, report.final_difference


@pytest.mark.chaos
def test_verify_survives_component_faults(checker_settings: Settings) -> None:
    """C4 beyond the job: Kafka Connect and the Kafka broker killed (SIGKILL)
    and started again, the store refusing connections for 20 s, and the
    PostgreSQL cluster restarted without a clean shutdown, each under the
    running workload. Debezium redelivers, the job retries its commits and
    restarts from its checkpoint; the store never shows a state the source did
    not have, and converges."""
    options = _options(
        parallelism=2,
        transactions=100,
        faults=("connect", "kafka", "store", "source"),
        final_timeout_s=600.0,
        rate=0.8,  # about 80 s of workload: every fault falls inside it
    )
    report = run_verify(checker_settings, options)
    print("\n".join(report.lines()))
    assert [f.split(" ")[0] for f in report.faults] == ["connect", "kafka", "store", "source"]
    assert report.store_unavailable_samples > 0, "the sampler saw the store outage"
    assert report.observations > 0
    assert report.violations == 0, report.violation_examples
    assert report.final_equal, report.final_difference
