"""The commit stage's sink: publishes view changes to the store in whole source transactions.

A thin wrapper around the JVM class catalogview.flink.TransactionalStoreSink (built from
jvm/ into jvm/target/catalog-view-sink-0.1.0.jar, which must be in pipeline.jars together
with the PostgreSQL JDBC driver). It lives in the JVM because Python functions get no
checkpoint hooks: only a Flink Sink V2 can take what arrived between two checkpoint
barriers and publish it at the barrier (commit_at_barrier, the default) or when the
checkpoint completes.

Guarantee: every store transaction holds exactly the rows that arrived between two barriers,
netted as a multiset of whole row images, plus the watermark row naming the last source
transaction in it; a unit at or below the stored watermark (a replay after restore) is
skipped. Run it at parallelism 1.

Memory: the writer holds at most `max_images_in_memory` netted row images of a unit; beyond
that it stages them in the store's unit_staging table (sql/store/002_unit_staging.sql), and
the committer applies the unit from there, set-based, in the same one store transaction.

Must import nothing but pyflink: it runs on Flink.
"""

from __future__ import annotations

from pyflink.datastream.connectors.base import Sink
from pyflink.java_gateway import get_gateway

JAVA_CLASS = "catalogview.flink.TransactionalStoreSink"


class TransactionalStoreSink(Sink):  # type: ignore[misc]
    """Sink for a changelog stream of rows (view_name STRING, row_key STRING, payload STRING).

    payload is a JSON object keyed by the store table's column names; rows with view_name
    "__watermark" mark the end of a source transaction (row_key = commit LSN as decimal text,
    payload = {"source_txid": ..., "source_commit_ms": ...}).

    Use it at parallelism 1::

        t_env.to_changelog_stream(table).sink_to(sink).set_parallelism(1)
    """

    DEFAULT_MAX_IMAGES_IN_MEMORY = 20_000

    def __init__(
        self,
        jdbc_url: str,
        user: str,
        password: str,
        schema: str,
        max_images_in_memory: int = DEFAULT_MAX_IMAGES_IN_MEMORY,
        commit_at_barrier: bool = True,
    ) -> None:
        if max_images_in_memory < 1:
            raise ValueError(f"max_images_in_memory must be at least 1, got {max_images_in_memory}")
        jvm = get_gateway().jvm
        java_class = jvm
        for part in JAVA_CLASS.split("."):
            java_class = getattr(java_class, part)
        # py4j resolves an unknown class to a JavaPackage instead of failing.
        if type(java_class).__name__ == "JavaPackage":
            raise RuntimeError(
                f"{JAVA_CLASS} is not on the client classpath: add the jar built by "
                "`mvn -B -f jvm/pom.xml package` (jvm/target/catalog-view-sink-0.1.0.jar) and "
                "the PostgreSQL JDBC jar to pipeline.jars before creating the sink"
            )
        super().__init__(
            java_class(jdbc_url, user, password, schema, max_images_in_memory, commit_at_barrier)
        )
