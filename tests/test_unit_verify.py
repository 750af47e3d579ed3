"""The checker's logic without services: digests, judging observations (C1,
C2), commit-to-visible lag, options, the report, and workload plans that
replay by seed."""

from __future__ import annotations

import argparse
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from catalog_view.checker.command import add_verify_command, options_from_args
from catalog_view.checker.digest import ViewState, canonical_number, json_loads, row_hash
from catalog_view.checker.draws import Scale, WorkloadError
from catalog_view.checker.errors import VerifyError
from catalog_view.checker.judge import (
    Judge,
    Observation,
    commit_to_visible,
    judge,
    judge_by_state,
    percentile,
)
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.recording import Recording
from catalog_view.checker.report import VerifyReport
from catalog_view.checker.scenarios import SCENARIOS, plan
from catalog_view.source import xid32

pytestmark = pytest.mark.unit

PRODUCT = {
    "product_id": 7,
    "name": "Tee",
    "rating": None,
    "variants": json_loads('{"1": {"sku": "A", "price": 19.50}, "2": {"sku": "B", "price": 25}}'),
    "min_price": Decimal("19.50"),
    "publication_date": date(2025, 3, 1),
}


def _state(**views: dict[tuple[Any, ...], dict[str, Any]]) -> ViewState:
    return ViewState.of_rows({"product": {}, "product_channel": {}, **views})


