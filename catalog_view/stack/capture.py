"""Re-take the capture from scratch: `catalog-view resnapshot`.

Some source events cannot be applied to the views in place (a TRUNCATE, a
connector that snapshotted again after its offsets were lost). The recovery is
a new initial snapshot, which the job applies as one atomic epoch:

1. stop the job;
2. stop the connector, reset its Connect-managed offsets and delete it (a
   connector re-created under the same name would otherwise resume from its
   old offsets and skip the snapshot);
3. drop its replication slot (the new snapshot gets a consistent point of its
   own);
4. delete and re-create the capture topics, so that the job's replay holds
   exactly one snapshot;
5. delete the job's retained checkpoints (they name offsets of the old topics);
6. register the connector (it snapshots the existing catalog) and start the
   job fresh.

It changes no table of the source: dropping a replication slot is not DDL on
the catalog and takes no lock on its tables.
"""

from __future__ import annotations

import logging
import shutil
import time

import psycopg
from confluent_kafka import KafkaException
from confluent_kafka import admin as kafka_admin

from catalog_view.errors import CatalogViewError
from catalog_view.settings import Settings
from catalog_view.stack.job import FlinkJob
from catalog_view.waiting import WaitTimeout, wait_until
from connectors.register import ConnectClient, register
from connectors.render import render_source_connector
from connectors.topics import ensure_topics, wanted_topics

log = logging.getLogger(__name__)


class ResnapshotError(CatalogViewError):
    """A step of the re-snapshot failed; the message names the step."""


def stop_connector(settings: Settings) -> bool:
    """Stop the connector (its config and offsets stay); False when it is absent.
    Changes committed meanwhile wait in the replication slot."""
    client = ConnectClient(settings.connect_endpoint)
    name = settings.connector_name
    if client.status(name) is None:
        return False
    client.stop(name)
    try:
        wait_until(
            lambda: (s := client.status(name)) is not None and s.connector_state == "STOPPED",
            timeout_s=60,
            what=f"connector {name} stopped",
        )
    except WaitTimeout as exc:
        raise ResnapshotError(str(exc)) from None
    return True


def _remove_connector(settings: Settings) -> None:
    client = ConnectClient(settings.connect_endpoint)
    name = settings.connector_name
    if not stop_connector(settings):
        return
    client.reset_offsets(name)
    client.delete(name)
    try:
        wait_until(lambda: client.status(name) is None, timeout_s=60, what=f"{name} deleted")
    except WaitTimeout as exc:
        raise ResnapshotError(str(exc)) from None


def _drop_slot(settings: Settings) -> None:
    conninfo = settings.conninfo(settings.admin_db, settings.cdc_user, "cdc_password")
    with psycopg.connect(conninfo, autocommit=True) as conn:

        def released() -> bool:
            row = conn.execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = %s",
                (settings.slot_name,),
            ).fetchone()
            return row is None or not row[0]

        try:
            wait_until(released, timeout_s=60, what=f"slot {settings.slot_name} released")
        except WaitTimeout as exc:
            raise ResnapshotError(f"{exc}: another client still streams from it") from None
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (settings.slot_name,),
        )


def _recreate_topics(settings: Settings) -> None:
    admin = kafka_admin.AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    wanted = set(wanted_topics(settings))
    existing = set(admin.list_topics(timeout=30).topics) & wanted
    if existing:
        for topic, future in admin.delete_topics(sorted(existing), request_timeout=30).items():
            try:
                future.result()
            except KafkaException as exc:
                if "UNKNOWN_TOPIC" not in str(exc):
                    raise ResnapshotError(f"cannot delete topic {topic}: {exc}") from exc
        try:
            wait_until(
                lambda: not (set(admin.list_topics(timeout=30).topics) & wanted),
                timeout_s=60,
                what="capture topics deleted",
            )
        except WaitTimeout as exc:
            raise ResnapshotError(str(exc)) from None
    ensure_topics(settings)


def resnapshot(
    settings: Settings, *, parallelism: int | None = None, start_job: bool = True
) -> None:
    """Take a new initial snapshot of the source into the store (see module
    doc). Without `start_job`, the last step is left to the caller (the bench
    starts a baseline pipeline instead)."""
    job = FlinkJob(settings)
    steps = (
        ("stop the job", job.stop),
        ("remove the connector and its offsets", lambda: _remove_connector(settings)),
        (f"drop replication slot {settings.slot_name}", lambda: _drop_slot(settings)),
        ("re-create the capture topics", lambda: _recreate_topics(settings)),
        (
            "delete the job's checkpoints",
            lambda: shutil.rmtree(job.checkpoint_dir, ignore_errors=True),
        ),
        (
            "register the connector (initial snapshot)",
            lambda: register(settings, render_source_connector(settings)),
        ),
        ("start the job fresh", lambda: job.start(parallelism=parallelism, fresh=True)),
    )
    for name, action in steps if start_job else steps[:-1]:
        started = time.monotonic()
        action()
        log.info("%s: done in %.1fs", name, time.monotonic() - started)
    if start_job:
        log.info(
            "the store shows the new snapshot once the job has applied it whole (stack status)"
        )
