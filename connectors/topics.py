"""Create the capture's topics before the connector and the job need them.

Debezium creates a table's topic only when the table's first event arrives, and
a Flink Kafka source subscribed to a missing topic fails; so every table topic
(N partitions, keyed by primary key), the transaction topic (ONE partition:
BEGIN/END order is the commit order) and the notification topic (ONE
partition: a restarted snapshot's STARTED must come after the abandoned run's
counts; Debezium keys notifications by a random id) exist from the start.
"""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka import admin as kafka_admin

from catalog_view.errors import CatalogViewError
from catalog_view.settings import Settings
from catalog_view.waiting import WaitTimeout, wait_until

# The job rebuilds its state by replaying the capture from the first offset,
# so captured changes are kept for good (no time- or size-based deletion).
TOPIC_CONFIG = {"retention.ms": "-1", "retention.bytes": "-1"}


class TopicError(CatalogViewError):
    """A topic could not be created or has the wrong shape."""


def wanted_topics(settings: Settings) -> dict[str, int]:
    topics = {topic: settings.topic_partitions for topic in settings.table_topics}
    topics[settings.transaction_topic] = 1
    topics[settings.notification_topic] = 1
    topics[settings.dead_letter_topic] = 1
    return topics


def ensure_topics(settings: Settings, timeout_s: float = 30) -> dict[str, int]:
    """Create missing topics; returns topic -> partitions as they now exist."""
    admin = kafka_admin.AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    try:
        existing = admin.list_topics(timeout=timeout_s).topics
    except KafkaException as exc:
        raise TopicError(f"Kafka at {settings.bootstrap_servers} is not reachable: {exc}") from exc
    wanted = wanted_topics(settings)
    missing = [
        kafka_admin.NewTopic(  # type: ignore[attr-defined]
            t, num_partitions=n, replication_factor=1, config=TOPIC_CONFIG
        )
        for t, n in wanted.items()
        if t not in existing
    ]
    if missing:
        for topic, future in admin.create_topics(missing, request_timeout=timeout_s).items():
            try:
                future.result()
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise TopicError(f"cannot create topic {topic}: {exc}") from exc

    def visible() -> dict[str, int] | None:
        # A created topic reaches the broker's metadata a moment later.
        now = admin.list_topics(timeout=timeout_s).topics
        found = {t: len(now[t].partitions) for t in wanted if t in now}
        return found if len(found) == len(wanted) else None

    try:
        found = wait_until(visible, timeout_s=timeout_s, what="capture topics visible")
    except WaitTimeout as exc:
        raise TopicError(str(exc)) from None
    assert found is not None
    shapes: dict[str, int] = found
    for topic, why in (
        (settings.transaction_topic, "BEGIN/END keep commit order"),
        (settings.notification_topic, "snapshot notifications keep their order"),
    ):
        if shapes.get(topic) != 1:
            raise TopicError(
                f"{topic} has {shapes.get(topic)} partitions; it must have exactly 1 so that {why}"
            )
    return shapes