def _product(**changes: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    row = {**PRODUCT, **changes}
    return {(row["product_id"],): row}


# -- digests -------------------------------------------------------------------------


def test_numbers_compare_by_value_in_json_and_numeric_columns() -> None:
    assert json_loads("[19.5, 19.50, 1.95E1]") == [canonical_number("19.5")] * 3
    assert json_loads("[25, 25.0, 25.00]") == [canonical_number("25")] * 3
    assert canonical_number("0.00") == canonical_number("0")
    assert canonical_number("100") != canonical_number("1")
    same = {**PRODUCT, "min_price": Decimal("19.5")}
    assert row_hash(same) == row_hash(PRODUCT)


def test_a_json_string_never_hashes_like_a_number() -> None:
    assert row_hash({"price": json_loads('"19.5"')}) != row_hash({"price": json_loads("19.5")})


def test_row_hash_ignores_key_order_but_not_values() -> None:
    reordered = dict(reversed(list(PRODUCT.items())))
    assert row_hash(reordered) == row_hash(PRODUCT)
    assert row_hash({**PRODUCT, "name": "Tee 2"}) != row_hash(PRODUCT)
    assert row_hash({**PRODUCT, "rating": 0}) != row_hash(PRODUCT)
    nested = json_loads('{"1": {"sku": "A", "price": 19.51}, "2": {"sku": "B", "price": 25}}')
    assert row_hash({**PRODUCT, "variants": nested}) != row_hash(PRODUCT)


def test_view_digest_is_independent_of_row_order() -> None:
    rows = {(1,): {"product_id": 1, "n": "a"}, (2,): {"product_id": 2, "n": "b"}}
    backwards = dict(reversed(list(rows.items())))
    assert _state(product=rows).digests == _state(product=backwards).digests
    assert _state(product=rows).digests != _state(product={(1,): rows[(1,)]}).digests


def test_difference_names_missing_unexpected_and_changed_keys() -> None:
    expected = _state(product={**_product(), **_product(product_id=8)})
    actual = _state(product={**_product(name="Other"), **_product(product_id=9)})
    text = expected.difference(actual)
    assert "1 missing [(8,)]" in text and "1 unexpected [(9,)]" in text
    assert "1 changed [(7,)]" in text
    assert expected.difference(expected) == "no difference"


# -- recording and judging -----------------------------------------------------------


def _recording(*states: ViewState, first_txid: int = 100) -> Recording:
    recording = Recording()
    for n, state in enumerate(states):
        recording.add(first_txid + n, committed_at=float(n), state=state)
    return recording


def test_recording_keys_by_debezium_xid_without_the_epoch() -> None:
    epoch = 3 << 32
    recording = _recording(_state(), first_txid=epoch + 500)
    entry = recording.lookup(500)
    assert entry is not None and entry.index == 0 and entry.txid == epoch + 500
    assert recording.lookup(epoch + 500) == entry
    assert xid32(epoch + 500) == 500
    with pytest.raises(VerifyError, match="recorded twice"):
        recording.add(500, 1.0, _state())


def test_recording_keeps_row_hashes_of_recent_states_only() -> None:
    recording = Recording(keep_rows=2)
    for n in range(3):
        recording.add(10 + n, float(n), _state(product=_product(rating=n)))
    assert recording.state(10) is None
    assert recording.state(11) is not None and recording.state(12) is not None
    assert recording.lookup(10) is not None  # the digest stays


def test_judge_accepts_the_recorded_state_of_the_named_transaction() -> None:
    empty, one = _state(), _state(product=_product())
    recording = _recording(empty, one)
    assert judge(recording, Observation(0.0, 100, empty), None) == (0, None)
    assert judge(recording, Observation(0.0, 101, one), 0) == (1, None)


def test_judge_flags_a_state_that_is_not_q_of_the_watermark() -> None:
    empty, one = _state(), _state(product=_product())
    recording = _recording(empty, one)
    index, violation = judge(recording, Observation(0.0, 100, one), None)
    assert index == 0 and violation is not None and violation.kind == "mismatch"
    assert "unexpected [(7,)]" in violation.detail


def test_judge_flags_an_unrecorded_transaction_and_a_watermark_going_back() -> None:
    empty, one = _state(), _state(product=_product())
    recording = _recording(empty, one)
    index, violation = judge(recording, Observation(0.0, 999, one), 1)
    assert index == 1 and violation is not None and violation.kind == "unrecorded"
    index, violation = judge(recording, Observation(0.0, 100, empty), 1)
    assert index == 0 and violation is not None and violation.kind == "backwards"
    index, violation = judge(recording, Observation(0.0, None, empty), 1)
    assert violation is not None and violation.kind == "watermark_lost"
    assert judge(recording, Observation(0.0, None, empty), None) == (None, None)


def test_running_judge_counts_and_knows_when_the_final_state_is_shown() -> None:
    empty, one = _state(), _state(product=_product())
    running = Judge(_recording(empty, one))
    running.observe(Observation(1.0, 100, empty))
    assert not running.at_final()
    running.observe(Observation(2.0, 101, empty))  # half-applied: a violation
    assert not running.at_final()
    running.observe(Observation(3.0, 101, one))
    assert running.at_final()
    running.observe(Observation(4.0, None, one))
    assert (running.observations, running.violations) == (3, 2)
    assert [v.kind for v in running.examples] == ["mismatch", "watermark_lost"]
    assert running.seen == [(1.0, 0), (2.0, 1), (3.0, 1)]


def test_judging_by_state_accepts_any_recorded_state_from_the_last_one_shown_on() -> None:
    """The SQL baseline writes no watermark: a store state must equal one
    recorded state, never older than one already shown."""
    empty, one, two = _state(), _state(product=_product()), _state(product=_product(rating=2))
    recording = _recording(empty, one, two, one)  # commit 3 restores commit 1's state
    assert judge_by_state(recording, Observation(0.0, None, empty), None) == (0, None)
    assert judge_by_state(recording, Observation(0.0, None, one), 0) == (1, None)
    assert judge_by_state(recording, Observation(0.0, None, one), 2) == (3, None)
    index, violation = judge_by_state(recording, Observation(0.0, None, empty), 1)
    assert index == 1 and violation is not None and violation.kind == "backwards"
    assert violation.txid == 100
    half = _state(product=_product(name="half-applied"))
    index, violation = judge_by_state(recording, Observation(0.0, None, half), 1)
    assert index == 1 and violation is not None and violation.kind == "no_source_state"
    assert "against the next one after the last shown (txid 102)" in violation.detail
    assert "1 changed [(7,)]" in violation.detail


def test_running_judge_by_state_is_final_when_the_store_equals_the_last_state() -> None:
    empty, one = _state(), _state(product=_product())
    # The last commit's state equals the first's: final all the same.
    running = Judge(_recording(empty, one, empty), by_state=True)
    running.observe(Observation(1.0, None, one))
    assert not running.at_final()
    running.observe(Observation(2.0, None, _state(product=_product(name="x"))))
    assert not running.at_final()
    running.observe(Observation(3.0, None, empty))
    assert running.at_final()
    assert (running.observations, running.violations) == (3, 1)
    assert [v.kind for v in running.examples] == ["no_source_state"]
    assert running.seen == [(1.0, 1), (3.0, 2)]


# -- lag -----------------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) is None


def test_lag_is_first_observation_at_or_past_each_commit() -> None:
    commits = [0.0, 1.0, 2.0, 3.0]
    # Commit 1 first seen at 1.5 (500 ms); commits 2 and 3 both first
    # covered at 3.5 (1500 ms, 500 ms).
    seen = [(0.5, 0), (1.5, 1), (2.5, 1), (3.5, 3)]
    lag = commit_to_visible(commits, seen, first=1)
    assert lag.observed == 3
    assert lag.p50_ms == pytest.approx(500.0)
    assert lag.p99_ms == pytest.approx(1500.0)
    lags = commit_to_visible([0.0, 1.0, 2.0], [(1.2, 1)], first=1)
    assert lags.observed == 1
    assert lags.p50_ms == pytest.approx(200.0)


def test_lag_never_negative_and_empty_without_observations() -> None:
    assert commit_to_visible([5.0], [(4.9, 0)]).p50_ms == 0.0
    empty = commit_to_visible([1.0, 2.0], [], first=1)
    assert (empty.observed, empty.p50_ms, empty.p99_ms) == (0, None, None)


# -- options, command line, report ------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_verify_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["verify", *argv])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--transactions", "0"), "--transactions must be >= 1"),
        (("--parallelism", "0"), "--parallelism must be >= 1"),
        (("--connections", "0"), "--connections must be >= 1"),
        (("--products", "-1"), "--products must be >= 0"),
        (("--bulk-rows", "0"), "bulk_rows must be >= 1"),
        (("--final-timeout", "0"), "timeouts must be > 0"),
    ],
)
def test_bad_options_give_a_clear_error(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(VerifyError, match=message):
        options_from_args(_args(*argv), seed=1).validate()


def test_command_line_options() -> None:
    args = _args("--transactions", "60", "--parallelism", "4", "--seed", "9", "--baseline")
    options = options_from_args(args, seed=args.seed)
    assert (options.transactions, options.parallelism, options.seed) == (60, 4, 9)
    assert options.baseline == "python" and args.func.__name__ == "cmd_verify"
    assert options_from_args(_args("--full-scale"), 1).scale == Scale.full()
    assert Scale.full().bulk_rows >= 10_000
    VerifyOptions().validate()


def test_command_line_defaults_are_the_options_defaults() -> None:
    """Declared once: without flags the command line gives VerifyOptions' defaults."""
    assert options_from_args(_args(), seed=1) == VerifyOptions(seed=1)
    assert options_from_args(_args("--restart-job", "4,1"), 1).restart_parallelisms == (4, 1)
    assert options_from_args(_args("--faults", "store"), 1).faults == ("store",)
    assert options_from_args(_args("--fan-out", "7"), 1).scale == Scale(fan_out_products=7)


def _report(**changes: Any) -> VerifyReport:
    fields: dict[str, Any] = {
        "observations": 10,
        "violations": 0,
        "final_equal": True,
        "lag_p50_ms": 123.456,
        "lag_p99_ms": 456.0,
        "lag_observed": 5,
        "transactions": 5,
        "seed": 3,
        "parallelism": 2,
        "baseline": None,
        "connections": 2,
        "duration_s": 12.34,
        "scenarios": {"reprice": 5},
        "violation_examples": [],
    }
    return VerifyReport(**{**fields, **changes})


def test_report_passes_only_without_violations_and_with_final_equality() -> None:
    assert _report().passed
    assert not _report(violations=1).passed
    assert not _report(final_equal=False).passed


def test_report_json_has_the_promised_keys() -> None:
    data = json.loads(_report(violations=2, violation_examples=["x"]).to_json())
    for key in ("observations", "violations", "final_equal", "lag_p50_ms", "lag_p99_ms"):
        assert key in data
    assert data["lag_p50_ms"] == 123.5 and data["passed"] is False
    assert data["seed"] == 3 and data["parallelism"] == 2 and data["baseline"] is None
    assert _report().lines()[-1] == "verify: PASS"
    assert "SQL baseline" in _report(baseline="sql").lines()[0]
    assert "aligned pipeline" in _report().lines()[0]


# -- workload plans --------------------------------------------------------------------


def test_a_seed_replays_the_same_plan() -> None:
    first, again = plan(42, 120), plan(42, 120)
    assert first.signature() == again.signature()
    assert plan(43, 120).signature() != first.signature()


def test_a_plan_covers_every_scenario_and_the_requested_transactions() -> None:
    workload = plan(5, 60)
    assert {s.name for s in workload.scenarios} == set(SCENARIOS)
    assert 60 <= workload.transactions < 60 + 3
    assert plan(5, 1).transactions >= 1


def test_design_scenarios_are_all_present() -> None:
    design = {
        "category_then_product",
        "product_before_its_category",
        "create_then_delete",
        "delete_then_recreate",
        "requeue_trap",
        "multi_table_transaction",
        "category_fan_out",
        "bulk_import",
        "concurrent_commit_order",
        "primary_key_update",
        "toast_unchanged",
    }
    assert design <= set(SCENARIOS)
    trap = next(s for s in plan(1, 80).scenarios if s.name == "requeue_trap")
    assert len(trap.steps) == 3
    overlapping = [s for s in plan(1, 80).scenarios if s.overlapping]
    assert overlapping and all(len(s.steps) == 2 for s in overlapping)


def test_scale_changes_the_drawn_sizes_not_the_sequence_of_scenarios() -> None:
    small, big = plan(8, 50, Scale()), plan(8, 50, Scale.full())
    assert [s.name for s in small.scenarios] == [s.name for s in big.scenarios]


def test_bad_workload_parameters() -> None:
    with pytest.raises(WorkloadError, match="transactions must be >= 1"):
        plan(1, 0)
    with pytest.raises(WorkloadError, match="fan_out_products must be >= 1"):
        plan(1, 5, Scale(fan_out_products=0))
