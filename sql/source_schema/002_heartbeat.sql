-- The capture's heartbeat. Debezium's heartbeat.action.query upserts this one
-- row every heartbeat interval, so a quiet catalog still produces a source
-- transaction: it passes through the same ordered stream as every catalog
-- transaction and advances the store's watermark (commit LSN and time) without
-- changing any view. It also lets PostgreSQL recycle WAL while the catalog is
-- quiet. Not a catalog table: the views never read it.
CREATE TABLE IF NOT EXISTS cdc_heartbeat (
    id      smallint    PRIMARY KEY CHECK (id = 1),
    beat_at timestamptz NOT NULL
);
ALTER TABLE cdc_heartbeat REPLICA IDENTITY FULL;
