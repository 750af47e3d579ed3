"""The capture's topic names, derived from the topic prefix: one definition for
the job (flink_jobs.options) and the operator's tools (catalog_view.settings).

Pure Python: it runs on Flink and on an operator's laptop alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaptureTopics:
    prefix: str
    schema: str

    def table(self, table: str) -> str:
        """Debezium's topic of one captured table: <prefix>.<schema>.<table>."""
        return f"{self.prefix}.{self.schema}.{table}"

    @property
    def transaction(self) -> str:
        """BEGIN/END of every source transaction (one partition: commit order)."""
        return f"{self.prefix}.transaction"

    @property
    def notification(self) -> str:
        """Debezium's notification channel: per-table counts of the initial snapshot."""
        return f"{self.prefix}.notification"

    @property
    def dead_letter(self) -> str:
        """Changes left out with --bad-records dead-letter, with origin and reason."""
        return f"{self.prefix}.dead-letter"
