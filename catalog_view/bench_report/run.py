"""A whole bench run: its figures, the targets evaluated on them, and its
result file (JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from catalog_view.bench_report.figures import REPORT_KEYS, BenchReportError
from catalog_view.bench_report.results import (
    BackfillResult,
    FanOutResult,
    Measured,
    PipelineResults,
    ResourceResult,
    RunMetadata,
    b1_from_dict,
    b1_to_dict,
    b2_from_dict,
    b2_to_dict,
)
from catalog_view.bench_report.targets import TargetResult, evaluate_targets


@dataclass
class BenchRun(Measured):
    """One run of `make bench`: its figures, targets and result file."""

    def targets(self) -> list[TargetResult]:
        return evaluate_targets(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metadata": self.metadata.to_dict(),
            "b1": b1_to_dict(self.b1),
            "b2": b2_to_dict(self.b2),
            "b3": self.b3.to_dict() if self.b3 else None,
            "b3_ratio_in_db": self.b3.ratio if self.b3 else None,
            "b4": self.b4.to_dict() if self.b4 else None,
            "b4_visible_s": self.b4.visible_s if self.b4 else None,
            "b5": self.b5.to_dict() if self.b5 else None,
            "baselines": {name: p.to_dict() for name, p in sorted(self.baselines.items())},
            "targets": [t.to_dict() for t in self.targets()],
        }

    def to_json(self) -> str:
        # allow_nan=False: a NaN or infinity is a bug of the measuring half,
        # and would not be JSON that other tools read.
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchRun:
        """Reads the measured figures back; derived figures (percentiles,
        ratios, targets) are computed again from them."""
        missing = [key for key in REPORT_KEYS if key not in data]
        if missing:
            raise BenchReportError(f"not a bench report: missing keys {missing}")
        try:
            return cls(
                metadata=RunMetadata.from_dict(data["metadata"]),
                b1=b1_from_dict(data["b1"]),
                b2=b2_from_dict(data["b2"]),
                b3=BackfillResult.from_dict(data["b3"]) if data["b3"] else None,
                b4=FanOutResult.from_dict(data["b4"]) if data["b4"] else None,
                b5=ResourceResult.from_dict(data["b5"]) if data["b5"] else None,
                baselines={
                    str(name): PipelineResults.from_dict(p) for name, p in data["baselines"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BenchReportError(f"not a bench report: {type(e).__name__}: {e}") from None

    @classmethod
    def from_json(cls, text: str) -> BenchRun:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise BenchReportError(f"not a bench report: {e}") from None
        if not isinstance(data, dict):
            raise BenchReportError("not a bench report: expected a JSON object")
        return cls.from_dict(data)
