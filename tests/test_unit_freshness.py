"""The stall verdict of `stack status`, from the facts it reads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from catalog_view.stack.freshness import SourceHead, judge, last_job_report
from catalog_view.store import Watermark

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def mark(lsn: int, moved_s_ago: float) -> Watermark:
    return Watermark(lsn, 41, NOW, NOW - timedelta(seconds=moved_s_ago))


def test_fresh_when_the_watermark_names_the_last_capture() -> None:
    assert judge(SourceHead(41, 500), mark(500, 300), NOW, 60, None).state == "fresh"


def test_behind_but_moving_is_catching_up() -> None:
    verdict = judge(SourceHead(42, 900), mark(500, 10), NOW, 60, None)
    assert verdict.state == "catching-up"
    assert "source captured up to txid 42 (lsn 900), store at lsn 500" in verdict.detail


def test_behind_and_still_is_stalled() -> None:
    verdict = judge(SourceHead(42, 900), mark(500, 61), NOW, 60, None)
    assert verdict.stalled
    assert "has not moved for 61s (threshold 60s)" in verdict.detail


def test_no_watermark_counts_from_the_job_start() -> None:
    started = NOW - timedelta(seconds=5)
    assert judge(SourceHead(1, 9), None, NOW, 60, started).state == "catching-up"
    assert judge(SourceHead(1, 9), None, NOW, 60, None).stalled
    assert judge(None, None, NOW, 60, None).state == "no-data"


def test_last_job_report_is_the_newest_marker_line(tmp_path: Path) -> None:
    log = tmp_path / "flink-job.log"
    log.write_text(
        "INFO started\n"
        "WARN catalog-view assembler: waiting for source transaction 7 (commit lsn 9): "
        "0 of 1 events received\n"
        "catalogview.flink.assembly.AssemblyError: topic t partition 0 offset 3: bad\n"
        "INFO restarting\n"
    )
    assert last_job_report([log, tmp_path / "missing.log"]) == (
        "AssemblyError: topic t partition 0 offset 3: bad"
    )
