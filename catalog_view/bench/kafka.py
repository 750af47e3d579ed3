"""Has Debezium put given source transactions whole into Kafka?

Before the commit, note the end offset of the transaction topic and of every
catalog table topic (summed over partitions). The transactions are in Kafka
once the transaction topic, read from the noted offset, holds the END of each
of them, and each table topic has grown by at least the events those ENDs
count for it. The END alone is not enough: Connect's producer sends to the
table topics and the transaction topic independently. Sound as long as nothing
else writes catalog tables meanwhile (the bench's own writes only; heartbeats
go to their own topic) and the transactions only insert and update (a delete
adds a tombstone beyond the counted events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import Consumer, TopicPartition

from catalog_view.settings import CATALOG_TABLES, Settings
from flink_jobs.debezium import TransactionMarker, decode

TIMEOUT_S = 10.0
BATCH = 1000


@dataclass(frozen=True)
class CapturePosition:
    transaction_offset: int
    table_offsets: dict[str, int]  # topic -> end offsets summed over its partitions


class KafkaView:
    """End offsets and the transaction topic, through one consumer (no group commits)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.bootstrap_servers,
                "group.id": "catalog-view-bench",
                "enable.auto.commit": False,
                # Answer a poll with what is there: the bench times arrivals.
                "fetch.wait.max.ms": 10,
            }
        )
        self._partitions: dict[str, list[int]] = {}

    def close(self) -> None:
        self.consumer.close()

    def __enter__(self) -> KafkaView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def partitions(self, topic: str) -> list[int]:
        if topic not in self._partitions:
            meta = self.consumer.list_topics(topic, timeout=TIMEOUT_S).topics[topic]
            self._partitions[topic] = sorted(meta.partitions)
        return self._partitions[topic]

    def end_offset(self, topic: str) -> int:
        """The end offsets of the topic's partitions, summed."""
        return sum(
            self.consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S)[1]
            for p in self.partitions(topic)
        )

    def position(self) -> CapturePosition:
        topics = [self.settings.table_topic(t) for t in CATALOG_TABLES]
        return CapturePosition(
            self.end_offset(self.settings.transaction_topic),
            {topic: self.end_offset(topic) for topic in topics},
        )

    def follow_transactions(self, since: int) -> None:
        """Read the transaction topic from offset `since` on (read_markers)."""
        self.consumer.assign([TopicPartition(self.settings.transaction_topic, 0, since)])

    def read_markers(self) -> list[TransactionMarker]:
        """The transaction markers that arrived since the last call."""
        markers = []
        while True:
            messages = self.consumer.consume(num_messages=BATCH, timeout=0.05)
            for message in messages:
                if message.error():
                    continue
                event = decode(message.value())
                if isinstance(event, TransactionMarker):
                    markers.append(event)
            if len(messages) < BATCH:
                return markers


@dataclass
class Captured:
    """The predicate of a wait: True once the transactions are whole in Kafka."""

    kafka: KafkaView
    since: CapturePosition
    txids: set[int]
    counts: dict[str, int] = field(default_factory=dict)  # topic -> events of the transactions
    _seen: set[int] = field(default_factory=set)
    _following: bool = False

    def __call__(self) -> bool:
        if self._seen != self.txids:
            self._read_ends()
        if self._seen != self.txids:
            return False
        return all(
            self.kafka.end_offset(topic) >= self.since.table_offsets.get(topic, 0) + count
            for topic, count in self.counts.items()
        )

    def _read_ends(self) -> None:
        if not self._following:
            self.kafka.follow_transactions(self.since.transaction_offset)
            self._following = True
        prefix = self.kafka.settings.topic_prefix
        for marker in self.kafka.read_markers():
            if marker.status == "END" and marker.txid in self.txids - self._seen:
                self._seen.add(marker.txid)
                for collection, count in marker.table_counts.items():
                    topic = f"{prefix}.{collection}"
                    self.counts[topic] = self.counts.get(topic, 0) + count

    @property
    def events(self) -> int:
        """Change events the transactions' ENDs count (their source rows)."""
        return sum(self.counts.values())
